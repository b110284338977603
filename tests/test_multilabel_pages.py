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


# --- 2. two multi-label runs compared: the concept-matrix difference, fixed and broken samples ----

def write_perturbed(folder: Path) -> Path:
    """The concept sample with some scores perturbed (the same ids and concepts: a paired comparison)."""
    import pandas as pd

    frame = pd.read_csv(CONCEPTS, dtype={"labels": str}, keep_default_na=False)
    rng = np.random.default_rng(5)
    for col in [c for c in frame.columns if c.startswith("score_")]:
        frame[col] = np.clip(frame[col] + rng.normal(0, 0.2, len(frame)), 0, 1)
    path = folder / "concepts_perturbed.csv"
    frame.to_csv(path, index=False)
    return path


def test_exact_match_changes_and_cell_moves_follow_their_definitions():
    from evaldash.compare import aligned_rows
    from evaldash.multilabel_compare import concept_cell_moves, exact_match_changes
    from evaldash.multilabel_data import multilabel_from_frame
    from evaldash.multilabel_evaluation import evaluate_multilabel
    import pandas as pd

    rng = np.random.default_rng(0)
    n, k = 60, 3
    truth = rng.random((n, k)) < 0.4
    frame = pd.DataFrame({"id": [f"s{i}" for i in range(n)]}
                         | {f"label_{c}": truth[:, c].astype(int) for c in range(k)})
    a = evaluate_multilabel(multilabel_from_frame(frame.assign(**{f"score_{c}": rng.random(n) for c in range(k)})))
    shuffled = frame.assign(**{f"score_{c}": rng.random(n) for c in range(k)}).iloc[rng.permutation(n)]
    b = evaluate_multilabel(multilabel_from_frame(shuffled.reset_index(drop=True)))
    rows_b = aligned_rows(a, b)
    groups = exact_match_changes(a, b, rows_b)
    for r in range(n):
        right_a = (a.y_pred[r] == a.dataset.y_true[r]).all()
        right_b = (b.y_pred[rows_b[r]] == b.dataset.y_true[rows_b[r]]).all()
        assert (r in groups["fixed"]) == (right_b and not right_a)
        assert (r in groups["broken"]) == (right_a and not right_b)
    assert len(groups["fixed"]) + len(groups["broken"]) > 0
    for i, j in [(0, 1), (2, 2), (k, 0), (1, k), (k, k)]:
        member_a, member_b = set(a.cell_samples(i, j).tolist()), {int(np.flatnonzero(rows_b == r)[0])
                                                                   for r in b.cell_samples(i, j)}
        moves = concept_cell_moves(a, b, rows_b, i, j)
        assert set(moves["moved_in"].tolist()) == member_b - member_a
        assert set(moves["moved_out"].tolist()) == member_a - member_b


def grid_payload(at: AppTest, key: str) -> dict:
    import json

    [el] = [e for e in at.get("bidi_component") if e.proto.id.endswith(f"-{key}")]
    return json.loads(el.proto.mixed.json if el.proto.HasField("mixed") else el.proto.json)


def images_count(caption: str) -> int:
    return int(caption.split(" images")[0].split(": ")[-1].replace(",", ""))


def test_compare_shows_the_concept_matrix_difference_its_moves_and_the_fixed_and_broken(monkeypatch, tmp_path):
    from evaldash.compare import aligned_rows
    from evaldash.multilabel_compare import compare_multilabel, concept_cell_moves, exact_match_changes

    other = write_perturbed(tmp_path)
    monkeypatch.setattr(sys, "argv", ["app.py", str(CONCEPTS), str(other)])
    a, b = core(), evaluate_dataset(load_dataset(other))
    rows_b = aligned_rows(a, b)
    at = session("pages/compare.py")
    payload = grid_payload(at, "cml_diff")
    diff = b.concept_counts - a.concept_counts
    assert payload["counts"] == diff.tolist() and np.abs(diff).sum() > 0
    assert payload["columns"] == list(a.matrix("counts").columns)
    # a click on a cell that changed shows the samples that moved in and out of it
    i, j = (int(v) for v in np.argwhere(diff != 0)[0])
    moves = concept_cell_moves(a, b, rows_b, i, j)
    at.session_state["cml_cell"] = (i, j)  # what a click on the difference matrix's cell keeps
    run(at)
    moved = at.get_by_key("cml_moved")
    assert f"{len(moves['moved_in'])} moved in with B, {len(moves['moved_out'])} moved out" in moved.markdown[0].value
    assert [images_count(c.value) for c in moved.caption if "images" in c.value] == [
        len(moves["moved_in"]), len(moves["moved_out"])]
    captions = [c for im in moved.get("image") for c in im.captions]
    assert len(captions) == min(len(moves["moved_in"]), 24) + min(len(moves["moved_out"]), 24)
    r = int((moves["moved_in"] if moves["moved_in"].size else moves["moved_out"])[0])
    true, set_a, set_b = (", ".join(n for n, on in zip(a.classes, m) if on) or "∅"
                          for m in (a.dataset.y_true[r], a.y_pred[r], b.y_pred[rows_b[r]]))
    assert captions[0].replace("\\", "") == f"{a.dataset.ids[r]} · true {{{true}}} · A {{{set_a}}} · B {{{set_b}}}"
    # the galleries of the samples B fixed and broke
    groups = exact_match_changes(a, b, rows_b)
    result = compare_multilabel(a, b)
    assert (len(groups["fixed"]), len(groups["broken"])) == (result["fixed"], result["broken"])
    assert images_count(at.get_by_key("cml_changed").caption[0].value) == len(groups["fixed"])
    at.segmented_control(key="cml_group").set_value("broken")
    run(at)
    assert images_count(at.get_by_key("cml_changed").caption[0].value) == len(groups["broken"])
    assert len(groups["fixed"]) > 0 and len(groups["broken"]) > 0


