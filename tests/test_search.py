import math

import pandas as pd
import pytest

import helpers.autoencoder.halving as halving
import helpers.autoencoder.search as search
from helpers import profiles
from helpers.autoencoder.search import best_point, grid_search_cv

GRID = {"lr": [1e-3, 1e4], "latent_dim": [2]}
KW = dict(n_folds=3, epochs=1, batch_size=64, seed=0, n_jobs=1, progress=False, device="cpu")


@pytest.fixture(scope="module")
def tiny(mnist_train):
    return mnist_train[0][:300]


def test_rows_per_point_and_fold_and_divergence(tiny, tmp_path):
    res = grid_search_cv(tiny, GRID, results_dir=tmp_path, **KW)
    assert res.n_trained == 6 and len(res.folds) == 6
    assert set(map(tuple, res.folds[["lr", "latent_dim", "fold"]].values.tolist())) == {
        (lr, 2, k) for lr in GRID["lr"] for k in range(3)
    }
    assert res.folds.loc[res.folds.lr == 1e4, "diverged"].all()  # recorded, search went on
    assert not res.folds.loc[res.folds.lr == 1e-3, "diverged"].any()
    # one epoch on 200 images: no point beats the mean image, and the lr=1e4 point diverged, so nothing is chosen
    assert res.folds.loc[res.folds.lr == 1e-3, "collapsed"].all()
    assert (res.folds["device"] == "cpu").all() and res.devices == ["cpu"]  # where the rows trained
    assert search.CVResult(res.folds.drop(columns="device"), res.summary, 0).devices == []  # rows saved before it
    with pytest.raises(search.NoUsablePointError, match="every one of the 2 grid points diverged or collapsed"):
        _ = res.best
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
    s = pd.DataFrame(
        {
            "lr": [1e-3, 1e-2, 1e-1, 10.0],
            "latent_dim": [10] * 4,
            "val_mse_mean": [0.02, 0.01, 0.001, 0.0005],
            "val_mse_std": [0.0] * 4,
            "train_mse_mean": [0.0] * 4,
            "train_mse_std": [0.0] * 4,
            "n_diverged": [0, 0, 1, 0],
            "n_collapsed": [0, 0, 0, 2],
        }
    )
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


# --- successive halving: the rung logic on a stand-in for training (fast), then one real run -------------------------

HALVING_GRID = {"lr": [1e-3, 1e-2, 1e-1], "latent_dim": [2, 4, 8]}
RUNG_OF = {1: 0, 2: 1, 4: 2, 5: 2}  # epochs -> rung in the layouts below
HKW = dict(n_folds=2, rungs=[1, 2, 4], factor=3, batch_size=64, seed=0, n_jobs=1, progress=False, device="cpu")


def fake_fold(calls=None, diverge_lr=None):
    """A stand-in for ``_run_fold``: val MSE falls with the latent size and the epochs; lr 1e-2 is best."""

    def run(task, x, run_cfg, device):
        params, fold, key = task
        if calls is not None:
            calls.append((RUNG_OF[run_cfg["epochs"]], params["lr"], params["latent_dim"], fold))
        lr_penalty = abs(math.log10(params["lr"]) + 2) * (0.2 if params["lr"] < 1e-2 else 0.3)
        val = (1 / params["latent_dim"] + lr_penalty) / run_cfg["epochs"] + 0.001 * fold
        diverged = params["lr"] == diverge_lr
        return {
            "epochs": run_cfg["epochs"],
            **params,
            "fold": fold,
            "train_mse": val,
            "val_mse": float("nan") if diverged else val,
            "epochs_run": run_cfg["epochs"],
            "diverged": diverged,
            "collapsed": False,
            "seconds": 0.0,
            "started": 0.0,
            "finished": 1.0,
            "n_train": 100,
            "key": key,
        }

    return run


