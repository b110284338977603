"""How long ``evaldash.show(df)`` takes to open a 1M-row DataFrame, against ``evaldash serve`` on
the same data as a Parquet file (issue 17).

Both are timed from the call to the moment the overview, in headless Chromium, shows the file's
accuracy with no script run pending: server start, reading and validating the data, the first
page. ``show`` also validates the frame in the notebook (so a bad frame raises there) and writes
it as Parquet; ``serve`` reads the file the user already has. The DataFrame is read before the
clock starts (it is in the notebook's memory already).

    python benchmarks/bench_show.py                  # 1m10, 3 repetitions, alternating order
    python benchmarks/bench_show.py --preset 1m10 --repeat 5
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

CHROMIUM = os.environ.get("EVALDASH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic"]
BUSY = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-connection-state') !== 'CONNECTED') return true;
  return app.getAttribute('data-test-script-state') === 'running'
      || !!document.querySelector('[data-testid="stStatusWidget"]');
}"""

# the notebook side, in its own interpreter: read the frame untimed, then show() on "go"
NOTEBOOK = r"""
import sys, time, pandas as pd
sys.path.insert(0, sys.argv[2])
import evaldash
frame = pd.read_parquet(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
t0 = time.perf_counter()
handle = evaldash.show(frame, db=sys.argv[3])
print("url", handle.url, time.perf_counter() - t0, flush=True)
sys.stdin.readline()
handle.stop()
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_overview(page, url: str, accuracy: str, timeout: float = 300.0) -> None:
    """Load ``url`` until the overview shows ``accuracy`` and the app is idle for 0.4 s."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            page.goto(url, timeout=5000)
            break
        except Exception:  # noqa: BLE001 - the server is not listening yet
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    value = page.locator('[data-testid="stMetric"]', has_text="Accuracy").locator('[data-testid="stMetricValue"]')
    value.wait_for(timeout=timeout * 1000)
    text = value.inner_text().strip()
    assert text == accuracy, (text, accuracy)
    calm = 0
    while calm < 400:
        calm = 0 if page.evaluate(BUSY) else calm + 50
        page.wait_for_timeout(50)


def time_serve(browser, path: Path, db: str, accuracy: str) -> float:
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    t0 = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "evaldash.cli", "serve", str(path), "--port", str(port),
                             "--db", db], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            cwd=str(path.parent))
    try:
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        wait_overview(page, f"http://127.0.0.1:{port}/", accuracy)
        elapsed = time.perf_counter() - t0
        page.close()
        return elapsed
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def time_show(browser, path: Path, db: str, accuracy: str) -> tuple[float, float]:
    """(until the overview shows, of which the show() call itself)."""
    proc = subprocess.Popen([sys.executable, "-c", NOTEBOOK, str(path), str(ROOT / "src"), db],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=str(path.parent))
    try:
        assert proc.stdout.readline().strip() == "ready"
        t0 = time.perf_counter()
        proc.stdin.write("go\n")
        proc.stdin.flush()
        _, url, call = proc.stdout.readline().split()
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        wait_overview(page, url, accuracy)
        elapsed = time.perf_counter() - t0
        page.close()
        proc.stdin.write("stop\n")
        proc.stdin.flush()
        proc.wait(timeout=30)
        return elapsed, float(call)
    finally:
        if proc.poll() is None:
            proc.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--preset", default="1m10")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    import generate  # benchmarks/generate.py

    spec = generate.PRESETS[args.preset]
    path = Path(spec["out"])
    if not path.exists():
        subprocess.run([sys.executable, str(Path(__file__).with_name("generate.py")), "--preset", args.preset],
                       check=True)
    import evaldash
    from evaldash.report import fmt

    accuracy = fmt(evaldash.evaluate(path).evaluation.accuracy)
    from playwright.sync_api import sync_playwright

    serve_times, show_times, call_times = [], [], []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        db = str(Path(tmp) / "bench.db")
        time_serve(browser, path, db, accuracy)  # warm-up: page cache, .pyc files
        for i in range(args.repeat):
            order = ("serve", "show") if i % 2 == 0 else ("show", "serve")
            for what in order:
                if what == "serve":
                    serve_times.append(time_serve(browser, path, db, accuracy))
                else:
                    total, call = time_show(browser, path, db, accuracy)
                    show_times.append(total)
                    call_times.append(call)
                print(f"run {i + 1} {what}: {(serve_times if what == 'serve' else show_times)[-1]:.2f} s", flush=True)
        browser.close()
    result = {"preset": args.preset, "serve_file_s": serve_times, "show_dataframe_s": show_times,
              "show_call_s": call_times, "median_serve_file_s": statistics.median(serve_times),
              "median_show_dataframe_s": statistics.median(show_times),
              "median_show_call_s": statistics.median(call_times)}
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
