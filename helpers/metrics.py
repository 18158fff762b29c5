"""Image-quality metrics on batches ``(N, 1, H, W)`` in [0, 1]: MSE, PSNR, SSIM (per image, batched)."""

from __future__ import annotations

import torch
from torch.nn import functional as F


def mse(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-image mean squared error."""
    return ((a - b) ** 2).flatten(1).mean(1)


def psnr(a: torch.Tensor, b: torch.Tensor, data_range: float = 1.0, eps: float = 1e-10) -> torch.Tensor:
    """Per-image peak signal-to-noise ratio in dB."""
    return 10 * torch.log10(data_range**2 / (mse(a, b) + eps))


def ssim(a: torch.Tensor, b: torch.Tensor, data_range: float = 1.0, win_size: int = 7) -> torch.Tensor:
    """Per-image structural similarity, matching ``skimage.metrics.structural_similarity`` with its
    defaults (7x7 uniform window, K1=0.01, K2=0.03, sample covariance, borders cropped), batched."""
    if a.shape != b.shape or a.ndim != 4:
        raise ValueError(f"ssim needs two (N, C, H, W) tensors of one shape, got {tuple(a.shape)} and {tuple(b.shape)}")
    a, b = a.double(), b.double()

    def filt(t):  # 'valid' uniform windows == skimage's cropped mean
        return F.avg_pool2d(t, win_size, stride=1)

    n = win_size**2
    cov_norm = n / (n - 1)
    ux, uy = filt(a), filt(b)
    vx = cov_norm * (filt(a * a) - ux * ux)
    vy = cov_norm * (filt(b * b) - uy * uy)
    vxy = cov_norm * (filt(a * b) - ux * uy)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux**2 + uy**2 + c1) * (vx + vy + c2))
    return s.flatten(1).mean(1).float()


def quality_table(estimate: torch.Tensor, clean: torch.Tensor) -> dict:
    """Mean MSE, PSNR (dB) and SSIM of ``estimate`` against ``clean``."""
    return {
        "mse": mse(estimate, clean).mean().item(),
        "psnr": psnr(estimate, clean).mean().item(),
        "ssim": ssim(estimate, clean).mean().item(),
    }
