"""Drawing samples from a trained generator: plainly, with discriminator rejection sampling, and with
discriminator-driven Langevin steps on the noise."""

from __future__ import annotations

import numpy as np
import torch

from ..runtime import check_positive
from ..runtime import device as pick_device
from .training import _autocast


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


@torch.no_grad()
def generate(G, z, device=None, batch_size=2048, eval_mode=True):
    """``G(z)`` for given noise ``z``, in batches, on the CPU (dropout off unless ``eval_mode=False``)."""
    dev = pick_device() if device is None else torch.device(device)
    was = G.training
    G.to(dev).train(not eval_mode)
    out = torch.cat([G(z[i : i + batch_size].to(dev)).cpu() for i in range(0, len(z), batch_size)])
    G.train(was)
    return out
