"""Classifiers on the (pretrained) encoder: construction, freezing, label-efficiency runs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import torch

from .artifacts import checkpoint_path, load_or_compute_table, load_or_train
from .data import balanced_subset
from .models import Autoencoder, EncoderClassifier, count_parameters, ensemble_of, fingerprint
from .parallel import parallel_map
from .runtime import seed_everything
from .training import accuracy_and_loss, fit_classifier


def encoder_widths(autoencoder: Autoencoder | None) -> dict:
    """``{"channels", "encoder_hidden"}`` of ``autoencoder``'s encoder for :class:`EncoderClassifier` (``{}``, the
    the homework report's widths, if None), so that a classifier from scratch is compared on the same architecture."""
    if autoencoder is None:
        return {}
    return {"channels": list(autoencoder.config["channels"]), "encoder_hidden": autoencoder.config["hidden"]}


def classifier_from_autoencoder(autoencoder: Autoencoder | None, hidden=64, dropout=0.0, latent_dim=None, widths=None):
    """An :class:`EncoderClassifier` whose encoder starts from ``autoencoder``'s; if None, a random encoder of
    ``latent_dim`` with the widths ``widths`` (:func:`encoder_widths`; default the homework report's)."""
    if autoencoder is None:
        return EncoderClassifier(latent_dim, hidden=hidden, dropout=dropout, **(widths or {}))
    model = EncoderClassifier(autoencoder.latent_dim, hidden=hidden, dropout=dropout, **encoder_widths(autoencoder))
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


METHODS = ("frozen_head", "finetuned", "latent10_scratch")


