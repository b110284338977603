"""The runs evaldash.show adds to a running server (the manifest): each page run opens them in
the session, and ``?ds=<key>`` opens one as the active data."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from evaldash.notebook_runs import ENV, read_manifest, source_key, write_manifest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "digits" / "predictions.csv"
WEAKER = ROOT / "sample_data" / "digits" / "predictions_weaker.csv"


@pytest.fixture(autouse=True)
def clean_app(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "argv", ["app.py", str(SAMPLE)])
    monkeypatch.delenv("EVALDASH_PREDICTIONS", raising=False)
    monkeypatch.setenv("EVALDASH_DB", str(tmp_path / "annotations.db"))
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def test_a_run_in_the_manifest_opens_by_its_key(monkeypatch, tmp_path):
    manifest = tmp_path / "runs.json"
    write_manifest(manifest, [{"path": str(WEAKER), "positive": None, "images_root": None, "label": "v2 <b>"}])
    monkeypatch.setenv(ENV, str(manifest))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params["ds"] = source_key(str(WEAKER), None, None)
    at.run()
    assert not at.exception, at.exception
    source = at.session_state["source"]
    assert source.path == str(WEAKER) and source.label == "v2 <b>"
    assert [r.path for r in at.session_state["runs"]] == [str(SAMPLE), str(WEAKER)]


def test_a_run_added_later_joins_an_open_session(monkeypatch, tmp_path):
    manifest = tmp_path / "runs.json"
    write_manifest(manifest, [])
    monkeypatch.setenv(ENV, str(manifest))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    assert [r.path for r in at.session_state["runs"]] == [str(SAMPLE)]
    write_manifest(manifest, [{"path": str(WEAKER), "label": "later"}])
    at.run()
    assert not at.exception, at.exception
    assert [r.label for r in at.session_state["runs"]] == ["", "later"]
    assert at.session_state["source"].path == str(SAMPLE)  # what the session shows is left as it was


def test_an_unreadable_manifest_adds_nothing(tmp_path):
    bad = tmp_path / "runs.json"
    bad.write_text("{not json")
    assert read_manifest(bad) == [] and read_manifest(tmp_path / "none.json") == []
    bad.write_text('[{"path": 3}, "x", {"path": "/a.csv"}]')
    assert read_manifest(bad) == [{"path": "/a.csv"}]


def test_the_threshold_chosen_on_threshold_is_noted_for_the_notebook(monkeypatch, tmp_path):
    from evaldash.evaluation import evaluate
    from evaldash.dataset import load_predictions
    from evaldash.notebook_runs import read_thresholds, thresholds_file

    manifest = tmp_path / "runs.json"
    write_manifest(manifest, [])
    monkeypatch.setenv(ENV, str(manifest))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("pages/threshold.py")
    at.query_params.update({"class": "8", "t": "0.35"})
    at.run()
    assert not at.exception, at.exception
    lo, hi, _ = evaluate(load_predictions(SAMPLE)).slider_range(8)
    [noted] = read_thresholds(thresholds_file(manifest))
    assert (noted["path"], noted["class"]) == (str(SAMPLE), "8")
    assert noted["threshold"] == min(max(0.35, lo), hi)
    at.session_state["threshold_t"] = 0.6  # the user moves it: the latest choice replaces the first
    at.run()
    [noted] = read_thresholds(thresholds_file(manifest))
    assert noted["threshold"] == 0.6


def test_a_server_not_started_by_show_notes_nothing(monkeypatch, tmp_path):
    monkeypatch.delenv(ENV, raising=False)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.switch_page("pages/threshold.py")
    at.run()
    assert not at.exception, at.exception
    assert not list(tmp_path.glob("*.thresholds.json"))
