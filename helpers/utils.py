"""Small utilities: device choice, seeding, validation, JSON/CSV caching."""

from __future__ import annotations

import hashlib
import json
import os
import random
import sys
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
    """Move ``model`` to ``dev`` with its convolution weights in channels-last layout (faster training of these small
    conv nets on the CPU: ``benchmarks/channels_last.py``, see benchmarks/README.md)."""
    return model.to(torch.device(dev), memory_format=torch.channels_last)


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


def check_n_jobs(n_jobs) -> None:
    """Raise ``ValueError`` unless ``n_jobs`` is a positive int or -1 (joblib's "every worker slot")."""
    if n_jobs != -1:
        check_positive("n_jobs", n_jobs, integer=True)


def task_threads() -> int | None:
    """Torch threads for a task running in a Dask worker, sized from that worker's own machine: its
    ``OMP_NUM_THREADS`` (the Dask nanny sets 1 per task slot by default), else its cores divided by the
    worker's task slots. ``None`` outside a Dask worker."""
    try:
        from distributed import get_worker

        worker = get_worker()
    except (ImportError, ValueError):
        return None
    env = os.environ.get("OMP_NUM_THREADS", "")
    return int(env) if env.isdigit() and int(env) > 0 else max(1, cpu_count() // max(1, worker.state.nthreads))


def _call_with_threads(fn, threads, i, item, *shared):
    threads = threads or task_threads()
    if threads:
        torch.set_num_threads(threads)
    return i, fn(item, *shared)


def dask_client():
    """The Dask client a ``backend="dask"`` call runs on: the current default client, else one connected to
    the ``scheduler-address`` of Dask's configuration (``DASK_SCHEDULER_ADDRESS``). Returns ``(client, owned)``,
    ``owned`` when this call opened the connection (and should close it)."""
    try:
        import dask
        import distributed
    except ImportError as err:
        raise ImportError(
            f"backend='dask' needs the packages dask and distributed, which are not installed "
            f"({err}); install them with `pip install -r requirements.txt`"
        ) from err
    try:
        return distributed.get_client(), False
    except ValueError:
        pass
    address = dask.config.get("scheduler-address", None)
    if not address:
        raise RuntimeError(
            "backend='dask' needs a running Dask cluster: create a client first "
            "(`from dask.distributed import Client; Client('tcp://HOST:8786')`) or set "
            "DASK_SCHEDULER_ADDRESS=tcp://HOST:8786 (README, 'Running on a cluster')"
        )
    return distributed.Client(address, set_as_default=False), True


def parallel_imap(fn, items, *, n_jobs: int = 1, backend=None, shared=()):
    """Yield ``(i, fn(items[i], *shared))`` as each call finishes, in up to ``n_jobs`` joblib workers
    (``-1``: every core, or every worker slot of a Dask cluster); in this process when one worker suffices.

    ``backend``: ``None`` (joblib's default, loky processes), any joblib backend name, or ``"dask"``: the
    calls run on the Dask cluster of :func:`dask_client`, the ``shared`` objects are broadcast to every worker
    once (not pickled into each task), and each task sizes its torch threads from its own worker
    (:func:`task_threads`). Locally each worker gets ``cores // workers`` threads. The results come back to
    this process, so whatever the caller writes needs no filesystem shared with the workers.
    """
    check_n_jobs(n_jobs)
    items = list(items)
    if backend == "dask":
        from joblib import Parallel, delayed, parallel_config

        client, owned = dask_client()
        try:
            with parallel_config(backend="dask", client=client, scatter=list(shared) or None):
                par = Parallel(n_jobs=-1, return_as="generator_unordered")
                yield from par(delayed(_call_with_threads)(fn, None, i, it, *shared) for i, it in enumerate(items))
        finally:
            if owned:
                client.close()
        return
    workers = min(cpu_count() if n_jobs == -1 else n_jobs, len(items))
    if workers <= 1:
        for i, it in enumerate(items):
            yield i, fn(it, *shared)
        return
    from joblib import Parallel, delayed

    threads, saved = max(1, cpu_count() // workers), torch.get_num_threads()
    with warnings.catch_warnings():
        # joblib reuses its worker pool between calls; workers that timed out idle in between are restarted by
        # loky itself, every job still runs, and the warning it prints about them is noise in a notebook
        warnings.filterwarnings("ignore", message="A worker stopped while some jobs were given to the executor")
        par = Parallel(n_jobs=workers, backend=backend, return_as="generator_unordered")
        try:
            yield from par(delayed(_call_with_threads)(fn, threads, i, it, *shared) for i, it in enumerate(items))
        finally:  # a thread-based backend ran the calls in this process
            torch.set_num_threads(saved)


def parallel_map(fn, items, *, n_jobs: int = 1, backend=None, shared=()) -> list:
    """``[fn(item, *shared) for item in items]``, run as :func:`parallel_imap` runs it.

    Several 1-thread processes train the small nets here faster than one process with all threads.
    """
    items = list(items)
    out = [None] * len(items)
    for i, result in parallel_imap(fn, items, n_jobs=n_jobs, backend=backend, shared=shared):
        out[i] = result
    return out


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
