"""Training loops: one shared epoch loop, thin wrappers per task, each returning a per-epoch log."""

from __future__ import annotations

import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F

from .dead_units import revive_dead_units
from .loop import epoch_loop
from .runtime import check_images, check_positive, to_device
from .runtime import device as pick_device

SCHEDULES = (None, "onecycle", "cosine")
AE_LOSSES = ("mse", "bce")


def loss_config(loss: str) -> dict:
    """``{"loss": loss}`` to add to a cache key; ``{}`` for the homework report's MSE, so a run with it keeps the key
    it always
    had. A loss not in :data:`AE_LOSSES` raises ``ValueError``."""
    if loss not in AE_LOSSES:
        raise ValueError(f"loss must be one of {AE_LOSSES}, got {loss!r}")
    return {} if loss == "mse" else {"loss": loss}


def _check_common(epochs, lr, batch_size, weight_decay, schedule):
    check_positive("epochs", epochs, integer=True)
    check_positive("batch_size", batch_size, integer=True)
    check_positive("lr", lr)
    check_positive("weight_decay", weight_decay, minimum=0)
    if schedule not in SCHEDULES:
        raise ValueError(f"schedule must be one of {SCHEDULES}, got {schedule!r}")


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, *, batch_size: int = 2048, device=None, fn=None) -> torch.Tensor:
    """Run ``fn(model, batch)`` (default ``model(batch)``) over ``x`` in eval mode; result on the CPU."""
    dev = pick_device() if device is None else torch.device(device)
    was_training = model.training
    to_device(model, dev).eval()
    outs = [
        (fn(model, x[i : i + batch_size].to(dev)) if fn else model(x[i : i + batch_size].to(dev))).cpu()
        for i in range(0, len(x), batch_size)
    ]
    model.train(was_training)
    return torch.cat(outs) if outs else torch.empty(0)


def reconstruction_mse(model: nn.Module, x: torch.Tensor, target: torch.Tensor | None = None, **kw) -> float:
    """Mean squared error between ``model(x)`` and ``target`` (default ``x``)."""
    recon = predict(model, x, **kw)
    return F.mse_loss(recon, (x if target is None else target).cpu()).item()


def _fit(
    model,
    n_train,
    batch_loss,
    evaluate,
    *,
    epochs,
    lr,
    batch_size,
    weight_decay,
    seed,
    device,
    progress,
    schedule,
    param_groups,
    checkpoint,
    desc,
    keep_best=None,
    callback=None,
):
    """Supervised and autoencoder fits on :func:`~helpers.loop.epoch_loop`. ``batch_loss(idx) -> (loss, logged)``:
    the loss to minimise (logged as ``train_loss``) and a dict of other per-batch values to log (or ``None``);
    ``evaluate(epoch) -> dict`` (an :class:`_Eval`).

    A non-finite loss stops the run and is logged as ``diverged``. ``keep_best`` names a logged metric
    (``val_acc``: higher is better, else lower): the weights of its best epoch are restored at the end.
    """
    groups = (
        param_groups
        if param_groups is not None
        else [{"params": [p for p in model.parameters() if p.requires_grad], "lr": lr}]
    )
    # fused: one kernel for the whole update (the same algorithm), faster than the default per-tensor loop
    opt = torch.optim.Adam(groups, lr=lr, weight_decay=weight_decay, fused=device.type in ("cpu", "cuda"))
    steps_per_epoch = -(-n_train // batch_size)
    sched = None
    if schedule == "onecycle":
        sched = torch.optim.lr_scheduler.OneCycleLR(
            opt, max_lr=[g["lr"] for g in opt.param_groups], total_steps=epochs * steps_per_epoch
        )
    elif schedule == "cosine":
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs * steps_per_epoch)
    higher = bool(keep_best) and "acc" in keep_best
    best = {"state": None, "score": None}

    def step(idx):
        model.train()
        loss, logged = batch_loss(idx)
        if not torch.isfinite(loss):
            return None
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        if sched is not None:
            sched.step()
        return {"train_loss": loss.detach(), **(logged or {})}

    def after_epoch(epoch, row, batches):
        row["lr"] = opt.param_groups[-1]["lr"]
        if row["diverged"]:
            row.update({k: float("nan") for k in ["train_loss", *evaluate.keys]})
            return
        row.update(evaluate(epoch))
        if callback is not None:
            callback(epoch, model)
        if keep_best:
            score = row[keep_best]
            if best["score"] is None or (score > best["score"] if higher else score < best["score"]):
                best["score"], best["state"] = score, {k: v.detach().clone() for k, v in model.state_dict().items()}

    def get_state():
        return {
            "model": model.state_dict(),
            "optimizer": opt.state_dict(),
            "scheduler": sched.state_dict() if sched is not None else None,
            "best": best,
        }

    def set_state(state):
        model.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        if sched is not None:
            sched.load_state_dict(state["scheduler"])
        best.update(state["best"])

    rows = epoch_loop(
        step,
        n_train,
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        get_state=get_state,
        set_state=set_state,
        after_epoch=after_epoch,
        checkpoint=checkpoint,
        progress=progress,
        desc=desc,
    )
    hist = pd.DataFrame(rows)
    cols = [
        "epoch",
        "train_loss",
        *(["train_acc"] if "train_acc" in hist else []),
        *evaluate.keys,
        "lr",
        "seconds",
        "diverged",
    ]
    hist = hist[cols + [c for c in hist.columns if c not in cols]]
    if keep_best and best["state"] is not None:
        model.load_state_dict(best["state"])
        scores = hist[keep_best].where(~hist["diverged"])
        hist["best"] = hist.index == (scores.idxmax() if higher else scores.idxmin())
    model.eval()
    return hist


