"""Many classes (issue 13): server memory of the dashboard at 1,000 classes and the report at 10,000.

Two measurements, each against a target of the issue:

1. **dashboard, 1,000 classes × 1M rows** (preset ``1m1000``; predicted labels, no scores: a score
   per class would be 8 GB of float64 by itself): a real server
   (``python -m streamlit run app.py -- FILE``, as ``bench_browser.py`` starts it) and headless
   Chromium (Playwright). Each repetition opens the overview, ``/confusion`` (its class picker
   above 25 classes), ``/threshold`` and ``/errors``, each in a new browser session, and waits
   until the page's heading and main content are shown and the app is idle (the probe of
   ``bench_browser.py``). The server's RSS (the process and its children) is sampled every
   100 ms during the whole run; its peak and the kernel's own peak (``VmHWM``) are reported,
   with the median time to each page. Target: RSS ≤ 4 GB.
2. **report, 10,000 classes × 100k rows** (preset ``100k10000``): ``evaldash report FILE --json``
   (and once more with ``--ci``, 1,000 bootstrap resamples) as a child process; wall time and
   peak RSS from ``os.wait4`` (``getrusage`` of that child). Target: ≤ 60 s and ≤ 4 GB.

The app and the package are served from a snapshot of a commit (``--ref``, default HEAD, as in
``bench_browser.py``) or the working tree (``--ref worktree``), always with ``PYTHONPATH`` on
that version's ``src``.

    python benchmarks/bench_many_classes.py                    # both, 3 repetitions
    python benchmarks/bench_many_classes.py --only report --ref worktree
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from bench_browser import (CHROMIUM, CHROMIUM_ARGS, Server, check_dataset, load, machine,  # noqa: E402
                           snapshot)
from generate import DATA, PRESETS, generate  # noqa: E402

RESULTS = DATA / "many_classes_results.json"
GIB = 1024 ** 3
PAGES = {  # path -> (h1, the page's main content)
    "/": ("Overview", '.st-key-class_table [data-testid="stDataFrame"], .st-key-class_table'),
    "/confusion": ("Confusion matrix", ".st-key-confusion_matrix >>> .cm-cell"),
    # without scores /threshold explains that it needs them: its heading and that message
    "/threshold": ("Curves & threshold", '.st-key-threshold_metrics, [data-testid="stAlertContainer"], '
                                         '[data-testid="stAlert"]'),
    "/errors": ("Error analysis", '.st-key-error_gallery [data-testid="stCaptionContainer"]'),
}


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def ensure(preset: str) -> Path:
    spec = PRESETS[preset]
    if not spec["out"].exists():
        log(f"generating {spec['out'].name}")
        generate(spec["out"], spec["rows"], spec["classes"], predictions_only=spec.get("predictions_only", False))
    return spec["out"]


class RssSampler(threading.Thread):
    """The server's resident memory (process and children) every ``every`` seconds; ``peak``."""

    def __init__(self, server: Server, every: float = 0.1):
        super().__init__(daemon=True)
        self.server, self.every, self.peak, self.samples = server, every, 0.0, []
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.is_set():
            rss = self.server.rss()["rss_mib"]
            self.peak = max(self.peak, rss)
            self.samples.append((time.monotonic(), rss))
            self.halt.wait(self.every)


