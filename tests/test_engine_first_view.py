"""The dashboard's first view on DuckDB (``precompute(background=True)``): only the shown class's
exact summary (a sort of every row) is computed before it; every class's drawn curves and slider
counts come from scans, the same as from the summaries; the other classes' summaries follow on a
worker connection before the cell table, and a page asking for one meanwhile gets it exact. A
script that exits while that work runs exits cleanly.

Expected numbers come from the memory path (``evaldash.evaluate`` on the same file)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from engine_cases import binary_ties, differences, memory_report, multiclass_ties, write
from evaldash.engines import cells, evaluate_file, open_engine, reduced
from evaldash.engines.evaluation import OnEngine
from evaldash.report import to_jsonable

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def duck():
    engine = open_engine("duckdb", memory_limit="1GB")
    yield engine
    engine.close()


def sorts_on(engine) -> list[str]:
    """Record the exact summaries (one sort of every row each) run on ``engine``'s own connection."""
    sorts = []

    def counting(run):
        def query(text):
            if "ev_prev IS NULL OR ev_prev <> t" in text:
                sorts.append(text)
            return run(text)
        return query

    engine.row, engine.frame = counting(engine.row), counting(engine.frame)
    return sorts


def sweep_arrays(e, cls: int) -> dict:
    s = e.sweep(cls)
    return {"thresholds": s.thresholds.tolist(), "tp": s.tp.tolist(), "fp": s.fp.tolist(), "n_pos": s.n_pos,
            "n_neg": s.n_neg, "low": s.low, "high": s.high, "curves": {k: v.tolist() for k, v in e.class_curves(cls).items()}}


def test_the_first_view_sorts_the_shown_class_only_and_the_others_follow_on_a_worker(duck, tmp_path, monkeypatch):
    import threading

    from evaldash.engines import evaluation

    path = write(multiclass_ties(n=2000, seed=61), tmp_path / "m.parquet")  # class 3 never in the labels
    mem, m = memory_report(path)
    e = evaluate_file(duck, str(path))
    sorts = sorts_on(duck)
    steps = []
    reached, go = threading.Event(), threading.Event()
    real = evaluation.class_summary

    def paused(e, scores, cls, engine=None):
        if engine is not None:  # the background's, on its worker: hold it there
            reached.set()
            assert go.wait(60)
        return real(e, scores, cls, engine)
    monkeypatch.setattr(evaluation, "class_summary", paused)
    with cells._one_sort:  # another sort runs: the background waits before its first one
        assert e.precompute(background=True, progress=steps.append) is e
        k = e.dataset.n_classes
        names = e.dataset.classes
        assert [s for s in steps if "exact sweep" in s] == [f"class {names[0]!r}: exact sweep (ROC AUC, average precision)"]
        assert len(sorts) == 1 and [c for c in range(k) if ("summary", c) in e._memo] == [0]
        # every class's drawn curves and slider counts are there, the memory path's (few distinct
        # scores: the reduced sweep is the whole sweep)
        for c in range(k):
            want = m.sweep(c)
            assert e.sweep(c).thresholds.tolist() == want.thresholds.tolist()
            assert e.sweep(c).tp.tolist() == want.tp.tolist() and e.sweep(c).fp.tolist() == want.fp.tolist()
            for name, v in m.class_curves(c).items():
                assert np.array_equal(e.class_curves(c)[name], v, equal_nan=True), (c, name)
        assert np.array_equal(e.average_curves["roc macro-average"][1], m.average_curves["roc macro-average"][1])
        assert e.class_ranking(0) == pytest.approx(m.class_ranking(0), abs=1e-12)
        # the sidebar's warnings need no summary: a class without positives is known from the counts
        assert [w for w in e.warnings() if "image paths" not in w] == m.warnings()
        assert f"class {names[3]!r}: ROC AUC/average precision undefined (no positive samples)" in m.warnings()
        assert len(sorts) == 1
        job = e._memo[cells.JOB]
        assert "waits for another file's table to be built first" in cells.status(e)
        # a page asking for another class's numbers meanwhile computes them, exactly
        auc, ap = e.class_ranking(2)
        assert (auc, ap) == pytest.approx(m.class_ranking(2), abs=1e-12) and len(sorts) == 2
        assert np.isnan(e.class_ranking(3)[0]) and np.isnan(m.class_ranking(3)[0])
    assert reached.wait(60)  # the background's first sort (class 1), while the cell table waits for it
    assert "waits for the exact sweeps of the other classes to be computed first" in cells.status(e)
    go.set()
    assert job.wait(60) and job.error is None and e._memo.get("cell table") is not None
    # the rest ran on the worker connection: no other sort on the engine's own
    assert len(sorts) == 3 and all(("summary", c) in e._memo for c in range(k))
    eng = to_jsonable(e.report())
    eng["warnings"] = [w for w in eng["warnings"] if "image paths" not in w]
    assert differences(mem, eng) == []


