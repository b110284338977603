"""A hostile-names file in the browser: class names, ids, metadata and run names made of Markdown
image and link syntax, HTML and formulas (tests/hostile_inputs.py), and a tag, a note and an
annotator's name of the same kind typed in the app.

Every page is opened, a matrix cell clicked, Details opened and a finding saved. The browser must
ask nothing of anyone but the server: a listener on another loopback port (where the texts'
URLs point) gets no request, and Playwright's request log holds only the server's own origin
(and data:/blob:). The texts show as typed.
"""

from __future__ import annotations

import http.server
import re
import threading

import numpy as np
import pytest
from playwright.sync_api import expect

import evaldash
from dashboard import Dashboard, StreamlitServer, _free_port
from hostile_inputs import (RUN_NAME, RUN_PATHS, hostile_annotator, hostile_classes, hostile_metadata,
                            hostile_note, hostile_tag, write_hostile_predictions)

pytestmark = pytest.mark.e2e

PAGES = ["/", "/confusion", "/threshold", "/decision", "/calibration", "/errors", "/review", "/slices", "/runs",
         "/compare"]


class Listener:
    """An HTTP server on a free 127.0.0.1 port that records the path of every request it gets."""

    def __init__(self):
        self.hits: list[str] = []
        hits = self.hits

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - the name http.server calls
                hits.append(self.path)
                self.send_response(404)
                self.end_headers()

            do_POST = do_HEAD = do_GET  # noqa: N815

            def log_message(self, *args):
                pass

        self.port = _free_port()
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def listener():
    server = Listener()
    yield server
    server.close()


@pytest.fixture(scope="module")
def hostile_files(tmp_path_factory, listener):
    """Model A (``hostile.csv``) and model B of the same samples, B's file named like Markdown."""
    folder = tmp_path_factory.mktemp("hostile")
    a = write_hostile_predictions(folder, listener.port)
    b = write_hostile_predictions(folder, listener.port, seed=1, name=RUN_NAME)
    return a, b


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory, upload_dir, hostile_files):
    log = tmp_path_factory.mktemp("server") / "hostile.log"
    server = StreamlitServer([str(p) for p in hostile_files], log, upload_dir)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


class RequestLog:
    """Every request the page makes (WebSockets included)."""

    def __init__(self, page):
        self.urls: list[str] = []
        page.on("request", lambda r: self.urls.append(r.url))
        page.on("websocket", lambda ws: self.urls.append(ws.url))

    def foreign(self, origin: str) -> list[str]:
        ws_origin = origin.replace("http://", "ws://", 1)
        return [u for u in self.urls if not (u.startswith((origin + "/", ws_origin + "/", "data:", "blob:")))]


def _typed(text: str) -> re.Pattern:
    """A pattern of ``text`` as shown: web addresses and icon names may hold an invisible word
    joiner (ui.md), which keeps them from becoming links and icons."""
    pattern = re.escape(text).replace("://", ":\u2060?//").replace(r"www\.", "www\u2060?\\.")
    pattern = pattern.replace(":material", ":\u2060?material")
    return re.compile(pattern.replace("/", r"\/"))  # "/" ends a regex in Playwright's selectors


def _visible(text: str) -> str:
    return text.replace("\u2060", "")


def _shows(scope, text: str) -> None:
    """``text`` is visible, as typed, in ``scope``."""
    expect(scope.get_by_text(_typed(text)).filter(visible=True).first).to_be_visible()


def _captions(scope, count: int | None = None) -> list[str]:
    """The gallery captions in ``scope`` as read (``count``: wait until there are that many)."""
    captions = scope.locator('[data-testid="stImageCaption"]')
    if count is not None:
        expect(captions).to_have_count(count)
    else:
        expect(captions.first).to_be_visible()
    return [_visible(c) for c in captions.all_inner_texts()]


def _set_annotator(dash: Dashboard, name: str) -> None:
    box = dash.sidebar.locator(".st-key-annotator input")
    box.fill(name)
    box.press("Enter")
    dash.wait_idle()


