"""Cached artifacts under ``results/``: "load the model if present, else train", and metric files."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from .files import CorruptFileError, atomic_save, atomic_write, config_key, read_torch_file
from .models import load_model, save_model


def _read_log(path: Path):
    return (
        pd.read_csv(path) if path.suffix == ".csv" else read_torch_file(path, weights_only=False, what="training log")
    )


def _write_log(log, path: Path) -> None:
    if isinstance(log, pd.DataFrame):
        atomic_write(path, lambda tmp: log.to_csv(tmp, index=False))
    else:
        atomic_save(log, path)


def load_or_train_models(paths: dict, config: dict, train, *, log_path=None, extra_files=(), **meta):
    """The one cached-run primitive: return ``(models, log, loaded)`` for the models named in ``paths``
    (name -> file) and their training log.

    If every file of ``paths`` holds a model saved with the same ``config`` and the log is there, load them;
    otherwise call ``train() -> ({name: model}, log)``, save each model with :func:`~helpers.models.save_model`
    (with the config's key and ``meta``) and the log at ``log_path`` (default: ``<first path>.history.csv``; a
    DataFrame is written as CSV, anything else with ``torch.save``). ``extra_files`` (written by ``train`` itself) must
    exist too for a load. A changed config never reuses a stale model; a broken file is named in a warning and trained
    again. Resuming an interrupted training is ``train``'s job (its checkpoint under :func:`checkpoint_path`)."""
    paths = {name: Path(p) for name, p in paths.items()}
    log_path = Path(log_path) if log_path is not None else next(iter(paths.values())).with_suffix(".history.csv")
    key = config_key(config)
    if log_path.is_file() and all(Path(p).is_file() for p in [*paths.values(), *extra_files]):
        models = {}
        for name, p in paths.items():
            try:
                model, saved = load_model(p, with_meta=True)
            except CorruptFileError as err:  # truncated or foreign: say so, then train it again
                warnings.warn(f"{err}. Training it again.", stacklevel=2)
                break
            except (RuntimeError, TypeError, ValueError):  # saved by an older architecture: stale
                break
            if saved.get("config_key") != key:
                break
            models[name] = model
        else:
            return models, _read_log(log_path), True
    models, log = train()
    _write_log(log, log_path)
    for name, p in paths.items():
        save_model(models[name], p, config_key=key, config=json.dumps(config, sort_keys=True, default=str), **meta)
    return {name: m.eval() for name, m in models.items()}, log, False


def load_or_train(path, config: dict, train, **meta):
    """:func:`load_or_train_models` for one model: ``train() -> (model, history DataFrame)``, the history saved as
    ``<path>.history.csv``. Returns ``(model, history, loaded)``."""

    def train_one():
        model, hist = train()
        return {"model": model}, hist

    models, hist, loaded = load_or_train_models({"model": path}, config, train_one, **meta)
    return models["model"], hist, loaded


def load_or_compute_table(path, config: dict, compute) -> tuple[pd.DataFrame, bool]:
    """Return ``(table, loaded)``: the CSV at ``path`` if it was written for the same ``config``,
    else ``compute() -> DataFrame``, saved to ``path`` with the config's key in a ``config_key`` column."""
    path, key = Path(path), config_key(config)
    if path.is_file():
        table = pd.read_csv(path)
        if "config_key" in table and len(table) and (table["config_key"] == key).all():
            return table.drop(columns="config_key"), True
    table = compute()
    path.parent.mkdir(parents=True, exist_ok=True)
    table.assign(config_key=key).to_csv(path, index=False)
    return table, False


def checkpoint_path(results_dir, name: str, config: dict) -> Path:
    """Where a training run keeps its resumable checkpoint (ignored by git)."""
    return Path(results_dir) / "checkpoints" / f"{name}-{config_key(config)}.pt"


def _rounded(value, digits: int = 6):
    """``value`` with every float rounded to ``digits`` significant digits (nested dicts and lists too)."""
    if isinstance(value, dict):
        return {k: _rounded(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_rounded(v, digits) for v in value]
    if isinstance(value, (float, np.floating)):
        return float(f"{float(value):.{digits}g}")
    return value


def save_metrics(results_dir, name: str, metrics: dict) -> Path:
    """Write ``metrics`` (JSON-serialisable) to ``results_dir/name.json``, floats to 6 significant digits (more than
    any table prints, and the same on every CPU: float rounding differs between kernels in the last digits)."""
    path = Path(results_dir) / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_rounded(metrics), indent=2, sort_keys=True, default=float) + "\n")
    return path


def load_metrics(results_dir, name: str) -> dict:
    path = Path(results_dir) / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else {}


class MissingUpstreamError(FileNotFoundError):
    """A notebook needs a model that an earlier notebook writes, and it is not there."""


def load_upstream_model(path, notebook: str, profile: str = "full"):
    """Load the model an earlier part saved at ``path``; if it is missing, raise :class:`MissingUpstreamError`
    that says which notebook to run first (never train a substitute under the other part's name)."""
    path = Path(path)
    if not path.is_file():
        raise MissingUpstreamError(
            f"{path} not found: it is written by notebooks/{notebook}.ipynb. Run that notebook first, e.g. "
            f"`python -m helpers.report --profile {profile} --only {notebook[:2]}` (or run the whole chain without "
            "--only)."
        )
    return load_model(path)