def test_a_binary_file_with_one_score_column_is_still_sorted_once_before_the_first_view(duck, tmp_path):
    path = write(binary_ties(n=1500, seed=62), tmp_path / "b.parquet")
    mem, m = memory_report(path)
    e = evaluate_file(duck, str(path))
    sorts = sorts_on(duck)
    e.precompute(background=True)
    assert len(sorts) == 1 and "mirrored summaries" in e._memo  # both classes from the one sort
    assert e._memo[cells.JOB].wait(60)
    assert len(sorts) == 1 and e.ranking["roc_auc"] == pytest.approx(m.ranking["roc_auc"], abs=1e-12)


@pytest.mark.parametrize("every_step, histogram, summary_needed", [
    (40, reduced.HISTOGRAM, False),  # many distinct scores, the histogram shows it: no sort
    (40, 8, True),  # many distinct scores in few ranges: the summary decides (histogram path)
    (5000, reduced.HISTOGRAM, False),  # fewer rows than EVERY_STEP: every step, no sort
    (1100, reduced.HISTOGRAM, True),  # about 1000 distinct, as many ranges: the summary says (every step)
])
def test_curves_and_slider_counts_without_the_summary_are_those_made_with_it(duck, tmp_path, monkeypatch,
                                                                             every_step, histogram, summary_needed):
    monkeypatch.setattr(reduced, "EVERY_STEP", every_step)
    monkeypatch.setattr(reduced, "HISTOGRAM", histogram)
    frame = multiclass_ties(n=3000, k=3, seed=63, absent=None)
    rng = np.random.default_rng(63)
    frame["score_1"] = np.round(rng.random(len(frame)), 3)  # about 1000 distinct scores
    path = write(frame, tmp_path / "d.parquet")
    e = evaluate_file(duck, str(path))
    before = evaluate_file(duck.sibling(), str(path))
    monkeypatch.setattr(before, "_sweep_totals", lambda cls: OnEngine._sweep_totals(before, cls))  # as before
    for c in range(3):
        assert sweep_arrays(e, c) == sweep_arrays(before, c), c
    assert (("summary", 1) in e._memo) == summary_needed
    assert [e.sweep(c).roc_auc() for c in range(3)] == [before.sweep(c).roc_auc() for c in range(3)]
    # a float sum in parallel: its last bits vary from run to run of the same query
    assert [e.sweep(c).average_precision() for c in range(3)] == pytest.approx(
        [before.sweep(c).average_precision() for c in range(3)], rel=1e-12)


def test_a_page_needing_every_class_names_each_sweep_it_waits_for(duck, tmp_path, monkeypatch):
    from engine_cases import status_recorder
    from evaldash.ui import engine_ranking

    path = write(multiclass_ties(n=1200, k=3, seed=65, absent=None), tmp_path / "m.parquet")
    _, m = memory_report(path)
    e = evaluate_file(duck, str(path))
    labels = []
    monkeypatch.setattr(engine_ranking.st, "empty", status_recorder(labels))
    with cells._one_sort:  # the background has not begun: the page computes the two it needs
        e.precompute(background=True)
        assert engine_ranking.missing_summaries(e) == [1, 2]
        engine_ranking.wait_for_ranking(e)
        assert engine_ranking.missing_summaries(e) == []
        assert e.ranking["roc_auc"] == pytest.approx(m.ranking["roc_auc"], abs=1e-12)
    label = "Exact sweeps of the other classes (ROC AUC, average precision), one sort of every row each"
    assert labels == [f"{label}…", f"{label}: class 1 (1 of 2)…", f"{label}: class 2 (2 of 2)…", "(removed)"]
    labels.clear()
    engine_ranking.wait_for_ranking(e)  # all there: nothing shown
    engine_ranking.wait_for_ranking(m)  # in memory: nothing to wait for
    assert labels == [] and e._memo[cells.JOB].wait(60)


EXITS = """
import sys, time
from evaldash.engines import cells, evaluate_file, open_engine
e = evaluate_file(open_engine("duckdb"), sys.argv[1])
e.precompute(background=True)
job = e._memo[cells.JOB]
while job._worker is None and job.running:  # until the cell table's sort runs on its worker
    time.sleep(0.001)
print("exiting", job.running, flush=True)
"""


def test_a_script_exiting_while_the_background_sorts_exits_cleanly(tmp_path):
    path = write(multiclass_ties(n=200_000, seed=64), tmp_path / "big.parquet")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", EXITS, str(path)], capture_output=True, text=True, env=env,
                          timeout=120)
    assert done.stdout.startswith("exiting True"), done.stdout  # it exited while the sort ran
    assert done.returncode == 0, done.stderr
    assert "terminate called" not in done.stderr and "not built" not in done.stderr
