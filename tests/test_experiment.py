"""The experiment layer: settings per part, the cached-run primitive, notebook 01's final models, thin notebooks."""

import ast
import json
import time

import numpy as np
import pandas as pd
import pytest
import torch

from helpers import autoencoder, gan, profiles, report
from helpers.artifacts import load_or_train_models
from helpers.data import load_train_test
from helpers.loop import epoch_loop
from helpers.models import Autoencoder, Discriminator, Generator, SmallCNN, save_model


def _code_lines(cell_source: str) -> int:
    """Logical lines (statements; a call wrapped over several lines by the formatter counts once)."""
    import io
    import tokenize

    tokens = tokenize.generate_tokens(io.StringIO(cell_source + "\n").readline)
    return sum(1 for t in tokens if t.type == tokenize.NEWLINE)


@pytest.mark.parametrize("name", report.NOTEBOOKS)
def test_notebooks_are_thin(name):
    """At most 120 logical code lines (comments and blank lines excluded) and no function, class or lambda."""
    nb = json.loads((report.REPO / "notebooks" / f"{name}.ipynb").read_text())
    code = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code"]
    assert sum(_code_lines(src) for src in code) <= 120, name
    for src in code:
        defined = [
            type(n).__name__
            for n in ast.walk(ast.parse(src))
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda))
        ]
        assert not defined, f"{name} defines {defined} in a cell: that logic belongs in helpers/"


def test_setup_resolves_seeds_and_reads_as_attributes(tmp_path):
    given = {"seed": 3, "epochs": 7, "results_dir": tmp_path / "r", "figures_dir": tmp_path / "f"}
    S = profiles.setup("quick", profiles.DENOISE, given)
    assert S.epochs == 7 and S["epochs"] == 7 and S.val_size == profiles.DENOISE["quick"].val_size
    assert S.device.type in ("cpu", "cuda") and S.results_dir.is_dir() and S.seed == 3
    a = torch.rand(3)
    profiles.setup("quick", profiles.DENOISE, given)
    assert torch.equal(a, torch.rand(3))  # seeded with the notebook's seed
    with pytest.raises(AttributeError, match="no setting 'epochz'.*'epochs'"):
        _ = S.epochz


def test_load_train_test_subset(mnist_root):
    x, y, xt, yt = load_train_test(mnist_root, 500)
    assert x.shape == (500, 1, 28, 28) and len(y) == 500 and len(xt) == 10000 == len(yt)
    with pytest.raises(ValueError, match="train_subset"):
        load_train_test(mnist_root, -5)


def _idle_loop(**kw):
    """The shared epoch loop over 4 items in batches of 2, with a step that trains nothing."""
    return epoch_loop(
        lambda idx: {"loss": 0.0}, 4, batch_size=2, seed=0, get_state=dict, set_state=lambda s: None, **kw
    )


def test_epoch_loop_flushes_denormals():
    torch.set_flush_denormal(False)
    tiny = torch.tensor([1e-39], dtype=torch.float32)
    assert (tiny * 1.0).item() != 0.0  # a denormal survives by default
    _idle_loop(epochs=1, progress=False)
    assert (tiny * 1.0).item() == 0.0


def test_progress_bars_go_to_stderr_which_the_pdf_leaves_out(capsys):
    """Progress bars show in the terminal and the notebook but not in the report: they are written to stderr, the
    stream helpers.report.pdf drops."""
    _idle_loop(epochs=2, progress=True, desc="bar-test")
    out = capsys.readouterr()
    assert "bar-test" in out.err and "100%|" in out.err and "bar-test" not in out.out


def _tiny_models():
    torch.manual_seed(0)
    return {"a": Autoencoder(2), "b": Autoencoder(3)}


def test_load_or_train_models_caches_several_models_and_a_log(tmp_path):
    calls = []

    def train():
        calls.append(1)
        return _tiny_models(), pd.DataFrame({"epoch": [1], "loss": [0.5]})

    paths = {"a": tmp_path / "a.pt", "b": tmp_path / "b.pt"}
    models, log, loaded = load_or_train_models(paths, {"x": 1}, train)
    assert not loaded and len(calls) == 1 and set(models) == {"a", "b"} and (tmp_path / "a.history.csv").is_file()
    again, log2, loaded = load_or_train_models(paths, {"x": 1}, train)
    assert loaded and len(calls) == 1 and again["b"].latent_dim == 3
    pd.testing.assert_frame_equal(log, log2)
    assert load_or_train_models(paths, {"x": 2}, train)[2] is False and len(calls) == 2  # a changed setting retrains
    paths["b"].unlink()
    assert load_or_train_models(paths, {"x": 2}, train)[2] is False and len(calls) == 3  # one missing model retrains
    save_model(Autoencoder(3), paths["b"], config_key="stale")
    assert load_or_train_models(paths, {"x": 2}, train)[2] is False and len(calls) == 4  # one stale model retrains


