"""/compare with both runs on DuckDB (``serve A.parquet B.parquet --engine duckdb``): the memory
path's comparison (deltas, intervals, verdicts), its galleries (the samples B fixed and broke, those
that moved into or out of a cell) in the memory path's order a page at a time, and Details; and
:class:`evaldash.engines.paired.EnginePair` against the memory path directly."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from engine_cases import status_recorder, differences, multiclass_ties, write
from evaldash.compare import aligned_rows, compare, fixed_broken
from evaldash.dataset import load_predictions
from evaldash.evaluation import evaluate
from evaldash.report import to_jsonable

APP = Path(__file__).resolve().parents[1] / "app.py"
N = 400


@pytest.fixture(scope="module")
def files(tmp_path_factory) -> tuple[Path, Path]:
    """A and B: the same 400 samples (4 classes, tied scores) scored by two models, B's rows shuffled."""
    folder = tmp_path_factory.mktemp("pair")
    a = multiclass_ties(n=N, seed=31)
    other = multiclass_ties(n=N, seed=32)
    b = a.copy()
    for c in [c for c in a.columns if c.startswith("score")]:
        b[c] = other[c].to_numpy()
    b = b.sample(frac=1.0, random_state=5).reset_index(drop=True)
    return write(a, folder / "a.parquet"), write(b, folder / "b.parquet")


@pytest.fixture(scope="module")
def memory(files):
    """(A, B, their compare(), fixed_broken(), aligned_rows()) on the memory path."""
    a, b = (evaluate(load_predictions(p)) for p in files)
    return a, b, compare(a, b), fixed_broken(a, b), aligned_rows(a, b)


@pytest.fixture
def on_duckdb(monkeypatch, tmp_path, files):
    monkeypatch.setattr(sys, "argv", ["app.py", str(files[0]), str(files[1]), "--engine", "duckdb"])
    monkeypatch.delenv("EVALDASH_PREDICTIONS", raising=False)
    monkeypatch.setenv("EVALDASH_DB", str(tmp_path / "annotations.db"))
    st.cache_resource.clear()
    yield files
    st.cache_resource.clear()


def compare_page() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.run()
    at.switch_page("pages/compare.py").run()
    assert not at.exception, at.exception
    return at


def ids(block) -> list[str]:
    return [img.captions[0].split(" · ")[0] for img in block.image]


def test_compare_on_duckdb_shows_the_memory_paths_deltas_intervals_and_changed_samples(on_duckdb, memory,
                                                                                      monkeypatch):
    from evaldash.engines.paired import EnginePair

    opened = []
    monkeypatch.setattr(EnginePair, "compare", lambda self, *args, _c=EnginePair.compare, **kw: opened.append(1) or _c(
        self, *args, **kw))
    a, b, want, groups, rows_b = memory
    at = compare_page()
    compare_page()  # another session: the pair's comparison is shared, not computed again
    assert opened == [1]
    head = at.dataframe[0].value.set_index("metric")
    names = {"accuracy": "accuracy", "macro_f1": "macro F1", "macro_roc_auc": "macro ROC AUC",
             "ece": "ECE (lower is better)"}
    for m, label in names.items():
        assert head.loc[label, "B − A"] == pytest.approx(want["delta"][m], abs=1e-12)
        low, high = want["intervals"][m]
        assert head.loc[label, "95% interval"] == f"[{low:+.3f}, {high:+.3f}]"
    per = at.dataframe[1].value.set_index("class")
    for c in want["shared_classes"]:
        low, high = want["intervals"][f"f1[{c}]"]
        assert per.loc[c, "95% interval"] == f"[{low:+.3f}, {high:+.3f}]"
    shown = [w.value for w in at.success] + [w.value for w in at.warning] + [i.value for i in at.info]
    assert any(t.replace("\\", "") == want["verdict"] for t in shown)
    assert any(t.replace("\\", "") == want["verdict_auc"] for t in shown)
    assert "Paired: both files hold the same samples" in " ".join(c.value for c in at.caption)
    d = a.dataset
    options = str(at.segmented_control(key="cmp_group").options)
    for name, label in (("fixed", "B fixed"), ("broken", "B broke"), ("both_wrong", "both wrong")):
        assert f"{label} ({want[name]})" in options
    assert len(groups["broken"]) > 24  # two pages
    at.segmented_control(key="cmp_group").set_value("broken").run()
    assert not at.exception, at.exception
    assert ids(at.get_by_key("cmp_changed")) == [str(d.ids[r]) for r in groups["broken"][:24]]
    caption = at.get_by_key("cmp_changed").image[0].captions[0].replace("\\", "")
    r = groups["broken"][0]
    assert f" · B {d.classes[b.dataset.y_pred[rows_b[r]]]} ({b.confidence[rows_b[r]]:.2f})" in caption
    at.number_input(key="cmp_changed_page").set_value(2).run()
    assert not at.exception, at.exception
    assert ids(at.get_by_key("cmp_changed")) == [str(d.ids[r]) for r in groups["broken"][24:48]]
    next(x for x in at.button if x.label == "Details (B)").click().run()  # B's sample, read from B's file
    assert not at.exception, at.exception


