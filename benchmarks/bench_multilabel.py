"""Time ``evaldash report PATH --json`` on a multi-label file against the scikit-learn script a user
would write (``sklearn_multilabel.py``: per-class P/R/F1 at 0.5, per-class ROC AUC and AP, the
samples averages, subset accuracy, Hamming loss and LRAP).

Each run is a fresh subprocess (interpreter start, imports, reading the file and every metric
included; evaldash's report also computes everything else in it: micro/macro AUC and AP, Jaccard,
coverage error, ranking loss, the concept matrix and co-occurrence). The tools alternate within
each repetition (which one goes first swaps every repetition). Wall time, CPU time (user + system)
and peak RSS come from ``os.wait4`` of that one child. Before timing, the two outputs are compared
within 1e-9.

    python benchmarks/generate.py --preset 1m100ml
    python benchmarks/bench_multilabel.py --repeat 3
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
from generate import PRESETS, generate_multilabel  # noqa: E402

TOLERANCE = 1e-9


def run(cmd: list[str], env: dict) -> tuple[float, float, float, bytes]:
    """(wall seconds, CPU seconds, peak RSS in GB, stdout) of one child process."""
    with tempfile.TemporaryFile() as out:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        err = proc.stderr.read()
        proc.stderr.close()
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"{cmd} failed: {err.decode()[-2000:]}")
        out.seek(0)
        return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024 ** 2, out.read()


def check_same(ours: dict, theirs: dict) -> None:
    """The numbers both compute agree within TOLERANCE."""
    for name in theirs["precision"]:
        for metric in ("precision", "recall", "f1", "roc_auc", "average_precision"):
            a, b = ours["per_class"][name][metric], theirs[metric][name]
            assert abs(a - b) <= TOLERANCE, (name, metric, a, b)
    for metric in ("precision", "recall", "f1"):
        assert abs(ours["samples"][metric] - theirs["samples"][metric]) <= TOLERANCE, metric
    for metric in ("subset_accuracy", "hamming_loss", "label_ranking_average_precision"):
        assert abs(ours[metric] - theirs[metric]) <= TOLERANCE, metric


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--path", type=Path, default=PRESETS["1m100ml"]["out"])
    args = p.parse_args(argv)
    if not args.path.exists():
        spec = PRESETS["1m100ml"]
        print(generate_multilabel(args.path, spec["rows"], spec["classes"]))
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
    tools = {"evaldash": [sys.executable, "-m", "evaldash.cli", "report", str(args.path), "--json"],
             "scikit-learn": [sys.executable, str(HERE / "sklearn_multilabel.py"), str(args.path)]}
    results = {name: [] for name in tools}
    outputs = {}
    for rep in range(args.repeat):
        order = list(tools) if rep % 2 == 0 else list(tools)[::-1]
        for name in order:
            wall, cpu, rss, out = run(tools[name], env)
            results[name].append((wall, cpu, rss))
            outputs[name] = out
            print(f"repetition {rep + 1}: {name:<12} wall {wall:7.1f} s  cpu {cpu:7.1f} s  peak RSS {rss:.2f} GB",
                  flush=True)
        if rep == 0:
            check_same(json.loads(outputs["evaldash"]), json.loads(outputs["scikit-learn"]))
            print("outputs agree within", TOLERANCE, flush=True)
    med = {name: [statistics.median(r[i] for r in rows) for i in range(3)] for name, rows in results.items()}
    print(f"\nmachine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}, Python {platform.python_version()}")
    for name, (wall, cpu, rss) in med.items():
        print(f"median {name:<12} wall {wall:7.1f} s  cpu {cpu:7.1f} s  peak RSS {rss:.2f} GB")
    ours, theirs = med["evaldash"], med["scikit-learn"]
    print(f"ratio evaldash / scikit-learn: wall {ours[0] / theirs[0]:.2f}, cpu {ours[1] / theirs[1]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
