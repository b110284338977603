"""Many classes: nothing grows with the square of the class count unless asked for.

The confusion matrix is kept as its observed cells (``evaldash.confusion_counts``); every view
derived from it is checked against the dense matrix on small data, and the app's pages and the
report are run on thousands of classes.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import evaldash
from evaldash import decision as dc
from evaldash import matrix, metrics
from evaldash.confusion_counts import DENSE_MAX_CLASSES, confusion_counts, dense_to_json
from evaldash.report import report_json, report_text

ROOT = Path(__file__).resolve().parents[1]


def _labels(seed: int, n: int, k: int, quality: float = 0.6) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    p = np.where(rng.random(n) < quality, y, rng.integers(0, k, n))
    return y.astype(np.int32), p.astype(np.int32)


def _frame(k: int, n: int, scores: bool, seed: int = 3) -> pd.DataFrame:
    """``n`` rows of ``k`` classes named "c0".. (each class at least once as a label when n >= k)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, k, n)
    y[:min(n, k)] = np.arange(min(n, k))
    pred = np.where(rng.random(n) < 0.7, y, rng.integers(0, k, n))
    names = np.array([f"c{c}" for c in range(k)], dtype=object)
    cols = {"id": [f"s{i}" for i in range(n)], "label": names[y]}
    if scores:
        s = rng.random((n, k)) * 0.5
        s[np.arange(n), pred] += 1.0
        s /= s.sum(axis=1, keepdims=True)
        cols |= {f"score_{name}": s[:, c] for c, name in enumerate(names)}
    else:
        cols["prediction"] = names[pred]
    return pd.DataFrame(cols)


# --- the observed cells against the dense matrix ------------------------------------------------------

@pytest.mark.parametrize("seed,n,k", [(0, 300, 7), (1, 40, 25), (2, 1, 3), (3, 500, 2)])
def test_confusion_counts_give_what_the_dense_matrix_gives(seed, n, k):
    y, p = _labels(seed, n, k)
    dense = metrics.confusion_matrix(y, p, k)
    cc = confusion_counts(y, p, k)
    np.testing.assert_array_equal(cc.dense(), dense)
    assert (cc.count > 0).all() and cc.count.size == np.count_nonzero(dense)
    np.testing.assert_array_equal(cc.support, dense.sum(axis=1))
    np.testing.assert_array_equal(cc.predicted, dense.sum(axis=0))
    np.testing.assert_array_equal(cc.diagonal, np.diag(dense))
    np.testing.assert_array_equal(cc.errors(), matrix.error_counts(dense))
    for c in range(k):
        np.testing.assert_array_equal(cc.row(c), dense[c])
    rows, cols = [k - 1, 0], [1 % k, k - 1, 0]
    np.testing.assert_array_equal(cc.sub(rows, cols), dense[np.ix_(rows, cols)])
    want, got = metrics.per_class_table(dense), cc.per_class_table()
    assert set(got) == set(want)
    for name in want:
        np.testing.assert_array_equal(got[name], want[name])
    off = [(int(t), int(q), int(dense[t, q])) for t, q in zip(*np.nonzero(dense)) if t != q]
    assert cc.top_confusions(5) == sorted(off, key=lambda x: -x[2])[:5]


def test_reports_carry_the_matrix_dense_up_to_1000_classes_and_its_cells_above():
    y, p = _labels(4, 3000, DENSE_MAX_CLASSES + 1)
    k = DENSE_MAX_CLASSES + 1
    cc = confusion_counts(y, p, k)
    sparse = cc.to_json()
    assert set(sparse) == {"format", "shape", "rows", "cols", "counts"}
    assert sparse["format"] == "coo" and sparse["shape"] == [k, k]
    rebuilt = np.zeros((k, k), dtype=np.int64)
    rebuilt[sparse["rows"], sparse["cols"]] = sparse["counts"]
    np.testing.assert_array_equal(rebuilt, metrics.confusion_matrix(y, p, k))
    assert sparse == dense_to_json(rebuilt)
    small = confusion_counts(y % DENSE_MAX_CLASSES, p % DENSE_MAX_CLASSES, DENSE_MAX_CLASSES)
    assert small.to_json() == metrics.confusion_matrix(y % DENSE_MAX_CLASSES, p % DENSE_MAX_CLASSES,
                                                       DENSE_MAX_CLASSES).tolist()


