"""Interaction times of the dashboard's views on an engine (DuckDB): a cell's gallery page, a
Details row, the threshold slider at an off-grid value, the reduced sweep's build.

    python benchmarks/bench_engine_views.py /work/bench-data/10m_2.parquet [--memory-limit 2GB]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

from evaldash.engines import evaluate_file, open_engine


def timed(fn, repeat: int = 1):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, times


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("path")
    ap.add_argument("--memory-limit", default="2GB")
    ap.add_argument("--cls", type=int, default=None)
    ap.add_argument("--only-cells", action="store_true", help="skip the sweep and slider timings")
    args = ap.parse_args()
    engine = open_engine("duckdb", memory_limit=args.memory_limit)
    e, t = timed(lambda: evaluate_file(engine, args.path))
    print(f"open + validate: {t[0]:.2f} s ({e.dataset.n:,} rows)")
    d = e.dataset
    cls = (d.positive if d.positive is not None else 0) if args.cls is None else args.cls
    _, t = timed(lambda: e.counts)
    print(f"confusion counts: {t[0]:.2f} s")
    if not args.only_cells:
        sweep_views(e, cls)
    cell_pages(e, d, cls, "per-page query over the file")
    from evaldash.engines import cells

    _, t = timed(lambda: cells.build(e))
    print(f"precompute step {cells.STEP!r}: {t[0]:.2f} s; peak RSS so far "
          f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")
    e._memo.pop("pages", None)
    d.row_cache._rows.clear()
    cell_pages(e, d, cls, "sorted cell table")
    if not d.is_binary:
        _, t = timed(lambda: e.matrix("score"))
        print(f"mean-score matrix: {t[0]:.2f} s")
    _, t = timed(lambda: e.prefetch([123, d.n // 2 + 7, d.n - 1]), repeat=1)
    print(f"3 rows not cached (Details of another sample): {t[0]:.2f} s")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


def sweep_views(e, cls) -> None:
    _, t = timed(lambda: e.sweep_summary(cls))
    print(f"exact sweep summary (ROC AUC, AP) of class {cls}: {t[0]:.2f} s")
    s, t = timed(lambda: e.sweep(cls))
    print(f"reduced sweep build: {t[0]:.2f} s ({len(s.thresholds):,} cut points)")
    _, t = timed(lambda: e.class_curves(cls))
    print(f"curves from it: {t[0] * 1000:.0f} ms")
    _, t = timed(lambda: e.live_threshold(cls, 0.5))
    print(f"live_threshold on a slider position: {t[0] * 1000:.1f} ms")
    offs = [0.123456, 0.654321, 0.333333, 0.987654, 0.5000001]
    times = [timed(lambda v=v: e.live_threshold(cls, v))[1][0] for v in offs]
    print(f"live_threshold off the grid (engine counts it): median {statistics.median(times):.2f} s, "
          f"max {max(times):.2f} s")


def cell_pages(e, d, cls, how: str) -> None:
    """Pages 0, 1 and 100 of two cells, and their captions; the median of the first pages."""
    firsts = []
    for i, j in ((1 - cls, cls), (cls, 1 - cls)) if d.is_binary else ((1, cls), (cls, 2)):
        rows = e.cell_samples(i, j)
        for page in (0, 1, 100):
            _, t = timed(lambda: rows[page * 24:(page + 1) * 24])
            r = rows[page * 24:(page + 1) * 24]
            _, t2 = timed(lambda: [(d.ids[x], d.y_true[x], e.confidence[x], d.scores[x]) for x in r])
            if page != 1:
                firsts.append(t[0])
            print(f"[{how}] cell ({i}, {j}) of {len(rows):,}: page {page}: {t[0]:.3f} s; captions from the cache "
                  f"{t2[0] * 1000:.1f} ms")
    print(f"[{how}] cell click -> page (first pages and page 100): median {statistics.median(firsts):.3f} s, "
          f"max {max(firsts):.3f} s")

if __name__ == "__main__":
    main()
