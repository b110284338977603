"""Find the samples worth looking at: confident mistakes, unsure correct ones, near-threshold cases."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from evaldash.dataset import Dataset
from evaldash.errors import InputError
from evaldash.evaluation import Evaluation
from evaldash.metadata import distinct_count, finite_range, is_numeric, numbers, value_codes, value_text

GALLERIES = {
    "mistakes": "Most confident mistakes",
    "unsure": "Least confident correct predictions",
    "threshold": "Nearest the threshold",
    "label_issues": "Suspected label errors",
}


MAX_FILTER_VALUES = 200


def metadata_filters(dataset: Dataset) -> list[tuple[str, str, object]]:
    """How each metadata column can be filtered: ``(column, "range", (low, high))`` for numeric
    columns with many values (the finite ones), ``(column, "values", options)`` for up to 200
    distinct values as text (:func:`evaldash.metadata.value_text`; missing cells are the option
    ``"(missing)"``).

    Columns with neither (free text, ids) are left out. Computed once per evaluation.
    """
    out = []
    for column in dataset.metadata.columns:
        values = dataset.metadata[column]
        if is_numeric(values) and distinct_count(values) > 12:
            bounds = finite_range(values)
            if bounds is not None and bounds[0] < bounds[1]:
                out.append((str(column), "range", bounds))
            continue
        options = value_text(values).unique()
        if len(options) <= MAX_FILTER_VALUES:
            out.append((str(column), "values", sorted(options.tolist())))
    return out


def filter_mask(dataset: Dataset, true: Sequence[int] = (), pred: Sequence[int] = (),
                metadata: Mapping[str, object] | None = None) -> np.ndarray:
    """Boolean mask of shape (n_samples,) for the chosen true/predicted classes and metadata.

    ``metadata`` maps a column to a list of accepted values (as :func:`metadata_filters` offers
    them), or for numeric columns to a ``(low, high)`` tuple (inclusive; cells that are missing
    or not finite are outside every range). Empty selections filter nothing.
    """
    mask = np.ones(dataset.n, dtype=bool)
    if len(true):
        mask &= np.isin(dataset.y_true, np.asarray(true))
    if len(pred):
        mask &= np.isin(dataset.y_pred, np.asarray(pred))
    for column, accepted in (metadata or {}).items():
        values = dataset.metadata[column]
        if isinstance(accepted, tuple):
            low, high = accepted
            if is_numeric(values):
                numeric = numbers(values)
            else:
                numeric = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
            mask &= (numeric >= low) & (numeric <= high)
        elif accepted:
            codes, names = value_codes(values)
            mask &= np.isin(codes, np.flatnonzero(np.isin(names, [str(a) for a in accepted])))
    return mask


def ranked(key: np.ndarray, mask: np.ndarray, limit: int) -> tuple[np.ndarray, int]:
    """The first ``limit`` rows of ``mask`` by ascending ``key`` (ties in file order), and how many match.

    Uses a partial sort, so asking for one page of a million rows stays cheap.
    """
    rows = np.flatnonzero(mask)
    total = rows.size
    if total == 0:
        return rows, 0
    k = key[rows]
    if limit < total:
        part = np.argpartition(k, limit - 1)[:limit]
        # include every row tied with the cut-off so file order decides among them
        cut = k[part].max()
        part = np.flatnonzero(k <= cut)
        rows, k = rows[part], k[part]
    order = np.lexsort((rows, k))[:limit]
    return rows[order], total


def gallery_rows(evaluation: Evaluation, kind: str, mask: np.ndarray, limit: int,
                 cls: int | None = None, threshold: float | None = None) -> tuple[np.ndarray, int]:
    """Rows of gallery ``kind`` (see :data:`GALLERIES`) within ``mask``, best first, and the total."""
    conf = np.nan_to_num(evaluation.confidence, nan=0.0)
    correct = evaluation.correct
    if kind == "mistakes":
        return ranked(-conf, mask & ~correct, limit)
    if kind == "unsure":
        return ranked(conf, mask & correct, limit)
    if kind == "label_issues":
        rank = evaluation.memo("label_issue_rank", lambda e: label_issue_rank(e.dataset))
        return ranked(rank, mask & np.isfinite(rank), limit)
    if kind == "threshold":
        if cls is None or threshold is None or not evaluation.dataset.has_scores:
            return np.array([], dtype=np.int64), 0
        distance = np.abs(evaluation.dataset.scores[:, cls] - threshold)
        return ranked(distance, mask, limit)
    raise ValueError(f"unknown gallery {kind!r}; expected one of {list(GALLERIES)}")


def label_issue_rank(dataset: Dataset) -> np.ndarray:
    """Where each sample ranks among the suspected label errors, shape (n_samples,): 0 for the
    most likely, +inf for samples not suspected.

    Confident learning (cleanlab's ``find_label_issues``): a sample is suspected when the model
    is confidently sure of another class than the given label, by per-class thresholds learned
    from the data; suspects are ranked by the probability given to their label (lowest first).
    """
    if not dataset.has_scores or not dataset.is_probability:
        raise InputError(f"{dataset.source}: suspected label errors need per-class probabilities "
                         f"({dataset.probability_reason or 'no scores'})")
    from cleanlab.filter import find_label_issues

    try:
        ranked_rows = find_label_issues(labels=np.asarray(dataset.y_true, dtype=np.int64),
                                        pred_probs=np.asarray(dataset.scores, dtype=np.float64),
                                        return_indices_ranked_by="self_confidence")
    except (ValueError, IndexError) as exc:
        raise InputError(f"{dataset.source}: cannot rank suspected label errors ({exc})") from None
    rank = np.full(dataset.n, np.inf)
    rank[ranked_rows] = np.arange(len(ranked_rows))
    return rank
