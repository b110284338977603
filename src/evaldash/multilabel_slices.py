"""Metrics per slice (a metadata column's groups) of a multi-label evaluation, worst first."""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaldash import multilabel_metrics as mm
from evaldash.slices import MIN_RELIABLE, slice_labels


def multilabel_slice_table(evaluation, column: str) -> pd.DataFrame:
    """One row per slice of ``column``, worst samples F1 first: slice, n, subset accuracy, samples
    F1, Hamming loss (each computed by the core's multi-label functions on the slice's rows, at the
    evaluation's thresholds) and ``reliable`` (n >= :data:`evaldash.slices.MIN_RELIABLE`)."""
    d = evaluation.dataset
    labels = slice_labels(d, column).to_numpy()
    rows = []
    for value in pd.unique(labels):
        where = np.flatnonzero(labels == value)
        y_true, y_pred = d.y_true[where], evaluation.y_pred[where]
        averages = mm.multilabel_averages(mm.multilabel_per_class(y_true, y_pred), y_true, y_pred)
        rows.append({"slice": str(value), "n": int(where.size),
                     "subset_accuracy": mm.multilabel_subset_accuracy(y_true, y_pred),
                     "samples_f1": averages["samples"]["f1"],
                     "hamming_loss": mm.multilabel_hamming_loss(y_true, y_pred),
                     "reliable": bool(where.size >= MIN_RELIABLE)})
    table = pd.DataFrame(rows, columns=["slice", "n", "subset_accuracy", "samples_f1", "hamming_loss", "reliable"])
    return table.sort_values(["samples_f1", "slice"], kind="stable").reset_index(drop=True)
