"""Run the report's notebooks headless, in order, with papermill.

    python -m helpers.report --profile full|quick [--only 01 02] [-p name value ...] [--timeout 3600]

``full`` executes the notebooks in place (their outputs are the committed report); ``quick`` writes
the executed copies under ``build/quick/notebooks/`` (ignored by git). The profile reaches each
notebook's ``parameters`` cell through the ``REPORT_PROFILE`` environment variable, so a full run
adds no injected cell; ``-p`` overrides are injected by papermill. A failing cell stops the run
with the notebook and cell named.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
NOTEBOOKS = ["01_autoencoder", "02_classification", "03_denoising", "04_gan"]


def tidy(path: Path) -> None:
    """Merge consecutive stream outputs and collapse progress-bar carriage returns (nbconvert's
    ``CoalesceStreamsPreprocessor``), so the saved notebook and the PDF show each bar's final state."""
    from nbconvert.preprocessors import CoalesceStreamsPreprocessor

    nb = nbformat.read(path, as_version=4)
    nb, _ = CoalesceStreamsPreprocessor().preprocess(nb, {})
    nbformat.write(nb, path)


def run(profile: str, only=None, parameters=None, timeout: int = 3600, out_dir: Path | None = None) -> list[Path]:
    """Execute the notebooks for ``profile``; return the executed notebooks' paths."""
    import papermill as pm

    if profile not in ("full", "quick"):
        raise ValueError(f"profile must be 'full' or 'quick', got {profile!r}")
    names = [n for n in NOTEBOOKS if (REPO / "notebooks" / f"{n}.ipynb").is_file()]
    if only:
        names = [n for n in names if any(n.startswith(o) for o in only)]
    if out_dir is None:
        out_dir = REPO / "notebooks" if profile == "full" else REPO / "build" / "quick" / "notebooks"
    out_dir.mkdir(parents=True, exist_ok=True)
    os.environ["REPORT_PROFILE"] = profile
    done = []
    for i, name in enumerate(names, 1):
        src, dst = REPO / "notebooks" / f"{name}.ipynb", out_dir / f"{name}.ipynb"
        print(f"[{i}/{len(names)}] {name} ({profile}) ...", flush=True)
        t0 = time.perf_counter()
        try:
            pm.execute_notebook(str(src), str(dst), parameters=parameters or {}, cwd=str(REPO / "notebooks"),
                                execution_timeout=timeout, progress_bar=False, kernel_name="python3")
        except pm.PapermillExecutionError as err:
            sys.exit(f"FAILED: {name}, cell {err.exec_count} ({err.ename}: {err.evalue}). "
                     f"The partly executed notebook is {dst}.")
        tidy(dst)
        print(f"[{i}/{len(names)}] {name} done in {time.perf_counter() - t0:.0f} s -> {dst}", flush=True)
        done.append(dst)
    return done


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", choices=["full", "quick"], default="quick")
    ap.add_argument("--only", nargs="*", help="notebook name prefixes, e.g. 01 03")
    ap.add_argument("-p", nargs=2, action="append", metavar=("NAME", "VALUE"), default=[],
                    help="override a parameter (value parsed as a Python literal when possible)")
    ap.add_argument("--timeout", type=int, default=3600, help="per-cell timeout in seconds")
    args = ap.parse_args(argv)
    import ast

    params = {}
    for k, v in args.p:
        try:
            params[k] = ast.literal_eval(v)
        except (ValueError, SyntaxError):
            params[k] = v
    t0 = time.perf_counter()
    run(args.profile, args.only, params, args.timeout)
    print(f"all done in {time.perf_counter() - t0:.0f} s")


if __name__ == "__main__":
    main()
