"""Sample quality with a small MNIST classifier: MNIST-FID, Inception Score, class shares, and their draw-to-draw
spread."""

from __future__ import annotations

import warnings
from functools import partial

import numpy as np
import pandas as pd
import torch
from scipy import linalg
from torch.fx.experimental.optimization import fuse as fx_fuse

from ..artifacts import load_or_train
from ..data import train_val_split
from ..models import SmallCNN
from ..runtime import check_positive, seed_everything, to_device
from ..runtime import device as pick_device
from ..training import fit_classifier
from .sampling import sample
from .training import from_gan_range


def frechet_distance(f1, f2) -> float:
    """Frechet distance between Gaussians fitted to two feature sets ``(n, d)``."""
    f1, f2 = np.asarray(f1, dtype=np.float64), np.asarray(f2, dtype=np.float64)
    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    with warnings.catch_warnings():  # near-singular covariances (tiny sample sets) are handled below
        warnings.simplefilter("ignore")
        covmean = linalg.sqrtm(s1 @ s2)
    if not np.isfinite(covmean).all():
        eps = np.eye(len(s1)) * 1e-6
        covmean = linalg.sqrtm((s1 + eps) @ (s2 + eps))
    covmean = covmean.real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def inception_score(probs, splits: int = 1) -> float:
    """exp(E_x KL(p(y|x) || p(y))) from class probabilities ``(n, classes)``, averaged over ``splits``."""
    probs = np.asarray(probs, dtype=np.float64)
    scores = []
    for part in np.array_split(probs, splits):
        py = part.mean(0, keepdims=True)
        kl = (part * (np.log(part + 1e-12) - np.log(py + 1e-12))).sum(1).mean()
        scores.append(np.exp(kl))
    return float(np.mean(scores))


def inference_features(clf):
    """``clf.features`` for inference. For a :class:`~helpers.models.SmallCNN` (in eval mode): a copy with each
    BatchNorm folded into the convolution before it (``torch.fx.experimental.optimization.fuse``), weights and inputs in
    channels-last memory; the same features up to float rounding, fewer passes over memory (``benchmarks/scoring.py``).
    Any other model: its own ``features``."""
    if not isinstance(clf, SmallCNN):
        return clf.features
    body = fx_fuse(clf.eval().body).to(memory_format=torch.channels_last)
    return lambda b: body(b.contiguous(memory_format=torch.channels_last))


@torch.no_grad()
def classifier_outputs(clf, images01, device=None, batch_size=256):
    """Penultimate features and softmax probabilities of ``clf`` (a SmallCNN) on images in [0, 1], through
    :func:`inference_features`, in batches of ``batch_size`` (small enough for the activations to stay in cache)."""
    check_positive("batch_size", batch_size, integer=True)
    dev = pick_device() if device is None else torch.device(device)
    to_device(clf, dev).eval()
    features = inference_features(clf)
    feats, probs = [], []
    for i in range(0, len(images01), batch_size):
        f = features(images01[i : i + batch_size].to(dev))
        feats.append(f.cpu())
        probs.append(torch.softmax(clf.out(f), 1).cpu())
    return torch.cat(feats).numpy(), torch.cat(probs).numpy()


def sample_quality(clf, images01, ref_features, device=None, confident=0.9) -> dict:
    """MNIST-FID against ``ref_features``, Inception Score, class histogram and confident fraction."""
    feats, probs = classifier_outputs(clf, images01, device)
    counts = np.bincount(probs.argmax(1), minlength=probs.shape[1])
    return {
        "fid": frechet_distance(feats, ref_features),
        "is": inception_score(probs),
        "confident": float((probs.max(1) >= confident).mean()),
        "min_class_share": float(counts.min() / counts.sum()),
        "class_counts": counts.tolist(),
    }


def scorer(clf, ref_features, n, *, seed=0, device=None):
    """``evaluate(G) -> {fid, is, confident, min_class_share}`` of ``n`` samples drawn with ``seed``, for
    :func:`train_gan`."""

    def evaluate(G):
        q = sample_quality(clf, from_gan_range(sample(G, n, seed=seed, device=device)), ref_features, device)
        return {k: v for k, v in q.items() if k != "class_counts"}

    return evaluate


