"""The dashboard on an engine (issue 18, "In the dashboard"), in headless Chromium.

It reuses ``bench_browser.py``'s machinery (the server, the in-page probe, ``settle``): the app is
served from a snapshot of a commit (``--ref``, default HEAD) with
``streamlit run app.py -- FILE --engine ENGINE``, FILE a Parquet file, a folder of them or a glob.

1. **first view of /threshold, cold**: a new server; a browser opens ``/threshold`` until the live
   threshold's numbers show and the app is idle (validating the file in the engine and every
   aggregation of the first view). Then **cached**: a new browser session on that server,
   ``--repeat`` times.
2. **slider**: ArrowRight on the threshold slider until the numbers change (as
   ``bench_browser.py``'s "shown": in the browser, no server round trip) and the server has
   caught up ("done").
3. **cell click**: click a confusion-matrix cell (a different one each time, largest first) until
   its gallery shows the heading ``True X → predicted Y`` and the caption ``<n> images``, n the
   cell's count as the core computes it on the same engine (``EngineEvaluation.counts``, here).
4. The server's **peak RSS** (``VmHWM``) and the RSS of it and its children at the end; the load
   average at each step.

On DuckDB the sorted cell table (``engines/cells.py``) is built after the first view, in the
background: the run times (after the cold view) **a cell click while it is being built** (the
smallest off-diagonal cell; its gallery shows the build's status line, the page is read by the
per-page query: "done" is when its images are shown), the cached first view during the build, then
polls (a new session on ``/confusion?true=..&pred=..`` every few seconds) until the status line is
gone: **the build's end**, after the cold view. The slider and the other cells' clicks come after it.

    python benchmarks/generate.py --preset 100m2      # or any Parquet file / folder
    python benchmarks/bench_engine_browser.py --file /work/bench-data/100m_2.parquet --repeat 5
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import bench_browser as bb  # noqa: E402


def core_cells(path: str, engine: str) -> tuple[tuple[str, ...], list[tuple[int, int, int]], int]:
    """(classes, [(true, pred, count)] largest first, n) from the core on the same engine."""
    sys.path.insert(0, str(bb.APP_DIR / "src"))
    from evaldash.engines import evaluate_file, open_engine

    eng = open_engine(engine)
    try:
        ev = evaluate_file(eng, path)
        c = ev.counts
        cells = sorted(zip(c.true.tolist(), c.pred.tolist(), c.count.tolist()), key=lambda x: -x[2])
        return ev.dataset.classes, cells, ev.dataset.n
    finally:
        eng.close()


STATUS = "Cell galleries:"  # the gallery's line while the sorted cell table is being built (cells.status)


def click_cell_within(page, i: int, j: int, heading: str, n: int, timeout_s: float) -> dict:
    """:func:`bench_browser.click_cell` with a longer wait (a page read by the per-page query)."""
    cell = page.locator(f'.st-key-confusion_matrix .cm-cell[data-true="{i}"][data-pred="{j}"]')
    if not cell.count():
        return bb.click_cell(page, i, j, heading, n)
    page.bring_to_front()
    cell.scroll_into_view_if_needed()
    cell.hover()
    page.evaluate("p => window.__bench.arm('gallery', p)", {"heading": heading, "n": n})
    cell.click()
    return bb.settle(page, timeout_s)


def status_line(page) -> str:
    found = page.locator('.st-key-cell_gallery [data-testid="stCaptionContainer"]').filter(has_text=STATUS)
    return found.first.inner_text() if found.count() else ""


def wait_for_build(browser, url: str, heading: str, n: int, timeout_s: float, every_s: float = 5.0) -> tuple[float, int]:
    """(seconds waited, polls) until a new session's cell gallery at ``url`` shows no status line."""
    t0, polls = time.monotonic(), 0
    while True:
        ctx, page = bb.new_page(browser)
        page.goto(url)
        page.locator(".st-key-cell_gallery h3").filter(has_text=heading).first.wait_for(timeout=600_000)
        page.locator('.st-key-cell_gallery [data-testid="stCaptionContainer"]').filter(
            has_text=f"{n} images").first.wait_for(timeout=600_000)
        # the status line is drawn before the page's images: once one image shows, it is there or not
        page.locator('.st-key-cell_gallery [data-testid="stImage"]').first.wait_for(timeout=600_000)
        building = bool(status_line(page))
        ctx.close()
        polls += 1
        if not building:
            return time.monotonic() - t0, polls
        if time.monotonic() - t0 > timeout_s:
            raise RuntimeError(f"the cell table was still being built after {timeout_s:.0f} s")
        time.sleep(every_s)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--file", required=True)
    p.add_argument("--engine", default="duckdb")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--ref", default="HEAD")
    p.add_argument("--cold-timeout", type=float, default=900)
    p.add_argument("--build-timeout", type=float, default=3600)
    p.add_argument("--out", type=Path, default=bb.DATA / "engine_browser_results.json")
    args = p.parse_args()
    from playwright.sync_api import sync_playwright

    bb.APP_DIR, sha = bb.snapshot(args.ref)
    res = {"file": args.file, "engine": args.engine, "version": sha, "machine": bb.machine(),
           "load": {"start": bb.loadavg()}}
    t0 = time.monotonic()
    classes, cells, n = core_cells(args.file, args.engine)
    res["core_s"] = time.monotonic() - t0
    bb.log(f"core counts on {args.engine}: {res['core_s']:.1f} s, {n:,} rows, {len(classes)} classes")
    upload_dir = Path(tempfile.mkdtemp(prefix="bench_uploads_"))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=bb.CHROMIUM, args=bb.CHROMIUM_ARGS, headless=True)
        server = bb.Server("app.py", [args.file, "--engine", args.engine], f"engine_{args.engine}", upload_dir)
        try:
            server.wait_ready()
            ctx, page, cold = bb.load(browser, server.url + "/threshold", "metrics", {}, args.cold_timeout)
            res["cold_ms"] = cold["shown_ms"]
            cold_at = cold["goto_at"] + cold["shown_ms"] / 1000
            res["cold_spawn_to_shown_ms"] = (cold.pop("goto_at") - server.started) * 1000 + cold["shown_ms"]
            res["server_cpu_s_at_cold"] = server.cpu_seconds()
            side = page.locator('[data-testid="stSidebar"]').inner_text()
            if f"{n:,} samples" not in side:
                raise RuntimeError(f"the app does not show the file ({n:,} samples); sidebar: {side[:300]!r}")
            res["load"]["after cold"] = bb.loadavg()
            res["rss_after_cold"] = server.rss()
            bb.log(f"first view of /threshold, cold: {cold['shown_ms']:.0f} ms")
            ctx.close()

            # a cell click while the cell table is being built: the smallest off-diagonal cell
            off = [c for c in cells if c[0] != c[1]] or cells
            di, dj, dn = during = off[-1]
            heading = f"True {classes[di]} → predicted {classes[dj]}"
            ctx, page = bb.new_page(browser)
            page.goto(server.url + "/confusion")
            page.locator(bb.MATRIX).first.wait_for(timeout=300_000)
            bb.wait_idle(page, 300)
            t = click_cell_within(page, di, dj, heading, dn, args.cold_timeout)
            t["cell"], t["load"], t["status"] = [classes[di], classes[dj], dn], bb.loadavg(), status_line(page)
            t["after_cold_s"] = time.monotonic() - cold_at
            ctx.close()
            res["click_during_build"] = t
            bb.log(f"click during the build {classes[di]} → {classes[dj]} ({dn:,}): shown {t['shown_ms']:.0f} ms, "
                   f"images {t['done_ms']:.0f} ms; status: {t['status'][:160]!r}")
            cached = bb.phase_cached(browser, server, args.repeat)
            res["cached_during_build_ms"] = [c["shown_ms"] for c in cached]
            url = f"{server.url}/confusion?true={quote(classes[di])}&pred={quote(classes[dj])}"
            waited, polls = wait_for_build(browser, url, heading, dn, args.build_timeout)
            res["build_done_after_cold_s"] = time.monotonic() - cold_at
            res["build_polls"] = polls
            res["load"]["after build"] = bb.loadavg()
            bb.log(f"cell table built {res['build_done_after_cold_s']:.0f} s after the cold view ({polls} polls)")
            cached = bb.phase_cached(browser, server, args.repeat)
            res["cached_ms"] = [c["shown_ms"] for c in cached]

            ctx, page = bb.new_page(browser)
            bb.open_threshold(page, server.url + "/threshold", 300)
            presses = []
            for r in range(bb.WARMUP + args.repeat):
                t = bb.press_slider(page)
                if r >= bb.WARMUP:
                    presses.append(t)
                    bb.log(f"slider {t['value']}: shown {t['shown_ms']:.0f} ms, done {t['done_ms']:.0f} ms")
            ctx.close()
            res["slider"] = presses

            ctx, page = bb.new_page(browser)
            page.goto(server.url + "/confusion")
            page.locator(bb.MATRIX).first.wait_for(timeout=300_000)
            bb.wait_idle(page, 300)
            clicks = []
            picked = [c for c in cells if c != during][:bb.WARMUP + args.repeat]  # its pages are not kept yet
            for r, (i, j, count) in enumerate(picked):
                t = bb.click_cell(page, i, j, f"True {classes[i]} → predicted {classes[j]}", count)
                t["cell"], t["load"] = [classes[i], classes[j], count], bb.loadavg()
                if r >= bb.WARMUP:
                    clicks.append(t)
                    bb.log(f"click {classes[i]} → {classes[j]} ({count:,}): shown {t['shown_ms']:.0f} ms")
            ctx.close()
            res["clicks"] = clicks
            res["rss"] = server.rss()
            res["server_cpu_s"] = server.cpu_seconds()
            res["load"]["end"] = bb.loadavg()
        finally:
            server.stop()
        browser.close()
    res["summary"] = {
        "cold_ms": res["cold_ms"], "cached": bb.summary(res["cached_ms"]),
        "cached_during_build": bb.summary(res["cached_during_build_ms"]),
        "click_during_build_shown_ms": res["click_during_build"]["shown_ms"],
        "click_during_build_done_ms": res["click_during_build"]["done_ms"],
        "click_during_build_status": res["click_during_build"]["status"],
        "build_done_after_cold_s": res["build_done_after_cold_s"],
        "server_cpu_s_at_cold": res["server_cpu_s_at_cold"],
        "slider_shown": bb.summary([s["shown_ms"] for s in res["slider"]]),
        "slider_done": bb.summary([s["done_ms"] for s in res["slider"]]),
        "click_shown": bb.summary([c["shown_ms"] for c in res["clicks"]]),
        "click_done": bb.summary([c["done_ms"] for c in res["clicks"]]),
        "peak_rss_gib": res["rss"]["hwm_mib"] / 1024, "rss_end_gib": res["rss"]["rss_mib"] / 1024,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=1, default=str))
    print(json.dumps(res["summary"], indent=1))
    print("load", res["load"], "cpus", os.cpu_count())
    return 0


if __name__ == "__main__":
    sys.exit(main())
