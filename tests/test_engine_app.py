"""The dashboard on an engine (``--engine duckdb|auto``): ``serve`` passing the engine and checking the
start files on it, the app opening a file (a folder of Parquet files) there, the sidebar's line, the
pages' one line with the sample button where a view needs every row, and the sample opened in memory.

Expected numbers come from the memory path (``evaldash.evaluate`` on the same rows)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from engine_cases import status_recorder, multiclass_ties, write

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
TIMEOUT = 120


@pytest.fixture
def execv(monkeypatch):
    """Stands in for ``os.execv`` in ``evaldash serve``: records the command instead of becoming it."""
    calls = []
    monkeypatch.setattr(os, "execv", lambda exe, cmd: calls.append(cmd))
    return calls


@pytest.fixture
def folder(tmp_path) -> Path:
    """A partitioned Parquet folder (three files) of four classes, one never in the labels."""
    return write(multiclass_ties(n=1500, seed=3), tmp_path / "parts", parts=3)


@pytest.fixture
def joined(folder) -> Path:
    """The folder's rows in one Parquet file, for the memory path."""
    frame = pd.concat([pd.read_parquet(f) for f in sorted(folder.glob("*.parquet"))], ignore_index=True)
    path = folder.parent / "joined.parquet"
    frame.to_parquet(path, index=False)
    return path


# --- serve ----------------------------------------------------------------------------------------

def test_serve_passes_the_engine_and_its_options_to_the_app(execv, folder, capsys):
    from evaldash.cli import main

    assert main(["serve", str(folder), "--engine", "duckdb", "--memory-limit", "1GB"]) == 0
    app_args = execv[0][execv[0].index("--") + 1:]
    assert app_args[0] == str(folder.resolve())
    assert app_args[app_args.index("--engine") + 1] == "duckdb"
    assert app_args[app_args.index("--memory-limit") + 1] == "1GB"
    assert "--spark-master" not in app_args
    assert "in memory for now" not in capsys.readouterr().err


def test_serve_in_memory_passes_no_engine(execv, joined):
    from evaldash.cli import main

    assert main(["serve", str(joined)]) == 0
    assert "--engine" not in execv[0]


