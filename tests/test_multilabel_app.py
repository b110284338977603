"""AppTest checks of the dashboard on the multi-label (concept) sample: every page runs or says in
one line why it does not apply. Expected numbers come from the Streamlit-free core
(``evaldash.tasks``), never from the app."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from evaldash.tasks import evaluate_dataset, load_dataset

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
CONCEPTS = ROOT / "sample_data" / "digits" / "concepts.csv"
PAGES = ["pages/overview.py", "pages/confusion.py", "pages/threshold.py", "pages/errors.py", "pages/review.py",
         "pages/runs.py", "pages/compare.py", "pages/slices.py", "pages/decision.py", "pages/calibration.py"]
TIMEOUT = 60


@pytest.fixture(autouse=True)
def concepts_app(monkeypatch, tmp_path):
    """The app started on the concept sample (``serve concepts.csv``), a fresh annotation database."""
    monkeypatch.setattr(sys, "argv", ["app.py", str(CONCEPTS)])
    monkeypatch.delenv("EVALDASH_PREDICTIONS", raising=False)
    monkeypatch.setenv("EVALDASH_DB", str(tmp_path / "annotations.db"))
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def core():
    return evaluate_dataset(load_dataset(CONCEPTS))


def open_page(page: str = "pages/overview.py") -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    if page != "pages/overview.py":
        at.switch_page(page).run()
        assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_on_the_concept_sample(page):
    at = open_page(page)
    assert not at.error, [e.value for e in at.error]


def test_the_concept_sample_is_a_bundled_sample():
    from evaldash.ui.sources import SAMPLES

    assert CONCEPTS in SAMPLES.values()


def test_serve_passes_the_reading_options_to_the_app(monkeypatch, tmp_path):
    import os

    from evaldash.cli import main

    import pandas as pd

    calls = []
    monkeypatch.setattr(os, "execv", lambda exe, cmd: calls.append(cmd))
    rule = tmp_path / "thresholds.json"
    rule.write_text("{}")
    frame = pd.read_csv(CONCEPTS, dtype=str, keep_default_na=False)  # serve reads it with ";" first
    frame["labels"] = frame["labels"].str.replace("|", ";")
    semicolons = tmp_path / "concepts.csv"
    frame.to_csv(semicolons, index=False)
    assert main(["serve", str(semicolons), "--task", "multilabel", "--label-sep", ";", "--threshold", "0.3",
                 "--thresholds", str(rule)]) == 0
    after = calls[0][calls[0].index("--") + 1:]
    assert after[:1] == [str(semicolons.resolve())]
    assert after[after.index("--task") + 1] == "multilabel"
    assert "--label-sep=;" in after
    assert after[after.index("--threshold") + 1] == "0.3"
    assert after[after.index("--thresholds") + 1] == str(rule.resolve())


def test_the_app_reads_a_file_with_the_task_separator_and_threshold_given(monkeypatch, tmp_path):
    import pandas as pd

    from evaldash.ui.sources import load, start_source

    frame = pd.read_csv(CONCEPTS, dtype=str, keep_default_na=False)
    frame["labels"] = frame["labels"].str.replace("|", ";")
    path = tmp_path / "semicolons.csv"
    frame.drop(columns=["image"]).to_csv(path, index=False)
    monkeypatch.setattr(sys, "argv", ["app.py", str(path), "--label-sep", ";", "--threshold", "0.3"])
    ev = load(start_source())
    expected = evaluate_dataset(load_dataset(path, label_sep=";"), threshold=0.3)
    assert ev.task == "multilabel"
    assert ev.thresholds.tolist() == [0.3] * 4
    assert ev.headline() == pytest.approx(expected.headline(), nan_ok=True)
    assert ev.headline()["samples_f1"] != core().headline()["samples_f1"]


def test_serve_concepts_opens_them_as_multi_label():
    at = open_page()
    sidebar = " ".join(c.value for c in at.sidebar.caption)
    assert f"{core().dataset.n:,} samples · 4 classes · multi-label" in sidebar


def test_overview_shows_the_cores_headline_cards_table_and_averages():
    ev = core()
    head = ev.headline()
    at = open_page()
    cards = {m.label: m.value for m in at.metric}
    assert cards == {"Samples": f"{ev.dataset.n:,}", "Classes": "4", "Subset accuracy": f"{head['subset_accuracy']:.3f}",
                     "Samples F1": f"{head['samples_f1']:.3f}", "Macro ROC AUC": f"{head['macro_roc_auc']:.3f}",
                     "Label cardinality": f"{head['label_cardinality']:.2f}"}
    table = at.dataframe(key="class_table").value
    expected = ev.per_class_table()
    assert list(table["concept"]) == list(ev.classes)
    for ours, theirs in (("precision", "precision"), ("recall", "recall"), ("F1", "f1"), ("support", "support"),
                         ("FN", "fn"), ("FP", "fp"), ("ROC AUC", "roc_auc"), ("threshold", "threshold")):
        assert table[ours].tolist() == pytest.approx(expected[theirs].tolist()), ours
    averages = at.dataframe[1].value  # the averages, then the other metrics
    for avg in ("micro", "macro", "weighted", "samples"):
        assert averages[avg].tolist() == pytest.approx([ev.averages[avg][m] for m in ("precision", "recall", "f1")])
    metrics = at.dataframe[2].value.set_index("metric")["value"]
    assert metrics["Hamming loss"] == f"{head['hamming_loss']:.4f}"


def test_a_selected_concept_links_to_its_matrix_cell_mistakes_and_threshold():
    ev = core()
    at = open_page()
    at.session_state["class_table"] = {"selection": {"rows": [1], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, at.exception
    name = ev.classes[1]
    text = " ".join(t.value for t in at.text)
    assert f"Concept {name}:" in text
    fn = int(ev.per_class["fn"][1])
    assert any(f"false negatives ({fn})" in str(e.proto) for e in at.get("page_link"))


def payload(at: AppTest, key: str) -> dict:
    """The data the page sent to the custom component ``key``."""
    import json

    [el] = [e for e in at.get("bidi_component") if e.proto.id.endswith(f"-{key}")]
    return json.loads(el.proto.mixed.json if el.proto.HasField("mixed") else el.proto.json)


def images_count(caption: str) -> int:
    return int(caption.split(" images")[0].replace(",", ""))


def test_the_concept_matrix_is_the_cores_with_its_no_label_row_and_no_prediction_column():
    ev = core()
    at = open_page("pages/confusion.py")
    grid = payload(at, "confusion_matrix")
    view = ev.matrix("counts")
    assert grid["counts"] == view.counts.tolist()
    assert grid["labels"] == [*ev.classes, "(no label)"] and grid["columns"] == [*ev.classes, "(no prediction)"]
    for mode in ev.matrix_modes:
        at.segmented_control(key="cm_mode").set_value(mode).run()
        assert not at.exception, (mode, at.exception)
        grid = payload(at, "confusion_matrix")
        assert grid["counts"] == ev.matrix(mode).counts.tolist(), mode
        assert len(grid["text"][0]) == len(ev.matrix(mode).columns), mode


def test_a_concept_matrix_deep_link_shows_exactly_that_cells_samples_with_their_label_sets():
    ev = core()
    i, j = ev.classes.index("even"), ev.classes.index("prime")
    expected = ev.cell_samples(i, j)
    assert len(expected) > 0
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    at.query_params["true"] = "even"
    at.query_params["pred"] = "prime"
    at.switch_page("pages/confusion.py").run()
    assert not at.exception, at.exception
    gallery = at.get_by_key("cell_gallery")
    assert images_count(gallery.caption[0].value) == len(expected)
    captions = [img.captions[0] for img in gallery.image]
    sets = ev.label_sets(expected[:len(captions)])
    assert [c.split(" · ")[0] for c in captions] == list(sets["id"])
    from evaldash.ui.text import md  # captions are Markdown: the label sets are escaped

    assert captions[0].endswith(md(f"true {{{sets['true'][0]}}} → {{{sets['predicted'][0]}}}"))
    assert payload(at, "confusion_matrix")["selected"] == [i, j]
    assert at.query_params["true"] == "even" and at.query_params["pred"] == "prime"


def test_a_concepts_false_negatives_are_one_click_away():
    ev = core()
    c = ev.classes.index("prime")
    at = open_page("pages/confusion.py")
    at.button(key=f"concept_errors_fn_{c}").click().run()
    assert not at.exception, at.exception
    expected = ev.concept_errors(c, "fn")
    gallery = at.get_by_key("cell_gallery")
    assert images_count(gallery.caption[0].value) == len(expected) == ev.per_class["fn"][c]
    ids = [img.captions[0].split(" · ")[0] for img in gallery.image]
    assert ids == [str(s) for s in ev.label_sets(expected[:len(ids)])["id"]]
    assert at.query_params["concept"] == "prime" and at.query_params["errors"] == "fn"
    at.button(key=f"concept_errors_fp_{c}").click().run()
    gallery = at.get_by_key("cell_gallery")
    assert images_count(gallery.caption[0].value) == len(ev.concept_errors(c, "fp"))


def threshold_page(**link) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    for k, v in link.items():
        at.query_params[k] = v
    at.switch_page("pages/threshold.py").run()
    assert not at.exception, at.exception
    return at


def sample_metric_cards(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.get_by_key("concept_sample_metrics").metric}


def test_a_concept_threshold_deep_link_sends_the_cores_live_counts_and_sample_metrics():
    import numpy as np

    ev = core()
    c = ev.classes.index("even")
    at = threshold_page(**{"class": "even", "t": "0.4"})
    assert at.selectbox(key="class_select").value == c
    live = payload(at, "threshold")
    assert live["t"] == 0.4
    expected_live = ev.live_threshold(c, 0.4)
    metrics = payload(at, "threshold_metrics")
    assert metrics["class_name"] == "even" and metrics["n_pos"] == expected_live["n_pos"]
    thresholds = np.full(4, 0.5)
    thresholds[c] = 0.4
    after, before = ev.with_thresholds(thresholds).headline(), ev.headline()
    assert after["samples_f1"] != before["samples_f1"]
    assert sample_metric_cards(at) == {"Subset accuracy": f"{after['subset_accuracy']:.3f}",
                                       "Samples F1": f"{after['samples_f1']:.3f}",
                                       "Hamming loss": f"{after['hamming_loss']:.3f}"}
    table = at.get_by_key("concept_thresholds").dataframe[0].value
    expected = ev.with_thresholds(thresholds).thresholds_table()
    assert table["threshold"].tolist() == thresholds.tolist()
    assert table["precision"].tolist() == pytest.approx(expected["precision"].tolist())
    assert table["recall"].tolist() == pytest.approx(expected["recall"].tolist())
    assert at.query_params["class"] == "even" and at.query_params["t"] == "0.4"


def test_each_concept_keeps_its_threshold_and_the_file_to_save_has_them_all():
    import numpy as np

    ev = core()
    even, prime = ev.classes.index("even"), ev.classes.index("prime")
    at = threshold_page(**{"class": "even"})
    at.session_state["threshold_t"] = 0.3  # what releasing the slider at 0.3 does
    at.run()
    at.selectbox(key="class_select").set_value(prime).run()
    assert not at.exception, at.exception
    assert at.session_state["threshold_t"] == 0.5  # prime starts at its own threshold
    at.session_state["threshold_t"] = 0.7
    at.run()
    thresholds = np.full(4, 0.5)
    thresholds[even], thresholds[prime] = 0.3, 0.7
    after = ev.with_thresholds(thresholds).headline()
    assert sample_metric_cards(at)["Subset accuracy"] == f"{after['subset_accuracy']:.3f}"
    assert sample_metric_cards(at)["Hamming loss"] == f"{after['hamming_loss']:.3f}"
    at.selectbox(key="class_select").set_value(even).run()
    assert at.session_state["threshold_t"] == 0.3  # even kept its own
    [download] = [e for e in at.get("download_button") if "thresholds" in e.proto.label]
    assert download.proto.label == "Download the thresholds (JSON)"


def _details_page(path: str, row: int):
    import streamlit as st

    from evaldash import ui
    from evaldash.tasks import evaluate_dataset, load_dataset

    st.session_state["_annotator"] = "ann"
    ui.findings_form(evaluate_dataset(load_dataset(path)), row)


def test_the_findings_form_saves_a_corrected_label_set_and_the_switch_recomputes_everything():
    import numpy as np

    from evaldash.annotations import AnnotationStore
    from sklearn.metrics import accuracy_score, f1_score

    ev = core()
    d = ev.dataset
    row = int(np.flatnonzero(~d.y_true[:, d.classes.index("prime")] & ev.y_pred[:, d.classes.index("prime")])[0])
    given = [c for c, on in zip(d.classes, d.y_true[row]) if on]
    form = AppTest.from_function(_details_page, args=(str(CONCEPTS), row), default_timeout=TIMEOUT)
    form.run()
    assert not form.exception, form.exception
    assert form.button_group(key=f"findings_label_{row}").value == given
    form.button_group(key=f"findings_label_{row}").select("prime")  # the concept the labels miss
    form.button(key=f"findings_save_{row}").click().run()
    assert not form.exception, form.exception
    stored = AnnotationStore(None).state(d.fingerprint())
    wanted = [c for c in d.classes if c in {*given, "prime"}]
    assert parse(stored.loc[str(d.ids[row]), "corrected_label"]) == wanted
    form.run()
    assert form.button_group(key=f"findings_label_{row}").value == wanted  # shown again as saved

    at = open_page()
    at.toggle(key="use_corrected").set_value(True).run()
    assert not at.exception, at.exception
    y = d.y_true.copy()
    y[row, d.classes.index("prime")] = True
    cards = {m.label: m.value for m in at.metric}
    assert cards["Subset accuracy"] == f"{accuracy_score(y, ev.y_pred):.3f}"
    assert cards["Samples F1"] == f"{f1_score(y, ev.y_pred, average='samples', zero_division=0):.3f}"
    assert "1 label changed" in at.info[0].value
    at.switch_page("pages/confusion.py").run()
    assert not at.exception, at.exception
    from evaldash.multilabel_corrections import corrected_evaluation

    fixed, _ = corrected_evaluation(ev, {str(d.ids[row]): stored.loc[str(d.ids[row]), "corrected_label"]})
    assert payload(at, "confusion_matrix")["counts"] == fixed.matrix("counts").counts.tolist()
    assert fixed.matrix("counts").counts.tolist() != ev.matrix("counts").counts.tolist()


def parse(value):
    from evaldash.multilabel_corrections import parse_label_set

    return parse_label_set(value)


def test_errors_page_shows_a_concepts_mistakes_and_the_suspected_label_errors():
    ev = core()
    c = ev.classes.index("closed_loop")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    at.query_params["concept"] = "closed_loop"
    at.query_params["gallery"] = "fp"
    at.switch_page("pages/errors.py").run()
    assert not at.exception, at.exception
    gallery = at.get_by_key("error_gallery")
    expected = ev.concept_errors(c, "fp")
    assert images_count(gallery.caption[0].value) == len(expected)
    ids = [img.captions[0].split(" · ")[0] for img in gallery.image]
    assert ids == [str(s) for s in ev.label_sets(expected[:len(ids)])["id"]]
    at.segmented_control(key="err_ml_gallery").set_value("label_issues").run()
    assert not at.exception, at.exception
    issues = ev.label_issues()["table"]
    table = at.get_by_key("label_issues_table").dataframe[0].value
    assert list(table["id"]) == [str(s) for s in issues["id"][:500]]
    assert images_count(at.get_by_key("error_gallery").caption[0].value) == issues["row"].nunique()


def write_weaker(folder: Path) -> Path:
    """The concept sample with noisier scores (the same ids and concepts: a paired comparison)."""
    import numpy as np
    import pandas as pd

    frame = pd.read_csv(CONCEPTS, dtype={"labels": str}, keep_default_na=False)
    rng = np.random.default_rng(3)
    for col in [c for c in frame.columns if c.startswith("score_")]:
        frame[col] = np.clip(frame[col] + rng.normal(0, 0.25, len(frame)), 0, 1)
    path = folder / "concepts_weaker.csv"
    frame.drop(columns=["image"]).to_csv(path, index=False)
    return path


def test_slices_runs_and_compare_show_the_multi_label_metrics(monkeypatch, tmp_path):
    from evaldash.multilabel_compare import compare_multilabel
    from evaldash.multilabel_slices import multilabel_slice_table

    weaker = write_weaker(tmp_path)
    monkeypatch.setattr(sys, "argv", ["app.py", str(CONCEPTS), str(weaker)])
    a, b = core(), evaluate_dataset(load_dataset(weaker))
    at = open_page("pages/slices.py")
    at.selectbox(key="slice_column").set_value("stroke").run()
    assert not at.exception, at.exception
    table = at.get_by_key("concept_slices").dataframe[0].value
    expected = multilabel_slice_table(a, "stroke")
    assert list(table["slice"]) == list(expected["slice"])
    assert table["samples_f1"].tolist() == pytest.approx(expected["samples_f1"].tolist())

    at.switch_page("pages/runs.py").run()
    assert not at.exception, at.exception
    runs = at.dataframe[0].value  # the runs table (a data editor)
    assert runs["accuracy"].tolist() == pytest.approx([a.subset_accuracy, b.subset_accuracy])
    assert runs["samples F1"].tolist() == pytest.approx([a.headline()["samples_f1"], b.headline()["samples_f1"]])

    at.switch_page("pages/compare.py").run()
    assert not at.exception, at.exception
    heads = at.get_by_key("concept_compare_headline").dataframe[0].value.set_index("metric")
    result = compare_multilabel(a, b)
    assert heads.loc["samples F1", "B − A"] == pytest.approx(result["delta"]["samples_f1"])
    assert heads.loc["subset accuracy", "95% interval"] == "[{:+.3f}, {:+.3f}]".format(*result["intervals"]["subset_accuracy"])
    assert any(f"B fixes {result['fixed']:,} exact matches and breaks {result['broken']:,}" in c.value
               for c in at.caption)


def test_decision_acts_on_one_concept_with_its_own_labels():
    from evaldash import decision as dc

    ev = core()
    c = ev.classes.index("prime")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    at.query_params["class"] = "prime"
    at.query_params["t"] = "0.4"
    at.switch_page("pages/decision.py").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="class_select").value == c
    at.number_input(key="dec_from").set_value(0.6).run()
    assert not at.exception, at.exception
    counts = dc.flips(ev.dataset.scores[:, c], ev.dataset.y_true[:, c], 0.6, 0.4).counts
    assert counts["new_tp"] > 0
    shown = " ".join(m.value for m in at.markdown)
    assert (f"**{counts['new_tp']:,}** new true positives · **{counts['new_fp']:,}** new false positives"
            in shown)
    measured = dc.measured_prevalence(ev.sweep(c))
    assert at.number_input(key=f"dec_prevalence_{c}").value == pytest.approx(round(measured * 100, 4))


def test_calibration_is_per_concept():
    from evaldash.multilabel_calibration import concept_calibration

    ev = core()
    c = ev.classes.index("even")
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    at.query_params["class"] = "even"
    at.switch_page("pages/calibration.py").run()
    assert not at.exception, at.exception
    cal = concept_calibration(ev, c)
    spec = payload(at, "reliability_chart")
    assert spec["title"] == f"Reliability diagram (ECE {cal['ece']:.3f})"
    assert spec["x_label"] == "score of even"
    assert f"Brier score {cal['brier']:.4f}" in " ".join(x.value for x in at.caption)
    b = int(np.argmax(cal["bins"]["count"]))
    at.session_state["reliability_bin"] = b
    at.run()
    gallery = at.get_by_key("concept_bin_gallery")
    assert images_count(gallery.caption[0].value) == cal["bins"]["count"][b]


def test_the_review_queue_walks_a_concepts_false_positives_with_the_label_set_form():
    ev = core()
    c = ev.classes.index("prime")
    rows = ev.concept_errors(c, "fp")
    at = open_page("pages/review.py")
    at.segmented_control(key="review_ml_set").set_value("fp").run()
    at.selectbox(key="review_concept").set_value(c).run()
    assert not at.exception, at.exception
    assert f"Sample 1 of {len(rows):,}" in [x.value for x in at.caption]
    facts = at.get_by_key("review_ml_facts").dataframe[0].value
    assert facts["value"].tolist()[0] == str(ev.dataset.ids[rows[0]])
    at.button(key="review_ml_next").click().run()
    facts = at.get_by_key("review_ml_facts").dataframe[0].value
    assert facts["value"].tolist()[0] == str(ev.dataset.ids[rows[1]])
    sets = ev.label_sets(rows[1:2])
    assert facts["value"].tolist()[1:] == [sets["true"][0] or "∅", sets["predicted"][0] or "∅"]
    assert at.button_group(key=f"findings_label_{int(rows[1])}").value == [
        n for n, on in zip(ev.classes, ev.dataset.y_true[rows[1]]) if on]


def test_a_samples_scores_show_every_concept_it_carries_or_is_predicted(tmp_path):
    import pandas as pd

    from evaldash.ui.sample_details import SCORES_SHOWN, sample_scores

    k = SCORES_SHOWN + 5
    names = [f"c{i:02d}" for i in range(k)]
    scores = np.linspace(0.9, 0.05, k)
    frame = pd.DataFrame({"id": ["a"], "labels": ["c14"], **{f"score_{n}": [s] for n, s in zip(names, scores)}})
    path = tmp_path / "many.csv"
    frame.to_csv(path, index=False)
    ev = evaluate_dataset(load_dataset(path))
    table = sample_scores(ev, 0)
    assert list(table["class"]) == [*names[:SCORES_SHOWN], "c14"]
    assert list(table["is"])[:5] == ["predicted"] * 5 and table["is"].iloc[-1] == "true"
    assert table["score"].tolist() == pytest.approx([*scores[:SCORES_SHOWN], scores[14]])


def test_the_overviews_quality_gates_check_the_multi_label_metrics(monkeypatch, tmp_path):
    import json

    gates = tmp_path / "gates.json"
    gates.write_text(json.dumps({"min": {"samples_f1": 0.5, "f1[prime]": 0.99}, "max": {"hamming_loss": 0.3}}))
    monkeypatch.setattr(sys, "argv", ["app.py", str(CONCEPTS), "--gates", str(gates)])
    ev = core()
    head = ev.headline()
    at = open_page()
    shown = at.dataframe[-1].value
    assert list(shown["gate"]) == ["samples_f1", "f1[prime]", "hamming_loss"]
    prime = ev.per_class["f1"][ev.classes.index("prime")]
    assert list(shown["value"]) == [f"{head['samples_f1']:.4f}", f"{prime:.4f}", f"{head['hamming_loss']:.4f}"]
    assert list(shown["result"]) == ["pass", "FAIL", "pass"]
    assert at.error[0].value == "2 of 3 gates pass"



def test_a_single_label_file_with_a_tags_column_stays_single_label():
    from evaldash.multilabel_data import detect_task

    assert detect_task(["id", "label", "prediction", "tags"]) == "single"
    assert detect_task(["id", "label", "concepts", "score_a"]) == "single"
    assert detect_task(["id", "tags", "score_a"]) == "multilabel"
