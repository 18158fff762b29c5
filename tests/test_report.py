"""The headless quick-profile run of all notebooks and the PDF made from it."""

import shutil
import subprocess
import sys

import nbformat
import pandas as pd
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

import helpers.report.execute as report
from helpers.report.pdf import build_pdf

PARTS = ["Part 1", "Part 2", "Part 3", "Part 4"]


def test_tidy_keeps_final_progress_state(tmp_path):
    nb = new_notebook()
    injected = new_code_cell("# Parameters\nepochs = 3\n")
    injected.metadata["tags"] = ["injected-parameters"]
    nb.cells.append(injected)
    cell = new_code_cell("x")
    cell.outputs = [
        new_output("stream", name="stdout", text="bar 10%\rbar 50%\r"),
        new_output("stream", name="stdout", text="bar 100%\ndone\n"),
    ]
    nb.cells.append(cell)
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    report.tidy(path)
    cells = nbformat.read(path, as_version=4).cells
    assert cells[0].source == "# Parameters\nepochs = 3"  # as ruff format writes it
    out = cells[1].outputs
    assert len(out) == 1 and out[0].text == "bar 100%\ndone\n"


def test_bad_profile():
    with pytest.raises(ValueError, match="profile"):
        report.run("medium")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("quick_notebooks")
    return report.run("quick", out_dir=out, timeout=900, parameters=OVERRIDES)


# one override per notebook of a profile key that no parameters cell used to name: each must reach the code
OVERRIDES = {"tsne_points": 300, "label_min_steps": 12, "eval_images": 800, "eval_samples": 800}


def _text(path) -> str:
    nb = nbformat.read(path, as_version=4)
    return "\n".join(
        "".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/markdown", ""))
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.outputs
    )


@pytest.mark.slow
def test_profile_overrides_reach_the_code(quick_run):
    out = {p.stem: p for p in quick_run}
    assert "t-SNE embeds 300 of the 10,000 test codes" in _text(out["01_autoencoder"])
    label = pd.read_csv(report.REPO / "build" / "quick" / "results" / "02_label_efficiency.csv")
    assert (
        label.loc[label.labels == 100, "epochs"] == 12
    ).all()  # 12 steps of one batch: the profile's 10 was overridden
    assert "evaluated on 800 test images" in _text(out["03_denoising"])
    assert "Real data as the reference (800 training images" in _text(out["04_gan"])
    assert "from one draw of 800 samples to the next" in _text(out["04_gan"])  # the recipe study measured the spread
    assert (report.REPO / "build" / "quick" / "figures" / "04_recipes.png").is_file()


@pytest.mark.slow
def test_quick_run_executes_all_notebooks(quick_run):
    assert [p.stem for p in quick_run] == report.NOTEBOOKS
    import json

    m = json.loads((report.REPO / "build" / "quick" / "results" / "run_manifest.json").read_text())
    assert m["profile"] == "quick" and [e["name"] for e in m["notebooks"]] == report.NOTEBOOKS
    assert (
        isinstance(m["from_empty"], bool) and m["total_seconds"] > 0 and all(e["seconds"] > 0 for e in m["notebooks"])
    )
    assert {"git_commit", "started", "finished", "python", "torch", "cpu", "threads", "device"} <= set(m)
    for path in quick_run:
        nb = nbformat.read(path, as_version=4)
        assert nb.metadata["papermill"]["exception"] is None
        code = [c for c in nb.cells if c.cell_type == "code"]
        assert all(c.execution_count for c in code), f"{path.name}: a cell did not run"
        assert any(
            o.get("output_type") == "display_data" and "image/png" in o.get("data", {}) for c in code for o in c.outputs
        ), f"{path.name}: no figure"


@pytest.mark.slow
def test_pdf_of_quick_run(quick_run, tmp_path):
    pdf = build_pdf(quick_run, tmp_path / "report.pdf", profile="quick")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    for part in PARTS:
        assert part in text
    assert "Contents" in text and "Traceback" not in text
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert int(next(ln.split()[-1] for ln in info.splitlines() if ln.startswith("Pages:"))) >= 10
    images = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert len(images.splitlines()) - 2 >= 15  # the figures are embedded


