"""Run profiles: "full" for the report's numbers, "quick" for CI/smoke runs (same code path)."""

from __future__ import annotations

import os
from pathlib import Path

import pandas as pd
import torch

from .runtime import device, note, seed_everything

PROFILES = ("full", "quick")


REPO = Path(__file__).resolve().parents[1]
PARAMETER_TYPES = (str, int, float, bool, list, dict, tuple, type(None))  # what papermill can pass


def resolve(profile: str, defaults: dict, given: dict) -> dict:
    """Settings for ``profile``: every key of ``defaults[profile]`` (and ``results_dir``, ``figures_dir``)
    whose value in ``given`` is not None wins over the profile's value; other names in ``given`` are ignored,
    so a notebook passes its ``globals()`` after the parameters cell (which names every key, as None).

    The folders are paths from the repository root, whatever the working directory, and nothing is created here.
    The quick profile writes under ``build/quick/`` (ignored by git) so a smoke run never overwrites the committed
    report in ``results/`` and ``figures/``.
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    out = dict(defaults[profile])
    keys = set(out) | {"results_dir", "figures_dir"}
    out.update({k: v for k, v in given.items() if k in keys and v is not None})
    base = REPO if profile == "full" else REPO / "build" / "quick"
    # relative to the working directory, as a notebook prints them: "../results" from notebooks/
    out["results_dir"] = Path(out.get("results_dir") or os.path.relpath(base / "results"))
    out["figures_dir"] = Path(out.get("figures_dir") or os.path.relpath(base / "figures"))
    out["profile"] = profile
    return out


def check_parameters(given: dict) -> None:
    """Refuse a parameter passed to a notebook that its parameters cell does not declare (a misspelt ``-p`` of
    papermill or ``helpers.report``, which papermill itself only warns about). ``given`` is the notebook's
    ``globals()``; its parameters cell ends with ``_parameters = set(globals())``, so any plain value defined after
    it and before the setup call (papermill's injected cell) is unknown."""
    declared = given.get("_parameters")
    if declared is None:
        return
    unknown = sorted(
        k for k, v in given.items() if k not in declared and not k.startswith("_") and isinstance(v, PARAMETER_TYPES)
    )
    if unknown:
        known = sorted(k for k in declared if not k.startswith("_") and isinstance(given.get(k), PARAMETER_TYPES))
        raise ValueError(f"unknown parameter(s) {unknown}; this notebook's parameters are {known}")


class Settings(dict):
    """A part's resolved settings: a dict whose keys also read as attributes (``S["epochs"]`` or ``S.epochs``)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no setting {name!r}; the settings are {sorted(self)}") from None


def setup(profile: str, defaults: dict, given: dict) -> Settings:
    """A notebook's setup in one call: refuse unknown parameters (:func:`check_parameters`), :func:`resolve` the
    settings and create their folders, seed every generator with ``given["seed"]`` (default 0), pick the device
    (CUDA when present) as ``device``, and print one line of what was chosen (the folders go to stderr, not into
    the report)."""
    check_parameters(given)
    S = Settings(resolve(profile, defaults, given))
    S["results_dir"].mkdir(parents=True, exist_ok=True)
    S["figures_dir"].mkdir(parents=True, exist_ok=True)
    S["seed"] = given.get("seed", 0) or 0
    S["device"] = device()
    seed_everything(S["seed"])
    pd.set_option("display.precision", 5)
    print(f"profile={S['profile']}  device={S['device']}  torch threads={torch.get_num_threads()}")
    note(f"results -> {_shown(S['results_dir'])}\nfigures -> {_shown(S['figures_dir'])}")
    return S


def _shown(path: Path) -> str:
    """``path`` relative to the repository root (no machine's absolute paths in a committed notebook)."""
    try:
        return str(Path(path).resolve().relative_to(REPO))
    except ValueError:
        return Path(path).name


AUTOENCODER = {
    # Successive halving over the grid (learning rate x latent size), epochs as the resource: every point on all
    # folds for rungs[0] epochs, the best 1/factor of each rung (rounded down, Hyperband's rule) on to the next. Every
    # fold trains with the final model's recipe (one-cycle peaking at the point's rate, dead units revived in the
    # first `revive` share of the epochs); the final model is the pick retrained on all images for the last rung.
    # full: the homework report's grid on 60,000 images, 6 folds, 15 -> 5 -> 1 points over rungs of 3, 9 and 27 epochs
    # (3 epochs is the shortest rung that trains every usable point past the mean image). Widths (8, 16, 48; 256)
    # and binary cross-entropy as the training loss (scored by MSE) are chosen by benchmarks/autoencoder_widths.py:
    # see benchmarks/README.md.
    "full": dict(
        learning_rates=[1e-3, 1e-2, 1e-1],
        latent_dims=[2, 4, 6, 8, 10],
        n_folds=6,
        rungs=[3, 9, 27],
        factor=3,
        batch_size=128,
        revive=0.5,
        channels=[8, 16, 48],
        hidden=256,
        loss="bce",
        compare_latent_dim=10,
        train_subset=None,
        tsne_points=5000,
    ),
    # quick: real MNIST, the same code path on a 2 x 2 grid, 3 folds of 3,000 images, rungs of 1 and 2 epochs; batch 8,
    # rates up to 3e-2 and the homework report's narrow widths, so that one epoch trains past the mean image
    "quick": dict(
        learning_rates=[1e-2, 3e-2],
        latent_dims=[4, 10],
        n_folds=3,
        rungs=[1, 2],
        factor=3,
        batch_size=8,
        revive=0.5,
        channels=[8, 16, 32],
        hidden=64,
        loss="bce",
        compare_latent_dim=10,
        train_subset=3000,
        tsne_points=500,
    ),
}


CLASSIFY = {
    # full: 54,000 training / 6,000 validation images; the fine-tuned encoder with several seeds (kept: the best
    # validation accuracy; the spread over seeds is reported); label efficiency with 100 ... 60,000 labels, each size
    # trained label_epochs epochs but at least label_min_steps optimiser steps (a 100-label run is otherwise a few
    # steps); semi-supervised (FixMatch) runs with semi_sizes labels on the same subsets, semi_steps steps each, logged
    # every semi_round steps, and from random weights too for semi_scratch_sizes
    "full": dict(
        train_subset=None,
        val_size=6000,
        head_epochs=6,
        finetune_epochs=30,
        finetune_seeds=[0, 1, 2, 3, 4],
        scratch_epochs=30,
        label_sizes=[100, 1000, 10000, 60000],
        label_seeds=[0, 1, 2],
        label_epochs=10,
        label_min_steps=500,
        semi_sizes=[100, 1000],
        semi_scratch_sizes=[100],
        semi_steps=5000,
        semi_round=250,
    ),
    "quick": dict(
        train_subset=2000,
        val_size=500,
        head_epochs=1,
        finetune_epochs=1,
        finetune_seeds=[0, 1],
        scratch_epochs=1,
        label_sizes=[100, 1000],
        label_seeds=[0],
        label_epochs=1,
        label_min_steps=10,
        semi_sizes=[100],
        semi_scratch_sizes=[100],
        semi_steps=20,
        semi_round=10,
    ),
}


DENOISE = {
    # full: the homework report's 40 epochs on 55,000 training images (5,000 held out to tune the baselines) for each
    # denoiser; PCA (a baseline) is fitted on pca_fit_images training images; the tables score eval_images test images
    "full": dict(train_subset=None, val_size=5000, epochs=40, pca_fit_images=20000, eval_images=10000),
    "quick": dict(train_subset=2000, val_size=500, epochs=2, pca_fit_images=2000, eval_images=1000),
}


GAN = {
    # full: all 60,000 training images for `epochs` epochs; FID/IS of eval_samples samples every eval_every epochs
    # (the kept generator is the best-FID epoch); the scoring CNN trains clf_epochs epochs; each run of the recipe
    # comparison trains compare_epochs epochs (our row is the main run's own first epochs); FID's draw-to-draw spread is
    # measured on spread_draws draws of the final generator, of the main run at compare_epochs and of each comparison
    # run; Langevin sampling of the noise scores the step counts ddls_steps for each weight of the
    # discriminator's logit (it needs no training)
    "full": dict(
        train_subset=None,
        epochs=180,
        eval_every=5,
        eval_samples=10000,
        clf_epochs=3,
        compare_epochs=15,
        spread_draws=5,
        ddls_steps=[0, 5, 10, 25, 50],
    ),
    "quick": dict(
        train_subset=2000,
        epochs=2,
        eval_every=1,
        eval_samples=1000,
        clf_epochs=1,
        compare_epochs=1,
        spread_draws=2,
        ddls_steps=[0, 5],
    ),
}
