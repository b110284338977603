"""The engines' sweeps by one sort of the rows (DuckDB): the same numbers as the memory path, and a
binary file with one score column sorted once for both classes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine_cases import binary_ties, differences, memory_report, multiclass_ties, write
from evaldash.engines import evaluate_file, open_engine
from evaldash.report import to_jsonable


@pytest.fixture
def duck():
    engine = open_engine("duckdb", memory_limit="1GB")
    yield engine
    engine.close()


def counted(engine):
    """Run ``engine``'s queries as before, and list those that sort the rows by score (windows)."""
    sorts = []

    def counting(run):
        def query(sql):
            if "OVER (ORDER BY t DESC" in sql:
                sorts.append(sql)
            return run(sql)
        return query

    engine.row, engine.frame = counting(engine.row), counting(engine.frame)
    return sorts


def same_report(engine, path, **kw):
    mem, m = memory_report(path, **dict(kw))
    e = evaluate_file(engine, str(path), **kw)
    eng = to_jsonable(e.report())
    eng["warnings"] = [w for w in eng["warnings"] if "engine does not check the image paths" not in w]
    assert differences(mem, eng) == []
    return m, e


def unit_scores(n: int = 3000, seed: int = 4) -> pd.DataFrame:
    """One score per row in [0, 1], with ties, none that ``1 - s`` makes equal to another."""
    rng = np.random.default_rng(seed)
    y = rng.random(n) < 0.25
    s = np.round(np.clip(0.35 * y + rng.random(n) * 0.65, 0, 1), 3)
    s[:3] = [0.0, 1.0, 0.5][:n]
    return pd.DataFrame({"id": [f"r{i}" for i in range(n)], "label": np.where(y, "spam", "ham"), "score": s})


def tiny_scores(n: int = 3000, seed: int = 6) -> pd.DataFrame:
    """Distinct scores near 0 that ``1 - s`` rounds to one value (the other class's steps merge)."""
    frame = unit_scores(n, seed)
    rng = np.random.default_rng(seed)
    low = rng.random(n) < 0.4
    frame.loc[low, "score"] = rng.integers(1, 50, size=int(low.sum())) * 1e-18  # 1 - s == 1.0 for all
    frame.loc[:5, "score"] = [1e-300, 5e-324, 0.0, 2e-17, 3e-17, 2.5e-16]
    return frame


@pytest.mark.parametrize("frame", [unit_scores(), binary_ties(unit=False)], ids=["unit", "outside_unit"])
def test_one_score_column_is_sorted_once_for_both_classes(duck, tmp_path, frame):
    path = write(frame, tmp_path / "b.parquet")
    sorts = counted(duck)
    m, e = same_report(duck, path)
    assert len(sorts) == 1  # was two sweeps, one per class
    for c in (0, 1):
        s = e.sweep_summary(c)
        want = m.sweep(c)
        assert (s.n_pos, s.n_neg, s.distinct) == (want.n_pos, want.n_neg, want.thresholds.size - 1)
        assert (s.low, s.high) == (float(want.thresholds[-1]), float(want.thresholds[1]))


@pytest.mark.parametrize("seed", [6, 7])
def test_scores_the_mirror_makes_equal_merge_in_the_other_class_sweep(duck, tmp_path, seed):
    frame = tiny_scores(seed=seed)
    assert (1.0 - frame["score"]).nunique() < frame["score"].nunique()
    path = write(frame, tmp_path / "t.parquet")
    sorts = counted(duck)
    m, e = same_report(duck, path)
    for c in (0, 1):
        s, want = e.sweep_summary(c), m.sweep(c)
        assert (s.n_pos, s.n_neg, s.distinct) == (want.n_pos, want.n_neg, want.thresholds.size - 1)
    assert len(sorts) == 1


def test_positive_class_named_and_given_threshold(duck, tmp_path):
    path = write(unit_scores(seed=8), tmp_path / "p.parquet")
    same_report(duck, path, positive="ham")
    same_report(duck, path, threshold=0.3)


@pytest.mark.parametrize("n", [2, 3, 7])
def test_tiny_files(duck, tmp_path, n):
    frame = unit_scores(n=n, seed=n)
    frame.loc[0, "label"], frame.loc[1, "label"] = "spam", "ham"
    same_report(duck, write(frame, tmp_path / "n.parquet"))


def test_multiclass_and_micro_sweeps_by_one_sort_each(duck, tmp_path):
    path = write(multiclass_ties(n=2500, k=5, seed=12, absent=None), tmp_path / "m.parquet")
    sorts = counted(duck)
    same_report(duck, path)
    assert len([s for s in sorts if "ev_prev" in s]) == 5 + 1  # one per class and the pooled micro sweep


