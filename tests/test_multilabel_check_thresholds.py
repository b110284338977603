"""``evaldash check --thresholds FILE.json`` on multi-label files: gates at each class's own
threshold, checked against scikit-learn on the same indicators."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn import metrics as sk

from evaldash.cli import main, run
from evaldash.decision import thresholds_json
from evaldash.errors import InputError
from test_multilabel_cli import CLASSES, _write

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data" / "digits" / "predictions.csv"
T = [0.3, 0.4, 0.55, 0.6]  # per class, in class order (sorted names)


def _run(capsys, *argv):
    code = main([str(a) for a in argv])
    out = capsys.readouterr()
    return code, out.out, out.err


def _at_thresholds(y, s):
    order = [CLASSES.index(c) for c in sorted(CLASSES)]
    y, s = y[:, order], s[:, order]
    return y, s >= np.asarray(T)


def test_gates_are_checked_at_each_classs_threshold_as_scikit_learn_computes_them(tmp_path, capsys):
    path, rules = tmp_path / "p.csv", tmp_path / "t.json"
    y, pred = _at_thresholds(*_write(path, noise=0.8))
    rules.write_text(thresholds_json(sorted(CLASSES), T))
    subset = sk.accuracy_score(y, pred)
    hamming = sk.hamming_loss(y, pred)
    bride = sk.f1_score(y[:, sorted(CLASSES).index("bride")], pred[:, sorted(CLASSES).index("bride")])
    s = _write(tmp_path / "q.csv", noise=0.8)[1][:, [CLASSES.index(c) for c in sorted(CLASSES)]]
    assert subset != sk.accuracy_score(y, s >= 0.5)  # the file changes the answer
    code, out, err = _run(capsys, "check", path, "--thresholds", rules, "--min", f"subset_accuracy={subset!r}",
                          "--max", f"hamming_loss={hamming!r}", "--min", f"f1[bride]={bride!r}")
    assert code == 0, err
    assert "3 of 3 gates passed" in out
    assert f"subset_accuracy  {subset:.4f}" in out and f"hamming_loss     {hamming:.4f}" in out
    code, out, _ = _run(capsys, "check", path, "--thresholds", rules, "--min", f"subset_accuracy={subset + 1e-9!r}")
    assert code == 1 and "FAIL" in out
    # without the file the same gate is judged at 0.5 for every class, another value
    code, out, _ = _run(capsys, "check", path, "--min", f"subset_accuracy={subset!r}")
    assert f"subset_accuracy  {subset:.4f}" not in out


def test_the_baseline_is_judged_at_the_same_thresholds(tmp_path, capsys):
    a, b, rules = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "t.json"
    ya, pa = _at_thresholds(*_write(a, seed=0, noise=0.9))
    yb, pb = _at_thresholds(*_write(b, seed=0, noise=0.5))
    rules.write_text(thresholds_json(sorted(CLASSES), T))
    fa = sk.f1_score(ya, pa, average="samples", zero_division=0)
    fb = sk.f1_score(yb, pb, average="samples", zero_division=0)
    code, out, err = _run(capsys, "check", b, "--baseline", a, "--thresholds", rules, "--max-drop", "samples_f1=0")
    assert code == (0 if fb >= fa else 1), err
    assert f"samples_f1: {fb:.4f} against the baseline's {fa:.4f}" in out


@pytest.mark.parametrize("extra, match", [
    (["--threshold", "0.3"], r"use either --threshold \(one threshold\) or --thresholds FILE\.json"),
    (["--thresholds", "missing.json"], r"missing\.json: thresholds file not found"),
])
def test_bad_threshold_arguments_are_one_clear_error(tmp_path, extra, match):
    path, rules = tmp_path / "p.csv", tmp_path / "t.json"
    _write(path)
    rules.write_text(thresholds_json(sorted(CLASSES), T))
    argv = ["check", str(path), "--min", "subset_accuracy=0.1"]
    argv += ["--thresholds", str(rules)] + extra if extra[0] == "--threshold" else extra
    with pytest.raises(InputError, match=match):
        run(argv)


def test_a_thresholds_file_that_names_other_classes_is_refused(tmp_path):
    path, rules = tmp_path / "p.csv", tmp_path / "t.json"
    _write(path)
    rules.write_text(thresholds_json(["bride", "veil"], [0.3, 0.4]))
    with pytest.raises(InputError, match=r"t\.json: thresholds\.'veil' is not a class of the predictions file"):
        run(["check", str(path), "--thresholds", str(rules), "--min", "subset_accuracy=0.1"])


def test_check_thresholds_on_a_single_label_file_says_it_applies_to_multilabel_files(tmp_path):
    rules = tmp_path / "t.json"
    rules.write_text(thresholds_json([str(i) for i in range(10)], [0.5] * 10))
    with pytest.raises(InputError, match=r"predictions\.csv: check --thresholds applies to multi-label files and "
                                         r"this one is single-label"):
        run(["check", str(SAMPLE), "--thresholds", str(rules), "--min", "accuracy=0.1"])
