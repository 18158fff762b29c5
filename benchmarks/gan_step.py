"""Training-step speed of notebook 04's MLP GAN: fp32 vs bf16 autocast, and batch 128 vs larger batches.

    python benchmarks/gan_step.py [--steps 40] [--repeats 3] [--batches 128 256 512] [--threads N]

Times one discriminator step plus one generator step (``helpers.gan.d_step`` / ``g_step``) of the notebook's widths
(G 100-512-1024-784, D 784-1024-512-1) on random images, alternating the settings in one process so machine noise
hits all of them, and prints images per second (the best repeat) and the ratio to fp32 at batch 128. bf16 autocast
needs a CPU with bf16 support (AVX512-BF16 / AMX) to be faster; elsewhere it is slower. Speed only: whether a
setting keeps sample quality is the notebook's question.
"""
import argparse
import contextlib
import time

import torch

from helpers.gan import d_step, g_step, make_optimizers
from helpers.models import Discriminator, Generator


def images_per_second(batch, bf16, steps):
    torch.manual_seed(0)
    G, D = Generator(100, hidden=(512, 1024)), Discriminator(hidden=(1024, 512))
    opt_g, opt_d = make_optimizers(G, D)
    real = torch.rand(batch, 1, 28, 28) * 2 - 1
    ctx = torch.autocast("cpu", dtype=torch.bfloat16) if bf16 else contextlib.nullcontext()
    with ctx:
        for i in range(steps + 3):  # 3 warm-up steps
            if i == 3:
                t0 = time.perf_counter()
            d_step(G, D, opt_d, real, 0.9)
            g_step(G, D, opt_g, batch, real.device)
    return steps * batch / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batches", type=int, nargs="+", default=[128, 256, 512])
    ap.add_argument("--threads", type=int, default=None)
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # as the training loop does
    settings = [(b, False) for b in args.batches] + [(args.batches[0], True)]
    best = {s: 0.0 for s in settings}
    for _ in range(args.repeats):
        for s in settings:
            best[s] = max(best[s], images_per_second(*s, args.steps))
    base = best[(args.batches[0], False)]
    print(f"torch threads {torch.get_num_threads()}, {args.steps} steps, best of {args.repeats}")
    print(f"{'batch':>6} | {'precision':>9} | {'img/s':>8} | ratio")
    for (b, bf16), v in best.items():
        print(f"{b:6d} | {'bf16' if bf16 else 'fp32':>9} | {v:8,.0f} | {v / base:.2f}x")


if __name__ == "__main__":
    main()
