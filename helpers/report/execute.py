"""Run the report's notebooks headless, in order, with papermill.

    python -m helpers.report --profile full|quick [--only 01 02] [-p name value ...] [--timeout 14400] [--jobs 2]

``full`` executes the notebooks into ``build/partial/`` and replaces the committed ones (their outputs are
the report) only when each succeeded; ``quick`` writes the executed copies under ``build/quick/notebooks/``
(ignored by git). The notebooks' output and a cell counter stream to the terminal (``--no-progress``: one line
per notebook). Ctrl-C or ``kill`` ends the run's kernels and workers; the next run resumes. The profile reaches each
notebook's ``parameters`` cell through the ``REPORT_PROFILE`` environment variable, so a full run
adds no injected cell; ``-p`` overrides are injected by papermill. A failing cell stops the run
with the notebook and cell named.

``--jobs 2`` runs the two independent chains, 01 -> 02 -> 03 (each uses the one before's saved
models) and 04 (the GAN, independent), side by side in two processes, each pinned to its own share of the cores
(the first chain, the critical path, gets the remainder); within a chain the order is kept. Every notebook already
trains on all the cores it is given (the grid search's folds, 02's methods, 03's denoisers side by side), so chains
only run side by side when each gets at least :data:`MIN_CORES_PER_CHAIN` cores; with fewer (e.g. 2 cores) ``--jobs``
falls back to running the notebooks one after another, which is faster there (two trainings on the same cores
slow each other several-fold). ``--jobs 1`` (the default) runs all in order. A notebook that only reloaded its
cached results (nothing under ``results/`` changed) leaves the run manifest as it was.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import fields
from pathlib import Path

import nbformat

from .. import profiles
from . import manifest

REPO = profiles.REPO
NOTEBOOKS = ["01_autoencoder", "02_classification", "03_denoising", "04_gan"]
CHAINS = [["01", "02", "03"], ["04"]]  # 02 loads 01's autoencoder, 03 loads 01's and 02's models; 04 stands alone
MIN_CORES_PER_CHAIN = 2  # a chain on one core trains its folds/methods one after another: slower than waiting its turn


CAPTION = re.compile(r"(Figures?|Tables?) (\d+)\.(\d+)(?:(-| and )(?:\d+\.)?(\d+))?")


def number_captions(nb, part: int):
    """Number the figure and table captions of part ``part`` 1, 2, ... in order of appearance, and make the
    references in the text follow. A caption is a Markdown line that starts with ``*Figure`` or ``*Table``; the
    numbers before its dash are the ones it defines (``*Table 4.2 and Figures 4.8-4.9 — ...``,
    ``*Figures 2.3 and 2.4 — ...``), so a figure
    inserted with any number renumbers the rest."""
    new, count = {"Figure": {}, "Table": {}}, {"Figure": 0, "Table": 0}
    cells = [c for c in nb.cells if c.cell_type == "markdown"]
    for cell in cells:
        for line in cell.source.splitlines():
            if re.match(r"\s*\*(Figure|Table)", line):
                for m in CAPTION.finditer(line.split("—")[0]):
                    kind, old_part, first = m.group(1).rstrip("s"), int(m.group(2)), int(m.group(3))
                    last = int(m.group(5) or first)
                    for k in range(first, last + 1) if m.group(4) != " and " else (first, last):
                        if (old_part, k) not in new[kind]:
                            count[kind] += 1
                            new[kind][(old_part, k)] = count[kind]

    def renumber(m):
        kind, old_part = m.group(1).rstrip("s"), int(m.group(2))
        first = new[kind].get((old_part, int(m.group(3))))
        if first is None:  # not a caption of this notebook: leave it
            return m.group(0)
        text = f"{m.group(1)} {part}.{first}"
        if m.group(4):
            text += f"{m.group(4)}{part}.{new[kind].get((old_part, int(m.group(5))), int(m.group(5)))}"
        return text

    for cell in cells:
        cell.source = CAPTION.sub(renumber, cell.source)
    return nb


def tidy(path: Path) -> None:
    """Merge consecutive stream outputs and collapse progress-bar carriage returns (nbconvert's
    ``CoalesceStreamsPreprocessor``), so the saved notebook and the PDF show each bar's final state; number
    the captions (:func:`number_captions`, the part from the file name's leading digits); make papermill's paths
    relative and its injected parameters cell as ruff formats it."""
    from nbconvert.preprocessors import CoalesceStreamsPreprocessor

    nb = nbformat.read(path, as_version=4)
    nb, _ = CoalesceStreamsPreprocessor().preprocess(nb, {})
    papermill = nb.metadata.get("papermill", {})
    for key in ("input_path", "output_path"):  # no machine's absolute paths in a committed notebook
        if papermill.get(key) and Path(papermill[key]).is_absolute():
            papermill[key] = _relative(papermill[key])
    for cell in nb.cells:  # papermill's injected parameters end in a newline that ruff format would remove
        if "injected-parameters" in cell.metadata.get("tags", []):
            cell.source = cell.source.rstrip("\n")
    digits = re.match(r"\d+", Path(path).stem)
    if digits:
        nb = number_captions(nb, int(digits.group()))
    nbformat.write(nb, path)


def _relative(path) -> str:
    """``path`` relative to the repository root, else its name."""
    try:
        return str(Path(path).resolve().relative_to(REPO))
    except ValueError:
        return Path(path).name


def notebook_parameters(path) -> list[str]:
    """What a notebook takes as parameters: the names assigned in its cell tagged ``parameters`` (a private ``_name``
    is bookkeeping, not a parameter), then every setting of its part (:data:`helpers.profiles.PARTS`)."""
    import ast

    nb = nbformat.read(path, as_version=4)
    cell = next((c for c in nb.cells if "parameters" in c.get("metadata", {}).get("tags", [])), None)
    if cell is None:
        raise ValueError(f"{path} has no cell tagged 'parameters'")
    names = []
    for node in ast.parse(cell.source).body:
        targets = (
            node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, ast.AnnAssign) else []
        )
        names += [t.id for t in targets if isinstance(t, ast.Name) and not t.id.startswith("_")]
    part = profiles.PARTS.get(Path(path).stem)
    return names + ([f.name for f in fields(part["full"]) if f.name not in names] if part else [])


def split_overrides(names, parameters: dict) -> dict:
    """``{notebook: the overrides that are its parameters}``; an override that is a parameter of none of
    ``names`` raises ``ValueError`` naming it and the valid names, before anything runs."""
    known = {n: notebook_parameters(REPO / "notebooks" / f"{n}.ipynb") for n in names}
    unknown = [k for k in parameters if not any(k in v for v in known.values())]
    if unknown:
        valid = "; ".join(f"{n}: {', '.join(v)}" for n, v in known.items())
        raise ValueError(
            f"unknown parameter{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} "
            f"for {', '.join(names)}. Valid names: {valid}"
        )
    return {n: {k: v for k, v in parameters.items() if k in known[n]} for n in names}


def stop_descendants(timeout: float = 5.0) -> None:
    """Terminate every process this one started (notebook kernels, their joblib workers, chain processes),
    then kill what is still alive after ``timeout`` seconds. Kernels run in sessions of their own, so a signal
    to this process group alone would not reach them."""
    import psutil

    procs = psutil.Process().children(recursive=True)
    for proc in procs:
        try:
            proc.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(procs, timeout=timeout)
    for proc in alive:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass


def _on_signal(signum, frame):
    stop_descendants()
    print(f"stopped by signal {signum}; finished steps are saved and the next run resumes", file=sys.stderr, flush=True)
    os._exit(128 + signum)


def install_signal_handlers() -> None:
    """Ctrl-C (SIGINT) and ``kill`` (SIGTERM, SIGHUP) end this run's kernels and workers too."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _on_signal)


def run(
    profile: str, only=None, parameters=None, timeout: int = 14400, out_dir: Path | None = None, progress: bool = True
) -> list[Path]:
    """Execute the notebooks for ``profile``; return the executed notebooks' paths.

    Each notebook is executed into ``build/partial/`` and moved over its destination only when it succeeded,
    so a failed full run leaves the committed report untouched. With ``progress``, the cell count, elapsed
    time and the notebooks' own output (progress bars, messages) are streamed to the terminal."""
    import papermill as pm

    if profile not in ("full", "quick"):
        raise ValueError(f"profile must be 'full' or 'quick', got {profile!r}")
    names = [n for n in NOTEBOOKS if (REPO / "notebooks" / f"{n}.ipynb").is_file()]
    if only:
        names = [n for n in names if any(n.startswith(o) for o in only)]
    if out_dir is None:
        out_dir = REPO / "notebooks" if profile == "full" else REPO / "build" / "quick" / "notebooks"
    per_notebook = split_overrides(names, parameters or {})
    out_dir.mkdir(parents=True, exist_ok=True)
    partial_dir = REPO / "build" / "partial"
    partial_dir.mkdir(parents=True, exist_ok=True)
    os.environ["REPORT_PROFILE"] = profile
    results_dir = REPO / "results" if profile == "full" else REPO / "build" / "quick" / "results"
    run_started, (commit, clean) = manifest.now(), manifest.git_state(REPO)
    from_empty = not manifest.cached_artifacts(results_dir)
    done = []
    for i, name in enumerate(names, 1):
        src, dst, partial = (
            REPO / "notebooks" / f"{name}.ipynb",
            out_dir / f"{name}.ipynb",
            partial_dir / f"{name}.ipynb",
        )
        print(f"[{i}/{len(names)}] {name} ({profile}) ...", flush=True)
        t0, started, before = time.perf_counter(), manifest.now(), manifest.contents(results_dir)
        try:
            pm.execute_notebook(
                str(src),
                str(partial),
                parameters=per_notebook[name],
                cwd=str(REPO / "notebooks"),
                execution_timeout=timeout,
                progress_bar=progress,
                kernel_name="python3",
                log_output=progress,
                stdout_file=sys.stdout if progress else None,
                stderr_file=sys.stderr if progress else None,
                extra_arguments=["--IPKernelApp.log_level=ERROR"],
            )  # no per-kernel TCP warning
        except pm.PapermillExecutionError as err:
            sys.exit(
                f"FAILED: {name}, cell {err.exec_count} ({err.ename}: {err.evalue}). "
                f"{dst} was left as it was; the partly executed notebook is {partial}."
            )
        seconds = time.perf_counter() - t0
        tidy(partial)
        partial.replace(dst)
        print(f"[{i}/{len(names)}] {name} done in {seconds:.0f} s -> {dst}", flush=True)
        done.append(dst)
        if manifest.contents(results_dir) == before and (results_dir / manifest.NAME).is_file():
            # it only reloaded: the manifest keeps describing the run that computed these results
            print(f"[{i}/{len(names)}] {name} recomputed nothing; {manifest.NAME} kept", flush=True)
            continue
        manifest.record(
            results_dir,
            profile=profile,
            run_started=run_started,
            from_empty=from_empty,
            commit=commit,
            clean=clean,
            notebooks=[{"name": name, "seconds": round(seconds, 1), "started": started, "finished": manifest.now()}],
        )
    return done


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="python -m helpers.report", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--profile", choices=["full", "quick"], default="quick")
    ap.add_argument("--only", nargs="*", help="notebook name prefixes, e.g. 01 03")
    ap.add_argument(
        "-p",
        nargs=2,
        action="append",
        metavar=("NAME", "VALUE"),
        default=[],
        help="override a parameter (value parsed as a Python literal when possible)",
    )
    ap.add_argument(
        "--timeout",
        type=int,
        default=14400,
        help="per-cell timeout in seconds (04 trains its GAN in one cell)",
    )
    ap.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="run the independent chains (01-02-03 and 04) side by side in this many processes",
    )
    ap.add_argument("--no-progress", action="store_true", help="print only one line per notebook")
    args = ap.parse_args(argv)
    import ast

    params = {}
    for k, v in args.p:
        try:
            params[k] = ast.literal_eval(v)
        except (ValueError, SyntaxError):
            params[k] = v
    if args.jobs < 1:
        ap.error(f"--jobs must be >= 1, got {args.jobs}")
    names = [n for n in NOTEBOOKS if not args.only or any(n.startswith(o) for o in args.only)]
    try:
        split_overrides(names, params)
    except ValueError as err:
        ap.error(str(err))
    install_signal_handlers()
    t0 = time.perf_counter()
    if args.jobs == 1:
        run(args.profile, args.only, params, args.timeout, progress=not args.no_progress)
    else:
        run_parallel(args.profile, args.only, args.p, args.timeout, args.jobs, progress=not args.no_progress)
    print(f"all done in {time.perf_counter() - t0:.0f} s")


