import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# Tests use the real dataset; CI points MNIST_ROOT at ../shared/data. Never download in tests.
os.environ.setdefault("MNIST_ROOT", str(REPO.parent / "shared" / "data"))
os.environ["MNIST_DOWNLOAD"] = "0"


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
