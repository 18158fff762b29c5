"""Classifiers on the (pretrained) encoder: construction, freezing, label-efficiency runs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..artifacts import checkpoint_path, load_or_train
from ..models import Autoencoder, EncoderClassifier, count_parameters, ensemble_of, fingerprint
from ..parallel import parallel_map
from ..runtime import seed_everything
from ..training import accuracy_and_loss, fit_classifier


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
