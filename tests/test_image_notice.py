"""Images the pages cannot show: the gallery pages say so, with the fix, and the open panel's
Images root (inside the data roots only) shows them."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

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
