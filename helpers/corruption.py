"""Batched image corruptions and augmentations on tensors ``(N, 1, 28, 28)`` in [0, 1].

Each is a small callable class; ``Compose`` chains them. Random draws use torch's global RNG,
so ``torch.manual_seed`` (done per epoch by the training loop) makes them reproducible;
``corrupt_fixed`` makes a seeded, fixed corrupted copy for evaluation.
"""

from __future__ import annotations

import torch
from torch.nn import functional as F


class GaussianNoise:
    """Add N(0, sigma^2) noise per pixel, clamp to [0, 1]. ``sigma`` may be a (low, high) range,
    drawn uniformly per image."""

    def __init__(self, sigma=0.3):
        lo, hi = (sigma, sigma) if isinstance(sigma, (int, float)) else sigma
        if lo < 0 or hi < lo:
            raise ValueError(f"sigma must be >= 0 (or a range low <= high), got {sigma!r}")
        self.sigma = sigma
        self.lo, self.hi = float(lo), float(hi)

    def __call__(self, x):
        s = self.lo + (self.hi - self.lo) * torch.rand(len(x), 1, 1, 1, device=x.device)
        return (x + s * torch.randn_like(x)).clamp_(0, 1)

    def __repr__(self):
        return f"GaussianNoise(sigma={self.sigma})"


class SaltPepper:
    """Set a fraction ``p`` of pixels to 0 or 1 (half each)."""

    def __init__(self, p=0.1):
        if not 0 <= p <= 1:
            raise ValueError(f"p must be in [0, 1], got {p!r}")
        self.p = p

    def __call__(self, x):
        u = torch.rand_like(x)
        x = x.clone()
        x[u < self.p / 2] = 0.0
        x[(u >= self.p / 2) & (u < self.p)] = 1.0
        return x

    def __repr__(self):
        return f"SaltPepper(p={self.p})"


def affine_grid(theta: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """``F.affine_grid(theta, (n, c, h, w), align_corners=False)`` computed as one matrix product: the same grid,
    without the batched matrix product, slow on the CPU (benchmarks/README.md:
    fixmatch_step)."""
    like = dict(device=theta.device, dtype=theta.dtype)
    ys = (torch.arange(h, **like) * 2 + 1) / h - 1  # pixel centres in [-1, 1]
    xs = (torch.arange(w, **like) * 2 + 1) / w - 1
    base = torch.stack([xs.repeat(h), ys.repeat_interleave(w), torch.ones(h * w, **like)])  # (3, h * w)
    grid = (theta.reshape(-1, 3) @ base).view(len(theta), 2, h, w)  # one matrix product for the whole batch
    return grid.permute(0, 2, 3, 1)


class RandomAffine:
    """Per-image random rotation (up to ``max_degrees`` either way), translation (fraction of the
    image) and scale, applied to the whole batch at once with :func:`affine_grid` and ``grid_sample``
    (one independent transform per image, unlike a batched torchvision v2 transform which
    draws one transform for the whole batch)."""

    def __init__(self, max_degrees=30.0, translate=0.0, scale=(1.0, 1.0)):
        if max_degrees < 0 or translate < 0:
            raise ValueError(f"max_degrees and translate must be >= 0, got {max_degrees!r}, {translate!r}")
        self.max_degrees, self.translate, self.scale = float(max_degrees), float(translate), tuple(scale)

    def __call__(self, x):
        n, dev = len(x), x.device
        degrees = (torch.rand(n, device=dev) * 2 - 1) * self.max_degrees
        s = self.scale[0] + (self.scale[1] - self.scale[0]) * torch.rand(n, device=dev)
        t = (torch.rand(n, 2, device=dev) * 2 - 1) * 2 * self.translate
        return self.apply(x, degrees, s, t)

    @staticmethod
    def apply(x, degrees, scale=None, shift=None):
        """Rotate image i by ``degrees[i]`` (counter-clockwise as displayed), scale and shift it."""
        n, dev = len(x), x.device
        angle = torch.deg2rad(torch.as_tensor(degrees, dtype=x.dtype, device=dev).expand(n))
        s = torch.ones(n, device=dev) if scale is None else scale
        t = torch.zeros(n, 2, device=dev) if shift is None else shift
        cos, sin = torch.cos(angle) / s, torch.sin(angle) / s
        theta = torch.stack([torch.stack([cos, -sin, t[:, 0]], 1), torch.stack([sin, cos, t[:, 1]], 1)], 1)
        grid = affine_grid(theta, *x.shape[-2:])
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)

    def __repr__(self):
        return f"RandomAffine(max_degrees={self.max_degrees}, translate={self.translate}, scale={self.scale})"


