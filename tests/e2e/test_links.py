"""Every view a link, and back again (issue 14), at 1024×768 and 1400×900: a sliced, moded
/confusion and /decision's typed inputs survive a reload; a saved decision record opens back into
/decision; the Details dialog moves through the gallery with Previous / Next."""

from __future__ import annotations

import re

import numpy as np
import pytest
from playwright.sync_api import expect

import evaldash
from dashboard import DIGITS_CSV, Dashboard
from evaldash import matrix
from evaldash.dataset import subset
from evaldash.slices import slice_rows, slice_table

pytestmark = pytest.mark.e2e

VIEWPORTS = {"1024x768": {"width": 1024, "height": 768}, "1400x900": {"width": 1400, "height": 900}}


@pytest.fixture(params=list(VIEWPORTS))
def sized(request, browser, app_server) -> Dashboard:
    """The dashboard on the digits sample in a new session, in a window of each size."""
    context = browser.new_context(viewport=VIEWPORTS[request.param])
    context.set_default_timeout(30_000)
    yield Dashboard(context.new_page(), app_server.url)
    context.close()


def reload(dash: Dashboard) -> None:
    dash.page.reload()
    dash.page.locator("h1").first.wait_for()
    dash.wait_idle()


def set_number(dash: Dashboard, key: str, value: float) -> None:
    box = dash.page.locator(f".st-key-{key} input")
    box.scroll_into_view_if_needed()
    box.fill(f"{value:g}")
    box.press("Enter")
    dash.wait_idle()


def numbers(dash: Dashboard, keys: list[str]) -> list[str]:
    return [dash.page.locator(f".st-key-{k} input").input_value() for k in keys]


def test_reload_a_sliced_moded_view_shows_the_same_view(sized):
    dash = sized
    d = evaldash.load_predictions(DIGITS_CSV)
    column = str(d.metadata.columns[0])  # the slices page groups by the first column first
    value = str(slice_table(d, column)["slice"].iloc[0])  # the worst slice: the table's first row
    part = evaluate_rows(d, slice_rows(d, column, value), f"{column} = {value}")
    assert 0 < part.dataset.n < d.n

    dash.open("/slices")
    grid = dash.page.locator(".st-key-slice_table [data-testid='stDataFrameResizable']")
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    dash.page.mouse.click(box["x"] + 18, box["y"] + 35 + 17)  # the first data row's selection box
    dash.wait_idle()
    expect(dash.sidebar.get_by_text("Showing only the slice")).to_contain_text(f"{column} = {value}")

    dash.sidebar.get_by_role("link", name="Confusion matrix").click()
    dash.wait_idle()
    dash.page.locator(".st-key-cm_mode").get_by_text("Normalised by true class (recall)").click()
    dash.wait_idle()
    dash.page.locator(".st-key-cm_order").get_by_text("by error count").click()
    dash.wait_idle()
    order = [part.dataset.classes[i] for i in matrix.class_order(part.counts, "errors")]
    assert order != list(d.classes)  # the order really moves classes
    view = {"slice_by": column, "slice": value, "mode": "true", "order": "errors"}

    def expect_the_view():
        assert {k: dash.query.get(k) for k in view} == view
        expect(dash.sidebar.get_by_text("Showing only the slice")).to_contain_text(
            f"{column} = {value} ({part.dataset.n:,} samples)")
        expect(dash.page.locator(".st-key-cm_mode [aria-checked='true'], .st-key-cm_mode [aria-pressed='true'], "
                                 ".st-key-cm_mode [data-testid$='Active']")).to_contain_text("Normalised by true class")
        expect(dash.page.locator(".st-key-cm_order [aria-checked='true'], .st-key-cm_order [aria-pressed='true'], "
                                 ".st-key-cm_order [data-testid$='Active']")).to_contain_text("by error count")
        matrix_box = dash.page.locator(".st-key-confusion_matrix")
        expect(matrix_box.locator(".cm-row")).to_have_text(order)
        # the counts are those of the slice, the cells' text the share of the true class
        i, j = order.index(order[0]), order.index(order[0])
        c = part.dataset.classes.index(order[0])
        cell = matrix_box.locator(f'.cm-cell[data-true="{i}"][data-pred="{j}"]')
        expect(cell).to_have_attribute("aria-label", re.compile(rf": {int(part.confusion[c, c])} samples$"))
        expect(dash.exceptions).to_have_count(0)

    expect_the_view()
    reload(dash)
    assert dash.path == "/confusion"
    expect_the_view()


def evaluate_rows(d, rows, label):
    return evaldash.evaluate(subset(d, rows, label))


INPUTS = {"dec_prevalence_8": 2.5, "dec_cost_fp": 3, "dec_cost_fn": 40, "dec_volume": 5000}


