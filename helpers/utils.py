"""Small utilities: device choice, seeding, validation, JSON/CSV caching."""
from __future__ import annotations

import hashlib
import json
import os
import random
import warnings
from pathlib import Path

import numpy as np
import torch


def device(prefer: str | None = None) -> torch.device:
    """Return CUDA when available (or ``prefer`` if given), else the CPU."""
    if prefer is not None:
        return torch.device(prefer)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def to_device(model: torch.nn.Module, dev) -> torch.nn.Module:
    """Move ``model`` to ``dev`` with its convolution weights in channels-last layout (1.1-1.6x faster
    training of the seed's small conv nets on this CPU; ``benchmarks/channels_last.py`` prints the ratios)."""
    return model.to(torch.device(dev), memory_format=torch.channels_last)


def seed_everything(seed: int) -> None:
    """Seed python's ``random``, numpy and torch (CPU and CUDA)."""
    if not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed!r}")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def check_positive(name: str, value, *, integer: bool = False, minimum=None) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is a positive number."""
    ok_type = isinstance(value, (int, np.integer)) if integer else isinstance(value, (int, float, np.number))
    if isinstance(value, bool) or not ok_type:
        kind = "an int" if integer else "a number"
        raise ValueError(f"{name} must be {kind}, got {value!r}")
    if minimum is not None:
        if value < minimum:
            raise ValueError(f"{name} must be >= {minimum}, got {value!r}")
    elif not value > 0:
        raise ValueError(f"{name} must be > 0, got {value!r}")


def check_images(name: str, x: torch.Tensor) -> None:
    """Raise ``ValueError`` unless ``x`` is a float tensor of shape (N, 1, 28, 28)."""
    if not isinstance(x, torch.Tensor) or x.ndim != 4 or tuple(x.shape[1:]) != (1, 28, 28):
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{name} must be a tensor of shape (N, 1, 28, 28), got {shape}")
    if not x.is_floating_point():
        raise ValueError(f"{name} must be a float tensor, got dtype {x.dtype}")


def config_key(config: dict) -> str:
    """A short stable hash of a JSON-serialisable config, used to tag cached results."""
    blob = json.dumps(config, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def cpu_count() -> int:
    """Cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - non-Linux
        return os.cpu_count() or 1


def _call_with_threads(fn, threads, item):
    torch.set_num_threads(threads)
    return fn(item)


def parallel_map(fn, items, *, n_jobs: int = 1, backend=None) -> list:
    """``[fn(item) for item in items]``, run in up to ``n_jobs`` joblib workers (``backend``: any joblib
    backend), each limited to ``cores // workers`` torch threads; in this process when one worker suffices.

    Several 1-thread processes train the small nets here faster than one process with all threads.
    """
    check_positive("n_jobs", n_jobs, integer=True)
    items = list(items)
    workers = min(n_jobs, len(items))
    if workers <= 1:
        return [fn(item) for item in items]
    from joblib import Parallel, delayed

    threads = max(1, cpu_count() // workers)
    with warnings.catch_warnings():
        # joblib reuses its worker pool between calls; workers that timed out idle in between are restarted by
        # loky itself, every job still runs, and the warning it prints about them is noise in a notebook
        warnings.filterwarnings("ignore", message="A worker stopped while some jobs were given to the executor")
        return Parallel(n_jobs=workers, backend=backend)(delayed(_call_with_threads)(fn, threads, it) for it in items)


def ensure_dir(path) -> Path:
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    return path
