"""Browser latencies of the dashboard at a million predictions (issue 4), in headless Chromium.

One command starts the app the way a user does
(``python -m streamlit run app.py ... -- FILE``), drives it with Playwright as the
end-to-end tests do, and times what a person waits for:

1. the first view of ``/threshold``: **cold** (a fresh server process each time, so the
   file is read and every sweep precomputed) and **cached** (a new browser session on a
   server that has the data);
2. **slider**: focus the threshold slider, press ArrowRight, until the numbers in
   ``.st-key-threshold_metrics`` change and the app is idle; the same on
   ``benchmarks/tiny_app.py`` (one slider, one metric, in a fragment), interleaved press by
   press, as the floor Streamlit itself imposes on this machine;
3. **cell click**: click a confusion-matrix cell until its gallery shows the caption
   ``<n> images`` with the right n (n from the file, computed here with NumPy);
4. **page switch**: click a sidebar link until the new page's ``h1`` and its main content
   show;
5. the server's **RSS** (the process and its children, ``/proc``) with the data loaded;
6. ``/confusion`` on the 100-class preset: time to show, and whether it is readable (at most
   25 classes shown by default, with numbers in the cells).

How a time is taken: a script injected into every page (``add_init_script``) stamps the
input event (``keydown`` / ``pointerdown``, or navigation start for a page load) with
``performance.now()``, watches the DOM with a ``MutationObserver``, and stamps the first
animation frame at which the expected state is on screen (**shown**), and the first frame
at which, in addition, the app is idle: connected, no script run pending or running, no
stale element, every image in the main area decoded (**done**). "Done" must then hold for
a quiet period (0.5 s) or the clock restarts. The same script wraps ``WebSocket`` to stamp
messages, so each interaction is split into input → request sent (frontend), request → the
message that shows it and request → last message (server and network), last message → done
(rendering), with the bytes received.

The app is served from a snapshot of a commit (``--ref``, default HEAD, exported to
``benchmarks/data/app/<sha>`` and run with ``PYTHONPATH`` on its own ``src``): others commit
and edit the working tree during a run. ``--ref worktree`` serves the working tree as it is;
``--app-dir DIR`` serves a modified copy (experiments). The tiny app's first view (a new
session) is measured too: the floor of any first view on this machine.

Every figure is the median and p95 (linear interpolation) over ``--repeat`` interactions,
after two untimed warm-up interactions; cold loads get a new server each.

    python benchmarks/bench_browser.py                     # 1m10 + the 200k100 confusion check
    python benchmarks/bench_browser.py --preset 1m10 --repeat 10
    python benchmarks/bench_browser.py --ref 829b5c8 --profile   # a commit; also time/profile the
                                                                 # server's script passes
    python benchmarks/bench_browser.py --only slider --app-dir benchmarks/data/app/exp --no-readme
    python benchmarks/bench_browser.py --render --analysis culprits.md   # README from saved results

Raw samples go to ``benchmarks/data/browser_results.json`` (``browser_results_partial.json`` for
runs with ``--only``, ``--app-dir`` or fewer than 10 repetitions, which leave the README alone)
and server logs to ``benchmarks/data/browser_logs/``. ``--render`` rewrites the README section
from the saved results (with ``--analysis FILE`` as its "Culprits").
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import pstats
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from generate import DATA, PRESETS, generate  # noqa: E402

CHROMIUM = os.environ.get("EVALDASH_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic"]
VIEWPORT = {"width": 1400, "height": 1100}
LOGS = DATA / "browser_logs"
RESULTS = DATA / "browser_results.json"
README = HERE / "README.md"
SECTION = "## Browser latencies (issue 4)"
QUIET_MS = 500
APP_DIR = ROOT  # where ``app.py`` is served from: the working tree, or a snapshot (--ref)
WARMUP = 2

PAGES = {  # sidebar link text -> (h1, selector of the page's main content)
    "Overview": ("Overview", '.st-key-class_table [data-testid="stDataFrame"], .st-key-class_table'),
    "Confusion matrix": ("Confusion matrix", ".st-key-confusion_matrix .js-plotly-plot .heatmaplayer image, "
                                             ".st-key-confusion_matrix .js-plotly-plot .heatmaplayer .hm"),
    "Curves & threshold": ("Curves & threshold", '.st-key-threshold_metrics [data-testid="stMetricValue"]'),
    "Error analysis": ("Error analysis", '.st-key-error_gallery [data-testid="stCaptionContainer"]'),
}
SWITCH_ORDER = ["Confusion matrix", "Error analysis", "Overview", "Curves & threshold"]

# --- the in-page probe ------------------------------------------------------------------

PROBE_JS = r"""
(() => {
  if (window.__bench) return;
  const now = () => performance.now();
  const B = window.__bench = {ws: [], t0: null, cond: null, params: {}, marks: {}, pending: {}, ok: {},
                              epoch: 0, err: null};
  const size = d => (d == null ? 0 : (d.byteLength ?? d.size ?? d.length ?? 0));
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', ev => B.ws.push([now(), 1, size(ev.data)]));
    }
    send(d) { B.ws.push([now(), 0, size(d)]); return super.send(d); }
  };
  const onInput = () => { if (B.cond && B.t0 === null) { B.t0 = now(); check(); } };
  for (const type of ['keydown', 'pointerdown', 'mousedown']) window.addEventListener(type, onInput, true);

  const live = el => !!el && !el.closest('[data-stale="true"]');
  const all = (sel, root) => Array.from((root || document).querySelectorAll(sel)).filter(live);
  const text = el => (el.textContent || '').replace(/\s+/g, ' ').trim();
  const idle = () => {
    const app = document.querySelector('[data-testid="stApp"]');
    if (!app || app.getAttribute('data-test-connection-state') !== 'CONNECTED') return false;
    const state = app.getAttribute('data-test-script-state');
    if (state === 'running' || state === 'rerunRequested') return false;
    if (document.querySelector('[data-testid="stStatusWidget"]')) return false;
    if (document.querySelector('[data-stale="true"]')) return false;
    return true;
  };
  const imagesDone = () => Array.from(document.querySelectorAll('[data-testid="stMain"] img'))
      .every(img => img.complete && img.naturalWidth > 0);
  const metricsText = () => {
    const box = document.querySelector('.st-key-threshold_metrics');
    if (!box) return null;
    const values = Array.from(box.querySelectorAll('[data-testid="stMetricValue"]'));
    if (!values.length || values.some(v => !live(v))) return null;
    return values.map(text).join(' | ');
  };
  B.metricsText = metricsText;
  const CONDS = {
    metrics: p => metricsText() !== null,
    metricsChanged: p => { const t = metricsText(); return t !== null && t !== p.prev; },
    gallery: p => {
      const box = document.querySelector('.st-key-cell_gallery');
      if (!box) return false;
      return all('h3', box).some(h => text(h) === p.heading)
          && all('[data-testid="stCaptionContainer"]', box).some(c => text(c).startsWith(p.n + ' images'));
    },
    page: p => all('h1').some(h => text(h).startsWith(p.title)) && all(p.marker).length > 0,
    confusion: p => {
      const plot = all('.st-key-confusion_matrix .js-plotly-plot')[0];
      return !!plot && !!plot._fullLayout && !!plot.querySelector('.heatmaplayer image, .heatmaplayer .hm');
    },
  };
  const check = () => {
    if (!B.cond || B.t0 === null) return;
    let shown = false, done = false;
    try { shown = CONDS[B.cond](B.params); done = shown && idle() && imagesDone(); }
    catch (e) { B.err = String(e); }
    for (const [key, ok] of [['shown', shown], ['done', done]]) {
      B.ok[key] = ok;
      if (ok) {
        if (B.marks[key] == null && !B.pending[key]) {
          B.pending[key] = true;
          const epoch = B.epoch;
          // the frame that puts it on screen
          requestAnimationFrame(() => {
            B.pending[key] = false;
            if (epoch === B.epoch && B.ok[key] && B.marks[key] == null) B.marks[key] = now();
          });
        }
      } else if (key === 'done') {
        B.marks.done = null;  // busy again: "done" restarts
      }
    }
  };
  B.arm = (cond, params, t0) => {
    B.epoch += 1; B.cond = cond; B.params = params || {}; B.t0 = (t0 === undefined ? null : t0);
    B.marks = {}; B.pending = {}; B.ok = {}; B.ws = []; B.err = null;
    check();
  };
  B.settled = quiet => B.marks.done != null && now() - B.marks.done >= quiet;
  B.result = () => ({t0: B.t0, shown: B.marks.shown ?? null, done: B.marks.done ?? null, ws: B.ws, err: B.err,
                     now: now()});
  new MutationObserver(check).observe(document, {subtree: true, childList: true, characterData: true,
      attributes: true, attributeFilter: ['data-stale', 'data-test-script-state', 'data-test-connection-state']});
  document.addEventListener('load', check, true);  // images
  setInterval(check, 25);
})();
"""

# pixel centre of category cell (row i, column j) of the confusion-matrix plot (tests/e2e/dashboard.py)
CELL_XY_JS = """(plot, [i, j]) => {
    const fl = plot._fullLayout;
    const box = plot.getBoundingClientRect();
    return [box.left + fl.xaxis._offset + fl.xaxis.l2p(j), box.top + fl.yaxis._offset + fl.yaxis.l2p(i)];
}"""
# the plot's cells: axis labels and, per cell, the count the app put in its hover data
CELL_DATA_JS = """plot => ({x: Array.from(plot.data[0].x), y: Array.from(plot.data[0].y),
    custom: Array.from(plot.data[1].customdata || []).map(r => [Number(r[0]), Number(r[1]), Number(r[2])]),
    text: plot.data[0].text != null})"""


# --- the app version -------------------------------------------------------------------

def snapshot(ref: str) -> tuple[Path, str]:
    """Export ``app.py``, ``pages/`` and ``src/`` at ``ref`` into benchmarks/data/app/<sha>.

    Others commit and edit the working tree while a benchmark runs; a snapshot keeps the whole
    run on one version. Returns (folder, short sha).
    """
    git = ["git", "-C", str(ROOT)]
    sha = subprocess.run(git + ["rev-parse", "--short", ref], capture_output=True, text=True,
                         check=True).stdout.strip()
    root = DATA / "app" / sha
    if not (root / "app.py").exists():
        tmp = root.with_name(sha + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        archive = subprocess.run(git + ["archive", sha, "app.py", "pages", "src"], capture_output=True,
                                 check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(tmp)], input=archive, check=True)
        (tmp / "sample_data").symlink_to(ROOT / "sample_data")  # the bundled samples, by name only
        tmp.rename(root)
    # PYTHONPATH, not app.py's own sys.path entry: a fresh server's first run executes the page
    # file alone (before app.py), which would import the installed (editable) evaldash
    where = subprocess.run([sys.executable, "-c", "import evaldash; print(evaldash.__file__)"], cwd=root,
                           env={**os.environ, "PYTHONPATH": str(root / "src")}, capture_output=True, text=True,
                           check=True).stdout.strip()
    if not where.startswith(str(root)):
        raise SystemExit(f"the snapshot of {ref} would import evaldash from {where}")
    return root, sha


# --- the server -----------------------------------------------------------------------

def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``python -m streamlit run SCRIPT`` on a free loopback port, in the repository root."""

    def __init__(self, script: str, args: list[str], name: str, upload_dir: Path,
                 launcher: list[str] | None = None, env_extra: dict[str, str] | None = None,
                 cwd: Path | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        LOGS.mkdir(parents=True, exist_ok=True)
        self.log_path = LOGS / f"{name}.log"
        env = dict(os.environ)
        env.pop("EVALDASH_PREDICTIONS", None)
        env["EVALDASH_UPLOAD_DIR"] = str(upload_dir)
        env["PYTHONUNBUFFERED"] = "1"
        if (cwd or APP_DIR) != ROOT:  # a snapshot: its own evaldash first (see snapshot())
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [str((cwd or APP_DIR) / "src"),
                                                              env.get("PYTHONPATH", "")]))
        env.update(env_extra or {})
        cmd = [*(launcher or [sys.executable, "-m", "streamlit"]), "run", script,
               "--server.port", str(self.port), "--server.address", "127.0.0.1",
               "--server.headless", "true", "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none"]
        if args:
            cmd += ["--", *args]
        self._log = open(self.log_path, "wb")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(cmd, cwd=cwd or APP_DIR, env=env, stdout=self._log, stderr=subprocess.STDOUT)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_ready(self, timeout: float = 90.0) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as r:
                    if r.status == 200 and r.read().strip() == b"ok":
                        return time.monotonic() - self.started
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"streamlit was not healthy within {timeout:.0f}s:\n{self.log_tail()}")

    def rss(self) -> dict[str, float]:
        """MiB resident: the server and all its descendants, and the server's own peak (VmHWM)."""
        pids = [self.proc.pid, *descendants(self.proc.pid)]
        total = sum(status_kib(p, "VmRSS") for p in pids)
        return {"rss_mib": total / 1024, "hwm_mib": status_kib(self.proc.pid, "VmHWM") / 1024,
                "processes": len(pids)}

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server and its descendants so far."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in [self.proc.pid, *descendants(self.proc.pid)]:
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])  # utime, stime
            except (OSError, IndexError, ValueError):
                pass
        return total / tick

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()


