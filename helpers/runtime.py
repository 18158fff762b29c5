"""The run's environment: device choice, seeding, progress lines, and argument checks shared by the library."""

from __future__ import annotations

import ctypes
import random
import sys

import numpy as np
import torch


def device(prefer: str | None = None) -> torch.device:
    """Return CUDA when available (or ``prefer`` if given), else the CPU."""
    if prefer is not None:
        return torch.device(prefer)
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def to_device(model: torch.nn.Module, dev) -> torch.nn.Module:
    """Move ``model`` to ``dev`` with its convolution weights in channels-last layout (faster training of these small
    conv nets on the CPU: ``benchmarks/channels_last.py``, see benchmarks/README.md)."""
    return model.to(torch.device(dev), memory_format=torch.channels_last)


def keep_freed_memory() -> bool:
    """Make glibc's malloc keep freed memory for reuse instead of returning it to the system after every large free
    (allocations up to 32 MiB come from the heap, which is trimmed only past 1 GiB free). A training step allocates and
    frees the same few-megabyte buffers each time; by default each is a fresh ``mmap`` whose pages fault in again,
    which slows a small conv net's step on the CPU (benchmarks/README.md: fixmatch_step). Returns whether
    it applied: False where the C library has no ``mallopt`` (not glibc), which is left as it is."""
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # glibc's malloc.h
    return bool(mallopt(m_mmap_threshold, 32 << 20)) and bool(mallopt(m_trim_threshold, 1 << 30))


def note(*args) -> None:
    """Print a progress or bookkeeping line to stderr: shown while a notebook runs, left out of the PDF report."""
    print(*args, file=sys.stderr, flush=True)


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
