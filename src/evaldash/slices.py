"""Slices: the samples grouped by a metadata column, with metrics and intervals per group.

A categorical column gives one slice per value; a numeric column with more than ``MAX_VALUES``
distinct values is cut into quantile bins. Slices smaller than ``MIN_RELIABLE`` samples are
kept and marked unreliable (their numbers swing with a handful of samples).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaldash import bootstrap as bs
from evaldash.dataset import Dataset
from evaldash.metadata import MISSING, distinct_count, is_numeric, numbers, value_text

MAX_VALUES = 12
QUANTILE_BINS = 4
MIN_RELIABLE = 30


def slice_labels(dataset: Dataset, column: str, bins: int = QUANTILE_BINS) -> pd.Series:
    """Each sample's slice of ``column`` as text, shape (n_samples,): the value itself
    (:func:`evaldash.metadata.value_text`, missing cells are ``"(missing)"``), or for a
    numeric column with many values its quantile bin written ``[low, high]``/``(low, high]``;
    the bins are cut on the finite values, so infinities are slices ``inf``/``-inf`` of their own."""
    values = dataset.metadata[column]
    if is_numeric(values) and distinct_count(values) > MAX_VALUES:
        x = numbers(values)
        finite = np.isfinite(x)
        labels = np.where(np.isnan(x), MISSING, np.where(x > 0, "inf", "-inf")).astype(object)
        if finite.any():
            cut = pd.qcut(x[finite], q=bins, duplicates="drop", precision=3)
            # each bin's name once, taken per row: converting the categorical to text row by row
            # took 1.7 s at 1M rows
            labels[finite] = bin_names(cut.categories)[cut.codes]
        return pd.Series(labels, index=values.index, name=column, dtype=object)
    return value_text(values)


def bin_names(categories: pd.IntervalIndex) -> np.ndarray:
    """The quantile bins' names as text, shape (bins,), e.g. ``(0.343, 0.469]``: pandas' own names,
    each edge written from its value rounded to 12 significant digits (pandas' rounded edge can be
    one float step off its decimal, and its name then read ``0.34299999999999997``)."""
    def edge(v: float) -> str:
        return repr(float(f"{v:.12g}"))

    left, right = ("[", "]") if categories.closed == "both" else \
        ("(", "]") if categories.closed == "right" else ("[", ")") if categories.closed == "left" else ("(", ")")
    return np.array([f"{left}{edge(i.left)}, {edge(i.right)}{right}" for i in categories], dtype=object)


def slice_rows(dataset: Dataset, column: str, value: str) -> np.ndarray:
    """Row indices of the samples in slice ``value`` of ``column``, shape (m,)."""
    return np.flatnonzero((slice_labels(dataset, column) == value).to_numpy())


def slice_table(dataset: Dataset, column: str, resamples: int = bs.DEFAULT_RESAMPLES,
                seed: int = bs.DEFAULT_SEED) -> pd.DataFrame:
    """One row per slice, worst macro F1 first: slice, n, accuracy and macro F1 (over the classes
    present in the slice) with their 95% bootstrap intervals, macro ROC AUC (when there are
    scores; over classes with positives and negatives in the slice, binary data: the positive
    class) with its interval (``macro_roc_auc_low``/``_high``: resamples draw the rows jointly for
    all classes, :func:`evaldash.bootstrap.resampled_macro_auc`) and ``reliable`` (n >= 30)."""
    labels = slice_labels(dataset, column)
    rows = []
    for n_slice, (value, index) in enumerate(labels.groupby(labels, sort=True).indices.items()):
        idx = np.sort(np.asarray(index))
        # macro F1 over the classes that occur in the slice (true or predicted), as scikit-learn
        # averages when not given labels: a class absent from a slice does not count as a 0
        present, codes = np.unique(np.concatenate([dataset.y_true[idx], dataset.y_pred[idx]]), return_inverse=True)
        k = present.size
        y, p = codes[:idx.size], codes[idx.size:]
        stats = bs.resampled_metrics(bs.cell_codes(y, p, k), k, resamples, seed + n_slice)
        point = bs.confusion_metrics(np.bincount(bs.cell_codes(y, p, k), minlength=k * k).reshape(1, k, k))
        auc, auc_iv = float("nan"), [float("nan"), float("nan")]
        if dataset.has_scores:
            y_slice = dataset.y_true[idx]
            averaged = bs.macro_auc_classes(y_slice, dataset.n_classes, dataset.positive if dataset.is_binary else None)
            if averaged:
                auc, draws = bs.resampled_macro_auc(dataset.scores[idx], y_slice, averaged, resamples, seed + n_slice)
                auc_iv = bs.percentile_interval(draws)
        acc_iv = bs.percentile_interval(stats["accuracy"])
        f1_iv = bs.percentile_interval(stats["macro_f1"])
        rows.append({"slice": value, "n": int(idx.size), "accuracy": float(point["accuracy"][0]),
                     "accuracy_low": float(acc_iv[0]), "accuracy_high": float(acc_iv[1]),
                     "macro_f1": float(point["macro_f1"][0]), "macro_f1_low": float(f1_iv[0]),
                     "macro_f1_high": float(f1_iv[1]), "macro_roc_auc": auc,
                     "macro_roc_auc_low": float(auc_iv[0]), "macro_roc_auc_high": float(auc_iv[1]),
                     "reliable": bool(idx.size >= MIN_RELIABLE)})
    table = pd.DataFrame(rows)
    return table.sort_values(["macro_f1", "slice"], kind="stable").reset_index(drop=True)
