"""Cell galleries from the table precompute sorts once (DuckDB): exactly the memory path's pages
(most confident first, ties in file order) and records, on random files with ties, a partitioned
folder and a CSV; the build is a progress step; without precompute the per-page query stays. In the
dashboard (``precompute(background=True)``) the build runs after the first view on a connection of
its own, once for every caller, and a page asked meanwhile is the per-page query."""

from __future__ import annotations

import os
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

from engine_cases import binary_ties, memory_report, multiclass_ties, write
from evaldash.engines import cells, evaluate_file, open_engine
from evaldash.engines.rows import BLOCK


@pytest.fixture
def duck():
    engine = open_engine("duckdb", memory_limit="1GB")
    yield engine
    engine.close()


def hide_the_file(engine) -> None:
    """``ev_rows`` now selects nothing: a page read anywhere but the sorted table comes back empty."""
    engine.execute("CREATE OR REPLACE TEMP VIEW ev_rows AS SELECT * FROM ev_cells_hidden WHERE FALSE")


CASES = [("binary.parquet", lambda: binary_ties(n=3000, seed=11)),
         ("multi.csv", lambda: multiclass_ties(n=3000, seed=12)),
         ("parts", lambda: multiclass_ties(n=3000, seed=13)),
         ("binary_parts", lambda: binary_ties(n=2600, seed=14, unit=False))]


@pytest.mark.parametrize("where,make", CASES, ids=[c[0] for c in CASES])
def test_sorted_cell_table_gives_the_memory_pages_and_records(duck, tmp_path, where, make):
    path = write(make(), tmp_path / where, parts=3 if "parts" in where else 1)
    _, m = memory_report(path)
    e = evaluate_file(duck, str(path))
    steps = []
    e.precompute(progress=steps.append)
    assert cells.STEP in steps and steps[-1] == cells.STEP
    table = e._memo["cell table"]
    assert table is not None
    assert os.path.dirname(table.path) == duck.temp_dir and os.path.exists(table.path)  # on disk, not in memory
    # the file's view is replaced by an empty one: every page below must come from the table
    duck.execute("CREATE OR REPLACE TEMP VIEW ev_cells_hidden AS SELECT * FROM ev_rows")
    hide_the_file(duck)
    d, md = e.dataset, m.dataset
    k = d.n_classes
    mconf = m.dataset.confidence()
    for t in range(k):
        for p in range(k):
            want = np.asarray(m.cell_samples(t, p), dtype=np.int64)
            rows = e.cell_samples(t, p)
            assert len(rows) == len(want)
            for a, b in [(0, 24), (24, 48), (BLOCK - 5, BLOCK + 20), (len(want) - 7, len(want) + 24)]:
                page = rows[a:b]
                assert page.dtype == np.int64
                assert page.tolist() == want[max(a, 0):b].tolist(), (t, p, a, b)
                for r in page.tolist():  # the records came with the page (no query: the file is hidden)
                    assert d.ids[r] == str(md.ids[r])
                    assert d.y_true[r] == md.y_true[r] and d.y_pred[r] == md.y_pred[r]
                    assert e.confidence[r] == pytest.approx(mconf[r], abs=1e-12)
            if len(want) <= 10_000:
                assert np.asarray(rows[0:len(want)]).tolist() == want.tolist()


def test_without_precompute_pages_are_the_per_page_query(duck, tmp_path):
    path = write(binary_ties(n=1500, seed=21), tmp_path / "b.parquet")
    _, m = memory_report(path)
    e = evaluate_file(duck, str(path))
    assert "cell table" not in e._memo
    assert e.cell_samples(0, 1)[0:24].tolist() == np.asarray(m.cell_samples(0, 1))[:24].tolist()
    assert "cell table" not in e._memo


def test_the_table_is_built_once_and_two_files_on_one_engine_keep_their_own(duck, tmp_path):
    a = write(binary_ties(n=1200, seed=31), tmp_path / "a.parquet")
    b = write(multiclass_ties(n=1300, seed=32), tmp_path / "b.parquet")
    _, ma = memory_report(a)
    _, mb = memory_report(b)
    ea = evaluate_file(duck, str(a)).precompute()
    eb = evaluate_file(duck.sibling(), str(b)).precompute()
    first = ea._memo["cell table"]
    assert cells.build(ea) is first  # memoized: no second sort
    assert eb._memo["cell table"].name != first.name
    assert ea.cell_samples(1, 1)[0:30].tolist() == np.asarray(ma.cell_samples(1, 1))[:30].tolist()
    assert eb.cell_samples(2, 2)[0:30].tolist() == np.asarray(mb.cell_samples(2, 2))[:30].tolist()


def test_no_cell_table_on_another_engine():
    class Other:
        engine = object()
    assert cells.duckdb_of(Other()) is None
    assert cells.duckdb_of(object()) is None


