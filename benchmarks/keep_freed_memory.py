"""Training speed of the report's networks with glibc's malloc at its defaults vs told to keep freed memory.

    python benchmarks/keep_freed_memory.py [--tasks autoencoder denoiser gan] [--images 6000] [--repeats 2]

The training loop (``helpers.loop.epoch_loop``) calls :func:`helpers.runtime.keep_freed_memory`, so that the buffers
a step frees are reused by the next step instead of being returned to the system and faulted in again. This script
trains, on ``--images`` random images, one epoch of each task with notebook 01's autoencoder (widths 8-16-48, code
10, batch 128), notebook 03's denoiser (16-32-64, code 64, Gaussian noise and rotation) and notebook 04's GAN (G
100-512-1024-784, D 784-1024-512-1, R1 every 4th step, batch 256, fp32), with the loop's call switched on and off.
Each measurement runs in a fresh process (malloc's state is per process) after a warm-up epoch, the settings
alternating over ``--repeats``; it prints seconds per epoch (best repeat), the kernel's share and page faults per
image, and the speed-up. Speed only: both settings train the same numbers.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from records import best_in_fresh_processes, save, usage  # noqa: E402

from helpers import loop  # noqa: E402
from helpers.corruption import Compose, GaussianNoise, RandomRotation  # noqa: E402
from helpers.gan import train_gan  # noqa: E402
from helpers.models import Autoencoder, Discriminator, Generator  # noqa: E402
from helpers.training import fit_autoencoder  # noqa: E402

TASKS = ("autoencoder", "denoiser", "gan")


def train_one_epoch(task: str, x: torch.Tensor) -> None:
    torch.manual_seed(0)
    if task == "autoencoder":
        model = Autoencoder(10, channels=(8, 16, 48), hidden=256)
        fit_autoencoder(model, x, epochs=1, lr=1e-3, batch_size=128, device="cpu", progress=False)
    elif task == "denoiser":
        model = Autoencoder(64, channels=(16, 32, 64), hidden=256)
        corrupt = Compose(GaussianNoise((0.05, 0.55)), RandomRotation(30.0))
        fit_autoencoder(model, x, epochs=1, lr=5e-3, batch_size=128, corrupt=corrupt, device="cpu", progress=False)
    else:
        G, D = Generator(100, hidden=(512, 1024), dropout=0.0), Discriminator(hidden=(1024, 512), dropout=0.0)
        train_gan(G, D, x * 2 - 1, epochs=1, lr=5e-4, batch_size=256, r1=10.0, r1_every=4, device="cpu", progress=False)


def seconds_per_epoch(task: str, keep: bool, images: int, threads: int) -> tuple[float, float, float]:
    """One measurement, in a fresh process: wall and system seconds of an epoch, and page faults per image."""
    torch.set_num_threads(threads)
    loop.KEEP_FREED_MEMORY = keep
    x = torch.rand(images, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    train_one_epoch(task, x)  # warm-up: the steady state of a long run
    wall, system, faults = usage(lambda: train_one_epoch(task, x))
    return wall, system, faults / images


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tasks", nargs="+", choices=TASKS, default=list(TASKS))
    ap.add_argument("--images", type=int, default=6000)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--out", default=None, help="folder of the JSON record (default: benchmarks/results)")
    args = ap.parse_args()
    settings = [(task, keep) for task in args.tasks for keep in (False, True)]
    best = best_in_fresh_processes(seconds_per_epoch, settings, args.repeats, args.images, args.threads)
    rows = []
    for (task, keep), (wall, system, faults) in best.items():
        ratio = best[(task, False)][0] / wall
        malloc = "keep_freed_memory" if keep else "glibc defaults"
        rows.append([task, malloc, round(wall, 3), round(system, 3), round(faults, 1), round(ratio, 2)])
        print(
            f"{task:>12} + {malloc:<17}: {wall:6.2f} s/epoch ({system:.2f} s in the kernel, {faults:.1f} faults/image)"
        )
    speedups = ", ".join(f"{r[0]} {r[5]:.2f}x" for r in rows if r[1] == "keep_freed_memory")
    save(
        "keep_freed_memory",
        what=(
            f"one epoch of {args.images} random images per network of notebooks 01, 03 and 04 with glibc's malloc at "
            f"its defaults or with helpers.runtime.keep_freed_memory, {args.threads} thread(s)"
        ),
        columns=["network", "malloc", "seconds per epoch", "of which system", "page faults per image", "speed-up"],
        rows=rows,
        summary=f"keep_freed_memory: {speedups}",
        out=args.out,
    )


if __name__ == "__main__":
    main()