class _Eval:
    """A callable ``(epoch) -> metrics`` with the metric names it returns (so a diverged epoch can log NaNs); with
    ``only_epoch`` it evaluates after that epoch only and logs NaNs after the others."""

    def __init__(self, fn, keys, only_epoch=None):
        self.fn, self.keys, self.only_epoch = fn, keys, only_epoch

    def __call__(self, epoch):
        if self.only_epoch is not None and epoch != self.only_epoch:
            return {k: float("nan") for k in self.keys}
        return self.fn()


def fit_autoencoder(
    model,
    train_x,
    val_x=None,
    *,
    epochs,
    lr,
    batch_size=256,
    weight_decay=1e-5,
    corrupt=None,
    seed=0,
    device=None,
    progress=True,
    schedule=None,
    checkpoint=None,
    callback=None,
    revive=None,
    revive_images=4096,
    validate="every",
    amp=False,
    loss="mse",
    desc="autoencoder",
):
    """Train ``model`` to reconstruct ``train_x``; ``corrupt(batch)`` (optional) is applied
    to each input batch while the target stays clean (a denoising autoencoder). ``loss``: what is minimised,
    ``"mse"`` (the homework report's) or ``"bce"`` (binary cross-entropy, the pixels read as Bernoulli probabilities);
    either
    way the model is scored by MSE.

    Returns a DataFrame per epoch: ``epoch, train_mse, val_mse, lr, seconds, diverged`` (with ``"bce"`` also
    ``train_loss``, the epoch's mean cross-entropy). ``train_mse`` is the mean training MSE over the epoch; ``val_mse``
    compares
    ``model(corrupt(val_x))`` (same corruption, fixed seed) with ``val_x``. ``callback(epoch, model)``
    runs after every epoch (e.g. to keep snapshots). With ``revive`` (a share of the epochs, e.g. 0.5), after each
    of the first ``revive * epochs`` epochs the ReLU units never active on the first ``revive_images`` training
    images are re-initialised (:func:`revive_dead_units`); the log's ``revived`` column counts them.
    ``validate="last"`` computes ``val_mse`` after the last epoch only (NaN before; e.g. a CV fold, which is scored by
    its last epoch), ``"every"`` (the default) after each. ``amp``: the training forward passes in bf16 autocast (the
    loss in fp32; evaluation stays fp32), fast only where bf16 is native (``helpers.gan.bf16_is_fast``).
    """
    _check_common(epochs, lr, batch_size, weight_decay, schedule)
    if validate not in ("every", "last"):
        raise ValueError(f"validate must be 'every' or 'last', got {validate!r}")
    check_images("train_x", train_x)
    if val_x is not None:
        check_images("val_x", val_x)
    if revive is not None and not 0 < revive <= 1:
        raise ValueError(f"revive must be a share of the epochs in (0, 1] or None, got {revive!r}")
    loss_config(loss)  # validates
    dev = pick_device() if device is None else torch.device(device)
    to_device(model, dev)
    x = train_x.to(dev)
    revived, last_revive = {}, int(revive * epochs) if revive else 0

    def after_epoch(epoch, m):
        if epoch <= last_revive:
            revived[epoch] = revive_dead_units(m, x[:revive_images])
        if callback is not None:
            callback(epoch, m)

    val_in = None
    if val_x is not None:
        vx = val_x.to(dev)
        if corrupt is None:
            val_in = vx
        else:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(seed)
                val_in = corrupt(vx)

    def batch_loss(idx):
        target = x[idx.to(dev)]
        inputs = corrupt(target) if corrupt is not None else target
        with torch.autocast(dev.type, dtype=torch.bfloat16, enabled=bool(amp)):
            out = model(inputs).float()
        mse = F.mse_loss(out, target)
        if loss == "mse" or not torch.isfinite(mse):  # (BCE refuses NaN inputs: a non-finite MSE flags the divergence)
            return mse, None
        return F.binary_cross_entropy(out, target), {"train_mse": mse.detach()}

    def evaluate():
        return {} if val_x is None else {"val_mse": reconstruction_mse(model, val_in, vx, device=dev)}

    hist = _fit(
        model,
        len(x),
        batch_loss,
        _Eval(evaluate, ["val_mse"] if val_x is not None else [], only_epoch=epochs if validate == "last" else None),
        epochs=epochs,
        lr=lr,
        batch_size=batch_size,
        weight_decay=weight_decay,
        seed=seed,
        device=dev,
        progress=progress,
        schedule=schedule,
        param_groups=None,
        checkpoint=checkpoint,
        desc=desc,
        callback=after_epoch,
    )
    if revive:  # epochs done before a resume are not known here: NaN
        hist["revived"] = [revived.get(e, 0 if e > last_revive else float("nan")) for e in hist["epoch"]]
    if loss == "mse":
        return hist.rename(columns={"train_loss": "train_mse"})
    mse = hist.pop("train_mse") if "train_mse" in hist else float("nan")  # absent when the first epoch diverged
    hist.insert(1, "train_mse", mse)
    return hist


