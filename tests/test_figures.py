"""Figures draw numbers they are given; these tests check what reaches Plotly and the browser."""

import math
import statistics

import numpy as np
import pytest
from sklearn.metrics import det_curve as sk_det_curve

from evaldash import figures, matrix, metrics
from classification_cases import CASE_NAMES, make_case


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


# --- readability (issue 7): hidden diagonal, cell hover, DET, reliability bins ---------------

DARKEST = "#08306b"


@pytest.mark.parametrize("mode", ["counts", "true", "pred", "score"])
def test_hidden_diagonal_is_blank_grey_and_the_largest_error_is_darkest(mode):
    counts = np.array([[500, 3, 1], [2, 400, 9], [0, 4, 300]])
    values = {"counts": counts, "true": counts / counts.sum(axis=1, keepdims=True),
              "pred": counts / counts.sum(axis=0, keepdims=True),
              "score": np.array([[0.9, 0.3, 0.2], [0.25, 0.8, 0.45], [np.nan, 0.35, 0.85]])}[mode]
    shown = figures.confusion_cells(values, counts, mode)
    hidden = figures.confusion_cells(values, counts, mode, hide_diagonal=True)
    assert hidden["hide_diagonal"] and "diagonal hidden" in hidden["legend"]
    off = ~np.eye(3, dtype=bool)
    for i in range(3):
        assert hidden["text"][i][i] == "" and hidden["fill"][i][i] == figures._HIDDEN
    # the largest off-diagonal value takes the end of the scale, which the diagonal held before
    raw = np.nan_to_num(values.astype(float))
    top = np.unravel_index(np.argmax(np.where(off, raw, -1)), raw.shape)
    assert hidden["fill"][top[0]][top[1]] == DARKEST != shown["fill"][top[0]][top[1]]
    # off the diagonal the texts are unchanged and the order of the colours is kept
    assert all(hidden["text"][i][j] == shown["text"][i][j] for i in range(3) for j in range(3) if i != j)
    darker = lambda f: -sum(int(f[k:k + 2], 16) for k in (1, 3, 5))  # noqa: E731
    pairs = [(i, j) for i in range(3) for j in range(3) if i != j]
    for a in pairs:
        for b in pairs:
            if raw[a] > raw[b]:
                assert darker(hidden["fill"][a[0]][a[1]]) >= darker(hidden["fill"][b[0]][b[1]])


def test_hidden_diagonal_with_no_errors_and_one_class():
    counts = np.diag([5, 7])
    cells = figures.confusion_cells(counts, counts, "counts", hide_diagonal=True)
    assert cells["fill"][0][1] == cells["fill"][1][0] == "#f7fbff" and cells["text"][0][0] == ""
    assert figures.confusion_cells(np.array([[3]]), np.array([[3]]), "true", hide_diagonal=True)["text"] == [[""]]


def test_confusion_hover_shows_the_interval_of_the_shown_quantity_and_the_small_sample_marker():
    counts = np.array([[100, 12], [3, 20]])
    labels = ["cat", "dog"]
    rows = counts.sum(axis=1)
    iv = matrix.cell_intervals(counts, "true", resamples=400)
    share = counts / rows[:, None]
    hover = figures.confusion_hover(labels, share, counts, "true", iv, rows)
    assert hover[0][1].splitlines() == [
        "true cat → predicted dog", "12 samples · 10.7% of true cat",
        f"95% interval: {iv['low'][0, 1]:.1%} to {iv['high'][0, 1]:.1%}", "click to see them"]
    assert "⚠ few samples: 23 true dog (under 30)" in hover[1][0]
    iv = matrix.cell_intervals(counts, "pred", resamples=400)
    hover = figures.confusion_hover(labels, counts / counts.sum(axis=0), counts, "pred", iv, rows)
    assert "of predicted dog" in hover[0][1] and "⚠ few samples: 32" not in hover[0][1]
    assert "⚠ few samples: 103 predicted cat" not in hover[0][0]
    iv = matrix.cell_intervals(counts, "counts", resamples=400)
    hover = figures.confusion_hover(labels, counts, counts, "counts", iv, rows)
    assert f"95% interval of the count: {iv['low'][0, 0]:,.0f} to {iv['high'][0, 0]:,.0f}" in hover[0][0]
    assert "100 samples · 89.3% of true cat" in hover[0][0]


