"""Browser latencies of the dashboard at a million predictions (issue 4), in headless Chromium.

One command starts the app the way a user does
(``python -m streamlit run app.py ... -- FILE``), drives it with Playwright as the
end-to-end tests do, and times what a person waits for:

1. the first view of ``/threshold``: **cold** (a fresh server process each time, so the
   file is read and every sweep precomputed) and **cached** (a new browser session on a
   server that has the data), until the live threshold's metric cards
   (``.st-key-threshold_metrics .ed-card-value``) show numbers;
2. **slider**: focus the threshold slider (``.st-key-threshold input[type=range]``), press
   ArrowRight: **shown** when the numbers in ``.st-key-threshold_metrics`` change on screen (on
   the app they follow in the browser, with no server round trip; a press that leaves them as
   they were is followed by another, and counted), **done** when, in addition, the server has
   answered the slider's message (sent 200 ms after the last key press) and the app is idle.
   The same on ``benchmarks/tiny_app.py`` (``st.slider`` + ``st.metric`` in a fragment, whose
   numbers come from the server), interleaved press by press, as the floor Streamlit itself
   imposes on this machine. The app starts at a class and threshold where each step changes
   precision or recall (:func:`slider_start`). The target uses the app's "shown" against the
   tiny app's "done";
3. **drag**: press the mouse on the slider's track and move it with ``page.mouse``
   (``DRAG_MOVES`` moves over ``DRAG_SECONDS``, ``DRAG_SPAN`` of the track, alternating
   direction), then release. In the page (``DRAG_JS``): a ``requestAnimationFrame`` loop stamps
   every frame, a ``MutationObserver`` every render of the numbers (``.ed-metrics``
   ``data-index``; ``window.__evaldashFrames`` counts them too), and the slider's ``input``
   events and the pointer moves are counted; Playwright counts the WebSocket frames the page
   sends (``framesent``), which should be none until the release. Reported: frame intervals
   (median, p95, longest, share above 33.3 ms), frames per second, renders, mouse move →
   numbers rendered, and release → the server has caught up;
4. **cell click**: click a confusion-matrix cell until its gallery shows the caption
   ``<n> images`` with the right n (n from the file, computed here with NumPy);
5. **page switch**: click a sidebar link until the new page's ``h1`` and its main content
   show;
6. the server's **RSS** (the process and its children, ``/proc``) with the data loaded;
7. ``/confusion`` on the 100-class preset: time to show, and whether it is readable (at most
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
(rendering), with the bytes received. The live threshold is a Components v2 mount in an open
shadow root: the probe queries into it (``"HOST >>> INNER"`` selectors) and observes it, and
since it renders in an animation-frame callback, its "shown" is stamped at the end of that
callback (the frame that paints it; ``shown_next_frame_ms`` is the start of the next frame).
Console errors and uncaught page errors are collected and listed with the results.

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
    python benchmarks/bench_browser.py --only slider,drag --no-readme --markdown /tmp/section.md
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
from urllib.parse import parse_qs, urlencode, urlsplit
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
CONSOLE: list[str] = []  # errors the pages logged (console.error, uncaught exceptions)
DRAG_MOVES, DRAG_SECONDS, DRAG_SPAN = 150, 2.5, (0.2, 0.8)  # mouse moves, their duration, track fractions
LONG_FRAME_MS = 1000 / 30 + 0.1  # a frame interval above this is below 30 fps (0.1 ms: timestamp jitter)

PAGES = {  # sidebar link text -> (h1, selector of the page's main content)
    "Overview": ("Overview", '.st-key-class_table [data-testid="stDataFrame"], .st-key-class_table'),
    "Confusion matrix": ("Confusion matrix", ".st-key-confusion_matrix >>> .cm-cell, "  # the grid component
                                             ".st-key-confusion_matrix .js-plotly-plot .heatmaplayer image, "
                                             ".st-key-confusion_matrix .js-plotly-plot .heatmaplayer .hm"),
    "Curves & threshold": ("Curves & threshold", ".st-key-threshold_metrics >>> .ed-card-value"),
    "Error analysis": ("Error analysis", '.st-key-error_gallery [data-testid="stCaptionContainer"]'),
}
SWITCH_ORDER = ["Confusion matrix", "Error analysis", "Overview", "Curves & threshold"]

# --- the in-page probe ------------------------------------------------------------------

PROBE_JS = r"""
(() => {
  if (window.__bench) return;
  const now = () => performance.now();
  const B = window.__bench = {ws: [], t0: null, cond: null, params: {}, marks: {}, pending: {}, ok: {},
                              epoch: 0, err: null, inFrame: false};
  const size = d => (d == null ? 0 : (d.byteLength ?? d.size ?? d.length ?? 0));
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener('message', ev => B.ws.push([now(), 1, size(ev.data)]));
    }
    send(d) { B.ws.push([now(), 0, size(d)]); return super.send(d); }
  };
  // The live threshold renders inside a requestAnimationFrame callback, and that frame paints it:
  // after each callback, while a mark is pending, check at once (a mark requested from there would
  // land a frame late).
  const nativeRaf = B.nativeRaf = window.requestAnimationFrame.bind(window);
  window.requestAnimationFrame = cb => nativeRaf(ts => {
    try { cb(ts); } finally {
      if (B.cond && B.t0 !== null && (B.marks.shown == null || B.marks.done == null)) {
        B.inFrame = true;
        try { check(); } finally { B.inFrame = false; }
      }
    }
  });
  const onInput = () => { if (B.cond && B.t0 === null) { B.t0 = now(); check(); } };
  for (const type of ['keydown', 'pointerdown', 'mousedown']) window.addEventListener(type, onInput, true);

  // Components v2 mount in (open) shadow roots: "HOST >>> INNER" finds INNER inside HOST, its
  // light DOM and the shadow roots under it.
  const deep = (hostSel, innerSel) => {
    const out = [];
    for (const h of document.querySelectorAll(hostSel)) {
      out.push(...h.querySelectorAll(innerSel));
      for (const e of h.querySelectorAll('*')) if (e.shadowRoot) out.push(...e.shadowRoot.querySelectorAll(innerSel));
    }
    return out;
  };
  const q = sel => sel.split(',').flatMap(part => {
    const i = part.indexOf(' >>> ');
    return i < 0 ? Array.from(document.querySelectorAll(part)) : deep(part.slice(0, i), part.slice(i + 5));
  });
  B.deep = deep;
  const live = el => {  // not in a stale element, across shadow boundaries
    for (let e = el; e; e = e.getRootNode().host || null) if (e.closest('[data-stale="true"]')) return false;
    return !!el;
  };
  const all = (sel, root) => (root ? Array.from(root.querySelectorAll(sel)) : q(sel)).filter(live);
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
  // the numbers under the threshold: the live component's cards (the app), else st.metric (tiny app)
  const metricsValues = () => {
    const cards = deep('.st-key-threshold_metrics', '.ed-card');
    if (cards.length) {
      if (cards.some(c => !live(c))) return null;
      const out = {};
      for (const c of cards) out[c.dataset.metric] = text(c.querySelector('.ed-card-value'));
      return Object.values(out).some(v => !v) ? null : out;
    }
    const box = document.querySelector('.st-key-threshold_metrics');
    if (!box) return null;
    const values = Array.from(box.querySelectorAll('[data-testid="stMetricValue"]'));
    if (!values.length || values.some(v => !live(v))) return null;
    return Object.fromEntries(values.map((v, i) => [String(i), text(v)]));
  };
  const metricsText = () => {
    const v = metricsValues();
    return v === null ? null : Object.entries(v).map(([k, x]) => k + ' ' + x).join(' | ');
  };
  B.metricsText = metricsText;
  B.metricsState = () => {
    const m = deep('.st-key-threshold_metrics', '.ed-metrics')[0];
    const s = deep('.st-key-threshold', '.ed-slider')[0];
    return {text: metricsText(), values: metricsValues(), index: m ? m.dataset.index ?? null : null,
            threshold: m ? m.dataset.threshold ?? null : null, slider: s ? s.dataset.threshold ?? null : null,
            frames: window.__evaldashFrames || 0, url: location.href};
  };
  // the server has caught up: a message was sent after the input and an answer received after it
  const answered = () => {
    const s = B.ws.findIndex(m => m[1] === 0 && m[0] >= B.t0);
    return s >= 0 && B.ws.slice(s + 1).some(m => m[1] === 1);
  };
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
      if (all('.st-key-confusion_matrix >>> .cm-cell').length) return true;  // the grid component
      const plot = all('.st-key-confusion_matrix .js-plotly-plot')[0];  // a Plotly heatmap (older versions)
      return !!plot && !!plot._fullLayout && !!plot.querySelector('.heatmaplayer image, .heatmaplayer .hm');
    },
  };
  const check = () => {
    if (!B.cond || B.t0 === null) return;
    let shown = false, done = false;
    try {
      shown = CONDS[B.cond](B.params);
      done = shown && idle() && imagesDone() && (!B.params.awaitServer || answered());
    }
    catch (e) { B.err = String(e); }
    for (const [key, ok] of [['shown', shown], ['done', done]]) {
      B.ok[key] = ok;
      if (ok) {
        if (B.marks[key] == null && B.inFrame) {
          B.marks[key] = now();  // inside a frame's callbacks: this frame paints it
          if (key === 'shown') {  // and by the next frame it has been painted (an upper bound)
            const epoch = B.epoch;
            nativeRaf(() => { if (epoch === B.epoch) B.marks.shownNext = now(); });
          }
        } else if (B.marks[key] == null && !B.pending[key]) {
          B.pending[key] = true;
          const epoch = B.epoch;
          // the frame that puts it on screen
          nativeRaf(() => {
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
  B.disarm = () => { B.epoch += 1; B.cond = null; };
  B.settled = quiet => B.marks.done != null && now() - B.marks.done >= quiet;
  B.result = () => ({t0: B.t0, shown: B.marks.shown ?? null, done: B.marks.done ?? null, ws: B.ws, err: B.err,
                     shownNext: B.marks.shownNext ?? null, now: now()});
  const OPTS = {subtree: true, childList: true, characterData: true, attributes: true,
                attributeFilter: ['data-stale', 'data-test-script-state', 'data-test-connection-state', 'data-index']};
  const shadows = new WeakSet();
  const inShadow = new MutationObserver(check);
  const watchShadows = () => {  // the components' shadow roots are not in the document's mutations
    for (const c of document.querySelectorAll('.stBidiComponent'))
      for (const e of c.querySelectorAll('*'))
        if (e.shadowRoot && !shadows.has(e.shadowRoot)) {
          shadows.add(e.shadowRoot);
          inShadow.observe(e.shadowRoot, OPTS);
        }
  };
  new MutationObserver(() => { watchShadows(); check(); }).observe(document, OPTS);
  document.addEventListener('load', check, true);  // images
  setInterval(() => { watchShadows(); check(); }, 25);
})();
"""

# While dragging: every animation frame, every input event and every render of the numbers
# (``.ed-metrics`` data-index, ``window.__evaldashFrames``), with the button's press and release.
DRAG_JS = r"""
() => {
  const B = window.__bench;
  B.disarm();  // the probe stays out of the way while dragging
  const input = B.deep('.st-key-threshold', 'input[type=range]')[0];
  const metrics = B.deep('.st-key-threshold_metrics', '.ed-metrics')[0];
  const D = window.__drag = {raf: [], inputs: [], moves: [], renders: [], down: null, up: null, run: true,
                             frames0: window.__evaldashFrames || 0, frames1: null, ws0: B.ws.length};
  const onInput = () => D.inputs.push(performance.now());
  input.addEventListener('input', onInput);
  // the mouse's own time stamps: Chromium hands moves to the page aligned with the next frame
  const onMove = ev => { if (D.down !== null && D.up === null) D.moves.push(ev.timeStamp); };
  window.addEventListener('pointermove', onMove, true);
  const mo = new MutationObserver(recs => {
    const t = performance.now();
    for (const r of recs) if (r.attributeName === 'data-index') D.renders.push([t, metrics.dataset.index]);
  });
  mo.observe(metrics, {attributes: true, attributeFilter: ['data-index']});
  const onDown = () => { if (D.down === null) D.down = performance.now(); };
  const onUp = () => {
    if (D.up !== null) return;
    D.up = performance.now();
    D.frames1 = window.__evaldashFrames || 0;
    D.sent = B.ws.slice(D.ws0).filter(m => m[1] === 0 && m[0] >= D.down).length;
    // from the release: until the slider's commit has been answered and the app is idle
    B.arm('page', {title: '', marker: 'body', awaitServer: true}, D.up);
  };
  window.addEventListener('pointerdown', onDown, true);
  window.addEventListener('pointerup', onUp, true);
  const loop = ts => { D.raf.push(ts); if (D.run) B.nativeRaf(loop); };
  B.nativeRaf(loop);
  D.finish = () => {
    D.run = false;
    input.removeEventListener('input', onInput);
    window.removeEventListener('pointerdown', onDown, true);
    window.removeEventListener('pointerup', onUp, true);
    window.removeEventListener('pointermove', onMove, true);
    mo.disconnect();
    return {raf: D.raf, inputs: D.inputs, moves: D.moves, renders: D.renders, down: D.down, up: D.up,
            frames0: D.frames0, frames1: D.frames1, probe_sent: D.sent ?? null, value: input.valueAsNumber};
  };
  return {min: Number(input.min), max: Number(input.max), value: input.valueAsNumber};
}
"""

# pixel centre of category cell (row i, column j) of a Plotly confusion-matrix heatmap (versions before
# the grid component)
CELL_XY_JS = """(plot, [i, j]) => {
    const fl = plot._fullLayout;
    const box = plot.getBoundingClientRect();
    return [box.left + fl.xaxis._offset + fl.xaxis.l2p(j), box.top + fl.yaxis._offset + fl.yaxis.l2p(i)];
}"""
# the matrix's cells: the shown classes and, per cell, its count, from the grid component (buttons with
# data-true/data-pred and "…: <n> samples" labels) or from a Plotly heatmap's hover data
CELL_DATA_JS = """() => {
    const cells = window.__bench.deep('.st-key-confusion_matrix', '.cm-cell');
    if (cells.length) {
        const labels = [];
        for (const c of cells) if (c.dataset.pred === '0') labels[Number(c.dataset.true)] = c.dataset.trueName;
        const count = c => Number(((c.getAttribute('aria-label') || '').match(/([0-9,]+) samples$/) || [0, 'NaN'])[1]
                                  .replace(/,/g, ''));
        return {kind: 'grid', x: labels, y: labels,
                custom: cells.map(c => [Number(c.dataset.true), Number(c.dataset.pred), count(c)]),
                text: cells.some(c => c.textContent.trim() !== '')};
    }
    const plot = document.querySelector('.st-key-confusion_matrix .js-plotly-plot');
    if (!plot) return null;
    return {kind: 'plotly', x: Array.from(plot.data[0].x), y: Array.from(plot.data[0].y),
            custom: Array.from(plot.data[1].customdata || []).map(r => [Number(r[0]), Number(r[1]), Number(r[2])]),
            text: plot.data[0].text != null};
}"""
MATRIX = ".st-key-confusion_matrix .cm-cell, .st-key-confusion_matrix .js-plotly-plot"  # either kind


# --- the app version -------------------------------------------------------------------

def snapshot(ref: str) -> tuple[Path, str]:
    """Export ``app.py``, ``pages/``, ``src/`` (and ``.streamlit/``) at ``ref`` into benchmarks/data/app/<sha>.

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
        parts = ["app.py", "pages", "src"]
        if subprocess.run(git + ["cat-file", "-e", f"{sha}:.streamlit"], capture_output=True).returncode == 0:
            parts.append(".streamlit")  # the app's config (e.g. runner.postScriptGC) travels with it
        archive = subprocess.run(git + ["archive", sha, *parts], capture_output=True, check=True).stdout
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
    page = context.new_page()
    page.on("console", lambda m: m.type == "error" and CONSOLE.append(
        f"console error: {m.text[:200]} [{(m.location or {}).get('url', '')[:120]}]"))
    page.on("pageerror", lambda e: CONSOLE.append(f"page error: {str(e)[:300]}"))
    return context, page


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
    if r.get("shownNext") is not None:  # shown inside a frame's callbacks: the start of the next frame
        out["shown_next_frame_ms"] = r["shownNext"] - t0
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


def open_threshold(page, url: str, timeout_s: float = 120.0) -> None:
    """Go to ``url`` and wait until the threshold's numbers are shown and the app is idle."""
    page.goto(url)
    page.evaluate("() => window.__bench.arm('metrics', {}, performance.now())")
    settle(page, timeout_s)


def load(browser, url: str, cond: str, params: dict, timeout_s: float):
    context, page = new_page(browser, (cond, params))
    wall0 = time.monotonic()
    page.goto(url, wait_until="commit")
    result = settle(page, timeout_s)
    result["goto_at"] = wall0
    return context, page, result


def slider_value(page) -> str:
    """The threshold under the slider's thumb: the live component's exact ``data-threshold`` (the
    app), else the input's value (``st.slider``, the tiny app)."""
    exact = page.locator(".st-key-threshold .ed-slider")
    if exact.count():
        return exact.get_attribute("data-threshold")
    thumb = page.locator(".st-key-threshold").get_by_role("slider")
    return thumb.get_attribute("aria-valuenow") or thumb.evaluate("e => e.value ?? e.textContent")


def press_slider(page, max_presses: int = 5) -> dict:
    """Focus the threshold slider, press ArrowRight, until the numbers change ("shown") and the
    server has answered the slider's message and the app is idle ("done").

    On the app the numbers follow in the browser: if a press leaves all nine numbers as they were
    (a step with no sample in it), press again, up to ``max_presses``, timing the press that
    changed them (``presses`` says how many it took)."""
    page.bring_to_front()
    slider = page.locator(".st-key-threshold").get_by_role("slider")
    slider.focus()
    before = slider_value(page)
    state = page.evaluate("() => window.__bench.metricsState()")
    is_live = state["index"] is not None
    presses = 0
    while True:
        page.evaluate("prev => window.__bench.arm('metricsChanged', {prev, awaitServer: true})", state["text"])
        index = page.evaluate("() => window.__bench.metricsState().index")
        page.keyboard.press("ArrowRight")
        presses += 1
        if not is_live or presses >= max_presses:
            break
        page.wait_for_function("i => window.__bench.metricsState().index !== i", arg=index, polling="raf",
                               timeout=10_000)
        if page.evaluate("() => window.__bench.metricsText()") != state["text"]:
            break
    result = settle(page)
    after = page.evaluate("() => window.__bench.metricsState()")
    result["value"] = f"{before} → {slider_value(page)}"
    result["presses"] = presses
    old, new = state["values"] or {}, after["values"] or {}
    result["changed"] = sorted(k for k in new if new.get(k) != old.get(k))
    if is_live:
        result["pr_changed"] = any(old.get(k) != new.get(k) for k in ("precision", "recall"))
        # the server caught up: the URL names the threshold the numbers are for
        t_url = parse_qs(urlsplit(after["url"]).query).get("t", ["nan"])[-1]
        result["url_follows"] = (after["threshold"] == after["slider"]
                                 and abs(float(t_url) - float(after["slider"])) <= 1e-6 * max(1, abs(float(t_url))))
    return result


def click_cell(page, i: int, j: int, heading: str, n: int) -> dict:
    page.bring_to_front()
    page.locator(MATRIX).first.wait_for()
    cell = page.locator(f'.st-key-confusion_matrix .cm-cell[data-true="{i}"][data-pred="{j}"]')
    if cell.count():  # the grid component: a button per cell
        cell.scroll_into_view_if_needed()
        cell.hover()
        page.evaluate("p => window.__bench.arm('gallery', p)", {"heading": heading, "n": n})
        cell.click()
        return settle(page)
    plot = page.locator(".st-key-confusion_matrix .js-plotly-plot")
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


def slider_start(path: Path, presses: int) -> tuple[str, float] | None:
    """(class, threshold) from which ``presses`` ArrowRight presses on the 0.001 grid each change the
    precision or the recall the page shows (3 decimals): the start of the longest such run over the
    classes. None when the scores are not probabilities (the slider has other steps)."""
    import numpy as np
    import pyarrow.parquet as pq

    score_cols = [c for c in pq.read_schema(path).names if c.startswith("score_")]
    table = pq.read_table(path, columns=["label", *score_cols])
    labels = np.array([str(x) for x in table.column("label").to_pylist()], dtype=object)
    grid = np.round(np.arange(1001) * 0.001, 3)
    best = None
    for col in score_cols:
        s = table.column(col).to_numpy()
        if s.min() < 0 or s.max() > 1:
            return None
        pos = labels == col[len("score_"):]
        sp, sn = np.sort(s[pos]), np.sort(s[~pos])
        tp = sp.size - np.searchsorted(sp, grid, side="left")  # score ≥ threshold
        fp = sn.size - np.searchsorted(sn, grid, side="left")
        prec = [f"{a / (a + b):.3f}" if a + b else "n/a" for a, b in zip(tp, fp)]
        rec = [f"{a / max(1, sp.size):.3f}" for a in tp]
        run = 0
        for k in range(1, grid.size):
            run = run + 1 if (prec[k] != prec[k - 1] or rec[k] != rec[k - 1]) else 0
            if best is None or run > best[0]:
                best = (run, col[len("score_"):], k - run)
    if not best or best[0] < presses:
        return None
    run, name, first = best
    return name, float(grid[first + (run - presses) // 2])  # in the middle of the run


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
            res["plot"] = page.evaluate(CELL_DATA_JS)
            res["multiselect"] = page.locator('[data-testid="stMultiSelect"]').count()
            res["exceptions"] = page.locator('[data-testid="stException"]').count()
        context.close()
        if r == 0:
            continue  # warm-up (the first session after the cold one)
        samples.append(res)
    log(f"cached {path}: median shown {summary([s['shown_ms'] for s in samples])['median']:.0f} ms")
    return samples


def phase_revisit(browser, server: Server, repeat: int, path: str = "/threshold", cond: str = "metrics"):
    """A second visit: new tabs in one browser context that has opened the page before. Each tab is
    a new Streamlit session, while the browser's HTTP cache holds Streamlit's static files (served
    as immutable, cached for a year), as in a browser the user has used before."""
    context, page = new_page(browser, (cond, {}))
    page.goto(server.url + path, wait_until="commit")
    settle(page, 120)
    page.close()
    samples = []
    for r in range(repeat + 1):
        page = context.new_page()
        page.goto(server.url + path, wait_until="commit")
        res = settle(page, 120)
        page.close()
        if r == 0:
            continue  # warm-up
        samples.append(res)
    context.close()
    log(f"revisit {path}: median shown {summary([s['shown_ms'] for s in samples])['median']:.0f} ms")
    return samples


def phase_slider(browser, main: Server, tiny: Server, repeat: int, start: tuple[str, float] | None = None):
    """ArrowRight on the app and on the tiny app, interleaved press by press. ``start``: the
    app's class and threshold to begin at (see :func:`slider_start`)."""
    ctx_m, page_m = new_page(browser)
    ctx_t, page_t = new_page(browser)
    query = "" if start is None else "?" + urlencode({"class": start[0], "t": f"{start[1]:.6g}"})
    open_threshold(page_m, main.url + "/threshold" + query)
    open_threshold(page_t, tiny.url)
    out = {"app": [], "tiny": [], "start": query}
    for r in range(WARMUP + repeat):
        order = [("app", page_m), ("tiny", page_t)] if r % 2 == 0 else [("tiny", page_t), ("app", page_m)]
        for name, page in order:
            res = press_slider(page)
            if r >= WARMUP:
                out[name].append(res)
    ctx_m.close()
    ctx_t.close()
    for name in ("app", "tiny"):
        s = summary([x["done_ms"] for x in out[name]])
        shown = summary([x["shown_ms"] for x in out[name]])
        log(f"slider {name}: median shown {shown['median']:.0f} ms, done {s['median']:.0f} ms, "
            f"p95 done {s['p95']:.0f} ms; presses {[x['presses'] for x in out[name]]}")
    return out


def drag_once(page, sent: list, f0: float, f1: float, moves: int = DRAG_MOVES,
              duration_s: float = DRAG_SECONDS) -> dict:
    """Press the mouse on the slider's track at ``f0`` of its travel, move to ``f1`` in ``moves``
    steps spread over ``duration_s``, release; what the page saw (``DRAG_JS``) and the release's
    catch-up with the server."""
    page.bring_to_front()
    track = page.locator(".st-key-threshold input[type=range]")
    track.scroll_into_view_if_needed()
    box = track.bounding_box()
    y = box["y"] + box["height"] / 2
    x = lambda f: box["x"] + 8 + f * (box["width"] - 16)  # noqa: E731 - the thumb's travel
    page.mouse.move(x(f0), y)
    page.evaluate(DRAG_JS)
    page.wait_for_timeout(100)
    n0 = len(sent)
    wall0 = time.monotonic()
    page.mouse.down()
    for i in range(1, moves + 1):
        delay = wall0 + i * duration_s / moves - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        page.mouse.move(x(f0 + (f1 - f0) * i / moves), y)
    page.mouse.up()
    sent_drag = len(sent) - n0
    wall = time.monotonic() - wall0
    release = settle(page)  # armed at the release (DRAG_JS): until the commit is answered, idle
    d = page.evaluate("() => window.__drag.finish()")
    state = page.evaluate("() => window.__bench.metricsState()")
    down, up = d["down"], d["up"]
    raf = [t for t in d["raf"] if down <= t <= up]
    iv = [b - a for a, b in zip(raf, raf[1:])]
    inputs = [t for t in d["inputs"] if down <= t <= up]
    renders = [(t, i) for t, i in d["renders"] if down <= t <= up + 100]  # the commit comes ≥ 200 ms later
    moved = d["moves"]
    lat, prev = [], down - 1
    for t, _ in renders:  # mouse move → the render that shows it: from the first move since the last render
        waiting = [u for u in moved if prev < u <= t]
        if waiting:
            lat.append(t - waiting[0])
        prev = t
    dur = up - down
    ivs = summary(iv)
    t_url = parse_qs(urlsplit(state["url"]).query).get("t", ["nan"])[-1]
    return {
        "direction": f"{f0:.2f} → {f1:.2f}", "moves": moves, "wall_ms": wall * 1000, "duration_ms": dur,
        "inputs": len(inputs), "renders": len(renders), "frames_delta": (d["frames1"] or 0) - d["frames0"],
        "positions": len({i for _, i in renders}), "raf_frames": len(raf), "fps": len(raf) / dur * 1000,
        "renders_per_s": len(renders) / dur * 1000, "intervals": iv,
        "iv_median": ivs.get("median"), "iv_p95": ivs.get("p95"), "iv_max": ivs.get("max"),
        "share_over_33": sum(v > LONG_FRAME_MS for v in iv) / max(1, len(iv)),
        "share_over_25": sum(v > 25 for v in iv) / max(1, len(iv)),
        "pointer_moves": len(moved), "input_to_render": lat, "lat_median": statistics.median(lat) if lat else None,
        "lat_max": max(lat) if lat else None,
        "ws_sent": sent_drag, "ws_sent_probe": d["probe_sent"],
        "release": release, "release_done_ms": release["done_ms"],
        "consistent": (state["threshold"] == state["slider"] and str(d["value"]) == state["index"]
                       and abs(float(t_url) - float(state["slider"])) <= 1e-6 * max(1, abs(float(t_url)))),
        "final": state["slider"],
    }


def phase_drag(browser, server: Server, repeat: int) -> list[dict]:
    """Drag the threshold thumb across the track, back and forth: frames, renders, messages."""
    context, page = new_page(browser)
    sent: list[float] = []
    page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(time.monotonic())))
    open_threshold(page, server.url + "/threshold")
    samples = []
    for r in range(WARMUP + repeat):
        f0, f1 = DRAG_SPAN if r % 2 == 0 else DRAG_SPAN[::-1]
        res = drag_once(page, sent, f0, f1)
        log(f"drag {'warm-up ' + str(r + 1) if r < WARMUP else str(r + 1 - WARMUP) + '/' + str(repeat)} "
            f"{res['direction']}: "
            f"{res['duration_ms']:.0f} ms, {res['inputs']} inputs, {res['renders']} renders, "
            f"{res['fps']:.1f} fps, frame interval median {res['iv_median']:.1f} / max {res['iv_max']:.1f} ms, "
            f"move → render median {res['lat_median'] or 0:.1f} ms, "
            f"{res['share_over_33']:.0%} > {LONG_FRAME_MS:.1f} ms, sent {res['ws_sent']}/{res['ws_sent_probe']}, "
            f"release → done {res['release_done_ms']:.0f} ms, consistent {res['consistent']}")
        if r >= WARMUP:
            samples.append(res)
    context.close()
    return samples


def phase_cells(browser, server: Server, expected: dict, repeat: int):
    context, page = new_page(browser)
    page.goto(server.url + "/confusion")
    page.locator(MATRIX).first.wait_for()
    wait_idle(page)
    data = page.evaluate(CELL_DATA_JS)
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
    open_threshold(page, server.url + "/threshold")
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
    open_threshold(page, server.url + "/threshold")
    for _ in range(repeat):
        t = time.time()
        record("slider", t, press_slider(page))
    for link in SWITCH_ORDER * max(1, repeat // 4):
        t = time.time()
        record(f"switch to {link}", t, switch_page(page, link))
    context.close()
    context, page = new_page(browser)
    page.goto(server.url + "/confusion")
    page.locator(MATRIX).first.wait_for()
    wait_idle(page)
    labels = [str(x) for x in page.evaluate(CELL_DATA_JS)["x"]]
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
    if abs(x) < 10:
        return f"{x:.1f} ms"
    return f"{x / 1000:.2f} s" if x >= 1000 else f"{x:.0f} ms"


def console_summary(console: dict[str, int]) -> dict[str, int]:
    """The browser's errors, counted with the servers' ports left out."""
    out: dict[str, int] = {}
    for m, n in console.items():
        key = re.sub(r"127\.0\.0\.1:\d+", "127.0.0.1:<port>", m)
        out[key] = out.get(key, 0) + n
    return dict(sorted(out.items(), key=lambda kv: -kv[1]))


def s_minus(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None else a - b


def drag_rows(res: dict) -> list[list[str]]:
    """Per-drag figures: [measure, median, p95, min, max]."""
    dr = res["results"].get("drag")
    if not dr:
        return []

    def row(name, key, f=lambda v: f"{v:.1f}"):
        s = summary([x[key] for x in dr if x.get(key) is not None])
        return [name] + ([f(s["median"]), f(s["p95"]), f(s["min"]), f(s["max"])] if s["n"] else ["–"] * 4)

    ms, n, pct = (lambda v: f"{v:.1f} ms"), (lambda v: f"{v:.0f}"), (lambda v: f"{v:.1%}")
    return [row("drag time (press → release)", "duration_ms", ms),
            row("mouse moves sent / pointer moves seen", "moves", n)[:1] + [
                f"{summary([x['moves'] for x in dr])['median']:.0f} / "
                f"{summary([x['pointer_moves'] for x in dr])['median']:.0f}", "", "", ""],
            row("`input` events on the slider", "inputs", n),
            row("renders of the numbers (`data-index` changes)", "renders", n),
            row("`window.__evaldashFrames` increments", "frames_delta", n),
            row("distinct slider positions shown", "positions", n),
            row("animation frames", "raf_frames", n),
            row("frames per second (frames / drag time)", "fps"),
            row("renders per second", "renders_per_s"),
            row("frame interval, median in the drag", "iv_median", ms),
            row("frame interval, p95 in the drag", "iv_p95", ms),
            row("frame interval, longest in the drag", "iv_max", ms),
            row("share of frame intervals > 33.3 ms (below 30 fps)", "share_over_33", pct),
            row("share of frame intervals > 25 ms (a 60 Hz frame missed)", "share_over_25", pct),
            row("mouse move → numbers rendered, median in the drag", "lat_median", ms),
            row("mouse move → numbers rendered, longest in the drag", "lat_max", ms),
            row("WebSocket frames sent while dragging (Playwright)", "ws_sent", n),
            row("WebSocket frames sent while dragging (in-page probe)", "ws_sent_probe", n),
            row("release → commit answered and app idle", "release_done_ms", ms)]


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
    if "revisit" in r:
        line("same, cached, second visit (new tab of a browser that has opened it before: new session, "
             "HTTP cache warm)", r["revisit"], "shown_ms", "≤ 1 s", lambda s: s["median"] <= 1000,
             f"done {fmt_ms(summary([x['done_ms'] for x in r['revisit']])['median'])}")
    if "tiny_revisit" in r:
        line("  floor: second visit of `tiny_app.py` (new tab)", r["tiny_revisit"], "shown_ms", "–",
             lambda s: None, "")
    if "slider" in r:
        app, tiny = r["slider"]["app"], r["slider"]["tiny"]
        floor = summary([x["done_ms"] for x in tiny])

        def med(samples, key):
            vals = [x[key] for x in samples if x.get(key) is not None]
            return statistics.median(vals) if vals else None

        live = any("pr_changed" in x for x in app)
        start = r["slider"].get("start") or ""
        if live:
            pr = sum(bool(x.get("pr_changed")) for x in app)
            counts = sum(bool(set(x.get("changed", [])) & {"tp", "fp", "fn", "tn"}) for x in app)
            presses = [x.get("presses", 1) for x in app]
            s = line("slider ArrowRight → new precision/recall shown (app: in the browser)", app, "shown_ms",
                     "p50 ≤ 150 ms and ≤ floor + 30 ms",
                     lambda s: s["median"] <= 150 and s["median"] <= floor["median"] + 30,
                     f"the target uses **shown** for the app (the numbers follow the thumb in the browser; the "
                     f"server hears of it 200 ms after the last key): the frame that paints the new numbers, the "
                     f"next frame starting at {fmt_ms(med(app, 'shown_next_frame_ms'))}; "
                     f"{fmt_ms(s_minus(med(app, 'shown_ms'), floor['median']))} against the floor "
                     f"(tiny app's ArrowRight → done, {fmt_ms(floor['median'])}); precision or recall changed on "
                     f"{pr}/{len(app)} presses, the counts on {counts}/{len(app)}, "
                     f"{max(presses)} press{'es' if max(presses) > 1 else ''} per change at most"
                     + (f"; from `/threshold{start}`" if start else ""))
            line("  same → the server has caught up (commit answered) and the app is idle", app, "done_ms",
                 "listed, not the target", lambda s: None,
                 f"includes the slider's 200 ms wait before it sends (input → sent "
                 f"{fmt_ms(med(app, 'input_to_send_ms'))}), then sent → last message "
                 f"{fmt_ms(med(app, 'send_to_last_msg_ms'))}; {(med(app, 'bytes_in') or 0) / 1024:.0f} KiB received "
                 f"per commit; URL and numbers agree afterwards on {sum(bool(x.get('url_follows')) for x in app)}"
                 f"/{len(app)}")
        else:  # an app with Streamlit's own slider (no live numbers)
            s = summary([x["done_ms"] for x in app])
            line("slider ArrowRight → new numbers shown and app idle", app, "done_ms",
                 "p50 ≤ 150 ms and ≤ floor + 30 ms",
                 lambda s: s["median"] <= 150 and s["median"] <= floor["median"] + 30,
                 f"numbers first painted at {fmt_ms(med(app, 'shown_ms'))}; "
                 f"{fmt_ms(s['median'] - floor['median'])} above the floor; "
                 f"{(med(app, 'bytes_in') or 0) / 1024:.0f} KiB received")
        line("  floor: ArrowRight → done on `tiny_app.py` (`st.slider` + `st.metric` in a fragment)", tiny,
             "done_ms", "–", lambda s: None,
             f"shown {fmt_ms(med(tiny, 'shown_ms'))}; {(med(tiny, 'bytes_in') or 0) / 1024:.1f} KiB received")
    if "drag" in r:
        dr = r["drag"]
        pooled = [v for x in dr for v in x["intervals"]]
        ps = summary(pooled)
        long = sum(v > LONG_FRAME_MS for v in pooled)
        missed = sum(v > 25 for v in pooled)
        fps = summary([x["fps"] for x in dr])
        lat = summary([v for x in dr for v in x["input_to_render"]])
        line("drag the thumb (1M × 10): longest frame interval in a drag", dr, "iv_max",
             "no frame interval > 33 ms (≥ 30 fps)", lambda s: s["max"] <= LONG_FRAME_MS,
             f"{len(dr)} drags of {DRAG_MOVES} mouse moves over ~{DRAG_SECONDS:g} s across "
             f"{abs(DRAG_SPAN[1] - DRAG_SPAN[0]):.0%} of the track, alternating direction; all "
             f"{ps['n']} frame intervals: median {ps['median']:.1f} ms, p95 {ps['p95']:.1f} ms, max "
             f"{ps['max']:.1f} ms, {long} ({long / max(1, ps['n']):.1%}) above 33.3 ms (an interval of two "
             f"60 Hz frames, 33.3 ms, is exactly 30 fps and counts as met), {missed} above 25 ms (a 60 Hz frame "
             f"missed); "
             f"mouse move → numbers rendered median {lat.get('median', 0):.1f} ms, max {lat.get('max', 0):.1f} ms")
        rows.append(["  drag: frames per second (animation frames / drag time)", str(fps["n"]),
                     f"{fps['median']:.1f} fps", f"{fps['min']:.1f} fps (lowest)", "≥ 30 fps",
                     "**yes**" if fps["min"] >= 30 else "no",
                     f"renders of the numbers per second {summary([x['renders_per_s'] for x in dr])['median']:.1f}"
                     f" (median); headless Chromium without GPU paces frames at 60 Hz at most"])
        sent = [x["ws_sent"] for x in dr]
        rows.append(["  drag: WebSocket frames the page sent while dragging", str(len(sent)),
                     f"{statistics.median(sent):.0f}", f"{max(sent)} (max)", "0", "**yes**" if max(sent) == 0 else "no",
                     f"Playwright `framesent` between press and release ({sum(sent)} in all; the probe counted "
                     f"{sum(x['ws_sent_probe'] or 0 for x in dr)}); the release sends one commit: release → server "
                     f"caught up and idle {fmt_ms(summary([x['release_done_ms'] for x in dr])['median'])}; numbers, "
                     f"slider and URL agree afterwards on {sum(bool(x['consistent']) for x in dr)}/{len(dr)}"])
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
    if "revisit" in r:
        kinds.append(("second visit `/threshold` (new tab)", r["revisit"]))
    if "tiny_revisit" in r:
        kinds.append(("second visit of tiny app (new tab)", r["tiny_revisit"]))
    if "slider" in r:
        kinds += [("slider (app)", r["slider"]["app"]), ("slider (tiny app)", r["slider"]["tiny"])]
    if "drag" in r:
        kinds.append(("drag release (commit)", [x["release"] for x in r["drag"]]))
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
              f"for {QUIET_MS} ms. The slider target uses \"shown\" for the app (its numbers follow the thumb "
              "in the browser, from the exact counts the server sent with the page; the server is told 200 ms "
              "after the last key press) and \"done\" for the floor (`tiny_app.py`, whose numbers come from the "
              "server); the app's \"done\" is listed below it. For the live numbers, \"shown\" is stamped at "
              "the end of the animation-frame callback that renders them (that frame paints them).",
              "",
              "### Where the time goes (medians, from the page's WebSocket traffic)",
              "",
              "| interaction | input → request sent | request → message that shows it | shown "
              "| request → last message | last message → done | done | received | messages |",
              "|---|---|---|---|---|---|---|---|---|"]
    lines += ["| " + " | ".join(row) + " |" for row in breakdown_rows(res)]
    if drag_rows(res):
        dr = res["results"]["drag"]
        lines += ["", f"### Dragging the threshold ({len(dr)} drags, alternating direction; per drag)", "",
                  "A `requestAnimationFrame` loop records every frame from the mouse press to the release, a "
                  "`MutationObserver` every render of the numbers (`.ed-metrics` `data-index`), and Playwright "
                  "counts the WebSocket frames the page sends. The mouse is moved by `page.mouse` "
                  f"({DRAG_MOVES} moves over ~{DRAG_SECONDS:g} s from {DRAG_SPAN[0]:.0%} to {DRAG_SPAN[1]:.0%} "
                  "of the track and back); \"mouse move → numbers rendered\" runs from the first pointer event's "
                  "own time stamp since the last render to the render.", "",
                  "| measure | median | p95 | min | max |", "|---|---|---|---|---|"]
        lines += ["| " + " | ".join(row) + " |" for row in drag_rows(res)]
    if res.get("console"):
        lines += ["", "Browser console during the run: " + "; ".join(
            f"{n} × {m}" for m, n in console_summary(res["console"]).items()) + "."]
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
    drows = drag_rows(res)
    if drows:
        dh = ["drag (per drag)", "median", "p95", "min", "max"]
        dw = [max(len(dh[i]), *(len(r[i]) for r in drows)) for i in range(5)]
        print()
        print("  ".join(h.ljust(w) for h, w in zip(dh, dw)))
        for r in drows:
            print("  ".join(c.ljust(w) for c, w in zip(r, dw)))
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
    p.add_argument("--only", default="", help="comma-separated phases: cold,cached,revisit,slider,drag,cells,switch,"
                                                   "confusion")
    p.add_argument("--profile", action="store_true", help="also time/profile the server's script passes")
    p.add_argument("--no-readme", action="store_true", help="do not write benchmarks/README.md")
    p.add_argument("--markdown", type=Path, help="also write the README section's Markdown to this file "
                                                 "(any run, with or without --no-readme)")
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
        if args.markdown:
            args.markdown.write_text(markdown(res))
        if not args.no_readme:
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
    phases = set(filter(None, args.only.split(","))) or {"cold", "cached", "revisit", "slider", "drag", "cells",
                                                          "switch", "confusion"}
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
            if "revisit" in phases:
                r["revisit"] = phase_revisit(browser, main_server, args.repeat)
                tiny_r = Server(str(HERE / "tiny_app.py"), [], "tiny_revisit", upload_dir, cwd=ROOT)
                servers.append(tiny_r)
                tiny_r.wait_ready()
                r["tiny_revisit"] = phase_revisit(browser, tiny_r, args.repeat, "/", "metrics")
                tiny_r.stop()
            if "slider" in phases:
                tiny = Server(str(HERE / "tiny_app.py"), [], "tiny", upload_dir, cwd=ROOT)
                servers.append(tiny)
                tiny.wait_ready()
                r["tiny_load"] = phase_cached(browser, tiny, args.repeat, "/", "metrics")
                start = slider_start(path, WARMUP + args.repeat + 2)
                log(f"slider: app starts at {start} (class, threshold)")
                r["slider"] = phase_slider(browser, main_server, tiny, args.repeat, start)
                tiny.stop()
                servers.remove(tiny)
            if "drag" in phases:
                r["drag"] = phase_drag(browser, main_server, args.repeat)
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
    res["console"] = dict(sorted({m: CONSOLE.count(m) for m in CONSOLE}.items()))
    for m, n in console_summary(res["console"]).items():
        log(f"browser: {n} × {m}")
    if args.analysis:
        res["analysis"] = args.analysis.read_text()
    DATA.mkdir(parents=True, exist_ok=True)
    full = not args.only and not args.app_dir and args.repeat >= 10
    out = RESULTS if full else RESULTS.with_name("browser_results_partial.json")
    out.write_text(json.dumps(res, indent=1, default=str))
    log(f"raw samples in {out.relative_to(ROOT)}")
    print_table(res)
    if args.markdown:
        args.markdown.write_text(markdown(res))
        log(f"Markdown in {args.markdown}")
    if not args.no_readme:
        if not full:
            log("a partial run (--only, --app-dir or fewer than 10 repetitions): README not written")
        else:
            write_readme(markdown(res))
            log(f"wrote the section '{SECTION[3:]}' of {README.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
