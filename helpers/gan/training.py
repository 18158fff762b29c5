"""Training the GAN: the value range, the two steps (non-saturating BCE, lazy R1, optional bf16 autocast), the
configuration of a run, and the checkpointed training loop."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from torch.nn import functional as F
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from ..loop import epoch_loop
from ..runtime import check_positive
from ..runtime import device as pick_device


def to_gan_range(x: torch.Tensor) -> torch.Tensor:
    """[0, 1] images -> [-1, 1] (the generator's Tanh range)."""
    return x * 2 - 1


def from_gan_range(x: torch.Tensor) -> torch.Tensor:
    return (x + 1) / 2


def make_optimizers(G, D, lr=2e-4, betas=(0.5, 0.999)):
    """One Adam per network, each holding only that network's parameters."""
    return torch.optim.Adam(G.parameters(), lr=lr, betas=betas), torch.optim.Adam(D.parameters(), lr=lr, betas=betas)


def bf16_is_fast(device) -> bool:
    """Whether ``device`` computes bf16 matrix products natively (a CUDA GPU with bf16, or a CPU with bf16 vector or
    tile instructions), so that bf16 autocast speeds training up instead of slowing it down."""
    dev = torch.device(device)
    if dev.type == "cuda":
        return torch.cuda.is_bf16_supported()
    checks = [getattr(torch.cpu, f, None) for f in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    return dev.type == "cpu" and any(c() for c in checks if c is not None)


def resolve_recipe(recipe: dict, device) -> dict:
    """``recipe`` (keys of :data:`RECIPE_DEFAULTS`; missing ones take the homework report's value) with ``amp=None``
    resolved to :func:`bf16_is_fast` on ``device``; an unknown key is refused."""
    unknown = set(recipe) - set(RECIPE_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown GAN recipe settings {sorted(unknown)}; known: {sorted(RECIPE_DEFAULTS)}")
    out = {**RECIPE_DEFAULTS, **recipe}
    if out["amp"] is None:
        out["amp"] = bf16_is_fast(device)
    return out


def _autocast(device, amp: bool):
    """bf16 autocast on ``device`` when ``amp``, else a no-op context."""
    return torch.autocast(torch.device(device).type, dtype=torch.bfloat16, enabled=bool(amp))


def d_step(G, D, opt_d, real, real_label=1.0, *, r1=0.0, amp=False):
    """One discriminator update on a real batch and as many generated images (binary cross-entropy on logits);
    returns the loss and mean D(x), D(G(z)). ``real_label < 1`` is one-sided label smoothing. ``r1 > 0`` adds the
    R1 penalty ``r1 / 2 * E |grad_x d(x)|^2`` on real images (Mescheder et al., 2018), not part of the returned
    loss. ``amp``: the forward passes in bf16 autocast."""
    z = torch.randn(len(real), G.noise_dim, device=real.device)
    if r1:
        real = real.detach().requires_grad_(True)
    with _autocast(real.device, amp):
        with torch.no_grad():
            fake = G(z)
        logit_real, logit_fake = D(real).float(), D(fake).float()
    total = F.binary_cross_entropy_with_logits(
        logit_real, torch.full_like(logit_real, real_label)
    ) + F.binary_cross_entropy_with_logits(logit_fake, torch.zeros_like(logit_fake))
    adv = total.detach()
    if r1:
        (grad,) = torch.autograd.grad(logit_real.sum(), real, create_graph=True)
        total = total + r1 / 2 * grad.float().pow(2).flatten(1).sum(1).mean()
    opt_d.zero_grad(set_to_none=True)
    total.backward()
    opt_d.step()
    return adv, torch.sigmoid(logit_real).mean().detach(), torch.sigmoid(logit_fake).mean().detach()


def g_step(G, D, opt_g, batch_size, device, keep=None, *, amp=False):
    """One non-saturating generator update (maximise log D(G(z))); D's weights are not stepped
    and its gradients are cleared. With ``keep`` (< batch_size) only the ``keep`` samples that D rates
    most real contribute to the loss (top-k training, Sinha et al. 2020). ``amp``: bf16 autocast."""
    z = torch.randn(batch_size, G.noise_dim, device=device)
    with _autocast(device, amp):
        logit = D(G(z)).float()
    if keep is not None and keep < len(logit):
        logit = logit.flatten().topk(keep).values
    g_loss = F.binary_cross_entropy_with_logits(logit, torch.ones_like(logit))
    opt_g.zero_grad(set_to_none=True)
    g_loss.backward()
    opt_g.step()
    D.zero_grad(set_to_none=True)
    return g_loss.detach(), torch.sigmoid(logit).mean().detach()


def train_gan(
    G,
    D,
    x,
    *,
    epochs,
    lr=2e-4,
    betas=(0.5, 0.999),
    batch_size=128,
    real_label=0.9,
    ema_decay=None,
    decay_epochs=None,
    top_k=None,
    r1=0.0,
    r1_every=1,
    amp=False,
    seed=0,
    device=None,
    checkpoint=None,
    checkpoint_every=5,
    fixed_noise=None,
    evaluate=None,
    eval_every=5,
    spread_at=None,
    progress=True,
):
    """Train ``G``/``D`` on images ``x`` in [-1, 1]; resumable from ``checkpoint`` (saved every ``checkpoint_every``
    epochs).

    Recipe options: ``ema_decay`` keeps a moving average of G's weights (the generator that is evaluated and kept;
    the raw one's scores are logged as ``<name>_raw``); ``decay_epochs`` decays both learning rates linearly to 0;
    ``top_k=(gamma, floor)`` trains G on the share of each batch D rates most real; ``r1``/``r1_every`` weight
    and space the lazy R1 penalty; ``amp`` runs the forward passes in bf16 autocast. ``evaluate(G) -> dict`` runs
    every ``eval_every`` epochs and the lowest ``fid`` is kept; ``spread_at=(epoch, spread_of)`` logs FID's draw
    spread at that epoch. Returns ``iters``, ``epochs`` (DataFrames), ``snapshots`` ({epoch: images}),
    ``best_state``/``best_epoch``, ``last_state`` and ``ema_state`` (or None).
    """
    check_positive("epochs", epochs, integer=True)
    check_positive("lr", lr)
    check_positive("batch_size", batch_size, integer=True)
    if decay_epochs is not None and (int(decay_epochs) != decay_epochs or decay_epochs < epochs):
        raise ValueError(f"decay_epochs must be an integer >= epochs ({epochs}) or None, got {decay_epochs!r}")
    if top_k is not None and not (len(top_k) == 2 and 0 < top_k[0] <= 1 and 0 < top_k[1] <= 1):
        raise ValueError(f"top_k must be (gamma, floor) with both in (0, 1] or None, got {top_k!r}")
    if ema_decay is not None and not 0 < ema_decay < 1:
        raise ValueError(f"ema_decay must be in (0, 1) or None, got {ema_decay!r}")
    if isinstance(r1, bool) or not isinstance(r1, (int, float)) or not np.isfinite(r1) or r1 < 0:
        raise ValueError(f"r1 must be a finite number >= 0, got {r1!r}")
    check_positive("r1_every", r1_every, integer=True)
    if spread_at is not None and not (
        len(spread_at) == 2 and int(spread_at[0]) == spread_at[0] and spread_at[0] >= 1 and callable(spread_at[1])
    ):
        raise ValueError(f"spread_at must be (epoch >= 1, spread_of) or None, got {spread_at!r}")
    dev = pick_device() if device is None else torch.device(device)
    G.to(dev), D.to(dev)
    x = x.to(dev)
    opt_g, opt_d = make_optimizers(G, D, lr, betas)
    base_lr = [g["lr"] for g in (*opt_g.param_groups, *opt_d.param_groups)]
    n_steps = [0]
    ema = AveragedModel(G, multi_avg_fn=get_ema_multi_avg_fn(ema_decay), use_buffers=True) if ema_decay else None
    shown = ema.module if ema is not None else G  # the generator that is snapshot, scored and kept
    state = {"iters": [], "snapshots": {}, "best_state": None, "best_epoch": None, "best_fid": float("inf")}
    share = [1.0]

    def before_epoch(epoch):
        n_steps[0] = 0  # lazy R1 counts steps within the epoch, so a resumed run regularises the same steps
        if decay_epochs is not None:
            for group, base in zip((*opt_g.param_groups, *opt_d.param_groups), base_lr):
                group["lr"] = base * (1 - epoch / decay_epochs)
        share[0] = 1.0 if top_k is None else max(top_k[0] ** epoch, top_k[1])

    def step(idx):
        G.train(), D.train()
        real = x[idx.to(dev)]
        lazy = r1 and n_steps[0] % r1_every == 0
        n_steps[0] += 1
        d_loss, d_real, d_fake = d_step(G, D, opt_d, real, real_label, r1=r1 * r1_every if lazy else 0.0, amp=amp)
        g_loss, _ = g_step(G, D, opt_g, len(real), dev, keep=max(1, round(share[0] * len(real))), amp=amp)
        if ema is not None:
            ema.update_parameters(G)
        return {"g_loss": g_loss, "d_loss": d_loss, "d_real": d_real, "d_fake": d_fake}

    def after_epoch(epoch, row, batches):
        it = pd.DataFrame(batches)
        it.insert(0, "epoch", epoch)
        state["iters"].append(it)
        row.update(lr=opt_g.param_groups[0]["lr"], top_k_share=share[0])
        if fixed_noise is not None:
            shown.eval()
            with torch.no_grad():
                state["snapshots"][epoch] = shown(fixed_noise.to(dev)).cpu()
        if evaluate is not None and (epoch % eval_every == 0 or epoch == epochs):
            scores = evaluate(shown)
            row.update(scores)
            if ema is not None:
                row.update({f"{k}_raw": v for k, v in evaluate(G).items()})
            if scores.get("fid", float("inf")) < state["best_fid"]:
                state["best_fid"], state["best_epoch"] = scores["fid"], epoch
                state["best_state"] = _cpu_state(shown)
        if spread_at is not None and epoch == spread_at[0]:
            row["fid_draw_std"] = float(spread_at[1](shown)["fid"].std())

    def get_state():
        return {
            "G": G.state_dict(),
            "D": D.state_dict(),
            "opt_g": opt_g.state_dict(),
            "opt_d": opt_d.state_dict(),
            "ema": ema.state_dict() if ema is not None else None,
            "gan": state,
        }

    def set_state(saved):
        G.load_state_dict(saved["G"]), D.load_state_dict(saved["D"])
        opt_g.load_state_dict(saved["opt_g"]), opt_d.load_state_dict(saved["opt_d"])
        if ema is not None:
            ema.load_state_dict(saved["ema"])
        state.update(saved["gan"])

    rows = epoch_loop(
        step,
        len(x),
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        get_state=get_state,
        set_state=set_state,
        before_epoch=before_epoch,
        after_epoch=after_epoch,
        checkpoint=checkpoint,
        checkpoint_every=checkpoint_every,
        progress=progress,
        desc="GAN",
    )
    G.eval(), D.eval()
    epochs_log = pd.DataFrame(rows).drop(columns="diverged", errors="ignore")
    return {
        "iters": pd.concat(state["iters"], ignore_index=True) if state["iters"] else pd.DataFrame(),
        "epochs": epochs_log,
        "snapshots": state["snapshots"],
        "best_state": state["best_state"],
        "best_epoch": state["best_epoch"],
        "last_state": _cpu_state(G),
        "ema_state": _cpu_state(ema.module) if ema is not None else None,
    }


def _cpu_state(module) -> dict:
    return {k: v.detach().cpu().clone() for k, v in module.state_dict().items()}


RECIPE_DEFAULTS = {
    "g_dropout": 0.5,
    "d_dropout": 0.5,
    "r1": 0.0,
    "r1_every": 1,
    "amp": False,
}  # the homework report's: dropout, no R1, fp32


def gan_config(
    x,
    *,
    epochs,
    lr,
    betas,
    batch_size,
    real_label,
    ema_decay,
    top_k,
    noise_dim,
    g_hidden,
    d_hidden,
    seed,
    eval_every,
    eval_samples,
    lr_decay=False,
    **recipe,
) -> dict:
    """Every setting that changes a GAN run of :func:`load_or_train_gan` (its cache key). ``recipe`` overrides
    :data:`RECIPE_DEFAULTS` (each net's dropout, the R1 penalty and how often it applies, bf16 autocast)."""
    unknown = set(recipe) - set(RECIPE_DEFAULTS)
    if unknown:
        raise ValueError(f"unknown GAN recipe settings {sorted(unknown)}; known: {sorted(RECIPE_DEFAULTS)}")
    cfg = {
        "epochs": epochs,
        "lr": lr,
        "betas": list(betas),
        "batch_size": batch_size,
        "real_label": real_label,
        "ema_decay": ema_decay,
        "top_k": top_k,
        "noise_dim": noise_dim,
        "g_hidden": list(g_hidden),
        "d_hidden": list(d_hidden),
        "seed": seed,
        "n": len(x),
        "eval_every": eval_every,
        "eval_samples": eval_samples,
    }
    if lr_decay:
        cfg["decay_epochs"] = epochs
    return with_recipe(cfg, **recipe)


def with_recipe(config: dict, **changes) -> dict:
    """``config`` (:func:`gan_config`) with ``changes`` to any of its settings or :data:`RECIPE_DEFAULTS`' keys; a
    recipe setting equal to the homework report's default is left out, so a run with the homework report's recipe keeps
    the cache key it always had."""
    unknown = set(changes) - set(config) - set(RECIPE_DEFAULTS) - {"decay_epochs"}
    if unknown:
        raise ValueError(f"unknown GAN settings {sorted(unknown)}")
    cfg = {**config, **changes}
    return {k: v for k, v in cfg.items() if not (k in RECIPE_DEFAULTS and v == RECIPE_DEFAULTS[k])}