def test_serve_checks_the_start_file_on_its_engine_and_exits_2_before_a_server_starts(execv, tmp_path, capsys):
    from evaldash.cli import main

    parts = tmp_path / "bad"
    parts.mkdir()
    frame = multiclass_ties(n=300, seed=4)
    frame.loc[7, "score_1"] = np.nan
    frame.iloc[:150].to_parquet(parts / "part-0.parquet", index=False)
    frame.iloc[150:].to_parquet(parts / "part-1.parquet", index=False)
    assert main(["serve", str(parts), "--engine", "duckdb"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "column 'score_1' has missing values at row 8" in err
    assert execv == []


def test_serve_refuses_a_folder_without_parquet_files_on_its_engine(execv, tmp_path, capsys):
    from evaldash.cli import main

    (tmp_path / "empty").mkdir()
    assert main(["serve", str(tmp_path / "empty"), "--engine", "auto"]) == 2
    assert "holds no Parquet files" in capsys.readouterr().err
    assert execv == []


# --- the app's sources ----------------------------------------------------------------------------

def test_the_keys_of_files_in_memory_stay_as_they_were_and_an_engine_is_part_of_the_key():
    from evaldash.ui.sources import Source

    before = "a28ad15940"  # Source("/data/p.csv", "yes").key before engines existed
    assert Source("/data/p.csv", "yes").key == before
    assert Source("/data/p.csv", "yes", threshold=0.3).key == "b10d457157"
    assert Source("/data/p.csv", "yes", engine="duckdb").key != before
    assert Source("/data/p.csv", "yes", engine="duckdb").key != Source("/data/p.csv", "yes", engine="spark").key


def test_the_app_reads_the_engine_and_its_options_after_the_double_dash(monkeypatch, folder):
    from evaldash.ui.sources import start_source

    monkeypatch.setattr(sys, "argv", ["app.py", str(folder), "--engine", "duckdb", "--memory-limit", "1GB"])
    source = start_source()
    assert (source.path, source.engine, source.memory_limit, source.spark_master) == (
        str(folder.resolve()), "duckdb", "1GB", None)


# --- the app on an engine -------------------------------------------------------------------------

@pytest.fixture
def on_duckdb(monkeypatch, tmp_path, folder):
    """The app started as ``evaldash serve FOLDER --engine duckdb`` would start it, with an
    annotation database and an upload folder of the test's own."""
    monkeypatch.setattr(sys, "argv", ["app.py", str(folder), "--engine", "duckdb"])
    monkeypatch.delenv("EVALDASH_PREDICTIONS", raising=False)
    monkeypatch.setenv("EVALDASH_DB", str(tmp_path / "annotations.db"))
    import evaldash.ui.open_panel as open_panel

    monkeypatch.setattr(open_panel, "UPLOAD_DIR", tmp_path / "uploads")
    st.cache_resource.clear()
    yield folder
    st.cache_resource.clear()


def memory_core(joined: Path):
    from evaldash import evaluate
    from evaldash.dataset import load_predictions

    return evaluate(load_predictions(joined))


def open_page(page: str = "pages/overview.py", timeout: float = TIMEOUT) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=timeout)
    at.run()
    assert not at.exception, at.exception
    if page != "pages/overview.py":
        at.switch_page(page).run()
        assert not at.exception, at.exception
    return at


def captions(at, where=None) -> str:
    return " ".join(c.value for c in (where or at).caption).replace("\\", "")  # md() escapes


def test_the_overview_on_an_engine_shows_the_memory_numbers_and_intervals_and_one_line_for_auc_intervals(on_duckdb, joined):
    at = open_page()
    assert "Engine: duckdb (the rows stay in the engine; only aggregates come back)" in captions(at, at.sidebar)
    assert "1,500 samples · 4 classes" in captions(at, at.sidebar)
    assert ("ROC AUC ± is not computed by the dashboard on the duckdb engine (each class's scores would be sorted, "
            "a long query while other clicks wait); `evaldash report FILE --engine duckdb --ci` gives it."
            in captions(at))
    assert [b.label for b in at.button if b.key == "engine_sample"] == ["Open its 1,500 rows in memory"]
    table = at.dataframe[0].value
    core = memory_core(joined)
    assert list(table["class"]) == list(core.dataset.classes)
    assert np.allclose(table["F1"].to_numpy(float), core.per_class["f1"], equal_nan=True, atol=1e-12)
    assert np.allclose(table["ROC AUC"].to_numpy(float), core.ranking["roc_auc"], equal_nan=True, atol=1e-9)
    # accuracy and F1 intervals from the engine's confusion counts: the memory path's own intervals
    want = core.intervals()
    assert np.allclose(table["F1 ±"].to_numpy(float), [(want["per_class"][c]["f1"][1] - want["per_class"][c]["f1"][0]) / 2
                                                       for c in core.dataset.classes], atol=1e-12)
    assert "ROC AUC ±" not in table.columns


def test_the_file_is_opened_on_its_engine_once_for_every_session(on_duckdb):
    from evaldash.ui.engine_sources import _opened
    from evaldash.ui.sources import load, start_source

    first = open_page()
    second = open_page("pages/confusion.py")
    assert not first.exception and not second.exception
    table, _, _ = _opened()
    assert len(table) == 1
    assert load(start_source()) is next(iter(table.values()))


def test_the_first_opening_names_its_steps_as_the_engine_works(on_duckdb, monkeypatch):
    from evaldash.engines.evaluation import EngineEvaluation
    from evaldash.ui import engine_sources

    steps, labels = [], []
    real = EngineEvaluation.precompute

    def recorded(self, *args, progress=None, **kwargs):
        steps.append(progress)
        return real(self, *args, progress=progress, **kwargs)

    monkeypatch.setattr(EngineEvaluation, "precompute", recorded)
    monkeypatch.setattr(engine_sources.st, "empty", status_recorder(labels))
    from evaldash.ui.sources import load, start_source

    load(start_source())
    assert len(steps) == 1 and callable(steps[0])
    assert labels[0] == f"Opening {on_duckdb.name} on the duckdb engine…"
    assert labels[1] == f"Opening {on_duckdb.name} on the duckdb engine: reading and checking the file…"
    assert len(labels) > 3 and labels[-1] == "(removed)"
    load(start_source())  # opened: no second status
    assert len(steps) == 1


@pytest.mark.parametrize("page, line", [
    ("pages/errors.py", "The suspected label errors (cleanlab) are not available on the duckdb engine"),
    ("pages/review.py", "Reviewing suspected label errors is not available on the duckdb engine"),
])
def test_pages_that_need_every_row_say_so_in_one_line_with_the_sample_button(on_duckdb, page, line):
    at = open_page(page)
    assert line in captions(at)
    assert [b.label for b in at.button if b.key.endswith("_sample")] == ["Open its 1,500 rows in memory"]


def test_an_engine_refusal_is_one_line_not_a_traceback(on_duckdb, monkeypatch):
    from evaldash.engines.evaluation import EngineEvaluation
    from evaldash.errors import InputError

    def refused(self):
        raise InputError("the duckdb engine cannot do that\nyet")

    monkeypatch.setattr(EngineEvaluation, "top_k", refused)
    at = open_page()
    assert captions(at).count("the duckdb engine cannot do that yet") == 1
    assert [b.label for b in at.button if b.key == "engine_sample_page"] == ["Open its 1,500 rows in memory"]


def test_the_sample_button_opens_the_rows_in_memory_as_a_run_with_the_file_annotations(on_duckdb, joined):
    from evaldash.ui.findings_store import fingerprint
    from evaldash.ui.sources import load, start_source

    at = open_page()
    on_engine = fingerprint(load(start_source()))
    next(b for b in at.button if b.key == "engine_sample").click().run()
    assert not at.exception, at.exception
    source = at.session_state["source"]
    assert source.engine == "memory" and source.path.endswith(".parquet") and "samples" in source.path
    assert "Engine:" not in captions(at, at.sidebar)
    assert "not available on the duckdb engine" not in captions(at)
    # fewer rows than the sample's size: every row, every column, in file order
    assert pd.read_parquet(source.path).equals(pd.read_parquet(joined))
    assert len(at.session_state["runs"]) == 2
    assert fingerprint(load(source)) == on_engine  # a tag saved on the sample is the whole file's


def test_a_cell_gallery_on_an_engine_lists_the_memory_path_samples_page_by_page(on_duckdb, joined):
    core = memory_core(joined)
    d = core.dataset
    i, j = 1, 0
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["true"], at.query_params["pred"] = d.classes[i], d.classes[j]
    at.run()
    at.switch_page("pages/confusion.py").run()
    assert not at.exception, at.exception
    gallery = at.get_by_key("cell_gallery")
    want = [str(d.ids[r]) for r in core.cell_samples(i, j)]
    assert len(want) > 24
    assert gallery.caption[0].value.startswith(f"{len(want)} images")  # no sample line: tags filter here too
    assert [img.captions[0].split(" · ")[0] for img in gallery.image] == want[:24]
    at.number_input(key="cell_gallery_page").set_value(2).run()
    assert not at.exception, at.exception
    assert [img.captions[0].split(" · ")[0] for img in at.get_by_key("cell_gallery").image] == want[24:48]
    assert "not available on the duckdb engine" not in captions(at)  # tags filter the cell in the engine
    for mode in ("true", "pred", "score"):
        at.segmented_control(key="cm_mode").set_value(mode).run()
        assert not at.exception, (mode, at.exception)


def test_the_first_view_does_not_wait_for_the_cell_table_and_a_cell_meanwhile_shows_the_memory_samples(on_duckdb,
                                                                                                       joined):
    from test_app import expected_threshold_metrics, shown_threshold_metrics

    from evaldash.engines import cells
    from evaldash.ui.engine_sources import _opened

    core = memory_core(joined)
    d = core.dataset
    i, j = 1, 0
    want = [str(d.ids[r]) for r in core.cell_samples(i, j)]
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["true"], at.query_params["pred"] = d.classes[i], d.classes[j]
    with cells._one_sort:  # another file's table is being sorted: this file's build waits its turn
        at.run()
        assert not at.exception, at.exception
        e = next(iter(_opened()[0].values()))
        job = e._memo[cells.JOB]
        assert job.running and e._memo.get("cell table") is None  # started, not waited for
        at.switch_page("pages/confusion.py").run()
        assert not at.exception, at.exception
        gallery = at.get_by_key("cell_gallery")
        assert any(c.value.startswith(f"{len(want)} images") for c in gallery.caption)
        assert ("Cell galleries: the table of every row sorted by cell and confidence, which reads a page at once, "
                "waits for another file's table to be built first; until then each page is read from the file"
                in captions(at, gallery))
        assert [img.captions[0].split(" · ")[0] for img in gallery.image] == want[:24]
        at.switch_page("pages/threshold.py").run()
        assert not at.exception, at.exception
        c, t = int(at.session_state["class_select"]), float(at.session_state["threshold_t"])
        assert shown_threshold_metrics(at) == expected_threshold_metrics(core, c, t)
        assert job.running
    assert job.wait(60) and job.error is None and e._memo["cell table"] is job.table
    at.switch_page("pages/confusion.py").run()
    gallery = at.get_by_key("cell_gallery")
    assert "Cell galleries" not in captions(at, gallery)  # built: the line is gone (its pages: test_engine_cells)
    assert [img.captions[0].split(" · ")[0] for img in gallery.image] == want[:24]


@pytest.mark.parametrize("t", [0.3, 0.123457])
def test_the_live_threshold_on_an_engine_shows_the_memory_path_counts(on_duckdb, joined, t):
    from test_app import expected_threshold_metrics, set_threshold, shown_threshold_metrics

    core = memory_core(joined)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["class"] = core.dataset.classes[2]
    at.run()
    at.switch_page("pages/threshold.py").run()
    assert not at.exception, at.exception
    set_threshold(at, t)
    assert not at.exception, at.exception
    assert shown_threshold_metrics(at) == expected_threshold_metrics(core, 2, t)


def test_calibration_and_abstention_on_an_engine(on_duckdb, joined):
    core = memory_core(joined)
    at = open_page("pages/calibration.py")
    assert "not available on the duckdb engine" not in captions(at)
    at.slider(key="confidence_threshold").set_value(0.5).run()
    assert not at.exception, at.exception
    s = core.selective.at(0.5)
    assert f"**kept** {s['kept']:,} of 1,500" in " ".join(m.value for m in at.markdown)
    cal = core.calibration
    assert f"Log loss {cal['log_loss']:.4f}" in captions(at)


def test_the_slice_table_on_an_engine_is_the_memory_one(on_duckdb, joined):
    from evaldash.slices import slice_table

    at = open_page("pages/slices.py")
    shown = at.dataframe[0].value
    want = slice_table(memory_core(joined).dataset, "site")
    assert list(shown["slice"]) == list(want["slice"])
    assert np.allclose(shown["macro_f1"].to_numpy(float), want["macro_f1"].to_numpy(float), atol=1e-12)
    assert list(shown["accuracy_ci"]) == [f"[{lo:.3f}, {hi:.3f}]" for lo, hi in
                                          zip(want["accuracy_low"], want["accuracy_high"])]


@pytest.mark.parametrize("page", ["pages/decision.py", "pages/runs.py", "pages/compare.py"])
def test_the_other_pages_run_on_an_engine(on_duckdb, page):
    at = open_page(page)
    assert not at.exception


def test_the_live_threshold_sends_counts_the_browser_can_add(on_duckdb):
    # the engine's counts are int64, which Arrow hands to JavaScript as BigInt ("Cannot mix BigInt and other types")
    from test_app import live_payload

    at = open_page("pages/threshold.py")
    grid = live_payload(at, "threshold_metrics")["grid"]
    assert grid["tp"].dtype != np.int64 and grid["fp"].dtype != np.int64
    assert (grid["tp"] == grid["tp"].round()).all()


def test_auto_opens_a_folder_on_duckdb_and_a_small_file_in_memory(monkeypatch, tmp_path, folder, joined):
    monkeypatch.setenv("EVALDASH_DB", str(tmp_path / "annotations.db"))
    monkeypatch.delenv("EVALDASH_PREDICTIONS", raising=False)
    st.cache_resource.clear()
    monkeypatch.setattr(sys, "argv", ["app.py", str(folder), "--engine", "auto"])
    at = open_page()
    assert "Engine: duckdb (the rows stay in the engine" in captions(at, at.sidebar)
    monkeypatch.setattr(sys, "argv", ["app.py", str(joined), "--engine", "auto"])
    at = open_page()
    assert "Engine: memory (--engine auto: the file fits in memory)" in captions(at, at.sidebar)
    assert "not available on the" not in captions(at)
    st.cache_resource.clear()


def test_the_overview_on_spark_in_local_mode(monkeypatch, tmp_path, folder, joined):
    monkeypatch.setattr(sys, "argv", ["app.py", str(folder), "--engine", "spark", "--spark-master", "local[1]"])
    monkeypatch.setenv("EVALDASH_DB", str(tmp_path / "annotations.db"))
    monkeypatch.delenv("EVALDASH_PREDICTIONS", raising=False)
    st.cache_resource.clear()
    try:
        at = open_page(timeout=600)  # a Spark driver starts first (a minute on a busy machine)
        assert "Engine: spark, master local[1] (the rows stay in the engine" in captions(at, at.sidebar)
        table = at.dataframe[0].value
        assert np.allclose(table["ROC AUC"].to_numpy(float), memory_core(joined).ranking["roc_auc"], equal_nan=True,
                           atol=1e-9)
    finally:
        from evaldash.ui.engine_sources import _engines

        for engine in _engines().values():
            engine.close()
        st.cache_resource.clear()


def test_a_glob_is_a_start_path_on_an_engine(execv, monkeypatch, tmp_path, folder, joined):
    from evaldash.cli import main

    pattern = str(folder / "part-*.parquet")
    assert main(["serve", pattern, "--engine", "duckdb"]) == 0
    app_args = execv[0][execv[0].index("--") + 1:]
    assert app_args[0] == pattern
    monkeypatch.setattr(sys, "argv", ["app.py", *app_args])
    monkeypatch.setenv("EVALDASH_DB", str(tmp_path / "annotations.db"))
    st.cache_resource.clear()
    at = open_page("pages/runs.py")
    assert "1,500 samples · 4 classes" in captions(at, at.sidebar)  # /runs states a glob's files
    st.cache_resource.clear()


def test_a_path_opened_in_the_sidebar_is_read_on_the_server_engine(on_duckdb, joined, monkeypatch):
    from test_app import open_path

    # the file is beside the start folder, not in it: a data root of the operator's choosing
    monkeypatch.setattr(sys, "argv", [*sys.argv, "--data-root", str(joined.parent)])
    at = open_page()
    open_path(at, joined)
    source = at.session_state["source"]
    assert source.path == str(joined.resolve()) and source.engine == "duckdb"
    assert "Engine: duckdb" in captions(at, at.sidebar)
    assert len(at.session_state["runs"]) == 2


def test_an_engine_failure_is_one_line_not_a_traceback(on_duckdb, monkeypatch):
    import duckdb

    from evaldash.engines.evaluation import EngineEvaluation

    def failed(self):
        raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block of size 256 KiB\nmore")

    monkeypatch.setattr(EngineEvaluation, "top_k", failed)
    at = open_page()
    assert captions(at).count("the duckdb engine failed: Out of Memory Error: could not allocate block") == 1
    assert [b.label for b in at.button if b.key == "engine_sample_page"] == ["Open its 1,500 rows in memory"]


def test_an_engine_failure_while_opening_is_the_start_error(on_duckdb, monkeypatch):
    import duckdb

    from evaldash.engines.evaluation import EngineEvaluation

    def failed(self, *args, **kwargs):
        raise duckdb.IOException("IO Error: No files found that match the pattern")

    monkeypatch.setattr(EngineEvaluation, "precompute", failed)
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT).run()
    assert not at.exception
    shown = at.error[0].value.replace("\\", "")  # md() escapes
    assert "parts: the duckdb engine failed: IO Error: No files found that match the pattern" in shown


