"""Spark in local mode, bound to loopback, gives the memory path's numbers and cell order (one
session for the module: a few cases, since each Spark query costs about a second here)."""

from __future__ import annotations


import pytest

from engine_cases import binary_ties, differences, memory_report, multiclass_ties, write
from evaldash.engines import evaluate_file
from evaldash.errors import InputError
from evaldash.report import to_jsonable


def test_spark_binds_to_loopback_only(spark):
    conf = spark.spark.sparkContext.getConf()
    assert conf.get("spark.driver.bindAddress") == "127.0.0.1" and conf.get("spark.driver.host") == "127.0.0.1"
    assert conf.get("spark.ui.enabled") == "false"


@pytest.mark.filterwarnings("ignore::FutureWarning")
@pytest.mark.parametrize("case", ["multiclass", "binary_folder"])
def test_spark_report_and_cells_equal_memory(spark, tmp_path, case):
    if case == "multiclass":
        path = write(multiclass_ties(n=900, seed=21), tmp_path / "m.parquet")
    else:
        path = write(binary_ties(n=1200, seed=22), tmp_path / "parts", parts=3)
    mem, m = memory_report(path, threshold=0.45)
    e = evaluate_file(spark, str(path), threshold=0.45)
    assert differences(mem, to_jsonable(e.report())) == []
    for t, p in [(0, 0), (0, 1), (1, 0)]:
        assert e.cell_samples(t, p, limit=1000).tolist() == m.cell_samples(t, p).tolist()
    got_t, tp, fp = e.counts_at(1, [0.2, 0.45, 0.77])
    want_tp, want_fp = m.sweep(1).counts_at(got_t)
    assert tp.tolist() == want_tp.tolist() and fp.tolist() == want_fp.tolist()


