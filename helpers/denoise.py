"""A denoising autoencoder: the plain :class:`~helpers.models.Autoencoder`, trained with a corruption passed in."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .artifacts import checkpoint_path, load_or_train
from .baselines import choose_by_validation, gaussian_blur, median_filter, pca_reconstruct
from .corruption import Compose, GaussianNoise, corrupt_fixed
from .files import save_npz
from .metrics import quality_table
from .models import Autoencoder, fingerprint
from .parallel import parallel_map
from .runtime import seed_everything
from .training import accuracy_and_loss, fit_autoencoder, predict


def load_or_train_denoiser(
    path,
    corrupt,
    x_train,
    x_val,
    *,
    latent_dim=64,
    channels=(16, 32, 64),
    hidden=256,
    epochs=40,
    lr=5e-3,
    batch_size=128,
    seed=0,
    device=None,
    progress=True,
    snapshot_batch=None,
    init=None,
):
    """Return ``(model, history, loaded)`` for an :class:`Autoencoder` trained to map ``corrupt(x)`` to ``x``.

    ``init``: an :class:`Autoencoder` of the same widths to start from (a warm start; its weights are part of the
    cache key) instead of random weights.

    The model is cached at ``path`` (with its settings, so a changed setting or corruption retrains) and
    training resumes from a checkpoint under ``path``'s folder. With ``snapshot_batch``, the outputs on that
    batch after every epoch are saved to ``<path stem>_progress.npz`` (no pickle; :func:`load_progress` reads it);
    they are kept beside the checkpoint as training goes, so a resumed run still has the epochs before the kill.
    """
    path = Path(path)
    cfg = {
        "latent_dim": latent_dim,
        "channels": list(channels),
        "hidden": hidden,
        "epochs": epochs,
        "lr": lr,
        "batch_size": batch_size,
        "seed": seed,
        "corrupt": repr(corrupt),
        "n_train": len(x_train),
    }
    if init is not None:
        widths = {"latent_dim": latent_dim, "channels": list(channels), "hidden": hidden}
        if {k: init.config[k] for k in widths} != widths:
            raise ValueError(f"init's widths {init.config} differ from the denoiser's {widths}")
        cfg["init"] = fingerprint(init)

    ckpt = checkpoint_path(path.parent, path.stem, cfg)
    partial = ckpt.with_name(f"{ckpt.stem}_progress.npz")  # the snapshots so far, beside the checkpoint they go with

    def train():
        snaps = _read_snapshots(partial) if ckpt.is_file() else {}  # a resumed run keeps the epochs it already saw

        def keep(epoch, m):
            snaps[epoch] = predict(m, snapshot_batch, device=device)
            save_npz(partial, _snapshot_arrays(snaps))

        seed_everything(seed)
        model = Autoencoder(latent_dim, channels, hidden)
        if init is not None:
            model.load_state_dict(init.state_dict())
        hist = fit_autoencoder(
            model,
            x_train,
            x_val,
            epochs=epochs,
            lr=lr,
            batch_size=batch_size,
            corrupt=corrupt,
            schedule="onecycle",
            seed=seed,
            device=device,
            progress=progress,
            checkpoint=ckpt,
            callback=None if snapshot_batch is None else keep,
            desc=path.stem,
        )
        if snapshot_batch is not None:
            save_npz(progress_path(path), _snapshot_arrays({e: s for e, s in snaps.items() if e <= epochs}))
        return model, hist

    return load_or_train(path, cfg, train, corruption=repr(corrupt))


def progress_path(path) -> Path:
    """Where :func:`load_or_train_denoiser` keeps the per-epoch outputs on its snapshot batch."""
    path = Path(path)
    return path.with_name(f"{path.stem}_progress.npz")


def load_progress(path) -> dict:
    """The per-epoch outputs on the snapshot batch of the denoiser saved at ``path``, ``{epoch: images}`` (float32, as
    the model gave them); ``{}`` when none were kept."""
    return _read_snapshots(progress_path(path))


def _snapshot_arrays(snaps: dict) -> dict:
    return {f"epoch_{e}": s.numpy() for e, s in sorted(snaps.items())}


def _read_snapshots(file) -> dict:
    if not Path(file).is_file():
        return {}
    with np.load(file, allow_pickle=False) as z:
        return {int(k.split("_")[1]): torch.from_numpy(z[k]) for k in z.files}


def _train_job(job):
    path, corrupt, x_train, x_val, kw = job
    return load_or_train_denoiser(path, corrupt, x_train, x_val, **kw)


def load_or_train_denoisers(jobs: dict, x_train, x_val, *, n_jobs=1, progress=True, **kw) -> dict:
    """:func:`load_or_train_denoiser` for each ``name -> (path, corrupt)`` or ``name -> (path, corrupt, own keywords)``
    of ``jobs`` (e.g. ``{"snapshot_batch": x}`` for one of them), side by side in ``n_jobs`` single-thread processes.
    Returns ``{name: (model, history, loaded)}``."""
    kw["progress"] = progress and n_jobs == 1
    work = []
    for name, job in jobs.items():
        if len(job) not in (2, 3):
            raise ValueError(f"job {name!r} must be (path, corrupt) or (path, corrupt, keywords), got {len(job)} items")
        path, corrupt, own = job[0], job[1], job[2] if len(job) == 3 else {}
        work.append((path, corrupt, x_train, x_val, {**kw, **own}))
    return dict(zip(jobs, parallel_map(_train_job, work, n_jobs=n_jobs)))


def load_or_train_per_sigma(results_dir, sigmas, x_train, x_val, *, start=None, warm_epochs, n_jobs=1, **kw) -> dict:
    """One noise-only denoiser per noise level of ``sigmas``, cached as ``results_dir/denoiser_sigma{s}.pt``: each
    starts from ``start`` (e.g. the noise-only denoiser) and trains ``warm_epochs``, or without ``start`` trains
    ``kw["epochs"]`` from random weights (benchmarks/README.md: denoiser_warm_start). Returns
    ``{"σ = s": (model, history, loaded)}`` (:func:`load_or_train_denoisers`)."""
    jobs = {
        f"σ = {s}": (Path(results_dir) / f"denoiser_sigma{s}.pt", Compose(GaussianNoise(s)), {"init": start})
        for s in sigmas
    }
    if start is not None:
        kw = {**kw, "epochs": warm_epochs}
    return load_or_train_denoisers(jobs, x_train, x_val, n_jobs=n_jobs, **kw)


BLUR_SIGMAS = (0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
PCA_COMPONENTS = (10, 20, 30, 50, 80, 120, 200)


def evaluate_methods(
    settings: dict,
    models: dict,
    x_val,
    x_eval,
    y_eval=None,
    *,
    pca,
    setting_models=None,
    classifier=None,
    seed=0,
    device=None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Score every denoiser against the classical baselines on each test corruption of ``settings``
    (name -> corruption): MSE, PSNR and SSIM against the clean images (and ``classifier``'s accuracy on the
    output when given). ``models`` (method name -> model) are scored in every setting, ``setting_models``
    (setting -> (method name, model)) only in their own. The baselines (Gaussian blur, 3x3 median, PCA
    projection with ``pca``) get their parameter chosen on a corrupted copy of ``x_val`` per setting.
    Returns ``(quality, chosen)``: one row per (setting, method), and the chosen baseline parameters."""
    rows, chosen = [], {}
    for i, (name, corrupt) in enumerate(settings.items()):
        noisy_va = corrupt_fixed(corrupt, x_val, seed=seed + 100 + i)
        noisy_te = corrupt_fixed(corrupt, x_eval, seed=seed + 200 + i)
        sb, _ = choose_by_validation(BLUR_SIGMAS, gaussian_blur, noisy_va, x_val)
        kp, _ = choose_by_validation(PCA_COMPONENTS, lambda x, k: pca_reconstruct(pca, x, k), noisy_va, x_val)
        chosen[name] = {"blur_sigma": sb, "pca_components": kp}
        outputs = {
            "corrupted input": noisy_te,
            "Gaussian blur": gaussian_blur(noisy_te, sb),
            "median 3×3": median_filter(noisy_te),
            "PCA projection": pca_reconstruct(pca, noisy_te, kp),
        }
        own = dict(models)
        if setting_models and name in setting_models:
            method, model = setting_models[name]
            own = {
                **{k: v for k, v in own.items() if not k.startswith("plain")},
                method: model,
                **{k: v for k, v in own.items() if k.startswith("plain")},
            }  # keep the plain AE last, as in the tables
        outputs.update({method: predict(model, noisy_te, device=device) for method, model in own.items()})
        for method, out in outputs.items():
            row = {"setting": name, "method": method, **quality_table(out, x_eval)}
            if classifier is not None:
                row["classifier accuracy"] = accuracy_and_loss(classifier, out, y_eval, device=device)[1]
            rows.append(row)
    return pd.DataFrame(rows), pd.DataFrame(chosen).T


