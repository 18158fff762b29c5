"""Figures: every plot helper returns its figure; ``save_figure`` writes PNGs to ``figures/``."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import matplotlib.ticker as mticker
import numpy as np
import pandas as pd
import seaborn as sns
import torch

from .autoencoder.halving import promotable

sns.set_theme(style="whitegrid", context="notebook")


def save_figure(fig, name: str, figures_dir) -> Path:
    """Save ``fig`` as ``figures_dir/name.png`` (150 dpi, tight) and return the path."""
    path = Path(figures_dir) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=150, bbox_inches="tight")
    return path


def _img(t):
    t = t.detach().cpu()
    return t.reshape(t.shape[-2], t.shape[-1]).numpy() if isinstance(t, torch.Tensor) else t


def image_rows(rows: dict, col_titles=None, title=None, scale=1.0, vmin=0.0, vmax=1.0):
    """A grid with one row per entry of ``rows`` (row label -> images ``(n, 1, 28, 28)``)."""
    n_rows, n_cols = len(rows), max(len(v) for v in rows.values())
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(scale * 1.1 * n_cols, scale * 1.2 * n_rows + 0.4), squeeze=False)
    for r, (label, imgs) in enumerate(rows.items()):
        for c in range(n_cols):
            ax = axes[r, c]
            ax.set_xticks([]), ax.set_yticks([])
            ax.grid(False)
            if c < len(imgs):
                ax.imshow(_img(imgs[c]), cmap="gray_r", vmin=vmin, vmax=vmax)
            else:
                ax.axis("off")
            if c == 0:
                ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=10)
            if r == 0 and col_titles is not None and c < len(col_titles):
                ax.set_title(str(col_titles[c]), fontsize=9)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def image_grid(images, nrow: int, title=None, labels=None, vmin=0.0, vmax=1.0, scale=1.0, label_colors=None):
    """Images ``(n, 1, 28, 28)`` in a grid of ``nrow`` rows, with an optional caption per image."""
    n = len(images)
    ncol = -(-n // nrow)
    fig, axes = plt.subplots(
        nrow, ncol, figsize=(scale * 1.0 * ncol, scale * (1.05 if labels is None else 1.25) * nrow + 0.5), squeeze=False
    )
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(_img(images[i]), cmap="gray_r", vmin=vmin, vmax=vmax)
            if labels is not None:
                ax.set_title(str(labels[i]), fontsize=8, color="black" if label_colors is None else label_colors[i])
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def predicted_digits(x, pred, y, idx, title, nrow=4, colour=True):
    """A grid of the images ``x[idx]`` labelled "pred P / true T" (green when right, red when wrong)."""
    pairs = list(zip(pred[idx].tolist(), y[idx].tolist()))
    return image_grid(
        x[idx],
        nrow=nrow,
        labels=[f"pred {p} / true {t}" for p, t in pairs],
        title=title,
        label_colors=["green" if p == t else "red" for p, t in pairs] if colour else None,
    )


def cv_heatmap(
    summary: pd.DataFrame, value="val_mse_mean", std="val_mse_std", title="Mean validation MSE over folds (± std)"
):
    """Heatmap of the CV summary over (learning rate, latent dim) with ``mean ± std`` in each cell; a summary
    with rungs (successive halving) shows each point at its last rung, with that rung's epochs."""
    if "rung" in summary:
        summary = summary.sort_values("rung").groupby(["lr", "latent_dim"]).tail(1)
    mean = summary.pivot(index="lr", columns="latent_dim", values=value)
    sd = summary.pivot(index="lr", columns="latent_dim", values=std)
    annot = mean.map(lambda v: f"{v:.4f}") + "\n± " + sd.map(lambda v: f"{v:.4f}")
    if "epochs" in summary:
        annot = (
            annot + "\n" + summary.pivot(index="lr", columns="latent_dim", values="epochs").map(lambda v: f"{v:g} ep")
        )
    fig, ax = plt.subplots(figsize=(1.6 * mean.shape[1] + 2, 1.1 * mean.shape[0] + 1.5))
    sns.heatmap(
        np.log10(mean),
        annot=annot.values,
        fmt="",
        cmap="viridis_r",
        ax=ax,
        cbar_kws={"label": f"log10({value})"},
        annot_kws={"fontsize": 8},
    )
    ax.set_xlabel("latent dimension")
    ax.set_ylabel("learning rate")
    ax.set_yticklabels([f"{v:g}" for v in mean.index], rotation=0)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def cv_lines(summary: pd.DataFrame, title="Validation MSE vs latent dimension"):
    """Mean validation MSE (error bars: std over folds) vs latent dim, one line per learning rate."""
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for lr, g in summary.groupby("lr"):
        ax.errorbar(
            g["latent_dim"], g["val_mse_mean"], yerr=g["val_mse_std"], marker="o", capsize=3, label=f"lr = {lr:g}"
        )
    ax.set_yscale("log")
    ax.set_xlabel("latent dimension")
    ax.set_ylabel("validation MSE (mean over folds)")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    return fig


