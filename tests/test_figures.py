"""Figures draw numbers they are given; these tests check what reaches Plotly."""

import numpy as np
import plotly.graph_objects as go

from evaldash import figures, metrics


def test_confusion_heatmap_cells_carry_true_and_pred_for_clicks():
    counts = np.array([[5, 1, 0], [2, 7, 1], [0, 0, 4]])
    fig = figures.confusion_heatmap(counts, counts, ["a", "<b>", "c, d"], "counts")
    overlay = [t for t in fig.data if isinstance(t, go.Scatter)][0]
    cells = {(int(c[0]), int(c[1])): int(c[2]) for c in overlay.customdata}
    assert cells == {(i, j): int(counts[i, j]) for i in range(3) for j in range(3)}
    assert overlay.hovertemplate and overlay.hoverinfo != "skip"  # hover kept: clicks need it
    # class names reach Plotly escaped, so "<b>" is shown as typed, not as bold markup
    assert "&lt;b&gt;" in fig.layout.xaxis.ticktext and "<b>" not in fig.layout.xaxis.ticktext


def test_confusion_heatmap_percentages_are_of_the_whole_true_class():
    counts = np.array([[30, 10], [5, 5]])
    fig = figures.confusion_heatmap(counts, counts, ["x", "y"], "counts", row_totals=np.array([80, 10]))
    heat = fig.data[0]
    assert heat.text[0][0] == "30<br>38%" and heat.text[1][1] == "5<br>50%"


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
