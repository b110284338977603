"""Nothing typed is lost (issue 14): the review queue saves a typed note and label when it moves
on (N, P, another set) and on its save key, and says so; the Details dialog reruns the page when
closed, so the gallery shows what was saved. Browser checks: ``tests/e2e/test_nothing_lost.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import evaldash
from evaldash.annotations import AnnotationStore

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
SAMPLE = ROOT / "sample_data" / "digits" / "predictions.csv"


@pytest.fixture(autouse=True)
def clean_app(monkeypatch, tmp_path):
    """A fresh cache, the bundled sample, and a database of this test's own."""
    monkeypatch.setattr(sys, "argv", ["app.py", "--data-root", str(tmp_path), "--data-root", str(ROOT / "sample_data")])
    monkeypatch.delenv("EVALDASH_PREDICTIONS", raising=False)
    monkeypatch.setenv("EVALDASH_DB", str(tmp_path / "annotations.db"))
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


@pytest.fixture(scope="module")
def queue():
    """The digits sample's mistakes in the review queue's order (most confident first)."""
    ev = evaldash.evaluate(evaldash.load_predictions(SAMPLE))
    d = ev.dataset
    wrong = np.flatnonzero(d.y_true != d.y_pred)
    order = wrong[np.argsort(-ev.confidence[wrong], kind="stable")]
    return d, [str(d.ids[r]) for r in order]


def review(name: str | None = "Ines") -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    if name:
        at.text_input(key="annotator").set_value(name).run()
    at.switch_page("pages/review.py").run()
    assert not at.exception, at.exception
    return at


def shown_id(at: AppTest) -> str:
    return at.subheader[0].value.split(":")[0].replace("\\", "")


def messages(at: AppTest) -> list[str]:
    return [e.value.replace("\\", "") for e in (*at.success, *at.warning, *at.error)]  # as shown, unescaped


def test_a_note_typed_then_n_is_saved_and_shown_again_after_p(queue):
    d, ids = queue
    at = review()
    assert shown_id(at) == ids[0]
    at.text_area(key=f"review_note_{ids[0]}").input("the 4 is open at the top")
    at.selectbox(key=f"review_label_{ids[0]}").select(d.classes[3])
    at.button(key="review_next").click().run()
    assert not at.exception, at.exception
    assert shown_id(at) == ids[1]
    assert any(m.startswith(f"Saved 2 changes of {ids[0]}") for m in messages(at)), messages(at)

    state = AnnotationStore(None).state(d.fingerprint())
    assert state.loc[ids[0], "note"] == "the 4 is open at the top"
    assert state.loc[ids[0], "corrected_label"] == d.classes[3]
    assert state.loc[ids[0], "annotator"] == "Ines"
    assert state.loc[ids[0], "reviewed"]  # the note and the "reviewed" mark, both

    at.button(key="review_prev").click().run()
    assert shown_id(at) == ids[0]
    assert at.text_area(key=f"review_note_{ids[0]}").value == "the 4 is open at the top"
    assert at.selectbox(key=f"review_label_{ids[0]}").value == d.classes[3]


def test_p_saves_too_without_marking_reviewed(queue):
    d, ids = queue
    at = review()
    at.button(key="review_next").click().run()
    at.text_area(key=f"review_note_{ids[1]}").input("look again")
    at.button(key="review_prev").click().run()
    assert shown_id(at) == ids[0]
    store = AnnotationStore(None)
    assert store.state(d.fingerprint()).loc[ids[1], "note"] == "look again"
    assert ids[1] not in store.reviewed(d.fingerprint(), "mistakes")


def test_the_save_key_saves_and_confirms(queue):
    d, ids = queue
    at = review()
    save = at.button(key="review_save")
    assert save.proto.shortcut  # a keyboard way to save
    at.text_area(key=f"review_note_{ids[0]}").input("blurred")
    save.click().run()
    assert shown_id(at) == ids[0]  # saving does not move on
    assert f"Saved 1 change of {ids[0]} (note)." in messages(at)
    assert AnnotationStore(None).state(d.fingerprint()).loc[ids[0], "note"] == "blurred"
    at.button(key="review_save").click().run()
    assert messages(at) == ["Nothing changed."]


def test_without_a_name_the_queue_stays_and_keeps_the_note(queue):
    d, ids = queue
    at = review(name=None)
    at.text_area(key=f"review_note_{ids[0]}").input("kept while I type my name")
    at.button(key="review_next").click().run()
    assert shown_id(at) == ids[0]
    assert any("Type your name" in m for m in messages(at))
    assert at.text_area(key=f"review_note_{ids[0]}").value == "kept while I type my name"
    at.text_input(key="annotator").set_value("Ines").run()
    at.button(key="review_next").click().run()
    assert shown_id(at) == ids[1]
    assert AnnotationStore(None).state(d.fingerprint()).loc[ids[0], "note"] == "kept while I type my name"


def test_choosing_another_set_saves_what_was_typed(queue):
    d, ids = queue
    at = review()
    at.text_area(key=f"review_note_{ids[0]}").input("before switching sets")
    at.segmented_control(key="review_set").set_value("cell").run()
    assert not at.exception, at.exception
    assert AnnotationStore(None).state(d.fingerprint()).loc[ids[0], "note"] == "before switching sets"


def test_a_note_typed_then_another_page_is_still_in_its_box_on_return(queue):
    d, ids = queue
    at = review()
    at.text_area(key=f"review_note_{ids[0]}").input("half a thought").run()
    assert "Not saved yet: the note." in at.get_by_key("review_unsaved").caption[0].value.replace("\\", "")
    at.switch_page("pages/overview.py").run()
    at.switch_page("pages/review.py").run()
    assert not at.exception, at.exception
    assert shown_id(at) == ids[0]
    assert at.text_area(key=f"review_note_{ids[0]}").value == "half a thought"
    at.button(key="review_next").click().run()
    assert AnnotationStore(None).state(d.fingerprint()).loc[ids[0], "note"] == "half a thought"
    assert shown_id(at) == ids[1]
