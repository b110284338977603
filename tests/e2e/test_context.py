"""Knowing what you are looking at (issue 14), in headless Chromium at 1024×768 and 1400×900: a click on a
confusion cell (or the overview's "Most confused with" link) brings the gallery's first image into the
viewport; two runs with the same file name have different names in the sidebar, /runs and /compare; the
main area says when the active file changes and when a file could not be opened; the overview shows no
quality gates unless a gates file gives some."""

from __future__ import annotations

import re
import shutil
import time

import numpy as np
import pytest
from playwright.sync_api import expect

from conftest import SCREENSHOTS
from dashboard import DIGITS_CSV, Dashboard, StreamlitServer, expect_cell_gallery
from test_drilldown import select_table_row

pytestmark = pytest.mark.e2e

SIZES = {"1024x768": (1024, 768), "1400x900": (1400, 900)}
NAMES = ["runA/predictions.csv", "runB/predictions.csv"]


@pytest.fixture(params=list(SIZES))
def sized_page(browser, request):
    """A new session in a window of a laptop's size."""
    width, height = SIZES[request.param]
    context = browser.new_context(viewport={"width": width, "height": height})
    context.set_default_timeout(30_000)
    page = context.new_page()
    yield page
    if any(getattr(request.node, f"rep_{when}", None) is not None and getattr(request.node, f"rep_{when}").failed
           for when in ("setup", "call")):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))
    context.close()


@pytest.fixture(scope="module")
def same_name_server(tmp_path_factory, upload_dir):
    """`evaldash serve runA/predictions.csv runB/predictions.csv --gates gates.toml`."""
    folder = tmp_path_factory.mktemp("runs")
    for run, source in (("runA", DIGITS_CSV), ("runB", DIGITS_CSV.parent / "predictions_weaker.csv")):
        (folder / run).mkdir()
        shutil.copy(source, folder / run / "predictions.csv")
    (folder / "runA" / "broken.csv").write_text("this is not,a predictions file\n1,2\n")
    (folder / "gates.toml").write_text("[min]\naccuracy = 0.5\n\n[max]\nerror_rate = 0.01\n")
    server = StreamlitServer([str(folder / "runA" / "predictions.csv"), str(folder / "runB" / "predictions.csv"),
                              "--gates", str(folder / "gates.toml")],
                             tmp_path_factory.mktemp("server") / "same_names.log", upload_dir)
    try:
        server.wait_ready()
        server.folder = folder
        yield server
    finally:
        server.stop()


def first_image_in_viewport(dash: Dashboard, timeout: float = 5.0) -> dict:
    """Wait until the cell gallery's first image lies wholly inside the window; its box."""
    page = dash.page
    image = page.locator('.st-key-cell_gallery [data-testid="stImage"] img').first
    expect(image).to_be_visible()
    size = page.viewport_size
    deadline = time.monotonic() + timeout
    while True:
        box = image.bounding_box()
        inside = (box is not None and box["height"] > 0 and box["y"] >= 0 and box["x"] >= 0
                  and box["y"] + box["height"] <= size["height"] and box["x"] + box["width"] <= size["width"])
        if inside or time.monotonic() > deadline:
            break
        page.wait_for_timeout(100)
    assert inside, f"the gallery's first image is at {box}, outside the {size['width']}×{size['height']} window"
    return box


def scroll_top(dash: Dashboard) -> float:
    return dash.page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]')?.scrollTop ?? "
                              "document.scrollingElement.scrollTop")


def test_click_a_cell_the_gallerys_first_image_is_in_the_viewport(sized_page, app_server, digits_ev):
    dash = Dashboard(sized_page, app_server.url).open("/confusion")
    classes = digits_ev.dataset.classes
    one, eight = classes.index("1"), classes.index("8")
    dash.click_cell(one, eight)
    dash.wait_idle()
    expect_cell_gallery(dash, digits_ev, one, eight)
    first_image_in_viewport(dash)
    # once per click: scrolling back up to the matrix and working on the page does not jump again
    dash.page.locator(".st-key-confusion_matrix").scroll_into_view_if_needed()
    dash.page.mouse.wheel(0, -5000)
    dash.page.wait_for_timeout(300)
    top = scroll_top(dash)
    dash.page.keyboard.press("r")  # Streamlit's "rerun": the same script run, no new click
    dash.wait_idle()
    assert scroll_top(dash) == pytest.approx(top, abs=2)
    # a second click (another cell) brings the new gallery into view again
    seven = classes.index("7")
    dash.click_cell(seven, seven)
    dash.wait_idle()
    expect_cell_gallery(dash, digits_ev, seven, seven)
    first_image_in_viewport(dash)
    expect(dash.exceptions).to_have_count(0)


def test_most_confused_link_shows_the_gallery_in_the_viewport(sized_page, app_server, digits_ev):
    d = digits_ev.dataset
    c = d.classes.index("1")
    row = digits_ev.counts.row(c)
    row[c] = -1
    j = int(np.argmax(row))
    dash = Dashboard(sized_page, app_server.url).open("/")
    select_table_row(dash, "class_table", c)
    link = dash.page.get_by_role("link", name=f"Most confused with {d.classes[j]} ({row[j]})")
    link.click()
    dash.wait_idle()
    expect(dash.page.locator("h1")).to_have_text("Confusion matrix")
    expect_cell_gallery(dash, digits_ev, c, j)
    first_image_in_viewport(dash)


