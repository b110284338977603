"""Browser latencies of the small things at a million predictions (issue 14): a cell's gallery, the
Details dialog, and its Previous / Next, in headless Chromium with the harness of ``bench_browser.py``.

1. **cell gallery**: on ``/confusion``, click a cell until its gallery shows ``<n> images`` (n from
   the file) and the app is idle with every image decoded (``bench_browser.click_cell``: its
   probe, its "shown" and "done");
2. **details open**: click the gallery's ``Details`` button of a thumbnail until the dialog shows
   the sample's picture (decoded), its facts table with its id and its scores ("shown"), and
   the app is idle for ``QUIET_MS`` ("done"); then Escape closes it;
3. **details next**: in the open dialog, click ``Next`` until the facts name the next sample.

Times are taken in the page: the click's ``pointerdown`` is stamped with ``performance.now()``,
and a ``requestAnimationFrame`` loop stamps the first frame at which the state is on screen.
Medians and p95 over ``--repeat`` interactions after ``WARMUP`` untimed ones.

    python benchmarks/bench_details.py                        # 1m10, the commit HEAD
    python benchmarks/bench_details.py --ref worktree --repeat 5
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_browser as bb  # noqa: E402 - the shared harness

DIALOG = '[data-testid="stDialog"]'

# resolves with {shown, done} (ms after the pointerdown) once ``ready(dialog)`` holds in a frame,
# then the app is idle (as bench_browser's "done": connected, no run, nothing stale) for quiet ms
WATCH_JS = """([readyBody, quiet]) => { window.__detailsDone = new Promise((resolve, reject) => {
    const ready = new Function("dialog", readyBody);
    let t0 = null, shown = null, calm = null, opened = null, pictured = null;
    const start = performance.now();
    window.addEventListener("pointerdown", () => { if (t0 === null) t0 = performance.now(); },
                            {capture: true, once: true});
    window.__detailsArmed = true;
    const idle = () => {
        const app = document.querySelector('[data-testid="stApp"]');
        return app && app.getAttribute("data-test-connection-state") === "CONNECTED"
            && app.getAttribute("data-test-script-state") !== "running"
            && !document.querySelector('[data-testid="stStatusWidget"]')
            && !document.querySelector('[data-stale="true"]');
    };
    const frame = () => {
        const now = performance.now();
        if (now - start > 60000) return reject(new Error("not shown within 60 s"));
        if (t0 !== null) {
            const dialog = document.querySelector('[data-testid="stDialog"]');
            const facts = dialog && dialog.querySelector('[class*="st-key-detail_facts_' + window.__detailsWant + '"]');
            if (facts && opened === null) opened = now;  // the sample's elements are in the page
            const img = dialog && dialog.querySelector('[data-testid="stImage"] img');
            if (facts && img && img.complete && img.naturalWidth > 0 && pictured === null) pictured = now;
            const ok = dialog && ready(dialog);
            if (ok && shown === null) shown = now;
            if (shown !== null) {
                if (ok && idle()) { calm = calm ?? now; if (now - calm >= quiet) return resolve({shown: shown - t0, done: calm - t0, facts: opened - t0,
                                                                picture: pictured - t0}); }
                else calm = null;
            }
        }
        requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
}); }"""

# the dialog shows the sample ``want``: its picture decoded, its facts and its scores
READY_BODY = """
    const want = window.__detailsWant;
    const img = dialog.querySelector('[data-testid="stImage"] img');
    const facts = dialog.querySelector('[class*="st-key-detail_facts_"]');
    const scores = dialog.querySelector('[class*="st-key-detail_scores_"]');
    return Boolean(img && img.complete && img.naturalWidth > 0 && facts && scores
                   && facts.className.includes("st-key-detail_facts_" + want));
"""


def watch(page, row: int) -> None:
    """Arm the watch for the dialog of row ``row`` (:func:`result` waits for it after the click)."""
    page.evaluate("r => { window.__detailsWant = String(r); }", row)
    page.evaluate(WATCH_JS, [READY_BODY, bb.QUIET_MS])


def result(page) -> dict:
    return page.evaluate("() => window.__detailsDone")


def details_rows(page) -> list[int]:
    """The rows of the gallery's Details buttons, in order (their keys are ``cell_detail_<row>``)."""
    keys = page.locator('.st-key-cell_gallery [class*="st-key-cell_detail_"]').evaluate_all(
        "els => els.map(e => [...e.classList].find(c => c.startsWith('st-key-cell_detail_')))")
    return [int(k.rsplit("_", 1)[1]) for k in keys]


def open_details(page, index: int) -> tuple[dict, int]:
    rows = details_rows(page)
    row = rows[index % len(rows)]
    button = page.locator(f".st-key-cell_detail_{row}").get_by_role("button")
    button.scroll_into_view_if_needed()
    watch(page, row)
    button.click()
    return result(page), row


def next_details(page, row: int, rows: list[int]) -> dict | None:
    if not page.locator(DIALOG).get_by_role("button", name="Next").count():
        return None  # a version without Previous / Next
    following = rows[(rows.index(row) + 1) % len(rows)]
    watch(page, following)
    page.locator(DIALOG).get_by_role("button", name="Next").click()
    return result(page)


def close_dialog(page) -> None:
    page.keyboard.press("Escape")
    page.locator(DIALOG).wait_for(state="detached")
    bb.wait_idle(page)


def run(browser, server: bb.Server, expected: dict, repeat: int) -> dict:
    context, page = bb.new_page(browser)
    page.goto(server.url + "/confusion")
    page.locator(bb.MATRIX).first.wait_for()
    bb.wait_idle(page)
    labels = [str(x) for x in page.evaluate(bb.CELL_DATA_JS)["x"]]
    out = {"cell_gallery": [], "details_open": [], "details_next": [], "details_parts": []}
    for r, (i, j) in enumerate(bb.pick_cells(labels, expected, bb.WARMUP + repeat)):
        n = expected[(labels[i], labels[j])]
        cell = bb.click_cell(page, i, j, f"True {labels[i]} → predicted {labels[j]}", n)
        opened, row = open_details(page, r)
        after = next_details(page, row, details_rows(page))
        close_dialog(page)
        if r >= bb.WARMUP:
            out["cell_gallery"].append(cell["shown_ms"])
            out["details_open"].append(opened["shown"])
            out["details_parts"].append({k: opened.get(k) for k in ("facts", "picture", "shown", "done")})
            if after is not None:
                out["details_next"].append(after["shown"])
            bb.log(f"cell {cell['shown_ms']:.0f} ms · details {opened['shown']:.0f} ms (done {opened['done']:.0f})"
                   + (f" · next {after['shown']:.0f} ms" if after is not None else ""))
    context.close()
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--preset", default="1m10", choices=sorted(bb.PRESETS))
    p.add_argument("--repeat", type=int, default=10)
    p.add_argument("--ref", default="HEAD", help="a git commit (default HEAD), or 'worktree'")
    p.add_argument("--json", type=Path, default=bb.DATA / "details_results.json")
    args = p.parse_args()
    from playwright.sync_api import sync_playwright

    if args.ref != "worktree":
        bb.APP_DIR, version = bb.snapshot(args.ref)
    else:
        version = bb.machine()["commit"] + " + working tree"
    path = bb.PRESETS[args.preset]["out"]
    if not path.exists():
        spec = dict(bb.PRESETS[args.preset])
        bb.generate(spec.pop("out"), **spec)
    expected = bb.expected_confusion(path)
    folder = Path(tempfile.mkdtemp(prefix="bench_details_"))
    server = bb.Server("app.py", [str(path)], "details", folder,
                       env_extra={"EVALDASH_DB": str(folder / "annotations.db")})
    try:
        server.wait_ready()
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=bb.CHROMIUM, args=bb.CHROMIUM_ARGS, headless=True)
            # the first view loads the file and precomputes: not timed
            context, page = bb.new_page(browser)
            bb.open_threshold(page, server.url + "/threshold", 300)
            context.close()
            samples = run(browser, server, expected, args.repeat)
            browser.close()
    finally:
        server.stop()
    res = {"preset": args.preset, "version": version, "repeat": args.repeat, "machine": bb.machine(),
           "summary": {k: bb.summary(v) for k, v in samples.items() if k != "details_parts"}, "samples": samples, "console": bb.CONSOLE}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(res, indent=1, default=str))
    for name, s in res["summary"].items():
        if s["n"]:
            print(f"{name}: median {s['median']:.0f} ms, p95 {s['p95']:.0f} ms (n={s['n']})")
    print(json.dumps(res["machine"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
