"""Images the pages cannot show: the gallery pages say so, with the fix, and the open panel's
Images root (inside the data roots only) shows them."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from evaldash.roots import REFUSED
from evaldash.ui import md

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
SAMPLE = ROOT / "sample_data" / "digits" / "predictions.csv"


@pytest.fixture
def project(tmp_path) -> Path:
    """The digits sample as a project keeps it: outputs/predictions.csv with ``../images/`` paths."""
    shutil.copytree(SAMPLE.parent / "images", tmp_path / "proj" / "images")
    (tmp_path / "proj" / "outputs").mkdir()
    frame = pd.read_csv(SAMPLE, dtype=str)
    frame["image"] = "../" + frame["image"]
    frame.to_csv(tmp_path / "proj" / "outputs" / "predictions.csv", index=False)
    (tmp_path / "private").mkdir()
    return tmp_path / "proj"


@pytest.fixture
def app(monkeypatch, tmp_path):
    """The app started with ``args`` after ``--``, on /errors."""
    monkeypatch.delenv("EVALDASH_PREDICTIONS", raising=False)
    monkeypatch.setenv("EVALDASH_DB", str(tmp_path / "annotations.db"))
    st.cache_resource.clear()

    def start(*args: str) -> AppTest:
        monkeypatch.setattr(sys, "argv", ["app.py", *args])
        at = AppTest.from_file(str(APP), default_timeout=60)
        at.run()
        at.switch_page("pages/errors.py").run()
        assert not at.exception, at.exception
        return at

    yield start
    st.cache_resource.clear()


def notices(at: AppTest) -> list[str]:
    return [w.value for w in at.main.warning if "No image for" in w.value]


def set_images_root(at: AppTest, typed: str) -> list[str]:
    if "_open_panel" not in at.session_state or not at.session_state["_open_panel"]:
        at.button(key="open_file").click().run()
    at.text_input(key="images_root_input").input(typed)
    at.button(key="open_path").click().run()
    assert not at.exception, at.exception
    return [e.value for e in at.sidebar.error]


def test_errors_page_says_why_no_image_shows_and_how_to_fix_it(app, project):
    at = app(str(project / "outputs" / "predictions.csv"), "--data-root", str(project))
    n = len(pd.read_csv(SAMPLE))
    assert notices(at) == [md(
        f"No image for {n:,} of {n:,} samples: their paths lead outside the images root {project / 'outputs'}. "
        f"To show them, set the images root to {project / 'images'}: Images root under Open another file… in "
        f"the sidebar, or --images-root DIR.")]


def test_the_images_root_set_in_the_open_panel_shows_the_images(app, project):
    at = app(str(project / "outputs" / "predictions.csv"), "--data-root", str(project))
    assert set_images_root(at, str(project / "images")) == []
    assert notices(at) == []
    source = at.session_state["source"]
    assert source.images_root == str(project / "images")
    assert [r.path for r in at.session_state["runs"]] == [source.path]  # one run, not two
    import evaldash.ui as ui

    assert ui.load(source).dataset.image_check.not_shown == 0


def test_an_images_root_outside_the_data_roots_gets_the_one_refusal(app, project, tmp_path):
    at = app(str(project / "outputs" / "predictions.csv"), "--data-root", str(project / "outputs"))
    for typed in (str(project / "images"), str(tmp_path / "private"), str(tmp_path / "nothing"), "/etc"):
        assert set_images_root(at, typed) == [md(f"{typed}: {REFUSED}")]
        assert at.session_state["source"].images_root is None
    # the fix names the way this server allows: the folder lies outside its data roots
    assert notices(at)[0].endswith(md(f"set the images root to {project / 'images'}: --images-root DIR at start "
                                      "(the sidebar's Images root takes only folders in the data roots)."))


# --- /decision's flip gallery and /compare's cell-difference gallery say it too ------------------------

WEAKER = SAMPLE.parent / "predictions_weaker.csv"


def _start(monkeypatch, tmp_path, page: str, *args: str) -> AppTest:
    monkeypatch.delenv("EVALDASH_PREDICTIONS", raising=False)
    monkeypatch.setenv("EVALDASH_DB", str(tmp_path / "annotations.db"))
    monkeypatch.setattr(sys, "argv", ["app.py", *args])
    st.cache_resource.clear()
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _flips_shown(at: AppTest) -> AppTest:
    at.number_input(key="dec_from").set_value(0.05).run()  # A below B: samples change
    assert not at.exception, at.exception
    assert [b for b in at.main.button if b.key.startswith("dec_flip_detail_")], "no flip gallery"
    return at


def test_decision_flip_gallery_says_why_no_image_shows(monkeypatch, tmp_path, project):
    at = _flips_shown(_start(monkeypatch, tmp_path, "pages/decision.py",
                             str(project / "outputs" / "predictions.csv"), "--data-root", str(project)))
    n = len(pd.read_csv(SAMPLE))
    assert notices(at) == [md(
        f"No image for {n:,} of {n:,} samples: their paths lead outside the images root {project / 'outputs'}. "
        f"To show them, set the images root to {project / 'images'}: Images root under Open another file… in "
        f"the sidebar, or --images-root DIR.")]
    st.cache_resource.clear()


def test_decision_flip_gallery_has_no_notice_when_every_image_shows(monkeypatch, tmp_path):
    at = _flips_shown(_start(monkeypatch, tmp_path, "pages/decision.py", str(SAMPLE)))
    assert notices(at) == []
    st.cache_resource.clear()


def _moved_cell(a: Path, b: Path) -> tuple[int, int]:
    """A (true, predicted) cell, as class indices, that some sample moves into with B."""
    fa, fb = pd.read_csv(a, dtype={"label": str}), pd.read_csv(b, dtype={"label": str})
    scores = [c for c in fa.columns if c.startswith("score_")]
    classes = sorted(fa["label"].unique(), key=int)
    pred_a = fa[scores].to_numpy().argmax(1)
    pred_b = fb.set_index("id").loc[fa["id"], scores].to_numpy().argmax(1)
    moved = int(np.flatnonzero(pred_a != pred_b)[0])
    return classes.index(fa["label"][moved]), int(pred_b[moved])


def _cell_gallery(at: AppTest, cell: tuple[int, int]) -> AppTest:
    at.session_state["cmp_cell"] = cell  # what a click on the difference matrix's cell keeps
    at.run()
    assert not at.exception, at.exception
    assert [b for b in at.main.button if b.key.startswith("cmp_moved_")], "no cell-difference gallery"
    return at


def test_compare_cell_difference_gallery_says_why_no_image_shows(monkeypatch, tmp_path, project):
    weaker = project / "outputs" / "weaker.csv"
    frame = pd.read_csv(WEAKER, dtype=str)
    frame["image"] = "../" + frame["image"]
    frame.to_csv(weaker, index=False)
    at = _start(monkeypatch, tmp_path, "pages/compare.py", str(project / "outputs" / "predictions.csv"),
                str(weaker), "--data-root", str(project))
    changed = len(notices(at))  # the "Samples that changed" gallery's own notice
    assert changed == 1
    at = _cell_gallery(at, _moved_cell(SAMPLE, WEAKER))
    assert len(notices(at)) == changed + 1
    assert notices(at)[0].startswith(md("No image for "))
    st.cache_resource.clear()


def test_compare_cell_difference_gallery_has_no_notice_when_every_image_shows(monkeypatch, tmp_path):
    at = _cell_gallery(_start(monkeypatch, tmp_path, "pages/compare.py", str(SAMPLE), str(WEAKER)),
                       _moved_cell(SAMPLE, WEAKER))
    assert notices(at) == []
    st.cache_resource.clear()