@pytest.mark.parametrize("kind", ["mistakes", "unsure"])
def test_the_error_galleries_on_an_engine_are_the_memory_path_ones_within_filters(on_duckdb, joined, kind):
    from evaldash.error_analysis import filter_mask, gallery_rows

    core = memory_core(joined)
    d = core.dataset
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["gallery"] = kind
    at.query_params["true"] = d.classes[1]
    at.run()
    at.switch_page("pages/errors.py").run()
    assert not at.exception, at.exception
    assert "Suspected label errors" not in [o for o in at.segmented_control(key="err_gallery").options]
    mask = filter_mask(d, [1], [], {})
    rows, total = gallery_rows(core, kind, mask, 48)
    gallery = at.get_by_key("error_gallery")
    assert gallery.caption[0].value == f"{total} images"
    assert [img.captions[0].split(" · ")[0] for img in gallery.image] == [str(d.ids[r]) for r in rows[:24]]
    at.multiselect(key="err_meta_0").set_value(["north"]).run()  # the site filter, from the engine
    assert not at.exception, at.exception
    mask = filter_mask(d, [1], [], {"site": ["north"]})
    rows, total = gallery_rows(core, kind, mask, 24)
    gallery = at.get_by_key("error_gallery")
    assert gallery.caption[0].value == f"{total} images"
    assert [img.captions[0].split(" · ")[0] for img in gallery.image] == [str(d.ids[r]) for r in rows[:24]]


