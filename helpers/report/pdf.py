"""Export the executed notebooks as one PDF: title page, contents, the four parts in order.

    python -m helpers.report.pdf [--profile full|quick] [--show-code] [--out report.pdf]

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

from . import manifest
from .execute import NOTEBOOKS, REPO

TITLE = "Unsupervised deep learning with MNIST"
CHROMIUM = ("chromium", "chromium-browser", "google-chrome")


def find_chromium() -> str:
    for name in CHROMIUM:
        path = shutil.which(name)
        if path:
            return path
    raise FileNotFoundError("no Chromium found: install Debian's 'chromium' package (apt-get install chromium)")


def provenance(repo=REPO) -> str:
    """The commit the report's code comes from, and whether the code equalled it (:func:`manifest.git_state`)."""
    commit, clean = manifest.git_state(repo)
    if commit is None:
        return "an unknown commit (not a git checkout)"
    return f"commit `{commit[:12]}`" + (
        " (its code unchanged; the notebooks carry this run's outputs)"
        if clean
        else " with uncommitted changes to helpers/, scripts/ or the notebooks' sources"
    )


def run_times(parts) -> str:
    """When and in how long each notebook was executed, from papermill's metadata in ``parts``
    (``(title, notebook)`` pairs)."""
    times = []
    for title, nb in parts:
        meta = nb.metadata.get("papermill", {})
        if meta.get("duration") is not None:
            times.append(
                f"{title.split(' — ')[0]} {meta['duration']:,.0f} s (started {str(meta.get('start_time', '?'))[:16]} "
                "UTC)"
            )
    return ("The notebooks were executed headless: " + "; ".join(times) + ".") if times else ""


def summary_page(profile: str, results_dir: Path, parts=()) -> str:
    """Markdown of the title page's summary: the results table (ours vs the homework report's) and where it comes
    from."""
    from .summary import table

    return (
        "## Results at a glance\n\nOur numbers against the homework report's (NNDL Homework 2, 2021-22, the report "
        f"this project reproduces and extends), from the `results/` of this run "
        f"(the same table as the README's).\n\n{table(results_dir)}\n\nGenerated on {dt.date.today().isoformat()} "
        f"from {provenance()}, profile **{profile}**. {run_times(parts)}"
    )


def merge(paths, profile: str, results_dir: Path | None = None) -> nbformat.NotebookNode:
    """One notebook: a title page with contents and the results summary, then each notebook's cells (stderr
    dropped)."""
    parts = []
    for p in paths:
        nb = nbformat.read(p, as_version=4)
        title = next(
            (c.source.splitlines()[0].lstrip("# ").strip() for c in nb.cells if c.cell_type == "markdown"), p.stem
        )
        parts.append((title, nb))
    toc = "\n".join(f"{i}. {t}" for i, (t, _) in enumerate(parts, 1))
    merged = new_notebook(metadata=parts[0][1].metadata if parts else {})
    if results_dir is None:
        results_dir = REPO / "results" if profile == "full" else REPO / "build" / "quick" / "results"
    merged.cells.append(
        new_markdown_cell(
            f"# {TITLE}\n\nA report in {len(parts)} parts, generated from the executed notebooks "
            f"(profile: **{profile}**) on {dt.date.today().isoformat()}.\n\n## Contents\n\n{toc}\n\n"
            + summary_page(profile, Path(results_dir), parts)
        )
    )
    for _, nb in parts:
        merged.cells.append(new_markdown_cell('<div style="page-break-before: always"></div>'))
        for cell in nb.cells:
            if cell.cell_type == "code":
                cell.outputs = [
                    o
                    for o in cell.get("outputs", [])
                    if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
                ]
            merged.cells.append(cell)
    return merged


