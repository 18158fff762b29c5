"""The trained GAN on disk: its models, epoch and iteration logs and image snapshots, loaded when present."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch

from ..artifacts import checkpoint_path, load_or_train_models
from ..files import atomic_write, save_npz
from ..models import Discriminator, Generator
from ..runtime import seed_everything
from .training import RECIPE_DEFAULTS, from_gan_range, to_gan_range, train_gan

ITER_BLOCK = 10  # the saved per-iteration log holds means over blocks of this many iterations
SNAPSHOT_EPOCHS = (
    1,
    2,
    5,
    10,
    20,
    50,
    100,
)  # fixed-noise samples kept (and the last epoch's): notebook 04's Figure 4.3
SNAPSHOT_IMAGES = 12


def _log_files(results_dir) -> dict:
    d = Path(results_dir)
    return {"epochs": d / "gan_epochs.csv", "iters": d / "gan_iters.csv", "snapshots": d / "gan_snapshots.npz"}


def save_gan_log(log: dict, results_dir) -> None:
    """Write :func:`train_gan`'s log as small files, no pickles: the per-iteration losses as means over blocks of
    :data:`ITER_BLOCK` iterations (``gan_iters.csv``) and the first :data:`SNAPSHOT_IMAGES` fixed-noise samples of the
    epochs in :data:`SNAPSHOT_EPOCHS` and the last, as 8-bit images (``gan_snapshots.npz``); the per-epoch table is
    the primitive's own log (``gan_epochs.csv``)."""
    files = _log_files(results_dir)
    it = log["iters"]
    block = it.groupby(np.arange(len(it)) // ITER_BLOCK).mean()
    block.insert(0, "iteration", np.minimum((block.index + 1) * ITER_BLOCK, len(it)))  # the block's last iteration
    atomic_write(files["iters"], lambda tmp: block.to_csv(tmp, index=False, float_format="%.5g"))
    snaps = log["snapshots"]
    keep = [e for e in sorted(snaps) if e in SNAPSHOT_EPOCHS or e == max(snaps)]
    arrays = {
        f"epoch_{e}": (from_gan_range(snaps[e][:SNAPSHOT_IMAGES]).clamp(0, 1) * 255).round().to(torch.uint8).numpy()
        for e in keep
    }
    save_npz(files["snapshots"], arrays)


def read_gan_log(results_dir, epochs: pd.DataFrame) -> dict:
    """The log :func:`save_gan_log` wrote: ``epochs`` (given), ``iters`` (block means), ``snapshots``
    ({epoch: images in [-1, 1]}) and ``best_epoch`` (the evaluated epoch with the lowest FID, as :func:`train_gan`
    keeps)."""
    files = _log_files(results_dir)
    with np.load(files["snapshots"]) as z:
        snaps = {int(k.split("_")[1]): to_gan_range(torch.from_numpy(z[k]).float() / 255) for k in z.files}
    scored = epochs.dropna(subset=["fid"]) if "fid" in epochs else epochs.iloc[:0]
    return {
        "epochs": epochs,
        "iters": pd.read_csv(files["iters"]),
        "snapshots": dict(sorted(snaps.items())),
        "best_epoch": int(scored.loc[scored["fid"].idxmin(), "epoch"]) if len(scored) else None,
    }


def load_or_train_gan(
    results_dir,
    x,
    config: dict,
    *,
    evaluate=None,
    fixed_noise=None,
    spread_at=None,
    save=True,
    device=None,
    progress=True,
):
    """Notebook 04's GAN with the settings ``config`` (:func:`gan_config`) on images ``x`` in [-1, 1]: loaded when
    ``results_dir`` holds ``generator.pt`` / ``discriminator.pt`` saved with the same settings and the training log
    (``gan_epochs.csv``, ``gan_iters.csv``, ``gan_snapshots.npz``: :func:`save_gan_log`), else trained with
    :func:`train_gan` (resuming from its checkpoint: with a constant learning rate a longer run continues from a
    shorter one with the same settings) and saved; the generator keeps the weights of its lowest-FID epoch.
    ``spread_at``: see :func:`train_gan` (not part of the cache key).
    With ``save=False`` nothing is saved but the checkpoint, kept apart from the saved run's (a side run). Returns
    ``(G, D, log, loaded)``, ``log`` as
    :func:`read_gan_log` gives it."""
    cfg = dict(config)
    resume_cfg = {k: v for k, v in cfg.items() if k != "epochs"}

    def run():
        seed_everything(cfg["seed"])
        r = {**RECIPE_DEFAULTS, **{k: cfg[k] for k in RECIPE_DEFAULTS if k in cfg}}
        G = Generator(cfg["noise_dim"], hidden=cfg["g_hidden"], dropout=r["g_dropout"])
        D = Discriminator(hidden=cfg["d_hidden"], dropout=r["d_dropout"])
        log = train_gan(
            G,
            D,
            x,
            epochs=cfg["epochs"],
            lr=cfg["lr"],
            betas=tuple(cfg["betas"]),
            batch_size=cfg["batch_size"],
            real_label=cfg["real_label"],
            ema_decay=cfg["ema_decay"],
            decay_epochs=cfg.get("decay_epochs"),
            top_k=cfg["top_k"],
            r1=r["r1"],
            r1_every=r["r1_every"],
            amp=r["amp"],
            seed=cfg["seed"],
            device=device,
            fixed_noise=fixed_noise,
            evaluate=evaluate,
            eval_every=cfg["eval_every"],
            spread_at=spread_at,
            progress=progress,
            checkpoint=checkpoint_path(results_dir, "gan" if save else "gan_side", resume_cfg),
        )
        if log["best_state"] is not None:
            G.load_state_dict(log["best_state"])
        return G.eval(), D.eval(), log

    if not save:
        return (*run(), False)

    def train():
        G, D, log = run()
        save_gan_log(log, results_dir)
        return {"generator": G, "discriminator": D}, log["epochs"]

    files = _log_files(results_dir)
    models, epochs, loaded = load_or_train_models(
        {"generator": Path(results_dir) / "generator.pt", "discriminator": Path(results_dir) / "discriminator.pt"},
        cfg,
        train,
        log_path=files["epochs"],
        extra_files=(files["iters"], files["snapshots"]),
        notebook="04_gan",
    )
    return models["generator"], models["discriminator"], read_gan_log(results_dir, epochs), loaded