def test_a_file_of_several_row_groups_sorted_in_parallel_keeps_the_order(tmp_path):
    engine = open_engine("duckdb", memory_limit="1GB")
    try:
        engine.execute("SET threads = 2")
        path = write(binary_ties(n=400_000, seed=41), tmp_path / "big.parquet")
        _, m = memory_report(path)
        e = evaluate_file(engine, str(path)).precompute()
        assert e._memo["cell table"] is not None
        rng = np.random.default_rng(0)
        for t in range(2):
            for p in range(2):
                want = np.asarray(m.cell_samples(t, p), dtype=np.int64)
                rows = e.cell_samples(t, p)
                assert len(rows) == len(want)
                for a in [0, len(want) - 24, *rng.integers(0, max(len(want) - 24, 1), 6).tolist()]:
                    assert rows[a:a + 24].tolist() == want[a:a + 24].tolist(), (t, p, a)
    finally:
        engine.close()


# --- built in the background, after the first view ------------------------------------------------

@pytest.fixture
def paused(monkeypatch):
    """The cell table's sort held just before it runs (on its own connection, settings made) until
    ``go`` is set; ``reached`` is set when it got there."""
    from evaldash.engines.duckdb_engine import DuckDBEngine

    state = SimpleNamespace(go=threading.Event(), reached=threading.Event())
    real = DuckDBEngine.worker

    def worker(self):
        out = real(self)
        run = out.execute

        def execute(text):
            if text.startswith("CREATE TABLE"):
                state.reached.set()
                assert state.go.wait(60)
            run(text)
        out.execute = execute
        return out
    monkeypatch.setattr(DuckDBEngine, "worker", worker)
    yield state
    state.go.set()


def cell_pages_match(e, m, starts=(0, 24, BLOCK + 3)) -> None:
    k = e.dataset.n_classes
    for t in range(k):
        for p in range(k):
            want = np.asarray(m.cell_samples(t, p), dtype=np.int64)
            rows = e.cell_samples(t, p)
            assert len(rows) == len(want)
            for a in starts:
                assert rows[a:a + 24].tolist() == want[a:a + 24].tolist(), (t, p, a)


def test_the_first_view_does_not_wait_for_the_cell_table_and_pages_meanwhile_are_the_memory_ones(duck, tmp_path,
                                                                                                 paused):
    path = write(multiclass_ties(n=2000, seed=51), tmp_path / "m.parquet")
    _, m = memory_report(path)
    e = evaluate_file(duck, str(path))
    steps = []
    assert e.precompute(background=True, progress=steps.append) is e
    assert cells.STEP not in steps and e.calibration["available"] and e._memo[("sweep", 0)] is not None
    assert paused.reached.wait(60)  # the sort began, on a connection of its own
    job = e._memo[cells.JOB]
    assert job.running and e._memo.get("cell table") is None
    line = cells.status(e)
    assert "is being built in the background" in line and "until then each page is read from the file" in line
    # the engine's own connection answers meanwhile: the per-page query, the memory path's rows
    cell_pages_match(e, m)
    assert e._memo.get("cell table") is None
    paused.go.set()
    assert job.wait(60) and job.error is None
    assert cells.status(e) is None and e._memo["cell table"] is job.table
    e._memo.pop("pages")  # the blocks read meanwhile: read again, now from the table only
    duck.execute("CREATE OR REPLACE TEMP VIEW ev_cells_hidden AS SELECT * FROM ev_rows")
    hide_the_file(duck)
    cell_pages_match(e, m)