def test_a_reliability_bin_gallery_on_an_engine_is_the_memory_path_one(on_duckdb, joined):
    from evaldash import figures

    core = memory_core(joined)
    bins = core.calibration["bins"]
    b = int(np.argmax(bins["count"]))
    at = open_page("pages/calibration.py")
    at.session_state["reliability_bin"] = b
    at.run()
    assert not at.exception, at.exception
    rows = figures.reliability_bin_rows(core.confidence, float(bins["lower"][b]), float(bins["upper"][b]))
    gallery = at.get_by_key("reliability_gallery")
    assert gallery.caption[0].value.startswith(f"{len(rows):,} images")
    assert [img.captions[0].split(" · ")[0] for img in gallery.image] == [str(core.dataset.ids[r]) for r in rows[:24]]


def test_the_memory_limit_reaches_duckdb_and_the_sidebar(monkeypatch, tmp_path, folder):
    from evaldash.ui.sources import load, start_source

    monkeypatch.setattr(sys, "argv", ["app.py", str(folder), "--engine", "duckdb", "--memory-limit", "700MB"])
    monkeypatch.setenv("EVALDASH_DB", str(tmp_path / "annotations.db"))
    st.cache_resource.clear()
    try:
        at = open_page()
        assert "Engine: duckdb, memory limit 700MB (the rows stay" in captions(at, at.sidebar)
        limit = load(start_source()).engine.row("SELECT current_setting('memory_limit') AS m")["m"]
        assert limit in ("667.5 MiB", "700.0 MB", "700MB"), limit
    finally:
        st.cache_resource.clear()