def accuracy_and_loss(model, x, y, *, device=None, batch_size=2048):
    """``(mean cross-entropy, accuracy)`` of ``model``'s logits on ``(x, y)``."""
    logits = predict(model, x, device=device, batch_size=batch_size)
    y = y.cpu()
    return F.cross_entropy(logits, y).item(), (logits.argmax(1) == y).float().mean().item()


def fit_classifier(
    model,
    train_x,
    train_y,
    val_x=None,
    val_y=None,
    *,
    epochs,
    lr,
    batch_size=256,
    weight_decay=0.0,
    augment=None,
    seed=0,
    device=None,
    progress=True,
    schedule=None,
    param_groups=None,
    checkpoint=None,
    label_smoothing=0.0,
    keep_best="val_acc",
    desc="classifier",
):
    """Train ``model`` (logits out) with cross-entropy; ``augment(batch)`` is applied to training inputs.

    Returns a DataFrame per epoch: ``epoch, train_loss, train_acc, val_loss, val_acc, lr, seconds, diverged``
    (and ``best``). With validation data the weights of the epoch with the best ``keep_best`` are kept.
    """
    _check_common(epochs, lr, batch_size, weight_decay, schedule)
    check_images("train_x", train_x)
    if len(train_x) != len(train_y):
        raise ValueError(f"train_x and train_y differ in length: {len(train_x)} vs {len(train_y)}")
    dev = pick_device() if device is None else torch.device(device)
    to_device(model, dev)
    x, y = train_x.to(dev), train_y.to(dev)

    def batch_loss(idx):
        idx = idx.to(dev)
        inputs = x[idx] if augment is None else augment(x[idx])
        logits = model(inputs)
        loss = F.cross_entropy(logits, y[idx], label_smoothing=label_smoothing)
        return loss, {"train_acc": (logits.argmax(1) == y[idx]).sum() / len(idx)}

    def evaluate():
        if val_x is None:
            return {}
        loss, acc = accuracy_and_loss(model, val_x, val_y, device=dev)
        return {"val_loss": loss, "val_acc": acc}

    return _fit(
        model,
        len(x),
        batch_loss,
        _Eval(evaluate, ["val_loss", "val_acc"] if val_x is not None else []),
        epochs=epochs,
        lr=lr,
        batch_size=batch_size,
        weight_decay=weight_decay,
        seed=seed,
        device=dev,
        progress=progress,
        schedule=schedule,
        param_groups=param_groups,
        checkpoint=checkpoint,
        desc=desc,
        keep_best=keep_best if val_x is not None else None,
    )