def training_table(fits: dict) -> pd.DataFrame:
    """One row per model of :func:`load_or_train_denoisers`: trained or loaded, epochs, last train/val loss."""
    return pd.DataFrame(
        {
            name: {
                "trained / loaded": "loaded" if loaded else "trained",
                "epochs": len(h),
                "train MSE, last epoch": h.train_mse.iloc[-1],
                "val MSE, last epoch": h.val_mse.iloc[-1],
            }
            for name, (_, h, loaded) in fits.items()
        }
    ).T


NOISE_ONLY = r"noise σ=[0-9.]+"  # the settings of a quality table with Gaussian noise alone


def margins(quality: pd.DataFrame, denoisers) -> pd.DataFrame:
    """Each denoiser's margin in PSNR over the best baseline of each setting: one row per denoiser with its PSNR and
    SSIM at σ = 0.3, how many noise levels (Gaussian noise alone) and test settings it leads, and the smallest and
    largest margin over the noise levels."""
    best_base = best_baselines(quality, denoisers)
    rows = {}
    for method in denoisers:
        d = quality[quality.method == method].set_index("setting")
        margin = d["psnr"] - best_base["psnr"].reindex(d.index)
        sig = margin[margin.index.str.fullmatch(NOISE_ONLY)]
        rows[method] = {
            "PSNR σ=0.3": d.loc["noise σ=0.3", "psnr"],
            "SSIM σ=0.3": d.loc["noise σ=0.3", "ssim"],
            "noise levels led": f"{int((sig > 0).sum())} of {len(sig)}",
            "margin min (dB)": sig.min(),
            "margin max (dB)": sig.max(),
            "settings led": f"{int((margin > 0).sum())} of {len(margin)}",
        }
    return pd.DataFrame(rows).T.rename_axis("denoiser")


def best_baselines(quality: pd.DataFrame, denoisers) -> pd.DataFrame:
    """The baseline with the highest PSNR in each setting of ``quality`` (``setting`` index; ``method, psnr, ssim``)."""
    baselines = quality[~quality.method.isin(denoisers)]
    return baselines.loc[baselines.groupby("setting")["psnr"].idxmax()].set_index("setting")


def summary_metrics(
    history: pd.DataFrame, quality: pd.DataFrame, noise_only_history: pd.DataFrame | None = None
) -> dict:
    """The results-file entries of notebook 03: the denoiser's last train/val loss (and the noise-only model's), and
    the PSNR of every (setting, method) of the quality table."""
    last = history.iloc[-1]
    out = {"train_loss": float(last.train_mse), "val_loss": float(last.val_mse)}
    if noise_only_history is not None:
        out.update(
            noise_only_train_loss=float(noise_only_history.train_mse.iloc[-1]),
            noise_only_val_loss=float(noise_only_history.val_mse.iloc[-1]),
        )
    return {**out, **{f"psnr_{r.setting}_{r.method}": float(r.psnr) for r in quality.itertuples()}}