def test_cell_samples_are_the_cells_rows_most_confident_first():
    ds = evaldash.dataset_from_frame(_frame(6, 400, scores=True), source="<six>")
    ev = evaldash.evaluate(ds)
    order, offsets = metrics.cell_index(ds.y_true, ds.y_pred, ev.confidence, ds.n_classes)  # one offset per cell
    for t in range(6):
        for q in range(6):
            c = t * 6 + q
            np.testing.assert_array_equal(ev.cell_samples(t, q), order[offsets[c]:offsets[c + 1]])


@pytest.mark.parametrize("mode", ["counts", "true", "pred", "score"])
def test_a_block_of_the_matrix_is_that_block_of_the_full_view(mode):
    ev = evaldash.evaluate(evaldash.dataset_from_frame(_frame(30, 500, scores=True), source="<thirty>"))
    shown = [29, 3, 17, 0, 11]
    values, counts = ev.confusion_block(mode, shown)
    np.testing.assert_allclose(values, ev.confusion_view(mode)[np.ix_(shown, shown)], rtol=1e-12, equal_nan=True)
    np.testing.assert_array_equal(counts, ev.confusion[np.ix_(shown, shown)])


def test_orders_and_cell_intervals_from_the_cells_equal_those_of_the_dense_matrix():
    y, p = _labels(5, 800, 40, quality=0.5)
    dense = metrics.confusion_matrix(y, p, 40)
    cc = confusion_counts(y, p, 40)
    for how in matrix.ORDERS:
        np.testing.assert_array_equal(matrix.class_order(cc, how), matrix.class_order(dense, how))
    shown = [3, 9, 21, 38]
    for how in ("file", "errors"):  # of the shown classes: the whole order, filtered
        np.testing.assert_array_equal(matrix.class_order(cc, how, shown),
                                      [i for i in matrix.class_order(dense, how) if i in shown])
    assert sorted(matrix.class_order(cc, "cluster", shown).tolist()) == shown
    for mode in ("counts", "true", "pred"):
        a = matrix.cell_intervals(cc, mode, shown, resamples=200, seed=2)
        b = matrix.cell_intervals(dense, mode, shown, resamples=200, seed=2)
        for name in a:
            np.testing.assert_array_equal(a[name], b[name])


def test_clustering_thousands_of_classes_asks_for_the_classes_shown():
    y, p = _labels(6, 2000, matrix.MAX_CLUSTERED + 1)
    cc = confusion_counts(y, p, matrix.MAX_CLUSTERED + 1)
    with pytest.raises(evaldash.InputError, match="choose at most 500 classes to show"):
        matrix.class_order(cc, "cluster")
    assert len(matrix.class_order(cc, "cluster", list(range(20)))) == 20


def test_per_class_rule_counts_without_the_dense_matrix():
    rng = np.random.default_rng(8)
    n, k = 600, 9
    y = rng.integers(0, k, n)
    scores = rng.random((n, k))
    thresholds = rng.random(k) * 0.8 + 0.2
    op = dc.operating_points(y, scores, thresholds, "abstain")
    pred = dc.apply_thresholds(scores, thresholds, "abstain")
    dense = np.bincount(y * (k + 1) + np.where(pred < 0, k, pred), minlength=k * (k + 1)).reshape(k, k + 1)
    np.testing.assert_array_equal(op.confusion, dense)
    np.testing.assert_array_equal(op.per_class["abstained"], dense[:, k])
    assert op.n == n and op.abstained == dense[:, k].sum()
    assert op.accuracy == np.trace(dense[:, :k]) / n
    assert op.report([str(c) for c in range(k)])["confusion_matrix"] == dense.tolist()


