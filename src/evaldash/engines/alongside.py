"""A second file in the same SQL session as the first, its views named apart, so that one query
can JOIN the two (``compare`` pairs samples by id in the engine).

:meth:`Engine.sibling` gives a second file views of its own in a session of its own (a DuckDB
cursor, a new Spark session), which no query can join. :func:`alongside` instead gives an engine
on the very session of ``engine`` whose every view name (``ev_rows``, ``ev_source``, the class maps
...) carries a suffix: its queries are rewritten as they are sent, so the shared SQL of
:mod:`evaldash.engines.sql` and :mod:`evaldash.engines.table` runs on it unchanged, and the first
engine's session sees the second file's rows as ``ev_rows_<tag>``.
"""

from __future__ import annotations

import re

from evaldash.engines.base import Serialized
from evaldash.engines.spark_engine import SparkEngine

# the views and registered tables the engines define, and the multi-label class maps ev_map_<...>
# (column names such as ev_rn are left alone)
VIEW_NAMES = ("ev_source", "ev_rows", "ev_raw", "ev_files", "ev_label_map", "ev_pred_map", "ev_sample")
# a quoted string or identifier (left as it is: a file path or a column may hold these words), or a view name
_TOKEN = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`(?:[^`]|``)*`|\b(" + "|".join(VIEW_NAMES) + r"|ev_map_\w+)\b")


def renamed(text: str, tag: str) -> str:
    """``text`` (SQL or a view name) with each bare view name ``v`` of :data:`VIEW_NAMES` as ``v_<tag>``."""
    return _TOKEN.sub(lambda m: f"{m.group(1)}_{tag}" if m.group(1) else m.group(0), text)


def rows_view(tag: str) -> str:
    """The name of the second file's ``ev_rows`` in the first engine's session."""
    return f"ev_rows_{tag}"


class _RenamedConnection:
    """A DuckDB connection whose SQL and registered names are :func:`renamed`; closing it leaves
    the shared connection open (its owner closes it)."""

    def __init__(self, con, tag: str):
        self._con, self._tag = con, tag

    def execute(self, text: str, *args):
        return self._con.execute(renamed(text, self._tag), *args)

    def register(self, name: str, table):
        return self._con.register(renamed(name, self._tag), table)

    def close(self) -> None:
        pass

    def __getattr__(self, name):
        return getattr(self._con, name)


def alongside(engine, tag: str = "b"):
    """An engine on the same session as ``engine`` whose views are named ``<view>_<tag>``; queries
    run one at a time with ``engine``'s (one lock, as :class:`~evaldash.engines.base.Serialized`)."""
    inner = engine.engine if isinstance(engine, Serialized) else engine
    if inner.name == "duckdb":
        from evaldash.engines.duckdb_engine import DuckDBEngine

        out = DuckDBEngine.__new__(DuckDBEngine)
        out._own_temp, out.temp_dir, out.con = False, inner.temp_dir, _RenamedConnection(inner.con, tag)
    elif inner.name == "spark":
        out = _RenamedSpark(inner.spark, tag)
    else:
        raise ValueError(f"no engine alongside {inner.name!r}")
    # one connection: the two engines' queries must not run at once
    out.__dict__["_serialized_lock"] = Serialized(inner)._lock
    return out


class _RenamedSpark(SparkEngine):
    """A Spark engine on a shared session whose SQL and temp views are :func:`renamed`."""

    def __init__(self, session, tag: str):
        super().__init__(session=session)
        self.tag = tag

    def frame(self, text: str):
        return super().frame(renamed(text, self.tag))

    def row(self, text: str) -> dict:
        return super().row(renamed(text, self.tag))

    def execute(self, text: str) -> None:
        super().execute(renamed(text, self.tag))

    def _temp_view(self, df, name: str) -> None:
        super()._temp_view(df, renamed(name, self.tag))