def test_probit_is_the_normal_quantile():
    p = np.concatenate([np.logspace(-15, -0.31, 400), np.linspace(0.001, 0.999, 999), 1 - np.logspace(-15, -0.31, 400)])
    want = np.array([statistics.NormalDist().inv_cdf(v) for v in p])
    np.testing.assert_allclose(figures.probit(p), want, rtol=2e-9, atol=1e-12)
    assert figures.probit(np.array([0.0, 1.0, 0.5])).tolist() == [-math.inf, math.inf, 0.0]
    assert np.isnan(figures.probit(np.array([-0.1, 1.1, np.nan]))).all()


@pytest.mark.parametrize("name", CASE_NAMES)
def test_det_points_are_sklearns_at_the_same_thresholds(name):
    case = make_case(name)
    for c in range(case.k):
        positive = case.y_true == c
        if positive.all() or not positive.any():
            continue
        det = figures.det_curve(*metrics.threshold_sweep(case.scores[:, c], positive).roc())
        fpr, fnr, thr = sk_det_curve(positive, case.scores[:, c])
        assert len(thr) <= 1000  # small cases: every point kept, none added
        assert det["threshold"].tolist() == thr[::-1].tolist()
        np.testing.assert_allclose(det["fpr"], fpr[::-1], rtol=1e-12)
        np.testing.assert_allclose(det["fnr"], fnr[::-1], rtol=1e-12)
        np.testing.assert_allclose(det["x"], figures.det_coordinates(det["fpr"], det["axis"]))
        lo, hi = det["axis"]["range"]
        assert lo <= det["x"].min() and det["y"].max() <= hi


def test_det_curve_at_many_points_is_reduced_to_sklearns_points():
    rng = np.random.default_rng(3)
    n = 200_000
    positive = rng.random(n) < 0.3
    score = np.round(rng.normal(positive * 1.5, 1.0), 5)
    det = figures.det_curve(*metrics.threshold_sweep(score, positive).roc())
    fpr, fnr, thr = sk_det_curve(positive, score)
    assert 500 < det["threshold"].size <= 1002 < thr.size
    where = {t: i for i, t in enumerate(thr.tolist())}
    idx = np.array([where[t] for t in det["threshold"].tolist()])  # every drawn point is one of sklearn's
    np.testing.assert_allclose(det["fpr"], fpr[idx], rtol=1e-12)
    np.testing.assert_allclose(det["fnr"], fnr[idx], rtol=1e-12)
    assert det["axis"]["floor"] <= max(1 / positive.sum(), 1e-6) * 10


def test_det_curve_without_positives_or_negatives_is_none():
    case = make_case("single-class")
    for c in (0, 2):  # no positives; no negatives
        assert figures.det_curve(*metrics.threshold_sweep(case.scores[:, c], case.y_true == c).roc()) is None


def test_det_axis_ticks_and_ends():
    axis = figures.det_axis(0.004, 0.3)
    assert axis["floor"] == 0.001 and axis["top"] == 0.5
    assert [label for _, label in axis["ticks"]] == ["0.1%", "1%", "5%", "20%", "50%"]
    assert axis["range"] == pytest.approx([statistics.NormalDist().inv_cdf(0.001), 0.0])
    long = figures.det_axis(3e-6, 0.97)
    assert long["floor"] == 1e-6 and long["top"] == 0.99 and len(long["ticks"]) <= 9
    assert long["ticks"][0][1] == "0.0001%"
    assert figures.det_coordinates(np.array([0.0, 1.0]), axis).tolist() == pytest.approx(axis["range"])


def test_reliability_bin_rows_are_the_bins_samples_most_confident_first():
    rng = np.random.default_rng(0)
    n_bins = 15
    edges = np.linspace(0, 1, n_bins + 1)
    # random confidences plus every edge exactly, 0 and 1
    confidence = np.concatenate([rng.random(3000), edges, edges, [0.0, 1.0]])
    correct = rng.random(confidence.size) < confidence
    bins = metrics.reliability(confidence, correct, n_bins=n_bins)
    seen = []
    for b in range(n_bins):
        rows = figures.reliability_bin_rows(confidence, bins["lower"][b], bins["upper"][b])
        want = [r for r in range(confidence.size)
                if (edges[b] < confidence[r] <= edges[b + 1]) or (b == 0 and confidence[r] == 0.0)]
        want.sort(key=lambda r: (-confidence[r], r))
        assert rows.tolist() == want
        assert len(rows) == bins["count"][b]
        if len(rows):
            assert confidence[rows].mean() == pytest.approx(bins["confidence"][b])
            assert correct[rows].mean() == pytest.approx(bins["accuracy"][b])
        seen += rows.tolist()
    assert sorted(seen) == list(range(confidence.size))


