"""What wider autoencoders cost per cross-validation fold, and what they reach as notebook 01's final model.

    python benchmarks/autoencoder_widths.py [--widths 8,16,32:64 12,24,48:256 ...] [--fold-epochs 3]
        [--final-epochs 27] [--images 60000] [--skip-final] [--bf16 auto|on|off] [--loss mse [bce]] [--root DIR]

Each width is ``channels:hidden`` (the first is the reference, the homework report's by default). Two parts, the
measurements
noted in ``helpers/profiles.py``:

1. Fold cost, side by side in one run: for each width in turn (and the first once more at the end, so that drift of
   the machine shows), ``halving_search_cv`` cross-validates the point lr 1e-2, d = 10 on 6 folds for
   ``--fold-epochs`` epochs with notebook 01's recipe (one-cycle, batch 128, reviving), two folds at a time; it prints
   the mean seconds per fold, the ratio to the reference (the mean of its two runs), the mean validation MSE and how
   many folds collapsed.
2. Final model (unless ``--skip-final``): each width trained as notebook 01's final model at d = 10 (one-cycle peaking
   at 1e-2, batch 128, reviving, ``--final-epochs`` epochs on all training images), two at a time on one thread each,
   and its test MSE.

With bf16 autocast (``--bf16``), every width is timed and trained in fp32 and in bf16; ``auto`` (the default) adds the
bf16 rows only where :func:`helpers.gan.bf16_is_fast` finds native support (AVX512-BF16 / AMX), since elsewhere it is
emulated and many times slower (``on`` runs them anyway, ``off`` never). With ``--loss mse bce`` every width is
timed and trained with each training loss of :func:`helpers.training.fit_autoencoder` (the MSE of the homework report,
binary
cross-entropy), scored by MSE either way.
"""

import argparse
import tempfile
import time

from records import save

from helpers.autoencoder.halving import halving_search_cv
from helpers.data import load_train_test
from helpers.gan import bf16_is_fast
from helpers.models import Autoencoder
from helpers.parallel import parallel_map
from helpers.runtime import seed_everything
from helpers.training import fit_autoencoder

RECIPE = dict(lr=1e-2, batch_size=128, revive=0.5, latent_dim=10)  # notebook 01's pick and final recipe


def parse_width(text):
    channels, hidden = text.split(":")
    return tuple(int(c) for c in channels.split(",")), int(hidden)


def fold_cost(x, channels, hidden, epochs, amp=False, loss="mse"):
    with tempfile.TemporaryDirectory() as tmp:
        cv = halving_search_cv(
            x,
            {"lr": [RECIPE["lr"]], "latent_dim": [RECIPE["latent_dim"]]},
            results_dir=tmp,
            rungs=[epochs],
            n_folds=6,
            batch_size=RECIPE["batch_size"],
            revive=RECIPE["revive"],
            channels=channels,
            hidden=hidden,
            seed=0,
            amp=amp,
            loss=loss,
            n_jobs=2,
            progress=False,
        )
    return cv.folds["seconds"].mean(), cv.folds["val_mse"].mean(), int(cv.folds["collapsed"].sum())