def halving_curves(summary: pd.DataFrame, title="Successive halving: validation MSE at each rung"):
    """Mean validation MSE (error bars: std) over the folds that trained, against the epochs of each rung, one line
    per grid point, as the search ranked them: a point's line ends at the last rung it reached. Points with half or more
    folds collapsed to the mean image (dropped at that rung) are hollow markers at their mean over all folds, without a
    line. Colour: learning rate; marker: latent size."""
    fig, ax = plt.subplots(figsize=(8.5, 5))
    lrs, dims = sorted(summary["lr"].unique()), sorted(summary["latent_dim"].unique())
    colors = dict(zip(lrs, sns.color_palette("deep", len(lrs))))
    markers = dict(zip(dims, "osD^vP*X"))
    mean = summary.get("val_mse_mean_trained", summary["val_mse_mean"])
    std = summary.get("val_mse_std_trained", summary["val_mse_std"])
    failed = ~promotable(summary.assign(val_mse_mean_trained=mean))  # dropped: a diverged fold or most folds collapsed
    for (lr, d), g in summary.sort_values("epochs").groupby(["lr", "latent_dim"]):
        ok = ~failed[g.index] & np.isfinite(mean[g.index])
        label = f"lr {lr:g}, d = {d}"
        if ok.any():
            ax.errorbar(
                g["epochs"][ok],
                mean[g.index][ok],
                yerr=std[g.index][ok].fillna(0),
                color=colors[lr],
                marker=markers[d],
                capsize=3,
                label=label,
                alpha=0.9,
            )
        if (~ok).any():
            ax.scatter(
                g["epochs"][~ok],
                g["val_mse_mean"][~ok],
                facecolors="none",
                edgecolors=colors[lr],
                marker=markers[d],
                label=None if ok.any() else f"{label} (most folds collapsed)",
            )
    ax.set_xscale("log")
    ax.set_yscale("log")
    epochs = sorted(summary["epochs"].unique())
    ax.set_xticks(epochs, [f"{e:g}" for e in epochs])
    ax.xaxis.set_minor_locator(mticker.NullLocator())
    ax.set_xlabel("epochs of the rung (each run trains from scratch with the final recipe)")
    ax.set_ylabel("validation MSE (mean over the folds that trained)")
    ax.set_title(title)
    ax.legend(fontsize=7, ncol=1, bbox_to_anchor=(1.02, 1), loc="upper left")
    fig.tight_layout()
    return fig


def history(hist: pd.DataFrame, pairs, title="Learning curves", logy=False):
    """Per-epoch curves; ``pairs`` maps panel title -> list of history columns."""
    fig, axes = plt.subplots(1, len(pairs), figsize=(5.5 * len(pairs), 3.8), squeeze=False)
    for ax, (panel, cols) in zip(axes[0], pairs.items()):
        for col in cols:
            if col in hist:
                ax.plot(hist["epoch"], hist[col], marker=".", label=col.replace("_", " "))
        ax.set_xlabel("epoch")
        ax.set_ylabel(panel)
        if logy:
            ax.set_yscale("log")
        ax.legend()
    fig.suptitle(title)
    fig.tight_layout()
    return fig


