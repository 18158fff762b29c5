"""The run manifest, ``results/run_manifest.json``: which commit, versions, machine and profile produced the results,
whether the run started from an empty ``results/``, and when and how long each notebook ran."""

from __future__ import annotations

import json
import os
import platform
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from ..files import atomic_write

NAME = "run_manifest.json"
CACHED = ("*.pt", "*.csv", "*.json", "cv_runs/*", "checkpoints/*")  # what a run would reload instead of computing


def cached_artifacts(results_dir) -> list[Path]:
    """The files under ``results_dir`` that a run would reuse (models, tables, metrics, CV rows, checkpoints)."""
    results_dir = Path(results_dir)
    return sorted(p for pattern in CACHED for p in results_dir.glob(pattern) if p.is_file() and p.name != NAME)


def contents(results_dir) -> dict[str, str]:
    """``{relative path: SHA-256}`` of every file under ``results_dir`` but the manifest: what a run changed."""
    import hashlib

    root = Path(results_dir)
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != NAME
    }


CODE = ("helpers", "scripts")  # the code a run depends on, besides the notebooks' sources


def _sources(text: str) -> list:
    """A notebook's cells without outputs, execution metadata or papermill's injected parameters (which the run
    records in the notebook's metadata)."""
    nb = json.loads(text)
    return [
        (c["cell_type"], "".join(c["source"]))
        for c in nb["cells"]
        if "injected-parameters" not in c.get("metadata", {}).get("tags", [])
    ]


def git_state(repo) -> tuple[str | None, bool]:
    """``(HEAD's commit, whether the code equals it)``: ``helpers/`` and ``scripts/`` unchanged, and the notebooks'
    sources (not the outputs a run writes into them) unchanged. ``(None, False)`` outside a git checkout."""

    def git(*args):
        return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout

    try:
        commit = git("rev-parse", "HEAD").strip()
        if git("status", "--porcelain", "--untracked-files=all", "--", *CODE).strip():
            return commit, False
        for line in git("status", "--porcelain", "--", "notebooks").splitlines():
            path = line[3:].strip()
            if not path.endswith(".ipynb") or line[:2].strip() != "M":  # only modified notebooks can be clean
                return commit, False
            if _sources((Path(repo) / path).read_text()) != _sources(git("show", f"HEAD:{path}")):
                return commit, False
    except (OSError, subprocess.CalledProcessError, ValueError):
        return None, False
    return commit, True


def environment() -> dict:
    """Python, torch and torchvision versions, the CPU model, its cores, torch's threads and the device."""
    import torch
    import torchvision

    cpu = (
        next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        )
        if Path("/proc/cpuinfo").is_file()
        else platform.processor()
    )
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "cpu": cpu,
        "cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "threads": torch.get_num_threads(),
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
    }


def now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def record(
    results_dir,
    *,
    profile: str,
    run_started: str,
    from_empty: bool,
    commit: str | None,
    clean: bool,
    notebooks: list[dict],
) -> dict:
    """Add the notebooks of one run (``{name, seconds, started, finished}`` each) to ``results_dir``'s manifest,
    replacing
    earlier entries of the same notebooks, and write it. The top level describes the whole set: ``from_empty`` and one
    ``git_commit`` only when every notebook came from the same run, which started from an empty ``results/`` at a clean
    commit; ``total_seconds`` is that run's wall time (else the notebooks' sum)."""
    path = Path(results_dir) / NAME
    old = json.loads(path.read_text()) if path.is_file() else {}
    entries = {
        e["name"]: {"cpu": old.get("cpu"), **e} for e in old.get("notebooks", []) if old.get("profile") == profile
    }
    env = environment()
    for nb in notebooks:
        entries[nb["name"]] = {
            **nb,
            "run_started": run_started,
            "from_empty": from_empty,
            "git_commit": commit if clean else (f"{commit} (uncommitted changes)" if commit else None),
            "cpu": env["cpu"],
        }
    nbs = [entries[k] for k in sorted(entries)]
    one_run = len({e["run_started"] for e in nbs}) == 1
    started, finished = min(e["started"] for e in nbs), max(e["finished"] for e in nbs)
    total = (
        (datetime.fromisoformat(finished) - datetime.fromisoformat(started)).total_seconds()
        if one_run
        else sum(e["seconds"] for e in nbs)
    )
    commits, cpus = {e["git_commit"] for e in nbs}, {e["cpu"] for e in nbs}
    manifest = {
        "profile": profile,
        "from_empty": one_run and all(e["from_empty"] for e in nbs),
        "git_commit": commits.pop() if len(commits) == 1 else "several (see notebooks)",
        "started": started,
        "finished": finished,
        "total_seconds": round(total, 1),
        "notebooks": nbs,
        **env,
        "cpu": cpus.pop() if len(cpus) == 1 else "several (see notebooks)",
    }
    atomic_write(path, lambda tmp: tmp.write_text(json.dumps(manifest, indent=2) + "\n"))
    return manifest


def timing_table(manifest: dict) -> str:
    """The README's timing table from a manifest: one row per notebook (with the CPU it ran on) and the total."""
    rows = ["| notebook | wall time | ran | commit | CPU |", "| --- | --- | --- | --- | --- |"]
    for e in manifest["notebooks"]:
        commit = (e["git_commit"] or "?")[:12] + (
            " (uncommitted changes)" if "uncommitted" in (e["git_commit"] or "") else ""
        )
        rows.append(
            f"| {e['name']} | {_duration(e['seconds'])} | {e['started'][:16].replace('T', ' ')} UTC | {commit} | "
            f"{e.get('cpu') or manifest['cpu']} |"
        )
    one_run = len({e["run_started"] for e in manifest["notebooks"]}) == 1
    how = (
        "one run from an empty `results/`"
        if manifest["from_empty"]
        else "one run, reusing cached results"
        if one_run
        else "notebooks run separately, so the total is their sum"
    )
    machine = (
        f"{manifest['cores']} cores of {manifest['cpu']}"
        if manifest["cpu"] != "several (see notebooks)"
        else f"{manifest['cores']} cores, not the same CPU for every notebook: the times compare only within a row"
    )
    rows.append(
        f"| **all** | **{_duration(manifest['total_seconds'])}** | {how}; {machine}, torch {manifest['torch']}, "
        f"{manifest['device']} | | |"
    )
    return "\n".join(rows)


def _duration(seconds: float) -> str:
    minutes, s = divmod(int(round(seconds)), 60)
    return f"{minutes // 60} h {minutes % 60:02d} min {s:02d} s" if minutes >= 60 else f"{minutes} min {s:02d} s"
