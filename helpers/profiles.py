"""Each part's settings, defined once: a frozen dataclass per part whose defaults are the full profile (the report's
numbers), and its quick instance (CI and smoke runs: real MNIST, small subsets, the same code path). A notebook's
parameters cell, papermill's and ``helpers.report``'s ``-p`` overrides and the scripts all resolve through
:func:`resolve`; a name that is no setting of the part is refused."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import pandas as pd
import torch

from .runtime import device, note, seed_everything

PROFILES = ("full", "quick")


REPO = Path(__file__).resolve().parents[1]
PARAMETER_TYPES = (str, int, float, bool, list, dict, tuple, type(None))  # what papermill can pass


def _plain(value):
    """Tuples (a frozen dataclass's sequences) as lists, as the code and the cache keys have always seen them."""
    if isinstance(value, (tuple, list)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def values(part: dict, profile: str = "full") -> dict:
    """A part's settings for ``profile`` as a plain dict (sequences as lists), e.g. ``values(GAN)["epochs"]``."""
    return {k: _plain(v) for k, v in asdict(part[profile]).items()}


def resolve(profile: str, defaults: dict, given: dict) -> dict:
    """Settings for ``profile``: every field of ``defaults[profile]`` (a part's settings, e.g. :data:`GAN`), and
    ``results_dir`` and ``figures_dir``, whose value in ``given`` is not None wins over the profile's value; other
    names in ``given`` are ignored, so a notebook passes its ``globals()``.

    The folders are paths from the repository root, whatever the working directory, and nothing is created here.
    The quick profile writes under ``build/quick/`` (ignored by git) so a smoke run never overwrites the committed
    report in ``results/`` and ``figures/``.
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    out = values(defaults, profile)
    keys = set(out) | {"results_dir", "figures_dir"}
    out.update({k: _plain(v) for k, v in given.items() if k in keys and v is not None})
    base = REPO if profile == "full" else REPO / "build" / "quick"
    # relative to the working directory, as a notebook prints them: "../results" from notebooks/
    out["results_dir"] = Path(out.get("results_dir") or os.path.relpath(base / "results"))
    out["figures_dir"] = Path(out.get("figures_dir") or os.path.relpath(base / "figures"))
    out["profile"] = profile
    return out


def check_parameters(given: dict, defaults: dict) -> None:
    """Refuse a parameter passed to a notebook that is neither a setting of its part (a field of ``defaults``) nor
    declared in its parameters cell (a misspelt ``-p`` of papermill or ``helpers.report``, which papermill itself
    only warns about). ``given`` is the notebook's ``globals()``; its parameters cell ends with
    ``_parameters = set(globals())``, so any plain value defined after it and before the setup call (papermill's
    injected cell) must be a setting."""
    declared = given.get("_parameters")
    if declared is None:
        return
    settings = {f.name for f in fields(defaults["full"])}
    unknown = sorted(
        k
        for k, v in given.items()
        if k not in declared and k not in settings and not k.startswith("_") and isinstance(v, PARAMETER_TYPES)
    )
    if unknown:
        run = sorted(k for k in declared if not k.startswith("_") and isinstance(given.get(k), PARAMETER_TYPES))
        raise ValueError(f"unknown parameter(s) {unknown}; the settings are {sorted(settings)}, and {run}")


class Settings(dict):
    """A part's resolved settings: a dict whose keys also read as attributes (``S["epochs"]`` or ``S.epochs``)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no setting {name!r}; the settings are {sorted(self)}") from None

    def table(self) -> pd.DataFrame:
        """The settings as a one-column table (folders shown relative to the repository)."""
        shown = {k: _shown(v) if isinstance(v, Path) else v for k, v in self.items()}
        return pd.DataFrame({"value": pd.Series({k: str(v) for k, v in shown.items()})}).rename_axis("setting")


def setup(profile: str, defaults: dict, given: dict) -> Settings:
    """A notebook's setup in one call: refuse unknown parameters (:func:`check_parameters`), :func:`resolve` the
    settings and create their folders, seed every generator with ``given["seed"]`` (default 0), pick the device
    (CUDA when present) as ``device``, and print one line of what was chosen (the folders go to stderr, not into
    the report)."""
    check_parameters(given, defaults)
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


@dataclass(frozen=True)
class AutoencoderSettings:
    """Part 1. Successive halving over the grid (learning rate x latent size) with epochs as the resource: every point
    on all folds for ``rungs[0]`` epochs, the best 1/``factor`` of each rung on to the next; every fold trains with the
    final model's recipe, and the final model is the pick retrained on all images for the last rung. Widths and the
    training loss: ``benchmarks/autoencoder_widths.py`` (benchmarks/README.md)."""

    learning_rates: tuple = (1e-3, 1e-2, 1e-1)  # grid of one-cycle peak rates (the homework report's)
    latent_dims: tuple = (2, 4, 6, 8, 10)  # grid of latent sizes (the homework report's)
    n_folds: int = 6  # cross-validation folds
    rungs: tuple = (3, 9, 27)  # epochs of each rung; the final model trains for the last
    factor: int = 3  # each rung keeps the best 1/factor of its points (rounded down, at least one)
    batch_size: int = 128  # every fold and the final model
    revive: float = 0.5  # share of the epochs in which never-active ReLU units are re-initialised (0: off)
    channels: tuple = (8, 16, 48)  # encoder convolution widths, mirrored by the decoder (homework report: 8, 16, 32)
    hidden: int = 256  # fully connected layer between convolutions and code (homework report: 64)
    loss: str = "bce"  # training loss, "bce" or "mse" (the homework report's); scored by MSE either way
    compare_latent_dim: int = 10  # also retrain the homework report's latent size with the final recipe (0: skip)
    train_subset: int | None = None  # None: all 60,000 training images; an int: the first N
    tsne_points: int = 5000  # test codes embedded by t-SNE
    n_jobs: int | None = None  # parallel folds; None: one per core up to 8 (-1: every core or Dask worker slot)
    backend: str | None = None  # None: local processes; "dask": a Dask cluster (docs/running.md)


@dataclass(frozen=True)
class ClassifySettings:
    """Part 2. Classifiers on the encoder (54,000 training / 6,000 validation images), label efficiency on balanced
    subsets, and semi-supervised FixMatch runs on the same subsets."""

    train_subset: int | None = None  # None: all 60,000 training images
    val_size: int = 6000  # validation images held out of the training set
    head_epochs: int = 6  # frozen encoder, head only
    finetune_epochs: int = 30  # whole network
    finetune_seeds: tuple = (0, 1, 2, 3, 4)  # the fine-tuned run of best validation accuracy is kept
    scratch_epochs: int = 30  # the latent-10 encoder from scratch
    label_sizes: tuple = (100, 1000, 10000, 60000)  # label-efficiency subset sizes
    label_seeds: tuple = (0, 1, 2)  # subsets (seeds) for sizes under 10,000 labels
    label_epochs: int = 10  # label-efficiency runs: epochs per run ...
    label_min_steps: int = 500  # ... but at least this many optimiser steps
    label_encoder_lr_factor: float = 0.3  # label-efficiency runs: a slower encoder keeps more of its pretraining
    label_plain: bool = True  # label efficiency also without augmentation (False: skip)
    semi_sizes: tuple = (100, 1000)  # FixMatch runs: numbers of labels
    semi_scratch_sizes: tuple = (100,)  # ... also from random weights, the ablation
    semi_steps: int = 5000  # training steps of each semi-supervised run
    semi_round: int = 250  # steps between the log's rows and the checkpoints
    semi_threshold: float = 0.9  # confidence a pseudo-label needs to count
    semi_labelled_batch: int = 32  # labelled images per step
    semi_unlabelled_ratio: int = 14  # unlabelled images per labelled image in a step
    semi_encoder_lr_factor: float = 1.0  # the encoder's share of the learning rate in FixMatch
    semi_strong_degrees: float = 15.0  # FixMatch's strong view: random rotation (degrees) ...
    semi_strong_translate: float = 0.1  # ... shift (a fraction of the image) ...
    semi_strong_scale: tuple = (0.85, 1.15)  # ... and scale, then ...
    semi_cutout: int = 5  # ... a square of this side erased and ...
    semi_noise: float = (
        0.1  # ... Gaussian noise of std up to this (benchmarks/fixmatch_recipes.py: milder than FixMatch's)
    )
    batch_size: int = 128
    lr: float = 3e-3  # peak learning rate (one-cycle)
    encoder_lr_factor: float = 1.0  # fine-tuning on all labels: encoder and head at the same rate
    hidden: int = 256  # width of the fully connected head
    augment_degrees: float = 10.0  # training augmentation: random rotation (degrees), with shift and scale
    n_jobs: int | None = None  # independent trainings in parallel processes; None: one per core up to 8


@dataclass(frozen=True)
class DenoiseSettings:
    """Part 3. Denoising autoencoders trained with the homework report's corruption (Gaussian noise and rotation), on
    noise alone, and per test noise level; scored against classical baselines on the test images."""

    latent_dim: int = 64  # a wider code than Part 1's (a 10-number code caps PSNR near 19 dB even on clean input)
    channels: tuple = (16, 32, 64)  # twice the homework report's widths, so more detail passes the 3x3 bottleneck
    hidden: int = 256  # fully connected layer between convolutions and code (homework report: 64)
    epochs: int = 40  # each denoiser (the homework report's)
    batch_size: int = 128
    lr: float = 5e-3  # peak of the one-cycle schedule
    train_sigma: tuple = (0.05, 0.55)  # training noise std, drawn per image from this range
    train_degrees: float = 30.0  # training rotation, uniform in +-train_degrees
    train_noise_only: bool = True  # also train the same model on noise alone, the baselines' own task
    train_per_sigma: bool = True  # and one noise-only model per test noise level (the baselines are tuned per level)
    per_sigma_epochs: int = 10  # ... each started from the noise-only model (benchmarks/README.md: denoiser_warm_start)
    eval_sigmas: tuple = (0.1, 0.2, 0.3, 0.5)  # noise-only test settings
    eval_degrees: tuple = (15, 30)  # noise (sigma 0.3) + rotation test settings
    train_subset: int | None = None  # None: all 60,000 training images
    val_size: int = 5000  # held out to tune the baselines
    pca_fit_images: int = 20000  # training images the PCA baseline is fitted on
    eval_images: int = 10000  # test images scored in the quality tables
    n_jobs: int | None = None  # denoisers train side by side in single-thread processes; None: one per core


def _homework_recipe() -> dict:
    return dict(g_dropout=0.5, d_dropout=0.5, real_label=0.9, lr=2e-4, batch_size=128, r1=0.0)


@dataclass(frozen=True)
class GanSettings:
    """Part 4. The GAN's training, its recipe comparison and its two samplers (rejection and Langevin)."""

    train_subset: int | None = None  # None: all 60,000 training images
    epochs: int = 180
    eval_every: int = 5  # FID/IS of the generator every N epochs (the kept generator: the best-FID epoch)
    eval_samples: int = 10000  # samples scored at each evaluation
    clf_epochs: int = 3  # epochs of the scoring CNN
    batch_size: int = 256  # homework report: 128 (larger batches: fewer, larger matrix products; gan_step benchmark)
    lr: float = 5e-4  # Adam, both networks (homework report: 2e-4)
    lr_decay: bool = False  # True: both learning rates fall linearly to 0 over the run
    betas: tuple = (0.5, 0.999)
    real_label: float = 1.0  # the discriminator's target for real images (< 1: one-sided label smoothing)
    ema_decay: float | None = 0.999  # moving average of the generator's weights (None: off)
    top_k: tuple | None = None  # (gamma, floor): G learns from the top max(gamma**epoch, floor) of each batch
    # g_dropout / d_dropout after each network's hidden layers; r1: weight of the R1 penalty on real images, applied
    # every r1_every discriminator steps (lazy R1); amp: bf16 autocast (None: where the device computes bf16 natively)
    recipe: dict = field(default_factory=lambda: dict(g_dropout=0.0, d_dropout=0.0, r1=10.0, r1_every=4, amp=None))
    compare_epochs: int = 15  # each run of the recipe comparison (our row: the main run's own first epochs)
    # the comparison: our run with these changes, in our precision (so that "ours in fp32" alone measures bf16)
    compare_recipes: dict = field(
        default_factory=lambda: {
            "homework recipe": _homework_recipe(),  # dropout 0.5 in both nets, label 0.9, lr 2e-4, batch 128, no R1
            "ours without R1": dict(r1=0.0),
            "ours in fp32": dict(amp=False),
        }
    )
    spread_draws: int = 5  # draws for FID's draw-to-draw spread (final generator, compare_epochs, each comparison)
    drs_gammas: tuple = (-4.0, -3.0, -2.0, -1.0, 0.0, 1.0, 2.0)  # rejection sampling's gamma grid (empty: skip)
    drs_min_class: float = 0.05  # ... chosen by FID among the settings that keep every class at >= this share
    ddls_scales: tuple = (1.0, 2.0, 4.0, 8.0, 16.0)  # Langevin sampling: weights of D's logit (empty: skip)
    ddls_steps: tuple = (0, 5, 10, 25, 50)  # ... and step counts, both chosen like gamma
    ddls_step_size: float = 0.01  # Langevin step size on the noise
    noise_dim: int = 100
    g_hidden: tuple = (512, 1024)  # generator's hidden layers (homework report: 256, 512)
    d_hidden: tuple = (1024, 512)  # discriminator's hidden layers (homework report: 512, 256)


AUTOENCODER = {
    "full": AutoencoderSettings(),
    # the same code path on a 2 x 2 grid, 3 folds of 3,000 images, rungs of 1 and 2 epochs; batch 8, rates up to 3e-2
    # and the homework report's narrow widths, so that one epoch trains past the mean image
    "quick": AutoencoderSettings(
        learning_rates=(1e-2, 3e-2),
        latent_dims=(4, 10),
        n_folds=3,
        rungs=(1, 2),
        batch_size=8,
        channels=(8, 16, 32),
        hidden=64,
        train_subset=3000,
        tsne_points=500,
    ),
}
CLASSIFY = {
    "full": ClassifySettings(),
    "quick": ClassifySettings(
        train_subset=2000,
        val_size=500,
        head_epochs=1,
        finetune_epochs=1,
        finetune_seeds=(0, 1),
        scratch_epochs=1,
        label_sizes=(100, 1000),
        label_seeds=(0,),
        label_epochs=1,
        label_min_steps=10,
        semi_sizes=(100,),
        semi_steps=20,
        semi_round=10,
    ),
}
DENOISE = {
    "full": DenoiseSettings(),
    "quick": DenoiseSettings(
        train_subset=2000, val_size=500, epochs=2, per_sigma_epochs=1, pca_fit_images=2000, eval_images=1000
    ),
}
GAN = {
    "full": GanSettings(),
    "quick": GanSettings(
        train_subset=2000,
        epochs=2,
        eval_every=1,
        eval_samples=1000,
        clf_epochs=1,
        compare_epochs=1,
        spread_draws=2,
        ddls_steps=(0, 5),
    ),
}
PARTS = {"01_autoencoder": AUTOENCODER, "02_classification": CLASSIFY, "03_denoising": DENOISE, "04_gan": GAN}