def embedding(ax, xy, labels, title, s=3):
    """Scatter of a 2-D embedding coloured by digit label, with a legend."""
    labels = np.asarray(labels)
    palette = sns.color_palette("tab10", 10)
    for d in range(10):
        m = labels == d
        ax.scatter(xy[m, 0], xy[m, 1], s=s, color=palette[d], label=str(d), alpha=0.6, linewidths=0)
    ax.set_title(title)
    ax.legend(title="digit", markerscale=4, fontsize=8, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return ax


def latent_2d(pca_xy, pca_labels, tsne_xy, tsne_labels, latent_dim: int):
    """Two panels: the PCA and the t-SNE embedding of test codes, coloured by digit."""
    fig, axes = plt.subplots(1, 2, figsize=(14, 5.5))
    embedding(axes[0], pca_xy, pca_labels, f"PCA of the {latent_dim}-D test codes")
    embedding(axes[1], tsne_xy, tsne_labels, f"t-SNE of {len(tsne_xy):,} test codes")
    for ax, name in zip(axes, ("PC", "t-SNE ")):
        ax.set_xlabel(f"{name}1")
        ax.set_ylabel(f"{name}2")
    fig.tight_layout()
    return fig


def confusion(y_true, y_pred, title="Confusion matrix on the test set"):
    """Heatmap of the confusion matrix (counts). Returns ``(fig, per-class accuracy as a Series)``."""
    from sklearn.metrics import confusion_matrix

    cm = confusion_matrix(np.asarray(y_true), np.asarray(y_pred), labels=list(range(10)))
    fig, ax = plt.subplots(figsize=(7.5, 6))
    sns.heatmap(cm, annot=True, fmt="d", cmap="Blues", ax=ax, cbar_kws={"label": "test images"})
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("true digit")
    ax.set_title(title)
    fig.tight_layout()
    return fig, pd.Series(cm.diagonal() / cm.sum(1), name="accuracy").rename_axis("digit")


def label_efficiency(table: pd.DataFrame, title="Label efficiency: pretrained vs from scratch"):
    """Test accuracy (mean ± std over seeds) against the number of labels, one line per (recipe, init)."""
    fig, ax = plt.subplots(figsize=(7.5, 4.8))
    colors = {"pretrained": "C0", "scratch": "C1"}
    for (recipe, init), g in table.groupby(["recipe", "init"], sort=False):
        st = g.groupby("labels")["test_acc"].agg(["mean", "std"]).fillna(0)
        ax.errorbar(
            st.index,
            100 * st["mean"],
            yerr=100 * st["std"],
            marker="o",
            capsize=3,
            color=colors.get(init),
            ls="-" if recipe == "augmented" else "--",
            label=f"{'pretrained encoder (fine-tuned)' if init == 'pretrained' else 'random initialisation'}, {recipe}",
        )
    ax.set_xscale("log")
    ax.set_xlabel("number of labelled training images")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(title)
    ax.legend(fontsize=9)
    fig.tight_layout()
    return fig


def psnr_vs_sigma(quality: pd.DataFrame, highlight=(), title="Denoising quality vs noise level (test set, noise only)"):
    """PSNR against the noise level of the noise-only settings (``noise σ=<s>``) of a quality table, one line
    per method; the methods in ``highlight`` are drawn thicker."""
    noise_only = quality[quality.setting.str.fullmatch(r"noise σ=[0-9.]+")].copy()
    noise_only["sigma"] = noise_only.setting.str.extract(r"σ=([0-9.]+)")[0].astype(float)
    fig, ax = plt.subplots(figsize=(9.5, 4.5))
    for method, g in noise_only.groupby("method", sort=False):
        ax.plot(g["sigma"], g["psnr"], marker="o", label=method, lw=2.5 if method in highlight else 1.5)
    ax.set_xlabel("noise standard deviation σ")
    ax.set_ylabel("PSNR (dB), higher is better")
    ax.set_title(title)
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)  # outside: the lines stay visible
    fig.tight_layout()
    return fig


