"""scripts/train_01.py runs as the README documents it and leaves what notebook 01 loads."""

import json
import subprocess
import sys

import pytest

from helpers.report import REPO

pytestmark = pytest.mark.slow  # trains notebook 01's search and final models


def test_train_01_trains_the_search_and_final_models_the_notebook_loads(tmp_path):
    out = subprocess.run(
        [sys.executable, "scripts/train_01.py", "--profile", "quick", "--results", str(tmp_path), "--n-jobs", "2"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert "best point: learning rate " in out.stdout and "our CV" in out.stdout  # the pick and the comparison
    assert "search and final models:" in out.stdout
    for name in ["cv_folds.csv", "cv_summary.csv", "cv_rungs.csv", "autoencoder.pt", "autoencoder.history.csv"]:
        assert (tmp_path / name).is_file(), name
    rows = [json.loads(p.read_text())["row"] for p in (tmp_path / "cv_runs").glob("*.json")]
    assert rows and all(r["device"] in ("cpu", "cuda") for r in rows)
    # a second run finds every run under its key: it trains nothing
    again = subprocess.run(
        [sys.executable, "scripts/train_01.py", "--profile", "quick", "--results", str(tmp_path), "--n-jobs", "2"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert again.returncode == 0, again.stderr[-2000:]
    n_runs, n_finals = len(rows), len(list(tmp_path.glob("autoencoder*.pt")))
    assert f"trained in this run: 0 of {n_runs} CV runs, 0 of {n_finals} final models" in again.stdout


def test_train_01_grid_and_rungs_options_replace_the_profiles(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "scripts/train_01.py",
            "--profile",
            "quick",
            "--results",
            str(tmp_path),
            "--n-jobs",
            "2",
            "--learning-rates",
            "0.01",
            "--latent-dims",
            "4",
            "--rungs",
            "2",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    import pandas as pd

    summary = pd.read_csv(tmp_path / "cv_summary.csv")
    assert summary[["lr", "latent_dim", "epochs"]].values.tolist() == [[0.01, 4, 2]]
    assert "best point: learning rate 0.01, latent dimension 4, 2 epochs" in out.stdout
