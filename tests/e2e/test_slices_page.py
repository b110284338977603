"""Slices: pick the worst slice in the table and every page shows only it."""

import re

import pandas as pd
import pytest
from playwright.sync_api import expect
from sklearn.metrics import accuracy_score

from dashboard import DIGITS_CSV

pytestmark = pytest.mark.e2e


def test_select_a_slice_row_filters_the_dashboard(dash):
    frame = pd.read_csv(DIGITS_CSV, dtype={"label": str, "prediction": str})
    dash.open("/slices")
    grid = dash.page.locator(".st-key-slice_table [data-testid='stDataFrameResizable']")
    grid.wait_for()
    box = grid.bounding_box()
    # the first data row's selection box: the header row and then rows of ~35 px
    dash.page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)
    dash.wait_idle()
    info = dash.sidebar.get_by_text("Showing only the slice")
    expect(info).to_be_visible()
    text = info.inner_text()
    column, value = re.search(r"slice (.+?) = (.+) \([\d,]+ samples\)", text).groups()
    from evaldash import load_predictions
    from evaldash.slices import slice_labels

    part = frame[(slice_labels(load_predictions(DIGITS_CSV), column) == value).to_numpy()]
    dash.sidebar.get_by_role("link", name="Overview").click()
    dash.wait_idle()
    expect(dash.metric("Samples")).to_have_text(f"{len(part):,}")
    expect(dash.metric("Accuracy")).to_have_text(f"{accuracy_score(part['label'], part['prediction']):.3f}")
    dash.sidebar.locator(".st-key-clear_slice button").click()
    dash.wait_idle()
    expect(dash.metric("Samples")).to_have_text(f"{len(frame):,}")
