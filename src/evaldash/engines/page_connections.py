"""Long read-only page queries on DuckDB connections of their own, so the main one stays free.

The dashboard's sessions share one evaluation and one DuckDB connection, its queries one at a time
(:class:`~evaldash.engines.base.Serialized`). A cell's page read over the whole file while its
sorted table is being built (about 5 s at 100M rows), or an errors gallery's top-k page, would hold
that connection meanwhile, and every other session's query (a slider position, another page)
would wait for it. These pages run instead on a small pool of worker connections to the same
database (:meth:`~evaldash.engines.duckdb_engine.DuckDBEngine.worker`'s cursors), kept and reused:
each holds the file's views and registered tables, replayed once and then only the definitions
added since, and reads ``ev_rows`` as the asking engine does (a slice's, corrected labels' view).
On another engine (Spark) the page is the engine's own query.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager, nullcontext

import pandas as pd

PAGE_CONNECTIONS = 2  # page queries at once apart from the main connection; a third waits for one


class PagePool:
    """Worker connections of one list of view definitions (a file's engine and its derived views'),
    at most :data:`PAGE_CONNECTIONS`, each used by one query at a time."""

    def __init__(self, size: int = PAGE_CONNECTIONS):
        self._idle: list = []  # (bare worker engine, definitions replayed on it)
        self._free = threading.BoundedSemaphore(size)
        self._guard = threading.Lock()
        self.made = 0  # connections made (tests read it)

    @contextmanager
    def borrow(self, duck):
        """A worker engine reading as ``duck`` (a :class:`DuckDBEngine`, maybe a view's), its
        views up to date, returned to the pool after; None if its views could not be replayed."""
        from evaldash.engines import background
        from evaldash.engines.duckdb_engine import DuckDBEngine

        self._free.acquire()
        try:
            with self._guard:
                bare, replayed = self._idle.pop() if self._idle else (None, 0)
            if bare is None:
                bare = DuckDBEngine.__new__(DuckDBEngine)
                bare._own_temp, bare.temp_dir = False, duck.temp_dir
                # the connection may be answering a query: a cursor is made between two (background.worker)
                with duck.__dict__.get("_serialized_lock") or nullcontext():
                    bare.con = duck.con.cursor()
                self.made += 1
            try:
                replayed = duck.replay(bare, replayed)
            except Exception:  # noqa: BLE001 - a definition this connection cannot make: the main one answers
                bare.con.close()
                yield None
                return
            out = bare
            around = getattr(duck.con, "around", None)  # a view's engine: ev_rows read as its view
            if around is not None:
                out = DuckDBEngine.__new__(DuckDBEngine)
                out._own_temp, out.temp_dir, out.con = False, bare.temp_dir, around(bare.con)
            try:
                with background.running(bare):
                    yield out
            except BaseException:
                bare.con.close()  # interrupted, or half-replayed views: not reused
                raise
            with self._guard:
                self._idle.append((bare, replayed))
        finally:
            self._free.release()

    def close(self) -> None:
        with self._guard:
            idle, self._idle = self._idle, []
        for bare, _ in idle:
            bare.con.close()


def pool_of(duck) -> PagePool:
    """The pool of ``duck``'s list of definitions (a derived view's engine shares its file's,
    :func:`evaldash.engines.derived.view_engine`)."""
    return duck.__dict__.setdefault("_page_pool", PagePool())


def page_frame(engine, text: str) -> pd.DataFrame:
    """The result of ``text`` (a read-only page query) run by ``engine``: on DuckDB, on a pooled
    connection of its own; on another engine, by the engine itself."""
    from evaldash.engines.cells import duckdb_of

    duck = duckdb_of(engine)
    if duck is None:
        return engine.frame(text)
    with pool_of(duck).borrow(duck) as worker:
        if worker is not None:
            return worker.frame(text)
    return engine.frame(text)