@pytest.mark.parametrize("a, b", [(0.6, 0.4), (0.3, 0.45)])
def test_the_samples_that_flip_on_an_engine_are_the_memory_path_ones(on_duckdb, joined, a, b):
    from evaldash import decision as dc

    core = memory_core(joined)
    d = core.dataset
    c = 1
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.query_params["class"] = d.classes[c]
    at.query_params["t"] = str(b)
    at.run()
    at.switch_page("pages/decision.py").run()
    at.session_state["dec_from"] = a
    at.run()
    assert not at.exception, at.exception
    flip = dc.flips(d.scores[:, c], d.y_true == c, a, b)
    counts = flip.counts
    shown = " ".join(m.value for m in at.markdown)
    assert (f"**{counts['new_tp']:,}** new true positives · **{counts['new_fp']:,}** new false positives · "
            f"**{counts['new_fn']:,}** new false negatives · **{counts['new_tn']:,}** newly correct negatives") in shown
    kind = next(k for k in ("new_tp", "new_fp", "new_fn", "new_tn") if counts[k])
    rows = getattr(flip, kind)
    rows = rows[np.argsort(-d.scores[rows, c], kind="stable")]
    assert [img.captions[0].split(" · ")[0] for img in at.image] == [str(d.ids[r]) for r in rows[:24]]
    assert "The samples that flip" not in captions(at)


