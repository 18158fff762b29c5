"""What a classifier gets wrong: its most frequent confusions, and images that show one."""

from __future__ import annotations

import pandas as pd
import torch

from ..data import balanced_subset
from ..runtime import check_positive
from ..training import predict


def top_confusions(models: dict, x, y, k: int = 3, device=None) -> pd.DataFrame:
    """The ``k`` most frequent errors of each model of ``models`` (key -> classifier) on ``(x, y)``: one row per
    (model, true class, predicted class) with the ``count`` of such images and their ``share`` of the true class,
    most frequent first."""
    check_positive("k", k, integer=True)
    rows = []
    for key, model in models.items():
        pred = predict(model, x, device=device).argmax(1)
        wrong = pred != y
        pairs = pd.Series(list(zip(y[wrong].tolist(), pred[wrong].tolist()))).value_counts().head(k)
        per_class = torch.bincount(y, minlength=int(y.max()) + 1)
        for (true, guess), count in pairs.items():
            rows.append(
                {
                    "model": key,
                    "true": true,
                    "predicted": guess,
                    "count": int(count),
                    "share": count / int(per_class[true]),
                }
            )
    return pd.DataFrame(rows, columns=["model", "true", "predicted", "count", "share"])


def labelled_and_misread(
    x_train, y_train, n_labels, subsets, model, x_test, y_test, true: int, predicted: int, n: int = 10, device=None
) -> dict:
    """Images for a figure of one confusion: each subset's labelled images of class ``true`` (the balanced subsets
    of ``n_labels`` labels), then the first ``n`` test images of class ``true`` that ``model`` reads as
    ``predicted``. Returns ``{row label: images}`` (:func:`~helpers.plotting.image_rows`)."""
    rows = {}
    for subset in subsets:
        idx = balanced_subset(y_train.numpy(), n_labels, seed=subset)
        rows[f"subset {subset}: labelled {true}s"] = x_train[idx][y_train[idx] == true][:n]
    pred = predict(model, x_test, device=device).argmax(1)
    rows[f"test {true}s read as {predicted}"] = x_test[(y_test == true) & (pred == predicted)][:n]
    return rows