def make_classifier(method: str, autoencoder: Autoencoder, hidden: int, seed: int) -> EncoderClassifier:
    """A method's untrained model, built after seeding (the head's initial weights depend on ``seed``):
    ``frozen_head`` (pretrained encoder, frozen), ``finetuned`` (pretrained encoder, trained) or
    ``latent10_scratch`` (random encoder of the same widths whose 10 latent outputs are the logits)."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    seed_everything(seed)
    if method == "latent10_scratch":
        return EncoderClassifier(10, hidden=0, **encoder_widths(autoencoder))
    model = classifier_from_autoencoder(autoencoder, hidden=hidden)
    return freeze_encoder(model) if method == "frozen_head" else model


def load_or_train_classifier(
    path,
    method,
    autoencoder,
    x_train,
    y_train,
    x_val,
    y_val,
    *,
    epochs,
    lr,
    batch_size=128,
    hidden=256,
    encoder_lr_factor=1.0,
    augment=None,
    seed=0,
    device=None,
    progress=True,
):
    """Return ``(model, history, trainable_parameters, loaded)`` for one method of :func:`make_classifier`.

    Trained with :func:`~helpers.training.fit_classifier` (one-cycle, best validation epoch kept; the fine-tuned
    encoder at ``encoder_lr_factor`` times ``lr``), cached at ``path`` with its settings and the fingerprint of
    ``autoencoder``'s weights (a retrained autoencoder retrains it), resumable from a checkpoint beside ``path``.
    """
    path = Path(path)
    model = make_classifier(method, autoencoder, hidden, seed)
    groups = (
        None
        if method == "latent10_scratch"
        else param_groups(model, lr, encoder_lr_factor if method == "finetuned" else 1.0)
    )
    cfg = {
        "method": method,
        "epochs": epochs,
        "lr": lr,
        "batch_size": batch_size,
        "seed": seed,
        "hidden": hidden,
        "augment": repr(augment),
        "n_train": len(x_train),
        "encoder_lr_factor": encoder_lr_factor,
        "architecture": repr(model),
        "init": "built after seeding",
        "autoencoder": fingerprint(autoencoder),
    }

    def train():
        hist = fit_classifier(
            model,
            x_train,
            y_train,
            x_val,
            y_val,
            epochs=epochs,
            lr=lr,
            batch_size=batch_size,
            param_groups=groups,
            augment=augment,
            seed=seed,
            device=device,
            progress=progress,
            schedule="onecycle",
            checkpoint=checkpoint_path(path.parent, path.stem, cfg),
            desc=f"{method} seed {seed}",
        )
        return model, hist

    trained, hist, loaded = load_or_train(path, cfg, train, method=method, seed=seed)
    return trained, hist, count_parameters(model), loaded


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


def _method_path(results_dir, method, seed, base_seed) -> Path:
    return Path(results_dir) / (
        f"classifier_{method}.pt" if seed == base_seed else f"classifier_{method}_seed{seed}.pt"
    )


def _train_job(job):
    method, seed, kw = job
    return (
        method,
        seed,
        *load_or_train_classifier(
            _method_path(kw.pop("results_dir"), method, seed, kw.pop("base_seed")),
            method,
            seed=seed,
            epochs=kw.pop("epochs")[method],
            **kw,
        ),
    )


def load_or_train_methods(
    jobs,
    autoencoder,
    x_train,
    y_train,
    x_val,
    y_val,
    *,
    results_dir,
    epochs: dict,
    base_seed=0,
    n_jobs=1,
    progress=True,
    **kw,
):
    """:func:`load_or_train_classifier` for every ``(method, seed)`` of ``jobs``, side by side in ``n_jobs``
    single-thread processes; ``epochs`` maps method -> epochs. Saved as ``results_dir/classifier_<method>.pt``
    (``base_seed``) or ``classifier_<method>_seed<s>.pt``. Returns ``[(method, seed, model, history,
    trainable_parameters, loaded)]`` in the order of ``jobs``."""
    for method, _ in jobs:
        if method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    common = dict(
        autoencoder=autoencoder,
        x_train=x_train,
        y_train=y_train,
        x_val=x_val,
        y_val=y_val,
        results_dir=results_dir,
        base_seed=base_seed,
        epochs=epochs,
        progress=progress and n_jobs == 1,
        **kw,
    )
    return parallel_map(_train_job, [(m, s, dict(common)) for m, s in jobs], n_jobs=n_jobs)


def method_results(outs, x_test, y_test, x_val, y_val, *, device=None) -> tuple[pd.DataFrame, pd.DataFrame, dict]:
    """Score the runs of :func:`load_or_train_methods` on the test set. Returns ``(runs, results, models)``:
    one row per run; one row per method (its run with the best validation accuracy, with the test accuracy's
    mean/std/min/max/count over its seeds), plus ``finetuned_ensemble`` (mean softmax of the fine-tuned runs)
    when there are several; and ``{(method, seed): model}``."""
    rows, models = [], {}
    for name, s, m, hist, n_trainable, _ in outs:
        loss, acc = accuracy_and_loss(m, x_test, y_test, device=device)
        best = hist.loc[hist["best"]].iloc[0]
        models[(name, s)] = m
        rows.append(
            {
                "method": name,
                "seed": s,
                "val_accuracy": best.val_acc,
                "test_loss": loss,
                "test_accuracy": acc,
                "trainable_params": n_trainable,
                "epochs": len(hist),
                "best_epoch": int(best.epoch),
                "train_seconds": hist["seconds"].sum(),
            }
        )
    runs = pd.DataFrame(rows)
    spread = (
        runs.groupby("method")["test_accuracy"].agg(["mean", "std", "min", "max", "count"]).add_prefix("test_accuracy_")
    )
    results = runs.loc[runs.groupby("method")["val_accuracy"].idxmax()].set_index("method").join(spread)
    ft = runs[runs.method == "finetuned"]
    if len(ft) > 1:
        ens = ensemble_of(models[("finetuned", s)] for s in ft.seed)
        models[("finetuned_ensemble", None)] = ens
        loss, acc = accuracy_and_loss(ens, x_test, y_test, device=device)
        results.loc["finetuned_ensemble"] = {
            "seed": None,
            "val_accuracy": accuracy_and_loss(ens, x_val, y_val, device=device)[1],
            "test_loss": loss,
            "test_accuracy": acc,
            "trainable_params": ft.trainable_params.sum(),
            "epochs": ft.epochs.max(),
            "train_seconds": ft.train_seconds.sum(),
            "test_accuracy_count": len(ft),
        }
    return runs, results.astype({"seed": "Int64", "best_epoch": "Int64"}), models


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


def summary_metrics(results: pd.DataFrame, means: dict, best_name: str) -> dict:
    """The results-file entries of notebook 02: test accuracy and loss per method, the fine-tuned runs' spread over
    seeds, and the label-efficiency means per recipe (``label_eff`` with augmentation, ``label_eff_plain`` without)."""
    ft = results.loc["finetuned"]
    return {
        "best_method": best_name,
        **{f"{k}_test_accuracy": float(v) for k, v in results["test_accuracy"].items()},
        **{f"{k}_test_loss": float(v) for k, v in results["test_loss"].items()},
        "finetuned_seed": int(ft.seed),
        "finetuned_val_accuracy": float(ft.val_accuracy),
        "finetuned_test_accuracy_mean": float(ft.test_accuracy_mean),
        "finetuned_test_accuracy_std": float(ft.test_accuracy_std),
        "finetuned_seeds": int(ft.test_accuracy_count),
        **{
            f"label_eff{'' if r == 'augmented' else '_plain'}_{n}_{i}": float(m.loc[n, i])
            for r, m in means.items()
            for n in m.index
            for i in m.columns
        },
    }
