"""Resumable, parallel K-fold cross-validation of the autoencoder: one grid at one budget, or successive halving."""

from __future__ import annotations

import hashlib
import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.model_selection import ParameterGrid
from tqdm import tqdm

from ..data import cv_folds
from ..files import atomic_write, config_key, ensure_dir
from ..models import Autoencoder
from ..parallel import check_n_jobs, parallel_imap
from ..runtime import check_images, check_positive, seed_everything
from ..training import fit_autoencoder

PARAMS = ("lr", "latent_dim")


def data_fingerprint(x: torch.Tensor) -> str:
    """SHA-1 of a tensor's bytes: ties cached rows to the exact data they were trained on."""
    return hashlib.sha1(np.ascontiguousarray(x.numpy()).view(np.uint8)).hexdigest()[:16]


@dataclass
class CVResult:
    """Rows per (point, fold[, rung]), the summary per point (per rung for successive halving) and the best point
    (:func:`best_point` on the last rung; reading it raises :class:`NoUsablePointError` when every point of that
    rung diverged or collapsed). ``rungs`` (halving only): one row per rung with its epochs, points and promotions."""

    folds: pd.DataFrame
    summary: pd.DataFrame
    n_trained: int
    rungs: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def best(self) -> dict:
        last = self.summary["rung"].max() if "rung" in self.summary else None
        return best_point(self.summary if last is None else self.summary[self.summary["rung"] == last])

    @property
    def wall_seconds(self) -> float:
        """Wall time of the runs that produced the rows, from their start and end times (NaN for older rows)."""
        if not {"started", "finished"} <= set(self.folds.columns):
            return float("nan")
        return float(self.folds["finished"].max() - self.folds["started"].min())

    @property
    def images_per_second(self) -> float:
        """Training images processed per second of wall time over the whole search (every epoch of every fold)."""
        if "n_train" not in self.folds:
            return float("nan")
        return float((self.folds["n_train"] * self.folds["epochs_run"]).sum() / self.wall_seconds)

    def metrics(self) -> dict:
        """The search's numbers for the results file: best point, its CV figures, rungs, wall time and images/s."""
        b = self.best
        out = {
            "best_lr": b["lr"],
            "best_latent_dim": b["latent_dim"],
            "cv_val_mse_mean": b["val_mse_mean"],
            "cv_val_mse_std": b["val_mse_std"],
            "cv_train_mse_mean": b["train_mse_mean"],
            "cv_train_mse_std": b["train_mse_std"],
            "cv_wall_seconds": self.wall_seconds,
            "cv_images_per_second": self.images_per_second,
        }
        if len(self.rungs):
            out["cv_rungs"] = [int(e) for e in self.rungs["epochs"]]
        if self.devices:
            out["cv_device"] = " and ".join(self.devices)
        return out

    @property
    def devices(self) -> list[str]:
        """The devices the rows trained on (none for rows saved before it was recorded)."""
        return sorted(set(self.folds["device"].dropna())) if "device" in self.folds else []


def _run_fold(task, x, run_cfg, device):
    """Train and validate one (point, fold); return its row. Runs in a worker and writes nothing."""
    params, fold, key = task
    train_idx, val_idx = cv_folds(len(x), run_cfg["n_folds"], run_cfg["seed"])[fold]  # cheap; keeps tasks small
    seed = run_cfg["seed"] + fold
    seed_everything(seed)
    model = Autoencoder(params["latent_dim"], **{k: run_cfg[k] for k in ("channels", "hidden") if k in run_cfg})
    xt, xv = torch.from_numpy(x[train_idx]), torch.from_numpy(x[val_idx])
    started, t0 = time.time(), time.perf_counter()
    hist = fit_autoencoder(
        model,
        xt,
        xv,
        epochs=run_cfg["epochs"],
        lr=params["lr"],
        batch_size=run_cfg["batch_size"],
        weight_decay=run_cfg["weight_decay"],
        seed=seed,
        device=device,
        progress=False,
        schedule=run_cfg["schedule"],
        revive=run_cfg.get("revive"),
        validate="last",
        amp=run_cfg.get("amp", False),
        loss=run_cfg.get("loss", "mse"),
    )
    last = hist.iloc[-1]
    mean_img_mse = float(((xv - xt.mean(0, keepdim=True)) ** 2).mean())
    row = {
        **params,
        "fold": fold,
        "train_mse": float(last["train_mse"]),
        "val_mse": float(last["val_mse"]),
        "epochs_run": int(len(hist)),
        "diverged": bool(hist["diverged"].any()),
        "collapsed": bool(last["val_mse"] >= 0.95 * mean_img_mse),
        "seconds": time.perf_counter() - t0,
        "started": started,
        "finished": time.time(),
        "n_train": len(xt),
        "key": key,
        "device": next(model.parameters()).device.type,
    }
    if "revive" in run_cfg:  # a halving run: its rows say their length (the caller adds the rung)
        row = {"epochs": run_cfg["epochs"], **row}
    return row


