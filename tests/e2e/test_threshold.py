"""Moving the threshold slider with the keyboard shows the core's metrics at the new threshold."""

import pytest
from playwright.sync_api import expect

from dashboard import STEP, expect_metrics_at, expect_threshold, three

pytestmark = pytest.mark.e2e


def _pr(sweep, t):
    m = sweep.at(t)
    return three(m["precision"]), three(m["recall"])


def test_keyboard_moves_threshold(dash, digits_ev):
    name = "8"
    c = digits_ev.dataset.classes.index(name)
    sweep = digits_ev.sweep(c)
    # the moves below must change what is shown, or the test would prove nothing
    assert _pr(sweep, 0.5 + 3 * STEP) != _pr(sweep, 0.5)
    assert _pr(sweep, 0.5 - 2 * STEP) != _pr(sweep, 0.5 + 3 * STEP)

    dash.open("/threshold")
    dash.choose_class(name)
    expect(dash.page.locator(".st-key-class_select input")).to_have_value(name)
    expect_metrics_at(dash, sweep, expect_threshold(dash, name, 0.5))

    dash.press_on_slider("ArrowRight", 3)
    expect_metrics_at(dash, sweep, expect_threshold(dash, name, 0.5 + 3 * STEP))

    dash.press_on_slider("ArrowLeft", 5)
    expect_metrics_at(dash, sweep, expect_threshold(dash, name, 0.5 - 2 * STEP))
    expect(dash.exceptions).to_have_count(0)


def test_binary_threshold_uses_positive_class(binary_dash, binary_ev):
    d = binary_ev.dataset
    name = d.classes[d.positive]
    sweep = binary_ev.sweep(d.positive)

    binary_dash.open("/threshold")
    picker = binary_dash.page.locator(".st-key-class_select")
    expect(picker).to_contain_text("Positive class")
    expect(picker.locator("input")).to_have_value(name)
    expect_metrics_at(binary_dash, sweep, expect_threshold(binary_dash, name, 0.5))

    binary_dash.press_on_slider("ArrowLeft", 4)
    expect_metrics_at(binary_dash, sweep, expect_threshold(binary_dash, name, 0.5 - 4 * STEP))


def test_quick_key_presses_lose_no_step(dash, digits_ev):
    """Tapping the arrow keys quickly (every 100 ms; key repeat is ~30 ms) loses no step, and the
    slider, the URL and the metrics agree afterwards. Three tries, because a lost step is a race."""
    name = "8"
    sweep = digits_ev.sweep(digits_ev.dataset.classes.index(name))
    for _ in range(3):
        dash.open(f"/threshold?class={name}&t=0.35")
        dash.press_on_slider(["ArrowRight"] * 5 + ["ArrowLeft"] * 2, pause_ms=100)
        expect_metrics_at(dash, sweep, expect_threshold(dash, name, 0.35 + 3 * STEP))
