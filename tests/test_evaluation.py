"""The Evaluation's derived views for the browser: live-threshold grid, drawn curves, background precompute."""

from __future__ import annotations

import os
import sys
import threading

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, precision_recall_curve, roc_curve

import evaldash
from evaldash import metrics
from evaldash.report import report_json


def _direct_counts(score: np.ndarray, positive: np.ndarray, t: float) -> tuple[int, int]:
    """TP and FP at ``t`` counted straight from the scores (a sample is positive when score >= t)."""
    (_, fp), (_, tp) = confusion_matrix(positive, score >= t, labels=[False, True])
    return int(tp), int(fp)


def test_live_grid_counts_equal_direct_counts_at_every_position(case):
    ev = evaldash.evaluate(case.dataset())
    for c in range(case.k):
        live = ev.live_threshold(c, 0.5)
        grid = live["grid"]
        lo, hi, step = ev.slider_range(c)
        assert grid[0] == lo and grid[-1] == hi
        assert np.all(np.diff(grid) > 0)
        assert grid.size == round((hi - lo) / step) + 1  # 0.5 is a regular step: nothing inserted
        assert not live["inserted"] and grid[live["index"]] == 0.5
        score, positive = case.scores[:, c], case.y_true == c
        for i in range(0, grid.size, 37):
            assert (live["tp"][i], live["fp"][i]) == _direct_counts(score, positive, grid[i]), (c, grid[i])
        assert live["n_pos"] == positive.sum() and live["n_neg"] == (~positive).sum()


def test_live_grid_counts_match_sweep_at_all_positions(case):
    ev = evaldash.evaluate(case.dataset())
    for c in range(case.k):
        live = ev.live_threshold(c, 0.5)
        s = ev.sweep(c)
        expected = [(s.at(t)["tp"], s.at(t)["fp"]) for t in live["grid"]]
        assert list(zip(live["tp"].tolist(), live["fp"].tolist())) == expected


@pytest.mark.parametrize("t", [0.123456, 0.0004, 0.9999, 1e-12])
def test_live_grid_holds_an_off_grid_threshold_exactly(t):
    from classification_cases import make_case

    case = make_case("digits-sample")
    ev = evaldash.evaluate(case.dataset())
    live = ev.live_threshold(8, t)
    assert live["inserted"]
    i = live["index"]
    assert live["grid"][i] == t
    assert np.all(np.diff(live["grid"]) > 0)
    assert live["grid"].size == 1002
    assert (live["tp"][i], live["fp"][i]) == _direct_counts(case.scores[:, 8], case.y_true == 8, t)


def test_slider_range_of_logits_covers_scores_in_round_steps():
    rng = np.random.default_rng(3)
    n = 500
    y = rng.integers(0, 3, n)
    logits = rng.normal(size=(n, 3)) * 4
    import pandas as pd

    frame = pd.DataFrame({"label": y, **{f"score_{c}": logits[:, c] for c in range(3)}})
    ev = evaldash.evaluate(evaldash.dataset_from_frame(frame, source="<logits>"))
    assert not ev.dataset.is_probability
    for c in range(3):
        lo, hi, step = ev.slider_range(c)
        assert lo <= logits[:, c].min() and hi >= logits[:, c].max()
        assert 500 <= (hi - lo) / step <= 1100
        live = ev.live_threshold(c, 0.0)
        for i in range(0, live["grid"].size, 53):
            assert (live["tp"][i], live["fp"][i]) == _direct_counts(logits[:, c], y == c, live["grid"][i])


