"""The README's results table (ours vs the seed's), regenerated from ``results/*.json``.

    python -m helpers.summary            # print the table
    python -m helpers.summary --update   # rewrite it in README.md between the results markers
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from . import manifest
from .artifacts import load_metrics

DENOISERS = {"denoising AE": "denoiser (the seed's noise + rotation)", "denoising AE (noise only)": "denoiser trained on noise alone",
             "denoising AE (σ-specific)": "one denoiser per noise level"}
SIGMAS = (0.1, 0.2, 0.3, 0.5)


def _psnr_row(m: dict, method: str | None) -> str:
    """Notebook 03's noise-only PSNRs of ``method`` at each σ, or of the best baseline (None) with its name."""
    out, names = [], set()
    for s in SIGMAS:
        prefix = f"psnr_noise σ={s}_"
        scores = {k[len(prefix):]: v for k, v in m.items() if k.startswith(prefix)}
        if method is None:
            base = {k: v for k, v in scores.items() if k not in DENOISERS}
            best = max(base, key=base.get)
            out.append(base[best])
            names.add(best)
        else:
            out.append(scores[method])
    text = " / ".join(f"{v:.1f}" for v in out) + " dB"
    return text + (f" ({', '.join(sorted(names))})" if names else "")


ROWS = [
    ("01 autoencoder", "best point (lr, latent dim) by 6-fold CV (successive halving; the seed: a plain grid)",
     lambda m: f"{m['best_lr']:g}, {m['best_latent_dim']}", "1e-3, 10"),
    ("01 autoencoder", "CV mean val MSE ± std at the pick (issue target ≤ 0.0125, std ≤ 0.0006)",
     lambda m: f"{m['cv_val_mse_mean']:.5f} ± {m['cv_val_mse_std']:.5f} ({m['cv_rungs'][-1]} epochs, rungs {'-'.join(map(str, m['cv_rungs']))})", "0.013522"),
    ("01 autoencoder", "CV mean train MSE ± std at the pick", lambda m: f"{m['cv_train_mse_mean']:.5f} ± {m['cv_train_mse_std']:.5f}", "0.014326"),
    ("01 autoencoder", "grid search wall time / training images per second (when it was trained)",
     lambda m: f"{m['cv_wall_seconds'] / 60:.1f} min / {m['cv_images_per_second']:,.0f}"
               + (f" (on {m['cv_device']})" if m.get("cv_device") else ""), "—"),
    ("01 autoencoder", "test MSE of the final model, the pick retrained on all 60,000 images (issue target ≤ 0.0108)",
     lambda m: f"{m['test_mse']:.5f} ({m['final_epochs']} epochs)", "— (0.0135 val)"),
    ("01 autoencoder", "test MSE of PCA, same number of components", lambda m: f"{m['pca_test_mse']:.5f}", "—"),
    ("01 autoencoder", "test MSE at the seed's d=10, same final recipe",
     lambda m: f"{m['compare_test_mse']:.5f}" if "compare_test_mse" in m else
     (f"{m['test_mse']:.5f} (the pick)" if m["best_latent_dim"] == 10 else "not trained"), "— (0.0135 val)"),
    ("01 autoencoder", "the same without reviving dead units", lambda m: f"{m['no_revive_test_mse']:.5f} (d = {m['no_revive_latent_dim']})", "—"),
    ("02 classification", "fine-tuned pretrained encoder, test accuracy: run kept by validation accuracy (mean ± std over seeds)",
     lambda m: f"{m['finetuned_test_accuracy']:.2%} ({m['finetuned_test_accuracy_mean']:.2%} ± {m['finetuned_test_accuracy_std']:.2%}, "
               f"{m['finetuned_seeds']} seeds)", "98.369%"),
    ("02 classification", "ensemble of the fine-tuned runs (mean softmax), test accuracy / loss",
     lambda m: f"{m['finetuned_ensemble_test_accuracy']:.2%} / {m['finetuned_ensemble_test_loss']:.4f}", "—"),
    ("02 classification", "frozen encoder + head, test accuracy", lambda m: f"{m['frozen_head_test_accuracy']:.2%}", "—"),
    ("02 classification", "latent-10 encoder from scratch, test accuracy", lambda m: f"{m['latent10_scratch_test_accuracy']:.2%}", "—"),
    ("02 classification", "test loss of the fine-tuned encoder", lambda m: f"{m['finetuned_test_loss']:.4f}", "0.0792"),
    ("02 classification", "100 labels, pretrained / scratch (issue target: pretrained ≥ 85% and ≥ 10 points above scratch): with the notebook's augmentation",
     lambda m: f"{m['label_eff_100_pretrained']:.1%} / {m['label_eff_100_scratch']:.1%}", "—"),
    ("02 classification", "100 labels, pretrained / scratch: without augmentation",
     lambda m: f"{m['label_eff_plain_100_pretrained']:.1%} / {m['label_eff_plain_100_scratch']:.1%}", "—"),
    ("03 denoising", "train / val loss (MSE vs clean) at the last epoch", lambda m: f"{m['train_loss']:.5f} / {m['val_loss']:.5f}", "0.058499 / 0.058079"),
    ("03 denoising", "PSNR at σ = 0.1 / 0.2 / 0.3 / 0.5 (noise only): best baseline", lambda m: _psnr_row(m, None), "—"),
    *[("03 denoising", f"PSNR at σ = 0.1 / 0.2 / 0.3 / 0.5 (noise only): {label}", lambda m, k=key: _psnr_row(m, k), "—")
      for key, label in DENOISERS.items()],
    ("04 GAN", "final epoch mean loss: generator / discriminator", lambda m: f"{m['g_loss_last']:.4f} / {m['d_loss_last']:.4f}", "1.3827 / 0.4937"),
    ("04 GAN", "the saved generator alone: Inception Score (issue target ≥ 8.6) / real data", lambda m: f"{m['is']:.2f} / {m['real_is']:.2f}", "— (seed-like MLP GAN, 50 epochs: about 7.4)"),
    ("04 GAN", "the saved generator alone: MNIST-FID (issue target ≤ 35) / real data", lambda m: f"{m['fid']:.2f} / {m['real_fid']:.2f}", "—"),
    ("04 GAN", "the saved generator alone: smallest class share of 10,000 samples (issue target ≥ 8%)", lambda m: f"{m['min_class_share']:.1%}", "—"),
    ("04 GAN", "draw-to-draw standard deviation of FID / IS (10,000 samples per draw)", lambda m: f"{m['fid_draw_std']:.2f} / {m['is_draw_std']:.3f} ({m['draws']} draws)", "—"),
    ("04 GAN", "recipe comparison: FID after the same epochs, ours / seed-like recipe",
     lambda m: f"{m['recipes']['ours']['fid']:.1f} / {next(v['fid'] for k, v in m['recipes'].items() if k.startswith('seed-like')):.1f} (epoch {m['recipes_epoch']})", "—"),
    ("04 GAN", "training: epochs / seconds per epoch (median) / training time", lambda m: f"{m['epochs']} / {m['seconds_per_epoch']:.1f} s / {m['train_seconds'] / 60:.1f} min", "—"),
    ("04 GAN", "with discriminator rejection sampling: IS / MNIST-FID / smallest class", lambda m: f"{m['drs_is']:.2f} / {m['drs_fid']:.2f} / {m['drs_min_class_share']:.1%} (γ = {m['drs_gamma']:g}, {m['drs_acceptance']:.0%} of draws kept)", "—"),
    ("04 GAN", "with Langevin sampling on the noise, driven by the discriminator: IS / MNIST-FID / smallest class",
     lambda m: f"{m['ddls_is']:.2f} / {m['ddls_fid']:.2f} / {m['ddls_min_class_share']:.1%} (weight s = {m['ddls_scale']:g}, {m['ddls_steps']} steps)", "—"),
]
FILES = {"01 autoencoder": "01_autoencoder", "02 classification": "02_classification", "03 denoising": "03_denoising",
         "04 GAN": "04_gan"}


def table(results_dir="results") -> str:
    lines = ["| part | quantity | ours | seed |", "| --- | --- | --- | --- |"]
    for part, what, fmt, seed in ROWS:
        m = load_metrics(results_dir, FILES[part])
        try:
            ours = fmt(m)
        except (KeyError, ValueError, StopIteration):  # not run yet, an older metrics file, or a row it lacks
            ours = "not run yet"
        lines.append(f"| {part} | {what} | {ours} | {seed} |")
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
        text = _replace_block(text, TIMING_START, TIMING_END, manifest.timing_table(json.loads(path.read_text())), readme)
    Path(readme).write_text(text)


if __name__ == "__main__":
    if "--update" in sys.argv:
        update_readme()
    else:
        print(table())