def test_the_review_queue_on_an_engine_walks_the_mistakes_marks_them_and_resumes(on_duckdb, joined):
    from evaldash.annotations import AnnotationStore
    from evaldash.ui.findings_store import fingerprint
    from evaldash.ui.sources import load, start_source

    core = memory_core(joined)
    d = core.dataset
    wrong = np.flatnonzero(d.y_true != d.y_pred)
    order = wrong[np.argsort(-core.confidence[wrong], kind="stable")]
    total = len(order)
    at = open_page()
    at.text_input(key="annotator").set_value("ann").run()
    at.switch_page("pages/review.py").run()
    assert not at.exception, at.exception
    progress = lambda a: a.get_by_key("review_progress").get("progress")[0].proto.text  # noqa: E731
    assert f"0 / {total} reviewed" in progress(at)
    assert at.subheader[0].value.startswith(f"{d.ids[order[0]]}:")
    at.button(key="review_next").click().run()
    at.button(key="review_next").click().run()
    assert not at.exception, at.exception
    assert at.subheader[0].value.startswith(f"{d.ids[order[2]]}:")
    fp = fingerprint(load(start_source()))
    assert AnnotationStore(None).reviewed(fp, "mistakes") == {str(d.ids[order[0]]), str(d.ids[order[1]])}
    other = open_page("pages/review.py")  # another session: the shared progress, the first not reviewed
    assert f"2 / {total} reviewed" in progress(other)
    assert other.subheader[0].value.startswith(f"{d.ids[order[2]]}:")
    other.segmented_control(key="review_set").set_value("cell").run()
    assert not other.exception, other.exception
    i, j = other.session_state["review_true"], other.session_state["review_pred"]
    assert other.subheader[0].value.startswith(f"{d.ids[core.cell_samples(i, j)[0]]}:")
    assert f"0 / {int(core.confusion[i, j])} reviewed" in progress(other)


