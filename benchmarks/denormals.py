"""Seconds per epoch of the homework report's autoencoder late in a one-cycle run, with and without flushing denormal
floats.

    python benchmarks/denormals.py [--epochs 27] [--images 50000] [--root DIR]

Late in training, Adam's moment estimates and small weights reach denormal floats, which x86 CPUs compute many times
slower; ``helpers.loop.epoch_loop`` flushes them to zero (``torch.set_flush_denormal(True)``). This script trains the
same model from the same seed twice on one thread, one after the other, the flush off and on (notebook 01's fold
recipe: d = 10, one-cycle peaking at 1e-2, batch 128, reviving), and prints the seconds of the first and last
epochs, the total, and the validation MSE of each (the flush changes nothing that the MSE shows).
"""

import argparse
import time

import torch
from records import save

from helpers import loop
from helpers.data import cv_folds, load_mnist
from helpers.models import Autoencoder
from helpers.runtime import seed_everything
from helpers.training import fit_autoencoder


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=27)
    ap.add_argument(
        "--images", type=int, default=60000, help="training images before the 6-fold split (fold 0 is used)"
    )
    ap.add_argument("--root", default=None, help="MNIST root (default: $MNIST_ROOT, else the repository's data/)")
    ap.add_argument("--out", default=None, help="folder of the JSON record (default: benchmarks/results)")
    args = ap.parse_args()
    torch.set_num_threads(1)
    x = load_mnist(args.root, train=True)[0][: args.images]
    tr, va = cv_folds(len(x), 6, 0)[0]
    rows = []
    for flush in (False, True):
        loop.FLUSH_DENORMALS = flush
        seed_everything(0)
        t0 = time.perf_counter()
        h = fit_autoencoder(
            Autoencoder(10),
            x[tr],
            x[va],
            epochs=args.epochs,
            lr=1e-2,
            batch_size=128,
            schedule="onecycle",
            revive=0.5,
            seed=0,
            device="cpu",
            progress=False,
        )
        rows.append(
            (
                flush,
                h["seconds"].iloc[:3].mean(),
                h["seconds"].iloc[-3:].mean(),
                time.perf_counter() - t0,
                h["val_mse"].iloc[-1],
            )
        )
    print(f"{len(tr):,} training images, {args.epochs} epochs, 1 thread")
    print(f"{'flush denormals':>16} | {'s/epoch, first 3':>16} | {'s/epoch, last 3':>15} | {'total s':>7} | val MSE")
    for flush, first, last, total, mse in rows:
        print(f"{str(flush):>16} | {first:16.2f} | {last:15.2f} | {total:7.0f} | {mse:.5f}")
    print(f"ratio of totals (off / on): {rows[0][3] / rows[1][3]:.2f}x")
    save(
        "denormals",
        what=f"Notebook 01's CV fold 0 ({len(tr):,} images, d = 10, one-cycle at 1e-2, batch 128, "
        f"reviving, {args.epochs} epochs, 1 thread) trained twice from one seed, denormal floats kept and flushed to "
        "zero.",
        columns=["flush denormals", "s/epoch, first 3", "s/epoch, last 3", "total s", "val MSE"],
        rows=[[str(f), round(a, 2), round(b, 2), round(t), round(float(m), 5)] for f, a, b, t, m in rows],
        summary=f"flushing is {rows[0][3] / rows[1][3]:.2f}x faster in all",
        out=args.out,
    )


if __name__ == "__main__":
    main()
