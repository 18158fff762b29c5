"""Training throughput of the homework report's autoencoder: naive DataLoader pipeline vs in-memory batching.

    python benchmarks/throughput.py [--root ../shared/data] [--epochs 1] [--threads N]

Trains one epoch each way in the same process and prints img/s and the ratio.
"""

import argparse
import time

import torch
import torchvision
from records import save
from torch.nn import functional as F
from torch.utils.data import DataLoader

from helpers import seed_everything
from helpers.data import load_mnist, resolve_root, verify_mnist
from helpers.models import Autoencoder
from helpers.training import fit_autoencoder


def naive(root, epochs, device):
    """The lab pipeline: MNIST + ToTensor per sample, DataLoader(batch_size=256, shuffle=True)."""
    ds = torchvision.datasets.MNIST(str(root), train=True, download=False, transform=torchvision.transforms.ToTensor())
    loader = DataLoader(ds, batch_size=256, shuffle=True)
    model = Autoencoder(10).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, weight_decay=1e-5)
    n, t0 = 0, time.perf_counter()
    for _ in range(epochs):
        for x, _ in loader:
            x = x.to(device)
            loss = F.mse_loss(model(x), x)
            opt.zero_grad()
            loss.backward()
            opt.step()
            n += len(x)
    return n / (time.perf_counter() - t0)


def in_memory(root, epochs, device):
    x, _ = load_mnist(root)
    t0 = time.perf_counter()
    fit_autoencoder(Autoencoder(10), x, epochs=epochs, lr=1e-3, seed=0, device=device, progress=False)
    return epochs * len(x) / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--root", default=None, help="data root (default: $MNIST_ROOT or ./data)")
    ap.add_argument("--epochs", type=int, default=1)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    ap.add_argument("--device", default=None)
    ap.add_argument("--out", default=None, help="folder of the JSON record (default: benchmarks/results)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    root = resolve_root(args.root)
    verify_mnist(root)
    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    seed_everything(0)
    a = naive(root, args.epochs, device)
    seed_everything(0)
    b = in_memory(root, args.epochs, device)
    print(f"device={device} threads={torch.get_num_threads()} epochs={args.epochs}")
    print(f"(a) DataLoader + ToTensor : {a:8.0f} img/s")
    print(f"(b) in-memory batching   : {b:8.0f} img/s")
    print(f"ratio b/a                : {b / a:8.2f}x")
    save(
        "throughput",
        what="Training the homework report's autoencoder (d = 10) for one epoch through (a) "
        "torchvision's MNIST + ToTensor + DataLoader(batch_size=256) and (b) helpers' in-memory batching.",
        columns=["pipeline", "images/s"],
        rows=[["(a) DataLoader + ToTensor", round(a)], ["(b) in-memory batching", round(b)]],
        summary=f"b/a = {b / a:.2f}x",
        out=args.out,
    )


if __name__ == "__main__":
    main()
