"""`evaldash report FILE --json` on a multi-label file, memory against DuckDB (and Spark), side by
side: wall time, CPU time and peak RSS of each run (a new process each time), and a check that
every number equals the memory engine's (≤ 1e-9, counts exact).

    python benchmarks/bench_engines_multilabel.py                     # 1M x 20, lists and indicators, 3 runs
    python benchmarks/bench_engines_multilabel.py --engines memory,duckdb,spark --repeat 1

Two files of the same rows (``generate.py``'s multi-label rows: about 3 labels a row, independent
scores): ``labels`` as a Parquet list (with an ``image`` column), and the same truth as
``label_<concept>`` 0/1 columns. Written once to ``--data`` (default ``benchmarks/data``); results
go to ``<data>/bench_engines_multilabel.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_engines import bench, machine  # noqa: E402
from generate import generate_multilabel  # noqa: E402


def indicator_copy(lists: Path, out: Path) -> Path:
    """The file at ``lists`` with its ``labels`` list as ``label_<concept>`` int8 columns (no image)."""
    if out.exists():
        return out
    source = pq.ParquetFile(lists)
    scores = [n for n in source.schema_arrow.names if n.startswith("score_")]
    names = [n[len("score_"):] for n in scores]
    index = {n: i for i, n in enumerate(names)}
    tmp = out.with_name(out.name + ".tmp")
    writer = None
    for batch in source.iter_batches(batch_size=200_000):
        t = pa.Table.from_batches([batch])
        labels = t.column("labels").combine_chunks()
        lengths = pc.fill_null(pc.list_value_length(labels), 0).to_numpy(zero_copy_only=False)
        rows = np.repeat(np.arange(len(t)), lengths)
        cols = np.array([index[x] for x in pc.list_flatten(labels).to_pylist()], dtype=np.int64)
        y = np.zeros((len(t), len(names)), dtype=np.int8)
        y[rows, cols] = 1
        table = {"id": t.column("id")}
        table.update({f"label_{n}": pa.array(y[:, i]) for i, n in enumerate(names)})
        table.update({s: t.column(s) for s in scores})
        chunk = pa.table(table)
        if writer is None:
            writer = pq.ParquetWriter(tmp, chunk.schema)
        writer.write_table(chunk)
    writer.close()
    tmp.replace(out)
    return out


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, default=1_000_000)
    p.add_argument("--classes", type=int, default=20)
    p.add_argument("--engines", default="memory,duckdb")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--memory-limit", default=None, help="duckdb's --memory-limit (default: evaldash's)")
    p.add_argument("--data", type=Path, default=HERE / "data")
    args = p.parse_args(argv)
    lists = args.data / f"{args.rows // 1_000_000}m_{args.classes}_multilabel.parquet"
    if not lists.exists():
        print(generate_multilabel(lists, args.rows, args.classes), flush=True)
    indicators = indicator_copy(lists, lists.with_name(lists.stem + "_indicators.parquet"))
    results = []
    for path in (lists, indicators):
        results += bench(path, args.engines.split(","), args.repeat, args.memory_limit)
    print("\n| file | engine | median wall s | median CPU s | peak RSS MiB | same numbers |\n| --- | --- | --- | --- | --- | --- |")
    for r in results:
        print(f"| {r['file']} | {r['engine']} | {r['median_wall_s']:.2f} | {r['median_cpu_s']:.2f} | "
              f"{r['peak_rss_mib']:.0f} | {'yes' if r['same_numbers'] else r['differences']} |")
    out = args.data / "bench_engines_multilabel.json"
    out.write_text(json.dumps({"machine": machine(), "results": results}, indent=2))
    return 0 if all(r["same_numbers"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