def test_summary_table_from_results(tmp_path):
    from helpers.artifacts import save_metrics
    from helpers.report.summary import END, HOMEWORK, ROWS, START, table, update_readme

    assert table(tmp_path).count("not run yet") == len(ROWS) <= 12
    save_metrics(
        tmp_path,
        "01_autoencoder",
        {
            "best_lr": 0.01,
            "best_latent_dim": 8,
            "cv_val_mse_mean": 0.02,
            "cv_val_mse_std": 0.001,
            "test_mse": 0.0123456,
            "pca_test_mse": 0.03,
        },
    )
    t = table(tmp_path)
    assert t.splitlines()[0] == f"| part | quantity | ours | {HOMEWORK} |"
    assert "| 0.02000 ± 0.00100 (0.01, 8) | 0.013522 (1e-3, 10) |" in t
    assert "| 0.01235 / 0.03000 | — |" in t
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{START}\nSTALE TABLE\n{END}\nrest\n")
    update_readme(readme, tmp_path)
    text = readme.read_text()
    assert "STALE TABLE" not in text and "0.01235" in text and text.startswith("intro") and text.endswith("rest\n")


def test_summary_names_the_best_classical_denoiser(tmp_path):
    from helpers.artifacts import save_metrics
    from helpers.report.summary import table

    psnr = {
        "denoising AE": 21.5,
        "denoising AE (noise only)": 22.4,
        "denoising AE (σ-specific)": 24.0,
        "PCA projection": 17.9,
        "median 3×3": 18.5,
    }
    save_metrics(tmp_path, "03_denoising", {f"psnr_noise σ=0.3_{k}": v for k, v in psnr.items()})
    # the best classical denoiser is never one of the denoising autoencoders, and is named
    assert "| 22.4 dB / 18.5 dB (median 3×3) |" in table(tmp_path)


def test_metrics_are_saved_to_six_significant_digits(tmp_path):
    import json

    import numpy as np

    from helpers.artifacts import save_metrics

    save_metrics(tmp_path, "m", {"a": 0.0105412345678, "b": [np.float32(1 / 3)], "c": {"d": 12345678.9}, "n": 3})
    assert json.loads((tmp_path / "m.json").read_text()) == {
        "a": 0.0105412,
        "b": [0.333333],
        "c": {"d": 12345700.0},
        "n": 3,
    }


def test_manifest_contents_see_every_change_but_the_manifest(tmp_path):
    from helpers.report import manifest

    (tmp_path / "a.csv").write_text("1\n")
    (tmp_path / manifest.NAME).write_text("{}")
    before = manifest.contents(tmp_path)
    (tmp_path / manifest.NAME).write_text('{"x": 1}')
    assert manifest.contents(tmp_path) == before  # the manifest itself is not a result
    (tmp_path / "a.csv").write_text("2\n")
    assert manifest.contents(tmp_path) != before


def test_committed_notebooks_hold_no_absolute_path_of_the_machine_that_ran_them():
    import re

    for name in report.NOTEBOOKS:
        text = (report.REPO / "notebooks" / f"{name}.ipynb").read_text()
        found = re.findall(r"(?<![\w.])/(?:work|home|root|tmp|Users|mnt|opt|srv|var)/[^\s\"']*", text)
        assert not found, f"{name}: {found[:3]}"


def test_tidy_makes_papermill_paths_relative(tmp_path):
    nb = new_notebook()
    nb.metadata["papermill"] = {
        "input_path": str(report.REPO / "notebooks" / "x.ipynb"),
        "output_path": "/elsewhere/y.ipynb",
    }
    path = tmp_path / "n.ipynb"
    nbformat.write(nb, path)
    report.tidy(path)
    meta = nbformat.read(path, as_version=4).metadata["papermill"]
    assert meta == {"input_path": "notebooks/x.ipynb", "output_path": "y.ipynb"}


class _FakeProc:
    def __init__(self, rc):
        self.returncode = rc

    def poll(self):
        return self.returncode


