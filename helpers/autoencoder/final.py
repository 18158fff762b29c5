"""Notebook 01's final models: the CV's pick retrained on all training images (and the comparisons beside it),
and how they score on the test set."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import torch

from ..artifacts import checkpoint_path, load_or_train
from ..baselines import fit_pca, pca_reconstruct
from ..dead_units import dead_units
from ..models import HOMEWORK_CHANNELS, HOMEWORK_HIDDEN, Autoencoder, widths_config
from ..parallel import parallel_map
from ..runtime import seed_everything
from ..training import fit_autoencoder, loss_config, reconstruction_mse
from .halving import halving_search_cv


def load_or_train_autoencoder(
    path,
    x_train,
    x_eval,
    *,
    latent_dim,
    lr,
    epochs,
    batch_size,
    revive=None,
    channels=HOMEWORK_CHANNELS,
    hidden=HOMEWORK_HIDDEN,
    loss="mse",
    seed=0,
    device=None,
    progress=True,
    results_dir=None,
    notebook="01_autoencoder",
):
    """Notebook 01's final model: an :class:`~helpers.models.Autoencoder` of ``latent_dim`` (widths ``channels``,
    ``hidden``) trained on all of ``x_train`` with a one-cycle schedule peaking at ``lr`` (and ``revive``; ``loss`` as
    in
    :func:`~helpers.training.fit_autoencoder`), evaluated
    on ``x_eval`` after each epoch (history column ``test_mse``). Loaded from ``path`` when it was saved with the same
    settings; else trained, resuming from its checkpoint under ``results_dir/checkpoints/``. Returns ``(model, history,
    loaded)``."""
    cfg = {
        "latent_dim": latent_dim,
        "lr": lr,
        "epochs": epochs,
        "batch_size": batch_size,
        "schedule": "onecycle",
        "seed": seed,
        "n_train": len(x_train),
    }
    if revive:
        cfg["revive"] = revive
    cfg.update(widths_config(channels, hidden))  # the homework report's widths add nothing to the key
    cfg.update(loss_config(loss))  # nor does the homework report's loss
    ckpt = checkpoint_path(results_dir if results_dir is not None else Path(path).parent, "autoencoder", cfg)

    def train():
        seed_everything(seed)
        model = Autoencoder(latent_dim, channels, hidden)
        hist = fit_autoencoder(
            model,
            x_train,
            x_eval,
            epochs=epochs,
            lr=lr,
            batch_size=batch_size,
            schedule="onecycle",
            revive=revive,
            seed=seed,
            device=device,
            progress=progress,
            loss=loss,
            checkpoint=ckpt,
            desc=f"autoencoder d={latent_dim}",
        )
        return model, hist.rename(columns={"val_mse": "test_mse"})

    return load_or_train(path, cfg, train, notebook=notebook)


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


def reviving_ablation(comparison: pd.DataFrame, finals: dict, x, revive) -> tuple[pd.DataFrame, dict]:
    """The ablation of :func:`compare_final_models`: dead units per layer on ``x`` with and without reviving at the
    same size (:func:`reviving_table`), and the totals: ``latent_dim, units, dead_plain, dead_revived,
    reinitialisations, test_mse_plain, test_mse_revived``."""
    ab = comparison[comparison["chosen by"] == "ablation"].iloc[0]
    d = int(ab.latent_dim)
    revived, hist, _ = finals[(d, revive)]
    units = reviving_table(finals[(d, None)][0], revived, x)
    totals = {
        "latent_dim": d,
        "units": int(units["units"].sum()),
        "dead_plain": int(units["dead, plain"].sum()),
        "dead_revived": int(units["dead, revived"].sum()),
        "reinitialisations": int(hist["revived"].sum()),
        "test_mse_plain": float(ab.test_mse),
        "test_mse_revived": float(
            comparison[(comparison.latent_dim == d) & (comparison["chosen by"] != "ablation")].test_mse.iloc[0]
        ),
    }
    return units, totals


@dataclass(frozen=True)
class PartOne:
    """What :func:`search_and_train` returns: the search, the final models and their comparison."""

    cv: object  # helpers.autoencoder.search.CVResult
    finals: dict  # {(latent_dim, revive): (model, history, loaded)}
    comparison: pd.DataFrame  # compare_final_models: row 0 is the CV's pick
    latent_dim: int
    lr: float
    epochs: int


def search_and_train(
    x_train, x_test, settings, *, results_dir, seed=0, n_jobs=1, backend=None, device=None, progress=True
) -> PartOne:
    """Notebook 01 and ``scripts/train_01.py`` in one call: successive halving over ``settings`` (the autoencoder
    part's resolved settings: ``learning_rates, latent_dims, rungs, factor, n_folds, batch_size, revive, channels,
    hidden, loss, compare_latent_dim``), then the final models at the pick (and the comparison size and the ablation),
    then their comparison on ``x_test``. Everything is cached under ``results_dir`` and resumes."""
    s, revive = settings, settings["revive"] or None
    net = {"channels": s["channels"], "hidden": s["hidden"], "loss": s["loss"], "batch_size": s["batch_size"]}
    cv = halving_search_cv(
        x_train,
        {"lr": s["learning_rates"], "latent_dim": s["latent_dims"]},
        results_dir=results_dir,
        rungs=s["rungs"],
        factor=s["factor"],
        n_folds=s["n_folds"],
        revive=revive,
        seed=seed,
        n_jobs=n_jobs,
        backend=backend,
        device=device,
        progress=progress,
        **net,
    )
    best, epochs = cv.best, int(cv.rungs["epochs"].iloc[-1])
    finals = load_or_train_final_models(
        results_dir,
        x_train,
        x_test,
        pick_dim=best["latent_dim"],
        compare_dim=s["compare_latent_dim"] or None,
        lr=best["lr"],
        epochs=epochs,
        revive=revive,
        seed=seed,
        device=device,
        n_jobs=n_jobs,
        progress=progress,
        **net,
    )
    comparison = compare_final_models(
        finals, x_train, x_test, pick_dim=best["latent_dim"], revive=revive, seed=seed, device=device
    )
    return PartOne(cv, finals, comparison, int(best["latent_dim"]), float(best["lr"]), epochs)
