"""FixMatch recipe variants on one labelled subset of notebook 02's semi-supervised section.

Each variant trains notebook 02's semi-supervised classifier (the pretrained encoder, the notebook's strong and weak
augmentations) on the balanced subset ``--subset`` of ``--labels`` labels, one variant per process on one thread,
two at a time, and reports the averaged model's accuracy after every round, so the table shows both where a
longer schedule still gains and what each change buys at the notebook's length. It is a recipe measurement, not the
report, and the report's numbers come from notebook 02. ``--score-on test`` scores on the test set;
``--score-on held-out`` on ``--held-out`` training images drawn outside the labelled subset and kept out of the
unlabelled ones too (the unlabelled pool shrinks by as many), so that a recipe can be chosen without the test set.

    python benchmarks/fixmatch_recipes.py --subset 1 --variants notebook long flex
    python benchmarks/fixmatch_recipes.py --labels 1000 --subset 2 --score-on held-out --variants notebook long
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from records import save  # noqa: E402

from helpers.classification.classify import classifier_from_autoencoder, encoder_widths  # noqa: E402
from helpers.classification.semisupervised import fit_fixmatch, strong_augment, weak_augment  # noqa: E402
from helpers.corruption import Compose, ElasticDistortion  # noqa: E402
from helpers.data import balanced_subset, load_train_test  # noqa: E402
from helpers.models import load_model  # noqa: E402
from helpers.parallel import parallel_map  # noqa: E402
from helpers.profiles import CLASSIFY, values  # noqa: E402
from helpers.runtime import seed_everything  # noqa: E402

FULL = values(CLASSIFY)
NOTEBOOK = {
    "steps": FULL["semi_steps"],
    "threshold": FULL["semi_threshold"],
    "labelled_batch": FULL["semi_labelled_batch"],
    "unlabelled_ratio": FULL["semi_unlabelled_ratio"],
    "encoder_lr_factor": FULL["semi_encoder_lr_factor"],
}
NOTEBOOK_STRONG = {
    "max_degrees": FULL["semi_strong_degrees"],
    "translate": FULL["semi_strong_translate"],
    "scale": FULL["semi_strong_scale"],
    "cutout": FULL["semi_cutout"],
    "noise": FULL["semi_noise"],
}
VARIANTS = {  # name: changes to the notebook's recipe ("long": twice its steps); benchmarks/README.md has the records
    "notebook": {},
    "long": {"long": True},
    "flex": {"flex": True},  # FlexMatch's per-class thresholds
    "flex long": {"flex": True, "long": True},
    "ema teacher": {"ema_teacher": True},  # pseudo-labels from the averaged model
    "threshold 0.95": {"threshold": 0.95},
    "elastic": {"strong": {"elastic": 34.0}},  # an elastic distortion in the strong augmentation
    "elastic 20": {"strong": {"elastic": 20.0}},
    "elastic long": {"strong": {"elastic": 34.0}, "long": True},
    "elastic weak": {"strong": {"elastic": 34.0}, "weak": {"elastic": 10.0}},  # a mild distortion in the weak view too
    "encoder 0.3x": {"encoder_lr_factor": 0.3},
    "fixmatch strong": {  # the larger strong augmentation notebook 02 used before (closer to FixMatch's own)
        "strong": {"max_degrees": 20.0, "translate": 0.15, "scale": (0.75, 1.25), "cutout": 7, "noise": 0.15}
    },
    "milder strong": {
        "strong": {"max_degrees": 10.0, "translate": 0.08, "scale": (0.9, 1.1), "cutout": 5, "noise": 0.1}
    },
    "half batch, twice steps": {"unlabelled_ratio": 7, "long": True},  # the same images in twice the updates
    "weight decay": {"weight_decay": 0.05},  # decoupled (AdamW's), as FixMatch's paper stresses for its SGD
}


def recipe(name: str, steps: int) -> dict:
    """The notebook's recipe at ``steps`` steps with variant ``name``'s changes."""
    changes = dict(VARIANTS[name])
    long = changes.pop("long", False)
    changes["strong"] = strong_augment(**dict(NOTEBOOK_STRONG, **changes.get("strong", {})))
    if "weak" in changes:
        changes["weak"] = Compose(ElasticDistortion(changes["weak"]["elastic"]), weak_augment())
    return {**NOTEBOOK, "steps": 2 * steps if long else steps, **changes}


def held_out_split(n_images: int, labelled, n_held: int, seed: int):
    """``(held, unlabelled)``: ``n_held`` image indices drawn (seeded) outside ``labelled``, and every index in
    neither; with ``n_held`` 0, no held-out images and the notebook's unlabelled pool."""
    outside = np.setdiff1d(np.arange(n_images), labelled)
    if not 0 <= n_held < len(outside):
        raise ValueError(f"--held-out must be between 0 and {len(outside) - 1}, got {n_held}")
    held = np.sort(np.random.default_rng(seed).choice(outside, n_held, replace=False))
    return held, np.setdiff1d(outside, held)