def test_a_difference_cell_on_duckdb_lists_the_memory_paths_moved_samples(on_duckdb, memory):
    a, b, _, _, rows_b = memory
    d, db = a.dataset, b.dataset
    at = compare_page()
    i, j = 0, 1
    in_a = (d.y_true == i) & (d.y_pred == j)
    in_b = (db.y_true[rows_b] == i) & (db.y_pred[rows_b] == j)
    moved_in, moved_out = np.flatnonzero(~in_a & in_b), np.flatnonzero(in_a & ~in_b)
    assert len(moved_in) and len(moved_out)
    at.session_state["cmp_cell"] = (i, j)
    at.run()
    assert not at.exception, at.exception
    block = at.get_by_key("cmp_moved")
    assert f"{len(moved_in)} moved in with B, {len(moved_out)} moved out" in block.markdown[0].value
    assert ids(block) == [str(d.ids[r]) for r in list(moved_in[:24]) + list(moved_out[:24])]


def test_the_pair_on_duckdb_gives_the_memory_comparison_and_names_its_steps(files, memory):
    # the same SQL ran on Spark (local mode) once by hand: equal; not kept, a Spark run of it costs 2 minutes here
    from evaldash.engines import evaluate_file, open_engine
    from evaldash.engines.paired import EnginePair

    a, b, _, groups, rows_b = memory
    engine = open_engine("duckdb", memory_limit="1GB")
    try:
        ea, eb = evaluate_file(engine, str(files[0])), evaluate_file(engine.sibling(), str(files[1]))
        pair = EnginePair(ea, eb, "t1")
        steps = []
        got = pair.compare(resamples=40, seed=7, progress=steps.append)
        assert differences(to_jsonable(compare(a, b, resamples=40, seed=7)), to_jsonable(got)) == []
        assert steps == ["pairing the samples by id", "resampling the paired confusion cells",
                         "macro ROC AUC resamples", "ECE resamples"]
        lazy = pair.fixed_broken(got)
        for name, rows in groups.items():
            assert len(lazy[name]) == len(rows) and list(lazy[name][0:len(rows)]) == list(rows)
            assert [pair.rows_b[r] for r in rows] == list(rows_b[rows])
        i, j = 0, 1
        in_a = (a.dataset.y_true == i) & (a.dataset.y_pred == j)
        in_b = (b.dataset.y_true[rows_b] == i) & (b.dataset.y_pred[rows_b] == j)
        moved_in, moved_out = pair.moved(i, j)
        assert list(moved_in[0:len(moved_in)]) == list(np.flatnonzero(~in_a & in_b))
        assert list(moved_out[0:len(moved_out)]) == list(np.flatnonzero(in_a & ~in_b))
    finally:
        engine.close()


def test_the_pair_names_its_steps_while_the_engine_works_then_removes_them(on_duckdb, monkeypatch):
    from evaldash.ui import engine_compare
    from evaldash.ui.sources import load, start_sources

    labels = []

    sa, sb = start_sources()
    a, b = load(sa), load(sb)  # each run opened first (its own status)
    monkeypatch.setattr(engine_compare.st, "empty", status_recorder(labels))
    pair, result = engine_compare.engine_comparison(sa, sb, a, b)
    head = "Comparing a.parquet with b.parquet on the duckdb engine"
    assert labels == [f"{head}…", f"{head}: opening b.parquet beside a.parquet…", f"{head}: pairing the samples by id…",
                      f"{head}: resampling the paired confusion cells…", f"{head}: macro ROC AUC resamples…",
                      f"{head}: ECE resamples…", "(removed)"]
    assert engine_compare.engine_comparison(sa, sb, a, b) == (pair, result)  # computed: no second status
    assert labels[-1] == "(removed)" and len(labels) == 7


def test_an_engine_failure_while_comparing_is_one_line_naming_both_files(on_duckdb, monkeypatch):
    import duckdb

    from evaldash.engines.paired import EnginePair
    from evaldash.errors import InputError
    from evaldash.ui import engine_compare
    from evaldash.ui.sources import load, start_sources

    def failed(self, *args, **kwargs):
        raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block\nmore")
    monkeypatch.setattr(EnginePair, "compare", failed)
    sa, sb = start_sources()
    a, b = load(sa), load(sb)
    monkeypatch.setattr(engine_compare.st, "empty", status_recorder([]))
    with pytest.raises(InputError) as raised:
        engine_compare.engine_comparison(sa, sb, a, b)
    assert str(raised.value) == (f"{sa.path}, {sb.path}: the duckdb engine failed: Out of Memory Error: could not "
                                 f"allocate block")
    monkeypatch.setattr(EnginePair, "compare", lambda self, *args, **kwargs: 1 / 0)
    with pytest.raises(ZeroDivisionError):  # not an engine's own error: as it is
        engine_compare.engine_comparison(sa, sb, a, b)
