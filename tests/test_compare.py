"""Comparing two prediction files: deltas against scikit-learn, intervals against a direct paired
resampling loop with the same seed, fixed/broken against set differences, and the command line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

import evaldash
from evaldash import bootstrap as bs
from evaldash import metrics
from evaldash.cli import main
from evaldash.compare import compare, fixed_broken

ROOT = Path(__file__).resolve().parents[1]
A_CSV = ROOT / "sample_data" / "digits" / "predictions.csv"
B_CSV = ROOT / "sample_data" / "digits" / "predictions_weaker.csv"


def _ev(path):
    return evaldash.evaluate(evaldash.load_predictions(path))


def test_paired_comparison_of_the_two_sample_models_matches_direct_computation():
    a, b = _ev(A_CSV), _ev(B_CSV)
    fa = pd.read_csv(A_CSV, dtype=str)
    fb = pd.read_csv(B_CSV, dtype=str)
    r = compare(a, b, resamples=300, seed=5)
    assert r["paired"] and r["shared_classes"] == [str(c) for c in range(10)]
    assert r["delta"]["accuracy"] == pytest.approx(
        accuracy_score(fb["label"], fb["prediction"]) - accuracy_score(fa["label"], fa["prediction"]), abs=1e-12)
    labels = [str(c) for c in range(10)]
    f1a = f1_score(fa["label"], fa["prediction"], labels=labels, average=None)
    f1b = f1_score(fb["label"], fb["prediction"], labels=labels, average=None)
    assert r["delta"]["macro_f1"] == pytest.approx(f1b.mean() - f1a.mean(), abs=1e-12)
    for c in labels:
        assert r["delta"][f"f1[{c}]"] == pytest.approx(f1b[int(c)] - f1a[int(c)], abs=1e-12)
    right_a = fa["label"] == fa["prediction"]
    right_b = fb["label"] == fb["prediction"]
    assert (r["fixed"], r["broken"], r["both_wrong"]) == (
        int((~right_a & right_b).sum()), int((right_a & ~right_b).sum()), int((~right_a & ~right_b).sum()))
    assert r["verdict"].startswith("B is worse on macro F1 by ")


def test_paired_intervals_equal_a_direct_loop_with_the_same_seed():
    """Resample the (A answer, B answer) pairs one resample at a time with the same generator,
    score each resample with scikit-learn: the same percentile interval of the delta."""
    a, b = _ev(A_CSV), _ev(B_CSV)
    B = 200
    r = compare(a, b, resamples=B, seed=9)
    k = 10
    da, db = a.dataset, b.dataset
    cells_a = bs.cell_codes(da.y_true, da.y_pred, k)
    cells_b = bs.cell_codes(db.y_true, db.y_pred, k)  # same row order in both sample files
    pairs, counts = np.unique(cells_a * k * k + cells_b, return_counts=True)
    rng = np.random.default_rng(9)
    draws = rng.multinomial(da.n, counts / da.n, size=B)
    deltas = []
    for row in draws:
        sample = np.repeat(pairs, row)
        ca, cb = sample // (k * k), sample % (k * k)
        fa = f1_score(ca // k, ca % k, labels=range(k), average="macro", zero_division=0)
        fb = f1_score(cb // k, cb % k, labels=range(k), average="macro", zero_division=0)
        deltas.append(fb - fa)
    np.testing.assert_allclose(r["intervals"]["macro_f1"], np.quantile(deltas, [0.025, 0.975]), atol=1e-12)


def _other_samples(tmp_path: Path, n: int) -> Path:
    """B's first ``n`` rows under ids A does not have: a file that cannot be paired with A."""
    other = pd.read_csv(B_CSV, dtype=str).iloc[:n].copy()
    other["id"] = "x" + other["id"]
    path = tmp_path / "other.csv"
    other.to_csv(path, index=False)
    return path


def test_unpaired_when_ids_differ_and_classes_only_in_one_file(tmp_path):
    path = _other_samples(tmp_path, 500)
    r = compare(_ev(A_CSV), _ev(path), resamples=100)
    assert not r["paired"] and "fixed" not in r
    # drop class 9 from B's scores: compared on the shared classes, the missing one named
    few = pd.read_csv(B_CSV, dtype=str)
    few = few[(few["label"] != "9") & (few["prediction"] != "9")].drop(columns=["score_9"])
    path2 = tmp_path / "few.csv"
    few.to_csv(path2, index=False)
    r2 = compare(_ev(A_CSV), _ev(path2), resamples=100)
    assert r2["only_in_a"] == ["9"] and r2["only_in_b"] == [] and "f1[9]" not in r2["delta"]
    assert not r2["paired"]


