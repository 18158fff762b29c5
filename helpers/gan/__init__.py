"""Part 4: a GAN with MLP generator and discriminator.

- :mod:`.training`: the value range, the two steps, a run's configuration and the training loop;
- :mod:`.store`: the trained GAN and its logs on disk, loaded when present;
- :mod:`.sampling`: plain, rejection and Langevin sampling from a trained generator;
- :mod:`.scoring`: MNIST-FID, Inception Score and class shares with a small classifier;
- :mod:`.studies`: notebook 04's grids, recipe comparison and results-file entries.
"""

from .sampling import (
    RejectionBudgetError,
    generate,
    latent_langevin,
    rejection_sample,
    sample,
)
from .scoring import (
    classifier_outputs,
    draw_spread,
    draw_spreader,
    frechet_distance,
    inception_score,
    inference_features,
    load_or_train_scoring_cnn,
    quality_of,
    quality_table,
    sample_quality,
    scorer,
)
from .store import (
    ITER_BLOCK,
    SNAPSHOT_EPOCHS,
    SNAPSHOT_IMAGES,
    load_or_train_gan,
    read_gan_log,
    save_gan_log,
)
from .studies import (
    RECIPE_COLUMNS,
    grid_table,
    langevin_grid,
    langevin_study,
    recipe_comparison,
    recipe_display,
    recipe_study,
    recipe_table,
    rejection_grid,
    rejection_study,
    summary_metrics,
)
from .training import (
    RECIPE_DEFAULTS,
    bf16_is_fast,
    d_step,
    from_gan_range,
    g_step,
    gan_config,
    make_optimizers,
    resolve_recipe,
    to_gan_range,
    train_gan,
    with_recipe,
)
