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
    # The grid (learning rate x latent size) is searched by successive halving with epochs as the resource:
    # every point on all folds for rungs[0] epochs, the best third (factor) of each rung goes on to the next
    # rung's epochs. Every fold trains with the final model's recipe (one-cycle peaking at the point's rate,
    # batch_size, dead units revived in the first `revive` share of the epochs), and the final model is the pick
    # retrained on all training images for the last rung's epochs.
    # full: all 60,000 images, 6 folds, the seed's grid; rungs 1-3-9-27 are the fewest epochs that keep the
    # search within about 45 min on a 2-core CPU while its last rung is long enough to converge (>= 27 epochs).
    "full": dict(learning_rates=[1e-3, 1e-2, 1e-1], latent_dims=[2, 4, 6, 8, 10], n_folds=6, rungs=[1, 3, 9, 27],
                 factor=3, batch_size=128, revive=0.5, compare_latent_dim=10, train_subset=None, tsne_points=5000),
    # quick: real MNIST, the same code path on a 2 x 2 grid with 3 folds of 3,000 images and rungs of 1 and 2
    # epochs; batch 16 and rates up to 3e-2 so that one epoch trains past the mean image (a search where every
    # point diverged or collapsed stops with an error)
    "quick": dict(learning_rates=[1e-2, 3e-2], latent_dims=[4, 10], n_folds=3, rungs=[1, 2], factor=3,
                  batch_size=16, revive=0.5, compare_latent_dim=10, train_subset=3000, tsne_points=500),
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
