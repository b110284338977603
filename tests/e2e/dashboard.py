"""Drive the running dashboard as a person would: the server process and a page object.

Shared by the browser tests in this folder (fixtures live in ``conftest.py``).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

ROOT = Path(__file__).resolve().parents[2]
DIGITS_CSV = ROOT / "sample_data" / "digits" / "predictions.csv"
BINARY_CSV = ROOT / "sample_data" / "digits" / "binary_three.csv"
PAGE_SIZE = 24  # thumbnails per gallery page (issue 3: "for example 24 a page")
STEP = 0.001  # the threshold slider's step when scores are probabilities


def three(value: float) -> str:
    """A metric as the dashboard should show it: three decimals, 'n/a' when undefined."""
    return "n/a" if value != value else f"{value:.3f}"


# --- the server ----------------------------------------------------------------

def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class StreamlitServer:
    """``python -m streamlit run app.py`` on a free loopback port, in the repository root."""

    def __init__(self, script_args: list[str], log_path: Path, upload_dir: Path):
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        env = dict(os.environ)
        env.pop("EVALDASH_PREDICTIONS", None)  # the start file must come from the command line only
        env["EVALDASH_UPLOAD_DIR"] = str(upload_dir)
        # findings go to a database of this test run, never to the user's own
        env["EVALDASH_DB"] = str(log_path.with_suffix(".annotations.db"))
        env["PYTHONUNBUFFERED"] = "1"
        cmd = [sys.executable, "-m", "streamlit", "run", "app.py",
               "--server.port", str(self.port), "--server.address", "127.0.0.1",
               "--server.headless", "true", "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none"]
        if script_args:
            cmd += ["--", *script_args]
        self._log = open(log_path, "wb")
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200 and r.read().strip() == b"ok":
                        return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"streamlit did not become healthy within {timeout:.0f}s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()


_BUSY_JS = """() => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app) return 'no app';
    const connection = app.getAttribute('data-test-connection-state');
    if (connection === 'DISCONNECTED_FOREVER') return 'DISCONNECTED_FOREVER';
    if (connection !== 'CONNECTED') return 'not connected';
    if (app.getAttribute('data-test-script-state') === 'running') return 'script running';
    if (document.querySelector('[data-testid="stStatusWidget"]')) return 'status widget';
    if (document.querySelector('[data-stale="true"]')) return 'stale elements';
    return '';
}"""

# pixel centre of category cell (row i, column j) of the confusion-matrix plot, in viewport coordinates
class Dashboard:
    """A person's view of the running app: open pages, read what is shown, click and type."""

    def __init__(self, page, base_url: str):
        self.page = page
        self.base_url = base_url

    # navigation and waiting
    def open(self, path: str = "/") -> "Dashboard":
        self.page.goto(self.base_url + path)
        self.page.locator("h1").first.wait_for()
        self.wait_idle()
        return self

    def wait_idle(self, quiet: float = 0.4, timeout: float = 30.0) -> None:
        """Wait until no script run is pending or running, and it stays so for ``quiet`` seconds.

        The quiet period bridges the gap between an interaction and the rerun it starts
        (and chains of reruns such as ``st.rerun()``).
        """
        deadline = time.monotonic() + timeout
        calm_since = None
        busy = ""
        while time.monotonic() < deadline:
            busy = self.page.evaluate(_BUSY_JS)
            if busy == "DISCONNECTED_FOREVER":
                dialog = self.page.locator('[role="dialog"]')
                shown = " ".join(dialog.all_inner_texts()) if dialog.count() else ""
                raise AssertionError(f"the app lost its connection for good: {shown!r}")
            now = time.monotonic()
            if busy:
                calm_since = None
            elif calm_since is None:
                calm_since = now
            elif now - calm_since >= quiet:
                return
            self.page.wait_for_timeout(50)
        raise TimeoutError(f"the app was still busy ({busy}) after {timeout:.0f}s")

    @property
    def query(self) -> dict[str, str]:
        # the address bar as the page has it now (history.replaceState included)
        return {k: v[-1] for k, v in parse_qs(urlsplit(self.page.evaluate("location.href")).query).items()}

    @property
    def path(self) -> str:
        return urlsplit(self.page.url).path

    # reading
    def metric(self, label: str, within=None):
        """The value element of the ``st.metric`` labelled ``label``."""
        scope = within if within is not None else self.page
        label_re = re.compile(rf"^\s*{re.escape(label)}\s*$")
        box = scope.locator('[data-testid="stMetric"]').filter(
            has=self.page.locator('[data-testid="stMetricLabel"]', has_text=label_re))
        return box.locator('[data-testid="stMetricValue"]')

    @property
    def sidebar(self):
        return self.page.locator('[data-testid="stSidebar"]')

    @property
    def exceptions(self):
        return self.page.locator('[data-testid="stException"]')

    # the confusion matrix
    def click_cell(self, i: int, j: int) -> None:
        """Click the confusion-matrix cell (row ``i`` and column ``j`` of the shown classes)."""
        cell = self.page.locator(f'.st-key-confusion_matrix .cm-cell[data-true="{i}"][data-pred="{j}"]')
        cell.scroll_into_view_if_needed()
        cell.click()

    # the threshold slider
    @property
    def threshold_slider(self):
        # the live-threshold component's <input type=range> (implicit role "slider")
        return self.page.locator(".st-key-threshold").get_by_role("slider")

    def threshold_value(self) -> float:
        """The exact threshold under the thumb (the component's ``data-threshold``)."""
        return float(self.page.locator(".st-key-threshold .ed-slider").get_attribute("data-threshold"))

    def drag_threshold(self, fractions: list[float], on_step=None) -> None:
        """Press the mouse on the slider's track at ``fractions[0]`` of its width, move through the
        others with the button held, then release. ``on_step(fraction)`` runs at each stop while the
        button is still down."""
        box = self.threshold_slider.bounding_box()
        y = box["y"] + box["height"] / 2
        x = lambda f: box["x"] + 8 + f * (box["width"] - 16)  # noqa: E731 - the thumb's travel
        self.page.mouse.move(x(fractions[0]), y)
        self.page.mouse.down()
        for f in fractions:
            self.page.mouse.move(x(f), y, steps=4)
            if on_step is not None:
                on_step(f)
        self.page.mouse.up()

    def press_on_slider(self, keys: str | list[str], times: int = 1, pause_ms: int | None = None) -> None:
        """Focus the slider thumb and press ``keys`` (one key ``times`` times, or a list of keys).

        By default each press waits for the app to finish updating, as a person watching the
        numbers would; ``pause_ms`` instead presses on a fixed beat (a quick tapper, key repeat).
        """
        sequence = [keys] * times if isinstance(keys, str) else list(keys)
        self.threshold_slider.focus()
        for key in sequence:
            self.page.keyboard.press(key)
            if pause_ms is None:
                self.wait_idle()
            else:
                self.page.wait_for_timeout(pause_ms)
        self.wait_idle()

    def choose_class(self, name: str) -> None:
        """Pick ``name`` in the class picker of the threshold page."""
        self.page.locator(".st-key-class_select input").click()
        self.page.get_by_role("option", name=name, exact=True).click()
        self.wait_idle()

    # the data panel
    def upload(self, path: Path, images: Path | None = None) -> None:
        """Press the sidebar's 'Open another file…', choose ``path`` as the upload (and ``images``
        as its zip of images), press 'Open upload'."""
        uploader = self.sidebar.locator(".st-key-upload")
        if not uploader.is_visible():
            self.sidebar.locator(".st-key-open_file").get_by_role("button", name="Open another file…").click()
            expect(uploader).to_be_visible()
        for key, file in (("upload", path), ("upload_images", images)):
            if file is not None:
                box = self.sidebar.locator(f".st-key-{key}")
                box.locator('input[type="file"]').set_input_files(str(file))
                expect(box.get_by_text(file.name)).to_be_visible()
                self.wait_idle()
        self.sidebar.locator(".st-key-open_upload button").click()
        self.wait_idle()


