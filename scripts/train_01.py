"""Train notebook 01's expensive part without Jupyter: the halving grid search and the final models, with the
notebook's own calls and profile, into the results folder that the notebook then loads them from.

    python scripts/train_01.py [--profile full|quick] [--results DIR] [--n-jobs N] [--root DIR]
        [--learning-rates LR ...] [--latent-dims D ...] [--rungs EPOCHS ...]

The last three replace the profile's grid and rungs (e.g. one point at the last rung's length, to check a number).

For a machine that has a GPU but no Jupyter or papermill (the committed full-profile search and final models were
trained this way on one, see the README): copy the results folder back, then run notebook 01 as usual
(`python -m helpers.report --profile full --only 01`); it finds every run under its key and trains nothing.
"""

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repo root, so `helpers` imports without installing

from helpers import autoencoder, profiles  # noqa: E402
from helpers.data import load_train_test  # noqa: E402
from helpers.parallel import cpu_count  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", default="full", choices=profiles.PROFILES)
    ap.add_argument("--results", default=None, help="results folder (default: the profile's, as the notebook's)")
    ap.add_argument(
        "--n-jobs", type=int, default=None, help="parallel folds (default: as the notebook, one per core up to 8)"
    )
    ap.add_argument("--root", default=None, help="MNIST root (default: $MNIST_ROOT, else data/)")
    ap.add_argument(
        "--learning-rates", type=float, nargs="+", default=None, help="grid of peak rates (default: the profile's)"
    )
    ap.add_argument(
        "--latent-dims", type=int, nargs="+", default=None, help="grid of latent sizes (default: the profile's)"
    )
    ap.add_argument("--rungs", type=int, nargs="+", default=None, help="epochs of each rung (default: the profile's)")
    a = ap.parse_args(argv)
    repo = Path(__file__).resolve().parents[1]
    given = {
        "results_dir": a.results or repo / ("results" if a.profile == "full" else "build/quick/results"),
        "figures_dir": repo / ("figures" if a.profile == "full" else "build/quick/figures"),
        "learning_rates": a.learning_rates,
        "latent_dims": a.latent_dims,
        "rungs": a.rungs,
    }
    S = profiles.setup(a.profile, profiles.AUTOENCODER, given)
    n_jobs, t0 = a.n_jobs or min(cpu_count(), 8), time.time()
    x_train, _, x_test, _ = load_train_test(a.root, S.train_subset)
    part = autoencoder.search_and_train(
        x_train, x_test, S, results_dir=S.results_dir, seed=S.seed, n_jobs=n_jobs, device=S.device, progress=False
    )
    cv, comparison = part.cv, part.comparison
    print(cv.summary.to_string())
    print(f"best point: learning rate {part.lr:g}, latent dimension {part.latent_dim}, {part.epochs} epochs")
    trained = sum(not loaded for *_, loaded in part.finals.values())
    print(
        f"trained in this run: {cv.n_trained} of {len(cv.folds)} CV runs, {trained} of {len(part.finals)} final models"
    )
    print(comparison.to_string())
    print(f"search and final models: {time.time() - t0:.0f} s on {S.device}; results in {S.results_dir}")


if __name__ == "__main__":
    main()
