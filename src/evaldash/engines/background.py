"""Engine work done after the dashboard's first view (DuckDB): on a second connection, in a thread
of its own, and stopped cleanly when the process exits.

The first view of ``/threshold`` needs the confusion counts, every class's drawn curves and slider
counts (scans, no sort) and the exact summary of the class it shows (one sort of every row). The
other classes' exact summaries (each one more sort: 3 s at 20M rows) and the sorted cell table
come after it (:func:`after_first_view`), one sort at a time (``cells._one_sort``: they share the
database's memory limit), the summaries first: the overview's table needs them. A multi-label
file has no cell table: after it come the other concepts' summaries, the micro average (a sort of
every pooled score) and the label ranking metrics (``later_sorts()``). A page that needs
a summary meanwhile computes it on its own connection (the evaluation's memo: never twice), so a
number is never shown before it is exact.

A query still running in such a thread when the interpreter exits was killed with it ("terminate
called after throwing an instance of ''"): at exit each running worker connection is interrupted
and its thread joined (:func:`_stop_at_exit`).
"""

from __future__ import annotations

import atexit
import logging
import threading
from contextlib import contextmanager, nullcontext

EXIT_WAIT = 10.0  # seconds to wait at exit for each thread once its query is interrupted
_guard = threading.Lock()
_running: set = set()  # worker engines whose query may be running
_threads: list[threading.Thread] = []
_exiting = threading.Event()
_registered = False


def exiting() -> bool:
    """Whether the interpreter is exiting (a background job stops, and says nothing)."""
    return _exiting.is_set()


@contextmanager
def worker(engine):
    """A second connection to ``engine``'s DuckDB database with its views
    (:meth:`~evaldash.engines.duckdb_engine.DuckDBEngine.worker`), made between two of the engine's
    queries, interrupted if the process exits while it runs, closed after."""
    from evaldash.engines.cells import duckdb_of

    with getattr(engine, "_lock", None) or nullcontext():  # the connection may be answering a page
        out = duckdb_of(engine).worker()
    try:
        with running(out):
            yield out
    finally:
        out.con.close()


@contextmanager
def running(out):
    """While in the block, ``out`` (a worker connection's engine) is interrupted if the process exits."""
    with _guard:
        _running.add(out)
    try:
        yield out
    finally:
        with _guard:
            _running.discard(out)


def start(target, name: str) -> threading.Thread:
    """Run ``target`` in a daemon thread at the lowest priority (``evaluation._background``),
    joined at exit after its worker connections are interrupted."""
    from evaldash.evaluation import _background

    global _registered
    with _guard:
        if not _registered:
            atexit.register(_stop_at_exit)
            _registered = True
        _threads[:] = [t for t in _threads if t.is_alive()]
        thread = _background(target, name)
        _threads.append(thread)
    return thread


def _stop_at_exit() -> None:
    _exiting.set()
    with _guard:
        running, threads = list(_running), list(_threads)
    for w in running:
        try:
            w.con.interrupt()
        except Exception:  # noqa: BLE001 - closed meanwhile: nothing to stop
            pass
    for thread in threads:
        thread.join(EXIT_WAIT)


def other_summaries(evaluation, job=None) -> None:
    """Every class's (concept's) exact summary not computed yet, then the evaluation's other sorts
    the first view did not wait for (``later_sorts()``: a multi-label file's micro average), each on
    a worker connection, one sort at a time with the process's other large sorts; then
    :attr:`ranking` (from the memo). ``job``: the file's cell-table build, which says meanwhile that
    it waits for them; they stop once it (or, without one, a table claimed as dropped) is dropped."""
    from evaldash.engines import cells

    d = evaluation.dataset
    sorts = []
    if getattr(d, "score_mirror", None) is None:  # (with a mirror both classes came from the first view's sort)
        sorts = [("the exact sweeps of the other classes", lambda w, c=c: evaluation.sweep_summary(c, engine=w))
                 for c in range(d.n_classes) if ("summary", c) not in evaluation._memo]
    sorts += getattr(evaluation, "later_sorts", list)()
    if sorts:
        with worker(evaluation.engine) as w:
            for what, compute in sorts:
                if not _one_sort_or_given_up(evaluation, job):
                    return
                try:
                    if _given_up(evaluation, job):
                        return
                    if job is not None:
                        job.waiting = what
                    compute(w)
                finally:
                    if job is not None:
                        job.waiting = None
                    cells._one_sort.release()
    _ = evaluation.ranking


def _given_up(evaluation, job) -> bool:
    """Whether the background stops: the interpreter exits, or the file's view is no longer kept
    (its cell table dropped: ``job``, else the build :func:`evaldash.engines.cells.drop` claimed)."""
    from evaldash.engines import cells

    job = job if job is not None else evaluation._memo.get(cells.JOB)
    return exiting() or (job is not None and job.dropped)


def _one_sort_or_given_up(evaluation, job) -> bool:
    """Wait for the process's one large sort at a time (True, held), or give up (False)."""
    from evaldash.engines import cells

    # a dropped table's view is no longer kept: its summaries are not wanted either
    while not cells._one_sort.acquire(timeout=0.1):
        if _given_up(evaluation, job):
            return False
    return True


def after_first_view(evaluation) -> None:
    """Start, in one thread, the other classes' exact summaries (and the evaluation's other later
    sorts) and then, for a single-label file, the sorted cell table
    (:func:`evaldash.engines.cells.start`, which says meanwhile that the table waits for them)."""
    from evaldash.engines import cells

    def summaries(job) -> None:
        try:
            other_summaries(evaluation, job)
        except BaseException as exc:  # noqa: BLE001 - a page asking for one computes it and says why it failed
            if not exiting():
                logging.getLogger(__name__).warning("the other classes' exact sweeps were not computed: %s", exc)
    if getattr(evaluation, "task", None) == "multilabel":  # no cell table: the concept matrix's cells are queried
        start(lambda: summaries(None), "evaldash-other-summaries")
    else:
        cells.start(evaluation, before=summaries)
