"""`evaldash compare A B --json` on the memory and DuckDB engines, side by side (issue 18): wall
time and peak RSS of each run (a new process each), and a check that every number is the same
(≤ 1e-9, counts exact). B is A with perturbed scores (the same ids and labels: a paired compare),
written next to A when missing.

    python benchmarks/bench_compare.py /work/bench-data/10m_2.parquet --engines memory,duckdb --resamples 1000
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"
sys.path.insert(0, str(HERE.parent / "tests"))


def perturbed(a: Path) -> Path:
    """A's ids and labels with its score moved by up to ±0.15 (a deterministic hash of the id), clipped to [0, 1]."""
    b = a.with_name(a.stem + "_b.parquet")
    if not b.exists():
        import duckdb

        duckdb.connect().execute(
            f"COPY (SELECT id, label, LEAST(GREATEST(score + ((hash(id) % 2001) / 1000.0 - 1.0) * 0.15, 0.0), 1.0) "
            f"AS score FROM read_parquet('{a}')) TO '{b}' (FORMAT parquet)")
    return b


def run(engine: str, a: Path, b: Path, resamples: int) -> tuple[dict, float, float]:
    """(compare --json, wall seconds, peak RSS in GB) of one run in a new process."""
    code = "import sys; from evaldash.cli import main; sys.exit(main(sys.argv[1:]))"
    cmd = ["/usr/bin/time", "-f", "%M", sys.executable, "-c", code, "compare", str(a), str(b), "--json",
           "--resamples", str(resamples), "--engine", engine]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
                          check=True)
    wall = time.perf_counter() - start
    rss_gb = int(done.stderr.strip().splitlines()[-1]) / 1024 ** 2
    out = json.loads(done.stdout)
    for side in ("a", "b"):  # the engines add one line that they do not check image paths
        out[side]["warnings"] = [w for w in out[side]["warnings"] if "does not check the image paths" not in w]
    return out, wall, rss_gb


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("a", type=Path)
    p.add_argument("--engines", default="memory,duckdb")
    p.add_argument("--resamples", type=int, default=1000)
    args = p.parse_args()
    from engine_cases import differences

    b = perturbed(args.a)
    print(f"{platform.processor() or platform.machine()}, Python {platform.python_version()}; A = {args.a}, B = {b}")
    first = None
    for engine in args.engines.split(","):
        out, wall, rss = run(engine, args.a, b, args.resamples)
        same = "" if first is None else f", differences from the first: {len(differences(first, out))}"
        first = first or out
        print(f"{engine:>7}: {wall:7.1f} s, peak RSS {rss:.2f} GB{same}")


if __name__ == "__main__":
    main()
