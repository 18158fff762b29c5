"""Classical baselines: PCA reconstruction / projection denoising."""
from __future__ import annotations

import numpy as np
import torch
from sklearn.decomposition import PCA


def fit_pca(train_x: torch.Tensor, n_components: int, seed: int = 0) -> PCA:
    """PCA on flattened training images."""
    return PCA(n_components=n_components, random_state=seed).fit(train_x.reshape(len(train_x), -1).numpy())


def pca_reconstruct(pca: PCA, x: torch.Tensor) -> torch.Tensor:
    """Project ``x`` onto the PCA subspace and back, clipped to [0, 1]."""
    flat = x.reshape(len(x), -1).numpy()
    out = pca.inverse_transform(pca.transform(flat))
    return torch.from_numpy(np.clip(out, 0, 1).astype(np.float32)).reshape(x.shape)
