"""Clicking a confusion-matrix cell shows exactly the images behind that cell."""

import pytest
from playwright.sync_api import expect

from dashboard import PAGE_SIZE, expect_cell_gallery

pytestmark = pytest.mark.e2e


def test_click_off_diagonal_then_diagonal_cell(dash, digits_ev):
    classes = digits_ev.dataset.classes
    one, eight, seven = classes.index("1"), classes.index("8"), classes.index("7")
    assert 0 < digits_ev.confusion[one, eight] <= PAGE_SIZE  # a whole cell on one page
    assert digits_ev.confusion[seven, seven] > PAGE_SIZE  # a cell that needs the pager

    dash.open("/confusion")
    expect(dash.page.locator(".st-key-cell_gallery")).to_have_count(0)

    dash.click_cell(one, eight)
    dash.wait_idle()
    expect_cell_gallery(dash, digits_ev, one, eight)

    dash.click_cell(seven, seven)
    dash.wait_idle()
    expect_cell_gallery(dash, digits_ev, seven, seven)
    expect(dash.exceptions).to_have_count(0)


def test_click_cell_on_binary_data(binary_dash, binary_ev):
    classes = binary_ev.dataset.classes
    three, other = classes.index("three"), classes.index("other")

    binary_dash.open("/confusion")
    binary_dash.click_cell(three, other)
    binary_dash.wait_idle()
    expect_cell_gallery(binary_dash, binary_ev, three, other)
