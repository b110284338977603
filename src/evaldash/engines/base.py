"""What every out-of-core engine offers the shared SQL: a source view, small queries and small tables."""

from __future__ import annotations

import glob
import os
import threading
from pathlib import Path

import pandas as pd

from evaldash.engines.sql import Dialect
from evaldash.errors import InputError

GLOB_CHARS = "*?["
PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv", ".csv.gz")


class Engine:
    """An engine runs the SQL of :mod:`evaldash.engines.sql`; subclasses define :meth:`define_source`."""

    name = "engine"
    dialect: Dialect
    sweep_buckets = 1  # score ranges whose running sums run in parallel (see sql._cumulated)
    # the file's first scan checks the ids for missing and blank values too (table._survey_plan); else
    # the scan that counts the distinct ids does (one read of the ids: DuckDB's cheaper form)
    survey_ids = False

    def frame(self, sql: str) -> pd.DataFrame:
        """The (small) result of ``sql`` as a DataFrame."""
        raise NotImplementedError

    def row(self, sql: str) -> dict:
        """The first row of ``sql`` as Python values (integers stay exact: no float64 column)."""
        raise NotImplementedError

    def execute(self, sql: str) -> None:
        raise NotImplementedError

    def register(self, name: str, table: pd.DataFrame) -> None:
        """Make a small table (a class map, file offsets) known to SQL as ``name``."""
        raise NotImplementedError

    def define_source(self, path: str, text_columns=()) -> dict[str, str]:
        """Define the view ``ev_source`` over the file(s) at ``path`` (raw columns and ``ev_rn``,
        the 0-based row number in file order); returns column name → kind (string, integer,
        float, boolean, nested, other)."""
        raise NotImplementedError

    def sibling(self) -> "Engine":
        """An engine on the same resources whose views are its own (for a second file)."""
        raise NotImplementedError

    def define_rows(self, select_sql: str) -> None:
        self.execute(f"CREATE OR REPLACE TEMP VIEW ev_rows AS {select_sql}")

    def close(self) -> None:
        pass


def source_files(path: str) -> tuple[str, list[str]]:
    """(format, files in file order) of a file, a folder of Parquet files or a glob; the files of
    a folder or glob are taken in sorted path order, and that is the samples' order."""
    text = str(path)
    if any(ch in text for ch in GLOB_CHARS):
        files = sorted(f for f in glob.glob(text, recursive=True) if os.path.isfile(f))
        if not files:
            raise InputError(f"{path}: no file matches this pattern")
    elif Path(text).is_dir():
        files = sorted(str(p) for p in Path(text).rglob("*") if p.is_file() and p.name.lower().endswith(PARQUET_SUFFIXES))
        if not files:
            raise InputError(f"{path}: the folder holds no Parquet files (*.parquet); expected a folder of Parquet "
                             f"files, a file or a glob")
    elif Path(text).exists():
        files = [text]
    else:
        raise InputError(f"{path}: file not found")
    kinds = {"parquet" if f.lower().endswith(PARQUET_SUFFIXES) else "csv" if f.lower().endswith(CSV_SUFFIXES)
             else "other" for f in files}
    if kinds == {"parquet"} or kinds == {"csv"}:
        return kinds.pop(), files
    raise InputError(f"{path}: the engines read Parquet (.parquet, .pq) or CSV (.csv, .csv.gz) files, all of one "
                     f"kind; found {', '.join(sorted({Path(f).name for f in files if not f.lower().endswith(PARQUET_SUFFIXES + CSV_SUFFIXES)})[:3]) or 'a mix of Parquet and CSV'}"
                     f" (JSON Lines: use --engine memory)")


def column_kind(type_name: str) -> str:
    """The kind of a SQL column type, as DuckDB or Spark names it."""
    t = type_name.upper()
    if t.endswith("[]") or t.startswith(("STRUCT", "MAP", "ARRAY", "LIST", "UNION")):
        return "nested"
    if t in ("VARCHAR", "STRING", "TEXT") or t.startswith(("VARCHAR", "CHAR")):
        return "string"
    if t in ("BOOLEAN", "BOOL"):
        return "boolean"
    if t in ("TINYINT", "SMALLINT", "INTEGER", "INT", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
             "UBIGINT", "UHUGEINT", "LONG", "SHORT", "BYTE"):
        return "integer"
    if t in ("DOUBLE", "FLOAT", "REAL") or t.startswith("DECIMAL"):
        return "float"
    return "other"


class Serialized:
    """An engine whose queries run one at a time (every other attribute is the engine's).

    The dashboard's sessions share one evaluation, so its engine is asked from several threads;
    a DuckDB connection refuses a second call while one runs (its views are its own, so another
    cursor would not see them), and a wait is what a person clicking meanwhile expects."""

    def __init__(self, engine: Engine):
        engine = engine.engine if isinstance(engine, Serialized) else engine
        self.engine = engine
        # one lock per engine, whichever evaluation asks
        self._lock = engine.__dict__.setdefault("_serialized_lock", threading.RLock())

    def __getattr__(self, name):
        return getattr(self.engine, name)

    def frame(self, sql: str) -> pd.DataFrame:
        with self._lock:
            return self.engine.frame(sql)

    def row(self, sql: str) -> dict:
        with self._lock:
            return self.engine.row(sql)

    def execute(self, sql: str) -> None:
        with self._lock:
            self.engine.execute(sql)

    def register(self, name: str, table: pd.DataFrame) -> None:
        with self._lock:
            self.engine.register(name, table)