def test_load_or_train_models_keeps_a_non_table_log_with_torch(tmp_path):
    def train():
        return {"a": Autoencoder(2)}, {"iters": pd.DataFrame({"g": [1.0]}), "best_epoch": 4}

    paths, log_path = {"a": tmp_path / "a.pt"}, tmp_path / "log.pt"
    assert load_or_train_models(paths, {}, train, log_path=log_path)[2] is False
    _, log, loaded = load_or_train_models(paths, {}, train, log_path=log_path)
    assert loaded and log["best_epoch"] == 4 and log["iters"]["g"].tolist() == [1.0]


def test_final_model_jobs_and_paths(tmp_path):
    assert autoencoder.final_model_jobs(8, 10, 0.5) == [(8, 0.5), (10, 0.5), (10, None)]
    assert autoencoder.final_model_jobs(10, 10, 0.5) == [(10, 0.5), (10, None)]
    assert autoencoder.final_model_jobs(10, None, None) == [(10, None)]
    names = [autoencoder.final_model_path(tmp_path, d, rv, 8, 0.5).name for d, rv in [(8, 0.5), (10, 0.5), (10, None)]]
    assert names == ["autoencoder.pt", "autoencoder_d10.pt", "autoencoder_d10_no_revive.pt"]


def _finals():
    """A 'trained' d=4 model (its output is a dark image, close to most pixels) and an untrained d=10 (grey, 0.5)."""
    torch.manual_seed(0)
    good, bad = Autoencoder(4), Autoencoder(10)
    with torch.no_grad():
        good.decoder.net[-2].weight.zero_()
        good.decoder.net[-2].bias.fill_(-3.0)
    return good, bad, pd.DataFrame({"epoch": [1], "seconds": [1.0], "revived": [3]})


def test_compare_final_models_and_why_the_pick_is_not_the_lowest(mnist_train):
    x = mnist_train[0][:300]
    good, bad, hist = _finals()
    finals = {(4, 0.5): (good, hist, False), (10, 0.5): (bad, hist, False), (10, None): (bad, hist, True)}
    table = autoencoder.compare_final_models(finals, x, x, pick_dim=4, revive=0.5, device="cpu")
    assert table["chosen by"].tolist() == ["our CV", "homework report", "ablation"]
    assert table.lowest.tolist() == [True, False, False] and pd.isna(table.pca_test_mse.iloc[2])
    swapped = {(10, 0.5): (bad, hist, False), (4, 0.5): (good, hist, False)}  # the pick, d=10, is the worse model
    table = autoencoder.compare_final_models(swapped, x, x, pick_dim=10, revive=0.5, device="cpu")
    assert table.lowest.tolist() == [False, True] and table.latent_dim.tolist() == [10, 4]
    metrics = autoencoder.comparison_metrics(table)
    assert metrics["pick_is_lowest_test_mse"] is False and metrics["compare_latent_dim"] == 4


def test_reviving_ablation_counts_dead_units(mnist_train):
    x = mnist_train[0][:200]
    good, bad, hist = _finals()
    finals = {(4, 0.5): (good, hist, False), (4, None): (bad.__class__(4), hist, True)}
    table = autoencoder.compare_final_models(finals, x, x, pick_dim=4, revive=0.5, device="cpu")
    units, totals = autoencoder.reviving_ablation(table, finals, x, 0.5)
    assert {"dead, plain", "dead, revived", "units"} <= set(units.columns)
    assert totals["latent_dim"] == 4 and totals["reinitialisations"] == int(hist["revived"].sum())
    assert totals["dead_plain"] == units["dead, plain"].sum() and totals["units"] == units["units"].sum()
    assert totals["test_mse_plain"] == table.test_mse.iloc[-1] and totals["test_mse_revived"] == table.test_mse.iloc[0]


