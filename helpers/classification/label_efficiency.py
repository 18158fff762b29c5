"""Label efficiency: the encoder fine-tuned and a network trained from scratch on balanced subsets of few to
all labels."""

from __future__ import annotations

import pandas as pd
import torch

from ..artifacts import load_or_compute_table
from ..data import balanced_subset
from ..models import fingerprint
from ..parallel import parallel_map
from ..runtime import seed_everything
from ..training import accuracy_and_loss, fit_classifier
from .classify import classifier_from_autoencoder, encoder_widths, param_groups


def _label_run(job):
    """One label-efficiency run: train on the job's subset, score on the test set."""
    seed_everything(job["seed"])
    model = classifier_from_autoencoder(
        job["autoencoder"], hidden=job["hidden"], latent_dim=job["latent_dim"], widths=job["widths"]
    )
    fit_classifier(
        model,
        job["x"],
        job["y"],
        epochs=job["epochs"],
        lr=job["lr"],
        batch_size=job["batch_size"],
        param_groups=param_groups(model, job["lr"], job["encoder_lr_factor"]),
        augment=job["augment"],
        seed=job["seed"],
        device=job["device"],
        progress=job["progress"],
        schedule="onecycle",
        desc=f"{job['init']} n={len(job['x'])}",
    )
    loss, acc = accuracy_and_loss(model, job["x_test"], job["y_test"], device=job["device"])
    return {
        "labels": len(job["x"]),
        "init": job["init"],
        "seed": job["seed"],
        "epochs": job["epochs"],
        "test_loss": loss,
        "test_acc": acc,
    }


def label_efficiency(
    autoencoder,
    x_train,
    y_train,
    x_test,
    y_test,
    *,
    sizes=(100, 1000, 10000, 60000),
    seeds=(0, 1, 2),
    seeds_large=(0,),
    large_from=10000,
    min_steps=600,
    epochs=10,
    batch_size=128,
    lr=3e-3,
    hidden=64,
    encoder_lr_factor=0.3,
    augment=None,
    device=None,
    progress=False,
    n_jobs=1,
):
    """Test accuracy of the fine-tuned pretrained encoder vs the same network from random init,
    trained on balanced subsets of ``sizes`` labels (the pretrained encoder at ``encoder_lr_factor``
    times the head's learning rate). Subsets smaller than ``large_from`` use
    ``seeds``, larger ones ``seeds_large``; each run takes at least ``min_steps`` optimizer steps.
    The runs are independent and spread over ``n_jobs`` processes (:func:`helpers.parallel.parallel_map`)."""
    jobs = []
    for n in sizes:
        for seed in seeds if n < large_from else seeds_large:
            idx = torch.as_tensor(balanced_subset(y_train.numpy(), n, seed=seed))
            bs = min(batch_size, len(idx))
            for init in ("pretrained", "scratch"):
                jobs.append(
                    {
                        "x": x_train[idx],
                        "y": y_train[idx],
                        "x_test": x_test,
                        "y_test": y_test,
                        "seed": seed,
                        "init": init,
                        "autoencoder": autoencoder if init == "pretrained" else None,
                        "latent_dim": autoencoder.latent_dim,
                        "widths": encoder_widths(autoencoder),
                        "hidden": hidden,
                        "lr": lr,
                        "batch_size": bs,
                        "epochs": max(epochs, -(-min_steps * bs // len(idx))),
                        "encoder_lr_factor": encoder_lr_factor if init == "pretrained" else 1.0,
                        "augment": augment,
                        "device": device,
                        "progress": progress,
                    }
                )
    return pd.DataFrame(parallel_map(_label_run, jobs, n_jobs=n_jobs))


def load_or_compute_label_efficiency(
    path,
    autoencoder,
    x_train,
    y_train,
    x_test,
    y_test,
    *,
    sizes,
    seeds,
    epochs,
    min_steps,
    lr,
    hidden,
    encoder_lr_factor,
    augment=None,
    device=None,
    n_jobs=1,
):
    """:func:`label_efficiency`, cached at ``path`` (CSV) with its settings and the autoencoder's fingerprint.
    Returns ``(table, loaded)``."""
    cfg = dict(
        sizes=sizes,
        seeds=seeds,
        epochs=epochs,
        min_steps=min_steps,
        lr=lr,
        encoder_lr_factor=encoder_lr_factor,
        n=len(x_train),
        architecture=repr(classifier_from_autoencoder(autoencoder, hidden=hidden)),
        augment=repr(augment),
        autoencoder=fingerprint(autoencoder),
    )
    return load_or_compute_table(
        path,
        cfg,
        lambda: label_efficiency(
            autoencoder,
            x_train,
            y_train,
            x_test,
            y_test,
            sizes=sizes,
            seeds=seeds,
            epochs=epochs,
            min_steps=min_steps,
            lr=lr,
            hidden=hidden,
            encoder_lr_factor=encoder_lr_factor,
            augment=augment,
            device=device,
            n_jobs=n_jobs,
        ),
    )


def label_efficiency_means(tables: dict) -> dict:
    """``{recipe: DataFrame labels x init (pretrained / scratch) of mean test accuracy}`` from label-efficiency
    tables."""
    return {name: df.groupby(["labels", "init"])["test_acc"].mean().unstack() for name, df in tables.items()}
