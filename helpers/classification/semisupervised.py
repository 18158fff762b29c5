"""Semi-supervised classification: a few labelled images plus the unlabelled rest of the training set (FixMatch).

FixMatch (Sohn et al., 2020): a confident prediction on a weakly augmented unlabelled image becomes the target
for a strongly augmented view of the same image. The unlabelled images' labels are never read.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch.nn import functional as F
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from ..artifacts import checkpoint_path, load_or_train
from ..corruption import Compose, Cutout, ElasticDistortion, GaussianNoise, RandomAffine
from ..data import balanced_subset
from ..loop import epoch_loop
from ..models import fingerprint
from ..parallel import parallel_map
from ..runtime import check_images, check_positive, note, seed_everything, to_device
from ..runtime import device as pick_device
from ..training import accuracy_and_loss
from .classify import classifier_from_autoencoder, encoder_widths, param_groups

WEAK = dict(max_degrees=10.0, translate=0.08, scale=(0.9, 1.1))  # the notebook's supervised augmentation
STRONG = dict(max_degrees=15.0, translate=0.1, scale=(0.85, 1.15), cutout=5, noise=0.1)  # benchmarks/README.md


def weak_augment() -> RandomAffine:
    """A small random rotation, shift and scale per image."""
    return RandomAffine(**WEAK)


def strong_augment(max_degrees=15.0, translate=0.1, scale=(0.85, 1.15), cutout=5, noise=0.1, elastic=0.0) -> Compose:
    """An elastic distortion of ``elastic`` pixels (none at 0; :class:`~helpers.corruption.ElasticDistortion`), a
    larger random affine, a ``cutout`` x ``cutout`` square erased and Gaussian noise of std up to ``noise`` (drawn
    per image), all batched on the tensor; values stay in [0, 1]."""
    return Compose(
        ElasticDistortion(elastic) if elastic else None,
        RandomAffine(max_degrees, translate, scale),
        Cutout(cutout) if cutout else None,
        GaussianNoise((0.0, noise)) if noise else None,
    )


def pseudo_labels(logits: torch.Tensor, threshold: float, prior: torch.Tensor | None = None):
    """``(labels, mask)``: the argmax of the softmax of ``logits`` and whether its probability reaches
    ``threshold``. With ``prior`` (the running mean prediction), probabilities are first aligned to a uniform class
    distribution (distribution alignment, Berthelot et al., 2020)."""
    probs = logits.softmax(1)
    if prior is not None:
        probs = probs / prior.clamp_min(1e-6)
        probs = probs / probs.sum(1, keepdim=True)
    conf, labels = probs.max(1)
    if isinstance(threshold, torch.Tensor):  # one threshold per class, read at each pseudo-label's class
        threshold = threshold[labels]
    return labels, (conf >= threshold).float()


def class_thresholds(status: torch.Tensor, threshold: float, n_classes: int) -> torch.Tensor:
    """FlexMatch's curriculum thresholds (Zhang et al., 2021): ``status`` holds, per unlabelled image, the class of
    its latest pseudo-label that reached ``threshold`` (-1: none yet). A class's learning effect is its count of such
    images over the largest count, or over the images without one while those are more (the warm-up); its
    threshold is ``threshold * beta / (2 - beta)``, lower for the classes the model has learned least."""
    counts = torch.bincount(status[status >= 0], minlength=n_classes).float()
    beta = counts / torch.maximum(counts.max(), (status < 0).sum().float()).clamp_min(1.0)
    return threshold * beta / (2 - beta)


def fit_fixmatch(
    model,
    x_lab,
    y_lab,
    x_unlab,
    *,
    steps,
    lr=3e-3,
    encoder_lr_factor=0.3,
    weight_decay=0.0,
    labelled_batch=64,
    unlabelled_ratio=7,
    threshold=0.95,
    align=True,
    ema_decay=0.999,
    ema_teacher=False,
    flex=False,
    weak=None,
    strong=None,
    steps_per_round=250,
    x_eval=None,
    y_eval=None,
    seed=0,
    device=None,
    checkpoint=None,
    progress=False,
):
    """Train ``model`` (an :class:`~helpers.models.EncoderClassifier`) with FixMatch for ``steps`` steps.

    Each step: cross-entropy on ``labelled_batch`` weakly augmented labelled images, plus the cross-entropy of
    ``unlabelled_ratio`` times as many strongly augmented unlabelled images against the pseudo-labels of their weak
    views (:func:`pseudo_labels`, kept where confident; ``flex``: with FlexMatch's per-class thresholds,
    :func:`class_thresholds`). Adam, one-cycle schedule peaking at ``lr`` (the encoder at ``encoder_lr_factor``
    times it), with decoupled ``weight_decay`` (AdamW's; 0: plain Adam). Logged and checkpointed every
    ``steps_per_round`` steps (a rerun resumes).
    Returns ``(ema_model, history)``: the moving average of the weights (a fixed schedule picks it: no test or
    validation score is used) and one row per round (``loss``, ``mask_rate``, ``lr``, and ``eval_acc`` of the
    averaged model on ``x_eval`` when given, for the learning curve only)."""
    check_images("x_lab", x_lab)
    check_images("x_unlab", x_unlab)
    check_positive("steps", steps, integer=True)
    check_positive("steps_per_round", steps_per_round, integer=True)
    if not 0 < threshold <= 1:
        raise ValueError(f"threshold must be in (0, 1], got {threshold!r}")
    if len(x_lab) != len(y_lab):
        raise ValueError(f"x_lab and y_lab differ in length: {len(x_lab)} vs {len(y_lab)}")
    dev = pick_device() if device is None else torch.device(device)
    weak = weak or weak_augment()
    strong = strong or strong_augment()
    to_device(model, dev)
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(ema_decay))
    xl, yl, xu = x_lab.to(dev), y_lab.to(dev), x_unlab.to(dev)
    opt = torch.optim.Adam(
        param_groups(model, lr, encoder_lr_factor), lr=lr, weight_decay=weight_decay, decoupled_weight_decay=True
    )
    sched = torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=[g["lr"] for g in opt.param_groups], total_steps=steps, pct_start=0.15
    )
    n_classes = int(yl.max()) + 1
    state = {
        "prior": torch.full((n_classes,), 1.0 / n_classes, device=dev),
        "status": torch.full((len(xu),), -1, dtype=torch.long, device=dev),  # flex: each image's latest confident class
    }
    n_u = labelled_batch * unlabelled_ratio

    def step(_idx):
        il = torch.randint(len(xl), (labelled_batch,), device=dev)
        iu = torch.randint(len(xu), (n_u,), device=dev)
        with torch.no_grad():
            weak_logits = (ema.module if ema_teacher else model)(weak(xu[iu]))
        prior = state["prior"] if align else None
        targets, mask = pseudo_labels(weak_logits, threshold, prior)
        if flex:
            confident = mask.bool()
            mask = pseudo_labels(weak_logits, class_thresholds(state["status"], threshold, n_classes), prior)[1]
            state["status"][iu[confident]] = targets[confident]
        logits = model(torch.cat([weak(xl[il]), strong(xu[iu])]))
        loss_l = F.cross_entropy(logits[:labelled_batch], yl[il])
        loss_u = (F.cross_entropy(logits[labelled_batch:], targets, reduction="none") * mask).mean()
        loss = loss_l + loss_u
        if not torch.isfinite(loss):
            return None
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        ema.update_parameters(model)
        state["prior"] = 0.999 * state["prior"] + 0.001 * weak_logits.softmax(1).mean(0)
        return {"loss": loss.detach(), "loss_labelled": loss_l.detach(), "mask_rate": mask.mean()}

    def after_round(_epoch, row, _batches):
        row["lr"] = opt.param_groups[-1]["lr"]
        if x_eval is not None:
            row["eval_acc"] = accuracy_and_loss(ema.module, x_eval, y_eval, device=dev)[1]
        row["step"] = row["epoch"] * steps_per_round

    def get_state():
        return {
            "model": model.state_dict(),
            "ema": ema.state_dict(),
            "opt": opt.state_dict(),
            "sched": sched.state_dict(),
            "prior": state["prior"],
            "status": state["status"],
        }

    def set_state(saved):
        model.load_state_dict(saved["model"])
        ema.load_state_dict(saved["ema"])
        opt.load_state_dict(saved["opt"])
        sched.load_state_dict(saved["sched"])
        state["prior"] = saved["prior"].to(dev)
        if "status" in saved:
            state["status"] = saved["status"].to(dev)

    if steps % steps_per_round:
        raise ValueError(f"steps ({steps}) must be a multiple of steps_per_round ({steps_per_round})")
    model.train()
    rows = epoch_loop(
        step,
        steps_per_round * n_u,
        epochs=steps // steps_per_round,
        batch_size=n_u,
        seed=seed,
        get_state=get_state,
        set_state=set_state,
        after_epoch=after_round,
        checkpoint=checkpoint,
        progress=progress,
        desc=f"FixMatch {len(xl)} labels",
    )
    out = ema.module.eval()
    return out, pd.DataFrame(rows)


def semisupervised_config(autoencoder, n_labels: int, subset: int, init: str, settings: dict) -> dict:
    """The cache key of one semi-supervised run: the encoder's weights (when pretrained), the labelled subset and
    every training setting."""
    return {
        "method": "fixmatch",
        "labels": n_labels,
        "subset": subset,
        "init": init,
        "autoencoder": fingerprint(autoencoder) if init == "pretrained" else None,
        **settings,
    }


def _run(job, x, y, x_eval, y_eval):
    """One cached semi-supervised run (a joblib worker; the arrays are broadcast once): ``(model, history, loaded)``."""
    ae, init, idx, settings = job["autoencoder"], job["init"], job["idx"], job["settings"]
    cfg = semisupervised_config(ae, len(idx), job["subset"], init, settings)

    def train():
        seed_everything(job["subset"])
        model = classifier_from_autoencoder(
            ae if init == "pretrained" else None,
            hidden=settings["hidden"],
            latent_dim=ae.latent_dim,
            widths=encoder_widths(ae),
        )
        rest = np.setdiff1d(np.arange(len(x)), idx)  # the unlabelled images: every other training image
        return fit_fixmatch(
            model,
            x[idx],
            y[idx],
            x[rest],
            steps=settings["steps"],
            lr=settings["lr"],
            encoder_lr_factor=settings["encoder_lr_factor"] if init == "pretrained" else 1.0,
            threshold=settings["threshold"],
            align=settings["align"],
            strong=strong_augment(**settings["strong"]),
            x_eval=x_eval,
            y_eval=y_eval,
            steps_per_round=settings["steps_per_round"],
            labelled_batch=settings["labelled_batch"],
            unlabelled_ratio=settings["unlabelled_ratio"],
            ema_teacher=settings["ema_teacher"],
            seed=job["subset"],
            device=job["device"],
            checkpoint=checkpoint_path(job["results_dir"], "fixmatch", cfg),
        )

    return load_or_train(job["path"], cfg, train, labels=len(idx), subset=job["subset"], init=init)


def load_or_train_semisupervised(
    results_dir,
    autoencoder,
    x_train,
    y_train,
    x_test,
    y_test,
    *,
    sizes=(100, 1000),
    subsets=(0, 1, 2),
    scratch_sizes=(100,),
    steps=4000,
    steps_per_round=250,
    labelled_batch=64,
    unlabelled_ratio=7,
    lr=3e-3,
    encoder_lr_factor=0.3,
    hidden=256,
    threshold=0.95,
    align=True,
    ema_teacher=False,
    strong=None,
    device=None,
    n_jobs=1,
) -> tuple[pd.DataFrame, dict, dict]:
    """FixMatch on balanced labelled subsets (:func:`~helpers.data.balanced_subset`, the label-efficiency runs'
    subsets) of ``sizes`` labels, from the pretrained encoder, and for ``scratch_sizes`` from random weights too.
    Each run is cached as ``results_dir/classifier_semisup_{labels}_{init}_{subset}.pt`` with its history; runs
    go ``n_jobs`` at a time. Returns ``(table, histories, models)``: one row per run (``labels, init, subset,
    test_acc, test_loss``), and ``{(labels, init, subset): history}`` and ``{...: model}``."""
    settings = {
        "steps": steps,
        "steps_per_round": steps_per_round,
        "labelled_batch": labelled_batch,
        "unlabelled_ratio": unlabelled_ratio,
        "lr": lr,
        "encoder_lr_factor": encoder_lr_factor,
        "hidden": hidden,
        "threshold": threshold,
        "align": align,
        "ema_teacher": ema_teacher,
        "strong": dict(STRONG, **(strong or {})),
    }
    jobs = []
    for n in sizes:
        for init in ("pretrained", "scratch") if n in scratch_sizes else ("pretrained",):
            for subset in subsets:
                jobs.append(
                    {
                        "autoencoder": autoencoder,
                        "init": init,
                        "subset": subset,
                        "settings": settings,
                        "idx": balanced_subset(y_train.numpy(), n, seed=subset),
                        "device": device,
                        "results_dir": results_dir,
                        "path": results_dir / f"classifier_semisup_{n}_{init}_{subset}.pt",
                    }
                )
    outs = parallel_map(_run, jobs, n_jobs=n_jobs, shared=(x_train, y_train, x_test, y_test))
    rows, histories, models = [], {}, {}
    for job, (model, hist, loaded) in zip(jobs, outs):
        loss, acc = accuracy_and_loss(model, x_test, y_test, device=device)
        key = (len(job["idx"]), job["init"], job["subset"])
        rows.append({"labels": key[0], "init": key[1], "subset": key[2], "test_acc": acc, "test_loss": loss})
        note(f"FixMatch {key[0]} labels, {key[1]}, subset {key[2]}: {'loaded' if loaded else 'trained'}")
        histories[key], models[key] = hist, model
    return pd.DataFrame(rows), histories, models


def comparison_table(semi: pd.DataFrame, supervised: pd.DataFrame) -> pd.DataFrame:
    """Test accuracy (mean ± std over the label subsets) of the semi-supervised runs beside the supervised
    label-efficiency runs (``labels, init, seed, test_acc``) of the same sizes: one row per number of labels."""
    sup = supervised[supervised["labels"].isin(semi["labels"].unique())]
    parts = {
        "semi-supervised, pretrained": semi[semi["init"] == "pretrained"].groupby("labels")["test_acc"],
        "semi-supervised, random init": semi[semi["init"] == "scratch"].groupby("labels")["test_acc"],
        "labels only, pretrained": sup[sup["init"] == "pretrained"].groupby("labels")["test_acc"],
        "labels only, random init": sup[sup["init"] == "scratch"].groupby("labels")["test_acc"],
    }
    cols = {}
    for name, g in parts.items():
        stats = g.agg(["mean", "std", "count"])
        if len(stats):
            cols[(name, "mean")], cols[(name, "std")] = stats["mean"], stats["std"]
    return pd.DataFrame(cols)


ANCHORS = pd.DataFrame(
    [
        ("Bad GAN (Dai et al., NeurIPS 2017)", 0.9921, 0.0010, "paper, Table 1"),
        ("Triple-GAN (Li et al., 2017)", 0.9909, 0.0058, "paper"),
        ("Improved GAN, feature matching (Salimans et al., 2016)", 0.9907, 0.0007, "paper"),
        ("Ladder network, MLP (Rasmus et al., 2015)", 0.9894, 0.0037, "paper"),
        ("VAT (Miyato et al., 2017)", 0.9864, None, "paper"),
        ("temporal ensembling, a PyTorch reimplementation", 0.978, 0.006, "ferretj/temporal-ensembling README"),
    ],
    columns=["method (MNIST, 100 labels)", "test accuracy", "± std", "source"],
)  # published results with 100 labels, for the notebook's anchors table


def summary_metrics(semi: pd.DataFrame, histories: dict) -> dict:
    """The results-file entries: mean and std of test accuracy per (labels, init), and the training seconds."""
    out = {}
    for (n, init), g in semi.groupby(["labels", "init"]):
        out[f"semi_{n}_{init}_test_accuracy"] = float(g["test_acc"].mean())
        out[f"semi_{n}_{init}_test_accuracy_std"] = float(g["test_acc"].std())
    out["semi_train_seconds"] = float(sum(h["seconds"].sum() for h in histories.values()))
    return out


def anchors_table(semi: pd.DataFrame) -> pd.DataFrame:
    """:data:`ANCHORS` with our 100-label row (the pretrained runs' mean and std) added when there is one."""
    ours = semi[(semi["init"] == "pretrained") & (semi["labels"] == 100)]["test_acc"]
    table = ANCHORS.copy()
    if len(ours):
        table.loc[len(table)] = [
            "this report: FixMatch from the pretrained encoder",
            ours.mean(),
            ours.std(),
            "the semi-supervised table above",
        ]
    return table