def shown_option(dash: Dashboard, key: str, within=None) -> str:
    """The text a select box shows (its label's line removed)."""
    scope = within if within is not None else dash.page
    box = scope.locator(f".st-key-{key}")
    label = box.locator("label").inner_text().strip()
    return box.inner_text().replace(label, "", 1).strip() or box.locator("input").input_value().strip()


def options_of(dash: Dashboard, key: str, within=None) -> list[str]:
    scope = within if within is not None else dash.page
    scope.locator(f".st-key-{key} input").click()
    options = dash.page.get_by_role("option")
    expect(options.first).to_be_visible()
    texts = [o.strip() for o in options.all_inner_texts()]
    dash.page.keyboard.press("Escape")
    return texts


def test_two_runs_with_the_same_file_name_have_different_names(sized_page, same_name_server):
    dash = Dashboard(sized_page, same_name_server.url).open("/")
    assert shown_option(dash, "active_run", dash.sidebar) == NAMES[0]
    assert options_of(dash, "active_run", dash.sidebar) == NAMES

    dash.open("/runs")
    assert options_of(dash, "runs_a") == NAMES
    expect(dash.page.get_by_role("link", name=f"Compare {NAMES[0]} with {NAMES[1]}")).to_be_visible()

    dash.open("/compare")
    assert [shown_option(dash, "cmp_a"), shown_option(dash, "cmp_b")] == NAMES
    for side, name in zip("AB", NAMES):  # the headline table's columns and the captions of the matrices
        expect(dash.page.locator("th").filter(has_text=re.compile(f"^{side}: {name}$"))).to_have_count(1)
        expect(dash.page.get_by_role("paragraph").filter(has_text=re.compile(f"^{side}: {name}$"))).to_have_count(1)
    expect(dash.exceptions).to_have_count(0)


def look_at_a_gallery(dash: Dashboard) -> None:
    """Click a cell: the main area scrolls down to its images, away from the page's top."""
    dash.click_cell(1, 8)
    dash.wait_idle()
    first_image_in_viewport(dash)
    assert not dash.page.locator("h1").is_visible() or dash.page.locator("h1").bounding_box()["y"] < 0


def in_viewport(dash: Dashboard, locator) -> None:
    box = locator.bounding_box()
    assert box is not None and 0 <= box["y"] and box["y"] + box["height"] <= dash.page.viewport_size["height"], box


def test_the_main_area_says_which_file_is_now_shown(sized_page, same_name_server):
    dash = Dashboard(sized_page, same_name_server.url).open("/confusion")
    main = dash.page.locator('[data-testid="stMain"]')
    expect(main.get_by_text(re.compile("^Now showing"))).to_have_count(0)
    look_at_a_gallery(dash)
    dash.sidebar.locator(".st-key-active_run input").click()
    dash.page.get_by_role("option", name=NAMES[1], exact=True).click()
    dash.wait_idle()
    notice = main.get_by_text(f"Now showing {NAMES[1]}.", exact=True)
    expect(notice).to_be_visible()
    dash.page.wait_for_timeout(300)
    in_viewport(dash, notice)  # at the top of the main area, brought into view


def test_an_open_error_shows_in_the_main_area(sized_page, same_name_server):
    dash = Dashboard(sized_page, same_name_server.url).open("/confusion")
    look_at_a_gallery(dash)
    dash.sidebar.get_by_role("button", name="Open another file…").click()
    dash.wait_idle()
    dash.sidebar.locator(".st-key-path_input input").fill(str(same_name_server.folder / "runA" / "broken.csv"))
    dash.sidebar.locator(".st-key-path_input input").press("Enter")
    dash.sidebar.locator(".st-key-open_path button").click()
    dash.wait_idle()
    box = dash.page.locator(".st-key-main_load_error")
    expect(box).to_be_visible()
    expect(box).to_contain_text("broken.csv")
    expect(box).to_contain_text(f"Still showing {NAMES[0]}.")
    dash.page.wait_for_timeout(300)
    in_viewport(dash, box)  # where the user is looking, although they had scrolled down to a gallery
    box.get_by_role("button", name="Dismiss").click()
    dash.wait_idle()
    expect(box).to_have_count(0)


def test_the_overview_shows_no_gates_by_default(sized_page, app_server):
    dash = Dashboard(sized_page, app_server.url).open("/")
    expect(dash.page.get_by_role("heading", name="Quality gates")).to_be_visible()
    expect(dash.page.get_by_text(re.compile(r"\d+ of \d+ gates pass"))).to_have_count(0)


def test_the_overview_shows_the_gates_of_the_gates_file(sized_page, same_name_server):
    dash = Dashboard(sized_page, same_name_server.url).open("/")
    # accuracy ≥ 0.5 passes, error rate ≤ 0.01 fails on the digits sample
    expect(dash.page.get_by_text("1 of 2 gates pass", exact=True)).to_be_visible()
