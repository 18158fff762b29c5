"""Notebook 01's final models: the CV's pick retrained on all training images (and the comparisons beside it),
and how they score on the test set."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import torch

from .artifacts import load_or_train_autoencoder
from .baselines import fit_pca, pca_reconstruct
from .models import HOMEWORK_CHANNELS, HOMEWORK_HIDDEN
from .parallel import parallel_map
from .training import dead_units, reconstruction_mse


def final_model_jobs(pick_dim: int, compare_dim: int | None, revive) -> list[tuple[int, float | None]]:
    """The ``(latent_dim, revive)`` of every final model: the pick, the homework report's size ``compare_dim`` when it
    differs, and (when ``revive`` is on) ``compare_dim`` (else the pick) without reviving, for the ablation."""
    dims = [pick_dim] + ([compare_dim] if compare_dim not in (None, pick_dim) else [])
    return [(d, revive) for d in dims] + ([(compare_dim or pick_dim, None)] if revive else [])


def final_model_path(results_dir, latent_dim: int, revive, pick_dim: int, pick_revive) -> Path:
    """``autoencoder.pt`` for the pick, ``autoencoder_d{d}.pt`` for another size trained the same way,
    ``autoencoder_d{d}_no_revive.pt`` for the ablation."""
    name = (
        "autoencoder"
        if latent_dim == pick_dim and revive == pick_revive
        else f"autoencoder_d{latent_dim}"
        if revive == pick_revive
        else f"autoencoder_d{latent_dim}_no_revive"
    )
    return Path(results_dir) / f"{name}.pt"


def _train_final(job):
    (latent_dim, revive), path, x_train, x_eval, kw = job
    return load_or_train_autoencoder(path, x_train, x_eval, latent_dim=latent_dim, revive=revive, **kw)


def load_or_train_final_models(
    results_dir,
    x_train,
    x_eval,
    *,
    pick_dim,
    compare_dim,
    lr,
    epochs,
    batch_size,
    revive=None,
    channels=HOMEWORK_CHANNELS,
    hidden=HOMEWORK_HIDDEN,
    loss="mse",
    seed=0,
    device=None,
    n_jobs=1,
    progress=True,
) -> dict:
    """Every model of :func:`final_model_jobs`, each loaded when saved with the same settings, else trained with
    the final recipe (one-cycle peaking at ``lr``, ``epochs``, ``batch_size``, training ``loss``; widths ``channels``,
    ``hidden``) and
    saved under ``results_dir``; side by side in ``n_jobs`` single-thread processes. Returns ``{(latent_dim, revive):
    (model, history, loaded)}``."""
    jobs = final_model_jobs(pick_dim, compare_dim, revive)
    kw = dict(
        lr=lr,
        epochs=epochs,
        batch_size=batch_size,
        channels=channels,
        hidden=hidden,
        loss=loss,
        seed=seed,
        device=device,
        results_dir=results_dir,
        progress=progress and (n_jobs == 1 or len(jobs) == 1),
    )
    work = [(job, final_model_path(results_dir, *job, pick_dim, revive), x_train, x_eval, kw) for job in jobs]
    return dict(zip(jobs, parallel_map(_train_final, work, n_jobs=n_jobs)))


def _pca_mse(x_train, x_test, k, seed):
    return torch.mean((pca_reconstruct(fit_pca(x_train, k, seed=seed), x_test) - x_test) ** 2).item()


def compare_final_models(finals: dict, x_train, x_test, *, pick_dim, revive, seed=0, device=None) -> pd.DataFrame:
    """Test MSE of every final model of :func:`load_or_train_final_models` (and of PCA with as many components
    for the revived ones), one row each: ``latent_dim, chosen by (our CV / the homework report / ablation), revive,
    test_mse, pca_test_mse, lowest`` (``lowest``: the row with the lowest test MSE)."""
    rows = []
    for (d, rv), (model, _, _) in finals.items():
        role = "ablation" if rv != revive else "our CV" if d == pick_dim else "homework report"
        rows.append(
            {
                "latent_dim": d,
                "chosen by": role,
                "revive": rv,
                "test_mse": reconstruction_mse(model, x_test, device=device),
                "pca_test_mse": _pca_mse(x_train, x_test, d, seed) if rv == revive else float("nan"),
            }
        )
    table = pd.DataFrame(rows)
    return table.assign(lowest=table.index == table["test_mse"].idxmin())


def reviving_table(plain, revived, x) -> pd.DataFrame:
    """Per ReLU layer: units never active on ``x`` in the ``plain`` and the ``revived`` model (counts and shares)."""
    a, b = dead_units(plain, x), dead_units(revived, x)
    return a.rename(columns={"dead": "dead, plain", "dead_share": "share, plain"}).join(
        b[["dead", "dead_share"]].rename(columns={"dead": "dead, revived", "dead_share": "share, revived"})
    )


def describe_pick(comparison: pd.DataFrame, summary: pd.DataFrame, lr: float) -> str:
    """Markdown: whether the CV's pick (row 0 of :func:`compare_final_models`, trained at ``lr``) has the lowest
    test MSE of the final models, and if not, why: an ablation of the recipe that wins, or another size that the
    CV (``summary`` of a halving search) dropped at a short rung or scored within its spread over folds."""
    pick, lowest = comparison.iloc[0], comparison[comparison.lowest].iloc[0]
    text = (
        f"Of the {len(comparison)} final models trained here, the lowest test MSE is **{lowest['test_mse']:.5f}** "
        f"(d = {int(lowest['latent_dim'])}, {lowest['chosen by']}): the CV's pick "
    )
    if lowest.name == pick.name:
        return text + "**is** the best of them."
    text += f"is {100 * (pick['test_mse'] / lowest['test_mse'] - 1):.1f}% behind it. "
    if lowest["chosen by"] == "ablation":
        return (
            text + "That model differs from the pick in its recipe, not in a grid setting, so the CV did not score it."
        )
    at_lr = summary[summary.lr == lr]
    mine = at_lr[at_lr.latent_dim == pick.latent_dim].sort_values("rung")
    other = at_lr[at_lr.latent_dim == lowest.latent_dim].sort_values("rung")
    if other.empty:
        return text + f"The CV did not score d = {int(lowest['latent_dim'])} at the pick's learning rate."
    o = other.iloc[-1]
    m = mine[mine.rung == o.rung].iloc[0]
    gap = (o.val_mse_mean - m.val_mse_mean) / max(o.val_mse_std, m.val_mse_std)
    where = (
        f"the last rung ({int(o.epochs)} epochs)"
        if o.rung == mine.rung.max()
        else f"rung {int(o.rung)} ({int(o.epochs)} epochs), where it dropped out,"
    )
    why = (
        "within the spread over folds, so the cross-validation cannot tell the two apart"
        if abs(gap) < 1
        else "the short rung ranked the two otherwise than full training does"
        if o.rung < mine.rung.max()
        else "the folds and the test set disagree by more than the folds' spread"
    )
    return text + (
        f"At {where} the CV scored d = {int(lowest['latent_dim'])} at {o.val_mse_mean:.5f} "
        f"± {o.val_mse_std:.5f} against the pick's {m.val_mse_mean:.5f} ± {m.val_mse_std:.5f}, {gap:.1f} standard "
        f"deviations of the folds apart: {why}."
    )


def comparison_metrics(comparison: pd.DataFrame) -> dict:
    """The results-file entries of :func:`compare_final_models`: the homework report's size (when trained), whether the
    pick
    has the lowest test MSE, and the ablation without reviving (when trained)."""
    out = {"pick_is_lowest_test_mse": bool(comparison.lowest.iloc[0])}
    seed_row = comparison[comparison["chosen by"] == "homework report"]
    if len(seed_row):
        r = seed_row.iloc[0]
        out.update(
            compare_latent_dim=int(r.latent_dim),
            compare_test_mse=float(r.test_mse),
            compare_pca_test_mse=float(r.pca_test_mse),
        )
    ab = comparison[comparison["chosen by"] == "ablation"]
    if len(ab):
        out.update(no_revive_latent_dim=int(ab.latent_dim.iloc[0]), no_revive_test_mse=float(ab.test_mse.iloc[0]))
    return out


def describe_reviving(comparison: pd.DataFrame, finals: dict, x, revive, epochs: int) -> tuple[str, pd.DataFrame]:
    """The ablation of :func:`compare_final_models`: dead units per layer on ``x`` with and without reviving at the
    same size (:func:`reviving_table`), and a Markdown sentence with the totals and both test MSEs."""
    ab = comparison[comparison["chosen by"] == "ablation"].iloc[0]
    d, mse_plain = int(ab.latent_dim), ab.test_mse
    mse_revived = comparison[(comparison.latent_dim == d) & (comparison["chosen by"] != "ablation")].test_mse.iloc[0]
    revived, hist, _ = finals[(d, revive)]
    units = reviving_table(finals[(d, None)][0], revived, x)
    text = (
        f"At d = {d}: **{int(units['dead, plain'].sum())}** of {int(units['units'].sum())} units are dead after plain "
        f"training and **{int(units['dead, revived'].sum())}** with reviving ({int(hist['revived'].sum())} "
        f"re-initialisations over the first {int(revive * epochs)} epochs); test MSE {mse_plain:.5f} plain and "
        f"**{mse_revived:.5f}** revived ({100 * (mse_revived / mse_plain - 1):+.1f}%)."
    )
    return text, units
