"""Classical baselines: PCA reconstruction / projection denoising, Gaussian blur, median filter."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.decomposition import PCA
from torch.nn import functional as F
from torchvision.transforms.v2 import functional as TF


def fit_pca(train_x: torch.Tensor, n_components: int, seed: int = 0) -> PCA:
    """PCA on flattened training images."""
    return PCA(n_components=n_components, random_state=seed).fit(train_x.reshape(len(train_x), -1).numpy())


def pca_reconstruct(pca: PCA, x: torch.Tensor, n_components: int | None = None) -> torch.Tensor:
    """Project ``x`` onto the first ``n_components`` (default all) PCA axes and back, clipped to [0, 1]."""
    k = pca.n_components_ if n_components is None else n_components
    flat = x.reshape(len(x), -1).numpy() - pca.mean_
    comps = pca.components_[:k]
    out = (flat @ comps.T) @ comps + pca.mean_
    return torch.from_numpy(np.clip(out, 0, 1).astype(np.float32)).reshape(x.shape)


def gaussian_blur(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Gaussian blur with standard deviation ``sigma`` pixels (kernel of +-3 sigma)."""
    if sigma <= 0:
        return x.clone()
    k = 2 * int(np.ceil(3 * sigma)) + 1
    return TF.gaussian_blur(x, kernel_size=[k, k], sigma=[sigma, sigma])


def median_filter(x: torch.Tensor, size: int = 3) -> torch.Tensor:
    """Median over ``size x size`` neighbourhoods (reflect padding), batched."""
    pad = size // 2
    padded = F.pad(x, (pad, pad, pad, pad), mode="reflect")
    patches = padded.unfold(2, size, 1).unfold(3, size, 1)
    return patches.reshape(*x.shape, size * size).median(-1).values


def choose_by_validation(candidates, apply, noisy_val, clean_val):
    """The candidate parameter whose ``apply(noisy_val, p)`` has the lowest MSE against ``clean_val``."""
    scores = {p: torch.mean((apply(noisy_val, p) - clean_val) ** 2).item() for p in candidates}
    return min(scores, key=scores.get), scores
