"""A denoising autoencoder: the plain :class:`~helpers.models.Autoencoder`, trained with a corruption passed in."""
from __future__ import annotations

from pathlib import Path

import torch

from .artifacts import checkpoint_path, load_or_train
from .models import Autoencoder
from .training import fit_autoencoder, predict
from .utils import seed_everything


def load_or_train_denoiser(path, corrupt, x_train, x_val, *, latent_dim=64, channels=(16, 32, 64), hidden=256, epochs=40,
                           lr=5e-3, batch_size=128, seed=0, device=None, progress=True, snapshot_batch=None):
    """Return ``(model, history, loaded)`` for an :class:`Autoencoder` trained to map ``corrupt(x)`` to ``x``.

    The model is cached at ``path`` (with its settings, so a changed setting or corruption retrains) and
    training resumes from a checkpoint under ``path``'s folder. With ``snapshot_batch``, the outputs on that
    batch after every epoch are saved to ``<path stem>_progress.pt`` as ``{epoch: images}``.
    """
    path = Path(path)
    cfg = {"latent_dim": latent_dim, "channels": list(channels), "hidden": hidden, "epochs": epochs, "lr": lr,
           "batch_size": batch_size, "seed": seed, "corrupt": repr(corrupt), "n_train": len(x_train)}

    def train():
        snaps = {}
        seed_everything(seed)
        model = Autoencoder(latent_dim, channels, hidden)
        keep = None if snapshot_batch is None else (lambda ep, m: snaps.__setitem__(ep, predict(m, snapshot_batch, device=device)))
        hist = fit_autoencoder(model, x_train, x_val, epochs=epochs, lr=lr, batch_size=batch_size, corrupt=corrupt,
                               schedule="onecycle", seed=seed, device=device, progress=progress,
                               checkpoint=checkpoint_path(path.parent, path.stem, cfg), callback=keep, desc=path.stem)
        if snapshot_batch is not None:
            torch.save(snaps, progress_path(path))
        return model, hist

    return load_or_train(path, cfg, train, corruption=repr(corrupt))


def progress_path(path) -> Path:
    """Where :func:`load_or_train_denoiser` keeps the per-epoch outputs on its snapshot batch."""
    path = Path(path)
    return path.with_name(f"{path.stem}_progress.pt")
