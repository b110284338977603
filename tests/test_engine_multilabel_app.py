"""The dashboard on a multi-label file that stays in DuckDB (``evaldash serve A B --engine duckdb``):
``serve`` no longer refuses it, every page runs, and what the pages show is the memory path's (a
cell's gallery page by page, a concept's live threshold and the sample-level metrics, calibration,
slices, the compare headline); where a view needs every row, one line and the sample button, which
opens the rows in memory. One app start for the module (the files are opened once per server)."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from multilabel_engine_cases import frame, memory_evaluation, write
from test_app import expected_threshold_metrics, live_payload, set_threshold, shown_threshold_metrics
from test_engine_app import APP, TIMEOUT, captions

PAGES = ["pages/overview.py", "pages/confusion.py", "pages/threshold.py", "pages/errors.py", "pages/review.py",
         "pages/runs.py", "pages/compare.py", "pages/slices.py", "pages/decision.py", "pages/calibration.py"]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """Two multi-label Parquet files of 4 concepts (A and a weaker B) and A's memory evaluation."""
    folder = tmp_path_factory.mktemp("mlapp")
    a = write(frame("list", k=4, n=300, seed=5), folder / "a.parquet")
    weaker = frame("list", k=4, n=300, seed=5)
    weaker["score_owl"] = np.round(weaker["score_owl"] * 0.8, 2)
    b = write(weaker, folder / "b.parquet")
    return a, b, memory_evaluation(a)


@pytest.fixture(scope="module", autouse=True)
def on_duckdb(files, tmp_path_factory):
    """The app started as ``evaldash serve A B --engine duckdb`` starts it, with an annotation
    database and an upload folder of its own."""
    import evaldash.ui.open_panel as open_panel

    folder = tmp_path_factory.mktemp("mlapp_state")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, "argv", ["app.py", str(files[0]), str(files[1]), "--engine", "duckdb"])
        mp.delenv("EVALDASH_PREDICTIONS", raising=False)
        mp.setenv("EVALDASH_DB", str(folder / "annotations.db"))
        mp.setattr(open_panel, "UPLOAD_DIR", folder / "uploads")
        st.cache_resource.clear()
        yield
        st.cache_resource.clear()


def open_page(page: str = "pages/overview.py", **link) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    for key, value in link.items():
        at.query_params[key] = value
    if page != "pages/overview.py" or link:
        at.switch_page(page).run()
        assert not at.exception, at.exception
    return at


def test_serve_opens_a_multi_label_file_on_its_engine(files, monkeypatch, capsys):
    from evaldash.cli import main

    calls = []
    monkeypatch.setattr(os, "execv", lambda exe, cmd: calls.append(cmd))
    assert main(["serve", str(files[0]), "--engine", "duckdb"]) == 0
    assert capsys.readouterr().err == ""
    app_args = calls[0][calls[0].index("--") + 1:]
    assert app_args[app_args.index("--engine") + 1] == "duckdb"


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_on_the_engine(page):
    at = open_page(page)
    assert not at.error, [e.value for e in at.error]
    assert "Engine: duckdb (the rows stay in the engine; only aggregates come back)" in captions(at, at.sidebar)
    assert "300 samples · 4 classes · multi-label" in captions(at, at.sidebar)


def test_a_cells_gallery_is_the_memory_paths_page_by_page(files):
    m = files[2]
    i, j = m.classes.index("cat"), m.classes.index("owl")
    want = [str(s) for s in m.label_sets(m.cell_samples(i, j))["id"]]
    assert len(want) > 24
    at = open_page("pages/confusion.py", true="cat", pred="owl")
    gallery = at.get_by_key("cell_gallery")
    assert captions(at, gallery).startswith(f"{len(want)} images")
    shown = [img.captions[0] for img in gallery.image]
    assert [c.split(" · ")[0] for c in shown] == want[:24]
    sets = m.label_sets(m.cell_samples(i, j)[:1])
    from evaldash.ui.text import md

    assert shown[0].endswith(md(f"true {{{sets['true'][0]}}} → {{{sets['predicted'][0]}}}"))
    at.number_input(key="cell_gallery_page").set_value(2).run()
    assert not at.exception, at.exception
    assert [img.captions[0].split(" · ")[0] for img in at.get_by_key("cell_gallery").image] == want[24:48]
    for mode in ("true", "score"):
        at.segmented_control(key="cm_mode").set_value(mode).run()
        assert not at.exception, (mode, at.exception)


