"""Take a screenshot of every page of the running dashboard into docs/ (headless Chromium).

Usage: python scripts/screenshots.py [--url http://localhost:8501] [--out docs] [--only NAMES] [--concepts]
Starts its own server on the bundled sample (and its weaker model, for /compare) when --url is
not given; with --concepts, on the multi-label concept sample, for the concept matrix and a
concept's threshold (docs/concepts-*.png). Makes the README's pictures (1400 wide, as tall as each page needs) and what a person
sees first on a laptop (1024x768) and a common screen (1400x900): docs/<name>-<w>x<h>.png.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic"]
# (file name, url path, viewport height, click "Details" on the first thumbnail)
SHOTS = [
    ("overview", "/", 1500, False),
    ("confusion", "/confusion?true=1&pred=8", 1900, False),
    ("threshold", "/threshold?class=8&t=0.35", 1500, False),
    ("decision", "/decision?class=8&t=0.35", 3400, False),
    ("calibration", "/calibration", 1500, False),
    ("errors", "/errors?gallery=mistakes", 1300, False),
    ("detail", "/errors?gallery=mistakes", 1300, True),
    ("review", "/review", 1300, False),
]
# what fits in the window, at two sizes: (name, url path, element scrolled to the top or None)
SCREENS = [
    ("confusion", "/confusion?true=1&pred=8", None),
    ("compare", "/compare", "[class*='st-key-cmp_cm_a']"),
    ("threshold", "/threshold?class=8&t=0.35", None),
    ("decision", "/decision?class=8&t=0.35", None),
    ("review", "/review", None),
]
SIZES = [(1024, 768), (1400, 900)]
# the multi-label concept sample (--concepts)
CONCEPT_SHOTS = [
    ("concepts-matrix", "/confusion", 1150, False),
    ("concepts-threshold", "/threshold?class=prime&t=0.4", 1900, False),
]


_BUSY = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    return !app || app.getAttribute('data-test-script-state') === 'running'
        || !!document.querySelector('[data-testid="stSkeleton"], [data-testid="stStatusWidget"], [data-stale="true"]');
}"""


def settle(page, quiet_ms: int = 1000, timeout_s: float = 90) -> None:
    """Wait until the page has drawn everything (no run going, no placeholder) for ``quiet_ms``."""
    deadline, calm = time.time() + timeout_s, None
    while time.time() < deadline:
        if page.evaluate(_BUSY):
            calm = None
        elif calm is None:
            calm = time.time()
        elif (time.time() - calm) * 1000 >= quiet_ms:
            return
        page.wait_for_timeout(100)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, *args: str) -> subprocess.Popen:
    # an empty annotation database of its own, so the pictures never show someone's findings
    db = Path(tempfile.mkdtemp()) / "annotations.db"
    cmd = [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.port", str(port),
           "--server.headless", "true", "--browser.gatherUsageStats", "false",
           "--server.fileWatcherType", "none", "--", *args, "--db", str(db)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return proc
        except OSError:
            time.sleep(0.3)
    proc.kill()
    raise RuntimeError("streamlit did not start")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url")
    parser.add_argument("--out", default=str(ROOT / "docs"))
    parser.add_argument("--only", default="", help="comma-separated shot names (default: all)")
    parser.add_argument("--concepts", action="store_true",
                        help="the concept matrix and a concept's threshold, on the multi-label sample")
    args = parser.parse_args()
    shots, screens = (CONCEPT_SHOTS, []) if args.concepts else (SHOTS, SCREENS)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    proc = None
    url = args.url
    if not url:
        port = free_port()
        digits = ROOT / "sample_data" / "digits"
        files = [digits / "concepts.csv"] if args.concepts else [digits / "predictions.csv",
                                                                  digits / "predictions_weaker.csv"]
        proc = start_server(port, *map(str, files))
        url = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            for name, path, height, details in shots:
                if args.only and name not in args.only.split(","):
                    continue
                page = browser.new_page(viewport={"width": 1400, "height": height})
                page.goto(url + path)
                page.wait_for_selector("[data-testid='stAppViewContainer']")
                page.wait_for_selector("[data-testid='stMainBlockContainer'] h1", timeout=30000)
                settle(page)
                # the whole page from its top (a deep link such as /confusion?true=…&pred=… scrolls
                # to its gallery)
                page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollTo(0, 0)")
                page.wait_for_timeout(300)
                if details:
                    page.get_by_role("button", name="Details").first.click()
                    page.wait_for_selector("[data-testid='stDialog']")
                    page.wait_for_timeout(1500)
                page.screenshot(path=str(out / f"{name}.png"))
                page.close()
                print(out / f"{name}.png")
            for name, path, scroll_to in screens:
                if args.only and name not in args.only.split(","):
                    continue
                for width, height in SIZES:
                    page = browser.new_page(viewport={"width": width, "height": height})
                    page.goto(url + path)
                    page.wait_for_selector("[data-testid='stMainBlockContainer'] h1", timeout=30000)
                    settle(page)
                    if scroll_to:
                        # to the element, less the app's header
                        page.locator(scroll_to).first.evaluate(
                            "e => { e.scrollIntoView({block: 'start'}); "
                            "document.querySelector('[data-testid=\"stMain\"]').scrollBy(0, -90); }")
                        page.wait_for_timeout(500)
                    shot = out / f"{name}-{width}x{height}.png"
                    page.screenshot(path=str(shot))
                    page.close()
                    print(shot)
            browser.close()
    finally:
        if proc is not None:
            proc.terminate()


if __name__ == "__main__":
    main()
