"""AppTest checks that every view is a link: the slice, the confusion mode and class order, and
/decision's inputs are in the URL, and a URL opened in a new session shows the same view; a saved
decision record opens back into /decision. Expected values come from the core, not the app."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from evaldash import decision as dc
from evaldash.dataset import load_predictions
from evaldash.evaluation import evaluate
from evaldash.matrix import class_order
from evaldash.slices import slice_rows

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
SAMPLE = ROOT / "sample_data" / "digits" / "predictions.csv"
TIMEOUT = 60


pytestmark = pytest.mark.usefixtures("clean_app")  # tests/conftest.py: no start file, a fresh database


def session(query: dict[str, str] | None = None, page: str | None = None) -> AppTest:
    """A new session (a new tab) opened on ``page`` with the URL's ``query``."""
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params.update(query or {})
    at.run()  # the start page (the overview) first: AppTest cannot open another one directly
    assert not at.exception, at.exception
    if page is not None and page != "pages/overview.py":
        at.query_params.clear()
        at.query_params.update(query or {})
        goto(at, page)
    return at


def goto(at: AppTest, page: str) -> AppTest:
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def matrix_payload(at: AppTest) -> dict:
    [el] = [e for e in at.get("bidi_component") if e.proto.id.endswith("-confusion_matrix")]
    return json.loads(el.proto.mixed.json if el.proto.HasField("mixed") else el.proto.json)


def url(at: AppTest) -> dict[str, str]:
    return {k: at.query_params[k] for k in at.query_params}


def test_a_chosen_slice_is_in_the_url_and_a_new_session_shows_it():
    ds = load_predictions(str(SAMPLE))
    n_thin = len(slice_rows(ds, "stroke", "thin"))
    assert 0 < n_thin < ds.n
    at = session(page="pages/slices.py")
    at.session_state["_slice"] = ("stroke", "thin")  # as a selected row of the slices table does
    run(at)
    assert url(at)["slice_by"] == "stroke" and url(at)["slice"] == "thin"
    link = url(at)
    # the same URL in a new session: the same slice, on the slices page and on every other page
    fresh = session(link, "pages/slices.py")
    assert fresh.session_state["_slice"] == ("stroke", "thin")
    assert fresh.selectbox(key="slice_column").value == "stroke"
    assert any(f"{n_thin:,} samples" in s.value for s in fresh.success)
    fresh = session(link, "pages/overview.py")
    assert any(f"{n_thin:,} samples" in c.value for c in fresh.sidebar.caption)
    assert url(fresh)["slice"] == "thin"
    # clearing the slice clears the URL
    fresh.button(key="clear_slice").click()
    run(fresh)
    assert "slice" not in url(fresh) and "slice_by" not in url(fresh)


def test_a_link_to_a_slice_the_file_lacks_shows_everything():
    ds = load_predictions(str(SAMPLE))
    at = session({"slice_by": "stroke", "slice": "no such stroke"}, "pages/overview.py")
    assert at.session_state["_slice"] is None
    assert any(f"{ds.n:,} samples" in c.value for c in at.sidebar.caption)
    assert "slice" not in url(at)


def test_confusion_mode_and_order_are_in_the_url_and_restored():
    at = session(page="pages/confusion.py")
    assert "mode" not in url(at) and "order" not in url(at)  # the defaults make no parameters
    at.segmented_control(key="cm_mode").set_value("true")
    run(at)
    at.segmented_control(key="cm_order").set_value("errors")
    run(at)
    link = url(at)
    assert link["mode"] == "true" and link["order"] == "errors"
    fresh = session(link, "pages/confusion.py")
    assert fresh.segmented_control(key="cm_mode").value == "true"
    assert fresh.segmented_control(key="cm_order").value == "errors"
    grid = matrix_payload(fresh)
    ev = evaluate(load_predictions(str(SAMPLE)))
    errors_first = [ev.dataset.classes[i] for i in class_order(ev.counts, "errors")]
    assert errors_first != list(ev.dataset.classes)  # the order really differs from the file's
    assert grid["labels"] == errors_first and grid["mode"] == "true"
    assert url(fresh)["mode"] == "true" and url(fresh)["order"] == "errors"


def test_confusion_link_with_unknown_mode_and_order_keeps_the_defaults():
    at = session({"mode": "nonsense", "order": "<b>"}, "pages/confusion.py")
    assert at.segmented_control(key="cm_mode").value == "counts"
    assert at.segmented_control(key="cm_order").value == "file"


