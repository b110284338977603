"""Every page loads without a Streamlit exception, on the multi-class and on the binary sample."""

import pytest
from playwright.sync_api import expect

from dashboard import Dashboard

pytestmark = pytest.mark.e2e

PAGES = {
    "/": "Overview",
    "/confusion": "Confusion matrix",
    "/threshold": "Curves & threshold",
    "/errors": "Error analysis",
    "/review": "Review queue",
    "/slices": "Slices",
    "/runs": "Runs",
    "/compare": "Compare",
}


@pytest.mark.parametrize("server", ["app_server", "binary_server"])
@pytest.mark.parametrize("path", list(PAGES))
def test_page_loads_without_exception(page, request, server, path):
    dash = Dashboard(page, request.getfixturevalue(server).url)
    dash.open(path)
    expect(dash.page.locator("h1").first).to_have_text(PAGES[path])
    assert dash.path == path
    expect(dash.page.locator('[data-testid="stMain"]')).not_to_be_empty()
    expect(dash.exceptions).to_have_count(0)