def test_halving_promotes_the_best_third_of_each_rung(tiny, tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(search, "_run_fold", fake_fold(calls))
    res = halving.halving_search_cv(tiny, HALVING_GRID, results_dir=tmp_path, **HKW)
    assert res.rungs[["points", "promoted"]].values.tolist() == [[9, 3], [3, 1], [1, 0]]
    r1 = {(lr, d) for rung, lr, d, _ in calls if rung == 1}
    assert r1 == {(1e-2, 8), (1e-3, 8), (1e-2, 4)}  # the three lowest mean val MSEs of rung 0
    assert {(lr, d) for rung, lr, d, _ in calls if rung == 2} == {(1e-2, 8)}
    assert len(calls) == 2 * (9 + 3 + 1) and res.n_trained == len(calls)
    assert res.best["lr"] == 1e-2 and res.best["latent_dim"] == 8
    assert res.best["val_mse_mean"] == pytest.approx((1 / 8) / 4 + 0.0005)  # the last rung's mean over 2 folds
    saved = pd.read_csv(tmp_path / "cv_summary.csv")
    assert {
        "rung",
        "epochs",
        "lr",
        "latent_dim",
        "train_mse_mean",
        "train_mse_std",
        "val_mse_mean",
        "val_mse_std",
    } <= set(saved.columns)
    assert len(saved) == 9 + 3 + 1 and len(pd.read_csv(tmp_path / "cv_folds.csv")) == len(calls)
    assert pd.read_csv(tmp_path / "cv_rungs.csv")["epochs"].tolist() == [1, 2, 4]


def test_promote_keeps_a_third_rounded_down_but_at_least_one():
    """Hyperband's rounding: 15 -> 5 -> 1 with factor 3 (scikit-learn's ceil would keep 2 of 5); never none."""

    def rung(n, collapsed=()):
        return pd.DataFrame(
            {
                "lr": [1e-2] * n,
                "latent_dim": range(n),
                "n_folds": 6,
                "n_diverged": 0,
                "n_collapsed": [6 if i in collapsed else 0 for i in range(n)],
                "val_mse_mean_trained": [0.02 - 0.001 * i for i in range(n)],
            }
        )

    assert [p["latent_dim"] for p in halving.promote(rung(15), 15, 3)[0]] == [14, 13, 12, 11, 10]
    assert [p["latent_dim"] for p in halving.promote(rung(5), 5, 3)[0]] == [4]
    assert [p["latent_dim"] for p in halving.promote(rung(2), 2, 3)[0]] == [1]
    # the count is a share of the rung's points; unusable ones (collapsed) are never among them
    points, usable = halving.promote(rung(6, collapsed={5}), 6, 3)
    assert [p["latent_dim"] for p in points] == [4, 3] and usable.sum() == 5


def test_halving_diverged_points_drop_out_at_the_first_rung(tiny, tmp_path, monkeypatch):
    calls = []
    monkeypatch.setattr(search, "_run_fold", fake_fold(calls, diverge_lr=1e-2))  # the best rate diverges
    res = halving.halving_search_cv(tiny, HALVING_GRID, results_dir=tmp_path, **HKW)
    assert not any(lr == 1e-2 for rung, lr, _, _ in calls if rung > 0)
    assert res.folds.loc[(res.folds.rung == 0) & (res.folds.lr == 1e-2), "diverged"].all()  # recorded
    assert res.rungs["usable"].iloc[0] == 6 and res.rungs["promoted"].iloc[0] == 3
    assert res.best["lr"] != 1e-2


def test_halving_resumes_after_a_kill_mid_rung(tiny, tmp_path, monkeypatch):
    calls, fake = [], fake_fold()

    def dying(task, x, run_cfg, device):
        if RUNG_OF[run_cfg["epochs"]] == 1 and calls.count(1) == 2:
            raise KeyboardInterrupt("killed")
        calls.append(RUNG_OF[run_cfg["epochs"]])
        return fake(task, x, run_cfg, device)

    monkeypatch.setattr(search, "_run_fold", dying)
    with pytest.raises(KeyboardInterrupt):
        halving.halving_search_cv(tiny, HALVING_GRID, results_dir=tmp_path, **HKW)
    assert len(list((tmp_path / "cv_runs").glob("*.json"))) == 18 + 2  # rung 0 and two folds of rung 1 were kept
    monkeypatch.setattr(search, "_run_fold", fake)
    res = halving.halving_search_cv(tiny, HALVING_GRID, results_dir=tmp_path, **HKW)
    assert res.n_trained == 4 + 2  # the rest of rung 1, then rung 2
    assert halving.halving_search_cv(tiny, HALVING_GRID, results_dir=tmp_path, **HKW).n_trained == 0


def test_halving_changed_settings_never_reuse_rows(tiny, tmp_path, monkeypatch):
    monkeypatch.setattr(search, "_run_fold", fake_fold())
    first = halving.halving_search_cv(tiny, HALVING_GRID, results_dir=tmp_path, **HKW)
    for change in ({"batch_size": 32}, {"revive": 0.5}, {"seed": 1}, {"schedule": None}):
        assert (
            halving.halving_search_cv(tiny, HALVING_GRID, results_dir=tmp_path, **{**HKW, **change}).n_trained
            == first.n_trained
        )
    # a longer last rung retrains only that rung; the first two are reused
    assert (
        halving.halving_search_cv(tiny, HALVING_GRID, results_dir=tmp_path, **{**HKW, "rungs": [1, 2, 5]}).n_trained
        == 2
    )
    for f in (tmp_path / "cv_runs").iterdir():  # a fresh clone: only the committed CSV of the last call is there
        f.unlink()
    assert (
        halving.halving_search_cv(tiny, HALVING_GRID, results_dir=tmp_path, **{**HKW, "rungs": [1, 2, 5]}).n_trained
        == 0
    )


def test_halving_bad_arguments(tiny, tmp_path):
    for bad in ({"rungs": [3, 3]}, {"rungs": []}, {"rungs": [0, 2]}, {"rungs": [1.5, 3]}):
        with pytest.raises(ValueError, match="rungs"):
            halving.halving_search_cv(tiny, HALVING_GRID, results_dir=tmp_path, **{**HKW, **bad})
    with pytest.raises(ValueError, match="factor"):
        halving.halving_search_cv(tiny, HALVING_GRID, results_dir=tmp_path, **{**HKW, "factor": 1})


@pytest.mark.slow
def test_halving_real_training_two_rungs(mnist_train, tmp_path):
    """The quick profile's path with real training: two rungs of 1 and 2 epochs; nothing usable is an error."""
    q = profiles.resolve("quick", profiles.AUTOENCODER, {})
    x = mnist_train[0][: q["train_subset"]]
    res = halving.halving_search_cv(
        x,
        {"lr": q["learning_rates"], "latent_dim": q["latent_dims"]},
        results_dir=tmp_path,
        n_folds=q["n_folds"],
        rungs=q["rungs"],
        batch_size=q["batch_size"],
        revive=q["revive"],
        loss=q["loss"],
        n_jobs=2,
        progress=False,
    )
    assert res.rungs["epochs"].tolist() == [1, 2] and res.rungs["promoted"].iloc[0] >= 1
    assert (res.folds.loc[res.folds.rung == 1, "epochs_run"] == 2).all()
    last = res.summary[res.summary.rung == 1]
    assert res.best["val_mse_mean"] == pytest.approx(last["val_mse_mean"].min())
    # rung 1's points improved on their rung-0 score: the longer schedule did train further
    r0 = res.summary[res.summary.rung == 0].set_index(["lr", "latent_dim"])["val_mse_mean"]
    assert all(r["val_mse_mean"] < r0[(r["lr"], r["latent_dim"])] for _, r in last.iterrows())
    assert res.wall_seconds > 0 and res.images_per_second > 0
    assert res.metrics()["cv_device"] == "cpu"  # the results file says where the search trained


def test_halving_a_single_collapsed_fold_does_not_drop_a_point_but_a_majority_does(tiny, tmp_path, monkeypatch):
    """One fold still on the mean image after a short rung: the point is ranked on its other folds and goes on;
    a point with most folds collapsed (too high a rate) drops out; at the last rung any collapsed fold excludes it."""
    base = fake_fold()

    def run(task, x, run_cfg, device):
        row = base(task, x, run_cfg, device)
        (lr, d), fold, rung = (row["lr"], row["latent_dim"]), row["fold"], RUNG_OF[run_cfg["epochs"]]
        if (lr, d) == (1e-2, 8) and fold == 1 and rung == 0:  # the best point: one of its two folds stuck at rung 0
            row.update(val_mse=0.5, collapsed=True)
        if lr == 1e-1 and rung == 0:  # every fold of the highest rate
            row.update(val_mse=0.5, collapsed=True)
        return row

    monkeypatch.setattr(search, "_run_fold", run)
    res = halving.halving_search_cv(tiny, HALVING_GRID, results_dir=tmp_path, **{**HKW, "n_folds": 3})
    r0 = res.summary[res.summary.rung == 0].set_index(["lr", "latent_dim"])
    assert r0.loc[(1e-2, 8), "val_mse_mean_trained"] == pytest.approx(1 / 8 + 0.001)  # the mean of folds 0 and 2 only
    assert r0.loc[(1e-2, 8), "promoted"] and not r0.loc[(1e-1, 8), "promoted"]
    assert res.best["lr"] == 1e-2 and res.best["latent_dim"] == 8
    margins = halving.rung_margins(res.summary)
    assert margins.loc[0, "best"] == "lr 0.01, d = 8" and margins.loc[0, "best val MSE"] == pytest.approx(0.126)


def test_halving_widths_are_part_of_the_key_and_build_the_fold_model(tiny, tmp_path, monkeypatch):
    widths, fake = [], fake_fold()

    def spy(task, x, run_cfg, device):
        widths.append((tuple(run_cfg.get("channels", (8, 16, 32))), run_cfg.get("hidden", 64)))
        return fake(task, x, run_cfg, device)

    monkeypatch.setattr(search, "_run_fold", spy)
    first = halving.halving_search_cv(tiny, HALVING_GRID, results_dir=tmp_path, **HKW)
    assert set(widths) == {((8, 16, 32), 64)}
    # the homework report's widths passed explicitly are the same runs (the committed table's keys stay valid)
    assert (
        halving.halving_search_cv(
            tiny, HALVING_GRID, results_dir=tmp_path, channels=[8, 16, 32], hidden=64, **HKW
        ).n_trained
        == 0
    )
    widths.clear()
    wide = halving.halving_search_cv(tiny, HALVING_GRID, results_dir=tmp_path, channels=(4, 8, 8), hidden=16, **HKW)
    assert wide.n_trained == first.n_trained and set(widths) == {((4, 8, 8), 16)}
    with pytest.raises(ValueError, match="channels must be three positive ints"):
        halving.halving_search_cv(tiny, HALVING_GRID, results_dir=tmp_path, channels=(4, 8), hidden=16, **HKW)


def test_halving_bf16_is_part_of_the_key_only_when_on(tiny, tmp_path, monkeypatch):
    amps, fake = [], fake_fold()

    def spy(task, x, run_cfg, device):
        amps.append(run_cfg.get("amp", False))
        return fake(task, x, run_cfg, device)

    monkeypatch.setattr(search, "_run_fold", spy)
    first = halving.halving_search_cv(tiny, HALVING_GRID, results_dir=tmp_path, **HKW)
    assert halving.halving_search_cv(tiny, HALVING_GRID, results_dir=tmp_path, amp=False, **HKW).n_trained == 0
    amps.clear()
    assert (
        halving.halving_search_cv(tiny, HALVING_GRID, results_dir=tmp_path, amp=True, **HKW).n_trained
        == first.n_trained
    )
    assert set(amps) == {True}


def test_halving_loss_is_part_of_the_key_only_when_not_mse(tiny, tmp_path, monkeypatch):
    losses, fake = [], fake_fold()

    def spy(task, x, run_cfg, device):
        losses.append(run_cfg.get("loss", "mse"))
        return fake(task, x, run_cfg, device)

    monkeypatch.setattr(search, "_run_fold", spy)
    first = halving.halving_search_cv(tiny, HALVING_GRID, results_dir=tmp_path, **HKW)
    assert halving.halving_search_cv(tiny, HALVING_GRID, results_dir=tmp_path, loss="mse", **HKW).n_trained == 0
    losses.clear()
    assert (
        halving.halving_search_cv(tiny, HALVING_GRID, results_dir=tmp_path, loss="bce", **HKW).n_trained
        == first.n_trained
    )
    assert set(losses) == {"bce"}
    with pytest.raises(ValueError, match="loss must be one of"):
        halving.halving_search_cv(tiny, HALVING_GRID, results_dir=tmp_path, loss="l1", **HKW)


def test_fold_model_has_the_searched_widths(tiny, monkeypatch):
    built = []
    real = search.Autoencoder

    def spy(*args, **kw):
        built.append(real(*args, **kw))
        return built[-1]

    monkeypatch.setattr(search, "Autoencoder", spy)
    run_cfg = {
        "n_folds": 2,
        "seed": 0,
        "epochs": 1,
        "batch_size": 64,
        "weight_decay": 0.0,
        "schedule": None,
        "channels": [4, 8, 8],
        "hidden": 16,
    }
    row = search._run_fold(({"lr": 1e-3, "latent_dim": 3}, 0, "k"), tiny.numpy(), run_cfg, "cpu")
    assert built[0].config == {"latent_dim": 3, "channels": [4, 8, 8], "hidden": 16} and row["epochs_run"] == 1