def _write_row(path: Path, row: dict, config: dict) -> None:
    atomic_write(path, lambda tmp: tmp.write_text(json.dumps({"config": config, "row": row})))


def _restore_from_csv(csv_path: Path, tasks, run_cfg) -> None:
    """Recreate missing ``cv_runs/`` files from the rows of a saved ``cv_folds.csv`` whose ``key`` matches
    (e.g. the committed one in a fresh clone, where the ignored ``cv_runs/`` is absent)."""
    if not csv_path.is_file():
        return
    saved = pd.read_csv(csv_path)
    if "key" not in saved.columns:
        return
    by_key = {str(r["key"]): r for r in saved.to_dict("records")}
    for params, fold, path in tasks:
        row = by_key.get(path.stem)
        if path.is_file() or row is None:
            continue
        row = {k: (v.item() if hasattr(v, "item") else v) for k, v in row.items()}
        _write_row(path, row, {**run_cfg, **params, "fold": fold})


def summarize(folds: pd.DataFrame) -> pd.DataFrame:
    """Mean and std of train/val MSE over folds, per (lr, latent_dim) (per (rung, epochs, lr, latent_dim) when
    the rows carry a rung), and ``val_mse_mean_trained``: the mean over the folds that neither diverged nor
    collapsed to the mean image (what :func:`promote` ranks by), and its ``val_mse_std_trained``."""
    by = (["rung", "epochs"] if "rung" in folds else []) + list(PARAMS)
    g = folds.groupby(by)
    out = g.agg(
        train_mse_mean=("train_mse", "mean"),
        train_mse_std=("train_mse", "std"),
        val_mse_mean=("val_mse", "mean"),
        val_mse_std=("val_mse", "std"),
        n_folds=("fold", "count"),
        n_diverged=("diverged", "sum"),
        n_collapsed=("collapsed", "sum"),
        seconds=("seconds", "sum"),
    )
    trained = folds[~folds["diverged"].astype(bool) & ~folds["collapsed"].astype(bool)]
    out["val_mse_mean_trained"] = trained.groupby(by)["val_mse"].mean().reindex(out.index)
    out["val_mse_std_trained"] = trained.groupby(by)["val_mse"].std().reindex(out.index)
    return out.reset_index()


class NoUsablePointError(RuntimeError):
    """Every grid point diverged or collapsed to the mean image: the search chose nothing."""


def best_point(summary: pd.DataFrame) -> dict:
    """The point with the lowest mean validation MSE among those with no diverged fold and no fold collapsed
    to the mean image; raises :class:`NoUsablePointError` when no point is left."""
    bad = summary["n_diverged"] > 0
    if "n_collapsed" in summary:
        bad |= summary["n_collapsed"] > 0
    ok = summary[~bad & summary["val_mse_mean"].notna()]
    if ok.empty:
        raise NoUsablePointError(
            f"every one of the {len(summary)} grid points diverged or collapsed to the mean image "
            f"({int((summary['n_diverged'] > 0).sum())} with a diverged fold); no best point. Lower the learning "
            f"rates or train longer per fold (cv_epochs)."
        )
    row = ok.loc[ok["val_mse_mean"].idxmin()]
    return {
        "lr": float(row["lr"]),
        "latent_dim": int(row["latent_dim"]),
        "val_mse_mean": float(row["val_mse_mean"]),
        "val_mse_std": float(row["val_mse_std"]),
        "train_mse_mean": float(row["train_mse_mean"]),
        "train_mse_std": float(row["train_mse_std"]),
    }


def _check_grid(x, param_grid, batch_size, n_jobs):
    check_images("x", x)
    check_positive("batch_size", batch_size, integer=True)
    check_n_jobs(n_jobs)
    grid = list(ParameterGrid(param_grid))
    for p in grid:
        if set(p) != set(PARAMS):
            raise ValueError(f"param_grid must have exactly the keys {PARAMS}, got {sorted(p)}")
        check_positive("lr", p["lr"])
        check_positive("latent_dim", p["latent_dim"], integer=True)
    return grid


