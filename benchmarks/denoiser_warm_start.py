"""Could notebook 03's per-sigma denoisers start from its noise-only denoiser instead of from random weights?

    python benchmarks/denoiser_warm_start.py [--sigmas 0.1 0.3] [--epochs 5 10] [--lr 0.005] [--images 60000]

Notebook 03 trains one noise-only denoiser on noise of std drawn from ``train_sigma`` and, for each test noise level,
one more from random weights on that level alone, each for ``epochs`` one-cycle epochs. A per-sigma model differs
from the noise-only one only in the noise it sees, so this trains each ``--sigmas`` level's model from the committed
``results/denoiser_noise_only.pt`` for each of ``--epochs`` (one-cycle, peak ``--lr``, the notebook's batch and
split), two runs at a time on one thread each, and scores it on the test images with the notebook's fixed noise
(the same seed per level as its quality table) beside the committed models: the noise-only one and the per-sigma one
trained from scratch. The table gives the test PSNR of each and the seconds each warm start took.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from records import save  # noqa: E402

from helpers.corruption import Compose, GaussianNoise, corrupt_fixed  # noqa: E402
from helpers.data import load_train_test, train_val_split  # noqa: E402
from helpers.metrics import quality_table  # noqa: E402
from helpers.models import load_model  # noqa: E402
from helpers.parallel import parallel_map  # noqa: E402
from helpers.profiles import DENOISE, values  # noqa: E402
from helpers.training import fit_autoencoder, predict  # noqa: E402

FULL = values(DENOISE)


def test_noise(sigma: float, x_test):
    """The notebook's fixed noisy test copy at ``sigma`` (its quality table's seed for that level)."""
    i = list(FULL["eval_sigmas"]).index(sigma)
    return corrupt_fixed(Compose(GaussianNoise(sigma)), x_test, seed=200 + i)


def train(job, x_tr, x_va, x_test):
    sigma, epochs, lr, results = job
    torch.set_num_threads(1)
    model = load_model(Path(results) / "denoiser_noise_only.pt")
    t0 = time.perf_counter()
    fit_autoencoder(
        model,
        x_tr,
        x_va,
        epochs=epochs,
        lr=lr,
        batch_size=FULL["batch_size"],
        corrupt=Compose(GaussianNoise(sigma)),
        schedule="onecycle",
        seed=0,
        device="cpu",
        progress=False,
        validate="last",
    )
    seconds = time.perf_counter() - t0
    return quality_table(predict(model, test_noise(sigma, x_test), device="cpu"), x_test)["psnr"], seconds


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sigmas", type=float, nargs="+", default=[0.1, 0.3], help="test noise levels (notebook 03's)")
    ap.add_argument("--epochs", type=int, nargs="+", default=[5, 10], help="warm-start lengths to try")
    ap.add_argument(
        "--lr", type=float, default=FULL["lr"], help="peak one-cycle learning rate (default: the notebook's)"
    )
    ap.add_argument("--results", default="results", help="folder of notebook 03's committed denoisers")
    ap.add_argument("--images", type=int, default=None, help="the first N training images (default: all 60,000)")
    ap.add_argument("--root", default=None, help="MNIST root (default: $MNIST_ROOT, else the repository's data/)")
    ap.add_argument("--out", default=None, help="folder of the JSON record (default: benchmarks/results)")
    args = ap.parse_args()
    bad = [s for s in args.sigmas if s not in FULL["eval_sigmas"]]
    if bad:
        ap.error(f"--sigmas must be among notebook 03's levels {list(FULL['eval_sigmas'])}, got {bad}")
    if min(args.epochs) < 1:
        ap.error(f"--epochs must be positive, got {args.epochs}")
    x_all, y_all, x_test, _ = load_train_test(args.root, args.images)
    tr, va = train_val_split(y_all.numpy(), min(FULL["val_size"], len(x_all) // 5), seed=0)
    x_test = x_test[: FULL["eval_images"]]
    jobs = [(s, e, args.lr, args.results) for s in args.sigmas for e in args.epochs]
    outs = parallel_map(train, jobs, n_jobs=2, shared=(x_all[tr], x_all[va], x_test))
    rows = []
    for sigma in args.sigmas:
        noisy = test_noise(sigma, x_test)
        for name, file in (("noise-only model", "denoiser_noise_only.pt"), ("per-sigma model, from scratch", None)):
            model = load_model(Path(args.results) / (file or f"denoiser_sigma{sigma}.pt"))
            psnr = quality_table(predict(model, noisy, device="cpu"), x_test)["psnr"]
            rows.append([sigma, name, 0 if file else FULL["epochs"], round(psnr, 3), "-"])
        for (s, epochs, *_), (psnr, seconds) in zip(jobs, outs):
            if s == sigma:
                rows.append([sigma, "warm start from the noise-only model", epochs, round(psnr, 3), round(seconds)])
    for r in rows:
        print(*r, sep="\t", flush=True)
    scratch = {r[0]: r[3] for r in rows if r[1].startswith("per-sigma")}
    best = {}
    for r in rows:
        if r[1].startswith("warm"):
            best[r[0]] = max(best.get(r[0], (-1e9, 0)), (r[3], r[2]))
    save(
        "denoiser_warm_start",
        what="Notebook 03's per-sigma denoisers warm-started from its noise-only denoiser for a few one-cycle epochs "
        f"(peak lr {args.lr}), against the committed per-sigma models trained {FULL['epochs']} epochs from random "
        "weights: test PSNR (dB) on the notebook's fixed noisy test images; seconds per warm start (one thread, two "
        "side by side).",
        columns=["sigma", "model", "epochs", "test PSNR (dB)", "seconds"],
        rows=rows,
        summary="; ".join(
            f"sigma {s}: warm start {best[s][0]:.2f} dB at {best[s][1]} epochs vs {scratch[s]:.2f} dB from scratch "
            f"at {FULL['epochs']}"
            for s in args.sigmas
        ),
        out=args.out,
    )


if __name__ == "__main__":
    main()
