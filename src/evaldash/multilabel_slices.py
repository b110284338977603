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


def multilabel_subset(dataset, rows: np.ndarray, label: str = ""):
    """The samples at ``rows`` (sorted row indices, shape (m,)) of a
    :class:`~evaldash.multilabel_data.MultilabelDataset` as a dataset of their own (as
    :func:`evaldash.dataset.subset` for single-label files); its source says which slice it is.
    Classes and score kind are kept."""
    from dataclasses import replace

    rows = np.asarray(rows, dtype=np.int64)
    arrays = {}
    for name in ("y_true", "y_pred_given", "scores", "image_paths"):
        value = getattr(dataset, name)
        if value is not None:
            value = value[rows]
            value.setflags(write=False)
        arrays[name] = value
    ids = dataset.ids.take(rows) if hasattr(dataset.ids, "take") else dataset.ids[rows]
    return replace(dataset, ids=ids, metadata=dataset.metadata.iloc[rows].reset_index(drop=True),
                   source=f"{dataset.source} [{label}]" if label else dataset.source, **arrays)


def multilabel_slice_evaluation(evaluation, rows: np.ndarray, label: str = ""):
    """The evaluation of the samples at ``rows`` only, at the same per-class thresholds."""
    from evaldash.multilabel_evaluation import evaluate_multilabel

    return evaluate_multilabel(multilabel_subset(evaluation.dataset, rows, label), thresholds=evaluation.thresholds)