# --- the id check ----------------------------------------------------------------------------

@pytest.mark.parametrize("frame", [unit_scores(n=500), multiclass_ties(n=500, seed=8)], ids=["one_score", "class_scores"])
def test_a_file_is_checked_in_two_scans(duck, tmp_path, frame):
    """Every check in one scan grouped by the class columns (rows, class values, missing and
    infinite scores, the score range, probabilities, missing and blank ids), then the ids by
    their hashes."""
    from evaldash.engines.table import open_table

    path = write(frame, tmp_path / "ids.parquet")
    seen = []
    frame_, row = duck.frame, duck.row
    duck.frame = lambda sql: seen.append(sql) or frame_(sql)
    duck.row = lambda sql: seen.append(sql) or row(sql)
    d = open_table(duck, str(path))
    scans = [s for s in seen if "FROM ev_source" in s]
    assert len(scans) == 2 and 'GROUP BY "label"' in scans[0]
    assert 'REPARTITION(1, ev_k) */ hash(CAST("id" AS VARCHAR)) AS ev_k' in scans[1]
    assert d.n == 500 and d.is_probability


@pytest.mark.parametrize("duplicates", [False, True])
def test_ids_of_one_hash_are_looked_at_exactly(duck, tmp_path, duplicates):
    import dataclasses

    from evaldash.dataset import load_predictions
    from evaldash.errors import InputError

    frame = multiclass_ties(n=60, seed=2)  # ids of mixed lengths
    frame.loc[[1, 2], "id"] = [" x", "  "]  # a space first, yet not blank; then a blank id
    if not duplicates:
        with pytest.raises(InputError) as mem:
            load_predictions(write(frame, tmp_path / "b.parquet"))
        with pytest.raises(InputError) as eng:
            evaluate_file(duck, str(tmp_path / "b.parquet"))
        assert str(eng.value) == str(mem.value) and "empty values at row 3" in str(eng.value)
    frame.loc[2, "id"] = "y"
    if duplicates:
        frame.loc[[8, 17], "id"] = frame.loc[3, "id"]
    path = write(frame, tmp_path / "h.parquet")
    duck.dialect = dataclasses.replace(duck.dialect, hash_function="length")  # every id of a length: one hash
    if not duplicates:
        assert evaluate_file(duck, str(path)).dataset.n == 60
        return
    with pytest.raises(InputError) as mem:
        load_predictions(path)
    with pytest.raises(InputError) as eng:
        evaluate_file(duck, str(path))
    assert str(eng.value) == str(mem.value) and "duplicate ids" in str(eng.value)


@pytest.mark.parametrize("frame", [unit_scores(n=800), multiclass_ties(n=800, seed=21)], ids=["binary", "multiclass"])
def test_cells_calibration_and_bins_come_from_one_scan(duck, tmp_path, frame):
    path = write(frame, tmp_path / "c.parquet")
    seen = []
    run = duck.frame
    duck.frame = lambda sql: seen.append(sql) or run(sql)
    run_row = duck.row
    duck.row = lambda sql: seen.append(sql) or run_row(sql)
    m, e = same_report(duck, path)
    scans = [s for s in seen if "ev_bin" in s or "log_loss_sum" in s or "GROUP BY y_true, y_pred" in s]
    assert len(scans) == 1
    assert e.calibration["bins"]["count"].tolist() == m.calibration["bins"]["count"].tolist()
    from evaldash import metrics

    other = metrics.reliability(m.confidence, m.correct, n_bins=7)  # another bin count: its own query
    assert e.reliability_bins(7)["count"].tolist() == other["count"].tolist()


def _rows_view(duck) -> str:
    return duck.row("SELECT sql FROM duckdb_views() WHERE view_name = 'ev_rows'")["sql"]


def test_few_classes_are_mapped_without_a_join(duck, tmp_path):
    same_report(duck, write(multiclass_ties(n=500, seed=5), tmp_path / "few.parquet"))
    assert " JOIN " not in _rows_view(duck).upper()


def test_many_class_names_still_join_their_map(duck, tmp_path):
    rng = np.random.default_rng(3)
    names = np.array([f"c{i:03d}" for i in range(70)])
    frame = pd.DataFrame({"label": names[rng.integers(0, 70, 3000)], "prediction": names[rng.integers(0, 70, 3000)]})
    same_report(duck, write(frame, tmp_path / "many.parquet"))
    assert "JOIN EV_LABEL_MAP" in _rows_view(duck).upper()