def test_reload_decision_keeps_the_typed_inputs(sized):
    dash = sized
    dash.open("/decision?class=8&t=0.35")
    defaults = numbers(dash, list(INPUTS))
    for key, value in INPUTS.items():
        set_number(dash, key, value)
    typed = numbers(dash, list(INPUTS))
    assert typed != defaults
    summary = dash.page.locator(".st-key-dec_summary")
    expect(summary).to_contain_text("with 2.50% 8 in deployment")
    expect(summary).to_contain_text("Per day at 5,000 items")
    assert {k: dash.query.get(k) for k in ("share", "cost_fp", "cost_fn", "per_day")} == \
        {"share": "2.5", "cost_fp": "3", "cost_fn": "40", "per_day": "5000"}

    reload(dash)
    expect(summary).to_contain_text("At threshold 0.35, with 2.50% 8 in deployment")
    expect(summary).to_contain_text("Per day at 5,000 items")
    for key, value in zip(INPUTS, typed):  # each input refilled from the link (drawn after the summary)
        expect(dash.page.locator(f".st-key-{key} input")).to_have_value(value)
    expect(dash.exceptions).to_have_count(0)


@pytest.fixture(scope="module")
def record_server(tmp_path_factory, upload_dir):
    """A server of its own (its own database): the records saved here stay out of other tests."""
    from dashboard import StreamlitServer

    log = tmp_path_factory.mktemp("server") / "records.log"
    server = StreamlitServer([], log, upload_dir)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def test_open_a_saved_record_restores_its_inputs(sized, browser, record_server):
    dash = Dashboard(sized.page, record_server.url)
    dash.open("/decision?class=8&t=0.35")
    for key, value in INPUTS.items():
        set_number(dash, key, value)
    approver = dash.page.locator(".st-key-dec_approver input")
    approver.scroll_into_view_if_needed()
    approver.fill("Dana")
    approver.press("Enter")
    dash.wait_idle()
    dash.page.locator(".st-key-dec_save button").click()
    dash.wait_idle()
    expect(dash.page.get_by_text(re.compile(r"^Saved: class 8 at threshold 0\.35"))).to_be_visible()

    # a new session: the defaults beside the record, until the record is opened
    context = browser.new_context(viewport=dash.page.viewport_size)
    try:
        fresh = Dashboard(context.new_page(), dash.base_url)
        fresh.page.set_default_timeout(30_000)
        fresh.open("/decision")
        expect(fresh.page.locator(".st-key-class_select input")).not_to_have_value("8")
        pick = fresh.page.locator(".st-key-dec_record_pick")
        pick.scroll_into_view_if_needed()
        expect(pick.locator("input")).to_have_value(re.compile(r"· Dana · class 8 at 0\.35$"))
        fresh.page.locator(".st-key-dec_open_record button").click()
        fresh.wait_idle()
        expect(fresh.page.locator(".st-key-class_select input")).to_have_value("8")
        assert fresh.threshold_value() == pytest.approx(0.35)
        assert numbers(fresh, list(INPUTS)) == numbers(dash, list(INPUTS))
        assert {k: fresh.query.get(k) for k in ("class", "t", "share", "cost_fn", "per_day")} == \
            {"class": "8", "t": "0.35", "share": "2.5", "cost_fn": "40", "per_day": "5000"}
        expect(fresh.exceptions).to_have_count(0)
    finally:
        context.close()


def test_details_previous_and_next_move_through_the_gallery(sized, digits_ev):
    dash = sized
    d = digits_ev.dataset
    seven = d.classes.index("7")
    rows = digits_ev.cell_samples(seven, seven)[:24]  # the gallery's first page, in its order
    dash.open("/confusion?true=7&pred=7")
    gallery = dash.page.locator(".st-key-cell_gallery")
    button = gallery.locator(f".st-key-cell_detail_{int(rows[0])} button")
    button.scroll_into_view_if_needed()
    button.click()
    dialog = dash.page.locator('[data-testid="stDialog"]')
    expect(dialog).to_be_visible()

    def expect_sample(n: int):
        row = int(rows[n])
        expect(dialog).to_contain_text(f"Sample {n + 1} of {len(rows)}")
        facts = dialog.locator(f".st-key-detail_facts_{row} [data-testid='stDataFrame']")
        facts.scroll_into_view_if_needed()  # the grid draws the rows it shows
        expect(facts).to_contain_text(str(d.ids[row]))

    expect_sample(0)
    expect(dialog.get_by_role("button", name="Previous")).to_be_disabled()
    for n in (1, 2):
        dialog.get_by_role("button", name="Next").click()
        expect_sample(n)
    dialog.get_by_role("button", name="Previous").click()
    expect_sample(1)
    expect(dash.exceptions).to_have_count(0)
    assert np.unique(rows[:3]).size == 3