def _cv_rows(x, points, run_cfg, results_dir, *, n_jobs, backend, device, progress, desc="CV folds"):
    """Rows of every (point, fold) at the settings ``run_cfg``: loaded when saved under their key, else trained
    (in parallel) and written one by one as they finish. Returns ``(rows, n_trained)``."""
    run_dir = ensure_dir(Path(results_dir) / "cv_runs")
    tasks = [
        (p, k, run_dir / f"{config_key({**run_cfg, **p, 'fold': k})}.json")
        for p in points
        for k in range(run_cfg["n_folds"])
    ]
    _restore_from_csv(Path(results_dir) / "cv_folds.csv", tasks, run_cfg)
    todo = [t for t in tasks if not t[2].is_file()]
    if todo:
        dev = None if device is None else str(device)
        work = [(p, k, path.stem) for p, k, path in todo]
        results = parallel_imap(_run_fold, work, n_jobs=n_jobs, backend=backend, shared=(x.numpy(), run_cfg, dev))
        # the rows come back here and are written by this process, as each fold finishes
        for i, row in tqdm(
            results,
            total=len(todo),
            desc=desc,
            disable=not progress,
            file=sys.stderr,  # the terminal and the notebook show it; the PDF leaves stderr out
            ascii=True,
            ncols=100,
            mininterval=10,
        ):
            p, k, path = todo[i]
            _write_row(path, row, {**run_cfg, **p, "fold": k})
    rows = pd.DataFrame([json.loads(path.read_text())["row"] for _, _, path in tasks])
    return rows, len(todo)


def grid_search_cv(
    x,
    param_grid,
    *,
    results_dir,
    n_folds=6,
    epochs=5,
    batch_size=256,
    weight_decay=1e-5,
    schedule=None,
    revive=None,
    seed=0,
    n_jobs=1,
    backend=None,
    device=None,
    progress=True,
) -> CVResult:
    """Train an :class:`Autoencoder` for every point of ``ParameterGrid(param_grid)`` (keys ``lr`` and
    ``latent_dim``) for ``epochs`` on each of ``n_folds`` shuffled folds and validate on the held-out fold.

    Each finished (point, fold) is written at once to ``results_dir/cv_runs/`` under a key that
    hashes every setting that changes its result (data, epochs, batch size, seed, ...), so an
    interrupted search resumes where it stopped and changed settings never reuse stale rows. Rows of an
    existing ``results_dir/cv_folds.csv`` with a matching key count as done too, so a fresh clone with the
    committed CSV reloads the search instead of retraining it.
    Folds run through :func:`~helpers.parallel.parallel_imap`: in ``n_jobs`` local joblib processes (``-1``: one
    per core), each limited to ``cores // n_jobs`` torch threads, or with ``backend="dask"`` on the Dask
    cluster of the current client (or ``DASK_SCHEDULER_ADDRESS``), the data broadcast to each worker once.
    Workers only return rows; this process writes them, so no shared filesystem is needed.
    Writes ``cv_folds.csv`` and ``cv_summary.csv`` to ``results_dir``.
    """
    grid = _check_grid(x, param_grid, batch_size, n_jobs)
    check_positive("epochs", epochs, integer=True)
    results_dir = ensure_dir(results_dir)
    cv_folds(len(x), n_folds, seed)  # validates n_folds before any work
    run_cfg = {
        "data": data_fingerprint(x),
        "n": len(x),
        "n_folds": n_folds,
        "epochs": epochs,
        "batch_size": batch_size,
        "weight_decay": weight_decay,
        "schedule": schedule,
        "seed": seed,
    }
    if revive is not None:
        run_cfg["revive"] = revive
    rows, n_trained = _cv_rows(
        x, grid, run_cfg, results_dir, n_jobs=n_jobs, backend=backend, device=device, progress=progress
    )
    rows = rows.sort_values(["lr", "latent_dim", "fold"]).reset_index(drop=True)
    summary = summarize(rows)
    rows.to_csv(results_dir / "cv_folds.csv", index=False)
    summary.to_csv(results_dir / "cv_summary.csv", index=False)
    return CVResult(rows, summary, n_trained=n_trained)