def test_drawn_curves_lie_on_sklearn_curves(case):
    ev = evaldash.evaluate(case.dataset())
    for c in range(case.k):
        positive = case.y_true == c
        if positive.all() or not positive.any():
            continue
        cv = ev.class_curves(c)
        fpr, tpr, th = roc_curve(positive, case.scores[:, c], drop_intermediate=False)
        # (float32 can merge neighbouring thresholds, so points and thresholds are checked as sets)
        points = set(zip(np.float32(fpr).tolist(), np.float32(tpr).tolist()))
        assert set(zip(cv["roc_fpr"].tolist(), cv["roc_tpr"].tolist())) <= points
        finite = cv["roc_threshold"][np.isfinite(cv["roc_threshold"])]
        assert set(finite.tolist()) <= set(np.float32(th).tolist())
        precision, recall, pth = precision_recall_curve(positive, case.scores[:, c])
        pairs = set(zip(np.float32(recall).tolist(), np.float32(precision).tolist()))
        assert set(zip(cv["pr_recall"].tolist(), cv["pr_precision"].tolist())) <= pairs
        assert cv["roc_fpr"].size <= metrics.MAX_CURVE_POINTS + 2
        # the ends are kept
        assert (cv["roc_fpr"][0], cv["roc_tpr"][0]) == (0.0, 0.0)
        assert (cv["roc_fpr"][-1], cv["roc_tpr"][-1]) == (1.0, 1.0)


def test_background_precompute_gives_the_same_results_as_foreground():
    from classification_cases import make_case

    ds = make_case("k12").dataset()
    fg = evaldash.evaluate(ds).precompute()
    bg = evaldash.evaluate(ds).precompute(background=True)
    # ask for everything at once from several threads while the background thread runs
    results, errors = {}, []

    def ask(n):
        try:
            results[n] = (bg.micro_ranking, [bg.class_curves(c)["roc_tpr"].tolist() for c in range(12)],
                          bg.top_k(), bg.average_curves["roc macro-average"][1].tolist())
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(n,)) for n in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    want = (fg.micro_ranking, [fg.class_curves(c)["roc_tpr"].tolist() for c in range(12)], fg.top_k(),
            fg.average_curves["roc macro-average"][1].tolist())
    for n in range(4):
        assert results[n] == want
    assert report_json(fg) == report_json(bg)


@pytest.mark.skipif(sys.platform != "linux", reason="a thread's own nice value is Linux's")
def test_background_work_runs_at_the_lowest_cpu_priority():
    """The background precompute and interval threads are niced (19), the caller's thread is not."""
    from evaldash import evaluation

    seen = {}
    before = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    thread = evaluation._background(
        lambda: seen.update(nice=os.getpriority(os.PRIO_PROCESS, threading.get_native_id()),
                            name=threading.current_thread().name), "evaldash-test")
    thread.join()
    assert seen == {"nice": evaluation.BACKGROUND_NICE, "name": "evaldash-test"}
    assert thread.daemon
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == before


def test_memo_computes_once_under_concurrency():
    from classification_cases import make_case

    ev = evaldash.evaluate(make_case("k5").dataset())
    calls = []
    barrier = threading.Barrier(6)

    def slow(e):
        calls.append(1)
        return object()

    got = []

    def ask():
        barrier.wait()
        got.append(ev.memo("x", slow))

    threads = [threading.Thread(target=ask) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(calls) == 1 and len({id(g) for g in got}) == 1


def test_corrected_labels_recompute_metrics_as_sklearn_on_the_corrected_labels():
    from classification_cases import make_case
    from sklearn.metrics import accuracy_score, f1_score

    from evaldash.evaluation import with_corrected_labels

    case = make_case("k5")
    ds = case.dataset()
    wrong = np.flatnonzero(case.y_true != case.y_pred)[:10]
    corrections = {str(ds.ids[r]): ds.classes[case.y_pred[r]] for r in wrong[:8]}
    corrections[str(ds.ids[wrong[8]])] = "no such class"
    fixed, info = with_corrected_labels(ds, corrections)
    assert info == {"corrected": 8, "unknown": 1, "mistakes_were_label_errors": 8}
    y = case.y_true.copy()
    y[wrong[:8]] = case.y_pred[wrong[:8]]
    ev = evaldash.evaluate(fixed)
    assert ev.accuracy == pytest.approx(accuracy_score(y, case.y_pred), abs=1e-12)
    assert ev.averages["macro"]["f1"] == pytest.approx(
        f1_score(y, case.y_pred, average="macro", labels=range(case.k), zero_division=0), abs=1e-12)
    assert np.array_equal(fixed.scores, ds.scores) and np.array_equal(fixed.y_pred, ds.y_pred)
    assert with_corrected_labels(ds, {})[0] is ds
