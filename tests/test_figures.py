"""Figures draw numbers they are given; these tests check what reaches Plotly."""

import numpy as np
import plotly.graph_objects as go

from evaldash import figures, metrics


def test_confusion_cells_show_counts_and_share_of_the_whole_true_class():
    counts = np.array([[30, 10], [5, 0]])
    cells = figures.confusion_cells(counts, counts, "counts", row_totals=np.array([80, 10]))
    assert cells["text"] == [["30\n38%", "10\n12%"], ["5\n50%", "0"]]
    assert cells["legend"] == "count"
    # darker for more samples (log scale), white text on the darkest cell
    assert cells["fill"][0][0] < cells["fill"][0][1] < cells["fill"][1][0] < cells["fill"][1][1] == "#f7fbff"
    assert cells["ink"][0][0] == "#ffffff" and cells["ink"][1][1] != "#ffffff"


def test_confusion_cells_in_share_and_score_modes():
    counts = np.array([[3, 1], [0, 4]])
    share = counts / counts.sum(axis=1, keepdims=True)
    cells = figures.confusion_cells(share, counts, "true")
    assert cells["text"] == [["75%", "25%"], ["0", "100%"]] and cells["legend"] == "share of true class"
    assert cells["fill"][1][1] == "#08306b"  # 100 % is the end of the scale
    mean = np.array([[0.9, np.nan], [0.2, 0.8]])
    cells = figures.confusion_cells(mean, counts, "score")
    assert cells["text"] == [["0.90", ""], ["0.20", "0.80"]] and cells["legend"] == "mean score"


def test_reduce_curve_keeps_ends_kept_points_and_shape():
    rng = np.random.default_rng(0)
    y = np.sort(rng.random(100_000))
    x = np.linspace(0, 1, y.size)
    idx = metrics.reduce_curve(x, y, max_points=500, keep=(12345,))
    assert idx[0] == 0 and idx[-1] == y.size - 1 and 12345 in idx
    assert idx.size <= 503 and np.all(np.diff(idx) > 0)
    # the reduced curve stays within a small distance of the original everywhere
    assert np.max(np.abs(np.interp(x, x[idx], y[idx]) - y)) < 0.01


def test_reduce_curve_leaves_short_curves_alone():
    assert metrics.reduce_curve(np.arange(10.0), np.arange(10.0)).tolist() == list(range(10))


def test_operating_point_is_drawn_on_roc_and_pr():
    roc = figures.roc_figure({"class a": (np.array([0, 0.5, 1]), np.array([0, 0.8, 1]))}, (0.5, 0.8))
    pr = figures.pr_figure({"class a": (np.array([0, 1]), np.array([1, 0.5]))}, (0.3, 0.9))
    for fig, point in ((roc, (0.5, 0.8)), (pr, (0.3, 0.9))):
        op = [t for t in fig.data if t.name == "operating point"]
        assert len(op) == 1 and (op[0].x[0], op[0].y[0]) == point
