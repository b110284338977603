"""AppTest of /confusion on a multi-label file of 60 concepts: the first view shows the 20 most
confused concepts (with the "(no label)" row and "(no prediction)" column), a picker adds others,
and a deep-linked cell outside them is shown and selected."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from evaldash import multilabel_metrics as mm
from evaldash.tasks import evaluate_dataset, load_dataset

APP = Path(__file__).resolve().parents[1] / "app.py"
K = 60
TIMEOUT = 60


def write_many(path: Path) -> Path:
    """A 60-concept file (400 rows, labels joined by '|', one score per concept) at ``path``."""
    rng = np.random.default_rng(7)
    n = 400
    names = [f"c{c:02d}" for c in range(K)]
    y = rng.random((n, K)) < np.linspace(0.01, 0.12, K)
    noise = rng.uniform(0.3, 3.0, K)  # concepts of very different difficulty
    scores = 1 / (1 + np.exp(-((y * 2.0 - 1.0) * 2.0 + rng.normal(0, 1, (n, K)) * noise)))
    frame = pd.DataFrame({"id": [f"s{r}" for r in range(n)],
                          "labels": ["|".join(names[c] for c in np.flatnonzero(row)) for row in y]})
    for c, name in enumerate(names):
        frame[f"score_{name}"] = scores[:, c].round(4)
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def many(monkeypatch, tmp_path):
    """The app serving :func:`write_many`'s file."""
    path = write_many(tmp_path / "many.csv")
    monkeypatch.setattr(sys, "argv", ["app.py", str(path)])
    monkeypatch.delenv("EVALDASH_PREDICTIONS", raising=False)
    monkeypatch.setenv("EVALDASH_DB", str(tmp_path / "annotations.db"))
    st.cache_resource.clear()
    yield path
    st.cache_resource.clear()


def grid(at):
    el = at.get_by_key("confusion_matrix")
    el = el[0] if isinstance(el, list) else el
    return json.loads(el.proto.mixed.json if el.proto.HasField("mixed") else el.proto.json)


def open_confusion(**params) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    for name, value in params.items():
        at.query_params[name] = value
    at.switch_page("pages/confusion.py").run()
    assert not at.exception, at.exception
    return at


def test_the_first_view_shows_the_20_most_confused_concepts_with_no_label_and_no_prediction(many):
    ev = evaluate_dataset(load_dataset(many))
    counts = ev.concept_counts
    errors = mm.concept_error_counts(counts)
    top = sorted(sorted(range(K), key=lambda i: (-errors[i], i))[:20])
    at = open_confusion()
    g = grid(at)
    assert g["labels"] == [ev.classes[i] for i in top] + ["(no label)"]
    assert g["columns"] == [ev.classes[i] for i in top] + ["(no prediction)"]
    shown = top + [K]
    assert g["counts"] == counts[np.ix_(shown, shown)].tolist()
    assert len(g["text"]) == 21 and len(g["text"][0]) == 21
    picker = at.multiselect(key="cm_concepts")
    assert picker.value == top
    # the FN / FP buttons are those of the concepts drawn
    assert len([b for b in at.button if b.key and b.key.startswith("concept_errors_")]) == 2 * 20

    other = next(i for i in range(K) if i not in top)
    picker.set_value(top + [other]).run()
    assert not at.exception, at.exception
    g = grid(at)
    shown = sorted(top + [other]) + [K]
    assert g["labels"][:-1] == [ev.classes[i] for i in shown[:-1]]
    assert g["counts"] == counts[np.ix_(shown, shown)].tolist()


def test_a_deep_linked_cell_outside_the_most_confused_is_shown_selected_with_its_samples(many):
    ev = evaluate_dataset(load_dataset(many))
    errors = mm.concept_error_counts(ev.concept_counts)
    top = sorted(sorted(range(K), key=lambda i: (-errors[i], i))[:20])
    rest = [i for i in range(K) if i not in top]
    i, j = next((a, b) for a in rest for b in rest if len(ev.cell_samples(a, b)))
    at = open_confusion(true=ev.classes[i], pred=ev.classes[j])
    g = grid(at)
    shown = sorted(set(top) | {i, j})
    assert g["labels"] == [ev.classes[c] for c in shown] + ["(no label)"]
    assert g["selected"] == [shown.index(i), shown.index(j)]
    gallery = at.get_by_key("cell_gallery")
    assert int(gallery.caption[0].value.split(" images")[0].replace(",", "")) == len(ev.cell_samples(i, j))


def test_the_mean_score_view_keeps_the_shown_concepts_without_a_no_prediction_column(many):
    ev = evaluate_dataset(load_dataset(many))
    at = open_confusion()
    top = at.multiselect(key="cm_concepts").value
    at.segmented_control(key="cm_mode").set_value("score").run()
    assert not at.exception, at.exception
    g = grid(at)
    assert g["columns"] == [ev.classes[i] for i in top]
    assert g["counts"] == ev.matrix("score").counts[np.ix_(top + [K], top)].tolist()
