"""Cell galleries from a table sorted once (DuckDB only): a cell click reads one block, not the file.

Without it, each page of a cell's gallery is a top-k query over the whole file (the labels and
scores of every row are read: 8–15 s at 100M rows). :func:`build` (run by
``EngineEvaluation.precompute``) writes every row's gallery record (the row cache's columns) ONCE
into a DuckDB database FILE in the engine's temporary folder, sorted by (true class, predicted
class, confidence descending with a missing one last, row number): the memory path's order within
each cell. The cells follow one another, so cell (t, p) holds the table's positions
``start(t, p)`` .. ``start(t, p) + count(t, p)`` with the starts the running sum of the confusion
counts, and a page is ``WHERE rowid >= a AND rowid < b``: DuckDB's zone maps on ``rowid`` read the
one row group (122,880 rows) that holds it. The table lives on disk under the engine's memory limit
(its buffer pool), so the server's memory does not grow with the file; it is removed with the
engine's temporary folder. Spark keeps the per-page query.
"""

from __future__ import annotations

import itertools
import os

from evaldash.engines import sql

DATABASE = "ev_cells"  # the attached database file's name in SQL
FILE = "evaldash-cells.duckdb"
STEP = "cell galleries: every row sorted by cell and confidence, once"  # precompute's progress step
_names = itertools.count()


def duckdb_of(engine):
    """The :class:`~evaldash.engines.duckdb_engine.DuckDBEngine` behind ``engine`` (a Serialized
    wrapper or the engine itself), or None for another engine."""
    from evaldash.engines.duckdb_engine import DuckDBEngine

    inner = getattr(engine, "engine", engine)
    return inner if isinstance(inner, DuckDBEngine) else None


class CellTable:
    """Where each cell's rows start in the sorted table ``name``."""

    def __init__(self, name: str, starts: dict[tuple[int, int], int]):
        self.name, self.starts = name, starts

    def page_sql(self, columns, true: int, pred: int, start: int, stop: int) -> str:
        """Every column in ``columns`` of the cell's samples ``start`` .. ``stop`` (most confident
        first, ties in file order)."""
        first = self.starts[(int(true), int(pred))]
        return (f"SELECT {', '.join(columns)} FROM {self.name} WHERE rowid >= {first + int(start)} "
                f"AND rowid < {first + int(stop)} ORDER BY rowid")


def starts_of(counts, k: int) -> dict[tuple[int, int], int]:
    """The first position of each cell in (true, predicted) order: the running sum of its counts."""
    out, at = {}, 0
    for t in range(k):
        row = counts.row(t)
        for p in range(k):
            out[(t, p)] = at
            at += int(row[p])
    return out


def build(evaluation) -> CellTable | None:
    """The evaluation's sorted cell table, built once (None on an engine other than DuckDB)."""
    memo = evaluation._memo
    if "cell table" in memo:
        return memo["cell table"]
    engine = evaluation.engine
    duck = duckdb_of(engine)
    if duck is None:
        memo["cell table"] = None
        return None
    d = evaluation.dataset
    starts = starts_of(evaluation.counts, d.n_classes)
    columns = d.row_cache.columns
    name = f"{DATABASE}.cells_{os.getpid()}_{next(_names)}"
    attached = engine.frame(f"SELECT COUNT(*) AS n FROM duckdb_databases() WHERE database_name = '{DATABASE}'")
    if not int(attached["n"].iloc[0]):
        engine.execute(f"ATTACH {sql.text(os.path.join(duck.temp_dir, FILE))} AS {DATABASE}")
    kept = engine.frame("SELECT current_setting('preserve_insertion_order') AS v")["v"].iloc[0]
    try:  # the ORDER BY must become the table's order (its rowid)
        engine.execute("SET preserve_insertion_order = true")
        engine.execute(f"CREATE TABLE {name} AS SELECT {', '.join(columns)} FROM ev_rows "
                       f"ORDER BY y_true, y_pred, {sql.MOST_CONFIDENT}")
    finally:
        engine.execute(f"SET preserve_insertion_order = {'true' if kept in (True, 'true') else 'false'}")
    table = CellTable(name, starts)
    memo["cell table"] = table
    return table
