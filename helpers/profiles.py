"""Run profiles: "full" for the report's numbers, "quick" for CI/smoke runs (same code path)."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import torch

from .utils import device, note, seed_everything

PROFILES = ("full", "quick")


def resolve(profile: str, defaults: dict, given: dict) -> dict:
    """Settings for ``profile``: every key of ``defaults[profile]`` (and ``results_dir``, ``figures_dir``)
    whose value in ``given`` is not None wins over the profile's value; other names in ``given`` are ignored,
    so a notebook passes its ``globals()`` after the parameters cell (which names every key, as None).

    The quick profile writes under ``build/quick/`` (ignored by git) so a smoke run never
    overwrites the committed report in ``results/`` and ``figures/``.
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    out = dict(defaults[profile])
    keys = set(out) | {"results_dir", "figures_dir"}
    out.update({k: v for k, v in given.items() if k in keys and v is not None})
    base = Path("..") if profile == "full" else Path("..") / "build" / "quick"
    out.setdefault("results_dir", None)
    out.setdefault("figures_dir", None)
    out["results_dir"] = Path(out["results_dir"] or base / "results")
    out["figures_dir"] = Path(out["figures_dir"] or base / "figures")
    out["results_dir"].mkdir(parents=True, exist_ok=True)
    out["figures_dir"].mkdir(parents=True, exist_ok=True)
    out["profile"] = profile
    return out


class Settings(dict):
    """A part's resolved settings: a dict whose keys also read as attributes (``S["epochs"]`` or ``S.epochs``)."""

    def __getattr__(self, name):
        try:
            return self[name]
        except KeyError:
            raise AttributeError(f"no setting {name!r}; the settings are {sorted(self)}") from None


def setup(profile: str, defaults: dict, given: dict) -> Settings:
    """A notebook's setup in one call: :func:`resolve` the settings, seed every generator with ``given["seed"]``
    (default 0), pick the device (CUDA when present) as ``device``, and print one line of what was chosen
    (the folders go to stderr, not into the report)."""
    S = Settings(resolve(profile, defaults, given))
    S["seed"] = given.get("seed", 0) or 0
    S["device"] = device()
    seed_everything(S["seed"])
    pd.set_option("display.precision", 5)
    print(f"profile={S['profile']}  device={S['device']}  torch threads={torch.get_num_threads()}")
    note(f"results -> {S['results_dir'].resolve()}\nfigures -> {S['figures_dir'].resolve()}")
    return S


