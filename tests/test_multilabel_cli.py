"""The command line on multi-label files: report (JSON and text), check, compare, --ci, --task."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as sk

from evaldash.cli import main
from evaldash.decision import thresholds_json

REPORT_KEYS = ["task", "n", "classes", "per_class", "micro", "macro", "weighted", "samples", "subset_accuracy",
               "hamming_loss", "jaccard", "label_ranking_average_precision", "coverage_error", "label_ranking_loss",
               "roc_auc", "average_precision", "label_cardinality", "concept_matrix", "co_occurrence"]
CLASSES = ["bride", "bouquet", "outdoor", "cake"]


def _write(path, seed=0, n=200, noise=0.6, form="pipe"):
    rng = np.random.default_rng(seed)
    y = rng.random((n, len(CLASSES))) < 0.35
    y[:, 3] = False  # cake is never labelled: its AUC/AP are undefined (null in JSON)
    s = np.round(np.clip(0.5 * y + rng.random(y.shape) * noise, 0, 1), 3)
    frame = pd.DataFrame({"id": [f"img{i}" for i in range(n)]})
    if form == "pipe":
        frame["labels"] = ["|".join(c for c, on in zip(CLASSES, row) if on) for row in y]
    else:
        frame["concepts"] = [";".join(c for c, on in zip(CLASSES, row) if on) for row in y]
    for i, c in enumerate(CLASSES):
        frame[f"score_{c}"] = s[:, i]
    frame.to_csv(path, index=False)
    return y, s


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_report_json_has_the_issues_keys_and_null_for_nan(tmp_path, capsys):
    path = tmp_path / "p.csv"
    y, s = _write(path)
    code, out, err = _run(capsys, "report", path, "--json")
    assert code == 0, err
    r = json.loads(out)
    assert list(r) == REPORT_KEYS
    assert r["task"] == "multilabel" and r["n"] == 200 and r["classes"] == sorted(CLASSES)
    pred = s >= 0.5
    order = [CLASSES.index(c) for c in r["classes"]]
    y, s, pred = y[:, order], s[:, order], pred[:, order]
    assert r["subset_accuracy"] == pytest.approx(sk.accuracy_score(y, pred), abs=1e-12)
    assert r["samples"]["f1"] == pytest.approx(sk.f1_score(y, pred, average="samples", zero_division=0), abs=1e-12)
    assert r["per_class"]["cake"]["roc_auc"] is None and r["per_class"]["cake"]["average_precision"] is None
    assert r["per_class"]["bride"]["roc_auc"] == pytest.approx(
        sk.roc_auc_score(y[:, r["classes"].index("bride")], s[:, r["classes"].index("bride")]), abs=1e-12)
    assert r["coverage_error"] == pytest.approx(sk.coverage_error(y, s), abs=1e-12)
    assert r["concept_matrix"] == (y.T.astype(int) @ pred.astype(int)).tolist()


def test_report_text_thresholds_and_the_label_separator(tmp_path, capsys):
    path = tmp_path / "p.csv"
    _write(path, form="semicolon")
    code, out, err = _run(capsys, "report", path, "--label-sep", ";", "--threshold", "0.4")
    assert code == 0, err
    assert "(multi-label)" in out and "score >= its threshold (0.4 for every class)" in out
    assert "subset accuracy" in out and "Most frequent concept-matrix cells" in out
    assert "(no label)      (no prediction)" not in out
    assert "class 'cake' is never labelled" in out
    rules = tmp_path / "t.json"
    rules.write_text(thresholds_json(sorted(CLASSES), [0.3, 0.4, 0.5, 0.6]))
    code, out, err = _run(capsys, "report", path, "--label-sep", ";", "--thresholds", rules, "--json")
    assert code == 0, err
    assert [m["threshold"] for m in json.loads(out)["per_class"].values()] == [0.3, 0.4, 0.5, 0.6]


def test_report_ci_intervals_hold_the_point_values(tmp_path, capsys):
    path = tmp_path / "p.csv"
    _write(path)
    code, out, err = _run(capsys, "report", path, "--json", "--ci", "--resamples", "200")
    assert code == 0, err
    r = json.loads(out)
    ci = r["intervals"]
    for name, value in (("subset_accuracy", r["subset_accuracy"]), ("samples_f1", r["samples"]["f1"]),
                        ("hamming_loss", r["hamming_loss"]), ("macro_f1", r["macro"]["f1"])):
        assert ci[name][0] <= value <= ci[name][1], name
    assert ci["per_class"]["bride"]["roc_auc"][0] <= r["per_class"]["bride"]["roc_auc"] <= ci["per_class"]["bride"]["roc_auc"][1]
    assert ci["per_class"]["cake"]["roc_auc"] == [None, None]
    code, out, err = _run(capsys, "report", path, "--ci", "--resamples", "50")
    assert code == 0 and "95% intervals (50 bootstrap resamples, seed 0): subset accuracy [" in out


def test_check_gates_on_multilabel_metrics(tmp_path, capsys):
    path = tmp_path / "p.csv"
    _write(path)
    code, out, err = _run(capsys, "check", path, "--min", "samples_f1=0.1", "--max", "hamming_loss=0.9",
                          "--min", "f1[bride]=0.1")
    assert code == 0, err
    assert "3 of 3 gates passed" in out
    code, out, _ = _run(capsys, "check", path, "--min", "subset_accuracy=0.99")
    assert code == 1 and "FAIL" in out
    code, out, _ = _run(capsys, "check", path, "--min", "roc_auc[cake]=0.5")
    assert code == 1 and "metric unavailable" in out
    code, _, err = _run(capsys, "check", path, "--min", "specificity[bride]=0.5")
    assert code == 2 and "specificity is not a per-class metric of this task" in err
    code, _, err = _run(capsys, "check", path, "--min", "accuracy=0.5")
    assert code == 2 and "gate 'accuracy': unknown metric; expected one of subset_accuracy, hamming_loss" in err


def test_check_against_a_baseline_and_compare_two_files(tmp_path, capsys):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    _write(a, seed=0, noise=0.9)
    _write(b, seed=0, noise=0.5)  # the same samples and labels, a better model
    code, out, err = _run(capsys, "check", b, "--baseline", a, "--max-drop", "samples_f1=0.0",
                          "--max-drop", "hamming_loss=0.0")
    assert code == 0, err
    assert "hamming_loss:" in out and "a rise of" in out
    code, out, _ = _run(capsys, "check", a, "--baseline", b, "--max-drop", "samples_f1=0.0")
    assert code == 1 and "FAIL" in out
    code, out, err = _run(capsys, "compare", a, b, "--json", "--resamples", "100")
    assert code == 0, err
    r = json.loads(out)
    assert r["paired"] and r["task"] == "multilabel" and r["delta"]["samples_f1"] > 0
    assert r["intervals"]["samples_f1"][0] <= r["delta"]["samples_f1"] <= r["intervals"]["samples_f1"][1]
    assert set(r["delta"]) >= {"subset_accuracy", "hamming_loss", "macro_f1", "micro_f1", "f1[bride]", "macro_roc_auc"}
    code, out, err = _run(capsys, "compare", a, b, "--resamples", "100")
    assert code == 0 and "evaldash compare (multi-label)" in out and "B fixed" in out


def test_task_forcing_and_mixed_tasks(tmp_path, capsys):
    multi, single = tmp_path / "m.csv", tmp_path / "s.csv"
    _write(multi)
    pd.DataFrame({"label": ["a|b", "b", "a"], "score_a": [0.9, 0.2, 0.7], "score_b": [0.8, 0.9, 0.1]}).to_csv(single,
                                                                                                       index=False)
    code, _, err = _run(capsys, "report", single, "--json")
    assert code == 2 and "'a|b'" in err and "no score column" in err  # a class name of a single-label file
    code, out, err = _run(capsys, "report", single, "--json", "--task", "multilabel")
    assert code == 0, err
    assert json.loads(out)["task"] == "multilabel" and json.loads(out)["label_cardinality"]["true"] == pytest.approx(4 / 3)
    pd.DataFrame({"label": ["a", "b", "a"], "score_a": [0.9, 0.2, 0.7], "score_b": [0.1, 0.8, 0.3]}).to_csv(single,
                                                                                                    index=False)
    code, out, err = _run(capsys, "report", single, "--json")
    assert code == 0 and json.loads(out)["task"] == "binary"
    code, _, err = _run(capsys, "compare", multi, single)
    assert code == 2 and "are of different tasks (one multi-label, one single-label)" in err
    code, _, err = _run(capsys, "report", multi, "--positive", "bride")
    assert code == 2 and "a multi-label file has no positive class" in err
    code, _, err = _run(capsys, "report", single, "--task", "binary", "--positive", "nope")
    assert code == 2 and "is not a class" in err
    code, _, err = _run(capsys, "report", multi, "--task", "multiclass")
    assert code == 2 and "no label column" in err


def test_an_f1_gate_per_class_works_on_single_label_files_too(capsys):
    # the gate pattern once refused the digit of "f1": f1[C] was an unknown metric
    from pathlib import Path

    sample = Path(__file__).resolve().parents[1] / "sample_data" / "digits" / "predictions.csv"
    code, out, err = _run(capsys, "check", sample, "--min", "f1[3]=0.1")
    assert code == 0, err
    assert "f1[3]" in out and "1 of 1 gates passed" in out
