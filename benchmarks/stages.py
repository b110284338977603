"""Time and memory of each stage of ``evaldash report`` on one file, in one process.

Prints, after each stage, the seconds since start, the resident memory and the
peak so far, so that a regression can be pinned to loading, validation, the
sweeps or the report itself.

    python benchmarks/stages.py benchmarks/data/1m_10.parquet
    PYTHONPATH=benchmarks/data/src/<sha>/src python benchmarks/stages.py FILE   # a snapshot
"""

from __future__ import annotations

import resource
import sys
import time
from pathlib import Path

T0 = time.perf_counter()


def mark(stage: str) -> None:
    with open("/proc/self/statm") as fh:
        current = int(fh.read().split()[1]) * resource.getpagesize() / 2**20
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{time.perf_counter() - T0:7.2f} s  {stage:<22} RSS {current:6.0f} MiB  peak {peak:6.0f} MiB",
          flush=True)


def main(path: str) -> int:
    from evaldash import dataset, evaluation, io, report

    mark("imports")
    frame = io.read_table(path)
    mark("read_table")
    folder = Path(path).resolve().parent
    d = dataset.dataset_from_frame(frame, source=path, images_root=folder, base_dir=folder)
    del frame
    mark("dataset_from_frame")
    e = evaluation.evaluate(d)
    _ = e.confusion, e.per_class, e.averages
    mark("confusion, per class")
    if d.has_scores:
        for c in range(d.n_classes):
            e.sweep(c)
        mark(f"{d.n_classes} class sweeps")
    _ = e.ranking
    mark("ranking (AUC, AP)")
    _ = e.calibration, e.top_k()
    mark("calibration, top-k")
    text = report.report_json(e)
    mark(f"report_json ({len(text)} chars)")
    print(f"evaldash from {Path(evaluation.__file__).parent}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
