"""Multi-label files on the DuckDB engine give every number of the memory path (≤ 1e-9, counts
exact), the same cells in the same order and the same input errors, in every input form; and the
same numbers as scikit-learn. Spark: tests/test_engines_multilabel_spark.py."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from engine_cases import differences
from evaldash.cli import main
from evaldash.engines import open_engine
from evaldash.engines.multilabel_evaluation import EngineMultilabelEvaluation, evaluate_path
from evaldash.errors import InputError
from evaldash.report import to_jsonable
from evaldash.tasks import load_dataset
from multilabel_engine_cases import NAMES, frame, label_sets, memory_evaluation, write


@pytest.fixture
def duck():
    engine = open_engine("duckdb", memory_limit="1GB")
    yield engine
    engine.close()


def assert_same(m, e):
    """Every view the report, the gates and the concept-matrix pages read."""
    assert isinstance(e, EngineMultilabelEvaluation)
    assert differences(to_jsonable(m.report()), to_jsonable(e.report())) == []
    assert differences(to_jsonable(m.headline()), to_jsonable(e.headline())) == []
    mw, ew = m.warnings(), e.warnings()
    assert ew[:len(mw)] == mw and len(ew) - len(mw) <= 1
    pd.testing.assert_frame_equal(m.per_class_table(), e.per_class_table(), rtol=1e-12)
    pd.testing.assert_frame_equal(m.thresholds_table(), e.thresholds_table(), rtol=1e-12)
    assert e.row_totals.tolist() == m.row_totals.tolist()
    assert e.matrix_modes == m.matrix_modes
    for mode in m.matrix_modes:
        np.testing.assert_allclose(e.matrix(mode).values, m.matrix(mode).values, rtol=1e-12, atol=1e-12)
    k, n = len(m.classes), m.dataset.n
    for t in range(k + 1):
        for p in range(k + 1):
            assert e.cell_samples(t, p, limit=n).tolist() == m.cell_samples(t, p).tolist(), (t, p)
    assert e.cell_samples(0, 0, limit=5, offset=2).tolist() == m.cell_samples(0, 0)[2:7].tolist()
    for c in range(k):
        for kind in ("fp", "fn"):
            assert e.concept_errors(c, kind, limit=n).tolist() == m.concept_errors(c, kind).tolist()
    rows = np.array([7, 0, 1, n - 1])
    pd.testing.assert_frame_equal(e.label_sets(rows), m.label_sets(rows), check_dtype=False)
    if m.dataset.has_scores:
        for c in range(k):
            t, tp, fp = e.counts_at(c, [0.0, 0.35, 0.5, 0.51, 1.0, 2.0])
            want_tp, want_fp = m.sweep(c).counts_at(t)
            assert tp.tolist() == want_tp.tolist() and fp.tolist() == want_fp.tolist()
            assert e.slider_range(c) == m.slider_range(c)


CASES = {  # name: (form, suffix, given predictions, scores)
    "lists": ("list", ".parquet", None, True),
    "json arrays in CSV": ("json", ".csv", None, True),
    "joined names in CSV": ("text", ".csv", None, True),
    "joined names in Parquet": ("text", ".parquet", None, True),
    "indicators": ("indicator", ".parquet", None, True),
    "true/false in CSV": ("bool", ".csv", None, True),
    "given lists": ("list", ".parquet", "list", True),
    "given pred_ columns in CSV": ("indicator", ".csv", "indicator", True),
    "predictions only": ("text", ".csv", "text", False),
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_form_gives_the_memory_numbers_and_cells(duck, tmp_path, case):
    form, suffix, given, scores = CASES[case]
    path = write(frame(form, given=given, scores=scores, seed=len(case)), tmp_path / f"ml{suffix}")
    m = memory_evaluation(path)
    # the case holds what it claims: a class never labelled, one never predicted, rows with no label
    support, predicted = m.per_class["support"], m.per_class["tp"] + m.per_class["fp"]
    dog, cafe = m.classes.index("dog"), m.classes.index("café")
    assert support[dog] == 0 and (not scores or predicted[cafe] == 0) and m.row_totals[-1] > 0
    assert_same(m, evaluate_path(duck, str(path)))


def test_a_sample_with_every_label_a_partitioned_folder_and_thresholds(duck, tmp_path):
    path = write(frame("list", every=True, n=900, seed=3), tmp_path / "parts", parts=3)
    m = memory_evaluation(path, threshold=0.3)
    assert m.dataset.y_true[0].all()
    assert_same(m, evaluate_path(duck, str(path), threshold=0.3))
    per_class = np.array([0.2, 0.9, 0.35, 0.5, 0.61])
    e = evaluate_path(duck.sibling(), str(path), threshold=0.3)
    assert_same(m.with_thresholds(per_class), e.with_thresholds(per_class))


def test_another_separator_and_class_names_that_are_numbers(duck, tmp_path):
    y, s = label_sets(k=4, n=300, seed=9)
    table = pd.DataFrame({"tags": [";".join(str(j) for j in np.flatnonzero(r)) for r in y]})
    for j in range(4):
        table[f"score_{j}"] = s[:, j]
    path = write(table, tmp_path / "numbers.csv")
    m = memory_evaluation(path, label_sep=";")
    assert m.classes == ("0", "1", "2", "3")
    assert_same(m, evaluate_path(duck, str(path), label_sep=";"))
    lists = pd.DataFrame({"labels": [[int(j) for j in np.flatnonzero(r)] for r in y], "score_0": s[:, 0],
                          "score_1": s[:, 1], "score_2": s[:, 2], "score_3": s[:, 3]})
    path = write(lists, tmp_path / "int_lists.parquet")
    assert_same(memory_evaluation(path), evaluate_path(duck.sibling(), str(path)))


def test_scores_outside_unit_interval_and_a_given_prediction_set(duck, tmp_path):
    table = frame("indicator", given="list", seed=5)
    for name in NAMES[:5]:
        table[f"score_{name}"] = (table[f"score_{name}"] - 0.5) * 40
    path = write(table, tmp_path / "logits.parquet")
    m = memory_evaluation(path)
    assert not m.dataset.is_probability
    e = evaluate_path(duck, str(path))
    assert_same(m, e)
    assert not any("cleanlab" in w for w in e.warnings())  # as in memory: cleanlab needs probabilities


def test_the_same_numbers_as_scikit_learn(duck, tmp_path):
    from sklearn import metrics as skm

    y, s = label_sets(k=5, n=700, seed=11, every=True)
    table = pd.DataFrame({"labels": [[NAMES[j] for j in np.flatnonzero(r)] for r in y]})
    for j in range(5):
        table[f"score_{NAMES[j]}"] = s[:, j]
    path = write(table, tmp_path / "sk.parquet")
    r = evaluate_path(duck, str(path), threshold=0.45).report()
    order = [list(NAMES[:5]).index(c) for c in r["classes"]]  # the report's classes are sorted
    y, s = y[:, order], s[:, order]
    pred = s >= 0.45
    for c, name in enumerate(r["classes"]):
        assert r["per_class"][name]["roc_auc"] == pytest.approx(skm.roc_auc_score(y[:, c], s[:, c]), abs=1e-12)
        assert r["per_class"][name]["average_precision"] == pytest.approx(
            skm.average_precision_score(y[:, c], s[:, c]), abs=1e-12)
    assert r["roc_auc"]["micro"] == pytest.approx(skm.roc_auc_score(y, s, average="micro"), abs=1e-12)
    assert r["average_precision"]["micro"] == pytest.approx(skm.average_precision_score(y, s, average="micro"),
                                                            abs=1e-12)
    assert r["label_ranking_average_precision"] == pytest.approx(skm.label_ranking_average_precision_score(y, s),
                                                                 abs=1e-12)
    assert r["coverage_error"] == pytest.approx(skm.coverage_error(y, s), abs=1e-12)
    assert r["label_ranking_loss"] == pytest.approx(skm.label_ranking_loss(y, s), abs=1e-12)
    for avg in ("micro", "macro", "weighted", "samples"):
        assert r[avg]["f1"] == pytest.approx(skm.f1_score(y, pred, average=avg, zero_division=0), abs=1e-12)
        assert r[avg]["precision"] == pytest.approx(skm.precision_score(y, pred, average=avg, zero_division=0),
                                                    abs=1e-12)
    for avg in ("samples", "macro", "micro"):
        assert r["jaccard"][avg] == pytest.approx(skm.jaccard_score(y, pred, average=avg, zero_division=0), abs=1e-12)
    assert r["hamming_loss"] == pytest.approx(skm.hamming_loss(y, pred), abs=1e-15)
    assert r["subset_accuracy"] == pytest.approx(skm.accuracy_score(y, pred), abs=1e-15)


# --- input errors: the memory path's messages --------------------------------------------------

def _both_errors(duck, path, **kw):
    with pytest.raises(InputError) as mem:
        load_dataset(path, **kw)
    with pytest.raises(InputError) as eng:
        evaluate_path(duck, str(path), **kw)
    return str(mem.value), str(eng.value)


def _bad(kind: str) -> tuple[pd.DataFrame, str]:
    table = frame("indicator" if kind == "indicator 2" else "text", n=40, seed=1)
    if kind == "indicator 2":
        table.loc[[4, 9], "label_dog"] = 2
        return table, ".parquet"
    if kind == "unscored label":
        table.loc[[3, 12], "labels"] = "cat|wolf"
        return table, ".csv"
    if kind == "unscored list item":
        table["labels"] = [l.split("|") if l else [] for l in table["labels"].fillna("")]
        table.at[6, "labels"] = ["wolf", "cat"]
        return table, ".parquet"
    if kind == "not a JSON array":
        table.loc[[2, 30], "labels"] = '["cat", "dog"'
        return table, ".csv"
    if kind == "empty name":
        table.loc[[8], "labels"] = "cat||dog"
        return table, ".csv"
    if kind == "both forms":
        table["label_cat"] = 1
        return table, ".parquet"
    if kind == "predictions twice":
        table["predicted_labels"] = "cat"
        table["pred_dog"] = 0
        return table, ".parquet"
    if kind == "missing score":
        table.loc[[5], "score_owl"] = np.nan
        return table, ".parquet"
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["indicator 2", "unscored label", "unscored list item", "not a JSON array",
                                  "empty name", "both forms", "predictions twice"])
def test_bad_input_gets_the_memory_message(duck, tmp_path, kind):
    table, suffix = _bad(kind)
    mem, eng = _both_errors(duck, write(table, tmp_path / f"bad{suffix}"))
    assert eng == mem


def test_a_missing_score_is_refused_with_its_rows(duck, tmp_path):
    table, suffix = _bad("missing score")
    mem, eng = _both_errors(duck, write(table, tmp_path / f"bad{suffix}"))
    assert "'score_owl'" in mem and "row 6" in mem
    assert "'score_owl' has missing values at row 6" in eng


def test_a_null_item_in_a_label_list_is_refused(duck, tmp_path):
    table = frame("list", n=30, seed=2)
    table.at[4, "labels"] = ["cat", None]
    mem, eng = _both_errors(duck, write(table, tmp_path / "null.parquet"))
    head = "column 'labels' has label sets with an empty or non-text class name at row 5 (first: "
    assert head in mem and head in eng


def test_a_positive_class_is_refused_for_a_multilabel_file(duck, tmp_path):
    path = write(frame("list", n=30), tmp_path / "ml.parquet")
    mem, eng = _both_errors(duck, path, positive="cat")
    assert eng == mem


# --- the command line ------------------------------------------------------------------------

def run_cli(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("extra", [[], ["--threshold", "0.3"]])
def test_report_json_and_text_on_duckdb_equal_memory(capsys, tmp_path, extra):
    path = write(frame("list", seed=7), tmp_path / "ml.parquet")
    _, mem, _ = run_cli(capsys, "report", path, "--json", *extra)
    code, eng, err = run_cli(capsys, "report", path, "--json", "--engine", "duckdb", *extra)
    assert code == 0 and err == ""
    assert differences(json.loads(mem), json.loads(eng)) == []
    _, mem, _ = run_cli(capsys, "report", path, *extra)
    code, eng, _ = run_cli(capsys, "report", path, "--engine", "duckdb", *extra)
    extra_lines = [line for line in eng.splitlines() if line not in mem.splitlines()]
    assert code == 0 and eng.startswith(mem.rstrip("\n")) and extra_lines == [
        "- the duckdb engine does not compute the suspected label errors (cleanlab needs every row in memory); "
        "use --engine memory, or a sample of the rows, for them"]


def test_check_gates_thresholds_and_baseline_on_duckdb_equal_memory(capsys, tmp_path):
    path = write(frame("json", seed=8), tmp_path / "ml.csv")
    baseline = write(frame("indicator", seed=9), tmp_path / "base.parquet")
    thresholds = tmp_path / "t.json"
    thresholds.write_text(json.dumps({"thresholds": {"cat": 0.4, "dog": 0.5, "café": 0.2, "owl": None,
                                                     "emu": 0.65}}))
    args = ["check", path, "--min", "samples_f1=0.3", "--max", "hamming_loss=0.4", "--min", "f1[café]=0.2",
            "--min", "roc_auc[cat]=0.6", "--thresholds", thresholds, "--baseline", baseline,
            "--max-drop", "subset_accuracy=0.01", "--max-drop", "label_ranking_loss=0.02"]
    mem = run_cli(capsys, *args)
    eng = run_cli(capsys, *args, "--engine", "duckdb")
    assert eng == mem and "f1[café]" in mem[1] and "label_ranking_loss" in mem[1]


def test_a_single_label_file_takes_thresholds_on_an_engine_as_per_class_operating_points(capsys):
    # not a multi-label reading option: the same message as the memory path for a missing file
    args = ("report", "sample_data/digits/predictions.csv", "--thresholds", "nothing.json")
    code, _, err = run_cli(capsys, *args, "--engine", "duckdb")
    assert code == 2 and (code, err) == run_cli(capsys, *args)[::2]
    assert "nothing.json" in err


def test_compare_on_duckdb_equals_memory(capsys, tmp_path):
    a = write(frame("list", seed=12), tmp_path / "a.parquet")
    b = write(frame("text", seed=13), tmp_path / "b.csv")
    mem = run_cli(capsys, "compare", a, b, "--json", "--resamples", "40")
    eng = run_cli(capsys, "compare", a, b, "--json", "--resamples", "40", "--engine", "duckdb")
    assert eng[0] == mem[0] == 0
    assert differences(json.loads(mem[1]), json.loads(eng[1])) == []


@pytest.mark.parametrize("form", ["list", "indicator"])
def test_many_classes_take_the_stacked_queries_with_the_same_numbers(duck, tmp_path, monkeypatch, form):
    from evaldash.engines import sql

    monkeypatch.setattr(sql, "RANKING_TERMS_MAX", 0)  # the stacked form, as for more than 24 classes
    monkeypatch.setattr(sql, "MATRIX_TERMS_MAX", 0)
    path = write(frame(form, every=True, seed=21), tmp_path / "many.parquet")
    assert_same(memory_evaluation(path), evaluate_path(duck, str(path)))


def test_the_micro_sweep_in_score_ranges_gives_the_same_numbers(duck, tmp_path, monkeypatch):
    from evaldash.engines import sql

    monkeypatch.setattr(sql, "POOLED_PART_VALUES", 150)  # about 20 parts of the 600 x 5 pooled scores
    path = write(frame("list", seed=23), tmp_path / "parts.parquet")
    m, e = memory_evaluation(path), evaluate_path(duck, str(path))
    assert differences(to_jsonable(m.micro_ranking), to_jsonable(e.micro_ranking)) == []
    assert_same(m, e)


@pytest.mark.parametrize("buckets", [1, 8], ids=["one_window", "split_by_score_range"])
def test_each_concept_sweep_and_the_pooled_one_are_one_sort_of_the_rows(duck, tmp_path, monkeypatch, buckets):
    """As a single-label class's sweep; with ``buckets`` above 1 (Spark's form) each sort is split
    by score range, the pooled one too however many scores it pools (no parts)."""
    from evaldash.engines import sql

    monkeypatch.setattr(duck, "sweep_buckets", buckets)
    monkeypatch.setattr(sql, "POOLED_PART_VALUES", 10 ** 9 if buckets == 1 else 150)
    path = write(frame("list", seed=24), tmp_path / "sorts.parquet")
    seen = []
    row, run = duck.row, duck.frame
    monkeypatch.setattr(duck, "row", lambda q: seen.append(q) or row(q))
    monkeypatch.setattr(duck, "frame", lambda q: seen.append(q) or run(q))
    m, e = memory_evaluation(path), evaluate_path(duck, str(path))
    assert differences(to_jsonable(m.report()), to_jsonable(e.report())) == []
    sorts = [q for q in seen if "ev_prev" in q]
    assert len(sorts) == 5 + 1 and all(("PARTITION BY ev_bucket" in q) == (buckets > 1) for q in sorts)
