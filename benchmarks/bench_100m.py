"""The issue-18 table: one large file, every tool side by side, each task in a new process.

    python benchmarks/bench_100m.py /work/bench-data/100m_2.parquet                 # every task
    python benchmarks/bench_100m.py FILE --tasks duckdb,sklearn --repeat 3
    python benchmarks/bench_100m.py FILE --tasks mllib,spark --timeout 2400           # in the background

Tasks (each its own process; wall time, CPU time and peak RSS from ``wait4``; the JVM's CPU and
peak RSS from ``/proc`` where Spark runs, since the JVM is a grandchild ``wait4`` does not see):

* ``memory``: ``evaldash report FILE --json --engine memory`` under an address-space cap
  (``RLIMIT_AS``, ``--memory-cap`` GiB) so that its failure cannot take the machine's memory;
* ``duckdb``: ``evaldash report FILE --json --engine duckdb`` (default ``--memory-limit``);
* ``spark``: the same with ``--engine spark`` (local[*], bound to 127.0.0.1), in-process so that
  the JVM can be measured;
* ``sklearn``: the labels and scores read with pyarrow (two columns), then ``roc_auc_score`` and
  ``average_precision_score`` per class, ``precision_recall_fscore_support``, ``confusion_matrix``
  and ``log_loss`` (under the same cap);
* ``mllib``: Spark MLlib's ``BinaryClassificationMetrics`` (binary: areaUnderROC, areaUnderPR)
  and ``MulticlassMetrics`` (confusion matrix, per-class precision/recall/F1), built on the
  Parquet DataFrame on the JVM side (no Python rows).

Every task prints its figures as JSON; the numbers of duckdb, spark, memory and mllib are
compared with scikit-learn's (1e-9) where both ran. MLlib's ``areaUnderPR`` interpolates the PR
curve linearly (trapezoids between the curve's points, starting at recall 0 with the first
point's precision): it is not scikit-learn's average precision (a step-wise sum), so it is
reported beside AP, not compared with it; its areaUnderROC is compared. Results go to ``--json`` (default ``/work/bench-data/bench_100m.json``), appended.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
GIB = 1 << 30
TASKS = ("duckdb", "sklearn", "memory", "mllib", "spark")


# --- the tasks (run in a child: python bench_100m.py FILE --run TASK) ---------------------------

def _columns(path: str):
    import pyarrow.parquet as pq

    names = pq.ParquetFile(path).schema_arrow.names
    scores = [c for c in names if c.startswith("score_")] or ["score"]
    return scores


def task_evaldash(path: str, engine: str) -> dict:
    import contextlib
    import io

    from evaldash.cli import main

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        code = main(["report", path, "--json", "--engine", engine])
    if code:  # evaldash said why on stderr (e.g. out of memory): that is the result
        raise SystemExit(code)
    out = {"code": code, "report": json.loads(buf.getvalue())}
    if engine == "spark":
        out["jvm"] = _jvm_usage()
    return out


def _jvm_usage() -> dict:
    """CPU seconds and peak RSS of this process's JVM (Spark's driver and local executors)."""
    from pyspark.sql import SparkSession

    spark = SparkSession.getActiveSession()
    pid = int(spark.sparkContext._jvm.java.lang.ProcessHandle.current().pid())
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    cpu = (int(stat[11]) + int(stat[12])) / tick
    hwm = next(int(line.split()[1]) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
               if line.startswith("VmHWM"))
    return {"cpu_s": cpu, "peak_rss_mib": hwm / 1024}


def task_sklearn(path: str) -> dict:
    """scikit-learn on the label and score columns; a metric that does not fit in the address
    space given is recorded as failed (``failed``: its name and the error), the others still run."""
    import gc

    import numpy as np
    import pyarrow.parquet as pq
    from sklearn import metrics as skm

    t0 = time.perf_counter()
    scores = _columns(path)
    y = pq.read_table(path, columns=["label"])["label"].to_numpy().astype(np.int8)
    out = {"failed": {}}

    def attempt(name, compute):
        try:
            out[name] = compute()
        except MemoryError as exc:
            out["failed"][name] = str(exc)[:120]
        gc.collect()

    def column(c: str) -> np.ndarray:
        return pq.read_table(path, columns=[c])[c].to_numpy()

    if scores == ["score"]:  # one column: as lean as it goes (int8 labels, one score array, 1-D log loss)
        s1 = column("score")
        pred = (s1 >= 0.5).astype(np.int8)
        attempt("log_loss", lambda: skm.log_loss(y, s1))
        attempt("roc_auc", lambda: [skm.roc_auc_score(y == 0, 1.0 - s1), skm.roc_auc_score(y, s1)])
        attempt("average_precision", lambda: [skm.average_precision_score(y == 0, 1.0 - s1),
                                              skm.average_precision_score(y, s1)])
        del s1
    else:  # one column at a time, then the matrix for argmax and log loss
        k = len(scores)
        auc, ap = [], []
        for c in range(k):
            s = column(scores[c])
            auc.append(skm.roc_auc_score(y == c, s))
            ap.append(skm.average_precision_score(y == c, s))
            del s
            gc.collect()
        out.update(roc_auc=auc, average_precision=ap)
        proba = np.column_stack([column(c) for c in scores])
        pred = proba.argmax(axis=1)
        attempt("log_loss", lambda: skm.log_loss(y, proba))
        del proba
    p, r, f, support = skm.precision_recall_fscore_support(y, pred, zero_division=0)
    out.update(precision=p.tolist(), recall=r.tolist(), f1=f.tolist(), support=support.tolist(),
               confusion=skm.confusion_matrix(y, pred).tolist(), seconds=time.perf_counter() - t0)
    return out


def task_mllib(path: str) -> dict:
    from pyspark.mllib.common import JavaModelWrapper
    from pyspark.mllib.evaluation import BinaryClassificationMetrics, MulticlassMetrics
    from pyspark.sql import functions as F

    from evaldash.engines.spark_engine import loopback_session

    spark = loopback_session()
    jvm = spark.sparkContext._jvm
    scores = _columns(path)
    df = spark.read.parquet(path)
    label = F.col("label").cast("double")
    out = {}
    if scores == ["score"]:
        s = F.col("score").cast("double")
        t0 = time.perf_counter()
        binary = jvm.org.apache.spark.mllib.evaluation.BinaryClassificationMetrics(df.select(s, label)._jdf)
        m = BinaryClassificationMetrics.__new__(BinaryClassificationMetrics)
        JavaModelWrapper.__init__(m, binary)
        out.update(roc_auc=m.areaUnderROC, area_under_pr=m.areaUnderPR, binary_s=time.perf_counter() - t0)
        pred = F.when(s >= 0.5, 1.0).otherwise(0.0)
    else:
        k = len(scores)
        top = F.greatest(*[F.col(c) for c in scores])
        pred = F.lit(float(k - 1))
        for c in reversed(range(k - 1)):  # the first class of highest score, as np.argmax
            pred = F.when(F.col(scores[c]) == top, float(c)).otherwise(pred)
    t0 = time.perf_counter()
    multi = jvm.org.apache.spark.mllib.evaluation.MulticlassMetrics(df.select(pred.alias("p"), label)._jdf)
    mm = MulticlassMetrics.__new__(MulticlassMetrics)
    JavaModelWrapper.__init__(mm, multi)
    labels = sorted(float(v) for v in mm.call("labels"))
    out.update(confusion=mm.confusionMatrix().toArray().astype(int).tolist(), accuracy=mm.accuracy,
               precision=[mm.precision(v) for v in labels], recall=[mm.recall(v) for v in labels],
               f1=[mm.fMeasure(v) for v in labels], multiclass_s=time.perf_counter() - t0)
    out["jvm"] = _jvm_usage()
    return out


def run_task(task: str, path: str) -> dict:
    if task in ("duckdb", "memory", "spark"):
        return task_evaldash(path, task)
    return {"sklearn": task_sklearn, "mllib": task_mllib}[task](path)


# --- the parent: measure each task in a new process -----------------------------------------

def measured(task: str, path: str, cap: float | None, timeout: float | None) -> dict:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), SPARK_LOCAL_IP="127.0.0.1", PYTHONWARNINGS="ignore")
    if task in ("spark", "mllib"):  # Spark gets the DuckDB target's budget: a 3 GB driver heap
        env.setdefault("PYSPARK_SUBMIT_ARGS", "--driver-memory 3g pyspark-shell")
    cmd = [sys.executable, str(Path(__file__).resolve()), path, "--run", task]
    limit_bytes = int(cap * GIB) if cap and task in ("memory", "sklearn") else None

    def limit():
        if limit_bytes:
            resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))

    load0 = os.getloadavg()
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, preexec_fn=limit,
                            start_new_session=True)
    timer = threading.Timer(timeout, lambda: os.killpg(proc.pid, 9)) if timeout else None
    if timer:
        timer.start()
    out_chunks, err_chunks = [], []
    t_out = threading.Thread(target=lambda: out_chunks.append(proc.stdout.read()))
    t_err = threading.Thread(target=lambda: err_chunks.append(proc.stderr.read()))
    t_out.start(), t_err.start()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if timer:
        timer.cancel()
    t_out.join(), t_err.join()
    code = os.waitstatus_to_exitcode(status)
    err = err_chunks[0].decode(errors="replace").strip().splitlines()
    r = {"task": task, "file": Path(path).name, "wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
         "peak_rss_mib": usage.ru_maxrss / 1024, "code": code, "load_before": load0, "load_after": os.getloadavg(),
         "cap_gib": limit_bytes and limit_bytes / GIB, "timeout_s": timeout,
         "error": "" if code == 0 else ("timed out" if code == -9 else " | ".join(err[-4:])[:600])}
    if code == 0:
        r["result"] = json.loads(out_chunks[0].decode().strip().splitlines()[-1])
    return r


def close(a, b, tol=1e-9) -> bool:
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


def compare(sk: dict, r: dict) -> list[str]:
    """Differences of a run's numbers from scikit-learn's (empty: the same within 1e-9)."""
    diffs = []
    res = r["result"]
    if r["task"] == "mllib":
        pos = len(sk["roc_auc"]) - 1
        if "roc_auc" in res and not close(res["roc_auc"], sk["roc_auc"][pos]):
            diffs.append(f"roc_auc {res['roc_auc']} vs {sk['roc_auc'][pos]}")
        got = {"precision": res["precision"], "recall": res["recall"], "f1": res["f1"], "confusion": res["confusion"]}
    else:
        rep = res["report"]
        per = rep["per_class"]
        names = list(per)
        got = {name: [per[c][key] for c in names] for name, key in
               (("precision", "precision"), ("recall", "recall"), ("f1", "f1"), ("roc_auc", "roc_auc"),
                ("average_precision", "average_precision"))}
        got["confusion"] = rep["confusion_matrix"]
        got["log_loss"] = rep["calibration"]["log_loss"]
    for key, value in got.items():
        if key not in sk:  # scikit-learn could not compute it here (memory)
            continue
        want = sk[key]
        if value is None:
            continue
        if isinstance(want, list):
            flat_a = json.dumps(value) if key == "confusion" else None
            if key == "confusion":
                if [[int(x) for x in row] for row in value] != want:
                    diffs.append(f"confusion {flat_a}")
            elif len(value) != len(want) or not all(close(float(a), float(b)) for a, b in zip(value, want)):
                diffs.append(f"{key} {value[:3]} vs {want[:3]}")
        elif not close(float(value), float(want)):
            diffs.append(f"{key} {value} vs {want}")
    return diffs


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("file")
    p.add_argument("--run", help=argparse.SUPPRESS)
    p.add_argument("--tasks", default=",".join(TASKS))
    p.add_argument("--repeat", type=int, default=1, help="runs of duckdb and sklearn (the others run once)")
    p.add_argument("--memory-cap", type=float, default=10.0, help="GiB of address space for memory and sklearn")
    p.add_argument("--timeout", type=float, default=None, help="seconds before a task is killed")
    p.add_argument("--json", type=Path, default=Path("/work/bench-data/bench_100m.json"))
    p.add_argument("--compare-json", action="store_true", help="only compare the runs already in --json")
    args = p.parse_args(argv)
    if args.compare_json:
        return compare_json(args.json)
    if args.run:
        print(json.dumps(run_task(args.run, args.file)))
        return 0
    runs = []
    for task in args.tasks.split(","):
        for i in range(args.repeat if task in ("duckdb", "sklearn") else 1):
            r = measured(task, args.file, args.memory_cap, args.timeout)
            runs.append(r)
            print(f"{r['file']} {task:<8} {r['wall_s']:8.1f} s wall {r['cpu_s']:8.1f} s CPU {r['peak_rss_mib']:7.0f} MiB "
                  f"load {r['load_before'][0]:.1f}->{r['load_after'][0]:.1f} "
                  f"{'ok' if r['code'] == 0 else 'FAILED ' + r['error']}"
                  + (f" jvm {r['result']['jvm']}" if r["code"] == 0 and "jvm" in r.get("result", {}) else ""),
                  flush=True)
    sk = next((r["result"] for r in runs if r["task"] == "sklearn" and r["code"] == 0), None)
    if sk is not None:
        for r in runs:
            if r["code"] == 0 and r["task"] != "sklearn":
                r["differences_from_sklearn"] = compare(sk, r)
                print(f"{r['task']}: {'same numbers as scikit-learn (1e-9)' if not r['differences_from_sklearn'] else r['differences_from_sklearn']}")
    old = json.loads(args.json.read_text()) if args.json.exists() else []
    args.json.write_text(json.dumps(old + runs, indent=1, default=str))
    return 0


def compare_json(path: Path) -> int:
    """Compare every run in a results file with the scikit-learn run on the same file (tasks may
    have run in separate invocations)."""
    runs = json.loads(path.read_text())
    for r in runs:
        if r["code"] != 0 or r["task"] == "sklearn":
            continue
        sk = next((x["result"] for x in runs if x["task"] == "sklearn" and x["code"] == 0 and x["file"] == r["file"]),
                  None)
        if sk is None or ("report" not in r["result"] and r["task"] != "mllib"):
            continue
        diffs = compare(sk, r)
        print(f"{r['file']} {r['task']}: {'same numbers as scikit-learn (1e-9)' if not diffs else diffs}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