def _gan_cfg(x, **kw):
    return gan.gan_config(
        x,
        **{
            "epochs": 2,
            "lr": 2e-4,
            "betas": (0.5, 0.999),
            "batch_size": 32,
            "real_label": 0.9,
            "ema_decay": None,
            "top_k": None,
            "noise_dim": 8,
            "g_hidden": [16, 32],
            "d_hidden": [32, 16],
            "seed": 0,
            "eval_every": 1,
            "eval_samples": 10,
            **kw,
        },
    )


def test_load_or_train_gan_saves_loads_and_retrains_on_a_change(mnist_train, tmp_path):
    x = gan.to_gan_range(mnist_train[0][:96])

    def evaluate(G):  # a stand-in scorer (the loop keeps the epoch with the lowest fid)
        return {"fid": float(torch.rand(1)), "is": 1.0}

    G, D, log, loaded = gan.load_or_train_gan(
        tmp_path, x, _gan_cfg(x), evaluate=evaluate, progress=False, fixed_noise=torch.randn(16, 8)
    )
    assert not loaded and isinstance(G, Generator) and isinstance(D, Discriminator)
    saved = {p.name for p in tmp_path.iterdir() if p.is_file()}
    assert saved == {
        "generator.pt",
        "discriminator.pt",
        "gan_epochs.csv",
        "gan_iters.csv",
        "gan_snapshots.npz",
    }  # no pickle
    assert pd.read_csv(tmp_path / "gan_epochs.csv")["epoch"].tolist() == [1, 2]
    iters = pd.read_csv(tmp_path / "gan_iters.csv")  # 2 epochs of 3 batches, in blocks of ITER_BLOCK iterations
    assert len(iters) == 1 and iters["iteration"].tolist() == [6] and gan.ITER_BLOCK > 6
    assert sorted(log["snapshots"]) == [1, 2] and log["snapshots"][1].shape == (gan.SNAPSHOT_IMAGES, 1, 28, 28)
    assert log["snapshots"][1].min() >= -1 and log["snapshots"][1].max() <= 1
    G2, _, log2, loaded = gan.load_or_train_gan(tmp_path, x, _gan_cfg(x), evaluate=evaluate, progress=False)
    assert loaded and log2["best_epoch"] == log["best_epoch"]
    pd.testing.assert_frame_equal(log2["iters"], log["iters"])
    (tmp_path / "gan_snapshots.npz").unlink()  # a missing part of the log: trained again, not half-loaded
    assert gan.load_or_train_gan(tmp_path, x, _gan_cfg(x), evaluate=evaluate, progress=False)[3] is False
    assert all(torch.equal(a, b) for a, b in zip(G.state_dict().values(), G2.state_dict().values()))
    # a longer run with the same settings resumes the shorter run's checkpoint and retrains only the new epoch
    _, _, log3, loaded = gan.load_or_train_gan(tmp_path, x, _gan_cfg(x, epochs=3), evaluate=evaluate, progress=False)
    assert not loaded and log3["epochs"]["epoch"].tolist() == [1, 2, 3]
    pd.testing.assert_frame_equal(log3["epochs"].iloc[:2][["g_loss", "d_loss"]], log["epochs"][["g_loss", "d_loss"]])
    # the recipe comparison: side runs that save no model (their checkpoints apart from the main run's), one CSV table
    calls = []

    def counting(G):
        calls.append(1)
        return {"fid": 10.0 + len(calls), "is": 1.0, "min_class_share": 0.1}

    def spread_of(G):
        return pd.DataFrame({"fid": [1.0, 1.2, 1.4]})

    recipes = {"ours": {}, "no smoothing": {"real_label": 1.0}, "R1, no dropout in D": {"r1": 1.0, "d_dropout": 0.0}}
    table = gan.recipe_comparison(
        tmp_path / "recipes.csv",
        x,
        _gan_cfg(x, epochs=3),
        recipes,
        epochs=1,
        evaluate=counting,
        spread_of=spread_of,
        progress=False,
    )
    assert table.candidate.tolist() == list(recipes) and table.epoch.tolist() == [1, 1, 1] and len(calls) == 3
    assert table.fid_draw_std.round(6).tolist() == [0.2] * 3
    assert {p.name for p in tmp_path.iterdir() if p.is_file()} == saved | {"recipes.csv"}
    assert (
        len(list((tmp_path / "checkpoints").glob("gan_side-*.pt"))) == 3
    )  # the main run's 3-epoch checkpoint untouched
    again = gan.recipe_comparison(
        tmp_path / "recipes.csv",
        x,
        _gan_cfg(x, epochs=3),
        recipes,
        epochs=1,
        evaluate=counting,
        spread_of=spread_of,
        progress=False,
    )
    assert len(calls) == 3 and again.fid.tolist() == table.fid.tolist()  # loaded, not retrained
    rt = gan.recipe_table(table, 1)
    assert set(rt.index) == set(recipes) and rt.fid.is_monotonic_increasing and rt.attrs["epoch"] == 1


