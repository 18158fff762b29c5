import os
from pathlib import Path

import pytest

# MNIST_ROOT and MNIST_DOWNLOAD=0 are set by the repository's top-level conftest.py.


@pytest.fixture(scope="session")
def mnist_root():
    root = Path(os.environ["MNIST_ROOT"])
    if not (root / "MNIST" / "raw" / "train-images-idx3-ubyte").is_file():
        pytest.fail(f"MNIST not found under MNIST_ROOT={root}; see README 'Data'")
    return root


@pytest.fixture(scope="session")
def mnist_train(mnist_root):
    from helpers.data import load_mnist

    return load_mnist(mnist_root, train=True)


@pytest.fixture(scope="session")
def mnist_test(mnist_root):
    from helpers.data import load_mnist

    return load_mnist(mnist_root, train=False)
