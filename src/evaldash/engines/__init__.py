"""Engines: where the aggregations behind every number run.

``memory`` (the default for ordinary files) reads the file into numpy (:mod:`evaldash.dataset`,
:mod:`evaldash.evaluation`). ``duckdb`` (embedded, out of core) and ``spark`` (a cluster, or local
mode) run the same SQL (:mod:`evaldash.engines.sql`) on the file(s) in place; only aggregates come
back. ``auto`` keeps memory when the file fits comfortably and uses DuckDB otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path

from evaldash.errors import InputError

ENGINES = ("memory", "duckdb", "spark", "auto")
# the memory path holds about this many bytes per value of the file at its peak (benchmarks: the
# 10M-row binary file of 7 columns peaks at 2.6 GB, 37 bytes a value) and takes this share of the
# available RAM at most
BYTES_PER_VALUE = 40
RAM_SHARE = 0.5


def choose_engine(name: str, paths, available: int | None = None) -> str:
    """The engine ``auto`` stands for on ``paths``: memory when every file's rows × columns × the
    memory path's bytes per value fit in half the available RAM, DuckDB otherwise (and for a
    folder or a glob, which the memory path cannot read)."""
    if name != "auto":
        return name
    from evaldash.engines.duckdb_engine import available_memory

    budget = RAM_SHARE * (available if available is not None else available_memory())
    need = 0
    for path in paths:
        p = Path(path)
        if not p.is_file():
            return "duckdb"
        need += estimated_values(p) * BYTES_PER_VALUE
    return "memory" if need <= budget else "duckdb"


def estimated_values(path: Path) -> int:
    """Rows × columns of a file: from the Parquet footer, else from its size (a CSV or JSON value
    takes about 8 bytes of text; compressed text about 3)."""
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        try:
            import pyarrow.parquet as pq

            meta = pq.ParquetFile(path).metadata
            return int(meta.num_rows) * int(meta.num_columns)
        except Exception:  # noqa: BLE001 - unreadable: the reader will say why
            return 0
    size = path.stat().st_size
    return size // 3 if name.endswith(".gz") else size // 8


def open_engine(name: str, memory_limit: str | None = None, spark_master: str | None = None):
    """A running engine (``duckdb`` or ``spark``)."""
    if name == "duckdb":
        try:
            from evaldash.engines.duckdb_engine import DuckDBEngine
        except ImportError:
            raise InputError("--engine duckdb needs the duckdb package (pip install duckdb)") from None
        return DuckDBEngine(memory_limit=memory_limit)
    if name == "spark":
        from evaldash.engines.spark_engine import SparkEngine

        return SparkEngine(master=spark_master)
    raise InputError(f"--engine {name}: expected one of {', '.join(ENGINES)}")


def evaluate_file(engine, path: str, *, positive: str | None = None, threshold: float | None = None,
                  images_root: str | None = None):
    """Validate ``path`` in ``engine`` and return its :class:`~evaldash.engines.evaluation.EngineEvaluation`;
    ``images_root`` (with an image column): the folder images must lie in (default: the file's folder)."""
    import math

    from evaldash.engines.evaluation import EngineEvaluation
    from evaldash.engines.table import open_table

    if threshold is not None and not math.isfinite(threshold):
        raise InputError(f"--threshold must be a finite number, got {threshold}")
    dataset = open_table(engine, path, positive=positive, threshold=threshold)
    return EngineEvaluation(shared(dataset, path, (("positive", positive), ("threshold", threshold)), images_root),
                            threshold)


def shared(dataset, path: str, read_options: tuple, images_root: str | None = None):
    """``dataset`` (an engine dataset of either task) for the dashboard's sessions, which share its
    evaluation: its queries run one at a time, ``read_options`` name how it was read (its
    annotations' fingerprint), images lie in ``images_root`` (default: the file's folder)."""
    from dataclasses import replace

    from evaldash.engines.base import Serialized
    from evaldash.engines.rows import source_folder

    return replace(dataset, engine=Serialized(dataset.engine), read_options=read_options,
                   images_root=str(Path(images_root or source_folder(path)).resolve())
                   if dataset.image_column is not None else None)


def spark_master_default() -> str:
    return os.environ.get("EVALDASH_SPARK_MASTER", "local[*]")