def _fake_parallel(monkeypatch, cores, rc=lambda cmd: 0):
    calls = []

    def popen(cmd, cwd, env, preexec_fn=None):
        calls.append((cmd, env.get("OMP_NUM_THREADS"), preexec_fn.__defaults__[0] if preexec_fn else None))
        return _FakeProc(rc(cmd))

    monkeypatch.setattr(report.subprocess, "Popen", popen)
    monkeypatch.setattr(report.time, "sleep", lambda s: None)
    monkeypatch.setattr(report.os, "sched_getaffinity", lambda pid: set(range(cores)))
    return calls


def test_parallel_chains_get_their_own_cores(monkeypatch):
    calls = _fake_parallel(monkeypatch, 5)
    report.run_parallel("quick", None, [["epochs", "1"], ["rungs", "[1]"]], 60, 2)
    chains = [c[c.index("--only") + 1 : c.index("--only") + 1 + (3 if "01" in c else 1)] for c, *_ in calls]
    assert chains == [["01", "02", "03"], ["04"]]
    # the critical chain gets the remainder; the two shares do not overlap and the threads follow the share
    assert [(t, cpus) for _, t, cpus in calls] == [("3", [0, 1, 2]), ("2", [3, 4])]
    assert all("quick" in c and c[c.index("-p") : c.index("-p") + 3] == ["-p", "epochs", "1"] for c, *_ in calls)
    assert ["-p", "rungs", "[1]"] == calls[0][0][-3:] and "rungs" not in calls[1][0]  # 01's name only to 01's chain


def test_parallel_on_two_cores_runs_the_chains_one_after_another(monkeypatch, capsys):
    calls = _fake_parallel(monkeypatch, 2)
    report.run_parallel("quick", None, [], 60, 2)
    assert "running the notebooks one after another" in capsys.readouterr().out
    assert [(t, cpus) for _, t, cpus in calls] == [("2", [0, 1]), ("2", [0, 1])]  # each in turn on both cores
    assert report.chain_cpus([0, 1, 2, 3, 4, 5, 6], 3) == [[0, 1, 2], [3, 4], [5, 6]]


def test_parallel_failure_names_the_chain(monkeypatch):
    _fake_parallel(monkeypatch, 4, rc=lambda cmd: 1 if "04" in cmd else 0)
    with pytest.raises(SystemExit, match="04"):
        report.run_parallel("quick", ["04"], [], 60, 2)


@pytest.mark.slow
def test_failed_run_leaves_the_existing_notebook_untouched(tmp_path, capsys):
    """A bad value stops the notebook; the copy at the destination (the committed report, for the full
    profile) keeps its bytes, and the message says where the partial notebook is."""
    committed = tmp_path / "03_denoising.ipynb"
    shutil.copy(report.REPO / "notebooks" / "03_denoising.ipynb", committed)
    before = committed.read_bytes()
    with pytest.raises(SystemExit, match=r"FAILED: 03_denoising.*was left as it was.*build/partial/03_denoising"):
        report.run("quick", only=["03"], parameters={"epochs": -1}, out_dir=tmp_path, timeout=300, progress=False)
    assert committed.read_bytes() == before
    assert (report.REPO / "build" / "partial" / "03_denoising.ipynb").is_file()


