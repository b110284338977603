"""`evaldash report FILE --json` on each engine, side by side: wall time, CPU time and peak RSS of
each run (a new process each time), and a check that every number equals the memory engine's.

    python benchmarks/bench_engines.py                          # 10m2 and 1m10, memory vs duckdb, 3 runs
    python benchmarks/bench_engines.py --presets 1m10 --engines memory,duckdb,spark --repeat 1
    python benchmarks/bench_engines.py --large benchmarks/data/60m_2.parquet --memory-limit 1GB

``--large FILE``: the file beyond a memory limit: DuckDB under ``--memory-limit``, and the memory
engine under an address-space cap (``--memory-cap``, default 8 GiB) so that its failure cannot
take the machine's memory from other work. Missing preset files are generated
(``generate.py``). Spark runs in local mode bound to 127.0.0.1. Results go to
``benchmarks/data/bench_engines.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"
PRESET_FILES = {"10m2": DATA / "10m_2.parquet", "1m10": DATA / "1m_10.parquet"}
GIB = 1 << 30


def run_measured(path: Path, engine: str, memory_limit: str | None, cap: int | None = None) -> dict:
    """One report in a new process: wall s, the child's own CPU s and peak RSS MiB (``wait4``), exit
    code, stdout and stderr's last line; ``cap``: bytes of address space the child may take."""
    cmd = [sys.executable, "-m", "evaldash.cli", "report", str(path), "--json", "--engine", engine]
    if memory_limit and engine == "duckdb":
        cmd += ["--memory-limit", memory_limit]
    env = dict(os.environ, PYTHONPATH=str(ROOT / "src"), SPARK_LOCAL_IP="127.0.0.1", PYTHONWARNINGS="ignore")
    out_path, err_path = DATA / f"bench_engines.{os.getpid()}.out", DATA / f"bench_engines.{os.getpid()}.err"

    def limit():
        if cap:
            resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=err, env=env, preexec_fn=limit)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    err_lines = err_path.read_text(errors="replace").strip().splitlines()
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_mib": usage.ru_maxrss / 1024, "code": code,
            "stdout": out_path.read_text(), "stderr": err_lines[-1] if err_lines else ""}


def differences(a, b, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if k == "warnings":
                continue  # the engines add one line: they do not open image paths
            out += differences(a.get(k), b.get(k), f"{path}/{k}") if k in a and k in b else [f"{path}/{k} missing"]
        return out
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return [f"{path}: lengths"]
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in differences(x, y, f"{path}[{i}]")]
    if isinstance(a, float) and isinstance(b, float):
        return [] if math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9) else [f"{path}: {a} vs {b}"]
    return [] if a == b else [f"{path}: {a!r} vs {b!r}"]


def machine() -> dict:
    import duckdb
    import numpy
    import pandas

    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "")
    try:
        import pyspark
        spark = pyspark.__version__
    except ImportError:
        spark = None
    return {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "nproc": os.cpu_count(), "cpu": cpu,
            "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / GIB, 1),
            "load": os.getloadavg(), "python": platform.python_version(), "numpy": numpy.__version__,
            "pandas": pandas.__version__, "duckdb": duckdb.__version__, "pyspark": spark}


def bench(path: Path, engines: list[str], repeat: int, memory_limit: str | None) -> list[dict]:
    runs = {e: [] for e in engines}
    reports = {}
    for i in range(repeat):
        order = engines if i % 2 == 0 else engines[::-1]
        for e in order:
            r = run_measured(path, e, memory_limit)
            if r["code"] != 0:
                raise SystemExit(f"{e} failed on {path}: {r['stderr']}")
            reports[e] = json.loads(r["stdout"])
            runs[e].append(r)
            print(f"  {path.name} {e:<7} run {i + 1}: {r['wall']:7.2f} s wall {r['cpu']:7.2f} s CPU "
                  f"{r['rss_mib']:7.0f} MiB", flush=True)
    out = []
    base = statistics.median(x["wall"] for x in runs[engines[0]])
    for e in engines:
        diffs = differences(reports[engines[0]], reports[e])
        wall = statistics.median(x["wall"] for x in runs[e])
        out.append({"file": path.name, "engine": e, "median_wall_s": wall,
                    "median_cpu_s": statistics.median(x["cpu"] for x in runs[e]),
                    "peak_rss_mib": max(x["rss_mib"] for x in runs[e]), "ratio": wall / base,
                    "same_numbers": not diffs, "differences": diffs[:5], "runs": len(runs[e])})
    return out


def large(path: Path, memory_limit: str, cap: int) -> list[dict]:
    out = []
    for engine, lim, c in (("duckdb", memory_limit, None), ("memory", None, cap)):
        r = run_measured(path, engine, lim, c)
        note = "completed" if r["code"] == 0 else f"failed (exit {r['code']}): {r['stderr'][:160]}"
        print(f"  {path.name} {engine:<7} {r['wall']:7.2f} s wall {r['rss_mib']:7.0f} MiB  {note}", flush=True)
        out.append({"file": path.name, "engine": engine, "wall_s": r["wall"], "cpu_s": r["cpu"],
                    "peak_rss_mib": r["rss_mib"], "memory_limit": lim, "address_space_cap_gib": c and c / GIB,
                    "result": note})
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--presets", default="10m2,1m10")
    p.add_argument("--engines", default="memory,duckdb")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--memory-limit", default=None, help="duckdb's --memory-limit (default: evaldash's)")
    p.add_argument("--large", type=Path, help="a file beyond the memory limit (e.g. 60M binary rows)")
    p.add_argument("--memory-cap", type=float, default=8.0, help="GiB of address space for the memory engine on --large")
    args = p.parse_args(argv)
    info = {"machine": machine(), "results": [], "large": []}
    print(json.dumps(info["machine"]))
    for preset in [s for s in args.presets.split(",") if s]:
        path = PRESET_FILES[preset]
        if not path.exists():
            subprocess.run([sys.executable, str(HERE / "generate.py"), "--preset", preset], check=True)
        info["results"] += bench(path, args.engines.split(","), args.repeat, args.memory_limit)
    if args.large:
        info["large"] = large(args.large, args.memory_limit or "1GB", int(args.memory_cap * GIB))
    print("\n| file | engine | median wall s | ratio to memory | median CPU s | peak RSS MiB | same numbers |")
    print("|---|---|---|---|---|---|---|")
    for r in info["results"]:
        print(f"| {r['file']} | {r['engine']} | {r['median_wall_s']:.2f} | {r['ratio']:.2f} | {r['median_cpu_s']:.2f} "
              f"| {r['peak_rss_mib']:.0f} | {'yes' if r['same_numbers'] else 'NO: ' + '; '.join(r['differences'])} |")
    for r in info["large"]:
        print(f"| {r['file']} | {r['engine']} | {r['wall_s']:.2f} | | {r['cpu_s']:.2f} | {r['peak_rss_mib']:.0f} "
              f"| {r['result']} |")
    DATA.mkdir(exist_ok=True)
    (DATA / "bench_engines.json").write_text(json.dumps(info, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