def final_test_mse(job):
    (channels, hidden), amp, loss, x_train, x_test, epochs = job
    seed_everything(0)
    model = Autoencoder(RECIPE["latent_dim"], channels, hidden)
    t0 = time.perf_counter()
    hist = fit_autoencoder(
        model,
        x_train,
        x_test,
        epochs=epochs,
        lr=RECIPE["lr"],
        batch_size=RECIPE["batch_size"],
        schedule="onecycle",
        revive=RECIPE["revive"],
        seed=0,
        progress=False,
        amp=amp,
        loss=loss,
    )
    return hist["val_mse"].iloc[-1], (time.perf_counter() - t0) / epochs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--widths", nargs="+", default=["8,16,32:64", "8,24,48:256", "12,24,48:256"])
    ap.add_argument("--fold-epochs", type=int, default=3)
    ap.add_argument("--final-epochs", type=int, default=27)
    ap.add_argument("--images", type=int, default=None, help="the first N training images (default: all 60,000)")
    ap.add_argument("--skip-final", action="store_true")
    ap.add_argument("--bf16", choices=["auto", "on", "off"], default="auto")
    ap.add_argument("--loss", nargs="+", choices=["mse", "bce"], default=["mse"], help="training losses to compare")
    ap.add_argument("--root", default=None, help="MNIST root (default: $MNIST_ROOT, else the repository's data/)")
    ap.add_argument("--out", default=None, help="folder of the JSON record (default: benchmarks/results)")
    args = ap.parse_args()
    native = bf16_is_fast("cpu")
    with_bf16 = args.bf16 == "on" or (args.bf16 == "auto" and native)
    widths = [
        (parse_width(w), amp, loss)
        for w in args.widths
        for amp in ((False, True) if with_bf16 else (False,))
        for loss in args.loss
    ]
    x, _, x_test, _ = load_train_test(args.root, args.images)

    print(
        f"fold cost: 6 folds of {len(x) * 5 // 6:,} images, {args.fold_epochs} epochs, lr 1e-2, d = 10, two at a time"
    )
    if not with_bf16:
        print(
            "bf16 rows skipped (--bf16 "
            f"{args.bf16}{'' if args.bf16 == 'off' else ': emulated here, many times slower'}; "
            "--bf16 on runs them anyway)"
        )
    print(f"{'channels':>14} | {'hidden':>6} | {'bf16':>4} | loss | {'s/fold':>7} | ratio | val MSE | collapsed")
    runs = [(w, fold_cost(x, *w[0], args.fold_epochs, amp=w[1], loss=w[2])) for w in widths + widths[:1]]
    ref = (runs[0][1][0] + runs[-1][1][0]) / 2  # the reference's mean over its run before and after the others
    rows = []
    for ((channels, hidden), amp, loss), (seconds, val, collapsed) in runs:
        print(
            f"{str(channels):>14} | {hidden:6d} | {'yes' if amp else 'no':>4} | {loss:>4} | {seconds:7.1f} | "
            f"{seconds / ref:.2f}x | "
            f"{val:.5f} | {collapsed} of 6"
        )
        rows.append(
            [
                str(tuple(channels)),
                hidden,
                "bf16" if amp else "fp32",
                loss,
                round(seconds, 1),
                f"{seconds / ref:.2f}x",
                round(float(val), 5),
                collapsed,
                None,
            ]
        )
    rows = rows[:-1]  # the reference's second run is folded into its mean
    print(
        f"\nfinal model: d = 10, {args.final_epochs} epochs on {len(x):,} images, test MSE on {len(x_test):,}, two at "
        "a time"
    )
    print(f"{'channels':>14} | {'hidden':>6} | {'bf16':>4} | loss | test MSE | s/epoch")
    results = parallel_map(
        final_test_mse, [(w, amp, loss, x, x_test, args.final_epochs) for w, amp, loss in widths], n_jobs=2
    )
    for i, (((channels, hidden), amp, loss), (mse, per_epoch)) in enumerate(zip(widths, results)):
        print(
            f"{str(channels):>14} | {hidden:6d} | {'yes' if amp else 'no':>4} | {loss:>4} | {mse:.5f}  | "
            f"{per_epoch:.1f}"
        )
        rows[i][-1] = round(float(mse), 5)
    record(args, rows, x, x_test)


def record(args, rows, x, x_test):
    """Save the fold costs (and the final models' test MSE, when trained) as this benchmark's JSON record."""
    final = (
        ""
        if args.skip_final
        else f"; test MSE of the d = 10 final model after {args.final_epochs} epochs on {len(x):,} images"
    )
    best = min((r for r in rows if r[-1] is not None), key=lambda r: r[-1], default=None)
    save(
        "autoencoder_widths",
        what=f"Notebook 01's autoencoder at several widths (channels; hidden), training losses and "
        f"precisions: seconds per {args.fold_epochs}-epoch fold of its search (6 folds, d = 10, lr 1e-2, two at a "
        "time; "
        f"ratio to the first width, timed before and after the others){final}.",
        columns=[
            "channels",
            "hidden",
            "precision",
            "loss",
            "s/fold",
            "ratio",
            "val MSE",
            "folds collapsed",
            "test MSE",
        ],
        rows=[[*r[:-1], "-" if r[-1] is None else r[-1]] for r in rows],
        summary=(
            f"lowest test MSE: {best[0]}; {best[1]}, {best[3]}, {best[-1]:.5f}"
            if best
            else f"fold cost of the widest: {max(rows, key=lambda r: r[4])[5]} the first"
        ),
        out=args.out,
    )


if __name__ == "__main__":
    main()
