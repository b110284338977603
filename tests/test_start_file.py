"""A file given at start that does not load is refused, never replaced by the bundled sample:
``evaldash serve BAD`` exits 2 before any server starts, and the app started another way
(``streamlit run app.py -- BAD``, ``EVALDASH_PREDICTIONS=BAD``) shows the error with no data."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import evaldash
from evaldash import cli
from evaldash.ui import md

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
SAMPLE = ROOT / "sample_data" / "digits" / "predictions.csv"
BINARY = ROOT / "sample_data" / "digits" / "binary_three.csv"
PAGES = ["pages/overview.py", "pages/confusion.py", "pages/threshold.py", "pages/errors.py", "pages/review.py",
         "pages/runs.py", "pages/compare.py", "pages/slices.py", "pages/decision.py", "pages/calibration.py"]


def no_label_file(folder: Path) -> Path:
    """A typo in the label column's name: the file does not load."""
    path = folder / "typo.csv"
    pd.DataFrame({"lable": ["a", "b"], "score_a": [0.4, 0.7], "score_b": [0.6, 0.3]}).to_csv(path, index=False)
    return path


def report_error(path: Path, capsys) -> str:
    """The one line ``evaldash report PATH`` writes for this file."""
    assert cli.main(["report", str(path)]) == 2
    return capsys.readouterr().err.strip()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- evaldash serve ---------------------------------------------------------------------------

def test_serve_on_a_file_that_does_not_load_exits_2_with_the_error_of_report(tmp_path, monkeypatch, capsys):
    bad = no_label_file(tmp_path)
    expected = report_error(bad, capsys)
    assert expected.startswith("error: ") and "no label column" in expected
    monkeypatch.setattr(os, "execv", lambda exe, cmd: pytest.fail("a server was started"))
    assert cli.main(["serve", str(bad)]) == 2
    assert capsys.readouterr().err.strip() == expected


def test_serve_checks_every_file_given(tmp_path, monkeypatch, capsys):
    bad = no_label_file(tmp_path)
    expected = report_error(bad, capsys)
    monkeypatch.setattr(os, "execv", lambda exe, cmd: pytest.fail("a server was started"))
    assert cli.main(["serve", str(SAMPLE), str(bad)]) == 2
    assert capsys.readouterr().err.strip() == expected
    assert cli.main(["serve", str(SAMPLE), "--predictions", str(bad)]) == 2
    assert capsys.readouterr().err.strip() == expected


def test_serve_still_starts_on_good_files(monkeypatch):
    started = []
    monkeypatch.setattr(os, "execv", lambda exe, cmd: started.append(cmd))
    assert cli.main(["serve", str(SAMPLE), str(BINARY)]) == 0
    assert started[0][started[0].index("--") + 1:][:2] == [str(SAMPLE), str(BINARY)]


