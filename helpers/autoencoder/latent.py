"""Latent-space analysis: encodings as a table, 2-D embeddings, class separation, sampling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from sklearn.metrics import confusion_matrix, silhouette_score
from sklearn.neighbors import KNeighborsClassifier

from ..training import predict


def encode(model, x, **kw) -> torch.Tensor:
    """Latent codes of ``x`` under an :class:`~helpers.models.Autoencoder`."""
    return predict(model, x, fn=lambda m, b: m.encode(b), **kw)


def latent_table(z, labels) -> pd.DataFrame:
    """One row per image: columns ``z1..zd`` and ``label``."""
    z = np.asarray(z)
    df = pd.DataFrame(z, columns=[f"z{i + 1}" for i in range(z.shape[1])])
    df["label"] = np.asarray(labels)
    return df


def pca_2d(z_train, z_test=None, seed=0):
    """Fit a 2-component PCA on ``z_train``; return ``(pca, train_2d, test_2d)``."""
    pca = PCA(n_components=2, random_state=seed).fit(np.asarray(z_train))
    return pca, pca.transform(np.asarray(z_train)), None if z_test is None else pca.transform(np.asarray(z_test))


def tsne_2d(z, seed=0, perplexity=30.0) -> np.ndarray:
    """t-SNE of ``z`` to 2-D (PCA initialisation, seeded)."""
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(np.asarray(z))


def separation_scores(z_train, y_train, z_test, y_test, *, k=5, seed=0, silhouette_sample=5000) -> pd.DataFrame:
    """Silhouette score (test codes, by label) and k-NN accuracy (fit on train, scored on test),
    for the full latent and its 2-D PCA projection (fitted on train)."""
    z_train, z_test = np.asarray(z_train), np.asarray(z_test)
    y_train, y_test = np.asarray(y_train), np.asarray(y_test)
    _, p_train, p_test = pca_2d(z_train, z_test, seed)
    rows = []
    for name, tr, te in (("full latent", z_train, z_test), ("PCA-2", p_train, p_test)):
        knn = KNeighborsClassifier(n_neighbors=k).fit(tr, y_train)
        rows.append(
            {
                "space": name,
                "dims": tr.shape[1],
                "silhouette": silhouette_score(
                    te, y_test, sample_size=min(silhouette_sample, len(te)), random_state=seed
                ),
                f"{k}-NN accuracy": knn.score(te, y_test),
            }
        )
    return pd.DataFrame(rows).set_index("space")


def tsne_subset(z, n: int, seed=0) -> tuple[np.ndarray, np.ndarray]:
    """t-SNE of a random subset of ``min(n, len(z))`` codes; returns ``(indices, embedding)``."""
    idx = np.random.default_rng(seed).choice(len(z), size=min(n, len(z)), replace=False)
    return idx, tsne_2d(np.asarray(z)[idx], seed=seed)


def confused_pairs(z_train, y_train, z_test, y_test, *, k=5, top=3) -> list[tuple[int, int, int]]:
    """The ``top`` digit pairs that a ``k``-NN rule on the codes confuses most on the test set, as
    ``(test images confused either way, digit a, digit b)``, most confused first."""
    pred = KNeighborsClassifier(n_neighbors=k).fit(np.asarray(z_train), np.asarray(y_train)).predict(np.asarray(z_test))
    cm = confusion_matrix(np.asarray(y_test), pred, labels=list(range(10)))
    pairs = [(int(cm[i, j] + cm[j, i]), i, j) for i in range(10) for j in range(i + 1, 10)]
    return sorted(pairs, reverse=True)[:top]


@torch.no_grad()
def interpolate(model, a, b, steps=8):
    """Decode ``steps`` points on the straight line between the codes of images ``a`` and ``b``."""
    model.eval().cpu()
    za, zb = model.encode(a[None]), model.encode(b[None])
    t = torch.linspace(0, 1, steps)[:, None]
    return model.decoder(za + t * (zb - za))


@torch.no_grad()
def sample_gaussian(model, z_train, n=32, seed=0):
    """Decode ``n`` codes drawn from a full-covariance Gaussian fitted to ``z_train``."""
    z = torch.as_tensor(np.asarray(z_train), dtype=torch.float64)
    mean, cov = z.mean(0), torch.cov(z.T)
    dist = torch.distributions.MultivariateNormal(
        mean, covariance_matrix=cov + 1e-6 * torch.eye(len(mean), dtype=z.dtype)
    )
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        samples = dist.sample((n,)).float()
    model.eval().cpu()
    return model.decoder(samples)
