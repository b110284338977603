"""Time ``evaldash report PATH --json`` against the scikit-learn script a user would write.

Each run is a fresh subprocess (interpreter start, imports, reading the file and
every metric included). The tools alternate within each repetition (which one
goes first swaps every repetition) after one untimed warm-up run each, so page
cache and machine noise hit both alike. Peak memory is the child's maximum
resident set size from ``os.wait4`` (``getrusage`` of that one child).

A third, optional subprocess only reads the file with ``pd.read_parquet``: the
floor that neither tool can go under.

Before timing, the two outputs are compared: accuracy, macro F1 and per-class
ROC AUC (and average precision) must agree within 1e-9.

``--ref REF`` runs evaldash as of a git commit (an exported snapshot of
src/evaldash) instead of the installed working tree, which others may be
editing during the run; repeat it to compare versions in one run.

    python benchmarks/bench_report.py                       # 1m10 and 10m2, 5 repetitions
    python benchmarks/bench_report.py --presets 1m10,200k100,10m2 --repeat 7
    python benchmarks/bench_report.py --ref e0cea58 --ref HEAD
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from generate import DATA, PRESETS, generate  # noqa: E402

TOLERANCE = 1e-9
# preset: (max ratio ours/sklearn of median wall time, max peak RSS of ours in GB), from the issue
TARGETS = {"1m10": (1.0, 1.5), "10m2": (0.5, 3.0)}
READ_ONLY = "import sys, pandas as pd; pd.read_parquet(sys.argv[1])"


@dataclass
class Tool:
    name: str
    cmd: list[str]
    env: dict[str, str] | None = None
    is_ours: bool = False


def resolve(ref: str) -> str:
    """The short commit id of ``ref`` ('worktree' stays as it is)."""
    if ref == "worktree":
        return ref
    return subprocess.run(["git", "-C", str(HERE.parent), "rev-parse", "--short", ref],
                          capture_output=True, text=True, check=True).stdout.strip()


def snapshot(sha: str) -> Path:
    """Export ``src/evaldash`` at commit ``sha`` into benchmarks/data/src/<sha>; return its src dir.

    Others edit the working tree while a benchmark runs; a snapshot keeps every run on one version.
    """
    git = ["git", "-C", str(HERE.parent)]
    root = DATA / "src" / sha
    if not (root / "src" / "evaldash" / "cli.py").exists():
        root.mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(git + ["archive", sha, "src/evaldash"], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(root)], input=archive, check=True)
    return root / "src"


def evaldash_tools(refs: list[str], path: Path) -> list[Tool]:
    tools = []
    for ref in refs:
        if ref == "worktree":  # the installed (editable) package, as a user runs it
            exe = Path(sys.executable).parent / "evaldash"
            head = [str(exe)] if exe.exists() else [sys.executable, "-m", "evaldash.cli"]
            tools.append(Tool("evaldash", head + ["report", str(path), "--json"], is_ours=True))
            continue
        sha, src = ref, snapshot(ref)
        env = {**os.environ, "PYTHONPATH": str(src)}
        where = subprocess.run([sys.executable, "-c", "import evaldash; print(evaldash.__file__)"],
                               env=env, capture_output=True, text=True, check=True).stdout.strip()
        if not where.startswith(str(src)):
            raise SystemExit(f"the snapshot of {ref} is shadowed by {where}")
        tools.append(Tool(f"evaldash@{sha}", [sys.executable, "-m", "evaldash.cli", "report", str(path), "--json"],
                          env, is_ours=True))
    return tools


def tools_for(path: Path, refs: list[str], with_read: bool) -> list[Tool]:
    tools = evaldash_tools(refs, path)
    tools.append(Tool("sklearn", [sys.executable, str(HERE / "sklearn_report.py"), str(path)]))
    if with_read and path.suffix == ".parquet":
        tools.append(Tool("read_parquet", [sys.executable, "-c", READ_ONLY, str(path)]))
    return tools


def run(tool: Tool) -> tuple[float, float, float, str]:
    """Run ``tool``; return (wall seconds, CPU seconds, peak RSS in MiB, stdout). Raises on failure."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(tool.cmd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=tool.env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(tool.cmd)} exited {proc.returncode}: {err.read().decode()[-2000:]}")
        return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, out.read().decode()