class Cutout:
    """Zero one ``size`` x ``size`` square per image at a uniformly random centre (clipped at the border; DeVries and
    Taylor, 2017), the whole batch at once."""

    def __init__(self, size=11):
        if not isinstance(size, int) or size < 1:
            raise ValueError(f"size must be a positive int, got {size!r}")
        self.size = size

    def __call__(self, x):
        n, _, h, w = x.shape
        cy = torch.randint(0, h, (n, 1, 1, 1), device=x.device)
        cx = torch.randint(0, w, (n, 1, 1, 1), device=x.device)
        rows = torch.arange(h, device=x.device).view(1, 1, h, 1)
        cols = torch.arange(w, device=x.device).view(1, 1, 1, w)
        half = self.size // 2
        hole = ((rows - cy).abs() <= half) & ((cols - cx).abs() <= half)
        return x.masked_fill(hole, 0.0)

    def __repr__(self):
        return f"Cutout(size={self.size})"


class ElasticDistortion:
    """Per-image elastic distortion (Simard et al., 2003): each pixel is displaced by a random field, uniform in
    [-1, 1] per pixel, smoothed by a Gaussian of std ``sigma`` pixels and scaled by ``alpha`` pixels; the whole batch
    at once with one ``grid_sample``. Values stay in [0, 1]."""

    def __init__(self, alpha=34.0, sigma=4.0):
        if alpha < 0 or sigma <= 0:
            raise ValueError(f"alpha must be >= 0 and sigma > 0, got {alpha!r}, {sigma!r}")
        self.alpha, self.sigma = float(alpha), float(sigma)
        self._blur = {}

    def blur_matrix(self, size: int, device, dtype) -> torch.Tensor:
        """The Gaussian blur along one axis of ``size`` pixels as a ``(size, size)`` matrix: a convolution with
        the kernel truncated at 3 sigma and zero padding, done as one matrix product (much faster on the CPU than a
        one-channel ``conv2d``)."""
        key = (size, device, dtype)
        if key not in self._blur:
            r = int(3 * self.sigma)
            d = torch.arange(size, dtype=torch.float64)
            d = d[:, None] - d[None, :]
            k = torch.exp(-(d**2) / (2 * self.sigma**2)) * (d.abs() <= r)
            norm = torch.exp(-(torch.arange(-r, r + 1, dtype=torch.float64) ** 2) / (2 * self.sigma**2)).sum()
            self._blur[key] = (k / norm).to(device, dtype)
        return self._blur[key]

    def __call__(self, x):
        n, _, h, w = x.shape
        field = torch.rand(n * 2, 1, h, w, device=x.device, dtype=x.dtype) * 2 - 1
        field = self.blur_matrix(h, x.device, x.dtype) @ field @ self.blur_matrix(w, x.device, x.dtype)
        field = field.view(n, 2, h, w).permute(0, 2, 3, 1) * self.alpha
        scale = torch.tensor([2.0 / w, 2.0 / h], device=x.device, dtype=x.dtype)  # pixels -> grid units
        eye = torch.eye(2, 3, device=x.device, dtype=x.dtype).expand(n, 2, 3)
        grid = affine_grid(eye, h, w) + field * scale
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)

    def __repr__(self):
        return f"ElasticDistortion(alpha={self.alpha}, sigma={self.sigma})"


def RandomRotation(max_degrees=30.0):
    """Per-image random rotation by up to ``max_degrees`` either way."""
    return RandomAffine(max_degrees=max_degrees)


class Compose:
    """Apply corruptions in order."""

    def __init__(self, *steps):
        self.steps = [s for s in steps if s is not None]

    def __call__(self, x):
        for step in self.steps:
            x = step(x)
        return x

    def __repr__(self):
        return " + ".join(map(repr, self.steps)) or "identity"


@torch.no_grad()
def corrupt_fixed(corrupt, x, seed=0, batch_size=4096):
    """A reproducible corrupted copy of ``x`` (same seed, same output), leaving the global RNG untouched."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return torch.cat([corrupt(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])
