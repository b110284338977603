"""The URL reflects the view, and opening it restores the view (deep links)."""

from urllib.parse import urlencode

import pytest
from playwright.sync_api import expect

import evaldash
from dashboard import Dashboard, expect_cell_gallery, expect_metrics_at, expect_threshold, write_three_class_csv

pytestmark = pytest.mark.e2e


def test_deep_link_selects_cell(dash, digits_ev):
    classes = digits_ev.dataset.classes
    dash.open("/confusion?true=1&pred=8")
    expect_cell_gallery(dash, digits_ev, classes.index("1"), classes.index("8"))
    expect(dash.exceptions).to_have_count(0)


def test_deep_link_sets_class_and_threshold(dash, digits_ev):
    c = digits_ev.dataset.classes.index("8")
    dash.open("/threshold?class=8&t=0.35")
    expect(dash.page.locator(".st-key-class_select input")).to_have_value("8")
    expect_metrics_at(dash, digits_ev.sweep(c), expect_threshold(dash, "8", 0.35))
    # and the default view is not what is shown (the link really changed something)
    assert digits_ev.sweep(c).at(0.35)["tp"] != digits_ev.sweep(0).at(0.5)["tp"]
    expect(dash.exceptions).to_have_count(0)


def test_deep_link_connects_without_probing_the_page_path(dash, digits_ev):
    """The served page names the server's root (evaldash.asgi), so Streamlit's page connects there
    at once instead of first asking /threshold/_stcore/health and host-config (404s)."""
    requests, failed = [], []
    dash.page.on("request", lambda r: requests.append(r.url))
    dash.page.on("response", lambda r: r.status >= 400 and failed.append(f"{r.status} {r.url}"))
    dash.open("/threshold?class=8&t=0.35")
    expect_metrics_at(dash, digits_ev.sweep(digits_ev.dataset.classes.index("8")),
                      expect_threshold(dash, "8", 0.35))
    probes = [u for u in requests if "/threshold/_stcore/" in u]
    assert probes == [] and failed == []
    assert dash.page.evaluate("() => window.__streamlit.BACKEND_BASE_URL") == dash.base_url + "/"
    assert any(u.endswith("/_stcore/health") for u in requests)  # it did connect, at the root


def test_link_to_a_cell_of_uploaded_data(dash, browser, tmp_path):
    """Class names with spaces and '&' survive the URL; the link reopens the uploaded file."""
    good = write_three_class_csv(tmp_path / "three_classes.csv")
    ev = evaldash.evaluate(evaldash.load_predictions(good))
    classes = ev.dataset.classes
    i, j = classes.index("red fox"), classes.index("a&b")
    assert ev.confusion[i, j] > 0

    dash.open("/")
    dash.upload(good)
    expect(dash.metric("Samples")).to_have_text(f"{ev.dataset.n:,}")
    dash.sidebar.get_by_role("link", name="Confusion matrix").click()
    dash.wait_idle()
    dash.click_cell(i, j)
    dash.wait_idle()
    expect_cell_gallery(dash, ev, i, j)
    assert "ds" in dash.query
    assert urlencode({"true": "red fox", "pred": "a&b"}) in dash.page.url

    # the same URL in another browser: a new session on the same server
    other = browser.new_context(viewport={"width": 1400, "height": 1100})
    try:
        fresh = Dashboard(other.new_page(), dash.base_url)
        fresh.page.set_default_timeout(30_000)
        fresh.open(dash.page.url.removeprefix(dash.base_url))
        expect(fresh.sidebar).to_contain_text(f"{ev.dataset.n:,} samples · 3 classes")
        expect_cell_gallery(fresh, ev, i, j)
    finally:
        other.close()


def test_reload_keeps_uploaded_data_on_overview(dash, digits_ev, tmp_path):
    """Reloading the page after an upload shows the uploaded file, not the start file."""
    good = write_three_class_csv(tmp_path / "three_classes.csv")
    n = evaldash.load_predictions(good).n

    dash.open("/")
    dash.upload(good)
    expect(dash.metric("Samples")).to_have_text(f"{n:,}")

    dash.page.reload()
    dash.page.locator("h1").first.wait_for()
    dash.wait_idle()
    expect(dash.metric("Samples")).to_have_text(f"{n:,}")
