"""Corrected label sets of a multi-label file: stored values, and the evaluation with them, against
scikit-learn on the corrected indicators."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, f1_score, hamming_loss

from evaldash.multilabel_corrections import (corrected_evaluation, label_set_value, parse_label_set,
                                             with_corrected_label_sets)
from evaldash.tasks import evaluate_dataset, load_dataset

CONCEPTS = Path(__file__).resolve().parents[1] / "sample_data" / "digits" / "concepts.csv"


def test_a_stored_set_is_json_in_class_order_and_reads_back():
    classes = ("even", "prime", "closed loop, round")
    value = label_set_value(["closed loop, round", "even"], classes)
    assert value == '["even", "closed loop, round"]'
    assert parse_label_set(value) == ["even", "closed loop, round"]
    assert parse_label_set(label_set_value([], classes)) == []  # corrected to no label at all
    for not_a_set in ("", "even", "[1, 2]", "[not json", '{"a": 1}'):
        assert parse_label_set(not_a_set) is None, not_a_set


def test_corrected_sets_recompute_every_metric_as_scikit_learn_does():
    ev = evaluate_dataset(load_dataset(CONCEPTS))
    d = ev.dataset
    missed = np.flatnonzero((d.y_true != ev.y_pred).any(axis=1))[:7]
    corrections = {str(d.ids[r]): label_set_value([c for c, on in zip(d.classes, ev.y_pred[r]) if on], d.classes)
                   for r in missed}  # the model was right: the sets become its predictions
    corrections["no such id"] = '["even"]'
    corrections[str(d.ids[0])] = '["not a concept"]'
    fixed, info = corrected_evaluation(ev, corrections)
    y = d.y_true.copy()
    y[missed] = ev.y_pred[missed]
    assert info == {"corrected": 7, "unknown": 1,
                    "mistakes_were_label_errors": int(np.sum(d.y_true[missed] != ev.y_pred[missed]))}
    assert np.array_equal(fixed.dataset.y_true, y)
    assert np.array_equal(fixed.y_pred, ev.y_pred)  # predictions do not change
    head = fixed.headline()
    assert head["subset_accuracy"] == pytest.approx(accuracy_score(y, ev.y_pred))
    assert head["samples_f1"] == pytest.approx(f1_score(y, ev.y_pred, average="samples", zero_division=0))
    assert head["hamming_loss"] == pytest.approx(hamming_loss(y, ev.y_pred))
    assert head["subset_accuracy"] > ev.headline()["subset_accuracy"]


def test_a_set_equal_to_the_given_one_changes_nothing():
    ev = evaluate_dataset(load_dataset(CONCEPTS))
    d = ev.dataset
    same = {str(d.ids[3]): label_set_value([c for c, on in zip(d.classes, d.y_true[3]) if on], d.classes)}
    dataset, info = with_corrected_label_sets(d, same, ev.y_pred)
    assert info["corrected"] == 0 and np.array_equal(dataset.y_true, d.y_true)


def test_the_predictions_export_has_each_samples_corrected_set_and_reads_back(tmp_path):
    import pandas as pd

    from evaldash.annotations import AnnotationStore, predictions_with_corrections

    d = load_dataset(CONCEPTS)
    store = AnnotationStore(str(tmp_path / "a.db"))
    store.record(d.fingerprint(), str(d.ids[1]), "ann", "label", label_set_value(["prime", "even"], d.classes))
    store.record(d.fingerprint(), str(d.ids[2]), "ann", "label", "[]")
    frame = predictions_with_corrections(CONCEPTS, d, store.state(d.fingerprint()))
    assert frame["labels_corrected"][1] == '["even", "prime"]' and frame["labels_corrected"][2] == "[]"
    assert frame["labels_corrected"][0] == label_set_value(d.label_sets()[0], d.classes)
    out = tmp_path / "corrected.csv"
    frame.drop(columns=["labels", "image"]).rename(columns={"labels_corrected": "labels"}).to_csv(out, index=False)
    again = load_dataset(out)
    y = d.y_true.copy()
    y[1] = [c in ("even", "prime") for c in d.classes]
    y[2] = False
    assert again.classes == d.classes and np.array_equal(again.y_true, y)
    assert pd.read_csv(out)["id"].tolist() == [str(i) for i in d.ids]