def test_compare_of_a_run_on_an_engine_with_one_in_memory_shows_each_run_numbers_and_one_line(on_duckdb, joined):
    # both on the engine: paired there (tests/test_engine_compare_app.py); one in memory: each run's own numbers
    core = memory_core(joined)
    at = open_page()
    next(b for b in at.button if b.key == "engine_sample").click().run()  # B: the same rows, in memory
    assert not at.exception, at.exception
    at.switch_page("pages/compare.py").run()
    assert not at.exception, at.exception
    table = at.dataframe[0].value
    head = core.headline()
    assert list(table["metric"][:2]) == ["accuracy", "macro F1"]
    assert np.allclose(table.iloc[:, 1].to_numpy(float)[:2], [head["accuracy"], head["macro_f1"]], atol=1e-12)
    assert np.allclose(table["B − A"].to_numpy(float), 0.0, atol=1e-12, equal_nan=True)
    assert list(table["metric"][4:]) == [f"F1 of {c}" for c in core.dataset.classes]
    assert "A is on the duckdb engine, B is in memory: the differences' bootstrap intervals, the samples B fixed and broke and " \
           "the paired matrices need both runs on one engine or both in memory." in captions(at)
    assert [b.label for b in at.button if b.key == "engine_sample"] == ["Open its 1,500 rows in memory"]


