"""evaldash.show seen in a browser: its handle's HTML (what Jupyter shows) embeds the dashboard,
and a second call's runs open in the same server, its IFrame on its own data."""

import pytest
from playwright.sync_api import expect

import evaldash
from dashboard import DIGITS_CSV, Dashboard
from evaldash.report import fmt

pytestmark = pytest.mark.e2e
WEAKER = DIGITS_CSV.parent / "predictions_weaker.csv"


def test_the_handles_iframe_shows_each_calls_data(page, tmp_path):
    first = evaldash.show(DIGITS_CSV, db=str(tmp_path / "findings.db"))
    try:
        second = evaldash.show({"weaker <model>": WEAKER})
        assert second._server is first._server
        for handle, path in ((second, WEAKER), (first, DIGITS_CSV)):
            page.set_content(f"<html><body>{handle._repr_html_()}</body></html>")
            frame = page.frame_locator("iframe")
            want = fmt(evaldash.evaluate(path).evaluation.accuracy)
            accuracy = frame.locator('[data-testid="stMetric"]', has_text="Accuracy").locator(
                '[data-testid="stMetricValue"]')
            expect(accuracy).to_have_text(want, timeout=60_000)
            expect(frame.locator('[data-testid="stException"]')).to_have_count(0)
        # the second run is listed on /runs by its name, shown as plain text
        dash = Dashboard(page, first._server.url)
        dash.open("/runs")
        expect(page.get_by_role("link", name="Compare predictions.csv with weaker <model>")).to_be_visible()
    finally:
        first.stop()
