import pandas as pd
import pytest

import helpers.search as search
from helpers.search import best_point, grid_search_cv

GRID = {"lr": [1e-3, 1e4], "latent_dim": [2]}
KW = dict(n_folds=3, epochs=1, batch_size=64, seed=0, n_jobs=1, progress=False, device="cpu")


@pytest.fixture(scope="module")
def tiny(mnist_train):
    return mnist_train[0][:300]


def test_rows_per_point_and_fold_and_divergence(tiny, tmp_path):
    res = grid_search_cv(tiny, GRID, results_dir=tmp_path, **KW)
    assert res.n_trained == 6 and len(res.folds) == 6
    assert set(map(tuple, res.folds[["lr", "latent_dim", "fold"]].values.tolist())) == {
        (lr, 2, k) for lr in GRID["lr"] for k in range(3)}
    assert res.folds.loc[res.folds.lr == 1e4, "diverged"].all()  # recorded, search went on
    assert not res.folds.loc[res.folds.lr == 1e-3, "diverged"].any()
    # one epoch on 200 images: no point beats the mean image, and the lr=1e4 point diverged, so nothing is chosen
    assert res.folds.loc[res.folds.lr == 1e-3, "collapsed"].all()
    with pytest.raises(search.NoUsablePointError, match="every one of the 2 grid points diverged or collapsed"):
        res.best
    assert (tmp_path / "cv_folds.csv").is_file() and (tmp_path / "cv_summary.csv").is_file()
    summary = pd.read_csv(tmp_path / "cv_summary.csv")
    assert {"train_mse_mean", "train_mse_std", "val_mse_mean", "val_mse_std"} <= set(summary.columns)
    assert len(summary) == 2


def test_resume_after_interruption(tiny, tmp_path, monkeypatch):
    real, calls = search._run_fold, []

    def dying(*args):
        if len(calls) == 4:
            raise KeyboardInterrupt("killed")
        calls.append(args[0][1])  # the fold
        return real(*args)

    monkeypatch.setattr(search, "_run_fold", dying)
    with pytest.raises(KeyboardInterrupt):
        grid_search_cv(tiny, GRID, results_dir=tmp_path, **KW)
    monkeypatch.setattr(search, "_run_fold", real)
    res = grid_search_cv(tiny, GRID, results_dir=tmp_path, **KW)
    assert res.n_trained == 2  # only the folds that had not finished
    assert grid_search_cv(tiny, GRID, results_dir=tmp_path, **KW).n_trained == 0  # all done: reload only


def test_changed_settings_do_not_reuse_rows(tiny, tmp_path):
    first = grid_search_cv(tiny, GRID, results_dir=tmp_path, **KW)
    assert grid_search_cv(tiny, GRID, results_dir=tmp_path, **{**KW, "epochs": 2}).n_trained == 6
    assert grid_search_cv(tiny, GRID, results_dir=tmp_path, **{**KW, "seed": 1}).n_trained == 6
    assert grid_search_cv(tiny[:240], GRID, results_dir=tmp_path, **KW).n_trained == 6
    again = grid_search_cv(tiny, GRID, results_dir=tmp_path, **KW)
    assert again.n_trained == 0
    pd.testing.assert_frame_equal(again.folds.drop(columns="seconds"), first.folds.drop(columns="seconds"))


def test_saved_csv_restores_rows_without_cv_runs(tiny, tmp_path):
    first = grid_search_cv(tiny, GRID, results_dir=tmp_path, **KW)
    for f in (tmp_path / "cv_runs").iterdir():  # a fresh clone: only the committed CSV is there
        f.unlink()
    again = grid_search_cv(tiny, GRID, results_dir=tmp_path, **KW)
    assert again.n_trained == 0
    pd.testing.assert_frame_equal(again.folds, first.folds)
    pd.testing.assert_frame_equal(again.summary, first.summary)
    for f in (tmp_path / "cv_runs").iterdir():
        f.unlink()
    # the CSV's rows belong to other settings: nothing is reused
    assert grid_search_cv(tiny, GRID, results_dir=tmp_path, **{**KW, "epochs": 2}).n_trained == 6


def test_best_point_lowest_mean_val_skips_diverged_and_collapsed():
    s = pd.DataFrame({"lr": [1e-3, 1e-2, 1e-1, 10.0], "latent_dim": [10] * 4, "val_mse_mean": [0.02, 0.01, 0.001, 0.0005],
                      "val_mse_std": [0.0] * 4, "train_mse_mean": [0.0] * 4, "train_mse_std": [0.0] * 4,
                      "n_diverged": [0, 0, 1, 0], "n_collapsed": [0, 0, 0, 2]})
    assert best_point(s)["lr"] == 1e-2
    s.loc[1, "n_collapsed"] = 1
    assert best_point(s)["lr"] == 1e-3
    s.loc[0, "n_collapsed"] = 6
    with pytest.raises(search.NoUsablePointError, match="every one of the 4 grid points"):
        best_point(s)


def test_bad_grid(tiny, tmp_path):
    with pytest.raises(ValueError, match="param_grid"):
        grid_search_cv(tiny, {"lr": [1e-3]}, results_dir=tmp_path, **KW)
    with pytest.raises(ValueError, match="lr"):
        grid_search_cv(tiny, {"lr": [0.0], "latent_dim": [2]}, results_dir=tmp_path, **KW)
