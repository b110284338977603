"""Knowing what you are looking at (issue 14): run names that tell runs apart, notices where the user
is looking, no made-up quality gates (``--gates FILE`` for ``check`` and ``serve``), /compare colouring
only the differences the interval supports, /decision's flips opening on a kind that has samples.

Expected values come from the Streamlit-free core, never from the app.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import evaldash
from evaldash import cli
from evaldash.compare import compare, supported_sign
from evaldash.decision import flips
from evaldash.errors import InputError
from evaldash.gates import Gate, check_gates, load_gates
from evaldash.roots import REFUSED
from evaldash.run_names import distinct_names
from evaldash.ui import Source, md

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
SAMPLE = ROOT / "sample_data" / "digits" / "predictions.csv"
WEAKER = ROOT / "sample_data" / "digits" / "predictions_weaker.csv"
TIMEOUT = 60


# --- run names (pure) ---------------------------------------------------------------------

@pytest.mark.parametrize(("paths", "labels", "want"), [
    (["/data/runA/predictions.csv", "/data/runB/predictions.csv"], None,
     ["runA/predictions.csv", "runB/predictions.csv"]),
    # only the runs that share a name grow; the shortest tail that differs
    (["/x/runA/out/p.csv", "/x/runB/out/p.csv", "/y/q.csv"], None, ["runA/out/p.csv", "runB/out/p.csv", "q.csv"]),
    (["/x/a/p.csv", "/x/b/p.csv", "/x/b/q.csv"], None, ["a/p.csv", "b/p.csv", "q.csv"]),
    (["/only/one.csv"], None, ["one.csv"]),
    ([], None, []),
    # a labelled run (a bundled sample, an upload) keeps its label
    (["/s/digits/predictions.csv", "/data/predictions.csv"], ["Digits: 10 classes", ""],
     ["Digits: 10 classes", "predictions.csv"]),
    # the same file twice (e.g. another positive class), or equal labels: numbered, never equal
    (["/x/a.csv", "/x/a.csv"], None, ["a.csv", "a.csv (2)"]),
    (["/t/1/p.csv", "/t/2/p.csv"], ["p.csv (upload)", "p.csv (upload)"], ["p.csv (upload)", "p.csv (upload) (2)"]),
    # a path that is a tail of another: still told apart
    (["/x/a/p.csv", "/p.csv"], None, ["a/p.csv", "/p.csv"]),
])
def test_distinct_names(paths, labels, want):
    names = distinct_names(paths, labels)
    assert names == want
    assert len(set(names)) == len(names)


# --- gates files (pure) and the command line ------------------------------------------------

def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


GATES_TOML = '[min]\naccuracy = 0.9\n"recall[3]" = 0.95\n\n[max]\nece = 0.5\n'
GATES_WANT = [Gate("accuracy", "min", 0.9), Gate("recall[3]", "min", 0.95), Gate("ece", "max", 0.5)]


def test_load_gates_toml_and_json(tmp_path):
    assert load_gates(str(write(tmp_path / "g.toml", GATES_TOML))) == GATES_WANT
    as_json = {"min": {"accuracy": 0.9, "recall[3]": 0.95}, "max": {"ece": 0.5}}
    assert load_gates(str(write(tmp_path / "g.json", json.dumps(as_json)))) == GATES_WANT


@pytest.mark.parametrize(("name", "text", "match"), [
    ("g.yaml", "min: {}", r"g\.yaml: expected a \.toml or \.json file"),
    ("g.toml", "[min\naccuracy = ", r"g\.toml: not valid TOML"),
    ("g.json", "{", r"g\.json: not valid JSON"),
    ("g.toml", "[minimum]\naccuracy = 0.9\n", r"expected the tables min and/or max, found 'minimum'"),
    ("g.json", "[]", r"expected the tables min and/or max, found nothing"),
    ("g.toml", "", r"expected the tables min and/or max, found nothing"),
    ("g.toml", 'min = "accuracy"\n', r"min must map metric names to limits"),
    ("g.toml", '[min]\naccuracy = "high"\n', r"min accuracy: the limit 'high' is not a finite number"),
    ("g.toml", "[max]\nece = nan\n", r"max ece: the limit nan is not a finite number"),
    ("g.json", '{"min": {"accuracy": true}}', r"min accuracy: the limit True is not a finite number"),
])
def test_load_gates_refuses_bad_files(tmp_path, name, text, match):
    with pytest.raises(InputError, match=match):
        load_gates(str(write(tmp_path / name, text)))


def test_load_gates_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"--gates .*missing\.toml: cannot read the file"):
        load_gates(str(tmp_path / "missing.toml"))


def test_check_reads_a_gates_file(tmp_path, capsys):
    ev = evaldash.evaluate(evaldash.load_predictions(SAMPLE))
    results = check_gates(ev, GATES_WANT)
    gates = write(tmp_path / "g.toml", GATES_TOML)
    code = cli.main(["check", str(SAMPLE), "--gates", str(gates)])
    out = capsys.readouterr().out
    assert code == (0 if all(r.passed for r in results) else 1)
    for r in results:
        assert re.search(rf"{re.escape(r.gate.metric)}.*{'pass' if r.passed else 'FAIL'}", out)
    # the same verdicts as the gates typed as --min/--max
    typed = cli.main(["check", str(SAMPLE), "--min", "accuracy=0.9", "--min", "recall[3]=0.95", "--max", "ece=0.5"])
    assert (typed, capsys.readouterr().out) == (code, out)
    # a file and a typed gate together: both are checked, the file's first
    cli.main(["check", str(SAMPLE), "--gates", str(gates), "--max", "error_rate=0.5"])
    assert capsys.readouterr().out.count("\n") == out.count("\n") + 1


def test_check_with_a_bad_gates_file_exits_2(tmp_path, capsys):
    bad = write(tmp_path / "g.toml", "[min]\naccuracy = 'x'\n")
    assert cli.main(["check", str(SAMPLE), "--gates", str(bad)]) == 2
    assert "g.toml: min accuracy: the limit 'x' is not a finite number" in capsys.readouterr().err


class _Started(Exception):
    pass


def test_serve_passes_the_gates_file_to_the_app(tmp_path, monkeypatch):
    started = []

    def fake_execv(path, cmd):
        started.append(cmd)
        raise _Started

    monkeypatch.setattr(cli.os, "execv", fake_execv)
    gates = write(tmp_path / "g.toml", GATES_TOML)
    with pytest.raises(_Started):
        cli.run(["serve", str(SAMPLE), "--gates", str(gates)])
    cmd = started[0]
    assert cmd[cmd.index("--gates") + 1] == str(gates.resolve())
    assert cmd.index("--gates") > cmd.index("--")  # an argument of the app, after --
    # a bad file stops `serve` with its message, before the server starts
    bad = write(tmp_path / "bad.toml", "[min]\naccuracy = 'x'\n")
    with pytest.raises(InputError, match="not a finite number"):
        cli.run(["serve", str(SAMPLE), "--gates", str(bad)])
    assert len(started) == 1


# --- compare colours (pure) -------------------------------------------------------------

@pytest.mark.parametrize(("interval", "want"), [
    ((0.01, 0.2), 1), ((-0.2, -0.01), -1), ((-0.05, 0.1), 0), ((0.0, 0.1), 0), ((-0.1, 0.0), 0),
    ((float("nan"), float("nan")), 0),
])
def test_supported_sign(interval, want):
    assert supported_sign(interval) == want


# --- the app ----------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def clean_app(monkeypatch, tmp_path):
    monkeypatch.delenv("EVALDASH_PREDICTIONS", raising=False)
    monkeypatch.setenv("EVALDASH_DB", str(tmp_path / "annotations.db"))
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def two_runs(tmp_path: Path) -> tuple[Path, Path]:
    """The digits sample's two models, each as predictions.csv in its own folder."""
    a, b = tmp_path / "runA" / "predictions.csv", tmp_path / "runB" / "predictions.csv"
    for src, dst in ((SAMPLE, a), (WEAKER, b)):
        dst.parent.mkdir()
        shutil.copy(src, dst)
    return a, b


