"""The app started on a file that does not load shows the error, and none of the bundled sample's
numbers, until the user opens a file in the sidebar."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from playwright.sync_api import expect

import evaldash
from dashboard import Dashboard, StreamlitServer

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def bad_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("bad") / "typo.csv"
    pd.DataFrame({"lable": ["cat", "dog"], "score_cat": [0.4, 0.7], "score_dog": [0.6, 0.3]}).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def bad_server(tmp_path_factory, upload_dir, bad_file):
    log = tmp_path_factory.mktemp("server") / "bad.log"
    server = StreamlitServer([str(bad_file)], log, upload_dir)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def test_a_bad_start_file_shows_its_error_and_no_sample_numbers(page, bad_server, bad_file, digits_ev):
    dash = Dashboard(page, bad_server.url).open("/")
    with pytest.raises(evaldash.InputError) as info:
        evaldash.load_predictions(bad_file)
    main = page.locator('[data-testid="stMain"]')
    error = main.locator(".st-key-main_start_error")
    expect(error).to_contain_text(str(info.value))
    expect(error).to_contain_text("No data is loaded")
    expect(dash.sidebar).to_contain_text("No file loaded")
    d = digits_ev.dataset
    body = page.locator("body")
    expect(body).not_to_contain_text(f"{d.n} samples")
    expect(body).not_to_contain_text(f"{d.n:,}")
    expect(body).not_to_contain_text(f"{digits_ev.headline()['accuracy']:.3f}")
    expect(page.locator('[data-testid="stMetric"]')).to_have_count(0)
    expect(dash.exceptions).to_have_count(0)
    # another page stops the same way
    dash.open("/threshold")
    expect(page.locator(".st-key-main_start_error")).to_contain_text(str(info.value))
    expect(body).not_to_contain_text(f"{d.n} samples")
    expect(dash.exceptions).to_have_count(0)


def test_the_sidebar_opens_a_file_after_the_error(page, bad_server, digits_ev):
    dash = Dashboard(page, bad_server.url).open("/")
    dash.sidebar.get_by_role("button", name="Open another file…").click()
    dash.sidebar.locator(".st-key-open_sample button").click()
    dash.wait_idle()
    d = digits_ev.dataset
    expect(dash.metric("Samples")).to_have_text(f"{d.n:,}")
    expect(dash.sidebar).to_contain_text(re.compile(rf"{d.n:,} samples · {d.n_classes} classes"))
    expect(page.locator(".st-key-main_start_error")).to_have_count(0)
