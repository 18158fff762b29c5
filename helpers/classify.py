"""Classifiers on the (pretrained) encoder: construction, freezing, label-efficiency runs."""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from .data import balanced_subset
from .models import Autoencoder, EncoderClassifier, count_parameters
from .training import accuracy_and_loss, fit_classifier
from .utils import parallel_map, seed_everything


def classifier_from_autoencoder(autoencoder: Autoencoder | None, hidden=64, dropout=0.0, latent_dim=None):
    """An :class:`EncoderClassifier` whose encoder starts from ``autoencoder``'s (random if None)."""
    d = autoencoder.latent_dim if autoencoder is not None else latent_dim
    model = EncoderClassifier(d, hidden=hidden, dropout=dropout)
    if autoencoder is not None:
        model.encoder.load_state_dict(autoencoder.encoder.state_dict())
    return model


def freeze_encoder(model: EncoderClassifier, frozen: bool = True) -> EncoderClassifier:
    """Stop (or restart) gradient updates of the encoder; returns the model."""
    for p in model.encoder.parameters():
        p.requires_grad_(not frozen)
    return model


def param_groups(model: EncoderClassifier, lr: float, encoder_lr_factor: float = 0.1):
    """Optimizer groups: the encoder at ``lr * encoder_lr_factor``, the head at ``lr`` (trainable only)."""
    enc = [p for p in model.encoder.parameters() if p.requires_grad]
    head = [p for p in model.head.parameters() if p.requires_grad]
    groups = [{"params": enc, "lr": lr * encoder_lr_factor}] if enc else []
    return groups + ([{"params": head, "lr": lr}] if head else [])


def _label_run(job):
    """One label-efficiency run: train on the job's subset, score on the test set."""
    seed_everything(job["seed"])
    model = classifier_from_autoencoder(job["autoencoder"], hidden=job["hidden"], latent_dim=job["latent_dim"])
    fit_classifier(model, job["x"], job["y"], epochs=job["epochs"], lr=job["lr"], batch_size=job["batch_size"],
                   param_groups=param_groups(model, job["lr"], job["encoder_lr_factor"]), augment=job["augment"],
                   seed=job["seed"], device=job["device"], progress=job["progress"], schedule="onecycle",
                   desc=f"{job['init']} n={len(job['x'])}")
    loss, acc = accuracy_and_loss(model, job["x_test"], job["y_test"], device=job["device"])
    return {"labels": len(job["x"]), "init": job["init"], "seed": job["seed"], "epochs": job["epochs"],
            "test_loss": loss, "test_acc": acc}


def label_efficiency(autoencoder, x_train, y_train, x_test, y_test, *, sizes=(100, 1000, 10000, 60000),
                     seeds=(0, 1, 2), seeds_large=(0,), large_from=10000, min_steps=600, epochs=10, batch_size=128, lr=3e-3,
                     hidden=64, encoder_lr_factor=0.3, augment=None, device=None, progress=False, n_jobs=1):
    """Test accuracy of the fine-tuned pretrained encoder vs the same network from random init,
    trained on balanced subsets of ``sizes`` labels (the pretrained encoder at ``encoder_lr_factor``
    times the head's learning rate). Subsets smaller than ``large_from`` use
    ``seeds``, larger ones ``seeds_large``; each run takes at least ``min_steps`` optimizer steps.
    The runs are independent and spread over ``n_jobs`` processes (:func:`helpers.utils.parallel_map`)."""
    jobs = []
    for n in sizes:
        for seed in (seeds if n < large_from else seeds_large):
            idx = torch.as_tensor(balanced_subset(y_train.numpy(), n, seed=seed))
            bs = min(batch_size, len(idx))
            for init in ("pretrained", "scratch"):
                jobs.append({"x": x_train[idx], "y": y_train[idx], "x_test": x_test, "y_test": y_test, "seed": seed,
                             "init": init, "autoencoder": autoencoder if init == "pretrained" else None,
                             "latent_dim": autoencoder.latent_dim, "hidden": hidden, "lr": lr, "batch_size": bs,
                             "epochs": max(epochs, -(-min_steps * bs // len(idx))),
                             "encoder_lr_factor": encoder_lr_factor if init == "pretrained" else 1.0,
                             "augment": augment, "device": device, "progress": progress})
    return pd.DataFrame(parallel_map(_label_run, jobs, n_jobs=n_jobs))