def start(monkeypatch, *args) -> AppTest:
    """The app as `evaldash serve ARGS` starts it (the app's own arguments after --)."""
    monkeypatch.setattr(sys, "argv", ["app.py", *map(str, args)])
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    assert not at.exception, at.exception
    return at


def goto(at: AppTest, page: str) -> AppTest:
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


NAMES = ["runA/predictions.csv", "runB/predictions.csv"]


def test_two_runs_with_the_same_file_name_have_different_names(monkeypatch, tmp_path):
    at = start(monkeypatch, *two_runs(tmp_path))
    assert at.selectbox(key="active_run").options == NAMES
    goto(at, "pages/runs.py")
    assert list(at.get_by_key("runs_table").value["name"]) == NAMES
    assert at.selectbox(key="runs_a").options == NAMES
    goto(at, "pages/compare.py")
    assert at.selectbox(key="cmp_a").options == NAMES
    headline = next(d.value for d in at.dataframe if "metric" in d.value.columns)
    assert [c for c in headline.columns if c.startswith(("A: ", "B: "))] == [f"A: {NAMES[0]}", f"B: {NAMES[1]}"]
    assert f"A: {md(NAMES[0])}" in [c.value for c in at.caption]


def test_a_run_renamed_on_runs_keeps_its_name(monkeypatch, tmp_path):
    at = goto(start(monkeypatch, *two_runs(tmp_path)), "pages/runs.py")
    at.session_state["runs_table"] = {"edited_rows": {1: {"name": "weaker"}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert at.selectbox(key="active_run").options == [NAMES[0], "weaker"]


def test_the_main_area_says_when_the_active_file_changes(monkeypatch, tmp_path):
    a, b = two_runs(tmp_path)
    at = goto(start(monkeypatch, a, b), "pages/confusion.py")
    assert not [i for i in at.main.info if i.value.startswith("Now showing")]  # the first file: nothing to say
    at.selectbox(key="active_run").set_value(Source(str(b.resolve())).key).run()
    assert not at.exception
    assert [i.value for i in at.main.info if i.value.startswith("Now showing")] == [f"Now showing {md(NAMES[1])}."]
    at.run()  # it stays while the user is on this page
    assert [i.value for i in at.main.info if i.value.startswith("Now showing")] == [f"Now showing {md(NAMES[1])}."]
    goto(at, "pages/overview.py")
    assert not [i for i in at.main.info if i.value.startswith("Now showing")]


def test_an_error_opening_a_file_shows_in_the_main_area_until_dismissed(monkeypatch, tmp_path):
    a, b = two_runs(tmp_path)
    at = goto(start(monkeypatch, a, b, "--data-root", tmp_path), "pages/confusion.py")
    assert not at.main.error
    at.button(key="open_file").click().run()
    missing = tmp_path / "missing.csv"
    at.text_input(key="path_input").input(str(missing))
    at.button(key="open_path").click().run()
    assert not at.exception
    want = md(f"{missing}: {REFUSED}")
    [shown] = [e.value for e in at.main.error]
    assert shown.startswith(want) and shown.endswith(f"Still showing {md(NAMES[0])}.")
    goto(at, "pages/overview.py")  # on every page until dismissed
    assert [e.value for e in at.main.error] == [shown]
    at.button(key="dismiss_load_error").click().run()
    assert not at.main.error and not at.sidebar.error


def test_the_overview_shows_no_gates_by_default(monkeypatch):
    at = start(monkeypatch)
    assert len(at.get_by_key("gates_editor").value) == 0
    assert not [m for m in [*at.success, *at.main.error] if "gates pass" in m.value]


def test_the_overview_shows_the_gates_of_a_gates_file(monkeypatch, tmp_path):
    gates = write(tmp_path / "g.toml", GATES_TOML)
    at = start(monkeypatch, SAMPLE, "--gates", gates)
    editor = at.get_by_key("gates_editor").value
    assert [Gate(m, k, float(v)) for m, k, v in editor.itertuples(index=False)] == GATES_WANT
    results = check_gates(evaldash.evaluate(evaldash.load_predictions(SAMPLE)), GATES_WANT)
    passed = sum(r.passed for r in results)
    summary = f"{passed} of {len(results)} gates pass"
    assert summary in [m.value for m in [*at.success, *at.main.error]]


def test_compare_colours_only_the_deltas_whose_interval_excludes_zero(monkeypatch):
    at = goto(start(monkeypatch, SAMPLE, WEAKER), "pages/compare.py")
    result = compare(evaldash.evaluate(evaldash.load_predictions(SAMPLE)),
                     evaldash.evaluate(evaldash.load_predictions(WEAKER)))
    table = next(d for d in at.dataframe if "F1 A" in d.value.columns)
    column = list(table.value.columns).index("B − A")
    styles = table.proto.arrow_data.styler.styles
    coloured = {}
    for selectors, colour in re.findall(r"([^{}]+)\{\s*color: (#[0-9a-f]{6})", styles):
        for row in re.findall(rf"row(\d+)_col{column}\b", selectors):
            coloured[int(row)] = {"#1a7f37": 1, "#cf222e": -1}[colour]
    want = {}
    for row, c in enumerate(result["shared_classes"]):
        low, high = result["intervals"][f"f1[{c}]"]
        if low > 0 or high < 0:
            want[row] = 1 if low > 0 else -1
    assert coloured == want
    # the sample pair has deltas of both kinds: some coloured, some left plain although not zero
    plain = [r for r in range(len(result["shared_classes"])) if r not in want]
    assert want and plain
    assert any(result["delta"][f"f1[{result['shared_classes'][r]}]"] != 0 for r in plain)


def test_decision_flips_open_on_the_first_kind_with_samples(monkeypatch):
    at = goto(start(monkeypatch, SAMPLE), "pages/decision.py")
    ev = evaldash.evaluate(evaldash.load_predictions(SAMPLE))
    c, t = at.session_state["class_select"], float(at.session_state["threshold_t"])
    a = max(t - 0.3, 0.0)  # a lower threshold A: moving to B only loses flags, no new positives
    at.number_input(key="dec_from").set_value(a).run()
    assert not at.exception
    counts = flips(ev.dataset.scores[:, c], ev.dataset.y_true == c, a, t).counts
    assert counts["new_tp"] == 0 and counts["new_fp"] == 0 and counts["new_fn"] + counts["new_tn"] > 0
    first = next(k for k in ("new_tp", "new_fp", "new_fn", "new_tn") if counts[k])
    assert at.get_by_key("dec_flip_kind").value == first
    # a kind the user picks stays picked, even an empty one
    at.get_by_key("dec_flip_kind").set_value("new_tp").run()
    assert at.get_by_key("dec_flip_kind").value == "new_tp"
    at.run()
    assert at.get_by_key("dec_flip_kind").value == "new_tp"


def test_a_run_opened_later_with_the_same_file_name_renames_the_defaults(monkeypatch, tmp_path):
    a, b = two_runs(tmp_path)
    at = goto(start(monkeypatch, a, "--data-root", tmp_path), "pages/runs.py")
    assert list(at.get_by_key("runs_table").value["name"]) == ["predictions.csv"]  # alone: its file name
    at.button(key="open_file").click().run()
    at.text_input(key="path_input").input(str(b))
    at.button(key="open_path").click().run()
    assert not at.exception
    # the name shown on /runs before was a default, not a rename: both are told apart now
    assert list(at.get_by_key("runs_table").value["name"]) == NAMES
    assert [i.value for i in at.main.info if i.value.startswith("Now showing")] == [f"Now showing {md(NAMES[1])}."]