def test_hostile_names_stay_text_and_the_browser_asks_only_the_server(page, hostile_server, hostile_files,
                                                                     listener):
    requests = RequestLog(page)
    dash = Dashboard(page, hostile_server.url)
    port = listener.port
    ev = evaldash.evaluate(evaldash.load_predictions(hostile_files[0]))
    d = ev.dataset
    column, _, numeric = hostile_metadata(port)

    for path in PAGES:
        dash.open(path)
        expect(dash.exceptions).to_have_count(0)
        main = page.locator('[data-testid="stMain"]')
        if path == "/errors":
            for label in (column, numeric):  # the metadata filters' labels
                _shows(main, label)
            captions = _captions(main, 24)
            assert all(" · true " in c for c in captions)
            # no caption or label holds an image, a link, an icon or bold text
            for made in ("img", "a", "[role=img]", "strong", "em"):
                expect(main.locator(f'[data-testid="stImageCaption"] {made}')).to_have_count(0)
                expect(main.locator(f'[data-testid="stWidgetLabel"] {made}')).to_have_count(0)
            assert any(":material/home:" in c for c in captions)  # the formula class, as typed
            assert {c.split(" · ")[0].strip() for c in captions} <= set(map(str, d.ids))
        elif path == "/review":
            # the set "Confident mistakes" starts at the most confident mistake
            wrong = np.flatnonzero(d.y_true != d.y_pred)
            r = int(wrong[np.argsort(-ev.confidence[wrong], kind="stable")][0])
            expect(main.locator("h3").first).to_have_text(
                _typed(f"{d.ids[r]}: true {d.classes[d.y_true[r]]} → predicted {d.classes[d.y_pred[r]]}"))
        elif path == "/threshold":  # the live threshold's label (a component of its own)
            _shows(main, f"a sample counts as {d.classes[0]} when its score")
        elif path == "/slices":  # the picked metadata column, in the picker
            expect(main.locator(".st-key-slice_column input")).to_have_value(column)
        elif path == "/decision":
            _shows(main, f"{d.classes[0]} in deployment")
        elif path == "/runs":
            _shows(main, f"Compare hostile.csv with {RUN_NAME} →")
        elif path == "/compare":
            _shows(main, f"B: {RUN_NAME}")
            captions = _captions(main)
            assert all(" · A " in c and " · B " in c for c in captions)

    # a cell of the matrix: its accessible name holds both class names as typed
    i, j = 0, 1
    dash.open("/confusion")
    cell = page.get_by_role("button", name=f"true {d.classes[i]}, predicted {d.classes[j]}: ")  # a substring
    cell.click()
    dash.wait_idle()
    gallery = page.locator(".st-key-cell_gallery")
    expect(gallery.locator("h3")).to_have_text(_typed(f"True {d.classes[i]} → predicted {d.classes[j]}"))
    rows = [int(r) for r in ev.cell_samples(i, j)]
    captions = _captions(gallery, min(len(rows), 24))
    assert [c.split(" · ")[0].strip() for c in captions] == [str(d.ids[r]) for r in rows[:24]]

    # Details of its first sample; a tag and a note saved by an annotator named like an image
    _set_annotator(dash, hostile_annotator(port))
    row = rows[0]
    page.locator(f".st-key-cell_detail_{row} button").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    expect(dialog.locator('[data-testid="stDataFrame"]')).to_have_count(2)  # id, classes, metadata; scores
    scores = dialog.locator(f".st-key-detail_scores_{row} [data-testid='stDataFrame']")  # class names as text
    scores.scroll_into_view_if_needed()
    expect(scores).to_contain_text(d.classes[d.y_true[row]])
    box = dialog.locator(f".st-key-findings_new_tag_{row} input")
    box.click()
    box.press_sequentially(hostile_tag(port))
    box.press("Enter")  # Enter saves the new tag
    expect(dialog.get_by_text("Saved 1 change.")).to_be_visible()
    dialog.locator(f".st-key-findings_note_{row} textarea").fill(hostile_note(port))
    dialog.locator(f".st-key-findings_save_{row} button").click()
    expect(dialog.get_by_text("Saved")).to_be_visible()
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    dash.wait_idle()

    # after a reload the tag renders under the thumbnail, as typed
    page.reload()
    page.locator("h1").first.wait_for()
    dash.wait_idle()
    first = gallery.locator('[data-testid="stImageCaption"]').first
    expect(first).to_contain_text(_typed(f"{d.ids[row]} · true {d.classes[i]} → {d.classes[j]}"))
    expect(first).to_contain_text(_typed(f"tags: {hostile_tag(port)}"))
    expect(first).to_contain_text(" · note")
    page.locator(f".st-key-cell_detail_{row} button").click()
    expect(dialog.locator(f".st-key-findings_tags_{row}")).to_contain_text(hostile_tag(port))
    expect(dialog.locator(f".st-key-findings_note_{row} textarea")).to_have_value(hostile_note(port))
    page.keyboard.press("Escape")
    dash.wait_idle()

    # the /errors tag filter offers the tag as typed
    dash.open("/errors")
    page.locator(".st-key-err_tags input").click()
    expect(page.get_by_role("option", name=hostile_tag(port), exact=True)).to_be_visible()
    page.keyboard.press("Escape")
    expect(dash.exceptions).to_have_count(0)

    # nothing was asked of anyone but the server
    page.wait_for_timeout(500)  # late image loads
    assert listener.hits == [], listener.hits
    assert requests.foreign(hostile_server.url) == [], requests.foreign(hostile_server.url)
    assert not [u for u in requests.urls if any(p in u for p in RUN_PATHS)]
    # and no image or link element points anywhere the texts name
    targets = page.evaluate("() => [...document.querySelectorAll('img[src], a[href]')].map(e => e.src || e.href)")
    assert not [t for t in targets if str(port) in t or any(p in t for p in RUN_PATHS)], targets


def test_tables_offer_no_csv_download(page, hostile_server):
    """st.dataframe's own "Download as CSV" would write class names and metadata as formulas."""
    dash = Dashboard(page, hostile_server.url).open("/")
    table = page.locator(".st-key-class_table")
    table.hover()
    toolbar = table.locator('[data-testid="stElementToolbar"]')
    expect(toolbar.get_by_role("button", name="Search")).to_have_count(1)  # the toolbar is shown
    expect(toolbar.get_by_role("button", name="Download as CSV")).to_have_count(0)
    expect(dash.exceptions).to_have_count(0)
