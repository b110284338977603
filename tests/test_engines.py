"""The engines give every number of the memory path (≤ 1e-9), the same cell order and the same
input errors: DuckDB in every run, Spark in local mode (bound to loopback) on a few cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine_cases import binary_ties, differences, memory_report, multiclass_ties, predictions_only, write
from evaldash.dataset import load_predictions
from evaldash.engines import choose_engine, evaluate_file, open_engine
from evaldash.errors import InputError
from evaldash.report import to_jsonable

DIGITS = "sample_data/digits/predictions.csv"


@pytest.fixture
def duck():
    engine = open_engine("duckdb", memory_limit="1GB")
    yield engine
    engine.close()


def engine_report(engine, path, **kw):
    evaluation = evaluate_file(engine, str(path), **kw)
    report = to_jsonable(evaluation.report())
    report["warnings"] = [w for w in report["warnings"] if "engine does not check the image paths" not in w]
    return report, evaluation


def assert_same(engine, path, **kw):
    mem, m = memory_report(path, **dict(kw))
    eng, e = engine_report(engine, path, **kw)
    assert differences(mem, eng) == []
    return m, e


def assert_same_cells(m, e):
    k = m.dataset.n_classes
    for t in range(k):
        for p in range(k):
            expected = m.cell_samples(t, p)
            assert e.cell_samples(t, p, limit=m.dataset.n).tolist() == expected.tolist()
            assert e.cell_samples(t, p, limit=7, offset=3).tolist() == expected[3:10].tolist()


def assert_same_threshold_counts(m, e, thresholds):
    for c in range(m.dataset.n_classes):
        t, tp, fp = e.counts_at(c, thresholds)
        assert t.tolist() == sorted(set(thresholds))
        want_tp, want_fp = m.sweep(c).counts_at(t)
        assert tp.tolist() == want_tp.tolist() and fp.tolist() == want_fp.tolist()


def assert_same_bins(m, e):
    want = m.calibration["bins"]
    got = e.calibration["bins"]
    assert got["count"].tolist() == want["count"].tolist()
    for key in ("confidence", "accuracy"):
        np.testing.assert_allclose(got[key], want[key], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_multiclass_with_ties_and_an_absent_class(duck, tmp_path, suffix):
    path = write(multiclass_ties(), tmp_path / f"multi{suffix}")
    m, e = assert_same(duck, path)
    assert m.ranking["reasons"] == {"3": "no positive samples"}  # the case holds what it claims
    assert_same_cells(m, e)
    scores = m.dataset.scores
    assert_same_threshold_counts(m, e, [0.0, 0.25, float(scores[0, 0]), float(scores[1, 2]), 0.999, 1.0, 2.0])
    assert_same_bins(m, e)


def test_multiclass_threshold_report_and_selective(duck, tmp_path):
    path = write(multiclass_ties(seed=4, absent=None), tmp_path / "multi.parquet")
    mem, _ = memory_report(path, threshold=0.4)
    eng, _ = engine_report(duck, path, threshold=0.4)
    assert "selective" in eng["threshold"] and differences(mem, eng) == []


@pytest.mark.parametrize("unit", [True, False])
def test_binary_single_score_with_ties_and_extremes(duck, tmp_path, unit):
    path = write(binary_ties(unit=unit), tmp_path / "binary.parquet")
    m, e = assert_same(duck, path)
    assert m.dataset.score_mirror == ("one_minus" if unit else "negate")
    assert_same_cells(m, e)
    assert_same_threshold_counts(m, e, [float(v) for v in m.dataset.scores[:8, 1]] + [-1e301, 1e301])


def test_binary_threshold_changes_predictions_as_in_memory(duck, tmp_path):
    path = write(binary_ties(), tmp_path / "binary.parquet")
    mem, _ = memory_report(path, threshold=0.63)
    eng, _ = engine_report(duck, path, threshold=0.63)
    assert eng["threshold"]["per_class"]["ok"]["tp"] > 0 and differences(mem, eng) == []


def test_binary_positive_class_chosen(duck, tmp_path):
    path = write(binary_ties(seed=5), tmp_path / "binary.csv")
    assert_same(duck, path, positive="ok")


def test_predictions_only_string_classes(duck, tmp_path):
    path = write(predictions_only(), tmp_path / "pred.csv")
    m, e = assert_same(duck, path)
    assert m.dataset.classes == ("007", "café", "cat", "dog")  # '007' kept as text, as in memory
    assert_same_cells(m, e)


def test_digits_sample(duck):
    m, e = assert_same(duck, DIGITS)
    assert_same_cells(m, e)
    assert_same_bins(m, e)
    assert_same_threshold_counts(m, e, [0.1, 0.5, 0.83587, 0.9])


def test_partitioned_folder_and_glob_read_in_path_order(duck, tmp_path):
    frame = multiclass_ties(n=2500, seed=7)
    folder = write(frame, tmp_path / "parts", parts=4)
    m, e = assert_same(duck, folder)
    assert_same_cells(m, e)
    pattern = str(folder / "part-*.parquet")
    glob_report, _ = engine_report(duck, pattern)
    assert glob_report["source"] == pattern
    assert differences({**engine_report(duck, folder)[0], "source": pattern}, glob_report) == []


def test_the_report_says_what_the_engine_does_not_check(duck):
    e = evaluate_file(duck, DIGITS)
    assert any("does not check the image paths of column 'image'" in w for w in e.report()["warnings"])
    with pytest.raises(InputError, match="ROC AUC intervals are not computed in the dashboard"):
        e.auc_intervals()


# --- the same input errors ------------------------------------------------------------------

def _both_errors(engine, path) -> tuple[str, str]:
    with pytest.raises(InputError) as mem:
        load_predictions(path)
    with pytest.raises(InputError) as eng:
        evaluate_file(engine, str(path))
    return str(mem.value), str(eng.value)


@pytest.mark.parametrize("case", ["nan_score", "missing_label", "unknown_label", "duplicate_id", "no_label",
                                  "text_score", "no_scores", "single_score_three_classes", "infinite_score",
                                  "missing_prediction", "infinite_single_score", "header_only"])
def test_input_errors_match_the_memory_path(duck, tmp_path, case):
    frame = multiclass_ties(n=40, seed=3)
    suffix = ".parquet"
    if case == "nan_score":
        frame.loc[[4, 9, 10, 11, 12, 13, 20], "score_1"] = np.nan
    elif case == "missing_label":
        frame["label"] = frame["label"].astype(object)
        frame.loc[[2, 30], "label"] = None
    elif case == "unknown_label":
        frame.loc[[5, 6, 12, 13, 14, 15, 16, 30], "label"] = [9, 9, 12, 7, 11, 10, 8, 13]
    elif case == "duplicate_id":
        frame.loc[[8, 17, 25], "id"] = frame.loc[3, "id"]
    elif case == "no_label":
        frame = frame.rename(columns={"label": "truth"})
    elif case == "text_score":
        frame["score_2"] = frame["score_2"].astype(object)
        frame.loc[7, "score_2"] = "high"
        suffix = ".csv"
    elif case == "no_scores":
        frame = frame[["id", "label", "site"]]
    elif case == "single_score_three_classes":
        frame = frame[["id", "label", "score_0"]].rename(columns={"score_0": "score"})
    elif case == "infinite_score":
        frame.loc[[6, 21], "score_3"] = [np.inf, -np.inf]
    elif case == "missing_prediction":
        frame["prediction"] = frame["label"].astype(object)
        frame.loc[[1, 33], "prediction"] = None
    elif case == "infinite_single_score":
        frame = frame[frame["label"] < 2][["id", "label", "score_1"]].rename(columns={"score_1": "score"})
        frame.loc[frame.index[[2, 5]], "score"] = np.inf
    elif case == "header_only":
        frame = frame.iloc[:0]
    mem, eng = _both_errors(duck, write(frame, tmp_path / f"bad{suffix}"))
    assert eng == mem


@pytest.mark.parametrize("case", ["negative", "sums_off", "single_outside_unit"])
def test_scores_that_are_not_probabilities_are_said_so_as_in_memory(duck, tmp_path, case):
    frame = multiclass_ties(n=40, seed=4)
    if case == "negative":
        frame.loc[[3, 12], "score_2"] = -0.25
    elif case == "sums_off":
        frame.loc[[5, 6, 30], "score_0"] += 0.5
    else:
        frame = binary_ties(n=60, seed=3, unit=False)
    path = write(frame, tmp_path / "p.parquet")
    mem = load_predictions(path)
    eng = evaluate_file(duck, str(path)).dataset
    assert (eng.is_probability, eng.probability_reason) == (mem.is_probability, mem.probability_reason)
    assert not eng.is_probability and "row" in eng.probability_reason


def test_unreadable_paths_are_input_errors(duck, tmp_path):
    with pytest.raises(InputError, match="file not found"):
        evaluate_file(duck, str(tmp_path / "none.parquet"))
    with pytest.raises(InputError, match="no file matches"):
        evaluate_file(duck, str(tmp_path / "*.parquet"))
    (tmp_path / "a.jsonl").write_text('{"label": 1, "prediction": 1}\n')
    with pytest.raises(InputError, match="JSON Lines: use --engine memory"):
        evaluate_file(duck, str(tmp_path / "a.jsonl"))


def test_bad_memory_limit():
    with pytest.raises(InputError, match="--memory-limit lots"):
        open_engine("duckdb", memory_limit="lots")


# --- auto -------------------------------------------------------------------------------------

def test_auto_keeps_memory_when_the_file_fits_and_uses_duckdb_otherwise(tmp_path):
    path = write(multiclass_ties(n=1000), tmp_path / "m.parquet")  # 1000 rows × 7 columns
    assert choose_engine("auto", [path], available=10**9) == "memory"
    from evaldash.engines import BYTES_PER_VALUE, RAM_SHARE

    assert choose_engine("auto", [path], available=7000 * BYTES_PER_VALUE / RAM_SHARE) == "memory"
    assert choose_engine("auto", [path], available=7000 * BYTES_PER_VALUE / RAM_SHARE - 1) == "duckdb"
    assert choose_engine("auto", [tmp_path], available=10**12) == "duckdb"  # a folder: memory cannot read it
    assert choose_engine("duckdb", [path]) == "duckdb"


# --- the command line ---------------------------------------------------------------------------

def _run_json(capsys, argv) -> dict:
    import json

    from evaldash.cli import main

    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("engine", ["duckdb", "auto"])
def test_report_json_is_the_same_on_each_engine(capsys, tmp_path, engine):
    path = str(write(multiclass_ties(n=800, seed=11), tmp_path / "m.parquet"))
    memory = _run_json(capsys, ["report", path, "--json", "--threshold", "0.3"])
    other = _run_json(capsys, ["report", path, "--json", "--threshold", "0.3", "--engine", engine,
                               "--memory-limit", "500MB"])
    assert memory["threshold"]["per_class"] and differences(memory, other) == []


def test_check_and_compare_on_duckdb(capsys, tmp_path):
    from evaldash.cli import main

    a = str(write(multiclass_ties(n=600, seed=12), tmp_path / "a.parquet"))
    b = str(write(multiclass_ties(n=600, seed=13), tmp_path / "b.csv"))
    gates = ["--min", "accuracy=0.2", "--max", "ece=0.01", "--baseline", b, "--max-drop", "macro_f1=0.5"]
    assert main(["check", a, *gates]) == 1
    memory = capsys.readouterr().out
    assert main(["check", a, *gates, "--engine", "duckdb"]) == 1
    assert capsys.readouterr().out == memory
    assert differences(_run_json(capsys, ["compare", a, b, "--json", "--resamples", "50"]),
                       _run_json(capsys, ["compare", a, b, "--json", "--resamples", "50", "--engine", "duckdb"])) == []


def test_serve_takes_the_engine():
    from evaldash.cli import build_parser

    assert build_parser().parse_args(["serve", "--engine", "duckdb"]).engine == "duckdb"


@pytest.mark.parametrize("frame", [binary_ties(unit=False), binary_ties(), multiclass_ties(n=1500, seed=9)],
                         ids=["extreme_scores", "unit_scores", "multiclass"])
def test_running_sums_split_by_score_range_give_the_same_numbers(duck, tmp_path, frame):
    # Spark's way (one window per score range, offset by the ranges above), run here on DuckDB
    duck.sweep_buckets = 7
    path = write(frame, tmp_path / "f.parquet")
    m, e = assert_same(duck, path)
    scores = m.dataset.scores
    probes = [-1e308, float(scores[:, 1].min()), float(np.median(scores[:, 1])), float(scores[:, 1].max()), 1e308]
    assert_same_threshold_counts(m, e, probes)


def test_a_mirror_merge_across_a_score_range_edge_is_merged(duck, tmp_path):
    # 0.5 and the double just below it are two steps of class 1's sweep in two score ranges (the
    # edge of 2 ranges of [0, 1] lies between them), one step of class 0's (1 - s is 0.5 for both)
    frame = binary_ties(n=600, seed=12)
    frame.loc[6:9, "score"] = np.nextafter(0.5, 0.0)
    duck.sweep_buckets = 2
    try:
        m, e = assert_same(duck, write(frame, tmp_path / "f.parquet"))
    finally:
        del duck.sweep_buckets
    assert e.sweep_summary(0).distinct == e.sweep_summary(1).distinct - 2  # and 1e-300 with 0.0 (1 - s: 1.0)


# --- slices ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("column", ["site", "brightness", "batch"])
@pytest.mark.parametrize("binary", [False, True])
def test_slice_table_equals_the_memory_one(duck, tmp_path, column, binary):
    from evaldash.engines.slices import NOT_ON_ENGINE, slice_table
    from evaldash.slices import slice_table as memory_slice_table

    frame = binary_ties(n=1500, seed=31) if binary else multiclass_ties(n=1500, seed=31)
    rng = np.random.default_rng(5)
    frame["site"] = rng.choice(["north", "south", "east"], size=len(frame))
    frame["brightness"] = np.round(rng.normal(size=len(frame)), 3)
    frame.loc[[3, 8], "brightness"] = np.nan
    frame.loc[11, "brightness"] = np.inf
    frame["batch"] = rng.integers(0, 5, size=len(frame))
    path = write(frame, tmp_path / "s.parquet")
    _, m = memory_report(path)
    e = evaluate_file(duck, str(path))
    want = memory_slice_table(m.dataset, column, resamples=200, seed=3)
    got = slice_table(e, column, resamples=200, seed=3)
    assert got["slice"].tolist() == want["slice"].tolist()
    assert got["macro_roc_auc_low"].isna().all() and set(NOT_ON_ENGINE) <= set(got.columns)
    same = [c for c in want.columns if c not in NOT_ON_ENGINE and c != "slice"]
    pd.testing.assert_frame_equal(got[same], want[same], rtol=1e-12, atol=1e-12)


def test_duckdb_spills_to_a_folder_of_its_own_removed_after():
    import gc
    import os

    engine = open_engine("duckdb", memory_limit="300MB")
    folder = engine.temp_dir
    assert engine.row("SELECT current_setting('temp_directory') AS d")["d"] == folder
    assert engine.row("SELECT current_setting('memory_limit') AS m")["m"].replace(" ", "") in ("286.1MiB", "300.0MB")
    engine.close()
    assert not os.path.exists(folder)
    engine = open_engine("duckdb")
    folder = engine.temp_dir
    del engine
    gc.collect()
    assert not os.path.exists(folder)