@pytest.mark.parametrize("t", [0.3, 0.123457])  # a slider position, and a typed value the engine counts
def test_a_concepts_live_threshold_and_sample_metrics_are_the_memory_paths(files, t):
    m = files[2]
    c = m.classes.index("owl")
    at = open_page("pages/threshold.py", **{"class": "owl"})
    set_threshold(at, t)
    assert not at.exception, at.exception
    assert live_payload(at, "threshold_metrics")["class_name"] == "owl"
    assert shown_threshold_metrics(at) == expected_threshold_metrics(m, c, t)
    thresholds = np.full(4, 0.5)
    thresholds[c] = t
    after = m.metrics_at_thresholds(thresholds)
    cards = {x.label: x.value for x in at.get_by_key("concept_sample_metrics").metric}
    assert cards == {"Subset accuracy": f"{after['subset_accuracy']:.3f}", "Samples F1": f"{after['samples_f1']:.3f}",
                     "Hamming loss": f"{after['hamming_loss']:.3f}"}


def test_a_concepts_false_negatives_on_errors_and_the_line_for_what_needs_every_row(files):
    m = files[2]
    c = m.classes.index("cat")
    at = open_page("pages/errors.py", concept="cat", gallery="fn")
    want = [str(s) for s in m.label_sets(m.concept_errors(c, "fn"))["id"]]
    gallery = at.get_by_key("error_gallery")
    assert captions(at, gallery).startswith(f"{len(want)} images")
    assert [img.captions[0].split(" · ")[0] for img in gallery.image] == want[:24]
    assert "The suspected label errors (cleanlab) are not available on the duckdb engine" in captions(at)
    assert [b.label for b in at.button if b.key == "err_sample"] == ["Open its 300 rows in memory"]


def test_calibration_slices_and_compare_show_the_memory_numbers(files):
    from evaldash.ui.concept_runs import COMPARED

    a, m = files[0], files[2]
    at = open_page("pages/calibration.py")
    cal = m.concept_calibration(0)
    assert f"Log loss {cal['log_loss']:.4f}, Brier score {cal['brier']:.4f}" in captions(at).replace("\\", "")
    at = open_page("pages/slices.py")
    shown = at.get_by_key("concept_slices").dataframe[0].value
    want = m.slice_table("site")
    assert list(shown["slice"]) == list(want["slice"])
    assert np.allclose(shown["samples_f1"].to_numpy(float), want["samples_f1"].to_numpy(float), atol=1e-12)
    assert "not available on the duckdb engine" not in captions(at)
    assert "Select a row to show only that slice on every page" in captions(at)
    at = open_page("pages/compare.py")
    table = at.dataframe[0].value
    b = memory_evaluation(files[1])
    assert list(table["metric"])[:len(COMPARED)] == list(COMPARED.values())
    head_a, head_b = m.headline(), b.headline()
    assert np.allclose(table["B − A"].to_numpy(float)[:len(COMPARED)],
                       [head_b[k] - head_a[k] for k in COMPARED], atol=1e-12)
    assert str(a) not in captions(at)  # names, not paths


def test_the_sample_button_opens_the_rows_in_memory_where_cleanlab_runs(files):
    at = open_page("pages/errors.py")
    at.button(key="err_sample").click().run()
    assert not at.exception, at.exception
    assert "Engine: duckdb" not in captions(at, at.sidebar)
    assert "sample of 300 rows" in captions(at, at.sidebar) + " ".join(str(e.proto) for e in at.sidebar)
    at.segmented_control(key="err_ml_gallery").set_value("label_issues").run()
    assert not at.exception, at.exception
    assert "not available on the duckdb engine" not in captions(at)


