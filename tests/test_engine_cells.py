"""Cell galleries from the table precompute sorts once (DuckDB): exactly the memory path's pages
(most confident first, ties in file order) and records, on random files with ties, a partitioned
folder and a CSV; the build is a progress step; without precompute the per-page query stays."""

from __future__ import annotations

import os

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
    assert os.path.exists(os.path.join(duck.temp_dir, cells.FILE))  # on disk, not in memory
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
