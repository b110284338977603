"""Multi-label files on Spark in local mode, bound to loopback, give the memory path's numbers,
cells and input errors (one session for the module: a few cases, since each Spark query costs
about a second here)."""

from __future__ import annotations


import numpy as np
import pytest

from engine_cases import differences
from evaldash.engines.multilabel_evaluation import evaluate_path
from evaldash.errors import InputError
from evaldash.report import to_jsonable
from evaldash.tasks import load_dataset
from multilabel_engine_cases import frame, memory_evaluation, write

pytestmark = pytest.mark.filterwarnings("ignore::FutureWarning")


def assert_same(m, e):
    assert differences(to_jsonable(m.report()), to_jsonable(e.report())) == []
    mw, ew = m.warnings(), e.warnings()
    assert ew[:len(mw)] == mw and len(ew) - len(mw) <= 1
    k = len(m.classes)
    for t, p in [(0, 0), (0, 2), (k, 1), (3, k)]:
        assert e.cell_samples(t, p, limit=m.dataset.n).tolist() == m.cell_samples(t, p).tolist()
    assert e.concept_errors(0, "fn", limit=m.dataset.n).tolist() == m.concept_errors(0, "fn").tolist()


@pytest.mark.parametrize("case", ["lists", "indicator folder with given lists", "joined names, per-class thresholds"])
def test_spark_multilabel_equals_memory(spark, tmp_path, case):
    threshold = thresholds = None
    if case == "lists":
        path = write(frame("list", n=500, seed=31), tmp_path / "ml.parquet")
        threshold = 0.3
    elif case == "indicator folder with given lists":
        path = write(frame("indicator", given="list", n=600, seed=32), tmp_path / "parts", parts=2)
    else:
        path = write(frame("text", n=400, seed=33), tmp_path / "text.parquet")
        thresholds = np.array([0.2, 0.9, 0.35, 0.5, 0.61])
    m = memory_evaluation(path, threshold=threshold, thresholds=thresholds)
    e = evaluate_path(spark.sibling(), str(path), threshold=threshold)
    if thresholds is not None:
        e = e.with_thresholds(thresholds)
    assert_same(m, e)
    if m.dataset.has_scores:
        t, tp, fp = e.counts_at(1, [0.2, 0.45, 0.77])
        want_tp, want_fp = m.sweep(1).counts_at(t)
        assert tp.tolist() == want_tp.tolist() and fp.tolist() == want_fp.tolist()


def test_spark_refuses_a_list_item_without_a_score_column_as_memory_does(spark, tmp_path):
    table = frame("list", n=30, seed=34)
    table.at[6, "labels"] = ["wolf", "cat"]
    path = write(table, tmp_path / "bad.parquet")
    with pytest.raises(InputError) as mem:
        load_dataset(path)
    with pytest.raises(InputError) as eng:
        evaluate_path(spark.sibling(), str(path))
    assert str(eng.value) == str(mem.value)


def test_spark_gives_the_multilabel_dashboards_views_by_the_same_sql(spark, tmp_path):
    """What the pages ask for in SQL of their own (a lazy cell page and its label sets, a concept's
    calibration, the slice table, the sample of rows), the memory path's on Spark. (A concept's
    slider counts are the single-label sweep's queries on its indicator column: tested there.)"""
    import pandas as pd

    path = write(frame("list", k=4, n=200, seed=35), tmp_path / "ml.parquet")
    m, e = memory_evaluation(path), evaluate_path(spark.sibling(), str(path))
    rows = e.cell_samples(3, 3)
    assert len(rows) == len(m.cell_samples(3, 3)) and rows[1:6].tolist() == m.cell_samples(3, 3)[1:6].tolist()
    pd.testing.assert_frame_equal(e.label_sets(rows[1:6]), m.label_sets(m.cell_samples(3, 3)[1:6]), check_dtype=False)
    cal, want_cal = e.concept_calibration(3), m.concept_calibration(3)
    assert cal["bins"]["count"].tolist() == want_cal["bins"]["count"].tolist()
    assert cal["log_loss"] == pytest.approx(want_cal["log_loss"], abs=1e-12)
    pd.testing.assert_frame_equal(e.slice_table("site"), m.slice_table("site"), rtol=1e-12)
    sample = load_dataset(e.sample_to_parquet(20, tmp_path / "sample.parquet"))
    assert sample.task == "multilabel" and sample.n == 20
    assert_views_on_spark(m, e)


def assert_views_on_spark(m, e):
    """A slice, a gallery within a tag's ids and corrected label sets (engines.derived,
    engines.id_sets, engines.multilabel_corrected): the same SQL as on DuckDB
    (tests/test_engine_multilabel_filters.py), a few numbers of each on the same opened file."""
    from evaldash.engines.derived import corrected_evaluation, slice_evaluation
    from evaldash.engines.id_sets import within
    from evaldash.multilabel_corrections import corrected_evaluation as memory_corrected
    from evaldash.multilabel_slices import multilabel_slice_evaluation
    from evaldash.slices import slice_rows
    from test_engine_multilabel_filters import corrections_of, ids_of

    ms = multilabel_slice_evaluation(m, slice_rows(m.dataset, "site", "north"))
    es = slice_evaluation(e, "site", "north")
    assert es.dataset.n == ms.dataset.n and es.concept_counts.tolist() == ms.concept_counts.tolist()
    assert es.averages["samples"]["f1"] == pytest.approx(ms.averages["samples"]["f1"], abs=1e-12)
    ids = {str(m.dataset.ids[r]) for r in range(0, m.dataset.n, 3)}
    got = within(es, es.cell_samples(0, 0), ids)
    assert ids_of(es, got[:len(got)]) == [s for s in ids_of(ms, ms.cell_samples(0, 0)) if s in ids]
    assert len(within(es, es.cell_samples(0, 0), ["not an id"])) == 0
    mc, info = memory_corrected(m, corrections_of(m))
    ec, einfo = corrected_evaluation(e, corrections_of(m))
    assert einfo == info and ec.concept_counts.tolist() == mc.concept_counts.tolist()
