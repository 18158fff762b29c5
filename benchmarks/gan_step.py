"""Training-step speed of notebook 04's MLP GAN: fp32 vs bf16 autocast, and batch 128 vs larger batches.

    python benchmarks/gan_step.py [--steps 40] [--repeats 3] [--batches 128 256 512] [--threads N] [--bf16 auto|on|off]

Times one discriminator step plus one generator step (``helpers.gan.d_step`` / ``g_step``) of the notebook's recipe
(G 100-512-1024-784 and D 784-1024-512-1 without dropout, the R1 penalty on every 4th discriminator step) on random
images, every batch size in fp32 and bf16 autocast, alternating the settings in one process so machine noise hits
all of them, and prints images per second (the best repeat) and the ratio to fp32 at the first batch size. bf16 autocast
needs a CPU with bf16 support (AVX512-BF16 / AMX) to be faster; elsewhere it is emulated and many times slower, so
``--bf16 auto`` (the default) times it only where :func:`helpers.gan.bf16_is_fast` finds that support, as notebook 04
decides, and says so otherwise (``on`` times it anyway, ``off`` never). Speed only: whether a setting keeps sample
quality is the notebook's question.
"""

import argparse
import time

import torch
from records import save

from helpers.gan import bf16_is_fast, d_step, g_step, make_optimizers
from helpers.models import Discriminator, Generator

R1, R1_EVERY = 10.0, 4  # notebook 04's r1 and r1_every


def images_per_second(batch, bf16, steps):
    torch.manual_seed(0)
    G, D = Generator(100, hidden=(512, 1024), dropout=0.0), Discriminator(hidden=(1024, 512), dropout=0.0)
    opt_g, opt_d = make_optimizers(G, D, lr=5e-4)
    real = torch.rand(batch, 1, 28, 28) * 2 - 1
    for i in range(steps + R1_EVERY):  # the first R1_EVERY steps warm up
        if i == R1_EVERY:
            t0 = time.perf_counter()
        d_step(G, D, opt_d, real, 1.0, r1=R1 * R1_EVERY if i % R1_EVERY == 0 else 0.0, amp=bf16)
        g_step(G, D, opt_g, batch, real.device, amp=bf16)
    return steps * batch / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--steps", type=int, default=40)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--batches", type=int, nargs="+", default=[128, 256])
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--bf16", choices=["auto", "on", "off"], default="auto")
    ap.add_argument("--out", default=None, help="folder of the JSON record (default: benchmarks/results)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)  # as the training loop does
    native = bf16_is_fast("cpu")
    with_bf16 = args.bf16 == "on" or (args.bf16 == "auto" and native)
    settings = [(b, bf16) for bf16 in ((False, True) if with_bf16 else (False,)) for b in args.batches]
    best = {s: 0.0 for s in settings}
    for _ in range(args.repeats):
        for s in settings:
            best[s] = max(best[s], images_per_second(*s, args.steps))
    base = best[(args.batches[0], False)]
    print(
        f"torch threads {torch.get_num_threads()}, {args.steps} steps, best of {args.repeats}; "
        f"native bf16 on this CPU: {'yes' if native else 'no (AVX512-BF16 / AMX not found)'}"
    )
    if not with_bf16:
        print(
            "bf16 rows skipped (--bf16 "
            f"{args.bf16}{'' if args.bf16 == 'off' else ': emulated here, many times slower'}; "
            "--bf16 on times them anyway)"
        )
    print(f"{'batch':>6} | {'precision':>9} | {'img/s':>8} | ratio")
    for (b, bf16), v in best.items():
        print(f"{b:6d} | {'bf16' if bf16 else 'fp32':>9} | {v:8,.0f} | {v / base:.2f}x")
    top = max(best, key=best.get)
    save(
        "gan_step",
        what="Notebook 04's GAN step (one D update with the R1 penalty every 4th, one G update) in fp32 "
        f"and bf16 autocast, alternating in one process, best of {args.repeats}"
        + ("" if with_bf16 else f" (bf16 not timed: --bf16 {args.bf16}, native bf16: {'yes' if native else 'no'})")
        + ".",
        columns=["batch", "precision", "images/s", "ratio"],
        rows=[[b, "bf16" if bf16 else "fp32", round(v), f"{v / base:.2f}x"] for (b, bf16), v in best.items()],
        summary=f"fastest: batch {top[0]} in {'bf16' if top[1] else 'fp32'}, {best[top] / base:.2f}x batch "
        f"{args.batches[0]} in fp32",
        out=args.out,
    )


if __name__ == "__main__":
    main()
