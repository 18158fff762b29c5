"""Run profiles: "full" for the report's numbers, "quick" for CI/smoke runs (same code path)."""
from __future__ import annotations

from pathlib import Path

PROFILES = ("full", "quick")


def resolve(profile: str, defaults: dict, given: dict) -> dict:
    """Settings for ``profile``: ``given`` values that are not None win over ``defaults[profile]``.

    The quick profile writes under ``build/quick/`` (ignored by git) so a smoke run never
    overwrites the committed report in ``results/`` and ``figures/``.
    """
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    out = dict(defaults[profile])
    out.update({k: v for k, v in given.items() if v is not None})
    base = Path("..") if profile == "full" else Path("..") / "build" / "quick"
    out.setdefault("results_dir", None)
    out.setdefault("figures_dir", None)
    out["results_dir"] = Path(out["results_dir"] or base / "results")
    out["figures_dir"] = Path(out["figures_dir"] or base / "figures")
    out["results_dir"].mkdir(parents=True, exist_ok=True)
    out["figures_dir"].mkdir(parents=True, exist_ok=True)
    out["profile"] = profile
    return out


AUTOENCODER = {
    # full: all 60,000 images, 6 folds x 15 grid points (3 epochs per fold); the final models on all data with a
    # 60-epoch one-cycle schedule peaking at the CV's best rate. d=10 test MSE before dead units were revived, measured
    # with notebook 01 (-p final_epochs / -p final_lr): 60 epochs 0.01123 at peak 1e-2 (0.01138 at 5e-3), 100 epochs
    # 0.01115; 150 epochs 0.01122 (a script calling fit_autoencoder with these settings): longer training does not help.
    # Reviving dead ReLU units in the first half of the 60 epochs (notebook 01's final_revive=0.5) does: 0.01095
    # (the same script with revive 0.8: 0.01094, with 1.0: 0.01092). Sized for a 2-core CPU; on a GPU raise cv_epochs.
    "full": dict(learning_rates=[1e-3, 1e-2, 1e-1], latent_dims=[2, 4, 6, 8, 10], n_folds=6,
                 cv_epochs=3, cv_batch_size=256, final_epochs=60, final_batch_size=128, final_lr=1e-2, train_subset=None,
                 tsne_points=5000),
    # quick: real MNIST, same code path on a 2 x 2 grid with 3 folds of 3,000 training images, 2 epochs of batch 32
    # per fold: about the fewest steps after which the grid's points beat the mean image (a search where every point
    # diverged or collapsed stops with an error), in about 15 s on 2 cores
    "quick": dict(learning_rates=[3e-3, 1e-2], latent_dims=[4, 10], n_folds=3, cv_epochs=2, cv_batch_size=32,
                  final_epochs=2, final_batch_size=128, final_lr=5e-3, train_subset=3000,
                  tsne_points=500),
}


CLASSIFY = {
    # full: 54,000 training / 6,000 validation images; the fine-tuned encoder with 5 seeds (kept: best validation
    # accuracy); label-efficiency with 100 ... 60,000 labels
    "full": dict(train_subset=None, val_size=6000, head_epochs=6, finetune_epochs=30, finetune_seeds=[0, 1, 2, 3, 4], scratch_epochs=30,
                 label_sizes=[100, 1000, 10000, 60000], label_seeds=[0, 1, 2], label_epochs=10, label_min_steps=500),
    "quick": dict(train_subset=2000, val_size=500, head_epochs=1, finetune_epochs=1, finetune_seeds=[0, 1], scratch_epochs=1,
                  label_sizes=[100, 1000], label_seeds=[0], label_epochs=1, label_min_steps=10),
}


DENOISE = {
    # full: the seed's 40 epochs on 55,000 training images (5,000 held out to tune the baselines), for each of six
    # denoisers (the seed's corruption, noise alone, one per test sigma): about 12 min each on 2 cores, 17 s/epoch on 1 thread
    "full": dict(train_subset=None, val_size=5000, epochs=40, pca_fit_images=20000, eval_images=10000),
    "quick": dict(train_subset=2000, val_size=500, epochs=2, pca_fit_images=2000, eval_images=1000),
}


GAN = {
    # full: all 60,000 training images, 150 epochs of the twice-as-wide MLPs (about 33 s per epoch on the 2-core CPU);
    # FID/IS on 10,000 samples every 5 epochs; the learning-rate comparison trains a 5x higher rate for 20 epochs.
    # The kept (best-FID) EMA generator, scored at the end: IS 7.59 / FID 66.7 at 60 epochs, 7.92 / 54.9 at 100,
    # 7.98 / 53.0 at 150 (best epoch 140); the per-epoch IS stays at 7.93-7.98 from epoch 105 on, so more epochs alone
    # will not reach 8.5. The sharper discriminator of 150 epochs makes rejection sampling gain more (IS 8.36 /
    # FID 43.5, vs 8.03 / 53.6 at 100). lr 1e-3 decaying linearly to 0 over 50 epochs was worse (best FID
    # 73.3 at epoch 15, 77.0 / IS 7.57 at 50; notebook run with -p lr 1e-3 -p lr_decay True -p epochs 50, not kept).
    # Langevin sampling on the noise (ddls_steps: the step counts scored for each weight of the discriminator's logit)
    # needs no training: probes with the 150-epoch nets, 10,000 samples, step size 0.01 (a script calling the same
    # Langevin update): weight 1 peaks at IS 8.51 / FID 39.3 after 50 steps and declines after; weight 4 reaches
    # IS 9.10 / FID 33.1 in 25 steps. Four draws of the noise (a script calling latent_langevin, weight 4, 25 steps):
    # FID against training images 31.7-35.4 (the generator alone 51.0-52.9), so neighbouring grid points are within
    # noise. About 1 s per step for 10,000 samples on the 2-core CPU: the grid of 5 weights x 50 steps and the
    # chosen setting take about 5 min.
    "full": dict(train_subset=None, epochs=150, eval_every=5, eval_samples=10000, clf_epochs=3, compare_epochs=20,
                 ddls_steps=[0, 5, 10, 25, 50]),
    "quick": dict(train_subset=2000, epochs=2, eval_every=1, eval_samples=1000, clf_epochs=1, compare_epochs=1,
                  ddls_steps=[0, 5]),
}
