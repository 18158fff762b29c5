"""Each benchmark runs as documented (tiny settings) and saves a record whose figures agree with each other; the
committed benchmarks/README.md is what `python benchmarks/records.py` makes of the committed records."""

import json
import subprocess
import sys
from datetime import datetime

import numpy as np
import pytest

from helpers.report import REPO


def _run(args, tmp_path):
    out = subprocess.run(
        [sys.executable, *args, "--out", str(tmp_path)], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    (path,) = tmp_path.glob("*.json")
    record = json.loads(path.read_text())
    assert record["command"].startswith(f"python {args[0]}") and record["machine"]["cores"] >= 1
    assert all(len(row) == len(record["columns"]) for row in record["rows"])
    return record


def _ratio(text: str) -> float:
    return float(text.rstrip("x"))


@pytest.mark.slow
def test_scoring_record_ratio_is_the_ratio_of_its_times(tmp_path):
    r = _run(["benchmarks/scoring.py", "--images", "300", "--repeats", "1", "--threads", "1"], tmp_path)
    (_, plain, plain_ips), (_, ours, ours_ips) = r["rows"]
    assert plain > 0 and ours > 0 and plain_ips == pytest.approx(300 / plain, rel=0.01)  # seconds rounded to ms
    assert float(r["summary"].split("x")[0]) == pytest.approx(plain / ours, rel=0.05)


@pytest.mark.slow
def test_channels_last_record_has_both_layouts_per_model(tmp_path):
    r = _run(["benchmarks/channels_last.py", "--steps", "2", "--repeats", "1", "--threads", "1"], tmp_path)
    assert [row[0] for row in r["rows"]] == ["autoencoder (d=10)", "encoder classifier"]
    for _, _, nchw, cl, ratio in r["rows"]:
        assert _ratio(ratio) == pytest.approx(cl / nchw, abs=0.01)


@pytest.mark.slow
def test_gan_step_record_times_bf16_only_where_asked_or_native(tmp_path):
    from helpers.gan import bf16_is_fast

    args = ["benchmarks/gan_step.py", "--steps", "2", "--repeats", "1", "--batches", "32", "64", "--threads", "1"]
    r = _run(args, tmp_path)
    precisions = {row[1] for row in r["rows"]}
    assert precisions == ({"fp32", "bf16"} if bf16_is_fast("cpu") else {"fp32"})
    assert r["rows"][0][:2] == [32, "fp32"] and r["rows"][0][3] == "1.00x"  # the reference row


@pytest.mark.slow
def test_denormals_record_trains_both_ways_to_the_same_loss(tmp_path):
    r = _run(["benchmarks/denormals.py", "--epochs", "2", "--images", "1200"], tmp_path)
    (off, *_, mse_off), (on, *_, mse_on) = r["rows"]
    assert (off, on) == ("False", "True") and mse_off == pytest.approx(mse_on, rel=0.05)


@pytest.mark.slow
def test_autoencoder_widths_record_has_a_row_per_width_and_loss(tmp_path):
    args = ["benchmarks/autoencoder_widths.py", "--widths", "8,16,32:64", "4,8,8:16", "--fold-epochs", "1"]
    args += ["--final-epochs", "1", "--images", "600", "--bf16", "off", "--loss", "mse", "bce"]
    r = _run(args, tmp_path)
    assert [(row[0], row[1], row[3]) for row in r["rows"]] == [
        ("(8, 16, 32)", 64, "mse"),
        ("(8, 16, 32)", 64, "bce"),
        ("(4, 8, 8)", 16, "mse"),
        ("(4, 8, 8)", 16, "bce"),
    ]
    assert all(0 < row[-1] < 1 for row in r["rows"])  # every width's final model was scored


@pytest.mark.slow
def test_warm_restarts_record_scores_every_rung(tmp_path):
    r = _run(["benchmarks/warm_restarts.py", "--rungs", "1", "2", "--latent-dims", "4", "--images", "600"], tmp_path)
    assert r["columns"] == ["d", "how", "val MSE @ 1 ep", "val MSE @ 2 ep", "seconds"]
    assert [row[1] for row in r["rows"]] == ["one-cycle", "restarts"]


@pytest.mark.slow
def test_fixmatch_recipes_record_has_a_curve_and_an_end_per_variant(tmp_path):
    args = ["--steps", "20", "--every", "10", "--images", "3000", "--variants", "notebook", "long", "flex"]
    r = _run(["benchmarks/fixmatch_recipes.py", *args], tmp_path)
    steps = {v: [row[1] for row in r["rows"] if row[0] == v] for v in ("notebook", "long", "flex")}
    assert steps == {"notebook": [10, 20, "end"], "long": [10, 20, 30, 40, "end"], "flex": [10, 20, "end"]}
    ends = {row[0]: row[2] for row in r["rows"] if row[1] == "end"}
    assert all(0 <= a <= 1 for a in ends.values()) and r["summary"].startswith("final test accuracy: notebook ")


@pytest.mark.slow
def test_fixmatch_recipes_can_score_on_held_out_training_images_instead_of_the_test_set(tmp_path):
    args = ["--steps", "10", "--every", "10", "--images", "3000", "--variants", "notebook"]
    r = _run(["benchmarks/fixmatch_recipes.py", *args, "--score-on", "held-out", "--held-out", "500"], tmp_path)
    assert r["columns"][2] == "held-out accuracy" and r["summary"].startswith("final held-out accuracy: notebook ")
    assert "500 held-out training images" in r["what"]


def test_held_out_images_are_neither_labelled_nor_unlabelled():
    sys.path.insert(0, str(REPO / "benchmarks"))
    from fixmatch_recipes import held_out_split

    labelled = np.arange(0, 100, 10)
    held, unlabelled = held_out_split(100, labelled, 20, seed=0)
    assert len(held) == 20 and len(unlabelled) == 70
    assert not set(held) & set(labelled) and not set(held) & set(unlabelled)
    assert set(held) | set(unlabelled) | set(labelled) == set(range(100))
    assert np.array_equal(held_out_split(100, labelled, 20, seed=0)[0], held)  # seeded
    assert len(held_out_split(100, labelled, 0, seed=0)[0]) == 0  # the notebook's pool: every unlabelled image
    with pytest.raises(ValueError, match="held-out"):
        held_out_split(100, labelled, 90, seed=0)


@pytest.mark.slow
def test_fixmatch_step_record_times_each_saving_on_and_off(tmp_path):
    r = _run(["benchmarks/fixmatch_step.py", "--steps", "3", "--repeats", "1"], tmp_path)
    assert [row[:2] for row in r["rows"]] == [
        ["F.affine_grid", "glibc defaults"],
        ["F.affine_grid", "keep_freed_memory"],
        ["helpers.corruption.affine_grid", "glibc defaults"],
        ["helpers.corruption.affine_grid", "keep_freed_memory"],
    ]
    base = r["rows"][0][2]
    for *_, ms, system, faults, ratio in r["rows"]:
        assert 0 <= system <= ms and faults >= 0 and ratio == pytest.approx(base / ms, abs=0.01)


@pytest.mark.slow
def test_keep_freed_memory_record_times_each_network_both_ways(tmp_path):
    args = ["benchmarks/keep_freed_memory.py", "--tasks", "autoencoder", "gan", "--images", "512", "--repeats", "1"]
    r = _run(args, tmp_path)
    assert [row[:2] for row in r["rows"]] == [
        ["autoencoder", "glibc defaults"],
        ["autoencoder", "keep_freed_memory"],
        ["gan", "glibc defaults"],
        ["gan", "keep_freed_memory"],
    ]
    for i, (_, _, seconds, system, faults, ratio) in enumerate(r["rows"]):
        base = r["rows"][i - i % 2][2]
        assert 0 <= system <= seconds and faults >= 0 and ratio == pytest.approx(base / seconds, rel=0.02)


@pytest.mark.slow
def test_denoiser_warm_start_record_scores_the_committed_models_beside_each_warm_start(tmp_path):
    args = ["--images", "2000", "--epochs", "1", "2", "--sigmas", "0.3"]
    r = _run(["benchmarks/denoiser_warm_start.py", *args], tmp_path)
    models = [(row[1], row[2]) for row in r["rows"]]
    assert models == [
        ("noise-only model", 0),
        ("per-sigma model, from scratch", 40),
        ("warm start from the noise-only model", 1),
        ("warm start from the noise-only model", 2),
    ]
    psnr = [row[3] for row in r["rows"]]
    assert all(10 < p < 40 for p in psnr) and psnr[0] != psnr[1]  # the two committed models differ
    assert r["summary"].startswith("sigma 0.3: warm start ")


def test_denoiser_warm_start_refuses_a_level_the_notebook_does_not_test():
    out = subprocess.run(
        [sys.executable, "benchmarks/denoiser_warm_start.py", "--sigmas", "0.4"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 2 and "--sigmas must be among notebook 03's levels" in out.stderr


def test_warm_restarts_benchmark_names_a_bad_fold():
    out = subprocess.run(
        [sys.executable, "benchmarks/warm_restarts.py", "--fold", "6", "--images", "600"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 2 and "--fold must be one of 0 ... 5, got 6" in out.stderr


def test_benchmarks_readme_is_generated_from_the_committed_records(tmp_path):
    out = subprocess.run([sys.executable, "benchmarks/records.py", "--check"], cwd=REPO, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    # a new record changes the page, and --check says the committed page is stale
    results = tmp_path / "results"
    results.mkdir()
    for p in (REPO / "benchmarks" / "results").glob("*.json"):
        (results / p.name).write_text(p.read_text())
    record = json.loads(next(results.glob("scoring-*.json")).read_text())
    (results / "scoring-29990101T000000.json").write_text(json.dumps({**record, "date": "2999-01-01T00:00:00+00:00"}))
    readme = tmp_path / "README.md"
    readme.write_text((REPO / "benchmarks" / "README.md").read_text())
    args = [sys.executable, "benchmarks/records.py", "--results", str(results), "--readme", str(readme)]
    assert subprocess.run([*args, "--check"], cwd=REPO, capture_output=True).returncode == 1
    assert subprocess.run(args, cwd=REPO).returncode == 0 and "2999-01-01" in readme.read_text()


def test_two_records_saved_in_the_same_second_are_both_kept(tmp_path, monkeypatch):
    sys.path.insert(0, str(REPO / "benchmarks"))
    import records

    class Frozen(datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime(2030, 1, 1, tzinfo=tz)

    monkeypatch.setattr(records, "datetime", Frozen)
    monkeypatch.setattr(records, "machine", lambda: {"cpu": "test", "flags": [], "cores": 1})
    first = records.save("same", what="w", columns=["a"], rows=[[1]], summary="s", out=tmp_path)
    second = records.save("same", what="w", columns=["a"], rows=[[2]], summary="s", out=tmp_path)
    assert (first.name, second.name) == ("same-20300101T000000.json", "same-20300101T000000-2.json")
    assert [json.loads(p.read_text())["rows"] for p in (first, second)] == [[[1]], [[2]]]
