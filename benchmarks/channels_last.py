"""Training speed of the homework report's convolutional nets with the default (NCHW) vs channels-last weight layout.

    python benchmarks/channels_last.py [--steps 60] [--batch-size 128] [--threads N] [--device cpu]

``helpers.runtime.to_device`` moves every model to channels-last before training or inference; this
script times both layouts side by side in one process (alternating, so machine noise hits both)
and prints img/s and the ratio for the autoencoder and the encoder classifier.
"""

import argparse
import time

import torch
from records import save
from torch.nn import functional as F

from helpers.models import Autoencoder, EncoderClassifier


def steps_per_second(model, loss_fn, x, steps, channels_last, device):
    model = model.to(device, memory_format=torch.channels_last if channels_last else torch.contiguous_format)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    for i in range(steps + 5):  # 5 warm-up steps
        if i == 5:
            t0 = time.perf_counter()
        loss = loss_fn(model, x)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    return steps / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=60, help="timed training steps per measurement")
    ap.add_argument("--repeats", type=int, default=3, help="alternating measurements per layout (best is kept)")
    ap.add_argument("--batch-size", type=int, default=128)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    ap.add_argument("--device", default=None)
    ap.add_argument("--out", default=None, help="folder of the JSON record (default: benchmarks/results)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device or ("cuda" if torch.cuda.is_available() else "cpu"))
    torch.manual_seed(0)
    x = torch.rand(args.batch_size, 1, 28, 28, device=device)
    y = torch.randint(0, 10, (args.batch_size,), device=device)
    cases = {
        "autoencoder (d=10)": (lambda: Autoencoder(10), lambda m, b: F.mse_loss(m(b), b)),
        "encoder classifier": (lambda: EncoderClassifier(10), lambda m, b: F.cross_entropy(m(b), y)),
    }
    print(f"device={device} threads={torch.get_num_threads()} batch={args.batch_size} steps={args.steps}")
    rows = []
    for name, (make, loss_fn) in cases.items():
        best = {False: 0.0, True: 0.0}
        for _ in range(args.repeats):
            for cl in (False, True):
                torch.manual_seed(0)
                best[cl] = max(best[cl], steps_per_second(make(), loss_fn, x, args.steps, cl, device))
        a, b = best[False] * args.batch_size, best[True] * args.batch_size
        print(f"{name:20s} NCHW {a:8.0f} img/s   channels-last {b:8.0f} img/s   ratio {b / a:5.2f}x")
        rows.append([name, torch.get_num_threads(), round(a), round(b), f"{b / a:.2f}x"])
    save(
        "channels_last",
        what=f"Training steps (batch {args.batch_size}) of the homework report's conv nets with "
        "the default NCHW layout and with channels-last (what helpers.runtime.to_device uses), alternating in one "
        "process.",
        columns=["model", "threads", "NCHW images/s", "channels-last images/s", "ratio"],
        rows=rows,
        summary="channels-last / NCHW: " + ", ".join(f"{r[0]} {r[4]}" for r in rows),
        out=args.out,
    )


if __name__ == "__main__":
    main()