def test_recipe_study_reads_our_row_from_the_main_run_when_it_measured_the_spread(mnist_train, tmp_path):
    x = gan.to_gan_range(mnist_train[0][:96])
    calls = []

    def evaluate(G):
        calls.append(1)
        return {"fid": 20.0 - len(calls), "is": 1.0, "min_class_share": 0.1}

    clf = SmallCNN()  # untrained: any feature map serves for the bookkeeping checked here
    ref = gan.classifier_outputs(clf, mnist_train[0][:50], "cpu")[0]
    spread_of = gan.draw_spreader(clf, ref, 10, draws=3, seed=5, device="cpu")
    G, _, log, _ = gan.load_or_train_gan(
        tmp_path, x, _gan_cfg(x, epochs=3), evaluate=evaluate, spread_at=(2, spread_of), progress=False
    )
    ep = log["epochs"]
    assert ep.fid_draw_std.notna().tolist() == [False, True, False]  # measured at epoch 2 only, and saved in the log
    assert np.isfinite(ep.fid_draw_std[1]) and ep.fid_draw_std[1] > 0
    n_main = len(calls)
    study = gan.recipe_study(
        tmp_path / "recipes.csv",
        x,
        _gan_cfg(x, epochs=3),
        {"no smoothing": {"real_label": 1.0}},
        ep,
        G,
        spread_of,
        epochs=2,
        evaluate=evaluate,
        device="cpu",
        progress=False,
    )
    assert len(calls) == n_main + 2  # only the candidate trained (2 epochs, scored at each); ours not rerun
    assert set(study["table"].index) == {"ours", "no smoothing"}
    assert (
        study["table"].loc["ours", "fid"] == ep.fid[1]
        and study["table"].loc["ours", "fid_draw_std"] == ep.fid_draw_std[1]
    )
    assert study["curves"]["ours"].epoch.tolist() == [1, 2] and study["main_fid"] is None
    t = study["table"]
    assert (
        t.loc["ours", "fid_vs_ours"] == 0
        and t.loc["no smoothing", "fid_vs_ours"] == t.fid["no smoothing"] - t.fid["ours"]
    )
    assert np.isclose(t.loc["ours", "twice_combined_std"], 2 * np.sqrt(2) * t.loc["ours", "fid_draw_std"])
    assert list(gan.recipe_display(t).columns) == [gan.RECIPE_COLUMNS[c] for c in t.columns]  # every column, short
    # a main log without the spread at that epoch: our recipe is rerun as a side run and checked against the main run
    study = gan.recipe_study(
        tmp_path / "recipes.csv",
        x,
        _gan_cfg(x, epochs=3),
        {"no smoothing": {"real_label": 1.0}},
        ep.drop(columns="fid_draw_std"),
        G,
        spread_of,
        epochs=2,
        evaluate=evaluate,
        device="cpu",
        progress=False,
    )
    assert len(calls) == n_main + 4  # ours: 2 epochs; the candidate: its checkpoint
    assert study["main_fid"] == ep.fid[1]  # the main run's FID at that epoch, for the side run to be checked against
    with pytest.raises(ValueError, match="spread_at"):
        gan.load_or_train_gan(tmp_path / "x", x, _gan_cfg(x), spread_at=(0, spread_of), progress=False)


def test_gan_config_keeps_the_seed_recipe_key_and_rejects_unknown_settings():
    x = torch.zeros(10, 1, 28, 28)
    seed_cfg = _gan_cfg(x)
    assert _gan_cfg(x, g_dropout=0.5, r1=0.0, amp=False) == seed_cfg  # seed defaults leave the key alone
    cfg = _gan_cfg(x, g_dropout=0.0, r1=10.0, amp=True)
    assert {k: cfg[k] for k in ("g_dropout", "r1", "amp")} == {"g_dropout": 0.0, "r1": 10.0, "amp": True}
    assert gan.with_recipe(cfg, r1=0.0, g_dropout=0.5) == _gan_cfg(x, amp=True)
    with pytest.raises(ValueError, match="unknown GAN recipe settings"):
        _gan_cfg(x, dropout=0.1)
    with pytest.raises(ValueError, match="unknown GAN settings"):
        gan.with_recipe(cfg, widths=3)


