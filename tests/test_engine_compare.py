"""``compare`` on an engine gives the memory path's ``compare --json`` (≤ 1e-9, counts exact) from
aggregates: B beside A in one session, samples paired by a JOIN on id. DuckDB in every run, Spark in
local mode on two cases."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from engine_cases import binary_ties, differences, multiclass_ties, write
from evaldash import bootstrap as bs
from evaldash.compare import compare
from evaldash.dataset import load_predictions
from evaldash.engines import evaluate_file, open_engine
from evaldash.engines.alongside import alongside, renamed
from evaldash.engines.compare import compare_on_engine
from evaldash.evaluation import evaluate
from evaldash.report import to_jsonable

RESAMPLES = 60


@pytest.fixture
def duck():
    engine = open_engine("duckdb", memory_limit="1GB")
    yield engine
    engine.close()


def _memory(path):
    p = path
    if p.is_dir():
        p = p.with_suffix(".joined.parquet")
        pd.concat([pd.read_parquet(f) for f in sorted(path.glob("*.parquet"))], ignore_index=True).to_parquet(p)
    return evaluate(load_predictions(p))


def _engine_compare(engine, path_a, path_b, seed=3):
    a = evaluate_file(engine, str(path_a))
    b = evaluate_file(alongside(a.engine, "b"), str(path_b))
    return to_jsonable(compare_on_engine(a, b, resamples=RESAMPLES, seed=seed))


def _assert_same(engine, path_a, path_b, seed=3):
    want = to_jsonable(compare(_memory(path_a), _memory(path_b), resamples=RESAMPLES, seed=seed))
    got = _engine_compare(engine, path_a, path_b, seed)
    assert differences(want, got) == []
    return got


def _rescored(frame: pd.DataFrame, other: pd.DataFrame, shuffle_seed: int | None = 5) -> pd.DataFrame:
    """``frame``'s ids and labels with ``other``'s scores (model B on the same samples), rows shuffled."""
    out = frame.copy()
    for c in [c for c in frame.columns if c.startswith("score")]:
        out[c] = other[c].to_numpy()
    if shuffle_seed is not None:
        out = out.sample(frac=1.0, random_state=shuffle_seed).reset_index(drop=True)
    return out


def _binary(n, seed):
    f = binary_ties(n=n, seed=seed)
    f["score"] = np.clip(f["score"], 0, 1)
    return f


@pytest.mark.parametrize("suffix", [".parquet", ".csv"])
def test_paired_multiclass_with_ties_in_another_row_order(duck, tmp_path, suffix):
    a = multiclass_ties(n=900, seed=31)
    pa = write(a, tmp_path / f"a{suffix}")
    pb = write(_rescored(a, multiclass_ties(n=900, seed=32)), tmp_path / f"b{suffix}")
    got = _assert_same(duck, pa, pb)
    assert got["paired"] and got["fixed"] + got["broken"] + got["both_wrong"] > 0
    assert {"macro_roc_auc", "ece"} <= set(got["delta"])


def test_paired_above_the_exact_size_grouped_ece_from_sql(duck, tmp_path):
    n = bs.EXACT_MAX_CELLS + 5000  # ECE and macro ROC AUC take their grouped forms
    a = _binary(n, 41)
    pa = write(a, tmp_path / "a.parquet")
    pb = write(_rescored(a, _binary(n, 42)), tmp_path / "parts", parts=3)  # a partitioned folder
    got = _assert_same(duck, pa, pb)
    assert got["paired"]


def test_large_ece_reads_no_rows(duck, tmp_path, monkeypatch):
    from evaldash.engines import compare as engine_compare

    n = bs.EXACT_MAX_CELLS + 10
    a = _binary(n, 43)
    pa, pb = write(a, tmp_path / "a.parquet"), write(_rescored(a, _binary(n, 44)), tmp_path / "b.parquet")

    def refuse(*args, **kwargs):
        raise AssertionError("rows were read")

    monkeypatch.setattr(engine_compare.EngineSides, "_ece_rows", refuse)
    ea = evaluate_file(duck, str(pa))
    sides = engine_compare.EngineSides(ea, evaluate_file(alongside(ea.engine, "b"), str(pb)))
    want = bs.paired_resampled_ece((_memory(pa).confidence, _memory(pa).correct),
                                   *[(m.confidence[r], m.correct[r]) for m in [_memory(pb)]
                                     for r in [pd.Index(m.dataset.ids).get_indexer(_memory(pa).dataset.ids)]],
                                   resamples=RESAMPLES, seed=7)
    assert np.allclose(sides.ece_draws(RESAMPLES, 7), want[1] - want[0], rtol=0, atol=1e-12)


@pytest.mark.parametrize("size", [500, bs.EXACT_MAX_CELLS + 500])
def test_files_with_different_ids_are_not_paired(duck, tmp_path, size):
    a = _binary(size, 51)
    b = _binary(size, 52)
    b["id"] = b["id"] + 1  # other samples
    got = _assert_same(duck, write(a, tmp_path / "a.parquet"), write(b, tmp_path / "b.parquet"))
    assert not got["paired"] and "fixed" not in got


def test_a_file_with_fewer_rows_is_not_paired(duck, tmp_path):
    a = multiclass_ties(n=700, seed=61)
    got = _assert_same(duck, write(a, tmp_path / "a.parquet"), write(a.iloc[:650], tmp_path / "b.parquet"))
    assert not got["paired"]


def test_different_classes(duck, tmp_path):
    a = multiclass_ties(n=600, k=4, seed=71, absent=None)
    b = multiclass_ties(n=600, k=3, seed=72, absent=None)
    got = _assert_same(duck, write(a, tmp_path / "a.parquet"), write(b, tmp_path / "b.parquet"))
    assert not got["paired"] and got["only_in_a"] == ["3"] and got["shared_classes"] == ["0", "1", "2"]


def test_predictions_only_files_say_why_auc_and_ece_are_unavailable(duck, tmp_path):
    rng = np.random.default_rng(3)
    names = np.array(["cat", "dog", "owl"])
    frame = pd.DataFrame({"id": np.arange(400), "label": names[rng.integers(0, 3, 400)],
                          "prediction": names[rng.integers(0, 3, 400)]})
    other = frame.assign(prediction=names[rng.integers(0, 3, 400)])
    got = _assert_same(duck, write(frame, tmp_path / "a.parquet"), write(other, tmp_path / "b.parquet"))
    assert got["paired"] and set(got["unavailable"]) == {"macro_roc_auc", "ece"}


def test_view_names_are_renamed_outside_quotes_only():
    text = "SELECT ev_rn, ev_raw_l FROM ev_rows JOIN ev_label_map ON x = 'ev_rows.parquet' AND \"ev_source\" = 1"
    assert renamed(text, "b") == ("SELECT ev_rn, ev_raw_l FROM ev_rows_b JOIN ev_label_map_b ON x = 'ev_rows.parquet' "
                                  "AND \"ev_source\" = 1")
    assert renamed("SELECT * FROM ev_map_labels", "b") == "SELECT * FROM ev_map_labels_b"  # multi-label class maps


def test_the_second_file_sits_beside_the_first_in_one_session(duck, tmp_path):
    pa = write(multiclass_ties(n=300, seed=81), tmp_path / "a.parquet")
    pb = write(_binary(200, 82), tmp_path / "b.parquet")
    a = evaluate_file(duck, str(pa))
    b = evaluate_file(alongside(a.engine, "b"), str(pb))
    assert a.engine.row("SELECT (SELECT COUNT(*) FROM ev_rows) AS a, (SELECT COUNT(*) FROM ev_rows_b) AS b") \
        == {"a": 300, "b": 200}
    # each evaluation still reads its own file
    assert differences(to_jsonable(b.report()), to_jsonable(_memory(pb).report()) | {"source": str(pb)}) == []
    assert a.accuracy == _memory(pa).accuracy


# --- the command line ---------------------------------------------------------------------------

def _run_json(capsys, argv) -> dict:
    from evaldash.cli import main

    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)


def test_cli_compare_json_is_the_same_on_duckdb_without_reading_rows_back(capsys, tmp_path, monkeypatch):
    from evaldash.engines.evaluation import EngineEvaluation

    n = bs.EXACT_MAX_CELLS + 2000
    a = _binary(n, 91)
    pa = str(write(a, tmp_path / "a.parquet"))
    pb = str(write(_rescored(a, _binary(n, 92)), tmp_path / "parts", parts=2))
    joined = tmp_path / "b.parquet"
    pd.concat([pd.read_parquet(f) for f in sorted((tmp_path / "parts").glob("*.parquet"))]).to_parquet(joined)
    memory = _run_json(capsys, ["compare", pa, str(joined), "--json", "--resamples", "40", "--seed", "4"])

    def refuse(self):
        raise AssertionError("compare read every row back")

    monkeypatch.setattr(EngineEvaluation, "to_dataset", refuse)
    duck = _run_json(capsys, ["compare", pa, pb, "--json", "--resamples", "40", "--seed", "4", "--engine", "duckdb"])
    duck["b"]["source"] = memory["b"]["source"] = "b"
    assert memory["paired"] and differences(memory, duck) == []


# --- Spark ----------------------------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_spark_paired_above_the_exact_size(spark, tmp_path):
    n = bs.EXACT_MAX_CELLS + 3000
    a = _binary(n, 101)
    pa = write(a, tmp_path / "a.parquet")
    pb = write(_rescored(a, _binary(n, 102)), tmp_path / "parts", parts=2)
    assert _assert_same(spark, pa, pb)["paired"]


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_spark_unpaired_multiclass(spark, tmp_path):
    a = multiclass_ties(n=500, seed=111)
    b = multiclass_ties(n=520, seed=112)
    assert not _assert_same(spark, write(a, tmp_path / "a.parquet"), write(b, tmp_path / "b.parquet"))["paired"]


def test_duckdb_prints_no_progress_bar_into_json_output():
    # DuckDB's bar goes to stdout after 2 s of a query: inside `compare --json` on a large file
    engine = open_engine("duckdb", memory_limit="500MB")
    assert engine.row("SELECT current_setting('enable_progress_bar') AS on") == {"on": False}
    engine.close()