def gan_losses(iters: pd.DataFrame, points: int = 200):
    """Generator/discriminator losses and D's outputs on real and generated batches against the iteration (the
    ``iteration`` column when the log holds means over blocks of iterations), smoothed by a moving average over
    ``len(iters) // points`` rows."""
    fig, axes = plt.subplots(1, 2, figsize=(13, 4))
    w = max(1, len(iters) // points)
    x = iters["iteration"].values if "iteration" in iters else np.arange(1, len(iters) + 1)
    per_row = (x[-1] / len(x)) if len(x) else 1
    for ax, cols, ylabel in (
        (axes[0], {"g_loss": "generator", "d_loss": "discriminator"}, "BCE loss"),
        (axes[1], {"d_real": "D(x), real", "d_fake": "D(G(z)), generated"}, "discriminator output"),
    ):
        for col, label in cols.items():
            ax.plot(x, iters[col].rolling(w).mean().values, label=label)
        ax.set_xlabel("iteration")
        ax.set_ylabel(ylabel)
        ax.legend()
    fig.suptitle(f"GAN training, per iteration (moving average over {w * per_row:,.0f} iterations)")
    fig.tight_layout()
    return fig


def fid_is_curves(curves: dict, title: str, real: dict | None = None):
    """MNIST-FID and Inception Score against the epoch, one line per ``label -> table with epoch, fid, is`` (a dashed
    line per label with ``fid_raw``/``is_raw`` columns: the raw generator), and ``real``'s values as a reference."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.4))
    for ax, col, name in ((axes[0], "fid", "MNIST-FID (log scale)"), (axes[1], "is", "Inception Score")):
        for (label, t), marker in zip(curves.items(), "osD^v"):
            ax.plot(t.epoch, t[col], marker=marker, label=label)
            if f"{col}_raw" in t:
                ax.plot(t.epoch, t[f"{col}_raw"], marker="s", ls=":", label="raw generator")
        if real is not None:
            ax.axhline(real[col], ls="--", c="gray", label="real data")
        ax.set_xlabel("epoch")
        ax.set_ylabel(name)
        ax.set_title("lower is better" if col == "fid" else "higher is better", fontsize="medium")
    axes[0].set_yscale("log")  # FID falls over orders of magnitude, down to real data's few units
    handles, labels = axes[0].get_legend_handles_labels()  # one legend under both panels: labels may be long
    rows = -(-len(labels) // 2)
    fig.legend(handles, labels, loc="lower center", ncol=2, frameon=False)
    fig.suptitle(title)
    fig.tight_layout(rect=(0, 0.07 * rows, 1, 1))
    return fig


def class_histogram(counts, title=None):
    """Share of samples per predicted class, with the uniform 10% and a 5% line."""
    counts = np.asarray(counts)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.bar(range(len(counts)), counts / counts.sum() * 100)
    ax.axhline(100 / len(counts), ls="--", c="gray", label=f"uniform ({100 / len(counts):.0f}%)")
    ax.axhline(5, ls=":", c="red", label="5%")
    ax.set_xticks(range(len(counts)))
    ax.set_xlabel("predicted digit")
    ax.set_ylabel("% of samples")
    ax.legend()
    ax.set_title(title or f"Classes of {counts.sum():,} generated samples (scoring CNN)")
    return fig


def semisupervised_curves(histories: dict, title="Semi-supervised training (FixMatch)"):
    """Test accuracy of the averaged model and the share of unlabelled images above the threshold against the
    step, one line per run (``{(labels, init, subset): history}``), coloured by (labels, init)."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    groups = sorted({(n, init) for n, init, _ in histories})
    colors = {g: f"C{i}" for i, g in enumerate(groups)}
    for (n, init, subset), h in sorted(histories.items()):
        label = f"{n} labels, {'pretrained' if init == 'pretrained' else 'random init'}" if subset == 0 else None
        kw = dict(color=colors[(n, init)], lw=1.2, alpha=0.9, label=label)
        axes[0].plot(h["step"], 100 * h["eval_acc"], **kw)
        axes[1].plot(h["step"], 100 * h["mask_rate"], **kw)
    axes[0].set_ylim(80, 100)
    axes[0].set_ylabel("test accuracy of the averaged model (%)")
    axes[1].set_ylabel("unlabelled images above the threshold (%)")
    for ax in axes:
        ax.set_xlabel("training step")
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=9, loc="lower right")
    fig.suptitle(title)
    fig.tight_layout()
    return fig