def test_the_review_queue_walks_a_concepts_false_positives_on_the_engine(files):
    m = files[2]
    c = m.classes.index("owl")
    at = open_page("pages/review.py")
    at.segmented_control(key="review_ml_set").set_value("fp").run()
    at.selectbox(key="review_concept").set_value(c).run()
    assert not at.exception, at.exception
    fp = int(m.per_class["fp"][c])
    assert f"0 / {fp} reviewed · sample 1 of {fp}" in str(at.get_by_key("review_ml_progress").proto) or \
        any(f"0 / {fp} reviewed" in str(p.proto) for p in at.get("progress"))
    first = str(m.label_sets(m.concept_errors(c, "fp")[:1])["id"][0])
    facts = at.get_by_key("review_ml_facts").dataframe[0].value
    assert facts["value"].iloc[0] == first


def test_tags_filter_a_concepts_gallery_and_make_review_sets_on_the_engine(files):
    from evaldash.annotations import AnnotationStore
    from evaldash.ui.findings_store import fingerprint
    from evaldash.ui.sources import load, start_source

    m = files[2]
    d = m.dataset
    c = m.classes.index("cat")
    tagged = np.arange(1, d.n, 3)
    mask = np.zeros(d.n, dtype=bool)
    mask[tagged] = True
    store = AnnotationStore(None)
    fp = fingerprint(load(start_source()))
    store.record_many([{"dataset": fp, "sample_id": str(d.ids[r]), "annotator": "a", "kind": "tag",
                        "value": "blurry", "created_at": None} for r in tagged])
    at = open_page("pages/errors.py", concept="cat", gallery="fp")
    at.multiselect(key="error_gallery_tags").set_value(["blurry"]).run()
    assert not at.exception, at.exception
    want = m.concept_errors(c, "fp")
    want = want[mask[want]]
    gallery = at.get_by_key("error_gallery")
    assert captions(at, gallery).startswith(f"{len(want)} images tagged blurry")
    assert [img.captions[0].split(" · ")[0] for img in gallery.image] == [str(d.ids[r]) for r in want[:24]]
    assert "tag filter" not in captions(at)

    at = open_page("pages/review.py")
    at.segmented_control(key="review_ml_set").set_value("tagged").run()
    assert not at.exception, at.exception
    assert any(f"0 / {len(tagged)} reviewed" in str(p.proto) for p in at.get("progress"))
    assert at.get_by_key("review_ml_facts").dataframe[0].value["value"].iloc[0] == str(d.ids[tagged[0]])  # file order
    assert "a tag's samples" not in captions(at)
    listed = [str(d.ids[r]) for r in (7, 3, 250, 11)] + ["not an id"]  # reviewed in the list's order
    at.segmented_control(key="review_ml_set").set_value("ids").run()
    at.file_uploader(key="review_ml_ids").set_value(("ids.txt", "\n".join(listed).encode(), "text/plain")).run()
    assert not at.exception, at.exception
    assert "ids.txt: 1 of the 5 ids are not in this file" in at.warning[0].value.replace("\\", "")
    assert any("0 / 4 reviewed" in str(p.proto) for p in at.get("progress"))
    assert at.get_by_key("review_ml_facts").dataframe[0].value["value"].iloc[0] == listed[0]
    at.text_input(key="annotator").set_value("ann").run()
    at.button(key="review_ml_reviewed").click().run()
    assert not at.exception, at.exception
    assert at.get_by_key("review_ml_facts").dataframe[0].value["value"].iloc[0] == listed[1]
    assert any("1 / 4 reviewed" in str(p.proto) for p in at.get("progress"))