def test_fixed_and_broken_rows_are_the_set_differences():
    a, b = _ev(A_CSV), _ev(B_CSV)
    got = fixed_broken(a, b)
    ra = a.dataset.y_true == a.dataset.y_pred
    rb = b.dataset.y_true == b.dataset.y_pred
    assert set(got["fixed"]) == set(np.flatnonzero(~ra & rb))
    assert set(got["broken"]) == set(np.flatnonzero(ra & ~rb))
    assert set(got["both_wrong"]) == set(np.flatnonzero(~ra & ~rb))


def _run(capsys, *args):
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def test_compare_command_json_and_text(capsys):
    code, out, err = _run(capsys, "compare", A_CSV, B_CSV, "--json", "--resamples", 200)
    assert (code, err) == (0, "")
    r = json.loads(out)
    assert {"a", "b", "delta", "intervals", "fixed", "broken"} <= set(r)
    assert r["a"]["accuracy"] == pytest.approx(0.8687, abs=1e-4) and r["b"]["n"] == 899
    assert set(r["delta"]) == {"accuracy", "macro_f1", "macro_roc_auc", "ece", *[f"f1[{c}]" for c in range(10)]}
    assert set(r["intervals"]) == set(r["delta"]) and r["unavailable"] == {}
    assert r["delta"]["macro_roc_auc"] == pytest.approx(r["b"]["roc_auc"]["macro"] - r["a"]["roc_auc"]["macro"])
    assert r["delta"]["ece"] == pytest.approx(r["b"]["calibration"]["ece"] - r["a"]["calibration"]["ece"])
    code, out, _ = _run(capsys, "compare", A_CSV, B_CSV, "--resamples", 200)
    assert code == 0 and "B is worse on macro F1" in out and "B fixed 37 samples" in out
    assert re.search(r"^macro ROC AUC +A 0\.\d{3} +B 0\.\d{3} +delta -0\.016 \[", out, re.M)
    assert re.search(r"^ECE +A 0\.\d{3} +B 0\.\d{3} +delta [+-]0\.\d{3} \[.*\(lower is better\)$", out, re.M)
    assert "B is worse on macro ROC AUC by 0.016" in out


def test_check_against_a_baseline_fails_a_worse_model(capsys):
    code, out, _ = _run(capsys, "check", B_CSV, "--baseline", A_CSV, "--max-drop", "macro_f1=0.01")
    assert code == 1 and "macro_f1" in out and "FAIL" in out
    code, out, _ = _run(capsys, "check", A_CSV, "--baseline", B_CSV, "--max-drop", "macro_f1=0.01",
                        "--max-drop", "accuracy=0")
    assert code == 0 and out.count("pass") == 2
    code, _, err = _run(capsys, "check", A_CSV, "--max-drop", "macro_f1=0.01")
    assert code == 2 and "--max-drop needs --baseline" in err


def test_report_ci_in_json(capsys):
    code, out, _ = _run(capsys, "report", A_CSV, "--json", "--ci", "--resamples", 300, "--seed", 4)
    r = json.loads(out)
    ci = r["intervals"]
    assert ci["resamples"] == 300 and ci["seed"] == 4
    assert ci["accuracy"][0] < r["accuracy"] < ci["accuracy"][1]
    assert set(ci["per_class"]) == set(r["classes"])
    d = evaldash.load_predictions(A_CSV)
    assert ci == json.loads(json.dumps(bs.intervals(d.y_true, d.y_pred, r["classes"], resamples=300, seed=4,
                                                    scores=d.scores)))
    for c in r["classes"]:
        low, high = ci["per_class"][c]["roc_auc"]
        assert low <= r["per_class"][c]["roc_auc"] <= high


# --- macro ROC AUC and ECE deltas ----------------------------------------------------------------

def _macro_auc(y: np.ndarray, scores: np.ndarray) -> float:
    """scikit-learn's one-vs-rest AUC averaged over the classes with positives and negatives."""
    return float(np.mean([roc_auc_score(y == c, scores[:, c]) for c in range(scores.shape[1])
                          if 0 < (y == c).sum() < y.size]))


def _ece(y: np.ndarray, pred: np.ndarray, scores: np.ndarray) -> float:
    conf = scores[np.arange(y.size), pred]
    return metrics.expected_calibration_error(metrics.reliability(conf, y == pred))


def _tied(path: Path, tmp_path: Path, name: str) -> Path:
    """The file with its scores rounded to 0.1 (many ties), renormalised."""
    frame = pd.read_csv(path, dtype={"label": str, "prediction": str})
    cols = [c for c in frame if c.startswith("score_")]
    rounded = frame[cols].round(1) + 1e-3
    frame[cols] = rounded.div(rounded.sum(axis=1), axis=0).round(6)
    out = tmp_path / name
    frame.to_csv(out, index=False)
    return out


