"""The app starts on the bundled sample and its headline numbers are the core's."""

import pytest
from playwright.sync_api import expect

from dashboard import three

pytestmark = pytest.mark.e2e


def test_starts_on_the_sample_data(dash, digits_ev):
    d = digits_ev.dataset
    dash.open("/")

    expect(dash.page.locator("h1")).to_have_text("Overview")
    expect(dash.metric("Samples")).to_have_text(f"{d.n:,}")
    expect(dash.metric("Classes")).to_have_text(str(d.n_classes))
    expect(dash.metric("Accuracy")).to_have_text(three(digits_ev.accuracy))
    expect(dash.sidebar).to_contain_text(f"{d.n:,} samples · {d.n_classes} classes")
    expect(dash.exceptions).to_have_count(0)


def test_binary_start_file_is_opened(binary_dash, binary_ev):
    d = binary_ev.dataset
    binary_dash.open("/")

    expect(binary_dash.metric("Samples")).to_have_text(f"{d.n:,}")
    expect(binary_dash.metric("Classes")).to_have_text("2")
    expect(binary_dash.metric("Accuracy")).to_have_text(three(binary_ev.accuracy))
    expect(binary_dash.sidebar).to_contain_text(f"positive class: {d.classes[d.positive]}")
