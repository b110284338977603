"""Browser tests: the dashboard served by ``streamlit run`` and driven in headless Chromium.

One Streamlit server per start file for the whole session (started on first use), one
browser for the session and a fresh browser context (so a new Streamlit session) per test.
Expected numbers always come from the evaluation core, never from the app's own output.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

import evaldash

CHROMIUM = os.environ.get("EVALDASH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic"]
SCREENSHOTS = Path(os.environ.get("EVALDASH_E2E_SCREENSHOTS", "/tmp/evaldash-e2e"))

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - the test extra is not installed
    sync_playwright = None
else:
    from dashboard import BINARY_CSV, DIGITS_CSV, ROOT, Dashboard, StreamlitServer

collect_ignore = [] if sync_playwright is not None else [
    str(p.name) for p in Path(__file__).parent.glob("*.py") if p.name != "conftest.py"]


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    missing = None
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        missing = f"no Chromium at {CHROMIUM} (apt-get install chromium, or set EVALDASH_CHROMIUM)"
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.e2e)
            # one worker runs every browser test (under pytest-xdist): one set of servers, one Chromium
            item.add_marker(pytest.mark.xdist_group("e2e"))
            if missing:
                item.add_marker(pytest.mark.skip(reason=missing))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # keep each phase's report on the item so the page fixture knows whether the test failed
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


# --- servers ---------------------------------------------------------------------

@pytest.fixture(scope="session")
def upload_dir(tmp_path_factory) -> Path:
    """Where the servers keep uploaded files (EVALDASH_UPLOAD_DIR), private to this test run."""
    return tmp_path_factory.mktemp("uploads")


def _serve(tmp_path_factory, upload_dir, name: str, script_args: list[str]):
    log = tmp_path_factory.mktemp("server") / f"{name}.log"
    server = StreamlitServer(script_args, log, upload_dir)
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def app_server(tmp_path_factory, upload_dir):
    """The app started with no file: the bundled 10-class digits sample."""
    yield from _serve(tmp_path_factory, upload_dir, "digits", [])


@pytest.fixture(scope="session")
def binary_server(tmp_path_factory, upload_dir):
    """The app started on the binary sample (``-- sample_data/digits/binary_three.csv``)."""
    yield from _serve(tmp_path_factory, upload_dir, "binary", [str(BINARY_CSV.relative_to(ROOT))])


@pytest.fixture(scope="session")
def compare_server(tmp_path_factory, upload_dir):
    """The app started on two models of the digits sample (``-- predictions.csv predictions_weaker.csv``)."""
    weaker = DIGITS_CSV.parent / "predictions_weaker.csv"
    yield from _serve(tmp_path_factory, upload_dir, "compare",
                      [str(DIGITS_CSV.relative_to(ROOT)), str(weaker.relative_to(ROOT))])


# --- expected values, from the core ---------------------------------------------------

@pytest.fixture(scope="session")
def digits_ev():
    return evaldash.evaluate(evaldash.load_predictions(DIGITS_CSV))


@pytest.fixture(scope="session")
def binary_ev():
    return evaldash.evaluate(evaldash.load_predictions(BINARY_CSV))


# --- the browser -------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


@pytest.fixture
def page(browser, request):
    """A new browser context per test: its own cookies, so its own Streamlit session."""
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    context.set_default_timeout(30_000)
    pg = context.new_page()
    yield pg
    failed = any(getattr(request.node, f"rep_{when}", None) is not None
                 and getattr(request.node, f"rep_{when}").failed for when in ("setup", "call"))
    if failed:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.nodeid.split("::", 1)[-1])
        try:
            pg.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        except Exception:  # noqa: BLE001 - a failed screenshot must not hide the real failure
            pass
    context.close()


@pytest.fixture
def dash(page, app_server) -> Dashboard:
    """The dashboard on the digits sample, in a new session."""
    return Dashboard(page, app_server.url)


@pytest.fixture
def compare_dash(page, compare_server) -> Dashboard:
    """The dashboard on two models of the digits sample, in a new session."""
    return Dashboard(page, compare_server.url)


@pytest.fixture
def binary_dash(page, binary_server) -> Dashboard:
    """The dashboard on the binary sample, in a new session."""
    return Dashboard(page, binary_server.url)
