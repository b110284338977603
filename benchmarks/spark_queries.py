"""Where the Spark engine's report spends its time: every query timed (issue 18).

    PYSPARK_SUBMIT_ARGS="--driver-memory 3g pyspark-shell" PYTHONPATH=src \\
        python benchmarks/spark_queries.py /work/bench-data/10m_2.parquet [REPORT.json]

Runs ``evaldash report FILE --json --engine spark`` in this process (local[*], bound to
127.0.0.1) with each engine query timed; prints one line per query (wall seconds, the JVM's CPU seconds in it, kind, the SQL's
start) on stderr as it ends, so a run killed at a timeout still shows where it was, then the
wall time, the JVM's CPU seconds and peak RSS (from ``/proc``: the JVM is a child that ``wait4``
of this process does not count) and this process's own. The Spark UI is off (it would listen on
the network); the timings per query are what it would show.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import resource
import sys
import time
from pathlib import Path

os.environ["SPARK_LOCAL_IP"] = "127.0.0.1"


def timed(cls, name: str, log: list) -> None:
    original = getattr(cls, name)

    def run(self, query, *args, **kwargs):
        start, cpu = time.perf_counter(), jvm_cpu()
        try:
            return original(self, query, *args, **kwargs)
        finally:
            seconds, cpu_s = time.perf_counter() - start, jvm_cpu() - cpu
            text = " ".join(str(query).split())
            log.append((seconds, name, text))
            print(f"{seconds:8.2f}s {cpu_s:8.2f} JVM CPU s {name} {text[:220]}", file=sys.stderr, flush=True)
    setattr(cls, name, run)


def jvm_cpu() -> float:
    """The JVM's CPU seconds so far (user + system, from ``/proc``)."""
    from pyspark.sql import SparkSession

    spark = SparkSession.getActiveSession()
    pid = int(spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid())
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")


def jvm_usage() -> dict:
    from pyspark.sql import SparkSession

    spark = SparkSession.getActiveSession()
    pid = int(spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid())
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
    hwm = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
               if line.startswith("VmHWM"))
    return {"jvm_cpu_s": cpu, "jvm_peak_rss_mib": hwm / 1024}


def main(argv: list[str]) -> int:
    from evaldash.cli import main as evaldash
    from evaldash.engines.spark_engine import SparkEngine

    log: list = []
    for name in ("frame", "row", "execute"):
        timed(SparkEngine, name, log)
    start = time.perf_counter()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = evaldash(["report", argv[0], "--json", "--engine", "spark"])
    figures = {"code": code, "wall_s": time.perf_counter() - start, **jvm_usage(),
               "python_cpu_s": time.process_time(),
               "python_peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
               "queries": len(log), "query_s": sum(s for s, _, _ in log), "load_after": os.getloadavg()}
    print(json.dumps(figures), file=sys.stderr)
    if len(argv) > 1:
        Path(argv[1]).write_text(out.getvalue())
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
