"""Part 1: the convolutional autoencoder.

- :mod:`.search`: resumable, parallel K-fold cross-validation of a grid at one budget;
- :mod:`.halving`: successive halving over the grid, epochs as the resource;
- :mod:`.final`: the final models at the pick and their comparison, and :func:`search_and_train`, the part in
  one call (notebook 01 and ``scripts/train_01.py``);
- :mod:`.latent`: the latent space: codes, separation scores, sampling.
"""

from .final import (
    PartOne,
    compare_final_models,
    comparison_metrics,
    final_model_jobs,
    final_model_path,
    load_or_train_autoencoder,
    load_or_train_final_models,
    reviving_ablation,
    reviving_table,
    search_and_train,
)