def bench_dashboard(app_dir: Path, preset: str, repeat: int) -> dict:
    from playwright.sync_api import sync_playwright

    path = ensure(preset)
    upload = Path(tempfile.mkdtemp(prefix="evaldash-bench-uploads-"))
    server = Server("app.py", [str(path)], f"many_classes_{preset}", upload, cwd=app_dir,
                    env_extra={"PYTHONPATH": str(app_dir / "src"),
                               "EVALDASH_DB": str(upload / "annotations.db")})
    sampler = RssSampler(server)
    out = {"preset": preset, "file": path.name, "rows": PRESETS[preset]["rows"],
           "classes": PRESETS[preset]["classes"], "views": []}
    try:
        out["server_start_s"] = server.wait_ready(180)
        sampler.start()
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            for r in range(repeat):
                for url, (title, marker) in PAGES.items():
                    context, page, res = load(browser, server.url + url, "page",
                                              {"title": title, "marker": marker}, 600)
                    errors = page.locator('[data-testid="stException"]').count()
                    check_dataset(page, path)  # the benchmark file, not the sample it falls back to
                    context.close()
                    view = {"page": url, "repetition": r, "shown_ms": res["shown_ms"], "done_ms": res["done_ms"],
                            "finished_at_s": round(time.monotonic() - sampler.samples[0][0], 1),
                            "exceptions": errors, **server.rss()}
                    out["views"].append(view)
                    log(f"{url:<11} rep {r}: shown {res['shown_ms'] / 1000:6.1f} s, done "
                        f"{res['done_ms'] / 1000:6.1f} s, server RSS {view['rss_mib']:6.0f} MiB, "
                        f"exceptions {errors}")
            browser.close()
        time.sleep(10)  # the background precompute and intervals: their memory counts too
        out["rss_end_mib"] = server.rss()["rss_mib"]
        out["hwm_mib"] = server.rss()["hwm_mib"]
    finally:
        sampler.halt.set()
        server.stop()
    out["peak_rss_mib"] = sampler.peak
    t0 = sampler.samples[0][0] if sampler.samples else 0.0
    out["rss_timeline"] = [(round(t - t0, 1), round(v)) for t, v in sampler.samples[::5]]  # every 0.5 s
    out["first_view_s"] = out["views"][0]["done_ms"] / 1000 if out["views"] else None
    # the first repetition includes reading the file and the precompute: the medians are over the others
    warm = [v for v in out["views"] if v["repetition"] > 0 or repeat == 1]
    out["median_done_s"] = {url: statistics.median(v["done_ms"] / 1000 for v in warm if v["page"] == url)
                            for url in PAGES}
    return out


def run_child(cmd: list[str], env: dict, stdout) -> dict:
    start = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=stdout, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - start
    err = proc.stderr.read().decode(errors="replace")
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {err[-2000:]}")
    return {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "max_rss_mib": usage.ru_maxrss / 1024}


def bench_report(app_dir: Path, preset: str, repeat: int) -> dict:
    path = ensure(preset)
    env = {**os.environ, "PYTHONPATH": str(app_dir / "src")}
    out = {"preset": preset, "file": path.name, "bytes": path.stat().st_size, "rows": PRESETS[preset]["rows"],
           "classes": PRESETS[preset]["classes"]}
    for name, extra, times in (("json", [], repeat), ("json_ci", ["--ci"], 1)):
        runs = []
        target = DATA / f"many_classes_report_{name}.json"
        for _ in range(times):
            with open(target, "wb") as fh:
                runs.append(run_child([sys.executable, "-m", "evaldash.cli", "report", str(path), "--json", *extra],
                                      env, fh))
            log(f"report --json {' '.join(extra)}: {runs[-1]['wall_s']:.1f} s, peak RSS "
                f"{runs[-1]['max_rss_mib']:.0f} MiB")
        out[name] = {"runs": runs, "median_wall_s": statistics.median(r["wall_s"] for r in runs),
                     "median_max_rss_mib": statistics.median(r["max_rss_mib"] for r in runs),
                     "json_bytes": target.stat().st_size}
        matrix = json.loads(target.read_text())["confusion_matrix"]
        out[name]["confusion_matrix_format"] = matrix.get("format") if isinstance(matrix, dict) else "dense"
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--ref", default="HEAD", help="a git commit to snapshot (default HEAD), or 'worktree'")
    p.add_argument("--repeat", type=int, default=3, help="repetitions (page views, report runs; default 3)")
    p.add_argument("--only", default="dashboard,report", help="dashboard, report or both (comma-separated)")
    p.add_argument("--dashboard-preset", default="1m1000")
    p.add_argument("--report-preset", default="100k10000")
    p.add_argument("--out", type=Path, default=RESULTS, help=f"results file (default {RESULTS.name})")
    args = p.parse_args()
    if args.ref == "worktree":
        app_dir, version = ROOT, machine()["commit"] + " + working tree"
    else:
        app_dir, version = snapshot(args.ref)
    res = {"version": version, "machine": machine(), "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
           "loadavg_start": os.getloadavg()}
    only = set(args.only.split(","))
    if "report" in only:
        res["report"] = bench_report(app_dir, args.report_preset, args.repeat)
    if "dashboard" in only:
        res["dashboard"] = bench_dashboard(app_dir, args.dashboard_preset, args.repeat)
    res["loadavg_end"] = os.getloadavg()
    args.out.write_text(json.dumps(res, indent=1))
    brief = {k: ({kk: vv for kk, vv in v.items() if kk not in ("views", "rss_timeline")} if isinstance(v, dict) else v)
             for k, v in res.items()}
    print(json.dumps(brief, indent=1, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