def test_manifest_merges_runs_and_says_when_it_came_from_empty(tmp_path):
    from helpers.report import manifest

    nb = lambda name, start, end, s: {"name": name, "seconds": s, "started": start, "finished": end}  # noqa: E731
    run = dict(profile="full", commit="abc123", clean=True)
    m = manifest.record(
        tmp_path,
        run_started="2026-01-01T10:00:00+00:00",
        from_empty=True,
        **run,
        notebooks=[nb("01_autoencoder", "2026-01-01T10:00:00+00:00", "2026-01-01T10:40:00+00:00", 2400.0)],
    )
    m = manifest.record(
        tmp_path,
        run_started="2026-01-01T10:00:00+00:00",
        from_empty=True,
        **run,
        notebooks=[nb("02_classification", "2026-01-01T10:40:05+00:00", "2026-01-01T11:00:05+00:00", 1200.0)],
    )
    assert m["from_empty"] is True and m["git_commit"] == "abc123" and m["total_seconds"] == 3605.0
    assert "| **all** | **1 h 00 min 05 s** | one run from an empty `results/`" in manifest.timing_table(m)
    assert [e["name"] for e in m["notebooks"]] == ["01_autoencoder", "02_classification"]
    assert {"python", "torch", "torchvision", "cpu", "cores", "threads", "device", "started", "finished"} <= set(m)
    # a later run of one notebook with the cache: no longer one run from empty; the total is the notebooks' sum
    m = manifest.record(
        tmp_path,
        run_started="2026-01-02T09:00:00+00:00",
        from_empty=False,
        profile="full",
        commit="def456",
        clean=False,
        notebooks=[nb("02_classification", "2026-01-02T09:00:00+00:00", "2026-01-02T09:02:00+00:00", 120.0)],
    )
    assert m["from_empty"] is False and m["total_seconds"] == 2520.0 and m["git_commit"] == "several (see notebooks)"
    assert m["notebooks"][1]["git_commit"] == "def456 (uncommitted changes)"
    assert json.loads((tmp_path / manifest.NAME).read_text()) == m
    table = manifest.timing_table(m)
    cpu = manifest.environment()["cpu"]
    assert f"| 01_autoencoder | 40 min 00 s | 2026-01-01 10:00 UTC | abc123 | {cpu} |" in table
    assert "| **all** | **42 min 00 s** | notebooks run separately" in table and m["cpu"] == cpu
    # a notebook rerun on another machine: each row names its CPU, the total says they differ
    data = json.loads((tmp_path / manifest.NAME).read_text())
    data["notebooks"][0]["cpu"] = "Other CPU"
    (tmp_path / manifest.NAME).write_text(json.dumps(data))
    m = manifest.record(
        tmp_path,
        run_started="2026-01-03T09:00:00+00:00",
        from_empty=False,
        profile="full",
        commit="def456",
        clean=True,
        notebooks=[nb("02_classification", "2026-01-03T09:00:00+00:00", "2026-01-03T09:02:00+00:00", 120.0)],
    )
    assert m["cpu"] == "several (see notebooks)" and [e["cpu"] for e in m["notebooks"]] == ["Other CPU", cpu]
    table = manifest.timing_table(m)
    assert (
        "| 40 min 00 s | 2026-01-01 10:00 UTC | abc123 | Other CPU |" in table
        and "not the same CPU for every notebook" in table
    )
    assert manifest.cached_artifacts(tmp_path) == []  # the manifest itself is no cached result
    (tmp_path / "cv_runs").mkdir()
    (tmp_path / "cv_runs" / "k.json").write_text("{}")
    assert manifest.cached_artifacts(tmp_path) == [tmp_path / "cv_runs" / "k.json"]


def test_summary_updates_the_readme_timing_table_from_the_manifest(tmp_path):
    from helpers.report import manifest, summary

    manifest.record(
        tmp_path,
        run_started="2026-01-01T10:00:00+00:00",
        from_empty=True,
        profile="full",
        commit="abc",
        clean=True,
        notebooks=[
            {
                "name": "04_gan",
                "seconds": 61.0,
                "started": "2026-01-01T10:00:00+00:00",
                "finished": "2026-01-01T10:01:01+00:00",
            }
        ],
    )
    readme = tmp_path / "README.md"
    readme.write_text(
        f"x\n{summary.START}\nold\n{summary.END}\ny\n{summary.TIMING_START}\nold times\n{summary.TIMING_END}\nz\n"
    )
    summary.update_readme(readme, tmp_path)
    text = readme.read_text()
    assert (
        "\nold\n" not in text
        and "old times" not in text
        and "| 04_gan | 1 min 01 s |" in text
        and "one run from an empty `results/`" in text
    )
    assert text.startswith("x\n") and text.endswith("z\n")