@pytest.mark.parametrize("tied", [False, True])
def test_auc_and_ece_deltas_equal_sklearn_and_their_paired_intervals_a_direct_loop(tied, tmp_path):
    """Point deltas from scikit-learn's roc_auc_score and the metrics module's ECE on each file;
    intervals from a loop drawing the same rows for both models (``rng.integers``, one resample
    after the other, same seed), scoring each resample the same way."""
    pa_, pb_ = (_tied(A_CSV, tmp_path, "a.csv"), _tied(B_CSV, tmp_path, "b.csv")) if tied else (A_CSV, B_CSV)
    a, b = _ev(pa_), _ev(pb_)
    B = 60
    r = compare(a, b, resamples=B, seed=7)
    da, db = a.dataset, b.dataset
    assert r["paired"] and r["unavailable"] == {}
    assert r["delta"]["macro_roc_auc"] == pytest.approx(_macro_auc(db.y_true, db.scores) - _macro_auc(da.y_true, da.scores),
                                                        abs=1e-12)
    assert r["delta"]["ece"] == pytest.approx(_ece(db.y_true, db.y_pred, db.scores) - _ece(da.y_true, da.y_pred, da.scores),
                                              abs=1e-12)
    rng = np.random.default_rng(7)
    auc, ece = [], []
    for _ in range(B):
        i = rng.integers(0, da.n, size=da.n)  # same row order in both sample files
        auc.append(_macro_auc(db.y_true[i], db.scores[i]) - _macro_auc(da.y_true[i], da.scores[i]))
        ece.append(_ece(db.y_true[i], db.y_pred[i], db.scores[i]) - _ece(da.y_true[i], da.y_pred[i], da.scores[i]))
    np.testing.assert_allclose(r["intervals"]["macro_roc_auc"], np.quantile(auc, [0.025, 0.975]), atol=1e-12)
    np.testing.assert_allclose(r["intervals"]["ece"], np.quantile(ece, [0.025, 0.975]), atol=1e-12)
    assert r["verdict_auc"].startswith("B is worse on macro ROC AUC")


def test_unpaired_auc_and_ece_intervals_resample_each_file_on_its_own(tmp_path):
    """Different samples: A resampled with the seed, B with the seed + 1, each scored on its own."""
    path = _other_samples(tmp_path, 400)
    a, b = _ev(A_CSV), _ev(path)
    B = 40
    r = compare(a, b, resamples=B, seed=2)
    assert not r["paired"]
    da, db = a.dataset, b.dataset
    ra, rb = np.random.default_rng(2), np.random.default_rng(3)
    auc, ece = [], []
    for _ in range(B):
        i = ra.integers(0, da.n, size=da.n)
        j = rb.integers(0, db.n, size=db.n)
        auc.append(_macro_auc(db.y_true[j], db.scores[j]) - _macro_auc(da.y_true[i], da.scores[i]))
    ra, rb = np.random.default_rng(2), np.random.default_rng(3)
    for _ in range(B):
        i = ra.integers(0, da.n, size=da.n)
        j = rb.integers(0, db.n, size=db.n)
        ece.append(_ece(db.y_true[j], db.y_pred[j], db.scores[j]) - _ece(da.y_true[i], da.y_pred[i], da.scores[i]))
    np.testing.assert_allclose(r["intervals"]["macro_roc_auc"], np.quantile(auc, [0.025, 0.975]), atol=1e-12)
    np.testing.assert_allclose(r["intervals"]["ece"], np.quantile(ece, [0.025, 0.975]), atol=1e-12)


def test_without_scores_the_auc_and_ece_deltas_are_absent_and_say_why(tmp_path, capsys):
    frame = pd.read_csv(B_CSV, dtype=str)[["id", "label", "prediction"]]
    path = tmp_path / "no_scores.csv"
    frame.to_csv(path, index=False)
    r = compare(_ev(A_CSV), _ev(path), resamples=50)
    assert r["paired"] and "macro_roc_auc" not in r["delta"] and "ece" not in r["delta"]
    assert "macro_roc_auc" not in r["intervals"] and "verdict_auc" not in r
    assert r["unavailable"]["macro_roc_auc"] == f"B ({path}) has no scores"
    assert r["unavailable"]["ece"].startswith(f"B ({path}): ")
    assert {"accuracy", "macro_f1", "f1[0]"} <= set(r["delta"])
    code, out, _ = _run(capsys, "compare", path, A_CSV, "--resamples", 50)
    assert code == 0 and re.search(r"^macro ROC AUC +unavailable: A \(.*no_scores.csv\) has no scores$", out, re.M)
    code, out, _ = _run(capsys, "compare", path, A_CSV, "--resamples", 50, "--json")
    assert "macro_roc_auc" in json.loads(out)["unavailable"]
