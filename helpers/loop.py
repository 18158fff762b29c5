"""The one epoch loop that every training in the package runs: shuffled batches reseeded per epoch, a
progress bar, a per-epoch log, and resume from an atomic checkpoint."""

from __future__ import annotations

import math
import sys
import time
import warnings

import torch
from tqdm import tqdm

from .data import batch_indices
from .files import atomic_save, load_checkpoint
from .runtime import keep_freed_memory

CHECKPOINT_FORMAT = 2  # bumped when the checkpoint's layout changes: an older one is set aside, not misread
FLUSH_DENORMALS = True  # see epoch_loop; False only to measure what it saves (benchmarks/denormals.py)
KEEP_FREED_MEMORY = True  # see epoch_loop; False only to measure what it saves (benchmarks/fixmatch_step.py)


def epoch_loop(
    step,
    n_train,
    *,
    epochs,
    batch_size,
    seed,
    get_state,
    set_state,
    before_epoch=None,
    after_epoch=None,
    checkpoint=None,
    checkpoint_every=1,
    progress=True,
    desc="train",
):
    """Train for ``epochs`` epochs; return the per-epoch log (a list of dicts, one per epoch).

    Each epoch reseeds torch from ``seed + epoch`` and walks ``range(n_train)`` in shuffled batches of
    ``batch_size``; ``step(idx)`` trains on one batch and returns its logged values (numbers or 0-d tensors),
    or ``None`` when its loss was not finite: the run stops there and the epoch is logged ``diverged``.
    An epoch's row holds ``epoch``, the batch-size-weighted mean of every value ``step`` returned,
    ``seconds`` (the steps' time) and ``diverged``. ``before_epoch(epoch)`` runs first (e.g. to set a learning
    rate); ``after_epoch(epoch, row, batches)`` then adds to ``row`` (evaluation, snapshots; ``batches`` are the
    epoch's per-batch values). Every ``checkpoint_every`` epochs (and at the last) ``get_state()`` is saved with
    the log to ``checkpoint``; a rerun passes it to ``set_state`` and continues exactly where the saved run was.
    """
    # Late in training, Adam's moments and small weights reach denormal floats, which x86 CPUs compute many times
    # slower: flush them to zero (benchmarks/denormals.py, see benchmarks/README.md).
    torch.set_flush_denormal(FLUSH_DENORMALS)
    if KEEP_FREED_MEMORY:
        keep_freed_memory()  # reuse freed buffers instead of faulting in fresh pages every step (see its docstring)
    rows, start = [], 0
    saved = load_checkpoint(checkpoint)
    if saved is not None and saved.get("format") != CHECKPOINT_FORMAT:
        warnings.warn(
            f"{checkpoint} was written by an older version of the training loop; training restarts from scratch.",
            stacklevel=3,
        )
        saved = None
    if saved is not None:
        set_state(saved["state"])
        rows, start = saved["rows"], len(saved["rows"])
    bar = tqdm(
        range(start, epochs),
        desc=desc,
        disable=not progress or start >= epochs,
        file=sys.stderr,  # the terminal and the notebook show it; the PDF leaves stderr out
        ascii=True,
        ncols=100,
        mininterval=10,
        initial=start,
        total=epochs,
    )
    for epoch in bar:
        torch.manual_seed(seed + epoch)
        gen = torch.Generator().manual_seed(seed + epoch)
        if before_epoch is not None:
            before_epoch(epoch)
        t0, batches, sizes, diverged = time.perf_counter(), [], [], False
        for idx in batch_indices(n_train, batch_size, shuffle=True, generator=gen):
            out = step(idx)
            if out is None:
                diverged = True
                break
            batches.append({k: float(v) for k, v in out.items()})
            sizes.append(len(idx))
        row = {"epoch": epoch + 1}
        if batches and not diverged:
            total = sum(sizes)
            row.update({k: sum(b[k] * n for b, n in zip(batches, sizes)) / total for k in batches[0]})
        row.update(seconds=time.perf_counter() - t0, diverged=diverged)
        if after_epoch is not None:
            after_epoch(epoch + 1, row, batches)
        rows.append(row)
        bar.set_postfix(
            {
                k: f"{v:.4g}"
                for k, v in row.items()
                if isinstance(v, float) and k not in ("seconds", "lr") and math.isfinite(v)
            },
            refresh=False,
        )
        if diverged:
            break
        if checkpoint is not None and ((epoch + 1) % checkpoint_every == 0 or epoch + 1 == epochs):
            atomic_save({"format": CHECKPOINT_FORMAT, "rows": rows, "state": get_state()}, checkpoint)
    bar.close()
    return rows
