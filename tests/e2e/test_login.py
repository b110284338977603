"""A server with ``--users``: without logging in no data reaches the browser; after logging in the
findings carry the user.

The file's class names are words that appear nowhere else (``okapi7q``…), so a response that
carries one carries data.
"""

from __future__ import annotations

import time
import urllib.request

import pandas as pd
import pytest
from playwright.sync_api import expect

import evaldash
from dashboard import DIGITS_CSV, Dashboard, StreamlitServer
from evaldash import auth
from evaldash.annotations import AnnotationStore

pytestmark = pytest.mark.e2e
NAMES = [f"{w}7q" for w in ("okapi", "quokka", "narwhal", "axolotl", "pangolin", "tapir", "dugong", "kinkajou",
                            "gharial", "saola")]
PASSWORD = "correct horse"


class LoginServer(StreamlitServer):
    """The app behind a log-in: ready when its log-in page answers (everything else is 401)."""

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}{auth.LOGIN_PATH}", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"streamlit did not start within {timeout:.0f}s:\n{self.log_tail()}")


@pytest.fixture(scope="module")
def animals_csv(tmp_path_factory):
    """The digits sample with its classes renamed to NAMES (images from the sample's folder)."""
    frame = pd.read_csv(DIGITS_CSV)
    rename = dict(zip([str(i) for i in range(10)], NAMES))
    frame["label"] = frame["label"].astype(str).map(rename)
    frame["prediction"] = frame["prediction"].astype(str).map(rename)
    frame = frame.rename(columns={f"score_{i}": f"score_{n}" for i, n in enumerate(NAMES)})
    frame["image"] = [str(DIGITS_CSV.parent / p) for p in frame["image"]]
    path = tmp_path_factory.mktemp("animals") / "animals.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def login_server(tmp_path_factory, upload_dir, animals_csv):
    users = tmp_path_factory.mktemp("team") / "users.json"
    auth.add_user(users, "ana", PASSWORD)
    log = tmp_path_factory.mktemp("server") / "login.log"
    server = LoginServer([str(animals_csv), "--images-root", str(DIGITS_CSV.parent), "--users", str(users)],
                         log, upload_dir)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


def _record_every_answer(page, seen: list[dict]) -> None:
    """Each HTTP answer the browser gets, body included: every request goes through ``route.fetch``."""

    def handle(route):
        response = route.fetch(max_redirects=0)
        seen.append({"url": route.request.url, "status": response.status,
                     "type": response.headers.get("content-type", ""), "body": response.body()})
        route.fulfill(response=response)

    page.route("**/*", handle)


def _carries_data(seen: dict) -> str:
    """Why a response carries the file's data ('' when it does not)."""
    if seen["type"].startswith("image/"):
        return f"an image: {seen['url']}"
    text = (seen["body"] or b"").decode("utf-8", "replace")
    found = [n for n in NAMES if n in text]
    return f"class names {found} in {seen['url']}" if found else ""


def _log_in(page, name: str, password: str) -> None:
    page.locator("#name").fill(name)
    page.locator("#password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_without_logging_in_no_data_reaches_the_browser(page, login_server, animals_csv):
    responses = []
    sockets = []
    _record_every_answer(page, responses)
    page.on("websocket", lambda ws: sockets.append(ws))
    url = login_server.url
    for path in ("/", "/confusion?true=1&pred=8", "/errors", "/_stcore/host-config",
                 "/_stcore/health", "/media/x.png", "/app/static/x"):
        page.goto(url + path)
    # a page ends on the log-in form, remembering where it was going
    page.goto(url + "/threshold?t=0.5")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    assert page.url.startswith(f"{url}{auth.LOGIN_PATH}?next=")
    # a wrong password: the form again, nothing else
    _log_in(page, "ana", "wrong password")
    expect(page.get_by_text("Wrong name or password.")).to_be_visible()
    # the app's WebSocket, opened by hand from a page of the server (the log-in page's policy
    # allows no connection at all), is refused
    page.goto(url + "/_stcore/health")
    opened = page.evaluate("""url => new Promise(done => {
        const ws = new WebSocket(url);
        ws.onopen = () => done('open');
        ws.onclose = () => done('closed');
        setTimeout(() => done('no answer'), 10000);
    })""", url.replace("http://", "ws://") + "/_stcore/stream")
    assert opened == "closed"
    page.wait_for_timeout(500)
    assert len(responses) >= 10
    assert [r["url"] for r in responses if r["status"] == 200 and auth.LOGIN_PATH not in r["url"]] == []
    assert [why for r in responses if (why := _carries_data(r))] == []
    assert all(not ws.url.endswith("/_stcore/stream") or ws.is_closed() for ws in sockets)
    assert "okapi7q" not in page.content()


def test_after_logging_in_the_findings_carry_the_user(page, login_server, animals_csv):
    ev = evaldash.evaluate(evaldash.load_predictions(animals_csv, images_root=str(DIGITS_CSV.parent)))
    d = ev.dataset
    i, j = d.classes.index("axolotl7q"), d.classes.index("gharial7q")  # digits 3 and 8: a cell with mistakes
    row = int(ev.cell_samples(i, j)[0])
    url = login_server.url
    page.goto(f"{url}/confusion?true=axolotl7q&pred=gharial7q")
    _log_in(page, "ana", PASSWORD)
    page.wait_for_url(f"{url}/confusion?true=axolotl7q&pred=gharial7q")
    dash = Dashboard(page, url)
    page.locator("h1").first.wait_for()
    dash.wait_idle()
    # the user is the annotator: no name to type
    expect(dash.sidebar).to_contain_text("Signed in as ana")
    expect(dash.sidebar.locator(".st-key-annotator input")).to_have_count(0)

    page.locator(f".st-key-cell_detail_{row} button").click()
    dialog = page.get_by_role("dialog")
    expect(dialog).to_be_visible()
    box = dialog.locator(f".st-key-findings_new_tag_{row} input")
    box.click()
    box.press_sequentially("checked by ana")
    box.press("Enter")  # Enter saves the new tag
    expect(dialog.get_by_text("Saved 1 change.")).to_be_visible()
    state = AnnotationStore(str(login_server.log_path.with_suffix(".annotations.db"))).state(d.fingerprint())
    assert state.loc[str(d.ids[row]), "annotator"] == "ana"
    assert "checked by ana" in state.loc[str(d.ids[row]), "tags"]
    page.keyboard.press("Escape")
    expect(dialog).to_have_count(0)
    dash.wait_idle()

    # logging out ends the session: the pages ask for the log-in again
    dash.sidebar.get_by_role("link", name="Log out").click()
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
    assert page.context.cookies() == [] or all(c["name"] != auth.COOKIE for c in page.context.cookies())
    page.goto(url + "/")
    expect(page.get_by_role("button", name="Log in")).to_be_visible()