def compare(ours: dict, theirs: dict) -> list[str]:
    """Differences larger than TOLERANCE between the two outputs (empty when they agree)."""
    problems = []

    def check(what: str, a, b) -> None:
        if a is None or b is None or abs(a - b) > TOLERANCE:
            problems.append(f"{what}: evaldash {a!r} vs sklearn {b!r}")

    check("n", ours["n"], theirs["n"])
    check("accuracy", ours["accuracy"], theirs["accuracy"])
    check("macro F1", ours["macro"]["f1"], theirs["macro_f1"])
    for c, auc in theirs["roc_auc"].items():
        check(f"ROC AUC of class {c}", ours["per_class"][c]["roc_auc"], auc)
        check(f"average precision of class {c}", ours["per_class"][c]["average_precision"],
              theirs["average_precision"][c])
    for c, f1 in theirs["f1"].items():
        check(f"F1 of class {c}", ours["per_class"][c]["f1"], f1)
    if ours["confusion_matrix"] != theirs["confusion_matrix"]:
        problems.append("confusion matrices differ")
    return problems


def bench(name: str, path: Path, refs: list[str], repeat: int, with_read: bool) -> list[dict]:
    """Benchmark every tool on ``path``; one result per evaldash version."""
    tools = tools_for(path, refs, with_read)
    print(f"\n== {name}: {path.name} ({path.stat().st_size / 1e6:.0f} MB)", flush=True)
    outputs = {t.name: run(t)[3] for t in tools if t.name != "read_parquet"}  # warm-up, untimed
    theirs = json.loads(outputs["sklearn"])
    agreement = {}
    for t in tools:
        if t.is_ours:
            problems = compare(json.loads(outputs[t.name]), theirs)
            agreement[t.name] = problems or "ok"
            print(f"agreement {t.name} vs sklearn:", "OK (accuracy, macro F1, per-class F1, ROC AUC, AP "
                  "within 1e-9; confusion equal)" if not problems else "; ".join(problems), flush=True)
    times: dict[str, list[float]] = {t.name: [] for t in tools}
    cpu: dict[str, list[float]] = {t.name: [] for t in tools}
    rss: dict[str, list[float]] = {t.name: [] for t in tools}
    for i in range(repeat):
        for t in (tools if i % 2 == 0 else tools[::-1]):
            wall, cpu_s, peak, _ = run(t)
            times[t.name].append(wall)
            cpu[t.name].append(cpu_s)
            rss[t.name].append(peak)
            print(f"  run {i + 1}/{repeat} {t.name:<18} {wall:7.2f} s wall {cpu_s:7.2f} s CPU {peak:7.0f} MiB",
                  flush=True)
    median = {k: statistics.median(v) for k, v in times.items()}
    median_cpu = {k: statistics.median(v) for k, v in cpu.items()}
    peak = {k: max(v) for k, v in rss.items()}
    results = []
    for t in tools:
        if not t.is_ours:
            continue
        r = {
            "preset": name, "file": path.name, "version": t.name, "repeat": repeat,
            "agreement": agreement[t.name],
            "median_s": median[t.name], "sklearn_median_s": median["sklearn"],
            "read_parquet_median_s": median.get("read_parquet"),
            "ratio": median[t.name] / median["sklearn"],
            "cpu_ratio": median_cpu[t.name] / median_cpu["sklearn"],
            "median_cpu_s": median_cpu[t.name], "sklearn_median_cpu_s": median_cpu["sklearn"],
            "peak_rss_mib": peak[t.name], "sklearn_peak_rss_mib": peak["sklearn"],
            "read_parquet_peak_rss_mib": peak.get("read_parquet"),
            "times": times[t.name], "sklearn_times": times["sklearn"],
        }
        if name in TARGETS:
            max_ratio, max_gb = TARGETS[name]
            r["target"] = f"ratio <= {max_ratio:g}, RSS < {max_gb:g} GiB"
            r["met"] = r["ratio"] <= max_ratio and r["peak_rss_mib"] < max_gb * 1024
        results.append(r)
    return results