def test_decision_inputs_are_in_the_url_and_restored():
    at = session({"class": "8"}, "pages/decision.py")
    assert not {"share", "cost_fp", "cost_fn", "value_tp", "per_day"} & set(url(at))
    at.number_input(key="dec_prevalence_8").set_value(2.5)
    run(at)
    at.number_input(key="dec_cost_fp").set_value(3.0)
    run(at)
    at.number_input(key="dec_cost_fn").set_value(40.0)
    run(at)
    at.number_input(key="dec_volume").set_value(5000.0)
    run(at)
    link = url(at)
    assert (link["share"], link["cost_fp"], link["cost_fn"], link["per_day"]) == ("2.5", "3", "40", "5000")
    assert "value_tp" not in link
    fresh = session(link, "pages/decision.py")
    assert fresh.selectbox(key="class_select").value == 8
    assert fresh.number_input(key="dec_prevalence_8").value == pytest.approx(2.5)
    assert fresh.number_input(key="dec_cost_fp").value == 3.0
    assert fresh.number_input(key="dec_cost_fn").value == 40.0
    assert fresh.number_input(key="dec_value_tp").value == 0.0
    assert fresh.number_input(key="dec_volume").value == 5000.0
    summary = " ".join(m.value for m in fresh.get_by_key("dec_summary").markdown)
    assert "2.50% 8" in summary and "Per day at 5,000 items" in summary


def test_open_a_saved_record_restores_its_class_threshold_and_inputs(tmp_path):
    at = session(page="pages/decision.py")
    at.selectbox(key="class_select").set_value(3)
    run(at)
    at.session_state["threshold_t"] = 0.7
    run(at)
    for key, value in (("dec_prevalence_3", 1.25), ("dec_cost_fp", 2.0), ("dec_cost_fn", 30.0),
                       ("dec_value_tp", 0.5), ("dec_volume", 12000.0)):
        at.number_input(key=key).set_value(value)
        run(at)
    at.text_input(key="dec_approver").input("Dana")
    run(at)
    at.button(key="dec_save").click()
    run(at)
    assert any("Saved" in s.value for s in at.success)

    fresh = session(page="pages/decision.py")  # a new session: the defaults beside the record
    assert fresh.selectbox(key="class_select").value == 0
    assert fresh.selectbox(key="dec_record_pick").options[0].endswith("class 3 at 0.7")
    fresh.button(key="dec_open_record").click()
    run(fresh)
    assert fresh.selectbox(key="class_select").value == 3
    assert fresh.session_state["threshold_t"] == pytest.approx(0.7)
    assert fresh.number_input(key="dec_prevalence_3").value == pytest.approx(1.25)
    assert fresh.number_input(key="dec_cost_fp").value == 2.0
    assert fresh.number_input(key="dec_cost_fn").value == 30.0
    assert fresh.number_input(key="dec_value_tp").value == 0.5
    assert fresh.number_input(key="dec_volume").value == 12000.0
    link = url(fresh)
    assert (link["class"], link["t"], link["share"], link["cost_fn"], link["per_day"]) == \
        ("3", "0.7", "1.25", "30", "12000")
    assert any("Opened the record" in s.value for s in fresh.success)


# --- the pure part: inputs ↔ URL parameters ----------------------------------------------------

def test_inputs_query_names_only_what_differs_from_the_defaults():
    default = dc.DeploymentInputs(0.1)
    assert dc.inputs_query(default, 10.0) == dict.fromkeys(dc.QUERY_INPUTS)
    typed = dc.DeploymentInputs(0.025, cost_fp=2, cost_fn=1, value_tp=0.5, volume_per_day=1e6)
    assert dc.inputs_query(typed, 10.0) == {"share": "2.5", "cost_fp": "2", "cost_fn": None, "value_tp": "0.5",
                                           "per_day": "1000000"}


@pytest.mark.parametrize("query, want", [
    ({"share": "2.5", "cost_fn": "20", "per_day": "5000"}, {"share": 2.5, "cost_fn": 20.0, "per_day": 5000.0}),
    ({"share": "101", "cost_fp": "-1", "value_tp": "nan", "per_day": "inf", "cost_fn": "x"}, {}),
    ({}, {}),
])
def test_inputs_from_query_keeps_only_valid_numbers(query, want):
    assert dc.inputs_from_query(query) == want


def test_a_samples_scores_table_is_its_highest_scores_with_the_true_class():
    from evaldash.ui import SCORES_SHOWN, sample_scores

    ev = evaluate(load_predictions(str(SAMPLE)))
    d = ev.dataset
    wrong = int(next(r for r in range(d.n) if d.y_true[r] != d.y_pred[r]))
    table = sample_scores(ev, wrong)
    assert len(table) == min(SCORES_SHOWN, d.n_classes)
    assert list(table["score"]) == sorted(d.scores[wrong], reverse=True)[:len(table)]
    roles = dict(zip(table["class"], table["is"]))
    assert roles[d.classes[d.y_true[wrong]]] == "true" and roles[d.classes[d.y_pred[wrong]]] == "predicted"
