"""GAN training (non-saturating BCE, Adam) with checkpoint/resume, and sample-quality metrics."""

from __future__ import annotations

import warnings
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy import linalg
from torch.fx.experimental.optimization import fuse as fx_fuse
from torch.nn import functional as F
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

from .artifacts import checkpoint_path, load_or_compute_table, load_or_train, load_or_train_models
from .data import train_val_split
from .files import atomic_write, save_npz
from .loop import epoch_loop
from .models import Discriminator, Generator, SmallCNN
from .runtime import check_positive, seed_everything, to_device
from .runtime import device as pick_device
from .training import fit_classifier


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
    resolved to
    :func:`bf16_is_fast` on ``device``; an unknown key is refused."""
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


@torch.no_grad()
def sample(G, n, *, seed=None, device=None, batch_size=2048, eval_mode=True):
    """``n`` generator images in [-1, 1] (dropout off unless ``eval_mode=False``), on the CPU."""
    gen = torch.Generator().manual_seed(seed) if seed is not None else None
    return generate(G, torch.randn(n, G.noise_dim, generator=gen), device, batch_size, eval_mode)


class RejectionBudgetError(RuntimeError):
    """Rejection sampling kept fewer than the samples asked for within its budget of draws."""


@torch.no_grad()
def rejection_sample(G, D, n, *, gamma=0.0, burn_in=10000, seed=None, device=None, batch_size=2048, max_draws=None):
    """Discriminator rejection sampling (Azadi et al., 2019): keep each generator sample with
    probability ``sigmoid(F - gamma)``, ``F = d - M - log(1 - exp(d - M - 1e-6))``, where ``d`` is
    D's logit and ``M`` its largest value seen (first over ``burn_in`` samples). ``gamma = 0`` is plain
    rejection sampling with acceptance ``exp(d - M)``; a larger ``gamma`` keeps fewer samples.
    Both nets run in eval mode. Returns ``(n images in [-1, 1] on the CPU, acceptance rate)``."""
    check_positive("n", n, integer=True)
    check_positive("burn_in", burn_in, integer=True)
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or not np.isfinite(gamma):
        raise ValueError(f"gamma must be a finite number, got {gamma!r}")
    max_draws = max_draws or 100 * n + burn_in
    dev = pick_device() if device is None else torch.device(device)
    gen = torch.Generator().manual_seed(seed) if seed is not None else None
    was = G.training, D.training
    G.to(dev).eval(), D.to(dev).eval()

    def draw(m):
        imgs = G(torch.randn(m, G.noise_dim, generator=gen).to(dev))
        return imgs.cpu(), D(imgs).flatten().double().cpu()

    try:
        top = draw(burn_in)[1].max()
        kept, n_kept, drawn = [], 0, 0
        while n_kept < n:
            if drawn >= max_draws:
                raise RejectionBudgetError(
                    f"rejection sampling kept {n_kept} of {n} samples in {drawn} draws; lower gamma"
                )
            imgs, d = draw(batch_size)
            drawn += batch_size
            top = torch.maximum(top, d.max())
            f = d - top - torch.log1p(-torch.exp(d - top - 1e-6))
            keep = torch.rand(len(d), generator=gen, dtype=torch.float64) < torch.sigmoid(f - gamma)
            kept.append(imgs[keep])
            n_kept += len(kept[-1])
    finally:
        G.train(was[0]), D.train(was[1])
    return torch.cat(kept)[:n], n_kept / drawn


def rejection_grid(G, D, clf, ref_features, gammas, n, *, min_class_share=0.05, seed=None, device=None, max_draws=None):
    """Score :func:`rejection_sample` at each ``gamma`` (``n`` samples, FID against ``ref_features``,
    IS, smallest class share, kept share of draws) and pick the gamma with the lowest FID among those
    whose smallest class keeps at least ``min_class_share`` (all scored gammas if none does). A gamma that
    keeps too few samples within ``max_draws`` is listed with empty scores and not chosen.
    Returns ``(DataFrame indexed by gamma, chosen gamma)``."""
    if not len(gammas):
        raise ValueError("gammas must hold at least one value")
    rows = []
    for g in gammas:
        try:
            imgs, rate = rejection_sample(G, D, n, gamma=float(g), seed=seed, device=device, max_draws=max_draws)
        except RejectionBudgetError:
            rows.append(
                {
                    "gamma": float(g),
                    "kept share of draws": float("nan"),
                    "fid": float("nan"),
                    "is": float("nan"),
                    "min_class_share": float("nan"),
                }
            )
            continue
        q = sample_quality(clf, from_gan_range(imgs), ref_features, device)
        rows.append(
            {
                "gamma": float(g),
                "kept share of draws": rate,
                "fid": q["fid"],
                "is": q["is"],
                "min_class_share": q["min_class_share"],
            }
        )
    table = pd.DataFrame(rows).set_index("gamma")
    scored = table.dropna(subset=["fid"])
    if scored.empty:
        raise RejectionBudgetError(
            f"no gamma in {list(gammas)} kept {n} samples within the draw budget; try lower gammas"
        )
    return table, float(_lowest_fid(scored, min_class_share))


def _lowest_fid(scored: pd.DataFrame, min_class_share: float):
    """Index of the lowest ``fid`` among rows whose ``min_class_share`` reaches the floor (all rows if none does)."""
    ok = scored[scored["min_class_share"] >= min_class_share]
    return (ok if len(ok) else scored)["fid"].idxmin()


def latent_langevin(G, D, z, steps, *, step_size=0.01, scale=1.0, seed=None, device=None, amp=False):
    """Discriminator-driven latent sampling (Che et al., 2020): Langevin dynamics on the noise ``z``
    with energy ``E(z) = |z|^2 / 2 - scale * d(G(z))`` (``d``: D's logit), i.e.
    ``z <- z - step_size / 2 * grad E + sqrt(step_size) * N(0, I)``, which samples the noise of
    ``p(z) ~ N(z; 0, I) exp(scale * d(G(z)))``. With ``scale = 0`` the chain keeps ``N(0, I)``.
    Both nets run in eval mode with their weights untouched. The chain's noise comes from ``seed``: use
    another seed than the one that drew ``z``, or the first step adds ``z`` to itself. ``amp``: the nets' forward passes
    in bf16 autocast (``z``, the energy's gradient and the update stay fp32). ``steps`` lists the step counts to
    return; returns ``{s: z after s steps}`` on the CPU (``s = 0`` is ``z`` itself)."""
    steps = sorted({int(s) for s in steps})
    if not steps or steps[0] < 0:
        raise ValueError(f"steps must list step counts >= 0, got {steps!r}")
    check_positive("step_size", step_size)
    if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not np.isfinite(scale) or scale < 0:
        raise ValueError(f"scale must be a finite number >= 0, got {scale!r}")
    dev = pick_device() if device is None else torch.device(device)
    gen = torch.Generator().manual_seed(seed) if seed is not None else None
    was = G.training, D.training
    G.to(dev).eval(), D.to(dev).eval()
    out, z = {}, z.detach().to(dev)
    try:
        for s in range(steps[-1] + 1):
            if s in steps:
                out[s] = z.cpu()
            if s == steps[-1]:
                break
            with torch.enable_grad():
                z.requires_grad_(True)
                with _autocast(dev, amp):
                    logit = D(G(z)).float()
                energy = (z**2).sum() / 2 - scale * logit.sum()
                (grad,) = torch.autograd.grad(energy, z)
            z = (z - step_size / 2 * grad + step_size**0.5 * torch.randn(z.shape, generator=gen).to(dev)).detach()
    finally:
        G.train(was[0]), D.train(was[1])
    return out


def langevin_grid(
    G,
    D,
    clf,
    ref_features,
    scales,
    steps,
    n,
    *,
    step_size=0.01,
    min_class_share=0.05,
    seed=None,
    device=None,
    amp=False,
):
    """Score :func:`latent_langevin` from ``n`` standard-normal draws for each ``scale`` after each count of
    ``steps`` (FID against ``ref_features``, IS, smallest class share) and pick the (scale, steps) with the
    lowest FID among those whose smallest class keeps at least ``min_class_share`` (all if none does). The draws
    come from ``seed``, the chains' noise from ``seed + 1``; ``amp``: see :func:`latent_langevin` (samples are decoded
    in fp32).
    Returns ``(DataFrame indexed by (scale, steps), chosen (scale, steps))``."""
    if not len(scales):
        raise ValueError("scales must hold at least one value")
    check_positive("n", n, integer=True)
    z0 = torch.randn(n, G.noise_dim, generator=torch.Generator().manual_seed(seed) if seed is not None else None)
    rows = []
    for scale in scales:
        chain = latent_langevin(
            G,
            D,
            z0,
            steps,
            step_size=step_size,
            scale=float(scale),
            seed=None if seed is None else seed + 1,
            device=device,
            amp=amp,
        )
        for s, z in chain.items():
            q = sample_quality(clf, from_gan_range(generate(G, z, device)), ref_features, device)
            rows.append(
                {
                    "scale": float(scale),
                    "steps": s,
                    "fid": q["fid"],
                    "is": q["is"],
                    "min_class_share": q["min_class_share"],
                }
            )
    table = pd.DataFrame(rows).set_index(["scale", "steps"])
    scale, s = _lowest_fid(table, min_class_share)
    return table, (float(scale), int(s))


@torch.no_grad()
def generate(G, z, device=None, batch_size=2048, eval_mode=True):
    """``G(z)`` for given noise ``z``, in batches, on the CPU (dropout off unless ``eval_mode=False``)."""
    dev = pick_device() if device is None else torch.device(device)
    was = G.training
    G.to(dev).train(not eval_mode)
    out = torch.cat([G(z[i : i + batch_size].to(dev)).cpu() for i in range(0, len(z), batch_size)])
    G.train(was)
    return out


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


def frechet_distance(f1, f2) -> float:
    """Frechet distance between Gaussians fitted to two feature sets ``(n, d)``."""
    f1, f2 = np.asarray(f1, dtype=np.float64), np.asarray(f2, dtype=np.float64)
    mu1, mu2 = f1.mean(0), f2.mean(0)
    s1, s2 = np.cov(f1, rowvar=False), np.cov(f2, rowvar=False)
    with warnings.catch_warnings():  # near-singular covariances (tiny sample sets) are handled below
        warnings.simplefilter("ignore")
        covmean = linalg.sqrtm(s1 @ s2)
    if not np.isfinite(covmean).all():
        eps = np.eye(len(s1)) * 1e-6
        covmean = linalg.sqrtm((s1 + eps) @ (s2 + eps))
    covmean = covmean.real
    return float(((mu1 - mu2) ** 2).sum() + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def inception_score(probs, splits: int = 1) -> float:
    """exp(E_x KL(p(y|x) || p(y))) from class probabilities ``(n, classes)``, averaged over ``splits``."""
    probs = np.asarray(probs, dtype=np.float64)
    scores = []
    for part in np.array_split(probs, splits):
        py = part.mean(0, keepdims=True)
        kl = (part * (np.log(part + 1e-12) - np.log(py + 1e-12))).sum(1).mean()
        scores.append(np.exp(kl))
    return float(np.mean(scores))


def inference_features(clf):
    """``clf.features`` for inference. For a :class:`~helpers.models.SmallCNN` (in eval mode): a copy with each
    BatchNorm
    folded into the convolution before it (``torch.fx.experimental.optimization.fuse``), weights and inputs in
    channels-last memory; the same features up to float rounding, fewer passes over memory (``benchmarks/scoring.py``).
    Any other model: its own ``features``."""
    if not isinstance(clf, SmallCNN):
        return clf.features
    body = fx_fuse(clf.eval().body).to(memory_format=torch.channels_last)
    return lambda b: body(b.contiguous(memory_format=torch.channels_last))


@torch.no_grad()
def classifier_outputs(clf, images01, device=None, batch_size=256):
    """Penultimate features and softmax probabilities of ``clf`` (a SmallCNN) on images in [0, 1], through
    :func:`inference_features`, in batches of ``batch_size`` (small enough for the activations to stay in cache)."""
    check_positive("batch_size", batch_size, integer=True)
    dev = pick_device() if device is None else torch.device(device)
    to_device(clf, dev).eval()
    features = inference_features(clf)
    feats, probs = [], []
    for i in range(0, len(images01), batch_size):
        f = features(images01[i : i + batch_size].to(dev))
        feats.append(f.cpu())
        probs.append(torch.softmax(clf.out(f), 1).cpu())
    return torch.cat(feats).numpy(), torch.cat(probs).numpy()


def sample_quality(clf, images01, ref_features, device=None, confident=0.9) -> dict:
    """MNIST-FID against ``ref_features``, Inception Score, class histogram and confident fraction."""
    feats, probs = classifier_outputs(clf, images01, device)
    counts = np.bincount(probs.argmax(1), minlength=probs.shape[1])
    return {
        "fid": frechet_distance(feats, ref_features),
        "is": inception_score(probs),
        "confident": float((probs.max(1) >= confident).mean()),
        "min_class_share": float(counts.min() / counts.sum()),
        "class_counts": counts.tolist(),
    }


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
    recipe
    setting equal to the homework report's default is left out, so a run with the homework report's recipe keeps the
    cache key it always had."""
    unknown = set(changes) - set(config) - set(RECIPE_DEFAULTS) - {"decay_epochs"}
    if unknown:
        raise ValueError(f"unknown GAN settings {sorted(unknown)}")
    cfg = {**config, **changes}
    return {k: v for k, v in cfg.items() if not (k in RECIPE_DEFAULTS and v == RECIPE_DEFAULTS[k])}


def scorer(clf, ref_features, n, *, seed=0, device=None):
    """``evaluate(G) -> {fid, is, confident, min_class_share}`` of ``n`` samples drawn with ``seed``, for
    :func:`train_gan`."""

    def evaluate(G):
        q = sample_quality(clf, from_gan_range(sample(G, n, seed=seed, device=device)), ref_features, device)
        return {k: v for k, v in q.items() if k != "class_counts"}

    return evaluate


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


def quality_of(G, clf, ref_features, n, *, eval_mode=True, seed=0, device=None) -> dict:
    """:func:`sample_quality` of ``n`` samples of ``G`` (drawn with ``seed``); ``eval_mode=False`` leaves dropout on."""
    return sample_quality(
        clf, from_gan_range(sample(G, n, seed=seed, device=device, eval_mode=eval_mode)), ref_features, device
    )


def load_or_train_scoring_cnn(path, x, y, *, epochs, seed=0, device=None, progress=True):
    """The :class:`~helpers.models.SmallCNN` that scores samples (FID features, IS probabilities), trained on 90% of
    ``x`` (validated on the rest) and cached at ``path``. Returns ``(model, history, loaded)``."""
    tr, va = train_val_split(y.numpy(), 0.1, seed=seed)

    def train():
        seed_everything(seed)
        clf = SmallCNN()
        hist = fit_classifier(
            clf,
            x[tr],
            y[tr],
            x[va],
            y[va],
            epochs=epochs,
            lr=2e-3,
            batch_size=128,
            schedule="onecycle",
            seed=seed,
            device=device,
            progress=progress,
            desc="scoring CNN",
        )
        return clf, hist

    return load_or_train(path, {"epochs": epochs, "n": len(x), "seed": seed}, train)


def selection_rule(table: pd.DataFrame, min_class_share: float, what: str) -> str:
    """How :func:`_lowest_fid` chose among ``table``'s rows, in words (``what``: e.g. "the γ")."""
    if (table["min_class_share"] >= min_class_share).any():
        return f"among {what} whose samples keep every class at ≥ {min_class_share:.0%}"
    return (
        f"over the whole grid (none of {what} keeps every class at ≥ {min_class_share:.0%} here, "
        "so that rule is dropped)"
    )


def rejection_study(
    G, D, clf, select_features, ref_features, gammas, n, *, min_class_share=0.05, seed=0, device=None
) -> dict:
    """:func:`rejection_grid` (the γ chosen by FID against ``select_features``, drawn with ``seed + 1``), then ``n``
    fresh samples at that γ (drawn with ``seed``) scored against ``ref_features``. Returns ``{table, gamma, samples,
    kept, quality, rule}``."""
    table, gamma = rejection_grid(
        G, D, clf, select_features, gammas, n, min_class_share=min_class_share, seed=seed + 1, device=device
    )
    samples, kept = rejection_sample(G, D, n, gamma=gamma, seed=seed, device=device)
    return {
        "table": table,
        "gamma": gamma,
        "samples": samples,
        "kept": kept,
        "rule": selection_rule(table, min_class_share, "the γ"),
        "quality": sample_quality(clf, from_gan_range(samples), ref_features, device),
    }


def langevin_study(
    G,
    D,
    clf,
    select_features,
    ref_features,
    scales,
    steps,
    n,
    *,
    step_size=0.01,
    min_class_share=0.05,
    seed=0,
    device=None,
    n_chain=12,
    amp=False,
) -> dict:
    """:func:`langevin_grid` over ``scales`` x ``steps`` (chosen by FID against ``select_features``; draws ``seed + 1``,
    chains ``seed + 2``), then the chosen setting from the noise of ``sample(G, n, seed=seed)`` (chains ``seed + 3``),
    scored against ``ref_features``, and the first ``n_chain`` of those draws after every step count; ``amp``: the
    chains in
    bf16 autocast (:func:`latent_langevin`). Returns
    ``{table, scale, steps, samples, quality, rule, chain, best_per_scale}``."""
    table, (scale, n_steps) = langevin_grid(
        G,
        D,
        clf,
        select_features,
        scales,
        steps,
        n,
        step_size=step_size,
        min_class_share=min_class_share,
        seed=seed + 1,
        device=device,
        amp=amp,
    )
    z0 = torch.randn(n, G.noise_dim, generator=torch.Generator().manual_seed(seed))
    z = latent_langevin(G, D, z0, [n_steps], step_size=step_size, scale=scale, seed=seed + 3, device=device, amp=amp)[
        n_steps
    ]
    samples = generate(G, z, device)
    chain = latent_langevin(
        G, D, z0[:n_chain], steps, step_size=step_size, scale=scale, seed=seed + 3, device=device, amp=amp
    )
    best = table.reset_index().loc[lambda t: t.steps > 0].sort_values("fid").groupby("scale").first()
    return {
        "table": table,
        "scale": scale,
        "steps": n_steps,
        "samples": samples,
        "chain": chain,
        "best_per_scale": best,
        "rule": selection_rule(table, min_class_share, "the settings"),
        "quality": sample_quality(clf, from_gan_range(samples), ref_features, device),
    }


def recipe_comparison(
    path, x, config: dict, candidates: dict, *, epochs, evaluate, spread_of=None, device=None, progress=True
) -> pd.DataFrame:
    """Side runs of :func:`load_or_train_gan` (nothing saved but their checkpoints): ``config`` changed by each of
    ``candidates`` (``{name: {setting: value}}``, see :func:`with_recipe`; ``{}`` is ``config`` itself) and trained
    ``epochs`` epochs. Returns their scored epochs (``candidate, epoch, fid, is, min_class_share, seconds_per_epoch``:
    the
    median epoch's training time) and, with ``spread_of(G) -> DataFrame`` (:func:`draw_spread`), ``fid_draw_std``: the
    FID's standard deviation over draws of samples from the run's last generator (the same on every row of a run).
    Cached as a CSV table at ``path`` (recomputed when ``config``, ``candidates`` or ``epochs`` change)."""
    check_positive("epochs", epochs, integer=True)
    runs = {name: with_recipe(config, **changes, epochs=epochs) for name, changes in candidates.items()}

    def compute():
        parts = []
        for name, cfg in runs.items():
            G, _, log, _ = load_or_train_gan(
                Path(path).parent, x, cfg, evaluate=evaluate, save=False, device=device, progress=progress
            )
            ep = log["epochs"][log["epochs"].epoch <= epochs]
            part = ep.dropna(subset=["fid"])[["epoch", "fid", "is", "min_class_share"]].assign(
                candidate=name, seconds_per_epoch=float(ep.seconds.median())
            )
            if spread_of is not None:
                part["fid_draw_std"] = float(spread_of(G)["fid"].std())
            parts.append(part)
        cols = ["candidate", "epoch", "fid", "is", "min_class_share", "seconds_per_epoch"] + (
            ["fid_draw_std"] if spread_of else []
        )
        return pd.concat(parts, ignore_index=True)[cols]

    return load_or_compute_table(path, {"runs": runs, "draw_spread": spread_of is not None}, compute)[0]


def recipe_table(comparison: pd.DataFrame, epoch: int) -> pd.DataFrame:
    """One row per run of :func:`recipe_comparison` at ``epoch``: FID (± its draw-to-draw std when measured), IS,
    smallest class share and training seconds per epoch, sorted by FID."""
    out = comparison[comparison.epoch == epoch].set_index("candidate").drop(columns="epoch").sort_values("fid")
    out = out.rename_axis(f"recipe (epoch {epoch})")
    out.attrs["epoch"] = epoch
    return out


def draw_spread(G, clf, ref_features, n, seeds, device=None) -> pd.DataFrame:
    """:func:`sample_quality` of ``n`` samples of ``G`` for each draw seed in ``seeds`` (one row each, no class counts):
    how much FID and IS move from one draw of samples to the next."""
    rows = {s: quality_of(G, clf, ref_features, n, seed=s, device=device) for s in seeds}
    out = pd.DataFrame({s: {k: v for k, v in q.items() if k != "class_counts"} for s, q in rows.items()}).T.rename_axis(
        "draw seed"
    )
    out.attrs["n"] = n
    return out.astype(float)


def draw_spreader(clf, ref_features, n, *, draws, seed=0, device=None):
    """``spread_of(G)``: :func:`draw_spread` of ``G`` over ``draws`` draws of ``n`` samples (draw seeds from ``seed``),
    the
    measurement :func:`recipe_study` makes of each run and :func:`train_gan`'s ``spread_at`` of the main run."""
    check_positive("draws", draws, integer=True)
    return partial(draw_spread, clf=clf, ref_features=ref_features, n=n, seeds=range(seed, seed + draws), device=device)


def recipe_study(
    path,
    x,
    config: dict,
    candidates: dict,
    ours: pd.DataFrame,
    G,
    spread_of,
    *,
    epochs,
    evaluate,
    device=None,
    progress=True,
) -> dict:
    """Notebook 04's recipe comparison: our run (``"ours"``) and :func:`recipe_comparison` of ``candidates`` for
    ``epochs``
    epochs, each with the FID's draw-to-draw std that ``spread_of(G)`` measures (:func:`draw_spreader`); and that spread
    for the final generator ``G``. ``ours`` is the main run's epoch log: when it holds ``fid_draw_std`` at ``epochs``
    (the
    main run trained with ``spread_at=(epochs, spread_of)``), our row is read from it; otherwise our recipe is rerun as
    a
    side run, which must reproduce the main run's FID at that epoch.
    Returns ``{table, spread (of G), curves ({name: scored epochs}), text}``."""
    log = ours.set_index("epoch")
    from_main = (
        "fid_draw_std" in log
        and pd.notna(log["fid_draw_std"].get(epochs, np.nan))
        and pd.notna(log.fid.get(epochs, np.nan))
    )
    side = candidates if from_main else {"ours": {}, **candidates}
    cols = ["candidate", "epoch", "fid", "is", "min_class_share", "seconds_per_epoch", "fid_draw_std"]
    runs = (
        recipe_comparison(
            path,
            x,
            config,
            side,
            epochs=epochs,
            evaluate=evaluate,
            spread_of=spread_of,
            device=device,
            progress=progress,
        )[cols]
        if side
        else pd.DataFrame(columns=cols)
    )
    if from_main:
        first = ours[ours.epoch <= epochs]
        mine = first.dropna(subset=["fid"]).assign(
            candidate="ours",
            seconds_per_epoch=float(first.seconds.median()),
            fid_draw_std=float(log.at[epochs, "fid_draw_std"]),
        )
        runs = pd.concat([mine[cols], runs], ignore_index=True) if len(runs) else mine[cols].reset_index(drop=True)
    curves = dict(tuple(runs.groupby("candidate", sort=False)))
    table = recipe_table(runs, epochs)
    spread = spread_of(G)
    main = None if from_main else log.fid.get(epochs, float("nan"))
    return {"table": table, "spread": spread, "curves": curves, "text": describe_recipes(table, spread, main)}


def grid_table(table: pd.DataFrame) -> pd.DataFrame:
    """The grid of :func:`rejection_study` or :func:`langevin_study` with readable column names, rounded for display."""
    return table.rename(columns={"fid": "FID vs train", "is": "IS", "min_class_share": "smallest class"}).round(4)


def describe_recipes(table: pd.DataFrame, spread: pd.DataFrame, main_fid: float | None, ours: str = "ours") -> str:
    """Markdown: each run of :func:`recipe_table` against ``ours``: FID gap, against twice the two runs' combined
    draw-to-draw std (beyond it, the trainings differ; within it, draw noise could explain the gap), IS and seconds per
    epoch; whether ``ours``, rerun as a side run, reproduced the main run's FID ``main_fid`` at the same epoch (None:
    ``ours``
    is the main run's own epoch log); and the final generator's spread."""
    me = table.loc[ours]
    parts = []
    for name, r in table.drop(index=ours).iterrows():
        gap, noise = r.fid - me.fid, 2 * float(np.hypot(r.fid_draw_std, me.fid_draw_std))
        verdict = "more than" if abs(gap) > noise else "within"
        parts.append(
            f"*{name}*: FID {r.fid:.1f}, {abs(gap):.1f} {'higher' if gap > 0 else 'lower'} than ours ({verdict} twice "
            f"the two runs' combined draw noise, ±{noise:.1f}), IS {r['is']:.2f}, {r.seconds_per_epoch:.1f} s per epoch"
        )
    if main_fid is None:
        source = "the main run itself at that epoch"
    else:
        same = "the same as" if np.isclose(me.fid, main_fid, rtol=1e-3) else "unlike"
        source = f"{same} the main run's {main_fid:.1f} at that epoch"
    return (
        f"At epoch {table.attrs['epoch']}, our recipe reaches FID **{me.fid:.1f}** (± {me.fid_draw_std:.2f} from draw "
        "to "
        f"draw; {source}) and IS **{me['is']:.2f}** at {me.seconds_per_epoch:.1f} s "
        f"per epoch; "
        + "; ".join(parts)
        + f". The final generator's FID moves by {spread['fid'].std():.2f} from one draw "
        f"of {spread.attrs['n']:,} samples to the next ({len(spread)} draws; IS by {spread['is'].std():.3f})."
    )


def quality_table(
    G, log: dict, clf, ref_features, real: dict, n: int, *, seed=0, device=None
) -> tuple[pd.DataFrame, dict, torch.Tensor]:
    """Sample quality (:func:`sample_quality`, ``n`` samples drawn with ``seed``) of the real data (``real``), the final
    generator ``G`` and, if it has dropout, ``G`` with dropout left on; and, from the training log's last evaluation
    (its own samples), the
    last epoch's weight-averaged (EMA) and raw generators. Returns ``(table, the final generator's quality, its samples
    in [-1, 1])``."""
    samples = sample(G, n, seed=seed, device=device)
    final = sample_quality(clf, from_gan_range(samples), ref_features, device)
    ep = log["epochs"].dropna(subset=["fid"])
    ema = "fid_raw" in ep  # with EMA, the log's plain columns are the averaged generator's, *_raw the raw one's
    rows = {
        "real data (train vs test)": real,
        f"GAN final: {'EMA' if ema else 'raw'} weights, best-FID epoch {log['best_epoch']}": final,
    }
    if len(ep):
        last = ep.iloc[-1]
        cols = ["fid", "is", "confident", "min_class_share"]
        if ema:
            rows[f"GAN, EMA weights, last epoch {int(last.epoch)} (training log)"] = {c: last[c] for c in cols}
        rows[f"GAN, raw weights, last epoch {int(last.epoch)} (training log)"] = {
            c: last[f"{c}_raw" if ema else c] for c in cols
        }
    if G.config.get("dropout", 0) > 0:  # a generator trained with dropout: what evaluating with it off changes
        rows["GAN final, dropout left on"] = quality_of(
            G, clf, ref_features, n, eval_mode=False, seed=seed, device=device
        )
    return pd.DataFrame(rows).T, final, samples


def _verdict(q: dict, alone: dict, singular: bool = False) -> str:
    """Words for whether samples scored ``q`` improve by FID on the generator ``alone`` (the verb agrees with a
    ``singular`` or plural subject)."""
    if q["fid"] < alone["fid"]:
        return "improves on it" if singular else "improve on it"
    return "does not improve on it" if singular else "do not improve on it"


def describe_rejection(drs: dict, alone: dict) -> str:
    """Markdown: the γ of :func:`rejection_study`, its scores against the generator ``alone``, and the kept share."""
    q = drs["quality"]
    return (
        f"γ = {drs['gamma']:g} gives the lowest FID against training images {drs['rule']}. Scored against the test "
        "set, its "
        f"samples reach IS **{q['is']:.2f}** and MNIST-FID **{q['fid']:.2f}** (the generator alone: {alone['is']:.2f} "
        "and "
        f"{alone['fid']:.2f}, so the filter {_verdict(q, alone, singular=True)}); the rarest class has "
        f"{q['min_class_share']:.1%} of samples, {q['confident']:.1%} are "
        f"classified with ≥ 90% confidence, and {drs['kept']:.0%} of the draws are kept."
    )


def describe_langevin(ddls: dict, alone: dict) -> str:
    """Markdown: the best FID per weight of :func:`langevin_study`, the chosen setting and its scores against the
    generator ``alone`` on the same noise."""
    q = ddls["quality"]
    best_each = "; ".join(
        f"s = {k:g}: {r.fid:.1f} after {int(r.steps)} steps" for k, r in ddls["best_per_scale"].iterrows()
    )
    return (
        f"Lowest FID against training images for each weight: {best_each}. s = {ddls['scale']:g} with {ddls['steps']} "
        "steps "
        f"gives the lowest FID {ddls['rule']}. From fresh noise and scored against the test set, its samples reach IS "
        f"**{q['is']:.2f}** and MNIST-FID **{q['fid']:.2f}** (the generator alone on the same noise: {alone['is']:.2f} "
        "and "
        f"{alone['fid']:.2f}, so the chains {_verdict(q, alone)}); the rarest class has {q['min_class_share']:.1%} of "
        f"samples and {q['confident']:.1%} are "
        f"classified with ≥ 90% confidence. Every draw is kept: the cost is {ddls['steps']} gradient steps through "
        "both "
        f"networks per sample."
    )


def summary_metrics(
    log: dict,
    final: dict,
    real: dict,
    clf_accuracy: float,
    drs: dict | None = None,
    ddls: dict | None = None,
    step_size: float | None = None,
    study: dict | None = None,
) -> dict:
    """The results-file entries of notebook 04: the last epoch's losses, the final generator's scores against real
    data's, those of rejection sampling (``drs``) and Langevin sampling (``ddls``) when run, and of the recipe
    comparison (``study``: :func:`recipe_study`, with FID/IS's draw-to-draw standard deviation)."""
    last = log["epochs"].iloc[-1]
    out = {
        "best_epoch": log["best_epoch"],
        "g_loss_last": float(last.g_loss),
        "d_loss_last": float(last.d_loss),
        "fid": final["fid"],
        "is": final["is"],
        "min_class_share": final["min_class_share"],
        "real_fid": real["fid"],
        "real_is": real["is"],
        "scoring_cnn_test_accuracy": clf_accuracy,
        "train_seconds": float(log["epochs"]["seconds"].sum()),
        "seconds_per_epoch": float(log["epochs"]["seconds"].median()),
    }
    if study is not None:
        spread, recipes = study["spread"], study["table"]
        out.update(fid_draw_std=float(spread["fid"].std()), is_draw_std=float(spread["is"].std()), draws=len(spread))
        out.update(
            recipes_epoch=int(recipes.attrs["epoch"]),
            recipes={
                name: {"fid": float(r.fid), "is": float(r["is"]), "seconds_per_epoch": float(r.seconds_per_epoch)}
                for name, r in recipes.iterrows()
            },
        )
    if drs is not None:
        q = drs["quality"]
        out.update(
            drs_gamma=drs["gamma"],
            drs_acceptance=drs["kept"],
            drs_is=q["is"],
            drs_fid=q["fid"],
            drs_min_class_share=q["min_class_share"],
        )
    if ddls is not None:
        q = ddls["quality"]
        out.update(
            ddls_scale=ddls["scale"],
            ddls_steps=ddls["steps"],
            ddls_step_size=step_size,
            ddls_is=q["is"],
            ddls_fid=q["fid"],
            ddls_min_class_share=q["min_class_share"],
            ddls_confident=q["confident"],
        )
    return out


def describe_reference(clf_accuracy: float, real: dict, n: int) -> str:
    """Markdown: the scoring CNN's test accuracy and real data's FID (the floor) and IS (the ceiling)."""
    return (
        f"Scoring CNN test accuracy: **{clf_accuracy:.2%}**. Real data as the reference: {n:,} training images against "
        f"the test set give MNIST-FID **{real['fid']:.2f}** (the floor) and Inception Score **{real['is']:.2f}** (the "
        f"ceiling; 10 is the maximum for ten classes)."
    )


def describe_samples(q: dict, who: str = "The final generator") -> str:
    """Markdown: IS, FID, classes present, the rarest class's share and the confident share of a
    :func:`sample_quality`."""
    counts = q["class_counts"]
    return (
        f"{who} scores IS **{q['is']:.2f}** and MNIST-FID **{q['fid']:.2f}**; {sum(c > 0 for c in counts)} of "
        f"{len(counts)} classes appear, the rarest with {q['min_class_share']:.1%} of samples, and "
        f"{q['confident']:.1%} "
        f"of samples are classified with ≥ 90% confidence."
    )


def describe_losses(epochs: pd.DataFrame) -> str:
    """Markdown: the last epoch's mean losses (against the homework report's) and D's mean outputs on real and
    generated images."""
    f = epochs.iloc[-1]
    return (
        f"Final epoch mean losses: generator **{f.g_loss:.4f}**, discriminator **{f.d_loss:.4f}** (the homework "
        "report: 1.3827 / "
        f"0.4937); mean D(x) {f.d_real:.3f}, D(G(z)) {f.d_fake:.3f}."
    )
