"""The concept matrix (``/confusion`` on a multi-label file) at 1M rows × 100 concepts, in headless
Chromium (issue 16, "Speed").

It reuses ``bench_browser.py``'s machinery (the server, the in-page probe, ``settle``): the app is
served from a snapshot of a commit (``--ref``, default HEAD) with ``streamlit run app.py -- FILE``.

1. **first view, cold**: a new server; a browser opens ``/confusion`` until the matrix's cells are
   drawn (``.cm-cell`` in the grid component) and the app is idle: reading the 1 GB file,
   evaluating it, the concept matrix and the page. Then **first view, cached**: a new browser
   session on that server, ``--repeat`` times.
2. The first view is checked readable: at most 21 rows (the 20 most confused concepts and
   "(no label)") with numbers in the cells, and the counts equal the core's
   (``MultilabelEvaluation.concept_counts``, computed here).
3. **cell click**: click an off-diagonal cell (a different one each time, largest counts first)
   until its gallery shows the heading ``True X → predicted Y`` and the caption ``<n> images``
   with n the cell's count; two untimed warm-up clicks, then ``--repeat`` timed ones.
4. The server's **peak RSS** (``VmHWM`` of the server process) and the RSS of it and its children
   at the end; the load average at each step.

    python benchmarks/generate.py --preset 1m100ml
    python benchmarks/bench_concepts_browser.py --repeat 7
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import bench_browser as bb  # noqa: E402
from generate import PRESETS  # noqa: E402

CELLS_JS = """() => window.__bench.deep('.st-key-confusion_matrix', '.cm-cell').map(c => [
    Number(c.dataset.true), Number(c.dataset.pred), c.dataset.trueName, c.dataset.predName,
    Number(((c.getAttribute('aria-label') || '').match(/([0-9,]+) samples$/) || [0, 'NaN'])[1].replace(/,/g, '')),
    c.textContent.trim() !== ''])"""


def core_counts(path: Path) -> tuple[tuple[str, ...], np.ndarray]:
    """The concept names (with "(no label)" / "(no prediction)") and the core's matrix counts."""
    sys.path.insert(0, str(bb.APP_DIR / "src"))
    from evaldash.tasks import evaluate_dataset, load_dataset

    ev = evaluate_dataset(load_dataset(path))
    return ev.classes, ev.concept_counts


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", default="1m100ml")
    p.add_argument("--repeat", type=int, default=7)
    p.add_argument("--ref", default="HEAD")
    p.add_argument("--out", type=Path, default=bb.DATA / "concepts_browser_results.json")
    args = p.parse_args()
    from playwright.sync_api import sync_playwright

    bb.APP_DIR, sha = bb.snapshot(args.ref)
    path = PRESETS[args.preset]["out"]
    if not path.exists():
        raise SystemExit(f"{path} is missing: python benchmarks/generate.py --preset {args.preset}")
    res = {"file": path.name, "version": sha, "machine": bb.machine(), "load": {"start": bb.loadavg()}}
    upload_dir = Path(tempfile.mkdtemp(prefix="bench_uploads_"))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=bb.CHROMIUM, args=bb.CHROMIUM_ARGS, headless=True)
        server = bb.Server("app.py", [str(path)], f"{args.preset}_concepts", upload_dir)
        try:
            server.wait_ready()
            ctx, page, cold = bb.load(browser, server.url + "/confusion", "confusion", {}, 600)
            res["cold_ms"] = cold["shown_ms"]
            res["load"]["after cold"] = bb.loadavg()
            bb.log(f"first view, cold: {cold['shown_ms']:.0f} ms")
            ctx.close()
            cached = []
            for _ in range(args.repeat):
                ctx, page, r = bb.load(browser, server.url + "/confusion", "confusion", {}, 300)
                cached.append(r["shown_ms"])
                ctx.close()
            res["cached_ms"] = cached
            bb.log(f"first view, cached: {bb.summary(cached)}")

            classes, counts = core_counts(path)
            k = len(classes)
            names = [*classes, "(no label)"]
            ctx, page = bb.new_page(browser)
            page.goto(server.url + "/confusion")
            page.locator(bb.MATRIX).first.wait_for(timeout=300_000)
            bb.wait_idle(page, 300)
            cells = page.evaluate(CELLS_JS)
            rows = sorted({c[2] for c in cells}, key=names.index)
            res["shown_rows"], res["numbers_in_cells"] = len(rows), all(c[5] for c in cells)
            wrong = [c for c in cells if counts[names.index(c[2]), [*classes, "(no prediction)"].index(c[3])] != c[4]]
            assert not wrong, f"the grid's counts differ from the core's: {wrong[:5]}"
            offdiag = sorted((c for c in cells if c[2] != c[3] and c[4] > 0), key=lambda c: -c[4])
            clicks = []
            for r, (i, j, true, pred, n, _) in enumerate(offdiag[:bb.WARMUP + args.repeat]):
                t = bb.click_cell(page, i, j, f"True {true} → predicted {pred}", n)
                t["cell"], t["load"] = [true, pred, n], bb.loadavg()
                if r >= bb.WARMUP:
                    clicks.append(t)
                    bb.log(f"click {true} → {pred} ({n:,}): shown {t['shown_ms']:.0f} ms, done {t['done_ms']:.0f} ms")
            ctx.close()
            res["clicks"] = clicks
            res["rss"] = server.rss()
            res["load"]["end"] = bb.loadavg()
        finally:
            server.stop()
        browser.close()
    res["k"] = k
    res["summary"] = {"cold_ms": res["cold_ms"], "cached": bb.summary(cached),
                      "click_shown": bb.summary([c["shown_ms"] for c in clicks]),
                      "click_done": bb.summary([c["done_ms"] for c in clicks]),
                      "peak_rss_gib": res["rss"]["hwm_mib"] / 1024, "rss_end_gib": res["rss"]["rss_mib"] / 1024,
                      "shown_rows": res["shown_rows"], "numbers_in_cells": res["numbers_in_cells"]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=1, default=str))
    print(json.dumps(res["summary"], indent=1))
    print("load", res["load"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
