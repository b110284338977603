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

from evaldash.errors import InputError
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


def checked_label_sets(frame: pd.DataFrame, classes: Sequence[str], source) -> pd.DataFrame:
    """The ``corrected_label`` column of an annotations import for a multi-label file, each
    corrected set rewritten as the dashboard stores it (JSON, class order; "" stays no correction).

    Refuses, naming ``source``, the rows and sample ids, a value that is not a JSON array of class
    names and a set naming concepts that are not classes of the file (nothing is imported then).
    """
    known = set(classes)
    not_sets: list[tuple[int, str, str]] = []
    unknown: dict[str, list[tuple[int, str]]] = {}
    out = []
    for i, (value, sid) in enumerate(zip(frame["corrected_label"], frame["sample_id"]), start=1):
        if not value:
            out.append("")
            continue
        names = parse_label_set(value)
        if names is None:
            not_sets.append((i, sid, value))
            continue
        for name in dict.fromkeys(n for n in names if n not in known):
            unknown.setdefault(name, []).append((i, sid))
        out.append(label_set_value(names, classes))
    some = ", ".join(repr(c) for c in list(classes)[:10]) + (
        f", … ({len(classes)} classes in all)" if len(classes) > 10 else "")
    if not_sets:
        i, sid, value = not_sets[0]
        more = f" and {len(not_sets) - 1} more" if len(not_sets) > 1 else ""
        raise InputError(f"{source}: row {i}{more}, column 'corrected_label' is {value!r} (sample id {sid!r}); "
                         f"expected a corrected label set of the multi-label file as a JSON array of class "
                         f"names, e.g. [\"{list(classes)[0] if classes else 'a'}\"] ([] for no label). "
                         f"Nothing was imported.")
    if unknown:
        def where(places: list[tuple[int, str]]) -> str:
            more = f" and {len(places) - 3} more" if len(places) > 3 else ""
            return (f"row{'s' if len(places) > 1 else ''} {', '.join(str(i) for i, _ in places[:3])}{more}: "
                    f"sample id{'s' if len(places) > 1 else ''} {', '.join(repr(s) for _, s in places[:3])}")

        listed = list(unknown.items())
        parts = "; ".join(f"{name!r} ({where(places)})" for name, places in listed[:5])
        others = f"; and {len(listed) - 5} more unknown concepts" if len(listed) > 5 else ""
        plural = len(listed) > 1
        raise InputError(f"{source}: column 'corrected_label' names {len(listed)} concept{'s' if plural else ''} "
                         f"that {'are not classes' if plural else 'is not a class'} of the predictions file: "
                         f"{parts}{others}; expected sets of its classes: {some}. "
                         f"Nothing was imported.")
    checked = frame.copy()
    checked["corrected_label"] = out
    return checked
