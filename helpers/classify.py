"""Classifiers on the (pretrained) encoder: construction, freezing, label-efficiency runs."""
from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from .data import balanced_subset
from .models import Autoencoder, EncoderClassifier, count_parameters
from .training import accuracy_and_loss, fit_classifier
from .utils import seed_everything


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


def label_efficiency(autoencoder, x_train, y_train, x_test, y_test, *, sizes=(100, 1000, 10000, 60000),
                     seeds=(0, 1, 2), seeds_large=(0,), large_from=10000, min_steps=600, epochs=10, batch_size=128, lr=3e-3,
                     hidden=64, encoder_lr_factor=0.3, augment=None, device=None, progress=False):
    """Test accuracy of the fine-tuned pretrained encoder vs the same network from random init,
    trained on balanced subsets of ``sizes`` labels (the pretrained encoder at ``encoder_lr_factor``
    times the head's learning rate). Subsets smaller than ``large_from`` use
    ``seeds``, larger ones ``seeds_large``; each run takes at least ``min_steps`` optimizer steps."""
    rows = []
    for n in sizes:
        for seed in (seeds if n < large_from else seeds_large):
            idx = torch.as_tensor(balanced_subset(y_train.numpy(), n, seed=seed))
            bs = min(batch_size, len(idx))
            n_epochs = max(epochs, -(-min_steps * bs // len(idx)))
            for init in ("pretrained", "scratch"):
                seed_everything(seed)
                model = classifier_from_autoencoder(autoencoder if init == "pretrained" else None, hidden=hidden,
                                                    latent_dim=autoencoder.latent_dim)
                fit_classifier(model, x_train[idx], y_train[idx], epochs=n_epochs, lr=lr, batch_size=bs,
                               param_groups=param_groups(model, lr, encoder_lr_factor if init == "pretrained" else 1.0),
                               augment=augment, seed=seed, device=device, progress=progress, schedule="onecycle",
                               desc=f"{init} n={n}")
                loss, acc = accuracy_and_loss(model, x_test, y_test, device=device)
                rows.append({"labels": len(idx), "init": init, "seed": seed, "epochs": n_epochs,
                             "test_loss": loss, "test_acc": acc})
    return pd.DataFrame(rows)
