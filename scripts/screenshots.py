"""Take a screenshot of every page of the running dashboard into docs/ (headless Chromium).

Usage: python scripts/screenshots.py [--url http://localhost:8501] [--out docs]
Starts its own server on the bundled sample when --url is not given.
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
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    proc = None
    url = args.url
    if not url:
        port = free_port()
        proc = start_server(port)
        url = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            for name, path, height, details in SHOTS:
                if args.only and name not in args.only.split(","):
                    continue
                page = browser.new_page(viewport={"width": 1400, "height": height})
                page.goto(url + path)
                page.wait_for_selector("[data-testid='stAppViewContainer']")
                page.wait_for_selector("[data-testid='stMainBlockContainer'] h1", timeout=30000)
                page.wait_for_timeout(2500)
                if details:
                    page.get_by_role("button", name="Details").first.click()
                    page.wait_for_selector("[data-testid='stDialog']")
                    page.wait_for_timeout(1500)
                page.screenshot(path=str(out / f"{name}.png"))
                page.close()
                print(out / f"{name}.png")
            browser.close()
    finally:
        if proc is not None:
            proc.terminate()


if __name__ == "__main__":
    main()
