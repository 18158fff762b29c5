"""MNIST loading (through torchvision, checksum-verified), in-memory batching and CV folds."""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from sklearn.model_selection import KFold, train_test_split

from .runtime import check_positive

ROOT_ENV = "MNIST_ROOT"
DOWNLOAD_ENV = "MNIST_DOWNLOAD"
#: The repository's ``data/`` folder (git-ignored), whatever the working directory (CLI, JupyterLab, tests).
DEFAULT_ROOT = Path(__file__).resolve().parents[1] / "data"
FALSE_VALUES = {"0", "false", "no", "off"}

#: SHA-256 of the four canonical (uncompressed) MNIST IDX files.
SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}


class MNISTDataError(RuntimeError):
    """The MNIST files are missing or corrupt."""


def resolve_root(root=None) -> Path:
    """The data root: ``root`` if given, else ``$MNIST_ROOT``, else the repository's ``data/``.

    A root that names the ``MNIST/raw`` folder itself (holding the files) is taken as the root above it."""
    if root is None:
        root = os.environ.get(ROOT_ENV) or DEFAULT_ROOT
    root = Path(root).expanduser().absolute()
    if (
        root.name == "raw"
        and root.parent.name == "MNIST"
        and not (root / "MNIST" / "raw").is_dir()
        and any((root / name).is_file() for name in SHA256)
    ):
        return root.parent.parent
    return root


def download_allowed() -> bool:
    """``$MNIST_DOWNLOAD`` unless it is one of 0, false, no, off (any case); allowed when unset."""
    return os.environ.get(DOWNLOAD_ENV, "1").strip().lower() not in FALSE_VALUES


def raw_folder(root) -> Path:
    return resolve_root(root) / "MNIST" / "raw"


@lru_cache(maxsize=16)
def _sha256(path: str, size: int, mtime: float) -> str:  # size/mtime make the cache key honest
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_mnist(root=None) -> None:
    """Check that all four raw files exist and have the canonical SHA-256; raise ``MNISTDataError`` if not."""
    folder = raw_folder(root)
    missing = [name for name in SHA256 if not (folder / name).is_file()]
    if missing:
        raise MNISTDataError(_missing_message(folder, missing))
    for name, expected in SHA256.items():
        path = folder / name
        stat = path.stat()
        if _sha256(str(path), stat.st_size, stat.st_mtime) != expected:
            raise MNISTDataError(
                f"MNIST file {path} is corrupt: its SHA-256 does not match the canonical value "
                f"{expected}. Replace it with a fresh copy (or delete it to re-download)."
            )


def _missing_message(folder: Path, missing) -> str:
    return (
        f"MNIST data not found: {', '.join(missing)} missing in {folder}. "
        f"Put the four uncompressed IDX files ({', '.join(SHA256)}) in that folder, "
        f"or set the {ROOT_ENV} environment variable (or pass root=...) to a folder that holds "
        f"MNIST/raw/ with them, or, on a machine with internet, leave {DOWNLOAD_ENV} unset (or pass download=True)."
    )


def load_mnist(root=None, train: bool = True, download: bool | None = None):
    """Return ``(images, labels)``: float32 ``(N, 1, 28, 28)`` in [0, 1] and int64 labels.

    ``root`` defaults to ``$MNIST_ROOT``, else the repository's ``data/``. Files are read by
    ``torchvision.datasets.MNIST`` after a SHA-256 check. When they are absent and
    ``download`` is true (default unless ``$MNIST_DOWNLOAD`` is 0, false, no or off), torchvision
    downloads them into ``root``; a root that holds the files is never written to.
    """
    from torchvision.datasets import MNIST

    root = resolve_root(root)
    if download is None:
        download = download_allowed()
    folder = raw_folder(root)
    missing = [name for name in SHA256 if not (folder / name).is_file()]
    if missing:
        if not download:
            raise MNISTDataError(_missing_message(folder, missing))
        try:
            MNIST(str(root), train=train, download=True)
        except Exception as exc:  # offline, permission denied, ...
            raise MNISTDataError(
                f"Downloading MNIST into {root} failed ({exc}). " + _missing_message(folder, missing)
            ) from exc
    verify_mnist(root)
    return _load_tensors(str(root), bool(train))


def load_train_test(root=None, train_subset: int | None = None):
    """``(x_train, y_train, x_test, y_test)`` from :func:`load_mnist`; with ``train_subset`` only the first that many
    training images (the quick profile)."""
    x_train, y_train = load_mnist(root, train=True)
    x_test, y_test = load_mnist(root, train=False)
    if train_subset:
        check_positive("train_subset", train_subset, integer=True)
        x_train, y_train = x_train[:train_subset], y_train[:train_subset]
    return x_train, y_train, x_test, y_test


@lru_cache(maxsize=4)
def _load_tensors(root: str, train: bool):
    from torchvision.datasets import MNIST

    ds = MNIST(root, train=train, download=False)
    images = ds.data.unsqueeze(1).to(torch.float32).div_(255.0)
    labels = ds.targets.to(torch.int64)
    return images, labels


def batch_indices(n: int, batch_size: int, *, shuffle: bool = True, generator: torch.Generator | None = None):
    """Yield index tensors covering ``range(n)`` in batches, shuffled by ``generator`` when asked."""
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    for start in range(0, n, batch_size):
        yield order[start : start + batch_size]


def cv_folds(n: int, n_folds: int = 6, seed: int = 0):
    """List of ``(train_idx, val_idx)`` numpy arrays from a shuffled, seeded ``KFold``."""
    if n_folds < 2 or n_folds > n:
        raise ValueError(f"n_folds must be between 2 and n={n}, got {n_folds}")
    return list(KFold(n_splits=n_folds, shuffle=True, random_state=seed).split(np.arange(n)))


def train_val_split(labels, val_size: int | float = 0.1, seed: int = 0):
    """Stratified ``(train_idx, val_idx)`` split of ``range(len(labels))``."""
    labels = np.asarray(labels)
    return train_test_split(np.arange(len(labels)), test_size=val_size, random_state=seed, stratify=labels)


def balanced_subset(labels, n: int, seed: int = 0) -> np.ndarray:
    """Indices of ``n`` examples drawn at random with (as far as possible) equal counts per class."""
    labels = np.asarray(labels)
    if n >= len(labels):
        return np.arange(len(labels))
    rng = np.random.default_rng(seed)
    classes = np.unique(labels)
    per_class = np.full(len(classes), n // len(classes))
    per_class[rng.choice(len(classes), n % len(classes), replace=False)] += 1
    idx = [rng.choice(np.flatnonzero(labels == c), k, replace=False) for c, k in zip(classes, per_class)]
    return np.sort(np.concatenate(idx))