def test_spark_refuses_csv_and_remote_masters(spark, tmp_path):
    from evaldash.engines.spark_engine import SparkEngine

    path = write(multiclass_ties(n=50), tmp_path / "m.csv")
    with pytest.raises(InputError, match="the spark engine reads Parquet files"):
        evaluate_file(spark, str(path))
    with pytest.raises(InputError, match="only local mode .* or a master on this machine's loopback"):
        SparkEngine(master="spark://10.0.0.5:7077")
    with pytest.raises(InputError, match="only local mode"):
        SparkEngine(master="yarn")


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_spark_bootstrap_intervals_equal_memory(spark, tmp_path):
    from test_engine_intervals import continuous, same

    path = write(continuous(n=3000, k=2, seed=23), tmp_path / "c.parquet")  # > MAX_AUC_BINS distinct scores
    _, m = memory_report(path)
    e = evaluate_file(spark, str(path))
    assert e.auc_groups(1).tolist() == m.auc_groups(1).tolist()
    assert same(m.bootstrap_intervals(100, 2), e.bootstrap_intervals(100, 2))
    # per-class thresholds applied in Spark SQL (GREATEST skips the classes that do not pass)
    k = m.dataset.n_classes
    for thresholds, fallback in (([0.6, 0.45], "abstain"), ([0.7, float("inf")], "argmax")):
        names = list(m.dataset.classes)
        assert same(m.operating_points(thresholds[:k], fallback).report(names),
                    e.operating_points(thresholds[:k], fallback).report(names))


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_spark_gallery_pages_rows_and_reduced_sweep_equal_memory(spark, tmp_path, monkeypatch):
    import numpy as np

    from evaldash.engines import reduced
    from evaldash.metadata import row_text

    monkeypatch.setattr(reduced, "SPREAD", 40)
    monkeypatch.setattr(reduced, "EVERY_STEP", 0)
    frame = multiclass_ties(n=600, seed=23, k=2, absent=None)
    frame["score_1"] = np.random.default_rng(23).random(600)  # many distinct scores: a reduced sweep
    frame["score_0"] = 1.0 - frame["score_1"]
    path = write(frame, tmp_path / "parts", parts=3)
    _, m = memory_report(path)
    e = evaluate_file(spark, str(path))
    d, md = e.dataset, m.dataset
    rows, want = e.cell_samples(1, 0), m.cell_samples(1, 0)
    assert len(rows) == len(want)
    page = rows[24:48]
    assert page.tolist() == want[24:48].tolist()
    queries = d.row_cache.queries
    r = int(page[5])
    assert (d.ids[r], d.y_true[r], d.y_pred[r], e.confidence[r]) == (md.ids[r], md.y_true[r], md.y_pred[r],
                                                                      m.confidence[r])
    assert np.array_equal(d.scores[r], md.scores[r]) and row_text(d.metadata, r) == row_text(md.metadata, r)
    assert d.row_cache.queries == queries
    s, ms = e.sweep(1), m.sweep(1)
    assert len(s.thresholds) < len(ms.thresholds)
    tp, fp = ms.counts_at(s.thresholds)
    assert s.tp.tolist() == tp.tolist() and s.fp.tolist() == fp.tolist()
    live, want_live = e.live_threshold(1, 0.4321), m.live_threshold(1, 0.4321)
    assert live["tp"].tolist() == want_live["tp"].tolist() and live["fp"].tolist() == want_live["fp"].tolist()
    np.testing.assert_allclose(e.matrix("score").values, m.matrix("score").values, rtol=1e-12)
    # a slice, a gallery within a set of ids, corrected labels (engines.derived, engines.id_sets): the
    # same SQL as on DuckDB (tests/test_engine_filters.py), here on the same opened file
    from evaldash.dataset import subset
    from evaldash.engines.derived import corrected_evaluation, slice_evaluation
    from evaldash.engines.id_sets import within
    from evaldash.evaluation import evaluate, with_corrected_labels
    from evaldash.slices import slice_rows

    es = slice_evaluation(e, "site", "east")
    assert np.array_equal(es.confusion, evaluate(subset(md, slice_rows(md, "site", "east"))).confusion)
    ids = [str(md.ids[r]) for r in range(0, md.n, 3)]
    mask = np.zeros(md.n, dtype=bool)
    mask[::3] = True
    assert within(e, rows, ids)[:24].tolist() == want[mask[want]][:24].tolist()
    corrections = {str(md.ids[r]): md.classes[0] for r in range(0, 60, 2)}
    ec, info = corrected_evaluation(e, corrections)
    fixed, want_info = with_corrected_labels(md, corrections)
    assert info == want_info and np.array_equal(ec.confusion, evaluate(fixed).confusion)


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_spark_row_sweep_by_score_ranges_merges_mirror_steps_across_range_edges(spark, tmp_path):
    # the one sort of the rows, split by score range (2 ranges of [0, 1]: the edge between 0.5 and
    # the double below it, which 1 - s merges)
    import numpy as np

    frame = binary_ties(n=800, seed=23)
    frame.loc[10:60, "score"] = np.arange(51) * 1e-18  # distinct scores that 1 - s merges
    frame.loc[61:64, "score"] = np.nextafter(0.5, 0.0)
    spark.sweep_buckets = 2
    try:
        for path in (write(frame, tmp_path / "b.parquet"), write(multiclass_ties(n=600, seed=24), tmp_path / "m.parquet")):
            mem, _ = memory_report(path)
            got = to_jsonable(evaluate_file(spark, str(path)).report())
            got["warnings"] = [w for w in got["warnings"] if "engine does not check the image paths" not in w]
            assert differences(mem, got) == []
    finally:
        del spark.sweep_buckets


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_spark_id_check_counts_each_hash_once_after_spreading_them(spark, tmp_path, monkeypatch):
    """The hashes of the ids are counted with no partial aggregation before the shuffle (for
    unique ids it would shrink nothing, and spill); duplicates: the memory path's message."""
    from evaldash.dataset import load_predictions

    frame = multiclass_ties(n=60, seed=2)
    frame.loc[[8, 17], "id"] = frame.loc[3, "id"]
    path = write(frame, tmp_path / "twice.parquet")
    seen = []
    run = spark.row
    monkeypatch.setattr(spark, "row", lambda sql: seen.append(sql) or run(sql))
    with pytest.raises(InputError) as mem:
        load_predictions(path)
    with pytest.raises(InputError) as eng:
        evaluate_file(spark, str(path))
    assert str(eng.value) == str(mem.value) and "duplicate ids" in str(eng.value)
    on_hashes = [s for s in seen if "xxhash64(CAST(`id` AS STRING))" in s]
    assert len(on_hashes) == 1
    plan = spark.spark.sql(on_hashes[0])._jdf.queryExecution().executedPlan().toString()
    assert plan.count("HashAggregate(keys=[ev_k") == 1 and "REPARTITION_BY_NUM" in plan
