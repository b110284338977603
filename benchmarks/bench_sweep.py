"""Micro-benchmark of the threshold sweep, the core of every ROC/PR number.

Compares ``evaldash.metrics.threshold_sweep`` (whatever version is imported)
with the first implementation (a stable argsort, then gathers and a cumulative
sum; commit e3c39b3), on real columns of the generated files, and checks that
both give identical thresholds, TP and FP arrays. Best of 3 runs.

    python benchmarks/bench_sweep.py
"""

from __future__ import annotations

import sys
import time

import numpy as np
import pyarrow.parquet as pq

from evaldash import metrics

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from generate import PRESETS, generate  # noqa: E402


def argsort_sweep(score: np.ndarray, positive: np.ndarray):
    """The reference: (thresholds, tp, fp) as the first ``threshold_sweep`` built them."""
    order = np.argsort(score, kind="stable")[::-1]
    s = score[order]
    y = positive[order]
    ends = np.concatenate([np.flatnonzero(np.diff(s)), [s.size - 1]])
    tps = np.cumsum(y, dtype=np.int64)[ends]
    return (np.concatenate([[np.inf], s[ends]]), np.concatenate([[0], tps]),
            np.concatenate([[0], ends + 1 - tps]))


def best_of(fn, *args, repeat: int = 3):
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best, out


def column(preset: str, names: list[str]) -> dict[str, np.ndarray]:
    spec = PRESETS[preset]
    if not spec["out"].exists():
        generate(spec["out"], spec["rows"], spec["classes"], "parquet", spec["single_score"])
    table = pq.read_table(spec["out"], columns=names)
    return {n: table[n].to_numpy() for n in names}


def main() -> int:
    cases = []
    multi = column("1m10", ["label"] + [f"score_{c}" for c in range(10)])
    y = multi["label"]
    cases.append(("1M x 10, one class (3)", multi["score_3"], y == 3))
    scores = np.column_stack([multi[f"score_{c}"] for c in range(10)])
    cases.append(("1M x 10, micro (10M values)", scores.ravel(), (np.arange(10) == y[:, None]).ravel()))
    binary = column("10m2", ["label", "score"])
    cases.append(("10M binary, positive class", binary["score"], binary["label"] == 1))

    print(f"{'case':<32} {'argsort (e3c39b3)':>18} {'evaldash now':>13} {'speed-up':>9}  identical")
    ok = True
    for name, score, positive in cases:
        t_ref, ref = best_of(argsort_sweep, score, positive)
        t_new, new = best_of(metrics.threshold_sweep, score, positive)
        same = all(np.array_equal(a, b) for a, b in zip(ref, (new.thresholds, new.tp, new.fp)))
        ok &= same
        print(f"{name:<32} {t_ref:>16.3f} s {t_new:>11.3f} s {t_ref / t_new:>8.1f}x  {'yes' if same else 'NO'}")
    print(f"evaldash.metrics from {metrics.__file__}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