AUTOENCODER = {
    # The grid (learning rate x latent size) is searched by successive halving with epochs as the resource:
    # every point on all folds for rungs[0] epochs, the best third (factor) of each rung goes on to the next
    # rung's epochs. Every fold trains with the final model's recipe (one-cycle peaking at the point's rate,
    # batch_size, dead units revived in the first `revive` share of the epochs), and the final model is the pick
    # retrained on all training images for the last rung's epochs.
    # full: all 60,000 images, 6 folds, the seed's grid, 15 -> 5 -> 1 points over rungs of 3, 9 and 27 epochs (a third, rounded down): the
    # last rung is long enough to converge, and 3 epochs is the shortest first rung that trains every usable point
    # past the mean image (after 1 epoch a third of the folds still sit on it, so a 1-epoch rung ranks by luck).
    # Rounded down (Hyperband's rule) rather than up since the report of commit ba0f40e: there the 9-epoch rung already
    # put the runner-up (lr 1e-2, d=8) 0.0029 behind the pick (about 9 fold stds) and it stayed 0.0025 behind at 27 epochs
    # (`results/cv_summary.csv` of that run), so its six 27-epoch folds, 8.8 of notebook 01's 52.8 min, decided nothing.
    # The network's widths (`channels`, `hidden`) are (8, 16, 48; 256), the seed's first two convolutions, 1.5x its third
    # and 4x its hidden layer, trained with binary cross-entropy (`loss="bce"`, the pixels read as Bernoulli
    # probabilities; every fold and the final model are still scored by MSE): with the seed's (8, 16, 32; 64) and its MSE
    # loss the final model's test MSE stops at ~0.0117. What `python benchmarks/autoencoder_widths.py` measures (AMD
    # EPYC host, 2026-12-04, before the script was committed, MSE loss), on the d=10 final model (lr 1e-2, 27 epochs,
    # revived, one thread, two at a time): test MSE 0.01168 with the seed's widths (8, 16, 32; 64), 0.01117 with hidden
    # 256, 0.01115 with hidden 512, 0.01078 with (8, 16, 48; 256), 0.01080 with (8, 16, 64; 256), 0.01069 with (8, 24,
    # 48; 256), 0.01066 with (8, 24, 64; 256), 0.01062 with (12, 24, 48; 256), 0.01054 with (16, 32, 64; 256): the
    # middle convolution's width matters most. Trained with cross-entropy instead, side by side with the committed code
    # (`python benchmarks/autoencoder_widths.py --widths 8,16,48:256 --loss mse bce --bf16 off`, AMD host with
    # AVX512-BF16, 2026-12-06, nothing else running): (8, 16, 48; 256) reaches test MSE 0.01082 trained on MSE and 0.01054 on
    # cross-entropy (7.5 and 8.1 s per epoch; per 3-epoch fold 18.7 s, the mean of a run before and after, and 20.0 s;
    # validation MSE 0.01666 and 0.01683 after those 3 epochs, no fold collapsed). Against the network notebook 01 used
    # before, one run of the search's harness (`python benchmarks/autoencoder_widths.py --widths 12,24,48:256
    # 8,16,48:256 --fold-epochs 3 --skip-final --loss bce --bf16 off`, same host): 24.0 s per fold with (12, 24, 48;
    # 256) (mean of a run before and after) and 19.4 s (0.81x) with (8, 16, 48; 256). So (8, 16, 48; 256) trained with
    # cross-entropy reaches the test MSE that (12, 24, 48; 256) reached with MSE (0.01058 in that report) below the
    # final-model target (<= 0.0108) at about 0.8x the cost; with MSE it would miss the target. A 1-epoch first rung is no way out
    # (`halving_search_cv` with rungs=[1] on lr 1e-3, 1e-2 x d 4, 10: after 1 epoch the points rank by learning rate;
    # at lr 1e-2, d=4 and d=10 were within 0.002).
    "full": dict(learning_rates=[1e-3, 1e-2, 1e-1], latent_dims=[2, 4, 6, 8, 10], n_folds=6, rungs=[3, 9, 27],
                 factor=3, batch_size=128, revive=0.5, channels=[8, 16, 48], hidden=256, loss="bce", compare_latent_dim=10,
                 train_subset=None, tsne_points=5000),
    # quick: real MNIST, the same code path on a 2 x 2 grid with 3 folds of 3,000 images and rungs of 1 and 2
    # epochs; batch 8 and rates up to 3e-2 so that one epoch trains past the mean image (a search where every
    # point diverged or collapsed stops with an error, as `python -m helpers.report --profile quick --only 01` did with
    # cross-entropy at batch 16); the seed's widths, since with (12, 24, 48; 256) every point was still on the mean image
    # after that one epoch
    "quick": dict(learning_rates=[1e-2, 3e-2], latent_dims=[4, 10], n_folds=3, rungs=[1, 2], factor=3,
                  batch_size=8, revive=0.5, channels=[8, 16, 32], hidden=64, loss="bce", compare_latent_dim=10, train_subset=3000,
                  tsne_points=500),
}


CLASSIFY = {
    # full: 54,000 training / 6,000 validation images; the fine-tuned encoder with several seeds (kept: the best
    # validation accuracy; the spread over seeds is reported); label efficiency with 100 ... 60,000 labels, each size
    # trained label_epochs epochs but at least label_min_steps optimiser steps (a 100-label run is otherwise a few steps)
    "full": dict(train_subset=None, val_size=6000, head_epochs=6, finetune_epochs=30, finetune_seeds=[0, 1, 2, 3, 4], scratch_epochs=30,
                 label_sizes=[100, 1000, 10000, 60000], label_seeds=[0, 1, 2], label_epochs=10, label_min_steps=500),
    "quick": dict(train_subset=2000, val_size=500, head_epochs=1, finetune_epochs=1, finetune_seeds=[0, 1], scratch_epochs=1,
                  label_sizes=[100, 1000], label_seeds=[0], label_epochs=1, label_min_steps=10),
}


DENOISE = {
    # full: the seed's 40 epochs on 55,000 training images (5,000 held out to tune the baselines) for each denoiser;
    # PCA (a baseline) is fitted on pca_fit_images training images; the quality tables score eval_images test images
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
    "full": dict(train_subset=None, epochs=180, eval_every=5, eval_samples=10000, clf_epochs=3, compare_epochs=15,
                 spread_draws=5, ddls_steps=[0, 5, 10, 25, 50]),
    "quick": dict(train_subset=2000, epochs=2, eval_every=1, eval_samples=1000, clf_epochs=1, compare_epochs=1,
                  spread_draws=2, ddls_steps=[0, 5]),
}