# --- what the dashboard must show, from the core ------------------------------------

def expect_cell_gallery(dash, ev, i: int, j: int) -> None:
    """The gallery under the matrix shows cell (true i, predicted j) as the core computes it."""
    d = ev.dataset
    count = int(ev.confusion[i, j])
    shown = min(count, PAGE_SIZE)
    gallery = dash.page.locator(".st-key-cell_gallery")

    expect(gallery.locator("h3")).to_have_text(f"True {d.classes[i]} → predicted {d.classes[j]}")
    caption = gallery.locator('[data-testid="stCaptionContainer"]').filter(
        has_text=re.compile(r"^\s*\d+ images?\b"))
    expect(caption).to_have_count(1)
    expect(caption).to_have_text(re.compile(rf"^\s*{count} images?\b"))
    expect(gallery.locator('[data-testid="stImage"] img')).to_have_count(shown)

    # the first page: that cell's samples, most confident first
    captions = gallery.locator('[data-testid="stImageCaption"]').all_inner_texts()
    want_ids = [str(x) for x in d.ids[ev.cell_samples(i, j)[:shown]]]
    assert [c.split(" · ")[0].strip() for c in captions] == want_ids
    assert all(f"true {d.classes[i]} → {d.classes[j]}" in c for c in captions)
    pages = -(-count // PAGE_SIZE)
    if pages > 1:
        expect(gallery.get_by_text(f"Page (of {pages})")).to_be_visible()
    # the URL says which cell is shown
    assert (dash.query.get("true"), dash.query.get("pred")) == (d.classes[i], d.classes[j])


METRIC_KEYS = ("precision", "recall", "f1", "fpr", "specificity")


def shown_metrics(dash) -> dict[str, str]:
    """The numbers ``.st-key-threshold_metrics`` shows now: the five rates and the four counts."""
    box = dash.page.locator(".st-key-threshold_metrics")
    return box.locator(".ed-metrics").evaluate(
        "m => Object.fromEntries([...m.querySelectorAll('.ed-card')].map("
        "c => [c.dataset.metric, c.querySelector('.ed-card-value').textContent]))")


def core_metrics(sweep, t: float) -> dict[str, str]:
    """The same nine numbers from the core at ``t``, formatted as the dashboard formats them."""
    m = sweep.at(t)
    out = {k: three(m[k]) for k in METRIC_KEYS}
    out.update({k: f"{m[k]:,}" for k in ("tp", "fp", "fn", "tn")})
    return out


def expect_metrics_at(dash, sweep, t: float) -> None:
    """``.st-key-threshold_metrics`` shows the one-vs-rest numbers of ``sweep`` at threshold ``t``."""
    box = dash.page.locator(".st-key-threshold_metrics")
    expect(box.locator(".ed-metrics")).to_have_attribute("data-threshold", repr(float(t)))
    assert shown_metrics(dash) == core_metrics(sweep, t)
    expect(box.locator(".ed-exact")).to_have_text(f"Exact threshold: {float(t)!r}")


def expect_threshold(dash, class_name: str, want: float) -> float:
    """The slider sits at ``want`` and the URL says so (it follows within seconds); returns the
    slider's value."""
    t = dash.threshold_value()
    assert t == pytest.approx(want, abs=STEP / 10), f"the slider shows {t:g}, expected {want:g}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        q = dash.query
        if q.get("class") == class_name and float(q.get("t", "nan")) == pytest.approx(t, abs=1e-9):
            return t
        dash.page.wait_for_timeout(100)
    raise AssertionError(f"URL {dash.query}: class is not {class_name} or t is not the slider's value {t:g}")


# --- input files -----------------------------------------------------------------------

# rows: true class, columns: predicted class; the names need URL-encoding and Markdown escaping
THREE_CLASSES = ["cat", "red fox", "a&b"]
THREE_CLASS_CONFUSION = [[8, 1, 1], [2, 6, 2], [0, 1, 9]]


def write_three_class_csv(path: Path) -> Path:
    """A small predictions file (30 rows, 3 classes, scores) with a known confusion matrix."""
    lines = ["id,label,prediction," + ",".join(f"score_{c}" for c in THREE_CLASSES)]
    n = 0
    for i, row in enumerate(THREE_CLASS_CONFUSION):
        for j, count in enumerate(row):
            for _ in range(count):
                top = 0.50 + 0.01 * (n % 40)  # distinct confidences, so "most confident first" is one order
                scores = [(1 - top) / 2] * 3
                scores[j] = top
                lines.append(f"u{n:03d},{THREE_CLASSES[i]},{THREE_CLASSES[j]}," + ",".join(f"{s:.4f}" for s in scores))
                n += 1
    path.write_text("\n".join(lines) + "\n")
    return path
