"""A long page query and another query at the same time on one DuckDB evaluation (issue 18).

A cell's page read over the whole file (no sorted cell table yet) starts in a thread; half a second
later the evaluation's engine is asked a small query, as another session's slider would be. Prints
how long each took: before page connections (``engines/page_connections.py``) the small query
waited for the page to end.

    PYTHONPATH=src python benchmarks/bench_page_connections.py /work/bench-data/100m_2.parquet
    PYTHONPATH=/path/to/older/src python benchmarks/bench_page_connections.py FILE   # before
"""

from __future__ import annotations

import argparse
import threading
import time

from evaldash.engines import evaluate_file, open_engine


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("file")
    ap.add_argument("--cell", default="1,0", help="true,pred of the cell whose first page is read")
    args = ap.parse_args()
    true, pred = (int(x) for x in args.cell.split(","))
    t0 = time.perf_counter()
    e = evaluate_file(open_engine("duckdb"), args.file)
    print(f"open: {time.perf_counter() - t0:.1f} s, {e.dataset.n:,} rows", flush=True)
    rows = e.cell_samples(true, pred)
    took = []

    def page() -> None:
        start = time.perf_counter()
        rows[0:24]
        took.append(time.perf_counter() - start)
    reading = threading.Thread(target=page)
    reading.start()
    time.sleep(0.5)
    start = time.perf_counter()
    e.engine.row("SELECT COUNT(*) AS n FROM ev_rows WHERE ev_rn < 10")
    other = time.perf_counter() - start
    reading.join()
    print(f"page over the file: {took[0]:.2f} s; another query asked 0.5 s into it: {other:.3f} s")


if __name__ == "__main__":
    main()
