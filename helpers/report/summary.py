"""The README's results table (ours vs the homework report's), regenerated from ``results/*.json``.

python -m helpers.report.summary            # print the table
python -m helpers.report.summary --update   # rewrite it in README.md between the results markers
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ..artifacts import load_metrics
from . import manifest

HOMEWORK = "homework report (2022)"  # NNDL Homework 2, 2021-22: the report this project reproduces and extends


def _best_baseline_psnr(m: dict, sigma: float) -> str:
    """Notebook 03's best classical denoiser at noise ``sigma`` (noise only): its PSNR and name."""
    prefix = f"psnr_noise σ={sigma}_"
    scores = {k[len(prefix) :]: v for k, v in m.items() if k.startswith(prefix) and "denoising AE" not in k}
    best = max(scores, key=scores.get)
    return f"{scores[best]:.1f} dB ({best})"


ROWS = [
    (
        "01 autoencoder",
        "CV val MSE ± std at the pick (lr, d)",
        lambda m: f"{m['cv_val_mse_mean']:.5f} ± {m['cv_val_mse_std']:.5f} ({m['best_lr']:g}, {m['best_latent_dim']})",
        "0.013522 (1e-3, 10)",
    ),
    (
        "01 autoencoder",
        "test MSE, final model / PCA with as many components",
        lambda m: f"{m['test_mse']:.5f} / {m['pca_test_mse']:.5f}",
        "—",
    ),
    (
        "02 classification",
        "fine-tuned encoder, test accuracy / loss",
        lambda m: f"{m['finetuned_test_accuracy']:.2%} / {m['finetuned_test_loss']:.4f}",
        "98.369% / 0.0792",
    ),
    (
        "02 classification",
        "ensemble of the fine-tuned runs, test accuracy",
        lambda m: f"{m['finetuned_ensemble_test_accuracy']:.2%}",
        "—",
    ),
    (
        "02 classification",
        "100 labels, test accuracy: semi-supervised / labels only, pretrained / from scratch",
        lambda m: (
            f"{m['semi_100_pretrained_test_accuracy']:.1%} / {m['label_eff_100_pretrained']:.1%} / "
            f"{m['label_eff_100_scratch']:.1%}"
        ),
        "—",
    ),
    (
        "03 denoising",
        "validation MSE to the clean image",
        lambda m: f"{m['val_loss']:.5f}",
        "0.058079",
    ),
    (
        "03 denoising",
        "PSNR at σ = 0.3, noise only: denoiser / best classical",
        lambda m: f"{m['psnr_noise σ=0.3_denoising AE (noise only)']:.1f} dB / {_best_baseline_psnr(m, 0.3)}",
        "—",
    ),
    (
        "04 GAN",
        "MNIST-FID / Inception Score of the generator (real data)",
        lambda m: f"{m['fid']:.2f} / {m['is']:.2f} ({m['real_fid']:.2f} / {m['real_is']:.2f})",
        "—",
    ),
    (
        "04 GAN",
        "the same with discriminator-driven Langevin sampling",
        lambda m: f"{m['ddls_fid']:.2f} / {m['ddls_is']:.2f}",
        "—",
    ),
    (
        "04 GAN",
        "smallest class share of 10,000 samples",
        lambda m: f"{m['min_class_share']:.1%}",
        "—",
    ),
]
FILES = {
    "01 autoencoder": "01_autoencoder",
    "02 classification": "02_classification",
    "03 denoising": "03_denoising",
    "04 GAN": "04_gan",
}


def table(results_dir="results") -> str:
    """The results table: one row per headline of each part, ours beside the homework report's."""
    lines = [f"| part | quantity | ours | {HOMEWORK} |", "| --- | --- | --- | --- |"]
    for part, what, fmt, theirs in ROWS:
        m = load_metrics(results_dir, FILES[part])
        try:
            ours = fmt(m)
        except (KeyError, ValueError, StopIteration):  # not run yet, an older metrics file, or a row it lacks
            ours = "not run yet"
        lines.append(f"| {part} | {what} | {ours} | {theirs} |")
    return "\n".join(lines)


START, END = "<!-- results:start -->", "<!-- results:end -->"
TIMING_START, TIMING_END = "<!-- timing:start -->", "<!-- timing:end -->"


def _replace_block(text: str, start: str, end: str, body: str, readme) -> str:
    if start not in text or end not in text:
        raise ValueError(f"{readme} has no {start} ... {end} block")
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{start}\n{body}\n{end}{tail}"


def update_readme(readme="README.md", results_dir="results") -> None:
    """Replace the text between the results markers of ``readme`` with a fresh table, and the timing table between
    the timing markers with one made from ``results_dir``'s run manifest (when there is one)."""
    text = _replace_block(Path(readme).read_text(), START, END, table(results_dir), readme)
    path = Path(results_dir) / manifest.NAME
    if path.is_file():
        text = _replace_block(
            text, TIMING_START, TIMING_END, manifest.timing_table(json.loads(path.read_text())), readme
        )
    Path(readme).write_text(text)


if __name__ == "__main__":
    if "--update" in sys.argv:
        update_readme()
    else:
        print(table())