def test_callers_asking_at_once_share_one_build(duck, tmp_path, monkeypatch):
    path = write(binary_ties(n=1500, seed=52), tmp_path / "b.parquet")
    _, m = memory_report(path)
    e = evaluate_file(duck, str(path))
    _ = e.counts
    sorts = []
    real = cells._sort_rows

    def counted(job):
        sorts.append(job)
        time.sleep(0.3)  # the others ask while it runs
        return real(job)
    monkeypatch.setattr(cells, "_sort_rows", counted)
    gate = threading.Barrier(4)
    jobs, tables = [], []

    def ask(i):
        gate.wait()
        if i == 0:  # the opening session starts it in the background
            jobs.append(cells.start(e))
        else:  # the others need the table and wait for it
            tables.append(cells.build(e))
    threads = [threading.Thread(target=ask, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    e.precompute(background=True)  # a later opening starts nothing
    assert jobs[0].wait(60) and jobs[0] is e._memo[cells.JOB]
    assert len(sorts) == 1 and sorts[0] is jobs[0]
    assert len(tables) == 3 and all(t is jobs[0].table is e._memo["cell table"] for t in tables)
    cell_pages_match(e, m)


def test_a_failed_build_is_one_line_and_pages_stay_the_per_page_query(duck, tmp_path, monkeypatch):
    import duckdb

    from evaldash.engines.duckdb_engine import DuckDBEngine

    path = write(binary_ties(n=900, seed=53), tmp_path / "b.parquet")
    _, m = memory_report(path)
    e = evaluate_file(duck, str(path))

    def worker(self):
        raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate block of size 256.0 KiB")
    monkeypatch.setattr(DuckDBEngine, "worker", worker)
    e.precompute(background=True)
    job = e._memo[cells.JOB]
    assert job.wait(60) and isinstance(job.error, duckdb.OutOfMemoryException)
    assert cells.status(e) == ("Cell galleries: the sorted table of the rows could not be built (Out of Memory Error: "
                               "could not allocate block of size 256.0 KiB); each page is read from the file instead "
                               "(a query over every row).")
    cell_pages_match(e, m)
    with pytest.raises(duckdb.OutOfMemoryException, match="could not allocate"):
        cells.build(e)  # a caller that needs the table hears why there is none; no second build


# --- dropped with a derived view no longer kept -----------------------------------------------------

def file_and_slice(duck, tmp_path, seed: int):
    """(the memory evaluation, the file's on ``duck``, its slice site = south on the same engine)."""
    from evaldash.engines.derived import slice_evaluation

    path = write(multiclass_ties(n=1200, seed=seed), tmp_path / "m.parquet")
    _, m = memory_report(path)
    e = evaluate_file(duck, str(path))
    return m, e, slice_evaluation(e, "site", "south")


def first_pages(e) -> list[list[int]]:
    k = e.dataset.n_classes
    return [e.cell_samples(t, p)[0:24].tolist() for t in range(k) for p in range(k)]


def cell_files(engine) -> list[str]:
    """The cell tables' database files in the engine's temporary folder (a write-ahead log as its database)."""
    return sorted({f.removesuffix(".wal") for f in os.listdir(engine.temp_dir) if f.startswith("evaldash-cells")})


def test_dropping_a_views_cell_table_deletes_its_file_and_the_files_table_stays(duck, tmp_path):
    m, e, es = file_and_slice(duck, tmp_path, 61)
    e.precompute()
    es.precompute()
    root, view = e._memo["cell table"], es._memo["cell table"]
    assert os.path.exists(view.path) and os.path.exists(root.path) and view.path != root.path
    want = first_pages(es)  # from the view's table
    cells.drop(es)
    assert not os.path.exists(view.path) and cell_files(duck) == [os.path.basename(root.path)]
    assert view.dropped and "cell table" not in es._memo and cells.status(es) is None
    es._memo.pop("pages")
    assert first_pages(es) == want  # now the per-page query: the same rows
    assert cells.build(es) is None and es.precompute() is es  # no second build
    assert cell_files(duck) == [os.path.basename(root.path)]
    # the file's pages still come from its table (the file is hidden from every other query)
    e._memo.pop("pages", None)
    duck.execute("CREATE OR REPLACE TEMP VIEW ev_cells_hidden AS SELECT * FROM ev_rows")
    hide_the_file(duck)
    cell_pages_match(e, m, starts=(0, 30))


def test_a_page_read_while_its_table_is_dropped_is_the_per_page_query(duck, tmp_path, monkeypatch):
    _, _, es = file_and_slice(duck, tmp_path, 62)
    es.precompute()
    table = es._memo["cell table"]
    want = first_pages(es)
    es._memo.pop("pages")
    cache = es.dataset.row_cache
    real = cache.query

    def racing(text):
        if table.name in text and not table.dropped:
            cells.drop(es)  # the view is dropped after this page took its table, before its query
        return real(text)
    monkeypatch.setattr(cache, "query", racing)
    assert first_pages(es) == want
    assert table.dropped and not os.path.exists(table.path)


def test_dropping_a_build_under_way_stops_it_and_leaves_no_file(duck, tmp_path, paused):
    _, _, es = file_and_slice(duck, tmp_path, 63)
    es.precompute(background=True)
    assert paused.reached.wait(60)  # its database attached, the sort about to run
    job = es._memo[cells.JOB]
    assert job.running and cell_files(duck)
    dropping = cells.drop(es, background=True)
    paused.go.set()
    dropping.join(60)
    assert not dropping.is_alive() and not job.running and job.dropped
    assert cell_files(duck) == [] and es._memo.get("cell table") is None
    assert cells.status(es) is None and cells.build(es) is None


def test_a_build_waiting_for_another_files_sort_is_dropped_at_once(duck, tmp_path):
    _, _, es = file_and_slice(duck, tmp_path, 64)
    with cells._one_sort:  # another file's table is being sorted meanwhile
        es.precompute(background=True)
        job = es._memo[cells.JOB]
        cells.drop(es)  # does not wait for that sort
        assert not job.running and job.sorting is None and cell_files(duck) == []
