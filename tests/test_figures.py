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


def test_coverage_chart_carries_curve_and_operating_point_as_json_numbers():
    spec = figures.coverage_chart(np.array([0.2, 0.6, 1.0]), np.array([1.0, 0.95, np.nan]), (0.6, 0.95))
    [line] = spec["series"]
    assert line["x"] == [0.2, 0.6, 1.0] and line["y"] == [1.0, 0.95, None]  # JSON has no NaN
    assert spec["marker"] == [0.6, 0.95] and spec["y_range"] == [0.95, 1.0]
    assert figures.coverage_chart(np.array([1.0]), np.array([0.5]), (float("nan"), 0.5))["marker"] is None


def test_reliability_chart_shows_used_bins_with_counts():
    bins = metrics.reliability(np.array([0.05, 0.5, 0.55, 0.95, 1.0]), np.array([False, True, False, True, True]),
                               n_bins=10)
    spec = figures.reliability_chart(bins, metrics.expected_calibration_error(bins))
    bars, points, diagonal = spec["series"]
    used = bins["count"] > 0
    assert bars["kind"] == "bars" and len(bars["x"]) == used.sum() == 4
    assert bars["y"] == [float(f"{v:.5g}") for v in bins["accuracy"][used]]
    assert bars["width"] == [0.1] * 4
    assert points["x"] == [float(f"{v:.5g}") for v in bins["confidence"][used]]
    assert "2 samples" in bars["hover"][3] and diagonal["x"] == [0.0, 1.0]
    assert spec["title"].startswith("Reliability diagram (ECE ")