#: Tables wider than the text are scaled down to its width (CSS zoom, so every column stays on the page and
#: each header stays one word for ``pdftotext``); long output lines wrap at spaces where they can.
FIT_TABLES = """<script>
window.addEventListener('load', () => {
  const width = document.querySelector('main, body').clientWidth - 8;
  document.querySelectorAll('table').forEach(t => {
    const w = t.getBoundingClientRect().width;
    if (w > width) { t.style.zoom = (0.95 * width / w).toFixed(3); }
  });
});
</script>"""
STYLE = (
    "<style>@page { size: A4; margin: 14mm; } body { font-size: 11pt; } .jp-RenderedImage img { max-width: 100%; }"
    " .jp-OutputArea-output { overflow: visible !important; } .jp-RenderedHTMLCommon table { font-size: 7.5pt; }"
    " pre { white-space: pre-wrap; overflow-wrap: anywhere; word-break: normal; }</style>"
)
#: Chromium lays the page out at this width before printing: A4 less the margins, at 96 px per inch.
PAGE_WIDTH_PX = 687


def build_pdf(paths, out: Path, *, profile: str = "full", show_code: bool = False, results_dir=None) -> Path:
    """Write ``out`` (PDF) from the executed notebooks ``paths``; returns ``out``."""
    from nbconvert import HTMLExporter

    missing = [str(p) for p in paths if not Path(p).is_file()]
    if missing:
        raise FileNotFoundError(
            f"executed notebooks missing: {', '.join(missing)} (run python -m helpers.report first)"
        )
    nb = merge([Path(p) for p in paths], profile, results_dir)
    exporter = HTMLExporter(
        template_name="lab", exclude_input=not show_code, exclude_input_prompt=True, exclude_output_prompt=True
    )
    html, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": TITLE}})
    html = html.replace("</head>", STYLE + FIT_TABLES + "</head>", 1)
    out = Path(out).resolve()
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        page.write_text(html, encoding="utf-8")
        cmd = [
            find_chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={tmp}/profile",
            "--no-pdf-header-footer",
            "--generate-pdf-document-outline",
            "--virtual-time-budget=20000",
            f"--window-size={PAGE_WIDTH_PX},1000",
            f"--print-to-pdf={out}",
            page.as_uri(),
        ]
        subprocess.run(cmd, check=True, capture_output=True, timeout=300)
    if not out.is_file() or out.stat().st_size == 0:
        raise RuntimeError(f"Chromium wrote no PDF to {out}")
    return out


def table_headers(paths) -> list[str]:
    """The text of every header cell (``<th>``) of every HTML table output in the notebooks ``paths``."""
    from html.parser import HTMLParser

    class Headers(HTMLParser):
        def __init__(self):
            super().__init__()
            self.cells, self._text = [], None

        def handle_starttag(self, tag, attrs):
            if tag == "th":
                self._text = []

        def handle_data(self, data):
            if self._text is not None:
                self._text.append(data)

        def handle_endtag(self, tag):
            if tag == "th" and self._text is not None:
                text = " ".join("".join(self._text).split())
                if text:
                    self.cells.append(text)
                self._text = None

    parser = Headers()
    for path in paths:
        for cell in nbformat.read(path, as_version=4).cells:
            for out in cell.get("outputs", []):
                html = out.get("data", {}).get("text/html", "")
                if "<table" in html:
                    parser.feed(html if isinstance(html, str) else "".join(html))
    return parser.cells


def missing_headers(pdf, paths) -> list[str]:
    """Header cells of the notebooks' tables that ``pdftotext`` does not find in ``pdf`` (cut off the page)."""
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    flat = "".join(text.split())
    return sorted({h for h in table_headers(paths) if "".join(h.split()) not in flat})


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--profile", choices=["full", "quick"], default="full")
    ap.add_argument("--show-code", action="store_true", help="include code cells")
    ap.add_argument(
        "--out", type=Path, default=None, help="default: report.pdf (full) or build/quick/report.pdf (quick)"
    )
    args = ap.parse_args(argv)
    folder = REPO / "notebooks" if args.profile == "full" else REPO / "build" / "quick" / "notebooks"
    out = args.out or (REPO / "report.pdf" if args.profile == "full" else REPO / "build" / "quick" / "report.pdf")
    paths = [folder / f"{n}.ipynb" for n in NOTEBOOKS if (REPO / "notebooks" / f"{n}.ipynb").is_file()]
    print("wrote", build_pdf(paths, out, profile=args.profile, show_code=args.show_code))


if __name__ == "__main__":
    main()
