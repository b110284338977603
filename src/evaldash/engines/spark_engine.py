"""Spark SQL: the same aggregations on a cluster (``--spark-master URL``) or in local mode.

The driver binds to loopback unless told otherwise (``SPARK_LOCAL_IP``, ``spark.driver.bindAddress``
and ``spark.driver.host`` are 127.0.0.1 for a local master), and the web UI is off: by default
Spark would listen on the machine's network interface. Parquet files only (a file, a folder or a
glob); the row order is the files' path order, then each row's index in its file.
"""

from __future__ import annotations

import os
from urllib.parse import unquote, urlparse

import pandas as pd

from evaldash.engines.base import Engine, column_kind, source_files
from evaldash.engines.sql import BUCKETS, SPARK
from evaldash.errors import InputError

LOOPBACK = "127.0.0.1"


LOCAL_DRIVER_MEMORY = "3g"  # the DuckDB engine's budget; Spark's own default (1g) spills a 100M-row sort


def local_cores(master: str) -> int:
    """The cores a local master runs tasks on (``local``: 1, ``local[N]``: N, ``local[*]``: all)."""
    inside = master[len("local["):].split(",")[0].rstrip("]") if master.startswith("local[") else "1"
    if inside == "*":
        return os.cpu_count() or 1
    return max(1, int(inside)) if inside.isdigit() else 1


def loopback_session(master: str = "local[*]", app_name: str = "evaldash", extra: dict | None = None):
    """A SparkSession whose driver listens on loopback only, with the UI off (for local mode,
    tests and benchmarks).

    A sweep sorts every row once (by score range, :func:`evaldash.engines.sql.row_sweep_summary`):
    shuffle partitions are a few per core, so that each task's share of a 100M-row sort fits in
    the driver's heap without spilling; adaptive execution (Spark's default) merges them where the
    data is small."""
    os.environ["SPARK_LOCAL_IP"] = LOOPBACK
    from pyspark.sql import SparkSession

    builder = (SparkSession.builder.master(master).appName(app_name)
               .config("spark.driver.bindAddress", LOOPBACK)
               .config("spark.driver.host", LOOPBACK)
               .config("spark.ui.enabled", "false")
               .config("spark.ui.showConsoleProgress", "false")
               .config("spark.sql.shuffle.partitions", str(max(8, 8 * local_cores(master))))
               .config("spark.sql.adaptive.enabled", "true")
               .config("spark.sql.execution.arrow.pyspark.enabled", "true"))
    if "--driver-memory" not in os.environ.get("PYSPARK_SUBMIT_ARGS", ""):
        builder = builder.config("spark.driver.memory", LOCAL_DRIVER_MEMORY)  # read when the JVM starts
    for key, value in (extra or {}).items():
        builder = builder.config(key, value)
    return builder.getOrCreate()


def _loopback_master(master: str) -> bool:
    if master == "local" or master.startswith("local["):
        return True
    url = urlparse(master)
    return url.scheme == "spark" and url.hostname in ("127.0.0.1", "localhost", "::1")


class SparkEngine(Engine):
    name = "spark"
    dialect = SPARK
    sweep_buckets = BUCKETS  # each score range's sort and running sums run in a task of their own
    survey_ids = True  # a second read of the ids costs less than carrying their checks through the shuffle

    def __init__(self, master: str | None = None, session=None):
        if session is None:
            try:
                import pyspark  # noqa: F401
            except ImportError:
                raise InputError("--engine spark needs pyspark (pip install 'evaldash[spark]') and a Java runtime") \
                    from None
            master = master or os.environ.get("EVALDASH_SPARK_MASTER", "local[*]")
            if not _loopback_master(master):
                raise InputError(f"--spark-master {master}: only local mode (local, local[N], local[*]) or a master on "
                                 f"this machine's loopback (spark://127.0.0.1:PORT) runs here; the driver binds to "
                                 f"127.0.0.1, which a remote cluster cannot reach")
            session = loopback_session(master)
        self.spark = session

    def sibling(self) -> "SparkEngine":
        return SparkEngine(session=self.spark.newSession())

    def frame(self, sql: str) -> pd.DataFrame:
        return self.spark.sql(sql).toPandas()

    def row(self, sql: str) -> dict:
        rows = self.spark.sql(sql).collect()
        return rows[0].asDict() if rows else {}

    def execute(self, sql: str) -> None:
        self.spark.sql(sql)

    def register(self, name: str, table: pd.DataFrame) -> None:
        self._temp_view(self.spark.createDataFrame(table), name)

    def _temp_view(self, df, name: str) -> None:
        df.createOrReplaceTempView(name)

    def define_source(self, path: str, text_columns=()) -> dict[str, str]:
        kind, files = source_files(path)
        if kind != "parquet":
            raise InputError(f"{path}: the spark engine reads Parquet files (a file, a folder or a glob); for CSV use "
                             f"--engine duckdb or memory")
        from pyspark.sql import functions as F

        raw = self.spark.read.parquet(*files)
        kinds = {f.name: column_kind(f.dataType.simpleString()) for f in raw.schema.fields}
        names = ", ".join(f"r.{self.dialect.ident(c)}" for c in kinds)
        if len(files) == 1:  # the row's index in the file is its number: no count, no join per row
            self._temp_view(raw.select("*", F.col("_metadata.row_index").alias("ev_row")), "ev_raw")
            self.execute(f"CREATE OR REPLACE TEMP VIEW ev_source AS SELECT {names}, r.ev_row AS ev_rn FROM ev_raw r")
            return {c: ("string" if k == "other" and c in text_columns else k) for c, k in kinds.items()}
        df = raw.select("*", F.col("_metadata.file_path").alias("ev_file"), F.col("_metadata.row_index").alias("ev_row"))
        self._temp_view(df, "ev_raw")
        # each file's first row number: the row counts of the files before it, in path order
        position = {os.path.abspath(f): i for i, f in enumerate(files)}
        counts = self.frame("SELECT ev_file, COUNT(*) AS n FROM ev_raw GROUP BY ev_file")
        counts["order"] = [position.get(os.path.abspath(unquote(urlparse(u).path)), len(files)) for u in counts["ev_file"]]
        counts = counts.sort_values("order")
        counts["ev_offset"] = counts["n"].cumsum() - counts["n"]
        self.register("ev_files", counts[["ev_file", "ev_offset"]].astype({"ev_offset": "int64"}))
        self.execute(f"CREATE OR REPLACE TEMP VIEW ev_source AS SELECT {names}, f.ev_offset + r.ev_row AS ev_rn "
                     f"FROM ev_raw r JOIN ev_files f ON r.ev_file = f.ev_file")
        return {c: ("string" if k == "other" and c in text_columns else k) for c, k in kinds.items()}

    def close(self) -> None:
        pass  # the session is shared by the process (getOrCreate); it ends with it
