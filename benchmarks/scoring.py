"""Seconds to score GAN samples with the scoring CNN: the plain model at the old batch of 2,048 against
``helpers.gan.classifier_outputs`` (batches of 256, BatchNorm folded into the convolutions, channels-last memory).

    python benchmarks/scoring.py [--images 10000] [--repeats 3] [--threads 2]

Notebook 04 scores 10,000 samples at each evaluation of the GAN (two generators every 5 epochs), at each point of its
rejection and Langevin grids and for each draw of its draw-to-draw spread. The script times the same untrained
:class:`~helpers.models.SmallCNN` (BatchNorm statistics set to non-trivial values) both ways on random images, prints
the best of ``--repeats`` for each, the ratio, and the largest difference between their features (float rounding).
"""

import argparse
import time

import torch
from records import save

from helpers.gan import classifier_outputs
from helpers.models import SmallCNN


@torch.no_grad()
def plain(clf, images, batch_size=2048):
    """The scorer before: ``clf.features`` at batches of ``batch_size``."""
    return torch.cat([clf.features(images[i : i + batch_size]) for i in range(0, len(images), batch_size)]).numpy()


def best_of(fn, repeats):
    fn()  # warm-up
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return min(times), out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=int, default=10000)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=None, help="folder of the JSON record (default: benchmarks/results)")
    args = ap.parse_args()
    if args.images < 1 or args.repeats < 1 or args.threads < 1:
        ap.error("--images, --repeats and --threads must be >= 1")
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    clf = SmallCNN().eval()
    for m in clf.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.normal_(), m.running_var.uniform_(0.5, 2.0), m.weight.data.uniform_(0.5, 1.5)
    images = torch.rand(args.images, 1, 28, 28)
    t_plain, f_plain = best_of(lambda: plain(clf, images), args.repeats)
    t_ours, (f_ours, _) = best_of(lambda: classifier_outputs(clf, images, "cpu"), args.repeats)
    print(f"{args.images:,} images, {args.threads} threads, best of {args.repeats}")
    print(f"{'scorer':>40} | seconds | images/s")
    print(f"{'plain SmallCNN, batch 2048':>40} | {t_plain:7.3f} | {args.images / t_plain:8,.0f}")
    print(f"{'classifier_outputs (fused, channels-last)':>40} | {t_ours:7.3f} | {args.images / t_ours:8,.0f}")
    diff = float(abs(f_plain - f_ours).max())
    print(f"speed-up: {t_plain / t_ours:.2f}x; largest feature difference: {diff:.2e}")
    save(
        "scoring",
        what=f"Scoring {args.images:,} images with the scoring CNN: the plain model at batches of 2,048 "
        "against helpers.gan.classifier_outputs (BatchNorm folded, channels-last, batches of 256); best of "
        f"{args.repeats}.",
        columns=["scorer", "seconds", "images/s"],
        rows=[
            ["plain SmallCNN, batch 2048", round(t_plain, 3), round(args.images / t_plain)],
            ["classifier_outputs", round(t_ours, 3), round(args.images / t_ours)],
        ],
        summary=f"{t_plain / t_ours:.2f}x faster; largest feature difference {diff:.1e}",
        out=args.out,
    )


if __name__ == "__main__":
    main()
