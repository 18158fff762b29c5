"""Could notebook 01's successive halving continue each rung from the previous rung's weights instead of retraining?

    python benchmarks/warm_restarts.py [--rungs 3 9 27] [--latent-dims 10] [--lr 0.01] [--ways one-cycle restarts]
        [--fold 0] [--images 60000] [--root DIR]

Retraining every (point, fold) from scratch at each rung costs 15 x 3 + 5 x 9 + 1 x 27 = 117 epochs per fold with
notebook 01's rungs (15 -> 5 -> 1 points); continuing the previous rung's weights would cost 15 x 3 + 5 x 6 + 1 x 18 =
93
(21% less). Two ways to continue (``--ways``), each trained here on one fold for every latent size of ``--latent-dims``
(learning rate ``--lr``, notebook 01's widths and recipe: batch 128, reviving, its training loss), two runs at a time on
one thread each:

- ``one-cycle``: the final model's recipe, one one-cycle schedule over the last rung's epochs; a rung would score the
  snapshot at its epoch (mid-schedule, at a high learning rate);
- ``restarts``: one one-cycle per rung over the epochs it adds (3, then 6, then 18), continuing the weights, so that
  every rung scores an annealed model; the final model would then have to train with the same restarts.

It prints the validation MSE of each at every rung's epoch, and the seconds each took; compare the one-cycle snapshots'
ranking of several points with the ranking of the search's own rows for that fold (``results/cv_folds.csv``).
"""

import argparse
import time

from records import save

from helpers.data import cv_folds, load_train_test
from helpers.models import Autoencoder
from helpers.parallel import parallel_map
from helpers.profiles import AUTOENCODER, values
from helpers.runtime import seed_everything
from helpers.training import fit_autoencoder

FULL = values(AUTOENCODER)


def train(job):
    """Validation MSE at each rung's epoch for one way of training (``"one-cycle"`` or ``"restarts"``)."""
    how, latent_dim, lr, rungs, xt, xv = job
    seed_everything(0)
    model = Autoencoder(latent_dim, FULL["channels"], FULL["hidden"])
    cycles = [rungs[-1]] if how == "one-cycle" else [b - a for a, b in zip([0] + rungs, rungs)]
    val, t0 = [], time.perf_counter()
    for i, epochs in enumerate(cycles):
        hist = fit_autoencoder(
            model,
            xt,
            xv,
            epochs=epochs,
            lr=lr,
            batch_size=FULL["batch_size"],
            schedule="onecycle",
            revive=FULL["revive"],
            loss=FULL["loss"],
            seed=i,
            progress=False,
            validate="every",
        )
        val += hist["val_mse"].tolist()
    return [val[r - 1] for r in rungs], time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rungs", type=int, nargs="+", default=FULL["rungs"])
    ap.add_argument("--latent-dims", type=int, nargs="+", default=[10])
    ap.add_argument("--lr", type=float, default=1e-2, help="the peak learning rate of every run")
    ap.add_argument("--ways", nargs="+", choices=["one-cycle", "restarts"], default=["one-cycle", "restarts"])
    ap.add_argument("--fold", type=int, default=0, help="which of the 6 folds to train on")
    ap.add_argument("--images", type=int, default=None, help="the first N training images (default: all 60,000)")
    ap.add_argument("--root", default=None, help="MNIST root (default: $MNIST_ROOT, else the repository's data/)")
    ap.add_argument("--out", default=None, help="folder of the JSON record (default: benchmarks/results)")
    args = ap.parse_args()
    if sorted(set(args.rungs)) != args.rungs:
        ap.error(f"--rungs must be increasing, got {args.rungs}")
    if not 0 <= args.fold < 6:
        ap.error(f"--fold must be one of 0 ... 5, got {args.fold}")
    x = load_train_test(args.root, args.images)[0]
    tr, va = cv_folds(len(x), 6, 0)[args.fold]
    jobs = [(how, d, args.lr, args.rungs, x[tr], x[va]) for d in args.latent_dims for how in args.ways]
    print(
        f"fold {args.fold} of 6 ({len(tr):,} / {len(va):,} images), lr {args.lr:g}, widths {tuple(FULL['channels'])}; "
        f"{FULL['hidden']}, loss {FULL['loss']}, rungs {args.rungs}, two at a time on one thread each",
        flush=True,
    )
    print(f"{'d':>3} | {'how':>9} | " + " | ".join(f"val @ {r:>2} ep" for r in args.rungs) + " | seconds")
    rows = []
    for (how, d, *_), (val, seconds) in zip(jobs, parallel_map(train, jobs, n_jobs=2)):
        print(f"{d:3d} | {how:>9} | " + " | ".join(f"{v:11.5f}" for v in val) + f" | {seconds:7.0f}")
        rows.append([d, how, *(round(float(v), 5) for v in val), round(seconds)])
    last = {how: min(r[-2] for r in rows if r[1] == how) for how in args.ways}
    save(
        "warm_restarts",
        what=f"Fold {args.fold} of notebook 01's search at lr {args.lr:g}, trained with one one-cycle "
        f"over {args.rungs[-1]} epochs (scored mid-schedule at each rung) or with one one-cycle per rung continuing "
        "the "
        "weights (restarts): validation MSE at each rung's epoch.",
        columns=["d", "how", *(f"val MSE @ {r} ep" for r in args.rungs), "seconds"],
        rows=rows,
        summary="best val MSE at the last rung: " + ", ".join(f"{k} {v:.5f}" for k, v in last.items()),
        out=args.out,
    )


if __name__ == "__main__":
    main()