def test_final_autoencoder_widths_and_loss_train_that_network_and_only_other_settings_change_the_key(
    mnist_train, tmp_path
):
    from helpers.autoencoder import load_or_train_autoencoder
    from helpers.models import load_model

    x = mnist_train[0][:128]
    kw = dict(
        latent_dim=3, lr=1e-3, epochs=1, batch_size=64, seed=0, device="cpu", progress=False, results_dir=tmp_path
    )
    seed_widths, _, loaded = load_or_train_autoencoder(tmp_path / "a.pt", x[:96], x[96:], **kw)
    assert not loaded and seed_widths.config["channels"] == [8, 16, 32] and seed_widths.config["hidden"] == 64
    # the homework report's widths named explicitly: the same cached model
    assert load_or_train_autoencoder(tmp_path / "a.pt", x[:96], x[96:], channels=(8, 16, 32), hidden=64, **kw)[2]
    wide, _, loaded = load_or_train_autoencoder(tmp_path / "a.pt", x[:96], x[96:], channels=(4, 8, 8), hidden=16, **kw)
    assert not loaded and load_model(tmp_path / "a.pt").config == {"latent_dim": 3, "channels": [4, 8, 8], "hidden": 16}
    finals = autoencoder.load_or_train_final_models(
        tmp_path,
        x[:96],
        x[96:],
        pick_dim=3,
        compare_dim=None,
        lr=1e-3,
        epochs=1,
        batch_size=64,
        channels=(4, 8, 8),
        hidden=16,
        seed=0,
        device="cpu",
        progress=False,
    )
    assert [m.config["hidden"] for m, _, _ in finals.values()] == [16]
    # the training loss: MSE (the homework report's) keeps the key; cross-entropy trains another model, logging both
    # losses
    assert load_or_train_autoencoder(
        tmp_path / "a.pt", x[:96], x[96:], channels=(4, 8, 8), hidden=16, loss="mse", **kw
    )[2]
    _, hist, loaded = load_or_train_autoencoder(
        tmp_path / "a.pt", x[:96], x[96:], channels=(4, 8, 8), hidden=16, loss="bce", **kw
    )
    assert not loaded and {"train_mse", "train_loss", "test_mse"} <= set(hist.columns)
    bce = dict(
        pick_dim=3,
        compare_dim=None,
        lr=1e-3,
        epochs=1,
        batch_size=64,
        channels=(4, 8, 8),
        hidden=16,
        loss="bce",
        seed=0,
        device="cpu",
        progress=False,
    )
    loaded = [
        [ld for _, _, ld in autoencoder.load_or_train_final_models(tmp_path, x[:96], x[96:], **bce).values()]
        for _ in range(2)
    ]
    assert loaded == [[False], [True]]  # not the MSE-trained final model above; then its own


def test_save_npz_is_read_by_numpy_without_pickles_and_is_the_same_bytes_for_the_same_arrays(tmp_path):
    from helpers.files import save_npz

    arrays = {"epoch_1": np.arange(12, dtype=np.float32).reshape(3, 4), "epoch_2": np.ones((2, 1, 28, 28), np.uint8)}
    a = save_npz(tmp_path / "a.npz", arrays)
    time.sleep(2.1)  # written again later (zip times count in 2-second steps): still the same bytes
    b = save_npz(tmp_path / "b.npz", arrays)
    assert a.read_bytes() == b.read_bytes() and not list(tmp_path.glob("*.tmp"))
    with np.load(a, allow_pickle=False) as z:
        assert z.files == ["epoch_1", "epoch_2"]
        assert all(np.array_equal(z[k], v) and z[k].dtype == v.dtype for k, v in arrays.items())
    with pytest.raises(ValueError):  # an object array would need a pickle
        save_npz(tmp_path / "c.npz", {"x": np.array([{"a": 1}], dtype=object)})
    assert not (tmp_path / "c.npz").exists() and not list(tmp_path.glob("*.tmp"))  # a failed write leaves nothing
