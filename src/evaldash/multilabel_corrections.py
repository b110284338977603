"""Annotators' corrected label SETS of a multi-label file: how one is stored, and the evaluation with them.

A correction is a finding of kind ``"label"`` (as a single-label corrected class), whose value is
the corrected set as a JSON array of class names, in class order (``["even", "prime"]``; ``[]``:
the sample carries no label). An empty value means no correction, as for single-label files.
"""

from __future__ import annotations

import json
from typing import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from evaldash.multilabel_data import MultilabelDataset, with_label_sets


def label_set_value(names: Sequence[str], classes: Sequence[str]) -> str:
    """The stored value of the corrected set ``names`` (JSON, in the order of ``classes``)."""
    chosen = set(names)
    return json.dumps([c for c in classes if c in chosen], ensure_ascii=False)


def parse_label_set(value: str) -> list[str] | None:
    """The class names of a stored corrected set, or None when ``value`` is not one (e.g. a
    single-label correction, a plain class name)."""
    if not value or not value.startswith("["):
        return None
    try:
        names = json.loads(value)
    except ValueError:
        return None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        return None
    return names


def with_corrected_label_sets(dataset: MultilabelDataset, corrections: dict[str, str],
                              y_pred: np.ndarray) -> tuple[MultilabelDataset, dict]:
    """The dataset with the annotators' corrected label sets (sample id → stored value).

    ``y_pred``: ndarray of shape (n_samples, n_classes), bool, the predictions (unchanged by a
    correction). Returns the new dataset and a summary: ``corrected`` (samples whose set changed),
    ``unknown`` (corrections that are not a set of this file's classes, ignored) and
    ``mistakes_were_label_errors`` ((sample, concept) mistakes of the model that the corrected
    sets make right).
    """
    info = {"corrected": 0, "unknown": 0, "mistakes_were_label_errors": 0}
    if not corrections:
        return dataset, info
    ids = pa.array(dataset.ids).cast(pa.string())
    keys = pa.array(list(corrections), type=pa.string())
    where = pc.index_in(ids, value_set=keys).fill_null(-1).to_numpy(zero_copy_only=False)
    values = list(corrections.values())
    index = {c: i for i, c in enumerate(dataset.classes)}
    y_true = np.array(dataset.y_true, copy=True)
    for row in np.flatnonzero(where >= 0):
        names = parse_label_set(values[int(where[row])])
        if names is None or any(n not in index for n in names):
            info["unknown"] += 1
            continue
        new = np.zeros(dataset.n_classes, dtype=bool)
        new[[index[n] for n in names]] = True
        if not np.array_equal(new, y_true[row]):
            info["corrected"] += 1
        y_true[row] = new
    info["mistakes_were_label_errors"] = int(np.sum((dataset.y_true != y_pred) & (y_true == y_pred)))
    return with_label_sets(dataset, y_true), info


def corrected_evaluation(evaluation, corrections: dict[str, str]):
    """The multi-label ``evaluation`` recomputed with the corrected label sets (same thresholds),
    and the summary of :func:`with_corrected_label_sets`."""
    from evaldash.multilabel_evaluation import evaluate_multilabel

    dataset, info = with_corrected_label_sets(evaluation.dataset, corrections, evaluation.y_pred)
    return evaluate_multilabel(dataset, thresholds=evaluation.thresholds), info


def predictions_with_corrected_sets(path, dataset: MultilabelDataset, state) -> pd.DataFrame:
    """The predictions file as it was (CSV columns read as text) with a ``labels_corrected`` column:
    each sample's label set as a JSON array, the annotators' corrected set where they gave one (a
    label-set column evaldash reads back, e.g. with ``--task multilabel``)."""
    from pathlib import Path

    from evaldash.io import file_format, read_header, read_table

    text = read_header(path) if file_format(Path(path)) == "csv" else []
    frame = read_table(path, text_columns=text)
    fix = state["corrected_label"][state["corrected_label"] != ""].to_dict() if len(state) else {}
    given = [label_set_value(names, dataset.classes) for names in dataset.label_sets()]
    out = []
    for sid, value in zip(dataset.ids, given):
        corrected = fix.get(str(sid), "")
        names = parse_label_set(corrected)
        out.append(label_set_value(names, dataset.classes) if names is not None else value)
    frame["labels_corrected"] = out
    return frame
