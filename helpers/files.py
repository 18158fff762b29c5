"""Files that survive a killed run: atomic writes, readable errors for damaged files, cache keys."""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import numpy as np
import torch


def config_key(config: dict) -> str:
    """A short stable hash of a JSON-serialisable config, used to tag cached results."""
    blob = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


class CorruptFileError(ValueError):
    """A saved model or checkpoint that cannot be read (truncated, empty or not ours)."""


def atomic_write(path, write) -> Path:
    """Call ``write(tmp)`` on a temporary file beside ``path``, then rename it to ``path``: a killed run never
    leaves half a file (and a ``write`` that raises leaves no temporary file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    try:
        write(tmp)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)
    return path


def save_npz(path, arrays: dict) -> Path:
    """``numpy.savez_compressed`` of ``arrays`` (name -> numpy array) without pickles, through :func:`atomic_write`
    (numpy dates every member 1980-01-01, so the same arrays give the same bytes)."""

    def write(tmp):
        with open(tmp, "wb") as f:  # a file object: given a path, numpy would add ".npz" to the temporary name
            np.savez_compressed(f, allow_pickle=False, **arrays)

    return atomic_write(path, write)


def atomic_save(obj, path) -> Path:
    """``torch.save(obj, path)`` through :func:`atomic_write`."""
    return atomic_write(path, lambda tmp: torch.save(obj, tmp))


def read_torch_file(path, *, map_location="cpu", weights_only=True, what="file", fix="delete it and rerun"):
    """``torch.load`` that names ``path`` and says what to do (``fix``) when the file is unreadable."""
    try:
        return torch.load(path, map_location=map_location, weights_only=weights_only)
    except (FileNotFoundError, PermissionError, MemoryError):
        raise
    except Exception as err:  # torch's unpicklers raise anything from EOFError to IndexError on a bad file
        size = Path(path).stat().st_size if Path(path).is_file() else 0
        raise CorruptFileError(
            f"{path} is not a readable {what} ({size:,} bytes; {type(err).__name__}: "
            f"{str(err).splitlines()[0] if str(err) else 'no detail'}): it is truncated, empty or "
            f"not one of ours; {fix}"
        ) from err


def load_checkpoint(path, *, map_location="cpu"):
    """The training state saved at ``path``, or ``None`` when there is none. An unreadable (e.g. truncated)
    checkpoint is set aside as ``<path>.corrupt`` with a warning, and training starts again from scratch."""
    path = Path(path) if path is not None else None
    if path is None or not path.is_file():
        return None
    try:
        return read_torch_file(path, map_location=map_location, weights_only=False, what="training checkpoint")
    except CorruptFileError as err:
        bad = path.with_name(path.name + ".corrupt")
        path.replace(bad)
        warnings.warn(f"{err}. Moved it to {bad.name} and training restarts from scratch.", stacklevel=2)
        return None


def ensure_dir(path) -> Path:
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    return path