def test_report_of_5000_classes_is_sparse_and_never_builds_the_dense_matrix():
    ds = evaldash.dataset_from_frame(_frame(5000, 6000, scores=False), source="<many>")
    ev = evaldash.evaluate(ds).precompute()
    report = json.loads(report_json(ev))
    cm = report["confusion_matrix"]
    assert cm["format"] == "coo" and cm["shape"] == [5000, 5000]
    assert sum(cm["counts"]) == 6000
    assert report["accuracy"] == pytest.approx(np.mean(ds.y_true == ds.y_pred))
    text = report_text(ev)
    assert "Most frequent confusions (50 of" in text and "in sparse form" in text
    assert "confusion" not in ev.__dict__  # the k x k matrix (200 MB here) was never made


# --- the app at 5,000 classes ---------------------------------------------------------------------------

@pytest.fixture
def five_thousand_classes(tmp_path, monkeypatch):
    path = tmp_path / "many.parquet"
    _frame(5000, 120, scores=True).to_parquet(path)
    monkeypatch.setattr(sys, "argv", ["app.py"])
    monkeypatch.setenv("EVALDASH_PREDICTIONS", str(path))
    monkeypatch.setenv("EVALDASH_DB", str(tmp_path / "annotations.db"))
    st.cache_resource.clear()
    yield path
    st.cache_resource.clear()


def test_pages_open_on_5000_classes(five_thousand_classes):
    """The overview tried to allocate 186 GiB (every cell bootstrapped) and /decision hit
    Streamlit's limit of styled cells with its k x (k + 1) table."""
    start = time.monotonic()
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    assert not at.exception, at.exception
    assert "5000 classes" in at.sidebar.caption[0].value
    assert len(at.dataframe[0].value) == 5000  # the per-class table, every class
    for page in ("confusion", "threshold", "errors", "review", "calibration", "decision"):
        at.switch_page(f"pages/{page}.py").run()
        assert not at.exception, (page, at.exception)
        if page == "confusion":  # the class picker: the 20 classes with the most errors
            assert len(at.multiselect(key="cm_classes").value) == 20
    tables = [t.value for t in at.dataframe if "(other classes)" in t.value.columns]
    assert len(tables) == 1 and tables[0].shape == (20, 22)  # /decision's matrix: 20 classes, others, set aside
    assert time.monotonic() - start < 60


def test_warnings_name_a_few_classes_one_per_line_and_summarise_thousands():
    few = evaldash.evaluate(evaldash.dataset_from_frame(pd.DataFrame(
        {"label": ["a", "a", "b"], "prediction": ["a", "c", "a"]}), source="<few>"))
    assert "class 'c' has no samples in the labels: its recall and F1 are reported as 0" in few.warnings()
    assert "class 'b' is never predicted: its precision is reported as 0 (as scikit-learn does)" in few.warnings()
    many = evaldash.evaluate(evaldash.dataset_from_frame(_frame(3000, 100, scores=True), source="<many>"))
    lines = many.warnings()
    assert len(lines) <= 4, lines
    never = [w for w in lines if "are never predicted" in w]
    assert len(never) == 1 and never[0].startswith(f"{3000 - len(set(many.dataset.y_pred))} classes ('")


def test_evaluation_computes_the_class_intervals_once_in_the_background():
    """The overview's intervals cost resamples × observed cells (seconds at 1M rows of 1,000
    classes): a large file gets them from a daemon thread, without holding the page."""
    from evaldash import bootstrap

    ds = evaldash.dataset_from_frame(_frame(200, 3000, scores=False), source="<two hundred>")
    want = bootstrap.intervals(ds.y_true, ds.y_pred, list(ds.classes))
    ev = evaldash.evaluate(ds)
    first = ev.intervals(wait=False)
    deadline = time.monotonic() + 60
    while (got := ev.intervals(wait=False)) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert first is None or first == want
    assert got == want and ev.intervals() is got
    assert evaldash.evaluate(ds).intervals() == want