# --- 3. the review queue of a multi-label file: a matrix cell, an id list, "reviewed" progress -----

def progress_text(at: AppTest) -> str:
    return at.get_by_key("review_ml_progress").get("progress")[0].proto.text


def review_cell(at: AppTest, i: int, j: int) -> AppTest:
    at.segmented_control(key="review_ml_set").set_value("cell")
    run(at)
    at.selectbox(key="review_ml_true").set_value(i)
    at.selectbox(key="review_ml_pred").set_value(j)
    return run(at)


def shown_id(at: AppTest) -> str:
    return at.get_by_key("review_ml_facts").dataframe[0].value["value"].tolist()[0]


def test_reviewing_a_concept_matrix_cell_saves_progress_that_a_new_session_reads_back():
    from evaldash.annotations import AnnotationStore

    ev = core()
    view = ev.matrix("counts")
    i, j = ev.classes.index("even"), ev.classes.index("closed_loop")
    rows = ev.cell_samples(i, j)
    total = len(rows)
    assert total > 3
    at = session("pages/review.py")
    at.session_state["_annotator"] = "ann"
    review_cell(at, i, j)
    assert progress_text(at) == f"0 / {total} reviewed · sample 1 of {total}"
    assert shown_id(at) == str(ev.dataset.ids[rows[0]])
    for _ in range(2):
        at.button(key="review_ml_reviewed").click()
        run(at)
    assert progress_text(at) == f"2 / {total} reviewed · sample 3 of {total}"
    assert shown_id(at) == str(ev.dataset.ids[rows[2]])
    name = f"cell {view.rows[i]} → {view.columns[j]}"
    assert AnnotationStore(None).reviewed(ev.dataset.fingerprint(), name) == {str(ev.dataset.ids[r]) for r in rows[:2]}
    # a new session (another tab, or tomorrow) reads the marks back and starts at the first sample not reviewed
    st.cache_resource.clear()
    fresh = session("pages/review.py")
    review_cell(fresh, i, j)
    assert progress_text(fresh) == f"2 / {total} reviewed · sample 3 of {total}"
    assert shown_id(fresh) == str(ev.dataset.ids[rows[2]])


def test_reviewed_needs_an_annotator_name_and_saves_nothing_without_it():
    from evaldash.annotations import AnnotationStore

    ev = core()
    at = session("pages/review.py")
    review_cell(at, 0, 1)
    at.button(key="review_ml_reviewed").click()
    run(at)
    assert any("Type your name" in w.value for w in at.warning)
    assert progress_text(at).startswith("0 / ")
    view = ev.matrix("counts")
    assert AnnotationStore(None).reviewed(ev.dataset.fingerprint(), f"cell {view.rows[0]} → {view.columns[1]}") == set()


class _Upload:
    name = "to_review.txt"

    def __init__(self, text: str):
        self._bytes = text.encode()

    def getvalue(self) -> bytes:
        return self._bytes


def test_an_uploaded_id_list_is_a_review_set_in_its_order(monkeypatch):
    ev = core()
    wanted = [str(ev.dataset.ids[r]) for r in (40, 3, 17)]
    # AppTest cannot upload a file: the uploader returns the file a user would have chosen
    monkeypatch.setattr(st, "file_uploader", lambda *a, **k: _Upload("\n".join([*wanted, "no-such-id"])))
    at = session("pages/review.py")
    at.session_state["_annotator"] = "ann"
    at.segmented_control(key="review_ml_set").set_value("ids")
    run(at)
    assert any("1 of the 4 ids are not in this file" in w.value for w in at.warning)
    assert progress_text(at) == "0 / 3 reviewed · sample 1 of 3"
    seen = [shown_id(at)]
    for _ in range(2):
        at.button(key="review_ml_reviewed").click()
        run(at)
        seen.append(shown_id(at))
    assert seen == wanted
    assert progress_text(at) == "2 / 3 reviewed · sample 3 of 3"


def test_a_slice_keeps_the_thresholds_the_file_was_opened_with(monkeypatch):
    # the same file served at another --threshold: its slice is at that threshold, not a cached one
    ev = core()
    rows = slice_rows(ev.dataset, "stroke", "thin")
    at = session("pages/overview.py", {"slice_by": "stroke", "slice": "thin"})
    assert cards(at)["Samples"] == f"{len(rows):,}"
    monkeypatch.setattr(sys, "argv", ["app.py", str(CONCEPTS), "--threshold", "0.3"])
    low = evaluate_dataset(load_dataset(CONCEPTS), threshold=0.3)
    want = multilabel_slice_evaluation(low, rows).headline()
    assert want["subset_accuracy"] != pytest.approx(multilabel_slice_evaluation(ev, rows).headline()["subset_accuracy"])
    fresh = session("pages/overview.py", {"slice_by": "stroke", "slice": "thin"})  # the cache is not cleared
    assert cards(fresh)["Subset accuracy"] == f"{want['subset_accuracy']:.3f}"
