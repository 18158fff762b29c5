"""Speed of notebook 02's FixMatch training step: two CPU savings of the training code, each switched off in turn.

    python benchmarks/fixmatch_step.py [--steps 400] [--repeats 2] [--threads 1]

Times ``helpers.classification.semisupervised.fit_fixmatch`` with the full profile's semi-supervised settings
(labelled batch, unlabelled ratio, strong augmentation) on random images, with

- the affine augmentations' sampling grid from ``torch.nn.functional.affine_grid`` (a batched matrix product, slow
  on the CPU) or from :func:`helpers.corruption.affine_grid` (one matrix product for the whole batch, the same grid
  to 1e-6);
- glibc's malloc at its defaults, or told by :func:`helpers.runtime.keep_freed_memory` (which the training loop
  calls) to keep freed buffers instead of returning them to the system after every step.

Each measurement runs in a fresh process (malloc's state is per process), one after another, the four settings
alternating over ``--repeats`` so machine noise hits all of them. Prints milliseconds per step (best repeat), the
kernel's share of it and the page faults per step (from ``getrusage``), and the speed-up over both savings off. The
notebook runs its FixMatch trainings on one thread each, two at a time, hence ``--threads 1``.
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import torch
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from records import best_in_fresh_processes, save, usage  # noqa: E402

from helpers import corruption, loop  # noqa: E402
from helpers.classification.semisupervised import fit_fixmatch, strong_augment  # noqa: E402
from helpers.models import EncoderClassifier  # noqa: E402
from helpers.profiles import CLASSIFY, values  # noqa: E402

FULL = values(CLASSIFY)
OWN_GRID = corruption.affine_grid
WARMUP = 100  # steps trained before the timed run, in the same process (the first steps are slower)


def torch_grid(theta, h, w):
    return F.affine_grid(theta, [len(theta), 1, h, w], align_corners=False)


def ms_per_step(own_grid: bool, keep_memory: bool, steps: int, threads: int) -> tuple[float, float, float]:
    """One measurement, in a fresh process: wall and system milliseconds per step, and page faults per step."""
    torch.set_num_threads(threads)
    corruption.affine_grid = OWN_GRID if own_grid else torch_grid
    loop.KEEP_FREED_MEMORY = keep_memory
    g = torch.Generator().manual_seed(0)
    x = torch.rand(20000, 1, 28, 28, generator=g)
    y = torch.arange(100) % 10

    def train(n):
        torch.manual_seed(0)
        model = EncoderClassifier(10, hidden=256, channels=(8, 16, 48), encoder_hidden=256)  # Part 1's widths
        strong = strong_augment(
            FULL["semi_strong_degrees"],
            FULL["semi_strong_translate"],
            FULL["semi_strong_scale"],
            FULL["semi_cutout"],
            FULL["semi_noise"],
        )
        fit_fixmatch(
            model,
            x[:100],
            y,
            x[100:],
            steps=n,
            steps_per_round=n,
            labelled_batch=FULL["semi_labelled_batch"],
            unlabelled_ratio=FULL["semi_unlabelled_ratio"],
            threshold=FULL["semi_threshold"],
            strong=strong,
            device="cpu",
        )

    train(WARMUP)  # the steady state of a long run: the process's memory already grown
    wall, system, faults = usage(lambda: train(steps))
    return wall / steps * 1000, system / steps * 1000, faults / steps


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=None, help="folder of the JSON record (default: benchmarks/results)")
    args = ap.parse_args()
    settings = list(itertools.product((False, True), (False, True)))  # (own grid, keep freed memory)
    best = best_in_fresh_processes(ms_per_step, settings, args.repeats, args.steps, args.threads)
    base = best[(False, False)][0]
    names = {False: ("F.affine_grid", "glibc defaults"), True: ("helpers.corruption.affine_grid", "keep_freed_memory")}
    rows = [
        [names[g][0], names[m][1], round(ms, 1), round(sys_ms, 1), round(faults), round(base / ms, 2)]
        for (g, m), (ms, sys_ms, faults) in best.items()
    ]
    for row in rows:
        print(f"{row[0]:>31} + {row[1]:<17}: {row[2]:6.1f} ms/step ({row[3]:.1f} in the kernel, {row[4]} page faults)")
    steps = FULL["semi_steps"]
    both = best[(True, True)][0]
    saved = (base - both) * steps / 1000
    save(
        "fixmatch_step",
        what=(
            "notebook 02's FixMatch step (full-profile batch and augmentations, random images) with the affine "
            "augmentations' grid from F.affine_grid or helpers.corruption.affine_grid, and glibc's malloc at its "
            f"defaults or with helpers.runtime.keep_freed_memory, {args.threads} thread(s)"
        ),
        columns=["sampling grid", "malloc", "ms per step", "of which system", "page faults per step", "speed-up"],
        rows=rows,
        summary=f"both savings: {base / both:.2f}x faster steps, about {saved:.0f} s less per {steps}-step run",
        out=args.out,
    )


if __name__ == "__main__":
    main()
