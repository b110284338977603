"""DuckDB, embedded: reads Parquet or CSV in place (a file, a folder of Parquet files or a glob)
under a memory limit, spilling to a temporary folder when it must."""

from __future__ import annotations

import os
import shutil
import tempfile
import weakref

import pandas as pd

from evaldash.engines.base import Engine, column_kind, source_files
from evaldash.engines.sql import DUCKDB, text
from evaldash.errors import InputError

DEFAULT_MEMORY_LIMIT = "2GB"


class DuckDBEngine(Engine):
    name = "duckdb"
    dialect = DUCKDB

    def __init__(self, memory_limit: str | None = None, temp_dir: str | None = None, threads: int | None = None,
                 parent: "DuckDBEngine | None" = None):
        import duckdb

        if parent is not None:  # the same database (one memory limit), views of its own
            self._own_temp, self.temp_dir, self.con = False, parent.temp_dir, parent.con.cursor()
            return
        self._own_temp = temp_dir is None
        self.temp_dir = temp_dir or tempfile.mkdtemp(prefix="evaldash-duckdb-")
        if self._own_temp:  # removed with the engine, or at exit if it was never closed
            self._cleanup = weakref.finalize(self, shutil.rmtree, self.temp_dir, True)
        self.con = duckdb.connect(":memory:")
        try:
            self.con.execute(f"SET memory_limit = {text(memory_limit or DEFAULT_MEMORY_LIMIT)}")
        except duckdb.Error as exc:
            raise InputError(f"--memory-limit {memory_limit}: {str(exc).splitlines()[0]}; expected a size such as "
                             f"2GB or 500MB") from None
        self.con.execute(f"SET temp_directory = {text(self.temp_dir)}")
        # its bar is printed on stdout after 2 s of a query, inside `--json` output
        self.con.execute("SET enable_progress_bar = false")
        if threads:
            self.con.execute(f"SET threads = {int(threads)}")

    def sibling(self) -> "DuckDBEngine":
        return DuckDBEngine(parent=self)

    def worker(self) -> "DuckDBEngine":
        """A second connection to the same database (one memory limit, the same attached files)
        with this engine's views and registered tables defined again: long work runs on it in a
        thread of its own while this connection answers other queries (a DuckDB connection runs one
        query at a time). Close it when done."""
        out = DuckDBEngine.__new__(DuckDBEngine)
        out._own_temp, out.temp_dir, out.con = False, self.temp_dir, self.con.cursor()
        self.replay(out)
        around = getattr(self.con, "around", None)  # a view's engine: the worker reads ev_rows as it
        if around is not None:
            out.con = around(out.con)
        return out

    def replay(self, out: "DuckDBEngine", start: int = 0) -> int:
        """Define on ``out`` (a bare cursor's engine) this engine's views and registered tables
        from the ``start``-th definition on, in order; returns how many are defined on it now."""
        definitions = self.__dict__.get("_definitions", [])
        end = len(definitions)
        for kind, name, value in definitions[start:end]:
            if kind == "sql":
                out.execute(value)
            else:
                out.register(name, value)
        return end

    def _remember(self, kind: str, name: str, value) -> None:
        """Keep a view's or a registered table's definition for :meth:`worker` (in order; a view
        defined again is replayed again, the last one wins as it did here)."""
        self.__dict__.setdefault("_definitions", []).append((kind, name, value))

    def frame(self, sql: str) -> pd.DataFrame:
        return self.con.execute(sql).df()

    def row(self, sql: str) -> dict:
        cursor = self.con.execute(sql)
        names = [d[0] for d in cursor.description]
        rows = cursor.fetchall()  # to the end: DuckDB keeps a connection busy until its result is read
        return dict(zip(names, rows[0])) if rows else {}

    def execute(self, sql: str) -> None:
        self.con.execute(sql)
        if sql.lstrip().upper().startswith("CREATE OR REPLACE TEMP VIEW"):
            rewrite = getattr(self.con, "rewrite", None)  # a view's engine: as its connection ran it
            self._remember("sql", "", rewrite(sql) if rewrite is not None else sql)

    def register(self, name: str, table: pd.DataFrame) -> None:
        self.con.register(name, table)
        # kept under the name it has on the connection (a second file's alongside: renamed)
        rename = getattr(self.con, "rename_views", False)
        self._remember("table", self.con.rewrite(name) if rename else name, table)

    def define_source(self, path: str, text_columns=()) -> dict[str, str]:
        kind, files = source_files(path)
        listed = "[" + ", ".join(text(f) for f in files) + "]"
        if kind == "parquet":
            # rows carry their number within their file; the files' row counts give each file's
            # first number (metadata only), so no sort puts the rows in order
            self.con.execute("SET preserve_insertion_order = false")
            if len(files) == 1:
                sql = (f"SELECT * EXCLUDE (file_row_number), file_row_number AS ev_rn "
                       f"FROM read_parquet({listed}, file_row_number = true)")
            else:
                import pyarrow.parquet as pq

                counts = [pq.ParquetFile(f).metadata.num_rows for f in files]
                offsets = [sum(counts[:i]) for i in range(len(files))]
                self.register("ev_files", pd.DataFrame({"ev_file": files, "ev_offset": offsets}))
                sql = (f"SELECT r.* EXCLUDE (file_row_number, filename), f.ev_offset + r.file_row_number AS ev_rn "
                       f"FROM read_parquet({listed}, file_row_number = true, filename = true) r "
                       f"JOIN ev_files f ON r.filename = f.ev_file")
        else:
            from evaldash.io import read_header

            header = read_header(files[0])  # refuses a column named twice, as the memory path does
            types = ", ".join(f"{text(c)}: 'VARCHAR'" for c in header if c in set(text_columns))
            # DuckDB keeps a CSV's row order here (insertion order preserved), so the row number
            # of the unordered window is the line's
            sql = (f"SELECT *, row_number() OVER () - 1 AS ev_rn FROM read_csv({listed}, header = true"
                   + (f", types = {{{types}}}" if types else "") + ")")
        self.execute(f"CREATE OR REPLACE TEMP VIEW ev_source AS {sql}")
        described = self.con.execute("DESCRIBE SELECT * FROM ev_source").fetchall()
        return {str(row[0]): column_kind(str(row[1])) for row in described if row[0] != "ev_rn"}

    def close(self) -> None:
        pool = self.__dict__.get("_page_pool")  # its page connections (engines.page_connections)
        if pool is not None:
            pool.close()
        try:
            self.con.close()
        finally:
            if self._own_temp:
                self._cleanup()


def parse_size(value: str) -> int:
    """Bytes of a size such as ``2GB``, ``500MB`` or ``1.5GiB``."""
    v = value.strip().upper().replace("IB", "B")
    for unit, mult in (("TB", 1 << 40), ("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10), ("B", 1)):
        if v.endswith(unit):
            try:
                return int(float(v[: -len(unit)]) * mult)
            except ValueError:
                break
    raise InputError(f"--memory-limit {value}: expected a size such as 2GB or 500MB")


def available_memory() -> int:
    """Bytes of memory available now (Linux's MemAvailable; else the physical total)."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
