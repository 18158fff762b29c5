"""The one home of the project's measurements: each benchmark saves a JSON record under ``benchmarks/results/``
(its figures, the exact command, the date, the machine); this script regenerates ``benchmarks/README.md`` from them.

    python benchmarks/records.py            # rewrite benchmarks/README.md from benchmarks/results/*.json
    python benchmarks/records.py --check    # exit 1 if benchmarks/README.md is not what the records give
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import resource
import shlex
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "results"
README = HERE / "README.md"
FLAGS = ("avx2", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16")  # the CPU features the figures depend on


def machine() -> dict:
    """The CPU model, the CPU flags of :data:`FLAGS` it has, its cores, the torch version, its threads and device."""
    import torch

    cpu, flags = "unknown", set()
    info = Path("/proc/cpuinfo")
    if info.is_file():
        for line in info.read_text().splitlines():
            if line.startswith("model name") and cpu == "unknown":
                cpu = line.split(":", 1)[1].strip()
            elif line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "cpu": cpu,
        "flags": [f for f in FLAGS if f in flags],
        "cores": cores,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "device": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "cpu",
    }


def best_in_fresh_processes(measure, settings, repeats: int, *args) -> dict:
    """``{setting: the smallest of measure(*setting, *args) over repeats}``, each call in a fresh spawned process (so
    per-process state, such as malloc's, starts anew), the settings alternating so that machine noise hits them all."""
    best = {}
    spawn = multiprocessing.get_context("spawn")
    for _ in range(repeats):
        for setting in settings:
            with ProcessPoolExecutor(1, mp_context=spawn) as pool:
                result = pool.submit(measure, *setting, *args).result()
            best[setting] = min(best[setting], result) if setting in best else result
    return best


def usage(fn) -> tuple[float, float, int]:
    """Run ``fn()`` and return the wall seconds, system (kernel) seconds and minor page faults it took."""
    r0, t0 = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    fn()
    wall, r1 = time.perf_counter() - t0, resource.getrusage(resource.RUSAGE_SELF)
    return wall, r1.ru_stime - r0.ru_stime, r1.ru_minflt - r0.ru_minflt


def save(name: str, *, what: str, columns: list[str], rows: list[list], summary: str, out=None) -> Path:
    """Write one benchmark run as ``{out}/{name}-{UTC time}.json`` and return its path.

    ``what``: what the benchmark compares (one sentence); ``columns``/``rows``: its table; ``summary``: the
    headline figure (e.g. the ratio). The command line, date and :func:`machine` are added here."""
    if len(rows) == 0 or any(len(r) != len(columns) for r in rows):
        raise ValueError(f"every row must have the {len(columns)} columns {columns}")
    now = datetime.now(timezone.utc)
    record = {
        "benchmark": name,
        "what": what,
        "command": shlex.join(["python", f"benchmarks/{name}.py", *sys.argv[1:]]),
        "date": now.isoformat(timespec="seconds"),
        "machine": machine(),
        "columns": columns,
        "rows": rows,
        "summary": summary,
    }
    out = Path(out) if out is not None else RESULTS
    out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(record, indent=2, ensure_ascii=False) + "\n"
    for n in range(1, 1000):  # two runs ending in the same second (e.g. side by side) each keep their record
        path = out / f"{name}-{now:%Y%m%dT%H%M%S}{'' if n == 1 else f'-{n}'}.json"
        try:
            with path.open("x") as f:
                f.write(text)
            break
        except FileExistsError:
            continue
    print(f"record: {path}")
    return path


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:,.5g}" if abs(value) < 1000 else f"{value:,.0f}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def render(results=RESULTS) -> str:
    """``benchmarks/README.md``: for each benchmark (alphabetical), each of its records (oldest first) as a table."""
    records = [json.loads(p.read_text()) for p in sorted(Path(results).glob("*.json"))]
    by_name: dict[str, list[dict]] = {}
    for r in sorted(records, key=lambda r: (r["benchmark"], r["date"])):
        by_name.setdefault(r["benchmark"], []).append(r)
    lines = [
        "# Benchmarks",
        "",
        "Generated by `python benchmarks/records.py` from `benchmarks/results/*.json`; do not edit by hand. Each",
        "benchmark writes its own record when it runs. Speed depends on the host: the CPU's vector and bf16",
        "features decide which kernels run, so compare ratios measured side by side in one record, not figures",
        "from different records.",
    ]
    for name, runs in by_name.items():
        lines += ["", f"## {name}", "", runs[-1]["what"]]
        for r in runs:
            m = r["machine"]
            flags = (
                "flags not recorded" if m["flags"] is None else ", ".join(m["flags"]) or "none of " + ", ".join(FLAGS)
            )
            date = r["date"][:10] if r["date"][:1].isdigit() else r["date"]
            lines += [
                "",
                f"`{r['command']}`  ",
                f"{date}; {m['cpu']} ({flags}), {m['cores']} cores, {m['threads']} threads, "
                f"torch {m['torch']}, {m['device']}" + (f"; {r['source']}" if r.get("source") else ""),
                "",
                "| " + " | ".join(r["columns"]) + " |",
                "| " + " | ".join("---" for _ in r["columns"]) + " |",
                *("| " + " | ".join(_cell(v) for v in row) + " |" for row in r["rows"]),
                "",
                f"**{r['summary']}**",
            ]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", default=str(RESULTS), help="folder of the JSON records")
    ap.add_argument("--readme", default=str(README), help="the file to write (or check)")
    ap.add_argument("--check", action="store_true", help="do not write; exit 1 if the file differs")
    args = ap.parse_args(argv)
    text = render(args.results)
    readme = Path(args.readme)
    if args.check:
        if not readme.is_file() or readme.read_text() != text:
            print(f"{readme} is out of date: run python benchmarks/records.py", file=sys.stderr)
            return 1
        return 0
    readme.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
