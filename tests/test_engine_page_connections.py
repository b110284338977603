"""Long page queries run on pooled DuckDB connections of their own: while one runs, the evaluation's
other queries do not wait for it; the pages are the memory path's, a derived view's pages read the
view (its definition replayed on a connection made before it), a second file alongside reads its
renamed views; another engine runs the page itself."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from engine_cases import memory_report, multiclass_ties, write
from evaldash.engines import evaluate_file, open_engine, sql
from evaldash.engines.derived import slice_evaluation
from evaldash.engines.page_connections import page_frame, pool_of
from evaldash.engines.rows import RankedRows


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    path = write(multiclass_ties(n=900, seed=71), tmp_path_factory.mktemp("pages") / "m.parquet")
    _, m = memory_report(path)
    return path, m


@pytest.fixture
def duck():
    engine = open_engine("duckdb", memory_limit="1GB")
    yield engine
    engine.close()


@pytest.mark.parametrize("asked", ["page", "count"])
def test_a_long_page_query_leaves_the_engine_free_for_other_queries(duck, files, asked):
    path, m = files
    e = evaluate_file(duck, str(path))
    started, release, first = threading.Event(), threading.Event(), [True]

    def wait_once(x):  # the page's scan stops on its first row until released
        if first[0]:
            first[0] = False
            started.set()
            release.wait(10)
        return x
    duck.con.create_function("ev_test_wait", wait_once, ["BIGINT"], "BIGINT")
    rows = RankedRows(e, ("test", "waiting"), f"{sql.cell_where(1, 1)} AND ev_test_wait(ev_rn) >= 0",
                      sql.MOST_CONFIDENT, count=None if asked == "count" else 24)
    page, other = [], []
    reading = threading.Thread(target=lambda: page.append(len(rows) if asked == "count" else rows[0:24].tolist()),
                               daemon=True)
    reading.start()
    try:
        assert started.wait(10)
        asking = threading.Thread(target=lambda: other.append(e.engine.row("SELECT COUNT(*) AS n FROM ev_rows")["n"]),
                                  daemon=True)
        asking.start()
        asking.join(5)
        assert other == [len(m.dataset.y_true)] and reading.is_alive()  # answered while the page still runs
    finally:
        release.set()
        reading.join(10)
    want = np.asarray(m.cell_samples(1, 1))
    assert page == [len(want) if asked == "count" else want[:24].tolist()]


def test_pages_of_a_slice_read_the_slice_on_a_reused_connection(duck, files):
    path, m = files
    e = evaluate_file(duck, str(path))
    assert e.cell_samples(2, 2)[0:24].tolist() == np.asarray(m.cell_samples(2, 2))[:24].tolist()
    pool = pool_of(duck)
    assert pool.made == 1
    es = slice_evaluation(e, "site", "south")  # defined after the pooled connection was made
    south = m.dataset.metadata["site"].to_numpy() == "south"
    for t, p in [(0, 0), (2, 2), (1, 0)]:
        want = [r for r in np.asarray(m.cell_samples(t, p)).tolist() if south[r]]
        assert es.cell_samples(t, p)[0:30].tolist() == want[:30], (t, p)
    assert pool.made == 1 and pool_of(es.dataset.engine.engine) is pool
    # the file's own pages on the same connection still read the whole file
    e._memo.pop("pages")
    assert e.cell_samples(1, 0)[0:30].tolist() == np.asarray(m.cell_samples(1, 0))[:30].tolist()


def test_a_second_folder_alongside_reads_its_own_renamed_views(duck, files, tmp_path):
    from evaldash.engines.alongside import alongside

    path, _ = files
    folder = write(multiclass_ties(n=500, seed=72), tmp_path / "b", parts=2)  # its file offsets: a registered table
    _, mb = memory_report(folder)
    ea = evaluate_file(duck, str(path))
    eb = evaluate_file(alongside(ea.engine, "b"), str(folder))
    assert eb.cell_samples(1, 1)[0:20].tolist() == np.asarray(mb.cell_samples(1, 1))[:20].tolist()


def test_another_engine_runs_the_page_itself():
    class Other:
        name = "other"

        def frame(self, text):
            return text
    assert page_frame(Other(), "SELECT 1") == "SELECT 1"


def test_a_view_the_page_connection_cannot_define_is_read_on_the_main_one(duck, files):
    path, m = files
    e = evaluate_file(duck, str(path))
    duck._remember("sql", "", "CREATE OR REPLACE TEMP VIEW ev_broken AS SELECT * FROM ev_no_such_table")
    assert e.cell_samples(2, 1)[0:24].tolist() == np.asarray(m.cell_samples(2, 1))[:24].tolist()
    assert pool_of(duck)._idle == []  # the connection that failed is not kept
