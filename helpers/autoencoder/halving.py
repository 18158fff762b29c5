"""Successive halving over the autoencoder's grid: cross-validate every point at a short budget, promote the
best fraction to a longer one, until the last rung scores the pick at the final model's length."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..data import cv_folds
from ..files import ensure_dir
from ..models import HOMEWORK_CHANNELS, HOMEWORK_HIDDEN, widths_config
from ..runtime import check_positive
from ..training import loss_config
from .search import CVResult, _check_grid, _cv_rows, data_fingerprint, summarize


def promotable(summary: pd.DataFrame) -> pd.Series:
    """Points that may go on to the next rung: no diverged fold, and fewer than half of the folds collapsed to the
    mean image. A point where most folds collapse (a learning rate too high) drops out; one fold of six still on the
    mean image after a short rung says that rung was too short for that seed, not that the point is bad, and the
    point is retrained from scratch on all folds at the next rung, where such a fold counts against it again."""
    return (
        (summary["n_diverged"] == 0)
        & (2 * summary["n_collapsed"] < summary["n_folds"])
        & summary["val_mse_mean_trained"].notna()
    )


def promote(summary: pd.DataFrame, n_candidates: int, factor: int) -> tuple[list[dict], pd.Series]:
    """The points of one rung's ``summary`` that go on: the best ``n_candidates // factor`` (at least one) of the
    :func:`promotable` ones by their mean validation MSE over the folds that trained (``val_mse_mean_trained``);
    the others drop out here. Rounded down as in Hyperband's successive halving (Li et al. 2018), where
    scikit-learn's ``HalvingGridSearchCV`` rounds up: a rung of five keeps one with factor 3, not two.
    Returns ``(points, usable)``, ``usable`` a boolean mask over ``summary``'s rows."""
    usable = promotable(summary)
    keep = summary[usable].nsmallest(max(1, n_candidates // factor), "val_mse_mean_trained")
    return [{"lr": float(r["lr"]), "latent_dim": int(r["latent_dim"])} for _, r in keep.iterrows()], usable


def halving_search_cv(
    x,
    param_grid,
    *,
    results_dir,
    rungs=(3, 9, 27),
    factor=3,
    n_folds=6,
    batch_size=256,
    weight_decay=1e-5,
    schedule="onecycle",
    revive=None,
    channels=HOMEWORK_CHANNELS,
    hidden=HOMEWORK_HIDDEN,
    seed=0,
    amp=False,
    loss="mse",
    n_jobs=1,
    backend=None,
    device=None,
    progress=True,
) -> CVResult:
    """Successive halving over ``ParameterGrid(param_grid)`` (keys ``lr``, ``latent_dim``), epochs as the resource.

    1. Every point is cross-validated on ``n_folds`` folds for ``rungs[0]`` epochs, each (point, fold, rung) trained
       from scratch with the final model's recipe at the rung's length (``schedule``, ``revive``, ``loss``,
       ``amp``; an :class:`Autoencoder` of widths ``channels``/``hidden``), scored by validation MSE.
    2. Points with a diverged or collapsed fold drop out; the best ``n // factor`` (at least one) go on
       (:func:`promote`; scikit-learn's ``HalvingGridSearchCV`` rounded down, as in Hyperband).
    3. Repeat until the last rung. Rows are saved and resumed per (point, fold, rung) as in :func:`grid_search_cv`.

    Writes ``cv_folds.csv``, ``cv_summary.csv`` and ``cv_rungs.csv`` to ``results_dir``; returns a :class:`CVResult`.
    """
    grid = _check_grid(x, param_grid, batch_size, n_jobs)
    rungs = list(rungs)
    for r in rungs:
        check_positive("rungs (epochs per rung)", r, integer=True)
    if not rungs or any(b <= a for a, b in zip(rungs, rungs[1:])):
        raise ValueError(f"rungs must be increasing positive epoch counts, got {rungs!r}")
    if not isinstance(factor, (int, np.integer)) or isinstance(factor, bool) or factor < 2:
        raise ValueError(f"factor must be an int >= 2, got {factor!r}")
    if schedule not in (None, "onecycle", "cosine"):
        raise ValueError(f"schedule must be None, 'onecycle' or 'cosine', got {schedule!r}")
    loss_key = loss_config(loss)  # validates before any work
    results_dir = ensure_dir(results_dir)
    cv_folds(len(x), n_folds, seed)  # validates n_folds before any work
    base = {
        "data": data_fingerprint(x),
        "n": len(x),
        "n_folds": n_folds,
        "batch_size": batch_size,
        "weight_decay": weight_decay,
        "schedule": schedule,
        "seed": seed,
        "revive": revive,
    }
    base.update(widths_config(channels, hidden))  # the homework report's widths add nothing to the key
    if amp:
        base["amp"] = True  # fp32 (the default) adds nothing either
    base.update(loss_key)  # nor does the homework report's loss
    points, all_rows, summaries, rung_log, n_trained = grid, [], [], [], 0
    for i, epochs in enumerate(rungs):
        # keyed by the epochs, not the rung's index: a run at the same length is the same run in any layout
        run_cfg = {**base, "epochs": epochs}
        rows, n = _cv_rows(
            x,
            points,
            run_cfg,
            results_dir,
            n_jobs=n_jobs,
            backend=backend,
            device=device,
            progress=progress,
            desc=f"rung {i} ({epochs} ep)",
        )
        rows = rows.drop(columns="rung", errors="ignore")  # (rows restored from a saved CSV carry one)
        rows.insert(0, "rung", i)
        n_trained += n
        summary = summarize(rows)
        promoted, usable = promote(summary, len(points), factor)
        if i + 1 == len(rungs):
            promoted = []  # the last rung: its best point is the pick
        summary["promoted"] = [
            {"lr": float(r.lr), "latent_dim": int(r.latent_dim)} in promoted for r in summary.itertuples()
        ]
        all_rows.append(rows)
        summaries.append(summary)
        rung_log.append(
            {
                "rung": i,
                "epochs": epochs,
                "points": len(points),
                "usable": int(usable.sum()),
                "promoted": len(promoted),
                "wall_seconds": float(rows["finished"].max() - rows["started"].min()),
            }
        )
        if i + 1 < len(rungs) and not promoted:
            break  # nothing usable left: best raises NoUsablePointError naming the rung's points
        points = promoted
    rows = pd.concat(all_rows).sort_values(["rung", "lr", "latent_dim", "fold"]).reset_index(drop=True)
    summary = pd.concat(summaries).reset_index(drop=True)
    rung_table = pd.DataFrame(rung_log)
    rows.to_csv(results_dir / "cv_folds.csv", index=False)
    summary.to_csv(results_dir / "cv_summary.csv", index=False)
    rung_table.to_csv(results_dir / "cv_rungs.csv", index=False)
    return CVResult(rows, summary, n_trained=n_trained, rungs=rung_table)


def rung_margins(summary: pd.DataFrame) -> pd.DataFrame:
    """Per rung of a halving summary: the best and the runner-up point, the gap between their mean validation MSEs
    and that gap in units of the larger of their standard deviations over folds. Earlier rungs rank as :func:`promote`
    does (over the folds that trained), the last as :func:`best_point` chooses (all folds, none collapsed)."""
    rows, last = [], summary["rung"].max()
    for (rung, epochs), g in summary.groupby(["rung", "epochs"]):
        # earlier rungs: ranked as promote() ranks; the last rung: as best_point() chooses (no collapsed fold at all)
        strict = (g["n_diverged"] == 0) & (g["n_collapsed"] == 0)
        ok = (
            g[strict].nsmallest(2, "val_mse_mean")
            if rung == last
            else g[promotable(g)].nsmallest(2, "val_mse_mean_trained")
        )
        if rung != last:
            ok = ok.assign(val_mse_mean=ok["val_mse_mean_trained"], val_mse_std=ok["val_mse_std_trained"])
        if ok.empty:
            continue
        b = ok.iloc[0]
        row = {
            "rung": rung,
            "epochs": epochs,
            "best": f"lr {b['lr']:g}, d = {int(b['latent_dim'])}",
            "best val MSE": b["val_mse_mean"],
            "runner-up": None,
            "runner-up val MSE": float("nan"),
            "gap": float("nan"),
            "gap / std": float("nan"),
        }
        if len(ok) > 1:
            r = ok.iloc[1]
            gap = r["val_mse_mean"] - b["val_mse_mean"]
            row.update(
                {
                    "runner-up": f"lr {r['lr']:g}, d = {int(r['latent_dim'])}",
                    "runner-up val MSE": r["val_mse_mean"],
                    "gap": gap,
                    "gap / std": gap / max(b["val_mse_std"], r["val_mse_std"]),
                }
            )
        rows.append(row)
    return pd.DataFrame(rows)
