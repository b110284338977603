"""AppTest checks of the multi-label pages' slice, compare and review additions: a slice filters every
page, two runs' concept matrices and exact matches compared, review sets and "reviewed" progress.
Expected numbers come from the Streamlit-free core, never from the app."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from evaldash.multilabel_slices import multilabel_slice_evaluation
from evaldash.slices import slice_rows
from evaldash.tasks import evaluate_dataset, load_dataset

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
CONCEPTS = ROOT / "sample_data" / "digits" / "concepts.csv"
TIMEOUT = 60


@pytest.fixture(autouse=True)
def concepts_app(monkeypatch, tmp_path):
    """The app started on the concept sample, a fresh annotation database."""
    monkeypatch.setattr(sys, "argv", ["app.py", str(CONCEPTS)])
    monkeypatch.delenv("EVALDASH_PREDICTIONS", raising=False)
    monkeypatch.setenv("EVALDASH_DB", str(tmp_path / "annotations.db"))
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def core():
    return evaluate_dataset(load_dataset(CONCEPTS))


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def session(page: str = "pages/overview.py", query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params.update(query or {})
    run(at)
    if page != "pages/overview.py":
        at.query_params.clear()
        at.query_params.update(query or {})
        at.switch_page(page)
        run(at)
    return at


def cards(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


# --- 1. a slice of a multi-label file filters every page ------------------------------------------

def test_the_subset_of_a_multilabel_file_is_its_rows_at_the_same_thresholds():
    ev = evaluate_dataset(load_dataset(CONCEPTS), thresholds=np.linspace(0.3, 0.6, 4))
    rows = slice_rows(ev.dataset, "stroke", "thin")
    part = multilabel_slice_evaluation(ev, rows, "stroke = thin")
    assert part.dataset.n == len(rows) and part.dataset.source.endswith("[stroke = thin]")
    assert part.thresholds.tolist() == ev.thresholds.tolist()
    assert np.array_equal(part.y_pred, ev.y_pred[rows]) and np.array_equal(part.dataset.y_true, ev.dataset.y_true[rows])
    assert list(part.dataset.ids) == [ev.dataset.ids[r] for r in rows]
    assert part.dataset.metadata["stroke"].eq("thin").all()


def test_a_picked_slice_filters_the_overview_to_the_cores_subset():
    ev = core()
    rows = slice_rows(ev.dataset, "stroke", "thick")
    want = multilabel_slice_evaluation(ev, rows).headline()
    assert 0 < len(rows) < ev.dataset.n
    at = session("pages/slices.py")
    at.selectbox(key="slice_column").set_value("stroke")
    run(at)
    at.session_state["_slice"] = ("stroke", "thick")  # as a selected row of the slices table does
    run(at)
    assert any(f"({len(rows):,} samples)" in s.value for s in at.success)
    assert at.query_params["slice_by"] == "stroke" and at.query_params["slice"] == "thick"
    at.switch_page("pages/overview.py")
    run(at)
    shown = cards(at)
    assert shown["Samples"] == f"{len(rows):,}"
    assert shown["Subset accuracy"] == f"{want['subset_accuracy']:.3f}"
    assert shown["Samples F1"] == f"{want['samples_f1']:.3f}"
    assert want["subset_accuracy"] != pytest.approx(ev.subset_accuracy)  # the slice, not the whole file


def test_a_slice_link_opens_the_slice_of_a_multilabel_file():
    ev = core()
    rows = slice_rows(ev.dataset, "stroke", "thin")
    want = multilabel_slice_evaluation(ev, rows).headline()
    at = session("pages/overview.py", {"slice_by": "stroke", "slice": "thin"})
    assert at.session_state["_slice"] == ("stroke", "thin")
    assert cards(at)["Samples"] == f"{len(rows):,}"
    assert cards(at)["Subset accuracy"] == f"{want['subset_accuracy']:.3f}"
    assert any(f"{len(rows):,} samples" in c.value for c in at.sidebar.caption)
