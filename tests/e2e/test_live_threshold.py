"""The threshold follows the mouse: while the thumb is dragged the numbers are the core's, with no
server round trip; on release the server and the URL catch up."""

import pytest
from playwright.sync_api import expect

from dashboard import core_metrics, expect_metrics_at, expect_threshold, shown_metrics

pytestmark = pytest.mark.e2e


def _count_sent_frames(page) -> list:
    sent = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
    return sent


def _marker(dash, chart: str) -> tuple[str, str]:
    m = dash.page.locator(f".st-key-threshold_metrics .{chart} circle.ed-marker").first
    return m.get_attribute("cx"), m.get_attribute("cy")


def test_dragged_threshold_shows_core_numbers_at_every_stop(dash, digits_ev):
    name = "8"
    sweep = digits_ev.sweep(digits_ev.dataset.classes.index(name))
    sent = _count_sent_frames(dash.page)  # before the page opens its WebSocket
    dash.open(f"/threshold?class={name}&t=0.35")
    expect_metrics_at(dash, sweep, expect_threshold(dash, name, 0.35))
    before = len(sent)

    seen, markers = [], set()

    def check(_fraction):
        t = dash.threshold_value()
        # the numbers under the thumb are the core's at the exact threshold the thumb is on
        assert dash.page.locator(".st-key-threshold_metrics .ed-metrics").get_attribute("data-threshold") == repr(t)
        assert shown_metrics(dash) == core_metrics(sweep, t), t
        seen.append(t)
        markers.add((_marker(dash, "ed-roc"), _marker(dash, "ed-pr")))

    stops = [0.35 + 0.03 * k for k in range(14)]
    dash.drag_threshold(stops, on_step=check)
    sent_while_dragging = len(sent) - before
    assert sent_while_dragging == 0, f"{sent_while_dragging} messages to the server while dragging"
    assert len(set(seen)) == len(stops) and seen == sorted(seen), seen  # it moved at every stop
    assert len(set(core_metrics(sweep, t)["f1"] for t in seen)) > 5  # and the numbers changed
    assert len(markers) > 5  # the operating points moved on the ROC and PR curves

    # released: the server stores the threshold and the URL follows
    final = seen[-1]
    expect_metrics_at(dash, sweep, expect_threshold(dash, name, final))
    dash.wait_idle()
    assert len(sent) > before  # the release reached the server
    dash.sidebar.get_by_role("link", name="Overview").click()
    dash.wait_idle()
    dash.sidebar.get_by_role("link", name="Curves & threshold").click()
    dash.wait_idle()
    expect_metrics_at(dash, sweep, expect_threshold(dash, name, final))
    expect(dash.exceptions).to_have_count(0)


def test_clicking_a_curve_point_moves_the_threshold_there(dash, digits_ev):
    name = "8"
    sweep = digits_ev.sweep(digits_ev.dataset.classes.index(name))
    dash.open(f"/threshold?class={name}&t=0.5")
    chart = dash.page.locator(".st-key-threshold_metrics .ed-thr svg.ed-chart")
    chart.scroll_into_view_if_needed()
    box = chart.bounding_box()
    # the plot area spans x from data-left to data-right of the view box: aim at threshold ~0.2
    width = float(chart.get_attribute("viewBox").split()[2])
    left, right = float(chart.get_attribute("data-left")), float(chart.get_attribute("data-right"))
    x = box["x"] + box["width"] * (left + 0.2 * (right - left)) / width
    dash.page.mouse.click(x, box["y"] + box["height"] * 0.5)
    t = dash.threshold_value()
    assert t == pytest.approx(0.2, abs=0.02)
    expect_metrics_at(dash, sweep, expect_threshold(dash, name, t))


def test_typed_threshold_off_the_slider_steps_is_shown_exactly(dash, digits_ev):
    name = "8"
    sweep = digits_ev.sweep(digits_ev.dataset.classes.index(name))
    dash.open(f"/threshold?class={name}&t=0.5")
    box = dash.page.locator(".st-key-threshold_exact input")
    box.fill("0.4567")
    box.press("Enter")
    dash.wait_idle()
    expect_metrics_at(dash, sweep, expect_threshold(dash, name, 0.4567))
    # the arrow keys go on from there along the slider's steps
    dash.press_on_slider("ArrowRight", 1)
    t = dash.threshold_value()
    assert t == pytest.approx(0.457)
    expect_metrics_at(dash, sweep, expect_threshold(dash, name, t))
    assert shown_metrics(dash) == core_metrics(sweep, 0.457)