def machine() -> dict:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    if shutil.which("free"):
        lines = subprocess.run(["free", "-h"], capture_output=True, text=True).stdout.splitlines()
        mem = lines[1].split()[1] if len(lines) > 1 else ""
    import numpy, pandas, pyarrow, sklearn  # noqa: E401

    git = ["git", "-C", str(HERE.parent)]
    commit = subprocess.run(git + ["rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    dirty = subprocess.run(git + ["status", "--porcelain", "--", "src"], capture_output=True, text=True).stdout

    return {
        "date": dt.date.today().isoformat(), "nproc": os.cpu_count(), "memory": mem, "cpu": cpu,
        "python": platform.python_version(), "numpy": numpy.__version__, "pandas": pandas.__version__,
        "scikit-learn": sklearn.__version__, "pyarrow": pyarrow.__version__,
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE", ""),
        "worktree": commit + ("+uncommitted src" if dirty.strip() else ""),
    }


def table(results: list[dict]) -> str:
    head = ("| data | version | evaldash median s | sklearn median s | ratio (wall) | ratio (CPU) "
            "| read_parquet only s | evaldash peak RSS | sklearn peak RSS | target | met |")
    lines = [head, "|" + "---|" * 11]
    for r in results:
        floor = r["read_parquet_median_s"]
        lines.append(
            f"| {r['file']} | {r['version']} | {r['median_s']:.2f} | {r['sklearn_median_s']:.2f} | "
            f"{r['ratio']:.2f} | {r['cpu_ratio']:.2f} | {'-' if floor is None else f'{floor:.2f}'} | "
            f"{r['peak_rss_mib']:.0f} MiB | {r['sklearn_peak_rss_mib']:.0f} MiB | "
            f"{r.get('target', '-')} | {('yes' if r['met'] else 'NO') if 'met' in r else '-'} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--presets", default="1m10,10m2", help=f"comma-separated, from {sorted(PRESETS)}")
    p.add_argument("--file", type=Path, action="append", default=[], help="also benchmark this file")
    p.add_argument("--ref", action="append", default=[],
                   help="benchmark evaldash as of this git ref (a snapshot of src/evaldash); repeat to "
                        "compare versions; 'worktree' is the installed working tree (the default)")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--no-read", action="store_true", help="skip the read_parquet-only floor")
    p.add_argument("--save", type=Path, default=DATA / "bench_results.json")
    args = p.parse_args(argv)
    refs = [resolve(r) for r in args.ref or ["worktree"]]  # once: HEAD may move during the run

    jobs = []
    for name in filter(None, args.presets.split(",")):
        if name not in PRESETS:
            p.error(f"unknown preset {name!r}; expected one of {sorted(PRESETS)}")
        spec = PRESETS[name]
        if not spec["out"].exists():
            print(f"generating {spec['out']} ...", flush=True)
            generate(spec["out"], spec["rows"], spec["classes"], "parquet", spec["single_score"])
        jobs.append((name, spec["out"]))
    jobs += [(f.stem, f) for f in args.file]

    info = machine()
    print(" ".join(f"{k}={v}" for k, v in info.items()))
    results = [r for name, path in jobs for r in bench(name, path, refs, args.repeat, not args.no_read)]
    print("\n" + table(results))
    args.save.parent.mkdir(parents=True, exist_ok=True)
    args.save.write_text(json.dumps({"machine": info, "refs": refs, "results": results}, indent=2))
    print(f"\nsaved {args.save}")
    return 0 if all(r["agreement"] == "ok" for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
