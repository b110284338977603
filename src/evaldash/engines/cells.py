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
(its buffer pool), so the server's memory does not grow with the file. Each table is a database
file of its own: :func:`drop` removes one (a derived view no longer kept, a build still running
cancelled), the others are removed with the engine's temporary folder. Spark keeps the per-page
query.

The build sorts every row (2–3 minutes at 100M rows), so the dashboard does not wait for it: it
runs after the first view (:func:`start`, from ``precompute(background=True)``) in a thread of
its own on a second connection to the same database (:meth:`DuckDBEngine.worker`), while the
first connection answers the pages; the evaluation, shared by every session, holds the one
:class:`CellBuild`. Until the table is there a cell's page is the per-page query (the same rows in
the same order), and :func:`status` says what is being built and how far it got.
"""

from __future__ import annotations

import itertools
import logging
import os
import threading
import time
from contextlib import nullcontext

from evaldash.engines import sql

DATABASE = "ev_cells"  # the prefix of each attached database file's name in SQL
FILE = "evaldash-cells-{}.duckdb"  # each table's database file in the engine's temporary folder, by its name
STEP = "cell galleries: every row sorted by cell and confidence, once"  # precompute's progress step
JOB = "cell table build"  # the evaluation's memo entry holding its CellBuild
_names = itertools.count()
_claim = threading.Lock()  # one build per evaluation: the first caller claims it under this lock
# one build at a time in the process: each sorts every row of its file under the one memory limit
_one_sort = threading.Lock()


def duckdb_of(engine):
    """The :class:`~evaldash.engines.duckdb_engine.DuckDBEngine` behind ``engine`` (a Serialized
    wrapper or the engine itself), or None for another engine."""
    from evaldash.engines.duckdb_engine import DuckDBEngine

    inner = getattr(engine, "engine", engine)
    return inner if isinstance(inner, DuckDBEngine) else None


class CellTable:
    """Where each cell's rows start in the sorted table ``name`` (in the database file ``path``);
    ``dropped`` once :func:`drop` removed it (a page read meanwhile is the per-page query)."""

    def __init__(self, name: str, starts: dict[tuple[int, int], int], path: str | None = None):
        self.name, self.starts, self.path = name, starts, path
        self.dropped = False

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


class CellBuild:
    """The one build of an evaluation's cell table: started once, waited for by whoever needs it,
    its progress read while it runs (by the sessions' threads)."""

    def __init__(self, evaluation):
        self.evaluation = evaluation
        self.table: CellTable | None = None
        self.error: BaseException | None = None
        self.started = time.monotonic()
        self.sorting: float | None = None  # when its sort began (it may wait for another file's first)
        self.finished: float | None = None
        self._done = threading.Event()
        self._worker = None  # the connection running the sort, while it runs
        self.database: str | None = None  # the database file attached for the table, once attached
        self.dropped = False  # set by drop: the sort does not start, or is interrupted
        self.waiting: str | None = None  # what this file's build waits for before its sort, if anything

    @property
    def running(self) -> bool:
        return not self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Whether the build has finished (successfully or not) within ``timeout`` seconds."""
        return self._done.wait(timeout)

    def progress(self) -> float | None:
        """The sort's progress in percent as DuckDB estimates it, None when not known."""
        worker = self._worker
        try:
            value = worker.con.query_progress() if worker is not None else -1
        except Exception:  # noqa: BLE001 - the connection closed meanwhile: no estimate
            return None
        return float(value) if value is not None and value >= 0 else None

    def run(self) -> None:
        try:
            self.table = _sort_rows(self)
        except BaseException as exc:  # noqa: BLE001 - kept: the pages say it, a synchronous build raises it
            from evaldash.engines import background

            if not self.dropped and not background.exiting():
                logging.getLogger(__name__).warning("the cell table was not built: %s", exc)
            self.error = exc
        finally:
            self.finished = time.monotonic()
            self._done.set()


def start(evaluation, background: bool = True, before=None) -> CellBuild | None:
    """The evaluation's cell-table build, started now unless it already was (by any session); with
    ``background``, in a daemon thread at low priority, else here; ``before(job)`` (this file's other
    background work, which may set ``job.waiting``) run first in the same thread. None on an engine other than DuckDB."""
    if duckdb_of(evaluation.engine) is None:
        evaluation._memo.setdefault("cell table", None)
        return None
    with _claim:
        job = evaluation._memo.get(JOB)
        claimed = job is None
        if claimed:
            job = evaluation._memo[JOB] = CellBuild(evaluation)
    if claimed:
        def run() -> None:
            if before is not None:
                before(job)
            job.run()
        if background:
            from evaldash.engines import background as jobs

            jobs.start(run, "evaldash-cell-table")
        else:
            run()
    return job


def build(evaluation) -> CellTable | None:
    """The evaluation's sorted cell table, built once (None on an engine other than DuckDB): waits
    for a build already running (never starts a second one); raises what made the build fail."""
    job = start(evaluation, background=False)
    if job is None:
        return None
    job.wait()
    if job.error is not None and not job.dropped:
        raise job.error
    return job.table


def status(evaluation) -> str | None:
    """One line on the cell table while it is being built or if its build failed (what the pages
    read meanwhile); None when it is ready or not built on this engine."""
    job = evaluation._memo.get(JOB)
    if job is None or job.dropped or (not job.running and job.error is None):
        return None
    if job.error is not None:
        first = str(job.error).strip().splitlines()
        return (f"Cell galleries: the sorted table of the rows could not be built "
                f"({first[0] if first else type(job.error).__name__}); each page is read from the file instead "
                f"(a query over every row).")
    if job.sorting is None:
        doing = (f"waits for {job.waiting} to be computed first" if job.waiting
                 else "waits for another file's table to be built first")
    else:
        done = job.progress()
        seconds = int(time.monotonic() - job.sorting)
        doing = (f"is being built in the background ({f'about {done:.0f} %, ' if done is not None else ''}"
                 f"{seconds // 60} min {seconds % 60} s so far)")
    return (f"Cell galleries: the table of every row sorted by cell and confidence, which reads a page at "
            f"once, {doing}; until then each page is read from the file (a query over every row: slower).")


def _sort_rows(job: CellBuild) -> CellTable:
    """Sort every row's record into the attached database file, on a connection of its own."""
    from evaldash.engines import background

    evaluation = job.evaluation
    d = evaluation.dataset
    starts = starts_of(evaluation.counts, d.n_classes)
    columns = d.row_cache.columns
    database = f"{DATABASE}_{os.getpid()}_{next(_names)}"
    while not _one_sort.acquire(timeout=0.1):  # a dropped job waits for no other file's sort
        _unless_dropped(job)
    try:
        _unless_dropped(job)
        if background.exiting():  # not begun as the interpreter exits (it would be killed mid-sort)
            raise RuntimeError("the process is exiting")
        # the engine's connection may be running a query of a page: its cursor is made between two
        with background.worker(evaluation.engine) as worker:
            job.sorting = time.monotonic()
            job._worker = worker
            try:
                worker.execute("SET enable_progress_bar = true")  # progress kept (for status), not printed
                worker.execute("SET enable_progress_bar_print = false")
                # this connection only: the ORDER BY must become the table's order (its rowid)
                worker.execute("SET SESSION preserve_insertion_order = true")
                _unless_dropped(job)
                job.database = database
                worker.execute(f"ATTACH {sql.text(_file(worker, database))} AS {database}")
                _unless_dropped(job)
                worker.execute(f"CREATE TABLE {database}.cells AS SELECT {', '.join(columns)} FROM ev_rows "
                               f"ORDER BY y_true, y_pred, {sql.MOST_CONFIDENT}")
            finally:
                job._worker = None
    finally:
        _one_sort.release()
    table = CellTable(f"{database}.cells", starts, _file(worker, database))
    evaluation._memo["cell table"] = table
    return table


class Dropped(Exception):
    """The build of a table that :func:`drop` removed before it was done."""


def _unless_dropped(job: CellBuild) -> None:
    if job.dropped:
        raise Dropped("the cell table was dropped before it was built")


def _file(engine, database: str) -> str:
    return os.path.join(engine.temp_dir, FILE.format(database))


def drop(evaluation, background: bool = False):
    """Remove the evaluation's cell table from the temporary disk (a derived view no longer kept):
    a build not started yet never starts, one running is interrupted and waited for, then its
    database file is detached and deleted. A page read meanwhile or later (a session still showing
    the evaluation) is the per-page query. With ``background``, in a daemon thread (returned: it
    may wait for a page's query to end). Nothing on an engine other than DuckDB."""
    duck = duckdb_of(evaluation.engine)
    if duck is None:
        return None
    if background:
        from evaldash.evaluation import _background

        def run():
            try:
                drop(evaluation)
            except Exception as exc:  # noqa: BLE001 - the file stays until the engine's folder goes
                logging.getLogger(__name__).warning("the cell table was not dropped: %s", exc)
        return _background(run, "evaldash-drop-cell-table")
    with _claim:  # a build not claimed yet is claimed here, as dropped: none starts later
        job = evaluation._memo.get(JOB)
        if job is None:
            job = evaluation._memo[JOB] = CellBuild(evaluation)
            job.finished = time.monotonic()
            job._done.set()
        job.dropped = True
    while not job.wait(0.05):
        worker = job._worker
        if worker is not None:  # again until it ends: an interrupt before its query starts is lost
            try:
                worker.con.interrupt()
            except Exception:  # noqa: BLE001 - the connection closed meanwhile: the build is ending
                pass
    table = evaluation._memo.pop("cell table", None) or job.table
    job.table = None
    if table is not None:
        table.dropped = True  # a page that took it before it was popped reads the file instead
    if job.database is None:
        return None
    # between two page queries of the engine's connection (the database is the process's, not the cursor's)
    with getattr(evaluation.engine, "_lock", None) or nullcontext():
        duck.con.execute(f"DETACH DATABASE IF EXISTS {job.database}")
    path = _file(duck, job.database)
    for name in (path, path + ".wal"):
        try:
            os.remove(name)
        except FileNotFoundError:
            pass
    return None