def status_kib(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def descendants(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


# --- measuring --------------------------------------------------------------------------

class Timeout(RuntimeError):
    pass


def new_page(browser, load_cond: tuple[str, dict] | None = None):
    """A new context (its own Streamlit session) and page with the probe; ``load_cond`` arms it at
    navigation start."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(60_000)
    context.add_init_script(PROBE_JS)
    if load_cond is not None:
        cond, params = load_cond
        context.add_init_script(f"window.__bench.arm({json.dumps(cond)}, {json.dumps(params)}, 0);")
    return context, context.new_page()


def settle(page, timeout_s: float = 60.0) -> dict:
    """Wait until the armed state is done and stays so for QUIET_MS; return the timings (ms)."""
    try:
        page.wait_for_function("q => window.__bench && window.__bench.settled(q)", arg=QUIET_MS,
                               polling=50, timeout=timeout_s * 1000)
    except Exception as exc:  # noqa: BLE001 - playwright's TimeoutError, with what the probe saw
        state = page.evaluate("() => window.__bench && {cond: __bench.cond, params: __bench.params, t0: __bench.t0, "
                              "ok: __bench.ok, marks: __bench.marks, err: __bench.err, now: performance.now(), "
                              "h1: Array.from(document.querySelectorAll('h1')).map(h => h.textContent), "
                              "url: location.href}")
        raise Timeout(f"not done after {timeout_s:.0f}s: {state}") from exc
    return breakdown(page.evaluate("() => window.__bench.result()"))


def breakdown(r: dict) -> dict:
    t0, shown, done = r["t0"], r["shown"], r["done"]
    out = {"shown_ms": shown - t0, "done_ms": done - t0}
    ws = [m for m in r["ws"] if m[0] >= t0 - 1e-6]
    sent = [m[0] for m in ws if m[1] == 0]
    first_send = sent[0] if sent else None
    received = [m for m in ws if m[1] == 1 and m[0] <= done and (first_send is None or m[0] >= first_send)]
    out["bytes_in"] = int(sum(m[2] for m in received))
    out["messages_in"] = len(received)
    if first_send is not None:
        out["input_to_send_ms"] = first_send - t0
    if first_send is not None and received:
        before_shown = [m[0] for m in received if m[0] <= shown]
        out["send_to_first_msg_ms"] = received[0][0] - first_send
        if before_shown:
            out["send_to_shown_msg_ms"] = max(before_shown) - first_send  # the message that showed it
        out["send_to_last_msg_ms"] = max(m[0] for m in received) - first_send
        out["last_msg_to_done_ms"] = done - max(m[0] for m in received)
    if r.get("err"):
        out["probe_error"] = r["err"]
    return out


def wait_idle(page, timeout_s: float = 60.0) -> None:
    """Until the app is idle (the probe armed on a condition that is always true)."""
    page.evaluate("() => window.__bench.arm('page', {title: '', marker: 'body'}, performance.now())")
    settle(page, timeout_s)


def load(browser, url: str, cond: str, params: dict, timeout_s: float):
    context, page = new_page(browser, (cond, params))
    wall0 = time.monotonic()
    page.goto(url, wait_until="commit")
    result = settle(page, timeout_s)
    result["goto_at"] = wall0
    return context, page, result


def press_slider(page) -> dict:
    page.bring_to_front()
    slider = page.locator(".st-key-threshold").get_by_role("slider")
    slider.focus()
    before = slider.input_value()
    prev = page.evaluate("() => window.__bench.metricsText()")
    page.evaluate("prev => window.__bench.arm('metricsChanged', {prev})", prev)
    page.keyboard.press("ArrowRight")
    result = settle(page)
    result["value"] = f"{before} → {slider.input_value()}"
    return result


def click_cell(page, i: int, j: int, heading: str, n: int) -> dict:
    page.bring_to_front()
    plot = page.locator(".st-key-confusion_matrix .js-plotly-plot")
    plot.wait_for()
    plot.scroll_into_view_if_needed()
    x, y = plot.evaluate(CELL_XY_JS, [i, j])
    height = VIEWPORT["height"]
    if not 0 < y < height:
        page.mouse.wheel(0, y - height / 2)
        page.wait_for_timeout(200)
        x, y = plot.evaluate(CELL_XY_JS, [i, j])
    page.mouse.move(x, y)  # plotly picks the point under the cursor on hover; the click selects it
    page.wait_for_timeout(150)
    page.evaluate("p => window.__bench.arm('gallery', p)", {"heading": heading, "n": n})
    page.mouse.click(x, y)
    return settle(page)


def switch_page(page, link: str) -> dict:
    page.bring_to_front()
    title, marker = PAGES[link]
    anchor = page.locator('[data-testid="stSidebarNav"]').get_by_role("link", name=link, exact=True)
    anchor.scroll_into_view_if_needed()
    page.evaluate("p => window.__bench.arm('page', p)", {"title": title, "marker": marker})
    anchor.click()
    result = settle(page)
    result["page"] = link
    return result


def summary(values: list[float]) -> dict:
    v = sorted(values)
    if not v:
        return {"n": 0}
    p95 = statistics.quantiles(v, n=20, method="inclusive")[18] if len(v) > 1 else v[0]
    return {"n": len(v), "median": statistics.median(v), "p95": p95, "min": v[0], "max": v[-1]}


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')} load {loadavg()}] {msg}", flush=True)


# --- expected numbers, from the file ----------------------------------------------------

def expected_confusion(path: Path) -> dict[tuple[str, str], int]:
    """(true class name, predicted class name) -> count, with the prediction the arg-max score."""
    import numpy as np
    import pyarrow.parquet as pq

    schema = pq.read_schema(path)
    score_cols = [c for c in schema.names if c.startswith("score_")]
    table = pq.read_table(path, columns=["label", *score_cols])
    scores = np.column_stack([table.column(c).to_numpy() for c in score_cols])
    pred = scores.argmax(axis=1)
    del scores
    names = [c[len("score_"):] for c in score_cols]
    true = np.array([str(x) for x in table.column("label").to_pylist()], dtype=object)
    index = {name: k for k, name in enumerate(names)}
    true_idx = np.array([index[t] for t in true])
    counts = np.bincount(true_idx * len(names) + pred, minlength=len(names) ** 2).reshape(len(names), -1)
    return {(names[a], names[b]): int(counts[a, b]) for a in range(len(names)) for b in range(len(names))}


def pick_cells(labels: list[str], expected: dict, count: int) -> list[tuple[int, int]]:
    """``count`` cells, consecutive ones different: each class's diagonal, then its most confused."""
    cells = []
    k = len(labels)
    for r in range(k):
        cells.append((r, r))
        off = max((c for c in range(k) if c != r), key=lambda c: expected[(labels[r], labels[c])])
        if expected[(labels[r], labels[off])] > 0:
            cells.append((r, off))
    out = []
    while len(out) < count:
        out.extend(cells)
    return out[:count]


# --- the phases ---------------------------------------------------------------------------

def check_dataset(page, path: Path) -> None:
    """The sidebar names the benchmark file's size: the app did not fall back to the sample."""
    import pyarrow.parquet as pq

    want = f"{pq.read_metadata(path).num_rows:,} samples"
    side = page.locator('[data-testid="stSidebar"]').inner_text()
    if want not in side or "⚠" in side:
        raise RuntimeError(f"the app does not show {path.name} ({want}); its sidebar says: {side[:300]!r}")


def phase_cold(browser, path: Path, repeat: int, upload_dir: Path, tag: str, launcher=None, env_extra=None):
    """``repeat`` fresh servers; first view of /threshold on each. Returns (samples, last server)."""
    samples, server = [], None
    for r in range(repeat):
        if server is not None:
            server.stop()
        server = Server("app.py", [str(path)], f"{tag}_cold_{r}", upload_dir, launcher, env_extra)
        ready_s = server.wait_ready()
        context, page, res = load(browser, server.url + "/threshold", "metrics", {}, timeout_s=300)
        res["spawn_to_shown_ms"] = (res.pop("goto_at") - server.started) * 1000 + res["shown_ms"]
        res["server_start_ms"] = ready_s * 1000
        res["server_cpu_s"] = server.cpu_seconds()  # start-up, imports, load and precompute, first run
        res["load1"] = os.getloadavg()[0]
        res.update(server.rss())
        check_dataset(page, path)
        context.close()
        samples.append(res)
        log(f"cold {r + 1}/{repeat}: shown {res['shown_ms']:.0f} ms, done {res['done_ms']:.0f} ms, "
            f"server start {ready_s:.2f} s, RSS {res['rss_mib']:.0f} MiB")
    return samples, server


def phase_cached(browser, server: Server, repeat: int, path: str = "/threshold", cond: str = "metrics"):
    samples = []
    for r in range(repeat + 1):
        context, page, res = load(browser, server.url + path, cond, {}, timeout_s=120)
        res.pop("goto_at")
        if cond == "confusion":
            res["plot"] = page.locator(".st-key-confusion_matrix .js-plotly-plot").evaluate(CELL_DATA_JS)
            res["multiselect"] = page.locator('[data-testid="stMultiSelect"]').count()
            res["exceptions"] = page.locator('[data-testid="stException"]').count()
        context.close()
        if r == 0:
            continue  # warm-up (the first session after the cold one)
        samples.append(res)
    log(f"cached {path}: median shown {summary([s['shown_ms'] for s in samples])['median']:.0f} ms")
    return samples


def phase_slider(browser, main: Server, tiny: Server, repeat: int):
    ctx_m, page_m = new_page(browser)
    ctx_t, page_t = new_page(browser)
    for page, server in ((page_m, main), (page_t, tiny)):
        page.goto(server.url + "/threshold" if server is main else server.url)
        page.locator(".st-key-threshold_metrics [data-testid=stMetricValue]").first.wait_for()
        wait_idle(page)
    out = {"app": [], "tiny": []}
    for r in range(WARMUP + repeat):
        order = [("app", page_m), ("tiny", page_t)] if r % 2 == 0 else [("tiny", page_t), ("app", page_m)]
        for name, page in order:
            res = press_slider(page)
            if r >= WARMUP:
                out[name].append(res)
    ctx_m.close()
    ctx_t.close()
    for name in out:
        s = summary([x["done_ms"] for x in out[name]])
        log(f"slider {name}: median done {s['median']:.0f} ms, p95 {s['p95']:.0f} ms")
    return out


def phase_cells(browser, server: Server, expected: dict, repeat: int):
    context, page = new_page(browser)
    page.goto(server.url + "/confusion")
    page.locator(".st-key-confusion_matrix .js-plotly-plot").wait_for()
    wait_idle(page)
    plot = page.locator(".st-key-confusion_matrix .js-plotly-plot")
    data = plot.evaluate(CELL_DATA_JS)
    xs, ys = data["x"], data["y"]
    assert xs == ys, f"rows and columns differ: {xs} {ys}"
    labels = [str(x) for x in xs]
    mismatch = [(labels[int(i)], labels[int(j)], int(n)) for i, j, n in data["custom"]
                if expected[(labels[int(i)], labels[int(j)])] != int(n)]
    if mismatch:
        raise AssertionError(f"the matrix's counts differ from the file's: {mismatch[:5]}")
    samples = []
    for r, (i, j) in enumerate(pick_cells(labels, expected, WARMUP + repeat)):
        n = expected[(labels[i], labels[j])]
        res = click_cell(page, i, j, f"True {labels[i]} → predicted {labels[j]}", n)
        res["cell"] = [labels[i], labels[j], n]
        if r >= WARMUP:
            samples.append(res)
    context.close()
    s = summary([x["shown_ms"] for x in samples])
    log(f"cell click: median shown {s['median']:.0f} ms, p95 {s['p95']:.0f} ms")
    return samples


def phase_switch(browser, server: Server, repeat: int):
    context, page = new_page(browser)
    page.goto(server.url + "/threshold")
    page.locator(".st-key-threshold_metrics [data-testid=stMetricValue]").first.wait_for()
    wait_idle(page)
    samples = []
    for r in range(WARMUP + repeat):
        for link in SWITCH_ORDER:
            res = switch_page(page, link)
            if r >= 1:  # the first round is the warm-up
                samples.append(res)
    context.close()
    s = summary([x["shown_ms"] for x in samples])
    log(f"page switch: median shown {s['median']:.0f} ms, p95 {s['p95']:.0f} ms")
    return samples


# --- profile mode: server passes per interaction -----------------------------------------

def profile_run(browser, path: Path, expected: dict, upload_dir: Path, repeat: int) -> dict:
    """The same interactions on a server whose script passes are timed and profiled."""
    work = Path(tempfile.mkdtemp(prefix="bench_profile_", dir=DATA))
    run_log = work / "runs.jsonl"
    prof_dir = work / "pstats"
    prof_dir.mkdir()
    env = {"BENCH_RUN_LOG": str(run_log), "BENCH_PROFILE_DIR": str(prof_dir)}
    launcher = [sys.executable, str(HERE / "streamlit_timed.py")]
    server = Server("app.py", [str(path)], "profile", upload_dir, launcher, env)
    server.wait_ready()

    def passes_since(t: float) -> list[dict]:
        if not run_log.exists():
            return []
        rows = [json.loads(line) for line in run_log.read_text().splitlines() if line.strip()]
        return [x for x in rows if x["start"] >= t]

    out: dict[str, list] = {}

    def record(kind: str, t: float, res: dict) -> None:
        passes = passes_since(t)
        out.setdefault(kind, []).append({"ui": res, "passes": passes})

    t = time.time()
    context, page, res = load(browser, server.url + "/threshold", "metrics", {}, 300)
    record("cold /threshold", t, res)
    context.close()
    for _ in range(repeat):
        t = time.time()
        context, page, res = load(browser, server.url + "/threshold", "metrics", {}, 120)
        record("cached /threshold", t, res)
        context.close()
    context, page = new_page(browser)
    page.goto(server.url + "/threshold")
    page.locator(".st-key-threshold_metrics [data-testid=stMetricValue]").first.wait_for()
    wait_idle(page)
    for _ in range(repeat):
        t = time.time()
        record("slider", t, press_slider(page))
    for link in SWITCH_ORDER * max(1, repeat // 4):
        t = time.time()
        record(f"switch to {link}", t, switch_page(page, link))
    context.close()
    context, page = new_page(browser)
    page.goto(server.url + "/confusion")
    page.locator(".st-key-confusion_matrix .js-plotly-plot").wait_for()
    wait_idle(page)
    labels = [str(x) for x in page.locator(".st-key-confusion_matrix .js-plotly-plot").evaluate(CELL_DATA_JS)["x"]]
    for i, j in pick_cells(labels, expected, repeat):
        n = expected[(labels[i], labels[j])]
        t = time.time()
        record("cell click", t, click_cell(page, i, j, f"True {labels[i]} → predicted {labels[j]}", n))
    context.close()
    server.stop()

    report = {}
    for kind, items in out.items():
        script = [sum(p["seconds"] for p in it["passes"]) * 1000 for it in items]
        counts = [len(it["passes"]) for it in items]
        shown = [it["ui"]["shown_ms"] for it in items]
        stats = pstats.Stats(*[p["profile"] for it in items for p in it["passes"]]) if any(
            it["passes"] for it in items) else None
        top = []
        if stats is not None:
            total = max(1, len(items))
            rows = sorted(stats.stats.items(), key=lambda kv: kv[1][3], reverse=True)  # cumulative time
            for (file, line, func), (cc, nc, tt, ct, callers) in rows:
                if "evaldash" in file or "/pages/" in file or "plotly" in file or "streamlit/elements" in file \
                        or "numpy" in file or "pandas" in file:
                    top.append({"where": f"{Path(file).parent.name}/{Path(file).name}:{func}",
                                "cum_ms_per_interaction": ct * 1000 / total, "calls": nc})
                if len(top) >= 12:
                    break
        report[kind] = {"shown_ms": summary(shown), "script_ms": summary(script),
                        "passes": statistics.median(counts) if counts else 0,
                        "pass_pages": sorted({f"{p['page']}{' (fragment)' if p['fragment'] else ''}"
                                              f"{' → rerun' if p['rerun'] else ''}"
                                              for it in items for p in it["passes"]}),
                        "top": top}
    (work / "profile_report.json").write_text(json.dumps(report, indent=1))
    report["_dir"] = str(work)
    return report


# --- the report ----------------------------------------------------------------------------

def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for pkg in ("streamlit", "playwright", "plotly", "numpy", "pandas", "pyarrow"):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "?"
    try:
        text = subprocess.run([CHROMIUM, "--version"], capture_output=True, text=True, timeout=30).stdout
        out["chromium"] = text.strip().splitlines()[-1] if text.strip() else "?"
    except (OSError, subprocess.TimeoutExpired):
        out["chromium"] = "?"
    return out


def machine() -> dict[str, str]:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        free = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.splitlines()
        mem = next(line.split()[1] for line in free if line.startswith("Mem:"))
    except (OSError, StopIteration, IndexError):
        pass
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "app.py", "pages", "src"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
    except OSError:
        commit, dirty = "?", ""
    return {"nproc": str(os.cpu_count()), "memory": mem, "cpu": cpu, "kernel": platform.release(),
            "commit": commit + (" (app files modified in the working tree)" if dirty else "")}


def fmt_ms(x: float | None) -> str:
    if x is None:
        return "–"
    return f"{x / 1000:.2f} s" if x >= 1000 else f"{x:.0f} ms"


def build_table(res: dict) -> tuple[list[list[str]], list[str]]:
    """Rows of the main table, and notes."""
    rows, notes = [], []
    r = res["results"]

    def line(what, samples, key, target, met_fn, extra=""):
        s = summary([x[key] for x in samples])
        met = met_fn(s) if s["n"] else None
        rows.append([what, str(s["n"]), fmt_ms(s.get("median")), fmt_ms(s.get("p95")), target,
                     "–" if met is None else ("**yes**" if met else "no"), extra])
        return s

    if "cold" in r:
        cold = r["cold"]
        start = summary([x["server_start_ms"] for x in cold])["median"]
        line("first view of `/threshold`, cold (new server; navigation → metrics shown)", cold, "shown_ms",
             "≤ 5 s", lambda s: s["median"] <= 5000,
             f"done (idle, charts drawn) {fmt_ms(summary([x['done_ms'] for x in cold])['median'])}; "
             f"the server process took {fmt_ms(start)} from spawn to healthy before that (spawn → shown "
             f"{fmt_ms(summary([x['spawn_to_shown_ms'] for x in cold])['median'])}); server CPU time "
             f"{summary([x['server_cpu_s'] for x in cold])['median']:.1f} s; 1-min load "
             f"{min(x['load1'] for x in cold):.1f}–{max(x['load1'] for x in cold):.1f}")
    if "cached" in r:
        cached = r["cached"]
        line("same, cached (new browser session)", cached, "shown_ms", "≤ 1 s", lambda s: s["median"] <= 1000,
             f"done {fmt_ms(summary([x['done_ms'] for x in cached])['median'])}")
    if "tiny_load" in r:
        line("  floor: first view of `tiny_app.py` (new session)", r["tiny_load"], "shown_ms", "–",
             lambda s: None, "")
    if "slider" in r:
        app, tiny = r["slider"]["app"], r["slider"]["tiny"]
        floor = summary([x["done_ms"] for x in tiny])
        s = summary([x["done_ms"] for x in app])
        shown = summary([x["shown_ms"] for x in app])
        line("slider ArrowRight → new numbers shown and app idle", app, "done_ms",
             "p50 ≤ 150 ms and ≤ floor + 30 ms",
             lambda s: s["median"] <= 150 and s["median"] <= floor["median"] + 30,
             f"numbers first painted at {fmt_ms(shown['median'])}; {fmt_ms(s['median'] - floor['median'])} "
             f"above the floor; {summary([x['bytes_in'] for x in app])['median'] / 1024:.0f} KiB received")
        line("  floor: the same on `tiny_app.py`", tiny, "done_ms", "–", lambda s: None,
             f"{summary([x['bytes_in'] for x in tiny])['median'] / 1024:.1f} KiB received")
    if "cells" in r:
        cells = r["cells"]
        line("click a confusion-matrix cell → its gallery (`<n> images`) shown", cells, "shown_ms",
             "p50 ≤ 500 ms", lambda s: s["median"] <= 500,
             f"done (24 thumbnails decoded) {fmt_ms(summary([x['done_ms'] for x in cells])['median'])}")
    if "switch" in r:
        sw = r["switch"]
        per = ", ".join(f"{p} {fmt_ms(summary([x['shown_ms'] for x in sw if x['page'] == p])['median'])}"
                        for p in SWITCH_ORDER)
        line("page switch (sidebar link → new h1 and main content)", sw, "shown_ms", "p50 ≤ 1 s",
             lambda s: s["median"] <= 1000, f"by page: {per}")
    if "cold" in r:
        rss = summary([x["rss_mib"] for x in r["cold"]])
        after = r.get("rss_after_mib")
        rows.append(["server RSS with 1M × 10 loaded (process + children)", str(rss["n"]),
                     f"{rss['median']:.0f} MiB", f"{rss['p95']:.0f} MiB", "≤ 2 GB",
                     "**yes**" if rss["p95"] * 2**20 <= 2e9 else "no",
                     f"right after the cold view; peak during the load (VmHWM) "
                     f"{summary([x['hwm_mib'] for x in r['cold']])['median']:.0f} MiB"
                     + (f"; {after:.0f} MiB after all interactions" if after else "")])
    if "confusion100" in r:
        c = r["confusion100"]
        s = summary([x["shown_ms"] for x in c["cached"]])
        plot = c["cached"][0]["plot"]
        shown_classes = len(plot["x"])
        readable = shown_classes <= 25 and plot["text"] and c["cached"][0]["exceptions"] == 0
        met = s["median"] <= 2000 and readable
        rows.append(["`/confusion`, 200k × 100 (new session, data cached)", str(s["n"]), fmt_ms(s["median"]),
                     fmt_ms(s["p95"]), "readable, ≤ 2 s", "**yes**" if met else "no",
                     f"{shown_classes} classes shown with numbers in the cells" + ("" if plot["text"] else " (no cell text)")
                     + f"; cold first view {fmt_ms(c['cold']['shown_ms'])}, RSS {c['cold']['rss_mib']:.0f} MiB"])
    return rows, notes


def breakdown_rows(res: dict) -> list[list[str]]:
    r = res["results"]
    kinds = []
    if "cached" in r:
        kinds.append(("cached `/threshold`", r["cached"]))
    if "tiny_load" in r:
        kinds.append(("first view of tiny app", r["tiny_load"]))
    if "slider" in r:
        kinds += [("slider (app)", r["slider"]["app"]), ("slider (tiny app)", r["slider"]["tiny"])]
    if "cells" in r:
        kinds.append(("cell click", r["cells"]))
    if "switch" in r:
        for p in SWITCH_ORDER:
            kinds.append((f"switch to {p}", [x for x in r["switch"] if x["page"] == p]))
    if "confusion100" in r:
        kinds.append(("`/confusion` 200k × 100, new session", r["confusion100"]["cached"]))
    out = []
    for name, samples in kinds:
        def med(key):
            vals = [x[key] for x in samples if key in x]
            return statistics.median(vals) if vals else None
        out.append([name, fmt_ms(med("input_to_send_ms")), fmt_ms(med("send_to_shown_msg_ms")),
                    fmt_ms(med("shown_ms")), fmt_ms(med("send_to_last_msg_ms")),
                    fmt_ms(med("last_msg_to_done_ms")), fmt_ms(med("done_ms")),
                    f"{(med('bytes_in') or 0) / 1024:.0f} KiB", f"{med('messages_in') or 0:.0f}"])
    return out


def markdown(res: dict) -> str:
    m, v = res["machine"], res["versions"]
    rows, _ = build_table(res)
    lines = [SECTION, "",
             f"`python benchmarks/bench_browser.py --preset {res['preset']} --repeat {res['repeat']}"
             f"{' --profile' if res.get('profile') else ''}{res.get('ref_arg', '')}`: the app "
             "served by `python -m streamlit run app.py ... -- FILE` and driven in headless Chromium with sync "
             "Playwright (see the docstring of `bench_browser.py` for how each time is taken). Every figure is "
             f"the median and p95 of {res['repeat']} interactions (p95 of 10 is interpolated between the two "
             "largest), after untimed warm-ups; each cold view has its own fresh server.",
             "",
             f"Machine: {m['nproc']} cores (`nproc`), {m['memory']} memory (`free -h`), CPU `{m['cpu']}`, "
             f"Linux {m['kernel']}; run {res['date']}, app version `{res.get('version', m['commit'])}` "
             "(exported and served from `benchmarks/data/app/<sha>`, see `--ref`). Load average (1, 5, 15 min) "
             f"{res['load']['start']} at the start, {res['load']['end']} at the end: the machine is shared, so "
             "expect ±30 % between runs.",
             "",
             f"Versions: Python {v['python']}, streamlit {v['streamlit']}, {v['chromium']}, playwright "
             f"{v['playwright']}, plotly {v['plotly']}, numpy {v['numpy']}, pandas {v['pandas']}, "
             f"pyarrow {v['pyarrow']}.",
             "",
             f"### Against the targets (1M × 10: `{res['file']}`)",
             "",
             "| what | n | median | p95 | target | met | notes |",
             "|---|---|---|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    lines += ["",
              "\"Shown\" is the first frame with the expected content on screen; \"done\" is the first frame "
              "at which the app is also idle (no run pending, nothing stale, images decoded) and stays so "
              f"for {QUIET_MS} ms. The slider target uses \"done\" for both apps.",
              "",
              "### Where the time goes (medians, from the page's WebSocket traffic)",
              "",
              "| interaction | input → request sent | request → message that shows it | shown "
              "| request → last message | last message → done | done | received | messages |",
              "|---|---|---|---|---|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in breakdown_rows(res)]
    prof = res.get("profile")
    if prof:
        lines += ["", "### Server script passes (`--profile`: `streamlit_timed.py`, cProfile on)", "",
                  "| interaction | passes | script time (median) | shown (median, profiled) | passes seen |",
                  "|---|---|---|---|---|"]
        for kind, p in prof.items():
            if kind.startswith("_"):
                continue
            lines.append(f"| {kind} | {p['passes']:.0f} | {fmt_ms(p['script_ms'].get('median'))} | "
                         f"{fmt_ms(p['shown_ms'].get('median'))} | {', '.join(p['pass_pages'])} |")
    if res.get("analysis"):
        lines += ["", "### Culprits", "", res["analysis"].strip()]
    return "\n".join(lines) + "\n"


def write_readme(text: str) -> None:
    old = README.read_text()
    start = old.find("\n" + SECTION + "\n")
    if start >= 0:
        end = old.find("\n## ", start + len(SECTION) + 2)
        new = old[:start + 1] + text + (old[end:] if end >= 0 else "")
    else:
        new = old.rstrip("\n") + "\n\n" + text
    README.write_text(new)


def print_table(res: dict) -> None:
    rows, _ = build_table(res)
    headers = ["what", "n", "median", "p95", "target", "met", "notes"]
    widths = [max(len(headers[i]), *(len(r[i]) for r in rows)) for i in range(6)]
    print()
    print("  ".join(h.ljust(w) for h, w in zip(headers, widths)) + "  notes")
    for r in rows:
        print("  ".join(c.replace("**", "").ljust(w) for c, w in zip(r, widths)) + "  " + r[6])
    print()
    bh = ["interaction", "input→send", "send→shown msg", "shown", "send→last msg", "last msg→done", "done",
          "received", "msgs"]
    brows = breakdown_rows(res)
    bw = [max(len(bh[i]), *(len(r[i]) for r in brows)) for i in range(len(bh))] if brows else []
    print("  ".join(h.ljust(w) for h, w in zip(bh, bw)))
    for r in brows:
        print("  ".join(c.ljust(w) for c, w in zip(r, bw)))
    prof = res.get("profile")
    if prof:
        print("\nserver script passes (profiled run):")
        for kind, p in prof.items():
            if kind.startswith("_"):
                print(f"  profiles in {p}")
                continue
            print(f"  {kind}: {p['passes']:.0f} passes, script {fmt_ms(p['script_ms'].get('median'))}, shown "
                  f"{fmt_ms(p['shown_ms'].get('median'))}  [{', '.join(p['pass_pages'])}]")
            for t in p["top"][:8]:
                print(f"      {t['cum_ms_per_interaction']:8.1f} ms  {t['where']}")


# --- main ----------------------------------------------------------------------------------

def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", default="1m10", choices=sorted(PRESETS), help="the file to measure (default 1m10)")
    p.add_argument("--repeat", type=int, default=10, help="timed interactions per figure (at least 10 for "
                                                          "the README)")
    p.add_argument("--cold-repeat", type=int, default=None, help="fresh servers for the cold view (default --repeat)")
    p.add_argument("--confusion-preset", default="200k100",
                   help="preset for the /confusion readability check ('' to skip)")
    p.add_argument("--ref", default="HEAD",
                   help="the app version: a git commit, exported to benchmarks/data/app/<sha> and served "
                        "from there (default HEAD), or 'worktree' for the working tree as it is")
    p.add_argument("--app-dir", type=Path,
                   help="serve app.py from this folder instead (experiments on a modified copy; "
                        "overrides --ref)")
    p.add_argument("--only", default="", help="comma-separated phases: cold,cached,slider,cells,switch,confusion")
    p.add_argument("--profile", action="store_true", help="also time/profile the server's script passes")
    p.add_argument("--no-readme", action="store_true", help="do not write benchmarks/README.md")
    p.add_argument("--analysis", type=Path, help="a Markdown file to put under 'Culprits' in the README section")
    p.add_argument("--render", action="store_true",
                   help=f"measure nothing: rewrite the README section from {RESULTS.relative_to(ROOT)}")
    args = p.parse_args()
    if args.render:
        res = json.loads(RESULTS.read_text())
        if args.analysis:
            res["analysis"] = args.analysis.read_text()
            RESULTS.write_text(json.dumps(res, indent=1, default=str))
        print_table(res)
        write_readme(markdown(res))
        log(f"wrote the section '{SECTION[3:]}' of {README.relative_to(ROOT)}")
        return 0
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        p.error(f"no Chromium at {CHROMIUM} (set EVALDASH_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    global APP_DIR
    if args.app_dir:
        APP_DIR = args.app_dir.resolve()
        version = f"{APP_DIR} (a modified copy)"
    elif args.ref == "worktree":
        version = machine()["commit"] + " + working tree"
    else:
        APP_DIR, sha = snapshot(args.ref)
        version = sha
    phases = set(filter(None, args.only.split(","))) or {"cold", "cached", "slider", "cells", "switch", "confusion"}
    path = PRESETS[args.preset]["out"]
    for name in [args.preset, args.confusion_preset if "confusion" in phases else ""]:
        if name and not PRESETS[name]["out"].exists():
            log(f"generating {PRESETS[name]['out'].name}")
            spec = dict(PRESETS[name])
            generate(spec.pop("out"), **spec)

    res = {"preset": args.preset, "file": path.name, "repeat": args.repeat, "version": version,
           "ref_arg": f" --ref {args.ref}" if args.ref != "HEAD" and not args.app_dir else "",
           "date": dt.datetime.now().strftime("%Y-%m-%d %H:%M"), "machine": machine(), "versions": versions(),
           "load": {"start": loadavg()}, "results": {}}
    r = res["results"]
    expected = expected_confusion(path) if phases & {"cells"} or args.profile else {}
    upload_dir = Path(tempfile.mkdtemp(prefix="bench_uploads_"))
    log(f"{path.name}: phases {sorted(phases)}, repeat {args.repeat}")
    servers = []
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            if "cold" in phases:
                r["cold"], main_server = phase_cold(browser, path, args.cold_repeat or args.repeat, upload_dir,
                                                    args.preset)
            else:
                main_server = Server("app.py", [str(path)], f"{args.preset}_main", upload_dir)
                main_server.wait_ready()
                ctx, page, _ = load(browser, main_server.url + "/threshold", "metrics", {}, 300)
                check_dataset(page, path)
                ctx.close()
            servers.append(main_server)
            if "cached" in phases:
                r["cached"] = phase_cached(browser, main_server, args.repeat)
            if "slider" in phases:
                tiny = Server(str(HERE / "tiny_app.py"), [], "tiny", upload_dir, cwd=ROOT)
                servers.append(tiny)
                tiny.wait_ready()
                r["tiny_load"] = phase_cached(browser, tiny, args.repeat, "/", "metrics")
                r["slider"] = phase_slider(browser, main_server, tiny, args.repeat)
                tiny.stop()
                servers.remove(tiny)
            if "cells" in phases:
                r["cells"] = phase_cells(browser, main_server, expected, args.repeat)
            if "switch" in phases:
                r["switch"] = phase_switch(browser, main_server, args.repeat)
            r["rss_after_mib"] = main_server.rss()["rss_mib"]
            main_server.stop()
            servers.remove(main_server)
            if "confusion" in phases and args.confusion_preset:
                cpath = PRESETS[args.confusion_preset]["out"]
                srv = Server("app.py", [str(cpath)], f"{args.confusion_preset}_confusion", upload_dir)
                servers.append(srv)
                srv.wait_ready()
                ctx, page, cold = load(browser, srv.url + "/confusion", "confusion", {}, 300)
                check_dataset(page, cpath)
                ctx.close()
                cold.update(srv.rss())
                log(f"/confusion {cpath.name} cold: shown {cold['shown_ms']:.0f} ms")
                r["confusion100"] = {"file": cpath.name, "cold": cold,
                                     "cached": phase_cached(browser, srv, args.repeat, "/confusion", "confusion")}
                srv.stop()
                servers.remove(srv)
            if args.profile:
                log("profile run (script passes timed, cProfile on)")
                res["profile"] = profile_run(browser, path, expected, upload_dir, max(4, args.repeat // 2))
            browser.close()
    finally:
        for srv in servers:
            srv.stop()
        shutil.rmtree(upload_dir, ignore_errors=True)
    res["load"]["end"] = loadavg()
    if args.analysis:
        res["analysis"] = args.analysis.read_text()
    DATA.mkdir(parents=True, exist_ok=True)
    full = not args.only and not args.app_dir and args.repeat >= 10
    out = RESULTS if full else RESULTS.with_name("browser_results_partial.json")
    out.write_text(json.dumps(res, indent=1, default=str))
    log(f"raw samples in {out.relative_to(ROOT)}")
    print_table(res)
    if not args.no_readme:
        if not full:
            log("a partial run (--only, --app-dir or fewer than 10 repetitions): README not written")
        else:
            write_readme(markdown(res))
            log(f"wrote the section '{SECTION[3:]}' of {README.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