def test_serve_on_a_bad_file_starts_no_server(tmp_path, capsys):
    bad = no_label_file(tmp_path)
    expected = report_error(bad, capsys)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run([sys.executable, "-m", "evaldash.cli", "serve", str(bad), "--port", str(port)],
                          capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip() == expected
    assert done.stdout == ""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:  # nothing listens on the port asked for
        assert s.connect_ex(("127.0.0.1", port)) != 0


# --- the app started another way ------------------------------------------------------------------

@pytest.fixture(autouse=True)
def clean_app(monkeypatch, tmp_path):
    monkeypatch.setattr(sys, "argv", ["app.py"])
    monkeypatch.delenv("EVALDASH_PREDICTIONS", raising=False)
    monkeypatch.setenv("EVALDASH_DB", str(tmp_path / "annotations.db"))
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def loader_message(path: Path) -> str:
    with pytest.raises(evaldash.InputError) as info:
        evaldash.load_predictions(path)
    return str(info.value)


def shown_text(at: AppTest) -> str:
    """Every element's content, main area and sidebar, as one text."""
    out: list[str] = []

    def walk(node):
        children = getattr(node, "children", None)
        if children:
            for child in children.values():
                walk(child)
        elif getattr(node, "proto", None) is not None:
            out.append(str(node.proto))

    walk(at._tree)
    return "\n".join(out)


def assert_error_and_no_data(at: AppTest, bad: Path) -> None:
    assert not at.exception, at.exception
    errors = [e.value for e in at.main.error]
    assert len(errors) == 1 and errors[0].startswith(md(loader_message(bad.resolve()))), errors
    assert "No data is loaded" in errors[0]
    assert not at.metric and not at.dataframe and not at.sidebar.caption
    assert [m.value for m in at.sidebar.markdown] == ["**Data**  \nNo file loaded"]
    text = shown_text(at)
    sample = evaldash.evaluate(evaldash.load_predictions(SAMPLE))
    for number in (f"{sample.dataset.n}", f"{sample.headline()['accuracy']:.3f}"):
        assert not re.search(rf"(?<![\w.]){re.escape(number)}(?![\w.])", text), number


def start(monkeypatch, how: str, *paths: Path) -> AppTest:
    if how == "env":
        monkeypatch.setenv("EVALDASH_PREDICTIONS", str(paths[0]))
    else:  # streamlit run app.py -- PATH ...
        monkeypatch.setattr(sys, "argv", ["app.py", *map(str, paths)])
    at = AppTest.from_file(str(APP), default_timeout=60)
    return at.run()


@pytest.mark.parametrize("how", ["env", "args"])
def test_app_on_a_bad_start_file_shows_the_error_and_no_data(how, monkeypatch, tmp_path):
    bad = no_label_file(tmp_path)
    assert_error_and_no_data(start(monkeypatch, how, bad), bad)


def test_app_on_a_missing_start_file_shows_the_error_and_no_data(monkeypatch, tmp_path):
    assert_error_and_no_data(start(monkeypatch, "args", tmp_path / "nowhere.csv"), tmp_path / "nowhere.csv")


def test_the_first_of_several_start_files_failing_loads_nothing(monkeypatch, tmp_path):
    bad = no_label_file(tmp_path)
    assert_error_and_no_data(start(monkeypatch, "args", bad, BINARY), bad)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_stops_cleanly_after_the_error(page, monkeypatch, tmp_path):
    bad = no_label_file(tmp_path)
    at = start(monkeypatch, "args", bad)
    at.switch_page(page).run()
    assert_error_and_no_data(at, bad)


def test_the_sidebar_still_opens_a_file_and_the_error_goes(monkeypatch, tmp_path):
    bad = no_label_file(tmp_path)
    at = start(monkeypatch, "env", bad)
    at.button(key="open_file").click().run()
    at.selectbox(key="sample_pick").select("Digits: three vs rest (binary)").run()
    at.button(key="open_sample").click().run()
    assert not at.exception, at.exception
    assert not at.main.error
    ev = evaldash.evaluate(evaldash.load_predictions(BINARY))
    assert {m.label: m.value for m in at.metric}["Samples"] == f"{ev.dataset.n:,}"
    # the bad file is not offered as a run to switch to (the sidebar's choice appears with two runs)
    assert "active_run" not in [s.key for s in at.sidebar.selectbox]
    at.switch_page("pages/runs.py").run()
    assert not at.exception and not at.error


def test_a_bad_path_opened_from_the_empty_sidebar_is_said_there(monkeypatch, tmp_path):
    bad = no_label_file(tmp_path)
    other = tmp_path / "other.csv"
    other.write_text("label,prediction\n")
    monkeypatch.setattr(sys, "argv", ["app.py", str(bad), "--data-root", str(tmp_path)])
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    at.button(key="open_file").click().run()
    at.text_input(key="path_input").input(str(other))
    at.button(key="open_path").click().run()
    assert_error_and_no_data(at, bad)
    assert [e.value for e in at.sidebar.error] == [md(loader_message(other.resolve()))]


def test_the_bundled_sample_opens_when_no_file_was_given():
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.exception and not at.error
    ev = evaldash.evaluate(evaldash.load_predictions(SAMPLE))
    assert {m.label: m.value for m in at.metric}["Samples"] == f"{ev.dataset.n:,}"
