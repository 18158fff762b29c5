"""Export the executed notebooks as one PDF: title page, contents, the four parts in order.

    python -m helpers.pdf [--profile full|quick] [--show-code] [--out report.pdf]

The notebooks are merged into one, rendered to HTML by nbconvert (code cells hidden unless
``--show-code``; stderr outputs dropped) and printed by headless Chromium (Debian's ``chromium``
package) with a PDF outline (bookmarks) from the headings. Works offline.
"""
from __future__ import annotations

import argparse
import datetime as dt
import shutil
import subprocess
import tempfile
from pathlib import Path

import nbformat
from nbformat.v4 import new_markdown_cell, new_notebook

from .report import NOTEBOOKS, REPO

TITLE = "Unsupervised deep learning with MNIST"
CHROMIUM = ("chromium", "chromium-browser", "google-chrome")


def find_chromium() -> str:
    for name in CHROMIUM:
        path = shutil.which(name)
        if path:
            return path
    raise FileNotFoundError("no Chromium found: install Debian's 'chromium' package (apt-get install chromium)")


def merge(paths, profile: str) -> nbformat.NotebookNode:
    """One notebook: a title page with contents, then each notebook's cells (stderr dropped)."""
    parts = []
    for p in paths:
        nb = nbformat.read(p, as_version=4)
        title = next((c.source.splitlines()[0].lstrip("# ").strip() for c in nb.cells if c.cell_type == "markdown"), p.stem)
        parts.append((title, nb))
    toc = "\n".join(f"{i}. {t}" for i, (t, _) in enumerate(parts, 1))
    merged = new_notebook(metadata=parts[0][1].metadata if parts else {})
    merged.cells.append(new_markdown_cell(
        f"# {TITLE}\n\nA report in {len(parts)} parts, generated from the executed notebooks "
        f"(profile: **{profile}**) on {dt.date.today().isoformat()}.\n\n## Contents\n\n{toc}"))
    for _, nb in parts:
        merged.cells.append(new_markdown_cell('<div style="page-break-before: always"></div>'))
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = [o for o in cell.get("outputs", []) if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
            merged.cells.append(cell)
    return merged


def build_pdf(paths, out: Path, *, profile: str = "full", show_code: bool = False) -> Path:
    """Write ``out`` (PDF) from the executed notebooks ``paths``; returns ``out``."""
    from nbconvert import HTMLExporter

    missing = [str(p) for p in paths if not Path(p).is_file()]
    if missing:
        raise FileNotFoundError(f"executed notebooks missing: {', '.join(missing)} (run python -m helpers.report first)")
    nb = merge([Path(p) for p in paths], profile)
    exporter = HTMLExporter(template_name="lab", exclude_input=not show_code, exclude_input_prompt=True,
                            exclude_output_prompt=True)
    html, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": TITLE}})
    style = ("<style>@page { size: A4; margin: 14mm; } body { font-size: 11pt; } .jp-RenderedImage img { max-width: 100%; }"
             " .jp-OutputArea-output { overflow: visible !important; } .jp-RenderedHTMLCommon table { font-size: 7.5pt; }"
             " pre { white-space: pre-wrap; word-break: break-all; }</style>")
    html = html.replace("</head>", style + "</head>", 1)
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(html, encoding="utf-8")
        cmd = [find_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={tmp}/profile", "--no-pdf-header-footer", "--generate-pdf-document-outline",
               "--virtual-time-budget=20000", f"--print-to-pdf={out}", page.as_uri()]
        subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    if not out.is_file() or out.stat().st_size == 0:
        raise RuntimeError(f"Chromium wrote no PDF to {out}")
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", choices=["full", "quick"], default="full")
    ap.add_argument("--show-code", action="store_true", help="include code cells")
    ap.add_argument("--out", type=Path, default=None, help="default: report.pdf (full) or build/quick/report.pdf (quick)")
    args = ap.parse_args(argv)
    folder = REPO / "notebooks" if args.profile == "full" else REPO / "build" / "quick" / "notebooks"
    out = args.out or (REPO / "report.pdf" if args.profile == "full" else REPO / "build" / "quick" / "report.pdf")
    paths = [folder / f"{n}.ipynb" for n in NOTEBOOKS if (REPO / "notebooks" / f"{n}.ipynb").is_file()]
    print("wrote", build_pdf(paths, out, profile=args.profile, show_code=args.show_code))


if __name__ == "__main__":
    main()