@pytest.mark.slow
def test_kill_ends_kernels_and_workers_and_progress_streams(tmp_path):
    """`kill` of a quick run in 01's grid search leaves no process of it alive; its terminal showed progress."""
    import os
    import signal
    import sys
    import time

    import psutil

    results = tmp_path / "results"
    log = (tmp_path / "log.txt").open("w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "helpers.report",
            "--profile",
            "quick",
            "--only",
            "01",
            "-p",
            "results_dir",
            str(results),
            "-p",
            "figures_dir",
            str(tmp_path / "figures"),
            "-p",
            "n_jobs",
            "2",
        ],
        cwd=report.REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline, family = time.time() + 300, set()
    while time.time() < deadline and len(list((results / "cv_runs").glob("*.json"))) < 2:
        assert proc.poll() is None, (tmp_path / "log.txt").read_text()[-3000:]
        family |= {p.pid for p in psutil.Process(proc.pid).children(recursive=True)}
        time.sleep(0.2)
    family |= {p.pid for p in psutil.Process(proc.pid).children(recursive=True)}
    assert len(family) >= 2  # the kernel and its joblib workers were running
    os.kill(proc.pid, signal.SIGTERM)  # a plain `kill` of helpers.report
    assert proc.wait(timeout=30) != 0
    time.sleep(5)
    alive = [p for p in family if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"left running: {alive}"
    log.close()
    text = (tmp_path / "log.txt").read_text()
    assert "Executing" in text and "01_autoencoder (quick)" in text  # papermill's cell counter, streamed
    assert "without encryption" not in text


@pytest.mark.slow
def test_every_table_header_reaches_the_pdf(quick_run, tmp_path):
    from helpers.report.pdf import missing_headers, table_headers

    pdf = build_pdf(quick_run, tmp_path / "report.pdf", profile="quick")
    assert len(table_headers(quick_run)) > 50
    assert missing_headers(pdf, quick_run) == []
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    text = " ".join(text.split())  # where a line breaks depends on the words before it
    assert "Results at a glance" in text and "commit" in text  # the summary page
    assert "executed headless: Part 1" in text  # when and in how long
    assert str(report.REPO) not in text  # no machine paths in the report


@pytest.mark.slow
def test_committed_report_shows_every_table_header():
    from helpers.report.pdf import missing_headers, table_headers

    notebooks = [report.REPO / "notebooks" / f"{n}.ipynb" for n in report.NOTEBOOKS]
    assert len(table_headers(notebooks)) > 100
    assert missing_headers(report.REPO / "report.pdf", notebooks) == []


@pytest.mark.slow
def test_nbval_command_passes_a_good_notebook_and_fails_a_broken_one(tmp_path):
    """The README's `python -m pytest --nbval-lax notebooks`, on two small notebooks of the same kind."""
    import sys

    good, bad = new_notebook(), new_notebook()
    good.cells = [
        new_code_cell("import os\nprint(os.environ['REPORT_PROFILE'])"),
        new_code_cell("from helpers.data import raw_folder\nraw_folder(None)"),
    ]
    bad.cells = [new_code_cell("1 / 0")]
    folder = tmp_path / "notebooks"
    folder.mkdir()
    nbformat.write(good, folder / "good.ipynb")
    nbformat.write(bad, folder / "bad.ipynb")
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--nbval-lax", "--rootdir", str(report.REPO)]
    ok = subprocess.run([*cmd, str(folder / "good.ipynb")], cwd=report.REPO, capture_output=True, text=True)
    assert ok.returncode == 0 and "2 passed" in ok.stdout, ok.stdout[-2000:]
    broken = subprocess.run([*cmd, str(folder / "bad.ipynb")], cwd=report.REPO, capture_output=True, text=True)
    assert broken.returncode == 1 and "ZeroDivisionError" in broken.stdout


def test_misspelt_parameter_is_refused_before_any_work():
    import sys
    import time

    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-m", "helpers.report", "--profile", "quick", "--only", "03", "-p", "epochz", "3"],
        cwd=report.REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode != 0 and time.perf_counter() - t0 < 60
    assert "unknown parameter 'epochz'" in out.stderr and "epochs" in out.stderr and "[1/1]" not in out.stdout


@pytest.mark.parametrize("name", report.NOTEBOOKS)
def test_every_notebook_parameter_is_known_and_others_refused(name):
    params = report.notebook_parameters(report.REPO / "notebooks" / f"{name}.ipynb")
    assert {"profile", "seed", "data_root", "results_dir", "figures_dir"} <= set(params)
    assert report.split_overrides([name], {"seed": 1}) == {name: {"seed": 1}}
    with pytest.raises(ValueError, match="unknown parameter 'sed'"):
        report.split_overrides([name], {"sed": 1})


def test_override_goes_only_to_the_notebooks_that_have_it():
    split = report.split_overrides(report.NOTEBOOKS, {"epochs": 2, "rungs": [1]})
    assert split["03_denoising"] == {"epochs": 2} and split["04_gan"] == {"epochs": 2}
    assert split["01_autoencoder"] == {"rungs": [1]} and split["02_classification"] == {}


def test_captions_are_numbered_in_order_and_references_follow():
    from nbformat.v4 import new_markdown_cell

    nb = new_notebook()
    nb.cells = [
        new_markdown_cell("*Figure 2.1 — first*"),
        new_markdown_cell("*Figure 2.9 — inserted later with a guessed number; see Table 2.3*"),
        new_markdown_cell("*Table 2.3 and Figures 2.5-2.6 — a table and two figures*"),
        new_markdown_cell("*Figures 2.8 and 2.9 — two more*"),
        new_markdown_cell("As Figure 2.5 and Table 2.3 show, unlike Figure 1.4 of Part 1 ..."),
    ]
    report.number_captions(nb, 2)
    src = [c.source for c in nb.cells]
    assert src[0] == "*Figure 2.1 — first*"
    assert src[1].startswith("*Figure 2.2 — ") and src[1].endswith("see Table 2.1*")
    assert src[2].startswith("*Table 2.1 and Figures 2.3-2.4 — ")
    assert src[3] == "*Figures 2.5 and 2.2 — two more*"  # 2.9 was already numbered 2.2 above: one number each
    assert src[4] == "As Figure 2.3 and Table 2.1 show, unlike Figure 1.4 of Part 1 ..."  # another part's: untouched


def test_committed_notebooks_captions_are_numbered():
    import copy

    for i, name in enumerate(report.NOTEBOOKS, 1):
        nb = nbformat.read(report.REPO / "notebooks" / f"{name}.ipynb", as_version=4)
        before = [c.source for c in nb.cells]
        assert [c.source for c in report.number_captions(copy.deepcopy(nb), i).cells] == before, name


PART_PROFILES = {
    "01_autoencoder": "AUTOENCODER",
    "02_classification": "CLASSIFY",
    "03_denoising": "DENOISE",
    "04_gan": "GAN",
}


@pytest.mark.parametrize("name", report.NOTEBOOKS)
def test_every_setting_of_a_part_is_a_parameter_of_its_notebook(name, tmp_path):
    """A -p override of any setting of the notebook's part is accepted and reaches the resolved settings; the
    notebook's setup call resolves that same part."""
    from dataclasses import fields

    from helpers import profiles

    part = profiles.PARTS[name]
    nb = nbformat.read(report.REPO / "notebooks" / f"{name}.ipynb", as_version=4)
    assert f"profiles.setup(profile, profiles.{PART_PROFILES[name]}, globals())" in "".join(c.source for c in nb.cells)
    assert part is getattr(profiles, PART_PROFILES[name])
    names = [f.name for f in fields(part["full"])]
    assert set(names) <= set(report.notebook_parameters(report.REPO / "notebooks" / f"{name}.ipynb"))
    assert report.split_overrides([name], {names[0]: 7})[name] == {names[0]: 7}
    with pytest.raises(ValueError, match="unknown parameter 'no_such_setting'"):
        report.split_overrides([name], {"no_such_setting": 1})
    for key in names:
        given = {key: "override", "results_dir": tmp_path / "r", "figures_dir": tmp_path / "f"}
        assert profiles.resolve("quick", part, given)[key] == "override"


def test_part_2_without_part_1s_autoencoder_is_a_clear_error(tmp_path):
    from helpers.artifacts import MissingUpstreamError, load_upstream_model

    with pytest.raises(
        MissingUpstreamError,
        match=r"autoencoder\.pt not found: it is written by notebooks/01_autoencoder"
        r"\.ipynb\. Run that notebook first.*--only 01",
    ):
        load_upstream_model(tmp_path / "autoencoder.pt", "01_autoencoder", "quick")
    assert not (tmp_path / "autoencoder.pt").exists()  # nothing was trained or saved in its place


@pytest.mark.slow
def test_readme_nbval_command_executes_the_four_notebooks():
    """The README's nbval command, as written, on the four notebooks (quick profile, set by conftest.py)."""
    out = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval-lax", "notebooks", "-q", "-p", "no:cacheprovider"],
        cwd=report.REPO,
        capture_output=True,
        text=True,
        timeout=1200,
    )
    assert out.returncode == 0, out.stdout[-3000:]
    assert "failed" not in out.stdout and " passed" in out.stdout