def train(job, x, y, xt, yt):
    name, kw, idx, held, rest, seed, ae_path, every = job
    torch.set_num_threads(1)
    ae = load_model(ae_path)
    seed_everything(seed)
    model = classifier_from_autoencoder(ae, hidden=FULL["hidden"], latent_dim=ae.latent_dim, widths=encoder_widths(ae))
    if len(held):
        xt, yt = x[held], y[held]
    t0 = time.perf_counter()
    _, hist = fit_fixmatch(
        model, x[idx], y[idx], x[rest], x_eval=xt, y_eval=yt, seed=seed, device="cpu", steps_per_round=every, **kw
    )
    return hist, time.perf_counter() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--subset", type=int, default=1, help="which balanced subset (notebook 02 uses 0, 1, 2)")
    ap.add_argument("--labels", type=int, default=100)
    ap.add_argument("--seed", type=int, default=None, help="the training's seed (default: the subset, as notebook 02)")
    ap.add_argument("--variants", nargs="+", choices=list(VARIANTS), default=["notebook", "long", "flex"])
    ap.add_argument("--steps", type=int, default=NOTEBOOK["steps"], help="the notebook's steps (default: its own)")
    ap.add_argument("--score-on", choices=["test", "held-out"], default="test", help="what the accuracy is read on")
    ap.add_argument("--held-out", type=int, default=10000, help="training images held out for --score-on held-out")
    ap.add_argument("--every", type=int, default=1000, help="steps between two scores of the learning curve")
    ap.add_argument("--autoencoder", default="results/autoencoder.pt", help="notebook 01's saved autoencoder")
    ap.add_argument("--images", type=int, default=None, help="the first N training images (default: all 60,000)")
    ap.add_argument("--root", default=None, help="MNIST root (default: $MNIST_ROOT, else the repository's data/)")
    ap.add_argument("--out", default=None, help="folder of the JSON record (default: benchmarks/results)")
    args = ap.parse_args()
    if args.steps % args.every:
        ap.error(f"--every ({args.every}) must divide --steps ({args.steps})")
    x, y, xt, yt = load_train_test(args.root, args.images)
    idx = balanced_subset(y.numpy(), args.labels, seed=args.subset)
    try:
        held, rest = held_out_split(len(x), idx, args.held_out if args.score_on == "held-out" else 0, args.subset)
    except ValueError as e:
        ap.error(str(e))
    scored = "test" if args.score_on == "test" else "held-out"
    seed = args.subset if args.seed is None else args.seed
    jobs = [(n, recipe(n, args.steps), idx, held, rest, seed, args.autoencoder, args.every) for n in args.variants]
    rows = []
    for (name, *_), (hist, seconds) in zip(jobs, parallel_map(train, jobs, n_jobs=2, shared=(x, y, xt, yt))):
        for _, r in hist.iterrows():
            rows.append([name, int(r.step), round(float(r.eval_acc), 4), round(float(r.mask_rate), 4)])
        rows.append([name, "end", round(float(hist.eval_acc.iloc[-1]), 4), round(seconds)])
        print(name, hist[["step", "eval_acc", "mask_rate"]].to_string(index=False), f"{seconds:.0f} s", flush=True)
    ends = {r[0]: r[2] for r in rows if r[1] == "end"}
    save(
        "fixmatch_recipes",
        what=f"Notebook 02's FixMatch ({recipe('notebook', args.steps)}) on balanced subset {args.subset} of "
        f"{args.labels} labels (training seed {seed}), and "
        f"variants of it ({', '.join(f'{n}: {VARIANTS[n]}' for n in args.variants)}): the averaged model's "
        + (
            "test accuracy"
            if scored == "test"
            else f"accuracy on {len(held)} held-out training images (neither labelled nor unlabelled in training)"
        )
        + " and the pseudo-label mask rate after every round; the 'end' row gives the final accuracy and "
        "the run's seconds (one thread, two runs side by side).",
        columns=["variant", "step", f"{scored} accuracy", "mask rate (end: seconds)"],
        rows=rows,
        summary=f"final {scored} accuracy: " + ", ".join(f"{k} {v:.2%}" for k, v in ends.items()),
        out=args.out,
    )


if __name__ == "__main__":
    main()
