"""The opening steps of a multi-label file's first view on DuckDB, in-process: ``evaluate_path`` and
``precompute(background=True)`` with each step timed (wall and the process's CPU seconds, both
cores of DuckDB counted), then the work that follows the first view in the background until every
concept's exact summary and the micro average are there, and the 1-minute load.

    python benchmarks/generate.py --multilabel --rows 1500000 --classes 12 --out /tmp/1p5m_12_ml.parquet
    PYTHONPATH=src python benchmarks/bench_multilabel_first_view.py /tmp/1p5m_12_ml.parquet
"""

from __future__ import annotations

import os
import sys
import time


def main(path: str) -> int:
    from evaldash.engines import open_engine
    from evaldash.engines.multilabel_evaluation import evaluate_path

    t0, c0 = time.perf_counter(), time.process_time()
    last = [t0, c0, "open + validate"]
    rows = []

    def step(text: str) -> None:
        now, cpu = time.perf_counter(), time.process_time()
        rows.append((last[2], now - last[0], cpu - last[1]))
        last[:] = [now, cpu, text]

    print(f"load before: {os.getloadavg()[0]:.2f}", flush=True)
    e = evaluate_path(open_engine("duckdb"), path)
    e.precompute(background=True, progress=step)
    step("")
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    for text, w, c in rows:
        print(f"{w:7.2f} s {c:7.2f} CPU s  {text}")
    print(f"first view ready: {wall:.2f} s wall, {cpu:.2f} CPU s, load {os.getloadavg()[0]:.2f}", flush=True)
    d = e.dataset
    while not (all(("summary", c) in e._memo for c in range(d.n_classes)) and "micro" in e._memo):
        time.sleep(0.05)
    print(f"every concept's summary and the micro average: {time.perf_counter() - t0:.2f} s wall, "
          f"{time.process_time() - c0:.2f} CPU s, load {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
