"""An engine on the very session of another whose SQL is rewritten as it is sent: a derived view's
(``ev_rows`` read as the view, :mod:`evaldash.engines.derived`) and a second file's beside the
first (every view name carrying a suffix, :mod:`evaldash.engines.alongside`). The shared SQL of
:mod:`evaldash.engines.sql` and :mod:`evaldash.engines.table` runs on it unchanged."""

from __future__ import annotations

from typing import Callable

from evaldash.engines.base import Serialized
from evaldash.engines.spark_engine import SparkEngine

Rewrite = Callable[[str], str]


class RewrittenConnection:
    """A DuckDB connection whose SQL (with ``rename_views``, also the names tables are registered
    under) passes through ``rewrite``; closing it leaves the shared connection open (its owner
    closes it) unless it was made ``owned`` (a worker's cursor)."""

    def __init__(self, con, rewrite: Rewrite, rename_views: bool = False, owned: bool = False):
        self._con, self._owned = con, owned
        # read by DuckDBEngine.execute: a definition is kept as this connection ran it (a worker replays it)
        self.rewrite, self.rename_views = rewrite, rename_views

    def execute(self, text: str, *args):
        return self._con.execute(self.rewrite(text), *args)

    def register(self, name: str, table):
        return self._con.register(self.rewrite(name) if self.rename_views else name, table)

    def around(self, con) -> "RewrittenConnection":
        """``con`` (a worker's own cursor, with the views replayed) rewriting as this connection."""
        return RewrittenConnection(con, self.rewrite, self.rename_views, owned=True)

    def close(self) -> None:
        if self._owned:
            self._con.close()

    def __getattr__(self, name):
        return getattr(self._con, name)


class RewrittenSpark(SparkEngine):
    """A Spark engine on a shared session whose SQL (with ``rename_views``, also the names of the
    temp views it defines from DataFrames) passes through ``rewrite``."""

    def __init__(self, session, rewrite: Rewrite, rename_views: bool = False):
        super().__init__(session=session)
        self.rewrite, self.rename_views = rewrite, rename_views

    def frame(self, text: str):
        return super().frame(self.rewrite(text))

    def row(self, text: str) -> dict:
        return super().row(self.rewrite(text))

    def execute(self, text: str) -> None:
        super().execute(self.rewrite(text))

    def _temp_view(self, df, name: str) -> None:
        super()._temp_view(df, self.rewrite(name) if self.rename_views else name)


def raw_engine(engine):
    """The engine behind ``engine``'s :class:`~evaldash.engines.base.Serialized` wrapper."""
    return engine.engine if isinstance(engine, Serialized) else engine


def rewritten(engine, rewrite: Rewrite, rename_views: bool = False):
    """An engine on ``engine``'s session whose SQL passes through ``rewrite`` (with
    ``rename_views``, the names of the tables and views it registers too); its queries run one at
    a time with ``engine``'s (one lock, as :class:`~evaldash.engines.base.Serialized`)."""
    inner = raw_engine(engine)
    if inner.name == "duckdb":
        from evaldash.engines.duckdb_engine import DuckDBEngine

        out = DuckDBEngine.__new__(DuckDBEngine)
        # on the session's own connection: a rewritten engine's views are defined through its
        # rewrite already (a view of a view reads the first view)
        con = inner.con._con if isinstance(inner.con, RewrittenConnection) else inner.con
        out._own_temp, out.temp_dir, out.con = False, inner.temp_dir, RewrittenConnection(con, rewrite, rename_views)
    elif inner.name == "spark":
        out = RewrittenSpark(inner.spark, rewrite, rename_views)
    else:
        raise ValueError(f"no rewritten engine on the {inner.name!r} engine")
    # one connection: the two engines' queries must not run at once
    out.__dict__["_serialized_lock"] = Serialized(inner)._lock
    return out