def test_one_threshold_per_class_on_an_engine_is_the_memory_rule(on_duckdb, joined):
    # the rule's (true class, decision) cells counted in the engine (evaldash.engines.operating)
    core = memory_core(joined)
    at = open_page("pages/decision.py")
    assert "One threshold per class" in [s.value for s in at.subheader]
    at.button(key="dec_suggest_f1").click().run()
    assert not at.exception, at.exception
    thresholds = np.array([np.inf if v is None else v for v in at.session_state["dec_thresholds"]])
    want = core.operating_points(thresholds, "abstain")
    table = next(df.value for df in at.dataframe if "set aside" in df.value)
    assert table["predicted"].tolist() == want.per_class["predicted"].tolist()
    assert table["set aside"].tolist() == want.per_class["abstained"].tolist()
    assert np.allclose(table["F1"].to_numpy(float), want.per_class["f1"], atol=1e-12)
    assert f"**macro F1** {want.macro['f1']:.3f}" in " ".join(m.value for m in at.markdown)


def test_the_multi_label_sample_with_images_opens_on_an_engine_in_serve_and_the_app(monkeypatch, tmp_path, capsys,
                                                                                      execv):
    from evaldash.cli import main

    path = "sample_data/digits/concepts.csv"
    assert main(["serve", path, "--engine", "duckdb"]) == 0
    assert capsys.readouterr().err == ""
    monkeypatch.setattr(sys, "argv", ["app.py", path, "--engine", "duckdb"])
    monkeypatch.delenv("EVALDASH_PREDICTIONS", raising=False)
    monkeypatch.setenv("EVALDASH_DB", str(tmp_path / "annotations.db"))
    st.cache_resource.clear()
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    at.query_params["true"] = "even"
    at.query_params["pred"] = "prime"
    at.switch_page("pages/confusion.py").run()
    assert not at.exception and not at.error, (at.exception, [e.value for e in at.error])
    assert "Engine: duckdb" in captions(at, at.sidebar)
    assert len(at.get_by_key("cell_gallery").image) > 0
    st.cache_resource.clear()


def test_a_folder_or_a_glob_opens_from_the_path_box_on_an_engine(on_duckdb):
    """The sidebar's Path on the server opens a folder of Parquet files or a glob on the server's
    engine, as at start (it refused everything but a single file)."""
    at = open_page()
    for typed in (str(on_duckdb), f"{on_duckdb}/*.parquet"):
        at.button(key="open_file").click().run()  # the panel closes once a file opens
        at.text_input(key="path_input").input(typed)
        at.button(key="open_path").click().run()
        assert not at.exception, at.exception
        assert [e.value for e in at.sidebar.error] == []
        assert {m.label: m.value for m in at.metric}["Samples"] == "1,500"