@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("block", [1, 50, 4_000_000])
def test_micro_average_without_the_pooled_sort_equals_the_pooled_sweep_and_sklearn(monkeypatch, ties, block):
    """The pooled sweep sorted n × k scores (about 4 GB at 100,000 rows of 1,000 classes)."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    from evaldash import micro_average

    rng = np.random.default_rng(9)
    n, k = 400, 7
    y = rng.integers(0, k, n)
    scores = rng.random((n, k))
    scores[np.arange(n), y] += 0.3 * rng.random(n)
    if ties:
        scores = np.round(scores * 6) / 6
    monkeypatch.setattr(micro_average, "BLOCK", block)
    auc, ap = micro_average.micro_auc_ap(y, scores)
    sweep = metrics.micro_sweep(y, scores)
    assert auc == sweep.roc_auc()  # exact: integers until the last division
    assert ap == pytest.approx(sweep.average_precision(), abs=1e-14)
    onehot = np.eye(k)[y]
    assert auc == pytest.approx(roc_auc_score(onehot, scores, average="micro"), abs=1e-12)
    assert ap == pytest.approx(average_precision_score(onehot, scores, average="micro"), abs=1e-12)


def test_top_k_ranks_a_block_of_rows_at_a_time(monkeypatch):
    from evaldash import evaluation

    ds = evaldash.dataset_from_frame(_frame(40, 700, scores=True), source="<forty>")
    want = metrics.true_class_rank(ds.y_true, ds.scores)
    monkeypatch.setattr(evaluation, "RANK_BLOCK", 90)  # two rows of 40 classes at a time
    np.testing.assert_array_equal(evaluation._true_class_rank(ds.y_true, ds.scores), want)
    assert evaldash.evaluate(ds).top_k() == {f"top_{k}": float(np.mean(want < k)) for k in (3, 5)}


@pytest.mark.parametrize("k,dense", [(DENSE_MAX_CLASSES, True), (DENSE_MAX_CLASSES + 1, False)])
def test_report_command_keeps_the_matrix_dense_up_to_1000_classes(tmp_path, capsys, k, dense):
    from sklearn.metrics import confusion_matrix

    from evaldash.cli import main

    path = tmp_path / "many.csv"
    frame = _frame(k, 2 * k, scores=False)
    frame.to_csv(path, index=False)
    assert main(["report", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    names = report["classes"]
    want = confusion_matrix(frame["label"], frame["prediction"], labels=names)
    cm = report["confusion_matrix"]
    if dense:
        assert cm == want.tolist()
    else:
        rows, cols = np.nonzero(want)
        assert cm == {"format": "coo", "shape": [k, k], "rows": rows.tolist(), "cols": cols.tolist(),
                      "counts": want[rows, cols].tolist()}
    assert main(["report", str(path)]) == 0
    text = capsys.readouterr().out
    assert ("Confusion matrix (rows: true, columns: predicted):" in text) == dense
    assert ("Most frequent confusions" in text) != dense


def test_column_changes_are_the_column_sums_of_the_absolute_difference():
    from evaldash.confusion_counts import column_changes

    y, a = _labels(10, 500, 30, quality=0.5)
    _, b = _labels(11, 500, 30, quality=0.7)
    b = np.where(np.random.default_rng(1).random(500) < 0.5, b, a)
    want = np.abs(metrics.confusion_matrix(y, b, 30) - metrics.confusion_matrix(y, a, 30)).sum(axis=0)
    np.testing.assert_array_equal(column_changes(confusion_counts(y, a, 30), confusion_counts(y, b, 30)), want)
