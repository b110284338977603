"""Bootstrap intervals (``report --ci``, the overview's) from what was counted once: the confusion
cells and each class's AUC groups, in memory and in DuckDB, give exactly the intervals that
:func:`evaldash.bootstrap.intervals` draws from the per-sample arrays."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from engine_cases import binary_ties, differences, memory_report, multiclass_ties, write
from evaldash import bootstrap
from evaldash.dataset import load_predictions
from evaldash.engines import evaluate_file, open_engine
from evaldash.evaluation import evaluate
from evaldash.report import to_jsonable


def continuous(n: int = 6000, k: int = 3, seed: int = 5) -> pd.DataFrame:
    """Scores with more distinct values than bootstrap.MAX_AUC_BINS (the quantile-bin path), and a
    block of exact ties."""
    rng = np.random.default_rng(seed)
    scores = rng.dirichlet(np.ones(k), size=n)
    scores[:500] = scores[0]
    labels = np.where(rng.random(n) < 0.7, scores.argmax(axis=1), rng.integers(0, k, size=n))
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(n)], "label": labels})
    for c in range(k):
        frame[f"score_{c}"] = scores[:, c]
    return frame


def same(a, b) -> bool:
    """Equal to the last bit (NaN as null, as the JSON report writes it)."""
    return differences(to_jsonable(a), to_jsonable(b), tol=0) == []


@pytest.fixture(scope="module")
def duck():
    engine = open_engine("duckdb", memory_limit="1GB")
    yield engine
    engine.close()


CASES = {"ties_absent_class": lambda: multiclass_ties(n=1200, seed=31), "continuous": continuous,
         "binary_extreme": lambda: binary_ties(n=3000, seed=32, unit=False)}


@pytest.mark.parametrize("case", list(CASES))
def test_intervals_from_counts_equal_those_from_the_arrays(tmp_path, case):
    path = write(CASES[case](), tmp_path / "p.parquet")
    d = load_predictions(str(path))
    want = bootstrap.intervals(d.y_true, d.y_pred, list(d.classes), resamples=200, seed=3, scores=d.scores)
    got = evaluate(d).bootstrap_intervals(200, 3)
    assert same(want, got)
    assert all(np.isfinite(v["roc_auc"]).all() for v in got["per_class"].values() if v.get("roc_auc")) or case == "ties_absent_class"


@pytest.mark.parametrize("case", list(CASES))
def test_duckdb_intervals_equal_memory(duck, tmp_path, case):
    path = write(CASES[case](), tmp_path / "parts", parts=3)
    _, m = memory_report(path)
    e = evaluate_file(duck, str(path))
    k = m.dataset.n_classes
    for c in range(k):
        want, got = m.auc_groups(c), e.auc_groups(c)
        assert (want is None and got is None) or want.tolist() == got.tolist()
    assert same(m.bootstrap_intervals(150, 7), e.bootstrap_intervals(150, 7))
    assert same(m.intervals(), e.intervals())
    # the overview's ROC AUC intervals (default resamples and seed) are report --ci's on the engine
    assert same(m.auc_intervals(), {name: v["roc_auc"] for name, v in e.bootstrap_intervals()["per_class"].items()})


def test_report_ci_on_duckdb_equals_memory(capsys, tmp_path):
    from evaldash.cli import main

    path = str(write(continuous(n=4000, seed=8), tmp_path / "c.parquet"))
    out = []
    for extra in ([], ["--engine", "duckdb"]):
        assert main(["report", path, "--json", "--ci", "--resamples", "100", "--seed", "4", *extra]) == 0
        out.append(json.loads(capsys.readouterr().out))
    assert out[0]["intervals"]["per_class"]["0"]["roc_auc"][0] < out[0]["per_class"]["0"]["roc_auc"]
    assert differences(out[0], out[1]) == []
    assert main(["report", path, "--ci", "--resamples", "100", "--engine", "duckdb"]) == 0
    assert "95%" in capsys.readouterr().out


# --- per-class thresholds (report --thresholds) in the engine --------------------------------------

@pytest.mark.parametrize("fallback", ["abstain", "argmax"])
def test_operating_points_in_duckdb_equal_memory(duck, tmp_path, fallback):
    from evaldash.decision import apply_thresholds

    frame = multiclass_ties(n=1500, seed=41)  # tied scores: equal passing scores go to the lower class
    path = write(frame, tmp_path / "p.parquet")
    _, m = memory_report(path)
    e = evaluate_file(duck, str(path))
    k = m.dataset.n_classes
    for thresholds in ([0.3] * k, [0.25, float("inf"), 0.1, -float("inf")], [0.9] * k):
        want = m.operating_points(thresholds, fallback)
        got = e.operating_points(thresholds, fallback)
        names = list(m.dataset.classes)
        assert same(want.report(names), got.report(names))
        # the memory rule itself, row by row, against scikit-learn's confusion matrix
        from sklearn.metrics import confusion_matrix

        pred = apply_thresholds(m.dataset.scores, thresholds, fallback)
        cm = confusion_matrix(m.dataset.y_true, np.where(pred < 0, k, pred), labels=list(range(k + 1)))
        assert got.confusion.tolist() == cm[:k].tolist()


def test_report_thresholds_on_duckdb_equals_memory(capsys, tmp_path):
    from evaldash.cli import main

    path = str(write(multiclass_ties(n=900, seed=42), tmp_path / "p.csv"))
    rule = tmp_path / "t.json"
    rule.write_text(json.dumps({"thresholds": {"0": 0.4, "1": 0.3, "2": None, "3": 0.2}, "fallback": "abstain"}))
    out = []
    for extra in ([], ["--engine", "duckdb"]):
        assert main(["report", path, "--json", "--thresholds", str(rule), *extra]) == 0
        out.append(json.loads(capsys.readouterr().out))
    assert out[0]["thresholds"]["abstained"] > 0
    assert differences(out[0], out[1]) == []