def quality_of(G, clf, ref_features, n, *, eval_mode=True, seed=0, device=None) -> dict:
    """:func:`sample_quality` of ``n`` samples of ``G`` (drawn with ``seed``); ``eval_mode=False`` leaves dropout on."""
    return sample_quality(
        clf, from_gan_range(sample(G, n, seed=seed, device=device, eval_mode=eval_mode)), ref_features, device
    )


def load_or_train_scoring_cnn(path, x, y, *, epochs, seed=0, device=None, progress=True):
    """The :class:`~helpers.models.SmallCNN` that scores samples (FID features, IS probabilities), trained on 90% of
    ``x`` (validated on the rest) and cached at ``path``. Returns ``(model, history, loaded)``."""
    tr, va = train_val_split(y.numpy(), 0.1, seed=seed)

    def train():
        seed_everything(seed)
        clf = SmallCNN()
        hist = fit_classifier(
            clf,
            x[tr],
            y[tr],
            x[va],
            y[va],
            epochs=epochs,
            lr=2e-3,
            batch_size=128,
            schedule="onecycle",
            seed=seed,
            device=device,
            progress=progress,
            desc="scoring CNN",
        )
        return clf, hist

    return load_or_train(path, {"epochs": epochs, "n": len(x), "seed": seed}, train)


def draw_spread(G, clf, ref_features, n, seeds, device=None) -> pd.DataFrame:
    """:func:`sample_quality` of ``n`` samples of ``G`` for each draw seed in ``seeds`` (one row each, no class counts):
    how much FID and IS move from one draw of samples to the next."""
    rows = {s: quality_of(G, clf, ref_features, n, seed=s, device=device) for s in seeds}
    out = pd.DataFrame({s: {k: v for k, v in q.items() if k != "class_counts"} for s, q in rows.items()}).T.rename_axis(
        "draw seed"
    )
    out.attrs["n"] = n
    return out.astype(float)


def draw_spreader(clf, ref_features, n, *, draws, seed=0, device=None):
    """``spread_of(G)``: :func:`draw_spread` of ``G`` over ``draws`` draws of ``n`` samples (draw seeds from ``seed``),
    the measurement :func:`recipe_study` makes of each run and :func:`train_gan`'s ``spread_at`` of the main run."""
    check_positive("draws", draws, integer=True)
    return partial(draw_spread, clf=clf, ref_features=ref_features, n=n, seeds=range(seed, seed + draws), device=device)


def quality_table(
    G, log: dict, clf, ref_features, real: dict, n: int, *, seed=0, device=None
) -> tuple[pd.DataFrame, dict, torch.Tensor]:
    """Sample quality (:func:`sample_quality`, ``n`` samples drawn with ``seed``) of the real data (``real``), the final
    generator ``G`` and, if it has dropout, ``G`` with dropout left on; and, from the training log's last evaluation
    (its own samples), the
    last epoch's weight-averaged (EMA) and raw generators. Returns ``(table, the final generator's quality, its samples
    in [-1, 1])``."""
    samples = sample(G, n, seed=seed, device=device)
    final = sample_quality(clf, from_gan_range(samples), ref_features, device)
    ep = log["epochs"].dropna(subset=["fid"])
    ema = "fid_raw" in ep  # with EMA, the log's plain columns are the averaged generator's, *_raw the raw one's
    rows = {
        "real data (train vs test)": real,
        f"GAN final: {'EMA' if ema else 'raw'} weights, best-FID epoch {log['best_epoch']}": final,
    }
    if len(ep):
        last = ep.iloc[-1]
        cols = ["fid", "is", "confident", "min_class_share"]
        if ema:
            rows[f"GAN, EMA weights, last epoch {int(last.epoch)} (training log)"] = {c: last[c] for c in cols}
        rows[f"GAN, raw weights, last epoch {int(last.epoch)} (training log)"] = {
            c: last[f"{c}_raw" if ema else c] for c in cols
        }
    if G.config.get("dropout", 0) > 0:  # a generator trained with dropout: what evaluating with it off changes
        rows["GAN final, dropout left on"] = quality_of(
            G, clf, ref_features, n, eval_mode=False, seed=seed, device=device
        )
    return pd.DataFrame(rows).T, final, samples