def test_reliability_chart_sends_the_bin_of_each_bar_and_the_selected_bin():
    bins = metrics.reliability(np.array([0.05, 0.5, 0.55, 0.95, 1.0]), np.array([False, True, False, True, True]),
                               n_bins=10)
    spec = figures.reliability_chart(bins, 0.1, selected=5)
    assert spec["pick"] == [0, 4, 5, 9] and spec["selected"] == 5
    assert figures.reliability_chart(bins, 0.1)["selected"] is None


@pytest.mark.parametrize("lo, hi, want", [
    (0.0, 1.0, ["0", "0.2", "0.4", "0.6", "0.8", "1.0"]),
    (-16.7, 4690.0, ["0", "1,000", "2,000", "3,000", "4,000"]),  # the cost axis that read -16.7, 2340, 4690
    (0.0, 0.5, ["0", "0.1", "0.2", "0.3", "0.4", "0.5"]),
    (-3.2, 7.9, ["-2", "0", "2", "4", "6"]),
    (-1.0, 1.0, ["-1.0", "-0.5", "0", "0.5", "1.0"]),
    (0.35, 0.36, ["0.350", "0.352", "0.354", "0.356", "0.358", "0.360"]),
    (0.0, 2.5, ["0", "0.5", "1.0", "1.5", "2.0", "2.5"]),
    (0.0, 1e6, ["0", "200,000", "400,000", "600,000", "800,000", "1,000,000"]),
    (12.0, 137.0, ["20", "40", "60", "80", "100", "120"]),
    (12.0, 137.0 + 1e-9, ["20", "40", "60", "80", "100", "120"]),
    (0.0, 10.0, ["0", "2", "4", "6", "8", "10"]),
])
def test_nice_ticks_are_round_and_inside_the_range(lo, hi, want):
    ticks = figures.nice_ticks(lo, hi)
    assert [label for _, label in ticks] == want
    values = np.array([v for v, _ in ticks])
    assert lo - 1e-12 <= values.min() and values.max() <= hi + 1e-12
    steps = np.diff(values)
    assert np.allclose(steps, steps[0])
    mantissa = steps[0] / 10 ** math.floor(math.log10(steps[0]))
    assert any(math.isclose(mantissa, m) for m in (1, 2, 2.5, 5))


def test_nice_ticks_at_most_max_ticks_and_degenerate_ranges():
    for lo, hi in [(0, 1), (0.001, 0.0042), (-5e5, 7e7), (3, 3.0001), (-0.2, 0.13)]:
        for n in (3, 5, 6, 8):
            assert 1 <= len(figures.nice_ticks(lo, hi, max_ticks=n)) <= n
    assert figures.nice_ticks(5.0, 5.0) == [[5.0, "5"]]
    assert figures.nice_ticks(2.0, 1.0) == figures.nice_ticks(1.0, 2.0)  # either order
    assert figures.nice_ticks(0.0, math.inf) == [] and figures.nice_ticks(math.nan, 1.0) == []


def test_every_chart_spec_carries_round_ticks():
    curve = {"threshold": np.linspace(0.0, 1.0, 50), "cost_per_10k": np.linspace(4690.0, 0.0, 50),
             "alerts_per_10k": np.linspace(10_000.0, 0.0, 50)}
    cost = figures.cost_chart(curve, (0.5, 2345.0), (0.9, 469.0), (0.0, 1.0))
    assert [label for _, label in cost["y_ticks"]] == ["0", "1,000", "2,000", "3,000", "4,000"]
    assert cost["y_range"][0] == 0.0  # costs are never negative: no axis below 0
    assert [label for _, label in cost["x_ticks"]] == ["0", "0.2", "0.4", "0.6", "0.8", "1.0"]
    roc = figures.operating_chart("ROC", "fpr", "tpr", np.array([0.0, 1.0]), np.array([0.0, 1.0]), None, None)
    cov = figures.coverage_chart(np.array([0.2, 1.0]), np.array([0.93, 0.81]), None)
    both = figures.curves_chart("ROC", "fpr", "tpr", {"A": (np.array([0.0, 1.0]), np.array([0.0, 1.0]))})
    for spec in (roc, cov, both):
        assert spec["x_ticks"] == figures.nice_ticks(*spec["x_range"])
        assert spec["y_ticks"] == figures.nice_ticks(*spec["y_range"])
    assert [label for _, label in cov["y_ticks"]] == ["0.80", "0.85", "0.90", "0.95", "1.00"]


def test_side_by_side_counts_show_the_count_alone():
    counts = np.array([[8, 2], [0, 5]])
    cells = figures.confusion_cells(counts, counts, "counts", shares=False)
    assert cells["text"] == [["8", "2"], ["0", "5"]]
    assert figures.confusion_cells(counts, counts, "counts")["text"][0] == ["8\n80%", "2\n20%"]