def test_readme_papermill_command_refuses_a_misspelt_parameter(tmp_path):
    """docs/running.md's direct papermill command with a misspelt parameter stops at the setup cell, naming it."""
    out = subprocess.run(
        [sys.executable, "-m", "papermill", "notebooks/03_denoising.ipynb", str(tmp_path / "out.ipynb")]
        + ["--cwd", "notebooks", "-p", "profile", "quick", "-p", "epochz", "3"],
        cwd=report.REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode != 0
    assert "unknown parameter(s) ['epochz']" in out.stdout + out.stderr and "'epochs'" in out.stdout + out.stderr


def test_settings_resolve_from_any_directory_and_create_nothing(tmp_path):
    """Each part's full-profile settings resolve from a working directory outside the repository, to the
    repository's folders, without creating any folder."""
    code = (
        "from pathlib import Path; from helpers import profiles\n"
        "for part in (profiles.AUTOENCODER, profiles.CLASSIFY, profiles.DENOISE, profiles.GAN):\n"
        "    s = profiles.resolve('full', part, {})\n"
        "    print(Path(s['results_dir']).resolve(), Path(s['figures_dir']).resolve(), s['train_subset'])\n"
        "print(Path(profiles.resolve('quick', profiles.GAN, {})['results_dir']).resolve())\n"
    )
    cwd = tmp_path / "elsewhere"
    cwd.mkdir()
    out = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.split("\n")
    repo = report.REPO.resolve()
    assert lines[:4] == [f"{repo / 'results'} {repo / 'figures'} None"] * 4
    assert lines[4] == str(repo / "build" / "quick" / "results")
    assert list(cwd.iterdir()) == []  # nothing created where it ran


def test_setup_refuses_a_parameter_the_cell_did_not_declare(tmp_path):
    from helpers import profiles

    given = {"epochs": None, "seed": 0, "results_dir": tmp_path / "r", "figures_dir": tmp_path / "f"}
    given["_parameters"] = set(given)
    profiles.setup("quick", profiles.DENOISE, dict(given, os=shutil))  # a module imported later is not a parameter
    with pytest.raises(ValueError, match=r"unknown parameter\(s\) \['epochz'\]"):
        profiles.setup("quick", profiles.DENOISE, dict(given, epochz=3))


def test_git_state_is_clean_when_only_the_notebooks_outputs_changed(tmp_path):
    """The summary page's "clean" claim: helpers/ and scripts/ as committed and the notebooks' sources as committed;
    the outputs a run writes into the notebooks (and papermill's injected parameters cell) do not count."""
    from helpers.report import manifest, pdf

    def git(*args):
        subprocess.run(["git", *args], cwd=tmp_path, check=True, capture_output=True)

    (tmp_path / "helpers").mkdir()
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "helpers" / "x.py").write_text("X = 1\n")
    nb = new_notebook(cells=[new_code_cell("print(1)")])
    path = tmp_path / "notebooks" / "a.ipynb"
    nbformat.write(nb, path)
    git("init", "-q")
    git("-c", "user.name=t", "-c", "user.email=t@t", "add", ".")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "c")
    assert manifest.git_state(tmp_path)[1] is True
    nb.cells[0].outputs = [new_output("stream", name="stdout", text="1\n")]
    injected = new_code_cell("epochs = 3")
    injected.metadata["tags"] = ["injected-parameters"]
    nb.cells.insert(0, injected)
    nbformat.write(nb, path)
    assert manifest.git_state(tmp_path)[1] is True  # outputs and injected parameters only
    nb.cells[1].source = "print(2)"
    nbformat.write(nb, path)
    assert manifest.git_state(tmp_path)[1] is False  # a changed source
    git("checkout", "--", "notebooks")
    (tmp_path / "scripts").mkdir()
    (tmp_path / "scripts" / "new.py").write_text("")
    assert manifest.git_state(tmp_path)[1] is False  # an untracked script
    assert "with uncommitted changes to helpers/, scripts/" in pdf.provenance(tmp_path)
    (tmp_path / "scripts" / "new.py").unlink()
    assert pdf.provenance(tmp_path).endswith("(its code unchanged; the notebooks carry this run's outputs)")
