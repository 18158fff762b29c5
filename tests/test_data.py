import shutil

import numpy as np
import pytest
import torch

from helpers.data import (
    SHA256,
    MNISTDataError,
    balanced_subset,
    batch_indices,
    cv_folds,
    load_mnist,
    resolve_root,
    train_val_split,
)


def test_train_shapes_range_labels(mnist_train):
    x, y = mnist_train
    assert x.shape == (60000, 1, 28, 28) and x.dtype == torch.float32
    assert y.shape == (60000,) and y.dtype == torch.int64
    assert x.min() == 0.0 and x.max() == 1.0
    assert sorted(y.unique().tolist()) == list(range(10))
    assert y[:5].tolist() == [5, 0, 4, 1, 9]  # the canonical first training labels


def test_test_split(mnist_test):
    x, y = mnist_test
    assert x.shape == (10000, 1, 28, 28) and y.shape == (10000,)
    assert y[:3].tolist() == [7, 2, 1]


def test_root_from_env(monkeypatch, tmp_path):
    monkeypatch.setenv("MNIST_ROOT", str(tmp_path))
    assert resolve_root() == tmp_path
    assert resolve_root("elsewhere").name == "elsewhere"


def test_corrupt_file_is_named(mnist_root, tmp_path):
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in SHA256:
        shutil.copy(mnist_root / "MNIST" / "raw" / name, raw / name)
    bad = raw / "t10k-labels-idx1-ubyte"
    data = bytearray(bad.read_bytes())
    data[100] ^= 0xFF
    bad.write_bytes(bytes(data))
    with pytest.raises(MNISTDataError, match="t10k-labels-idx1-ubyte.*corrupt"):
        load_mnist(tmp_path, train=False, download=False)


def test_missing_data_message(tmp_path):
    with pytest.raises(MNISTDataError) as err:
        load_mnist(tmp_path, download=False)
    msg = str(err.value)
    for name in SHA256:
        assert name in msg
    assert str(tmp_path) in msg and "MNIST_ROOT" in msg


def test_env_turns_download_off(tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_DOWNLOAD", "0")
    with pytest.raises(MNISTDataError, match="not found"):
        load_mnist(tmp_path)
    assert not any(tmp_path.iterdir())  # nothing written


def test_cv_folds_sizes_and_disjoint():
    folds = cv_folds(60000, 6, seed=0)
    assert len(folds) == 6
    vals = [set(v.tolist()) for _, v in folds]
    assert all(len(v) == 10000 for v in vals)
    assert set().union(*vals) == set(range(60000))
    for i in range(6):
        for j in range(i + 1, 6):
            assert not vals[i] & vals[j]
        tr, va = folds[i]
        assert len(tr) == 50000 and not set(tr.tolist()) & vals[i]
    again = cv_folds(60000, 6, seed=0)
    assert all((a[1] == b[1]).all() for a, b in zip(folds, again))
    assert not (cv_folds(60000, 6, seed=1)[0][1] == folds[0][1]).all()


def test_cv_folds_bad_k():
    with pytest.raises(ValueError, match="n_folds"):
        cv_folds(10, 1)


def test_batch_indices_cover_and_seeded():
    a = torch.cat(list(batch_indices(1000, 256, generator=torch.Generator().manual_seed(3))))
    b = torch.cat(list(batch_indices(1000, 256, generator=torch.Generator().manual_seed(3))))
    assert torch.equal(a, b) and sorted(a.tolist()) == list(range(1000))
    assert not torch.equal(a, torch.arange(1000))
    sizes = [len(i) for i in batch_indices(1000, 256, shuffle=False)]
    assert sizes == [256, 256, 256, 232]


def test_balanced_subset_and_split():
    labels = np.repeat(np.arange(10), 100)
    idx = balanced_subset(labels, 50, seed=0)
    assert len(idx) == 50 and np.bincount(labels[idx], minlength=10).tolist() == [5] * 10
    assert not np.array_equal(idx, balanced_subset(labels, 50, seed=1))
    tr, va = train_val_split(labels, 0.2, seed=0)
    assert len(va) == 200 and not set(tr) & set(va)


@pytest.mark.parametrize("value", ["0", "false", "False", "no", "OFF", " off "])
def test_usual_false_values_turn_download_off(value, tmp_path, monkeypatch):
    monkeypatch.setenv("MNIST_DOWNLOAD", value)
    with pytest.raises(MNISTDataError, match="not found"):
        load_mnist(tmp_path)
    assert not any(tmp_path.iterdir())  # nothing downloaded, nothing written


@pytest.mark.parametrize("value, allowed", [(None, True), ("1", True), ("yes", True), ("no", False)])
def test_download_switch(value, allowed, monkeypatch):
    from helpers.data import download_allowed

    if value is None:
        monkeypatch.delenv("MNIST_DOWNLOAD", raising=False)
    else:
        monkeypatch.setenv("MNIST_DOWNLOAD", value)
    assert download_allowed() is allowed


def test_root_pointing_at_raw_folder_is_recognised(mnist_root):
    raw = mnist_root / "MNIST" / "raw"
    assert resolve_root(raw) == mnist_root.absolute()
    x, _ = load_mnist(raw, train=False, download=False)
    assert x.shape == (10000, 1, 28, 28)


def test_default_root_is_the_repository_data_folder_from_any_directory(tmp_path):
    """From `notebooks/` (JupyterLab's working directory) the default is still the repository's data/."""
    import os
    import subprocess
    import sys

    from helpers.data import DEFAULT_ROOT
    from helpers.report import REPO

    assert DEFAULT_ROOT == REPO / "data"
    env = {k: v for k, v in os.environ.items() if k != "MNIST_ROOT"}
    code = "from helpers.data import raw_folder; print(raw_folder(None))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO / "notebooks", env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == str(REPO / "data" / "MNIST" / "raw")
    # and git ignores data downloaded there or anywhere else in the tree
    for rel in ("data/MNIST/raw/x", "notebooks/data/MNIST/raw/x"):
        assert subprocess.run(["git", "check-ignore", "-q", rel], cwd=REPO).returncode == 0, rel
