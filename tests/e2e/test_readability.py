"""Readability in the browser: the confusion matrix with its diagonal hidden and classes reordered
still opens the clicked cell's images; a reliability bar opens its bin's images; every curve's
hover names a threshold of the curve; the DET point follows the slider."""

import re

import numpy as np
import pytest
from playwright.sync_api import expect

from dashboard import expect_cell_gallery
from evaldash import figures, matrix

pytestmark = pytest.mark.e2e


def test_hidden_diagonal_and_clustered_order_then_click_a_cell(dash, digits_ev):
    classes = digits_ev.dataset.classes
    order = matrix.class_order(digits_ev.confusion, "cluster").tolist()
    assert order != sorted(order)  # the clustered order moves classes
    one, eight, seven = classes.index("1"), classes.index("8"), classes.index("7")

    dash.open("/confusion")
    dash.page.locator(".st-key-cm_hide_diag label").click()
    dash.wait_idle()
    dash.page.locator(".st-key-cm_order").get_by_text("cluster confused classes together").click()
    dash.wait_idle()
    grid = dash.page.locator(".st-key-confusion_matrix")
    expect(grid.locator(".cm-row")).to_have_text([classes[i] for i in order])
    expect(grid.locator(".cm-hidden")).to_have_count(len(classes))
    expect(grid.locator(".cm-legend")).to_contain_text("diagonal hidden")

    # a cell's position is that of its classes in the new order
    cell = grid.locator(f'.cm-cell[data-true="{order.index(one)}"][data-pred="{order.index(eight)}"]')
    expect(cell).to_have_attribute("data-true-name", "1")
    expect(cell).to_have_attribute("title", re.compile(r"^true 1 → predicted 8\n\d+ samples.*\n95% interval of the count: "))
    dash.click_cell(order.index(one), order.index(eight))
    dash.wait_idle()
    expect_cell_gallery(dash, digits_ev, one, eight)

    # a hidden diagonal cell is still clickable
    dash.click_cell(order.index(seven), order.index(seven))
    dash.wait_idle()
    expect_cell_gallery(dash, digits_ev, seven, seven)
    expect(dash.exceptions).to_have_count(0)


def test_click_a_reliability_bar_shows_its_images(dash, digits_ev):
    bins = digits_ev.calibration["bins"]
    used = np.flatnonzero(bins["count"] > 0)
    b = int(used[-3])
    dash.open("/calibration")
    bar = dash.page.locator(f'.st-key-reliability_chart rect.ed-bar[data-index="{len(used) - 3}"]')
    bar.scroll_into_view_if_needed()
    bar.click()
    dash.wait_idle()
    gallery = dash.page.locator(".st-key-reliability_gallery")
    expect(gallery.get_by_text(f"Confidence ({bins['lower'][b]:.2f}, {bins['upper'][b]:.2f}]")).to_be_visible()
    count = int(bins["count"][b])
    expect(gallery.locator('[data-testid="stCaptionContainer"]').first).to_contain_text(
        f"{count:,} images · mean confidence {bins['confidence'][b]:.3f} · accuracy {bins['accuracy'][b]:.3f}")
    rows = figures.reliability_bin_rows(digits_ev.confidence, bins["lower"][b], bins["upper"][b])
    shown = min(count, 24)
    expect(gallery.locator('[data-testid="stImage"] img')).to_have_count(shown)
    captions = gallery.locator('[data-testid="stImageCaption"]').all_inner_texts()
    assert [c.split(" · ")[0].strip() for c in captions] == [str(x) for x in digits_ev.dataset.ids[rows[:shown]]]
    expect(dash.page.locator(".st-key-reliability_chart rect.ed-bar-selected")).to_have_count(1)
    expect(dash.exceptions).to_have_count(0)


def _hover(dash, box: str, fx: float, fy: float) -> tuple[str, int]:
    svg = dash.page.locator(f".st-key-threshold_metrics .{box} svg.ed-chart")
    r = svg.bounding_box()
    dash.page.mouse.move(r["x"] + fx * r["width"], r["y"] + fy * r["height"])
    tip = dash.page.locator(f".st-key-threshold_metrics .{box} .ed-tip")
    expect(tip).to_have_text(re.compile(r"^threshold "))
    return tip.text_content(), int(svg.get_attribute("data-hover-index"))


def _threshold_in(text: str) -> float:
    value = re.match(r"^threshold (\S+) · ", text).group(1)
    return float("inf") if value == "+inf" else float(value)


def test_hover_on_every_curve_shows_the_threshold_of_the_nearest_point(dash, digits_ev):
    c = 0  # the page opens on the first class
    curves = digits_ev.class_curves(c)
    det = figures.det_curve(*digits_ev.sweep(c).roc())
    dash.open("/threshold")
    want = {
        "ed-roc": curves["roc_threshold"], "ed-pr": curves["pr_threshold"], "ed-thr": curves["threshold"],
        "ed-det": det["threshold"].astype(np.float32),
    }
    for box, thresholds in want.items():
        for fx, fy in ((0.2, 0.3), (0.5, 0.5), (0.8, 0.7)):
            text, i = _hover(dash, box, fx, fy)
            t = float(thresholds[i])
            shown = _threshold_in(text)
            assert shown == t or abs(shown - t) <= 0.0005 + 1e-9, (box, text, t)
    text, i = _hover(dash, "ed-det", 0.5, 0.5)
    percent = lambda r: f"{float(format(r * 100, '.3g')):g}%"  # noqa: E731 - as the chart writes a rate
    assert f"FPR {percent(det['fpr'][i])} · FNR {percent(det['fnr'][i])}" in text


def test_det_point_follows_the_slider(dash, digits_ev):
    c = 0
    sweep = digits_ev.sweep(c)
    axis = figures.det_curve(*sweep.roc())["axis"]
    dash.open("/threshold")
    marker = dash.page.locator(".st-key-threshold_metrics .ed-det circle.ed-marker")

    svg = dash.page.locator(".st-key-threshold_metrics .ed-det svg.ed-chart")

    def expected_cx(t: float) -> float:
        # the plot area spans x from data-left to data-right of the chart's view box
        left, right = float(svg.get_attribute("data-left")), float(svg.get_attribute("data-right"))
        m = sweep.at(t)
        x = figures.det_coordinates(np.array([m["fpr"]]), axis)[0]
        lo, hi = axis["range"]
        return left + (x - lo) / (hi - lo) * (right - left)

    before = float(marker.get_attribute("cx"))
    assert before == pytest.approx(expected_cx(dash.threshold_value()), abs=0.05)
    dash.press_on_slider("ArrowLeft", times=1, pause_ms=50)
    dash.press_on_slider(["PageDown"] * 3, pause_ms=50)
    t = dash.threshold_value()
    assert float(marker.get_attribute("cx")) == pytest.approx(expected_cx(t), abs=0.05)
    assert float(marker.get_attribute("cx")) != pytest.approx(before, abs=0.05)