def chain_cpus(cpus: list[int], n: int) -> list[list[int]]:
    """Split ``cpus`` into ``n`` contiguous shares; the first (the critical chain's) takes the remainder."""
    size = len(cpus) // n
    first = len(cpus) - size * (n - 1)
    return [cpus[:first]] + [cpus[first + i * size : first + (i + 1) * size] for i in range(n - 1)]


def run_parallel(profile, only, overrides, timeout, jobs, progress=True):
    """Run the independent chains of :data:`CHAINS` side by side, each pinned to its own share of the cores
    (:func:`chain_cpus`), when every chain gets at least :data:`MIN_CORES_PER_CHAIN`; else one after another."""
    chains = [[n for n in c if not only or any(n.startswith(o) or o.startswith(n) for o in only)] for c in CHAINS]
    chains = [c for c in chains if c]
    cpus = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(range(os.cpu_count() or 1))
    jobs = min(jobs, len(chains))
    if len(cpus) // jobs < MIN_CORES_PER_CHAIN:
        print(
            f"--jobs {jobs} on {len(cpus)} cores would leave a chain under {MIN_CORES_PER_CHAIN} cores, and every "
            "notebook "
            f"already trains on all of its cores: running the notebooks one after another instead",
            flush=True,
        )
        jobs = 1
    shares = chain_cpus(cpus, jobs) if jobs > 1 else [cpus]
    pending, running, failed = list(chains), [], []
    while pending or running:
        while pending and len(running) < jobs:
            chain = pending.pop(0)
            share = next(s for s in shares if all(s is not r[2] for r in running))
            env = dict(os.environ, OMP_NUM_THREADS=str(len(share)))
            cmd = [
                sys.executable,
                "-m",
                "helpers.report",
                "--profile",
                profile,
                "--timeout",
                str(timeout),
                "--only",
                *chain,
            ]
            known = {
                k
                for n in NOTEBOOKS
                if any(n.startswith(c) for c in chain)
                for k in notebook_parameters(REPO / "notebooks" / f"{n}.ipynb")
            }
            cmd += [a for k, v in overrides if k in known for a in ("-p", k, v)]  # each chain gets its own names
            cmd += [] if progress else ["--no-progress"]
            print(f"started chain {' -> '.join(chain)} on cores {share}", flush=True)
            pin = (lambda cores=share: os.sched_setaffinity(0, cores)) if hasattr(os, "sched_setaffinity") else None
            running.append((chain, subprocess.Popen(cmd, cwd=REPO, env=env, preexec_fn=pin), share))
        time.sleep(2)
        for item in [r for r in running if r[1].poll() is not None]:
            running.remove(item)
            if item[1].returncode:
                failed.append(" -> ".join(item[0]))
    if failed:
        sys.exit(f"FAILED chain(s): {'; '.join(failed)} (see the FAILED line above)")


if __name__ == "__main__":
    main()
