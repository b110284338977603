"""A multi-label file's first view on DuckDB (``precompute(background=True)``): only the shown
concept's exact summary (a sort of every row) is computed before it; every concept's drawn curves
and slider counts come from scans, the same as from the summaries; the other concepts' summaries,
the micro average and the label ranking metrics follow on a worker connection, and a page asking
for one meanwhile gets it exact.

Expected numbers come from the memory path (the same file in memory)."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from engine_cases import differences, status_recorder
from evaldash.engines import background, cells, open_engine, reduced
from evaldash.engines import multilabel_evaluation as ml
from evaldash.engines.evaluation import OnEngine
from evaldash.engines.multilabel_evaluation import evaluate_path
from evaldash.report import to_jsonable
from multilabel_engine_cases import frame, memory_evaluation, write
from test_engine_first_view import sorts_on, sweep_arrays


@pytest.fixture
def duck():
    engine = open_engine("duckdb", memory_limit="1GB")
    yield engine
    engine.close()


def join_background() -> None:
    for thread in list(background._threads):
        if thread.name == "evaldash-other-summaries":
            thread.join(60)
            assert not thread.is_alive()


def test_the_first_view_sorts_the_shown_concept_only_and_the_rest_follow_on_a_worker(duck, tmp_path, monkeypatch):
    path = write(frame("list", k=5, n=600, seed=71), tmp_path / "m.parquet")  # concept 'dog' never labelled
    m = memory_evaluation(path)
    e = evaluate_path(duck, str(path))
    sorts = sorts_on(duck)
    steps = []
    reached, go = threading.Event(), threading.Event()
    real = ml.class_summary

    def paused(ev, scores, cls, engine=None):
        if engine is not None and engine is not ev.engine:  # the background's, on its worker: hold it there
            reached.set()
            assert go.wait(60)
        return real(ev, scores, cls, engine)
    monkeypatch.setattr(ml, "class_summary", paused)
    k, names = e.dataset.n_classes, e.dataset.classes
    absent = names.index("dog")  # never labelled
    other = next(c for c in range(k - 1, 0, -1) if c != absent)
    first_left = min(set(range(1, k)) - {absent, other})  # the background's first sort
    with cells._one_sort:  # another sort runs: the background waits before its first one
        assert e.precompute(background=True, progress=steps.append) is e
        assert [s for s in steps if "exact sweep" in s] == [f"concept {names[0]!r}: exact sweep (ROC AUC, average precision)"]
        assert len(sorts) == 1 and [c for c in range(k) if ("summary", c) in e._memo] == [0]
        assert "micro" not in e._memo and "ranking metrics" not in e._memo
        for c in range(k):  # every concept's drawn curves and slider counts: the memory path's
            want = m.sweep(c)
            assert e.sweep(c).thresholds.tolist() == want.thresholds.tolist()
            assert e.sweep(c).tp.tolist() == want.tp.tolist() and e.sweep(c).fp.tolist() == want.fp.tolist()
            for name, v in m.class_curves(c).items():
                assert np.array_equal(e.class_curves(c)[name], v, equal_nan=True), (c, name)
        assert np.array_equal(e.average_curves["roc macro-average"][1], m.average_curves["roc macro-average"][1])
        assert e.class_ranking(0) == pytest.approx(m.class_ranking(0), abs=1e-12)
        # the sidebar's warnings need no summary: a concept without positives is known from its support
        mw = m.warnings()
        assert e.warnings()[:len(mw)] == mw
        assert f"class {names[absent]!r}: ROC AUC/average precision undefined (no positive samples)" in mw
        assert len(sorts) == 1
        # a page asking for other concepts' numbers meanwhile computes them, exactly
        assert e.class_ranking(other) == pytest.approx(m.class_ranking(other), abs=1e-12) and len(sorts) == 2
        assert np.isnan(e.class_ranking(absent)[0]) and np.isnan(m.class_ranking(absent)[0]) and len(sorts) == 3
    assert reached.wait(60)  # the background's first sort: a concept the page did not ask for
    assert ("summary", first_left) not in e._memo
    go.set()
    join_background()
    # the rest ran on the worker connection: no other sort on the engine's own
    assert len(sorts) == 3 and all(("summary", c) in e._memo for c in range(k))
    assert "micro" in e._memo and "ranking metrics" in e._memo
    assert differences(to_jsonable(m.report()), to_jsonable(e.report())) == []
    assert len(sorts) == 3


def test_a_page_needing_every_concept_names_each_sweep_it_waits_for(duck, tmp_path, monkeypatch):
    from evaldash.ui import engine_ranking

    path = write(frame("indicator", k=3, n=400, seed=72), tmp_path / "m.parquet")
    m = memory_evaluation(path)
    e = evaluate_path(duck, str(path))
    labels = []
    monkeypatch.setattr(engine_ranking.st, "empty", status_recorder(labels))
    with cells._one_sort:  # the background has not begun: the page computes what it needs
        e.precompute(background=True)
        assert engine_ranking.missing_summaries(e) == [1, 2]
        engine_ranking.wait_for_ranking(e)
        assert engine_ranking.missing_summaries(e) == [] and "micro" in e._memo
        assert e.ranking["roc_auc"] == pytest.approx(m.ranking["roc_auc"], abs=1e-12, nan_ok=True)
        assert e.micro_ranking == pytest.approx(m.micro_ranking, abs=1e-12)
    label = "Exact sweeps of the other classes (ROC AUC, average precision), one sort of every row each"
    assert labels == [f"{label}…", f"{label}: class {e.dataset.classes[1]} (1 of 2)…",
                      f"{label}: class {e.dataset.classes[2]} (2 of 2)…",
                      "The micro average's exact sweep (every class's scores pooled, one sort)…", "(removed)"]
    labels.clear()
    engine_ranking.wait_for_ranking(e)  # all there: nothing shown
    engine_ranking.wait_for_ranking(m)  # in memory: nothing to wait for
    assert labels == []
    join_background()


def test_a_dropped_view_computes_no_other_concept(duck, tmp_path):
    path = write(frame("list", k=4, n=300, seed=73), tmp_path / "m.parquet")
    e = evaluate_path(duck, str(path))
    with cells._one_sort:
        e.precompute(background=True)
        cells.drop(e)  # the view is no longer kept (a derived view dropped): its background gives up
    join_background()
    assert [c for c in range(4) if ("summary", c) in e._memo] == [0] and "micro" not in e._memo


def test_curves_and_slider_counts_without_the_summary_are_those_made_with_it(duck, tmp_path, monkeypatch):
    monkeypatch.setattr(reduced, "EVERY_STEP", 40)  # more distinct scores: the histogram decides, no sort
    table = frame("list", k=3, n=800, seed=74, every=True)  # each concept labelled (curves without NaN)
    table["score_dog"] = np.round(np.random.default_rng(74).random(len(table)), 3)  # about 600 distinct
    path = write(table, tmp_path / "d.parquet")
    e = evaluate_path(duck, str(path))
    before = evaluate_path(duck.sibling(), str(path))
    monkeypatch.setattr(before, "_sweep_totals", lambda cls: OnEngine._sweep_totals(before, cls))  # from the summary
    for c in range(3):
        assert sweep_arrays(e, c) == sweep_arrays(before, c), c
    assert not any(("summary", c) in e._memo for c in range(3))
    assert [e.sweep(c).roc_auc() for c in range(3)] == [before.sweep(c).roc_auc() for c in range(3)]