def test_a_slice_shows_on_every_page_from_the_engine(files):
    from evaldash.multilabel_slices import multilabel_slice_evaluation
    from evaldash.report import fmt
    from evaldash.slices import slice_rows

    m = files[2]
    sliced = multilabel_slice_evaluation(m, slice_rows(m.dataset, "site", "north"))
    assert 0 < sliced.dataset.n < m.dataset.n
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["slice_by"], at.query_params["slice"] = "site", "north"
    at.run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    assert f"{sliced.dataset.n} samples · 4 classes · multi-label" in captions(at, at.sidebar)
    head = sliced.headline()
    assert {x.label: x.value for x in at.metric}["Samples F1"] == fmt(head["samples_f1"]) != fmt(m.headline()["samples_f1"])
    i, j = m.classes.index("cat"), m.classes.index("owl")
    at.query_params["true"], at.query_params["pred"] = "cat", "owl"
    at.switch_page("pages/confusion.py").run()
    assert not at.exception, at.exception
    want = [str(s) for s in sliced.label_sets(sliced.cell_samples(i, j))["id"]]
    gallery = at.get_by_key("cell_gallery")
    assert captions(at, gallery).startswith(f"{len(want)} images")
    assert [img.captions[0].split(" · ")[0] for img in gallery.image] == want[:24]
    at.switch_page("pages/slices.py").run()
    assert not at.exception, at.exception
    assert "Every page now shows only" in at.success[0].value and "not available on" not in captions(at)


def test_corrected_label_sets_on_the_engine_are_the_memory_path_ones(files):
    from evaldash.annotations import AnnotationStore
    from evaldash.multilabel_corrections import corrected_evaluation, label_set_value
    from evaldash.report import fmt
    from evaldash.ui.findings_store import fingerprint
    from evaldash.ui.sources import load, start_source

    m = files[2]
    d, names = m.dataset, np.asarray(m.classes)
    pred = np.asarray(m.y_pred)
    wrong = np.flatnonzero((d.y_true != pred).any(axis=1))[:40]
    corrections = {str(d.ids[r]): label_set_value(names[pred[r]], m.classes) for r in wrong}
    store = AnnotationStore(None)
    fp = fingerprint(load(start_source()))
    for sid, value in corrections.items():
        store.record(fp, sid, "ann", "label", value)
    fixed, info = corrected_evaluation(m, corrections)
    at = open_page()
    at.toggle(key="use_corrected").set_value(True).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    cards = {x.label: x.value for x in at.metric}
    assert cards["Samples F1"] == fmt(fixed.headline()["samples_f1"]) != fmt(m.headline()["samples_f1"])
    assert (f"40 labels corrected; {info['mistakes_were_label_errors']} former mistakes were label errors"
            in captions(at, at.sidebar))
    at.toggle(key="use_corrected").set_value(False).run()
    assert {x.label: x.value for x in at.metric}["Samples F1"] == fmt(m.headline()["samples_f1"])


def test_every_page_runs_on_a_slice_with_corrected_label_sets(files):
    from evaldash.annotations import AnnotationStore
    from evaldash.multilabel_corrections import corrected_evaluation, label_set_value
    from evaldash.multilabel_slices import multilabel_slice_evaluation
    from evaldash.slices import slice_rows
    from evaldash.ui.findings_store import fingerprint
    from evaldash.ui.sources import load, start_source

    m = files[2]
    d, names = m.dataset, np.asarray(m.classes)
    pred = np.asarray(m.y_pred)
    store = AnnotationStore(None)
    fp = fingerprint(load(start_source()))
    corrections = {str(d.ids[r]): label_set_value(names[pred[r]], m.classes) for r in range(0, 60, 3)}
    for sid, value in corrections.items():
        store.record(fp, sid, "ann", "label", value)
    state = store.state(fp)  # with those an earlier test of the module stored
    corrections = {str(k): v for k, v in state["corrected_label"].items() if v}
    rows = slice_rows(d, "site", "north")
    _, info = corrected_evaluation(multilabel_slice_evaluation(m, rows), corrections)  # those within the slice
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["slice_by"], at.query_params["slice"] = "site", "north"
    at.run()
    at.toggle(key="use_corrected").set_value(True).run()
    assert 0 < info["corrected"] < len(corrections)
    assert (f"{info['corrected']} labels corrected; {info['mistakes_were_label_errors']} former mistakes were label "
            f"errors") in captions(at, at.sidebar)
    n = len(rows)
    for page in PAGES:
        at.switch_page(page).run()
        assert not at.exception, (page, at.exception)
        assert not at.error, (page, [e.value for e in at.error])
        assert f"{n} samples · 4 classes · multi-label" in captions(at, at.sidebar), page
