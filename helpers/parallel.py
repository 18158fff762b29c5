"""Running independent tasks side by side: local processes through joblib, or a Dask cluster."""

from __future__ import annotations

import os
import warnings

import torch

from .runtime import check_positive


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


def task_thread_counts(n_items: int, workers: int, cores: int) -> list[int]:
    """Torch threads per item when ``n_items`` run on ``workers`` local workers sharing ``cores``: ``cores //
    workers`` each, except that the items of a last, partial round (dispatched after all the others, so they run
    with workers idle when the items take alike times) share the idle workers' cores too."""
    tail = n_items % workers
    counts = [max(1, cores // workers)] * n_items
    for i in range(n_items - tail, n_items) if tail else ():
        counts[i] = max(1, cores // tail)
    return counts


def parallel_imap(fn, items, *, n_jobs: int = 1, backend=None, shared=()):
    """Yield ``(i, fn(items[i], *shared))`` as each call finishes, in up to ``n_jobs`` joblib workers
    (``-1``: every core, or every worker slot of a Dask cluster); in this process when one worker suffices.

    ``backend``: ``None`` (joblib's default, loky processes), any joblib backend name, or ``"dask"``: the
    calls run on the Dask cluster of :func:`dask_client`, the ``shared`` objects are broadcast to every worker
    once (not pickled into each task), and each task sizes its torch threads from its own worker
    (:func:`task_threads`). Locally each task gets ``cores // workers`` threads, the last, partial round more
    (:func:`task_thread_counts`). The results come back to this process, so whatever the caller writes needs no
    filesystem shared with the workers.
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

    threads, saved = task_thread_counts(len(items), workers, cpu_count()), torch.get_num_threads()
    with warnings.catch_warnings():
        # joblib reuses its worker pool between calls; workers that timed out idle in between are restarted by
        # loky itself, every job still runs, and the warning it prints about them is noise in a notebook
        warnings.filterwarnings("ignore", message="A worker stopped while some jobs were given to the executor")
        par = Parallel(n_jobs=workers, backend=backend, return_as="generator_unordered")
        try:
            yield from par(delayed(_call_with_threads)(fn, threads[i], i, it, *shared) for i, it in enumerate(items))
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
