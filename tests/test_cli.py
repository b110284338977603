"""The command line: ``evaldash report`` (text and JSON), ``evaldash check`` and error handling.

Every expected number is computed here with pandas and scikit-learn from the file itself.
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import (accuracy_score, average_precision_score, confusion_matrix,
                             precision_recall_fscore_support, roc_auc_score)

from evaldash.cli import main

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "sample_data" / "digits" / "predictions.csv"
BINARY = ROOT / "sample_data" / "digits" / "binary_three.csv"


# --- an independent reference ----------------------------------------------------

def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


@dataclass
class Reference:
    """The file read with pandas, predictions decided here, metrics from scikit-learn."""

    classes: list[str]
    y_true: np.ndarray  # shape (n,), class names
    y_pred: np.ndarray  # shape (n,), class names
    scores: np.ndarray  # shape (n, k)
    positive: int = 1  # binary: index of the positive class

    @classmethod
    def from_file(cls, path: Path, positive: str | None = None, threshold: float | None = None):
        frame = pd.read_csv(path, dtype={"label": str, "prediction": str})
        score_cols = [c for c in frame.columns if c.startswith("score_")]
        if score_cols:
            names = [c[len("score_"):] for c in score_cols]
            classes = sorted(names, key=float) if all(map(_is_number, names)) else sorted(names)
            scores = frame[[f"score_{c}" for c in classes]].to_numpy(dtype=float)
            pos = classes.index(positive) if positive is not None else 1
        else:  # binary, one `score` column holding the positive class's score
            found = set(frame["label"]) | ({positive} if positive else set())
            classes = sorted(found, key=float) if all(map(_is_number, found)) else sorted(found)
            pos = classes.index(positive) if positive is not None else 1
            s = frame["score"].to_numpy(dtype=float)
            scores = np.empty((len(s), 2))
            scores[:, pos], scores[:, 1 - pos] = s, 1.0 - s
        names = np.array(classes, dtype=object)
        if threshold is not None:
            y_pred = np.where(scores[:, pos] >= threshold, classes[pos], classes[1 - pos]).astype(object)
        elif "prediction" in frame:
            y_pred = frame["prediction"].to_numpy(dtype=object)
        elif not score_cols:  # one probability per row: positive when score >= 0.5
            y_pred = np.where(scores[:, pos] >= 0.5, classes[pos], classes[1 - pos]).astype(object)
        else:
            y_pred = names[np.argmax(scores, axis=1)]  # ties: the first class
        return cls(classes, frame["label"].to_numpy(dtype=object), y_pred, scores, pos)

    def prf(self, average):
        return precision_recall_fscore_support(self.y_true, self.y_pred, labels=self.classes,
                                               average=average, zero_division=0)

    def confusion(self) -> np.ndarray:
        return confusion_matrix(self.y_true, self.y_pred, labels=self.classes)

    def roc_auc(self, c: int) -> float | None:
        pos = self.y_true == self.classes[c]
        if pos.all() or not pos.any():
            return None
        return roc_auc_score(pos, self.scores[:, c])

    def average_precision(self, c: int) -> float | None:
        pos = self.y_true == self.classes[c]
        if not pos.any():
            return None
        return average_precision_score(pos, self.scores[:, c])

    def roc_auc_macro(self) -> float:
        if len(self.classes) == 2:  # binary: the positive class's AUC, as scikit-learn scores it
            return self.roc_auc(self.positive)
        defined = [v for v in (self.roc_auc(c) for c in range(len(self.classes))) if v is not None]
        return float(np.mean(defined))

    def roc_auc_micro(self) -> float:
        if len(self.classes) == 2:
            return self.roc_auc(self.positive)
        onehot = self.y_true[:, None] == np.array(self.classes, dtype=object)[None, :]
        return roc_auc_score(onehot.astype(int), self.scores, average="micro")


# --- running the CLI -------------------------------------------------------------

def run_cli(capsys, *args) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def report_json(capsys, *args) -> dict:
    code, out, err = run_cli(capsys, "report", *args, "--json")
    assert code == 0, err
    assert err == ""

    def no_constants(name):
        raise AssertionError(f"non-standard JSON constant {name} in the output")

    return json.loads(out, parse_constant=no_constants)


def assert_usage_error(code: int, out: str, err: str, *needles: str) -> str:
    assert code == 2
    assert out == ""
    lines = err.splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ")
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    return lines[0]


APPROX = dict(rel=1e-9, abs=1e-12)


def assert_report_matches(report: dict, ref: Reference) -> None:
    assert report["n"] == len(ref.y_true)
    assert report["classes"] == ref.classes
    assert all(isinstance(c, str) for c in report["classes"])
    assert report["accuracy"] == pytest.approx(accuracy_score(ref.y_true, ref.y_pred), **APPROX)
    for average in ("macro", "weighted", "micro"):
        p, r, f, _ = ref.prf(average)
        assert report[average] == pytest.approx({"precision": p, "recall": r, "f1": f}, **APPROX), average
    assert report["confusion_matrix"] == ref.confusion().tolist()
    p, r, f, support = ref.prf(None)
    assert list(report["per_class"]) == ref.classes
    for c, name in enumerate(ref.classes):
        got = report["per_class"][name]
        assert got["precision"] == pytest.approx(p[c], **APPROX), name
        assert got["recall"] == pytest.approx(r[c], **APPROX), name
        assert got["f1"] == pytest.approx(f[c], **APPROX), name
        assert got["support"] == support[c]
        for key, want in (("roc_auc", ref.roc_auc(c)), ("average_precision", ref.average_precision(c))):
            if want is None:
                assert got[key] is None, (name, key)
            else:
                assert got[key] == pytest.approx(want, **APPROX), (name, key)
    assert report["roc_auc"]["macro"] == pytest.approx(ref.roc_auc_macro(), **APPROX)
    assert report["roc_auc"]["micro"] == pytest.approx(ref.roc_auc_micro(), **APPROX)
    assert isinstance(report["warnings"], list)
    assert all(isinstance(w, str) for w in report["warnings"])


# --- files -------------------------------------------------------------------------

@pytest.fixture
def no_positives_csv(tmp_path) -> Path:
    """Three classes with scores; class "2" never occurs as a label (but is predicted)."""
    rng = np.random.default_rng(11)
    n = 120
    y = rng.integers(0, 2, size=n)
    raw = rng.gamma(1.0, size=(n, 3))
    raw[np.arange(n), y] += 1.0
    scores = raw / raw.sum(axis=1, keepdims=True)
    frame = pd.DataFrame({"label": y})
    for c in range(3):
        frame[f"score_{c}"] = scores[:, c]
    path = tmp_path / "no_positives.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def numeric_order_csv(tmp_path) -> Path:
    """Classes "1", "2", "10": numeric order, not string order; no prediction column."""
    rng = np.random.default_rng(12)
    names = ["10", "2", "1"]
    n = 90
    y = rng.integers(0, 3, size=n)
    raw = rng.gamma(1.0, size=(n, 3))
    raw[np.arange(n), y] += 1.5
    scores = raw / raw.sum(axis=1, keepdims=True)
    frame = pd.DataFrame({"label": [names[i] for i in y]})
    for c, name in enumerate(names):
        frame[f"score_{name}"] = scores[:, c]
    path = tmp_path / "numeric_order.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def two_column_binary_csv(tmp_path) -> Path:
    rng = np.random.default_rng(13)
    n = 200
    y = rng.random(n) < 0.3
    dog = np.clip(np.where(y, rng.normal(0.65, 0.2, n), rng.normal(0.35, 0.2, n)), 0, 1).round(2)
    frame = pd.DataFrame({"label": np.where(y, "dog", "cat"), "score_cat": 1 - dog, "score_dog": dog})
    path = tmp_path / "cats_dogs.csv"
    frame.to_csv(path, index=False)
    return path


# --- report: text ---------------------------------------------------------------------

def test_report_text_shows_accuracy_averages_classes_and_matrix(capsys):
    code, out, err = run_cli(capsys, "report", SAMPLE)
    assert code == 0 and err == ""
    ref = Reference.from_file(SAMPLE)
    acc = accuracy_score(ref.y_true, ref.y_pred)
    assert re.search(rf"\baccuracy\s+{acc:.3f}\b", out)
    assert re.search(rf"\berror rate\s+{1 - acc:.3f}\b", out)
    for average in ("macro", "weighted", "micro"):
        p, r, f, _ = ref.prf(average)
        line = next(l for l in out.splitlines() if l.startswith(average))
        assert re.search(rf"precision\s+{p:.3f}\b.*recall\s+{r:.3f}\b.*f1\s+{f:.3f}\b", line), line
    assert f"{ref.roc_auc_macro():.3f}" in next(l for l in out.splitlines() if l.startswith("ROC AUC"))
    p, r, f, support = ref.prf(None)
    lines = out.splitlines()
    table = lines.index(next(l for l in lines if l.startswith("class ")))
    for c, name in enumerate(ref.classes):
        tokens = lines[table + 2 + c].split()
        assert tokens[:5] == [name, f"{p[c]:.3f}", f"{r[c]:.3f}", f"{f[c]:.3f}", str(support[c])]
        assert tokens[5] == f"{ref.roc_auc(c):.3f}"
        assert tokens[6] == f"{ref.average_precision(c):.3f}"
    cm = ref.confusion()
    matrix = lines.index(next(l for l in lines if l.startswith("true \\ pred")))
    for c, name in enumerate(ref.classes):
        assert lines[matrix + 2 + c].split() == [name, *map(str, cm[c])]


def test_report_text_on_binary_names_the_positive_class(capsys):
    code, out, _ = run_cli(capsys, "report", BINARY)
    assert code == 0
    ref = Reference.from_file(BINARY)
    assert f"positive class '{ref.classes[1]}'" in out
    assert re.search(rf"\baccuracy\s+{accuracy_score(ref.y_true, ref.y_pred):.3f}\b", out)


# --- report: JSON -----------------------------------------------------------------------

def test_report_json_matches_sklearn_on_sample(capsys):
    report = report_json(capsys, SAMPLE)
    ref = Reference.from_file(SAMPLE)
    assert_report_matches(report, ref)
    # the full data set has every class: sklearn's own macro ROC AUC agrees
    assert report["roc_auc"]["macro"] == pytest.approx(
        roc_auc_score(ref.y_true, ref.scores, multi_class="ovr", labels=ref.classes), **APPROX)
    assert report["warnings"] == []


def test_report_json_matches_sklearn_on_binary_sample(capsys):
    report = report_json(capsys, BINARY)
    ref = Reference.from_file(BINARY)
    assert_report_matches(report, ref)
    assert report["classes"] == ["other", "three"]
    # a binary ROC AUC is the same for both classes
    pos = ref.y_true == "three"
    assert report["per_class"]["three"]["roc_auc"] == pytest.approx(
        roc_auc_score(pos, ref.scores[:, 1]), **APPROX)


def test_report_json_class_order_is_numeric(capsys, numeric_order_csv):
    report = report_json(capsys, numeric_order_csv)
    assert report["classes"] == ["1", "2", "10"]
    assert_report_matches(report, Reference.from_file(numeric_order_csv))


def test_report_json_writes_nan_as_null_for_class_without_positives(capsys, no_positives_csv):
    report = report_json(capsys, no_positives_csv)
    ref = Reference.from_file(no_positives_csv)
    assert "2" not in set(ref.y_true)
    assert_report_matches(report, ref)
    assert report["per_class"]["2"]["roc_auc"] is None
    assert report["per_class"]["2"]["average_precision"] is None
    assert report["per_class"]["2"]["support"] == 0
    assert any("'2'" in w for w in report["warnings"])


def test_report_json_threshold_on_binary_uses_score_at_least_t(capsys):
    frame = pd.read_csv(BINARY)
    # a threshold equal to a score in the file: that sample must count as positive
    t = float(np.sort(frame["score"].unique())[::-1][99])
    report = report_json(capsys, BINARY, "--threshold", t)
    ref = Reference.from_file(BINARY, threshold=t)
    assert (frame["score"] == t).any()
    assert report["confusion_matrix"] == ref.confusion().tolist()
    assert_report_matches(report, ref)
    assert report["confusion_matrix"] != Reference.from_file(BINARY).confusion().tolist()


@pytest.mark.parametrize("t", [0.0, 0.05, 0.5, 0.95, 1.0, 2.0])
def test_report_threshold_confusion_matches_sklearn(capsys, t):
    frame = pd.read_csv(BINARY, dtype={"label": str})
    y_pred = np.where(frame["score"] >= t, "three", "other")
    want = confusion_matrix(frame["label"], y_pred, labels=["other", "three"])
    assert report_json(capsys, BINARY, "--threshold", t)["confusion_matrix"] == want.tolist()


def test_report_positive_chooses_the_class_the_threshold_applies_to(capsys, two_column_binary_csv):
    frame = pd.read_csv(two_column_binary_csv)
    t = 0.4
    for positive, column in ((None, "score_dog"), ("dog", "score_dog"), ("cat", "score_cat")):
        args = ["--positive", positive] if positive else []
        report = report_json(capsys, two_column_binary_csv, "--threshold", t, *args)
        pos = positive or "dog"
        other = "cat" if pos == "dog" else "dog"
        y_pred = np.where(frame[column] >= t, pos, other)
        want = confusion_matrix(frame["label"], y_pred, labels=["cat", "dog"])
        assert report["confusion_matrix"] == want.tolist(), positive
        assert_report_matches(report, Reference.from_file(two_column_binary_csv, positive=positive, threshold=t))


def test_report_positive_on_single_score_column(capsys):
    # the `score` column holds the score of the class named by --positive
    report = report_json(capsys, BINARY, "--positive", "other", "--threshold", 0.3)
    ref = Reference.from_file(BINARY, positive="other", threshold=0.3)
    assert_report_matches(report, ref)
    frame = pd.read_csv(BINARY, dtype={"label": str})
    want = confusion_matrix(frame["label"], np.where(frame["score"] >= 0.3, "other", "three"),
                            labels=["other", "three"])
    assert report["confusion_matrix"] == want.tolist()


def test_report_unknown_positive_is_an_error(capsys):
    assert_usage_error(*run_cli(capsys, "report", BINARY, "--positive", "seven"), "seven")


# --- check ---------------------------------------------------------------------------------

def gate_rows(out: str) -> dict[str, list[str]]:
    """The gate table as gate name → [value, limit, result] (header and rule skipped)."""
    lines = out.splitlines()
    header = lines[0].split()
    assert header == ["gate", "value", "limit", "result"], lines[0]
    rows = {}
    for line in lines[2:]:
        if not line.strip():
            break
        parts = re.split(r"\s{2,}", line.strip())
        rows[parts[0]] = parts[1:]
    return rows


@pytest.fixture(scope="module")
def sample_truth():
    ref = Reference.from_file(SAMPLE)
    acc = accuracy_score(ref.y_true, ref.y_pred)
    _, _, macro_f1, _ = ref.prf("macro")
    _, recall, _, _ = ref.prf(None)
    return {"accuracy": acc, "error_rate": 1 - acc, "macro_f1": macro_f1,
            "recall[3]": recall[ref.classes.index("3")]}


def test_check_passes_with_exit_0_when_every_gate_passes(capsys, sample_truth):
    v = sample_truth
    code, out, err = run_cli(capsys, "check", SAMPLE,
                             "--min", f"accuracy={v['accuracy'] - 0.01}",
                             "--min", f"macro_f1={v['macro_f1'] - 0.01}",
                             "--max", f"error_rate={v['error_rate'] + 0.01}",
                             "--min", f"recall[3]={v['recall[3]'] - 0.01}")
    assert code == 0, out + err
    assert err == ""
    rows = gate_rows(out)
    assert set(rows) == {"accuracy", "macro_f1", "error_rate", "recall[3]"}
    for name, (value, limit, result) in rows.items():
        assert float(value) == pytest.approx(v[name], abs=5e-5), name
        assert result == "pass", name
    assert rows["accuracy"][1] == f">= {v['accuracy'] - 0.01:g}"
    assert rows["error_rate"][1] == f"<= {v['error_rate'] + 0.01:g}"


@pytest.mark.parametrize("failing", ["accuracy", "macro_f1", "error_rate", "recall[3]"])
def test_check_fails_with_exit_1_naming_the_failed_gate(capsys, sample_truth, failing):
    v = sample_truth
    # every gate passes except `failing`, whose limit is just beyond its true value
    limits = {name: v[name] + (0.01 if name == "error_rate" else -0.01) for name in v}
    limits[failing] = v[failing] + (-0.01 if failing == "error_rate" else 0.01)
    args = []
    for name, limit in limits.items():
        args += ["--max" if name == "error_rate" else "--min", f"{name}={limit}"]
    code, out, err = run_cli(capsys, "check", SAMPLE, *args)
    assert code == 1
    assert err == ""
    rows = gate_rows(out)
    assert {name: row[2] for name, row in rows.items()} == {
        name: ("FAIL" if name == failing else "pass") for name in v}
    assert float(rows[failing][0]) == pytest.approx(v[failing], abs=5e-5)


def test_check_max_gate_on_error_rate(capsys, sample_truth):
    err_rate = sample_truth["error_rate"]
    assert run_cli(capsys, "check", SAMPLE, "--max", f"error_rate={err_rate + 0.001}")[0] == 0
    code, out, _ = run_cli(capsys, "check", SAMPLE, "--max", f"error_rate={err_rate - 0.001}")
    assert code == 1
    assert gate_rows(out)["error_rate"][2] == "FAIL"


def test_check_per_class_gate_uses_that_class(capsys):
    ref = Reference.from_file(SAMPLE)
    _, recall, _, _ = ref.prf(None)
    # the per-class recalls differ, so only the right class's value passes this tight gate
    for c in (3, 8):
        code, out, _ = run_cli(capsys, "check", SAMPLE, "--min", f"recall[{c}]={recall[c]}",
                               "--max", f"recall[{c}]={recall[c]}")
        assert code == 0, out
        assert float(gate_rows(out)[f"recall[{c}]"][0]) == pytest.approx(recall[c], abs=5e-5)
    assert recall[3] != recall[8]


def test_check_gate_on_undefined_metric_fails(capsys, no_positives_csv):
    code, out, _ = run_cli(capsys, "check", no_positives_csv, "--min", "roc_auc[2]=0.5")
    assert code == 1
    assert gate_rows(out)["roc_auc[2]"][2].startswith("FAIL")


def test_check_threshold_changes_the_gated_values(capsys):
    ref = Reference.from_file(BINARY, threshold=0.3)
    acc = accuracy_score(ref.y_true, ref.y_pred)
    code, out, _ = run_cli(capsys, "check", BINARY, "--threshold", 0.3, "--min", f"accuracy={acc}")
    assert code == 0
    assert float(gate_rows(out)["accuracy"][0]) == pytest.approx(acc, abs=5e-5)


# --- errors: exit 2, one line, no traceback ---------------------------------------------------

@pytest.mark.parametrize("gate,needle", [
    ("bogus_metric=0.5", "bogus_metric"),
    ("recall[42]=0.5", "42"),
    ("f2[3]=0.5", "f2[3]"),
])
def test_check_unknown_metric_is_an_error(capsys, gate, needle):
    assert_usage_error(*run_cli(capsys, "check", SAMPLE, "--min", gate), needle)


@pytest.mark.parametrize("gate", ["accuracy", "accuracy=", "=0.9", "accuracy=high", "accuracy=nan",
                                  "accuracy=inf"])
def test_check_bad_gate_syntax_is_an_error(capsys, gate):
    assert_usage_error(*run_cli(capsys, "check", SAMPLE, "--min", gate))


def test_check_without_gates_is_an_error(capsys):
    assert_usage_error(*run_cli(capsys, "check", SAMPLE))


def write_bad(tmp_path: Path, kind: str) -> Path:
    if kind == "missing":
        return tmp_path / "nowhere.csv"
    path = tmp_path / f"{kind}.csv"
    if kind == "empty":
        path.write_text("")
    elif kind == "header_only":
        path.write_text("label,score_a,score_b\n")
    elif kind == "no_label":
        path.write_text("truth,score_a,score_b\na,0.4,0.6\n")
    elif kind == "binary_garbage":
        path.write_bytes(bytes(range(256)) * 16)
    elif kind == "non_numeric_score":
        path.write_text("label,score_a,score_b\na,0.4,0.6\nb,high,0.3\n")
    elif kind == "wrong_delimiter":
        path.write_text("label;score_a;score_b\na;0.4;0.6\nb;0.7;0.3\n")
    return path


@pytest.mark.parametrize("command", ["report", "check"])
@pytest.mark.parametrize("kind", ["missing", "empty", "header_only", "no_label", "binary_garbage",
                                  "non_numeric_score", "wrong_delimiter"])
def test_bad_or_missing_file_is_an_error_naming_it(capsys, tmp_path, kind, command):
    path = write_bad(tmp_path, kind)
    gates = ["--min", "accuracy=0.5"] if command == "check" else []
    assert_usage_error(*run_cli(capsys, command, path, *gates), path.name)


@pytest.mark.parametrize("argv", [
    [],
    ["frobnicate"],
    ["report"],
    ["report", str(SAMPLE), "--frobnicate"],
    ["report", str(SAMPLE), "--threshold", "abc"],
    ["report", str(BINARY), "--threshold", "nan"],
    ["check", str(SAMPLE), "--min"],
])
def test_bad_arguments_are_one_line_errors(capsys, argv):
    assert_usage_error(*run_cli(capsys, *argv))


def test_unknown_subcommand_names_it(capsys):
    assert_usage_error(*run_cli(capsys, "frobnicate"), "frobnicate")


# --- a real process --------------------------------------------------------------------------

def run_process(*args, module: bool = True) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "evaldash.cli"] if module else [shutil.which("evaldash")]
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    return subprocess.run([*cmd, *map(str, args)], capture_output=True, text=True, timeout=120,
                          cwd=ROOT, env=env)


def test_subprocess_report_json_matches_sklearn():
    proc = run_process("report", SAMPLE, "--json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert_report_matches(json.loads(proc.stdout), Reference.from_file(SAMPLE))


def test_subprocess_check_exit_codes(sample_truth):
    acc = sample_truth["accuracy"]
    assert run_process("check", SAMPLE, "--min", f"accuracy={acc - 0.01}").returncode == 0
    assert run_process("check", SAMPLE, "--min", f"accuracy={acc + 0.01}").returncode == 1


@pytest.mark.parametrize("args", [["report", "nowhere.csv"], ["frobnicate"], []])
def test_subprocess_errors_are_one_line_without_traceback(args):
    proc = run_process(*args)
    assert_usage_error(proc.returncode, proc.stdout, proc.stderr)


@pytest.mark.skipif(shutil.which("evaldash") is None, reason="the evaldash console script is not installed")
def test_console_script_runs():
    proc = run_process("report", BINARY, "--json", module=False)
    assert proc.returncode == 0, proc.stderr
    assert_report_matches(json.loads(proc.stdout), Reference.from_file(BINARY))
    proc = run_process("check", BINARY, "--min", "nonsense=1", module=False)
    assert_usage_error(proc.returncode, proc.stdout, proc.stderr, "nonsense")


def test_report_json_without_scores_has_null_ranking_metrics(capsys, tmp_path):
    frame = pd.read_csv(SAMPLE, dtype={"label": str, "prediction": str})
    path = tmp_path / "predictions_only.csv"
    frame[["id", "label", "prediction"]].to_csv(path, index=False)
    report = report_json(capsys, path)
    classes = [str(c) for c in range(10)]
    assert report["classes"] == classes
    assert report["accuracy"] == pytest.approx(accuracy_score(frame["label"], frame["prediction"]), **APPROX)
    assert report["confusion_matrix"] == confusion_matrix(frame["label"], frame["prediction"],
                                                          labels=classes).tolist()
    assert report["roc_auc"] == {"macro": None, "micro": None}
    assert all(m["roc_auc"] is None and m["average_precision"] is None for m in report["per_class"].values())
    assert any("no scores" in w for w in report["warnings"])


# --- evaldash annotations export / import --------------------------------------------------

def test_annotations_import_then_export_csv_json_and_predictions(capsys, tmp_path):
    from evaldash import load_predictions
    from evaldash.annotations import AnnotationStore

    db = tmp_path / "team.db"
    frame = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    ids = list(frame["id"][:3])
    src = tmp_path / "made_elsewhere.csv"
    pd.DataFrame({"sample_id": ids, "tags": ["label error; ambiguous", "bad image", ""],
                  "note": ["=SUM(A1)", "", "looks like a 7"], "corrected_label": ["7", "", ""],
                  "annotator": ["ann", "bob", "ann"],
                  "updated_at": ["2026-11-20T10:00:00+00:00", "", ""]}).to_csv(src, index=False)
    code, out, err = run_cli(capsys, "annotations", "import", str(SAMPLE), "--db", str(db), "--input", str(src))
    assert (code, err) == (0, "") and "imported annotations of 3 samples" in out
    fingerprint = load_predictions(SAMPLE).fingerprint()
    state = AnnotationStore(db).state(fingerprint)
    assert state.loc[ids[0], "tags"] == ("ambiguous", "label error") and state.loc[ids[0], "corrected_label"] == "7"

    out_csv = tmp_path / "a.csv"
    assert run_cli(capsys, "annotations", "export", str(SAMPLE), "--db", str(db), "--output", str(out_csv))[0] == 0
    table = pd.read_csv(out_csv, dtype=str, keep_default_na=False)
    assert list(table["sample_id"]) == ids and table.loc[0, "note"] == "'=SUM(A1)"  # no formula runs
    assert table.loc[0, "updated_at"].startswith("2026-11-20T10:00:00")

    out_json = tmp_path / "a.json"
    assert run_cli(capsys, "annotations", "export", str(SAMPLE), "--db", str(db), "--output", str(out_json))[0] == 0
    data = json.loads(out_json.read_text())
    assert data["dataset"] == fingerprint and data["annotations"][1]["tags"] == ["bad image"]

    out_pred = tmp_path / "fixed.predictions.csv"
    assert run_cli(capsys, "annotations", "export", str(SAMPLE), "--db", str(db), "--output", str(out_pred))[0] == 0
    fixed = pd.read_csv(out_pred, dtype=str, keep_default_na=False)
    assert list(fixed.columns) == list(frame.columns) + ["label_corrected"]
    assert fixed.drop(columns="label_corrected").equals(frame)  # the file itself, spelled as it was
    want = frame["label"].copy()
    want.iloc[0] = "7"
    assert list(fixed["label_corrected"]) == list(want)


def test_annotations_of_one_file_never_show_for_another(capsys, tmp_path):
    db = tmp_path / "a.db"
    src = tmp_path / "in.csv"
    sid = pd.read_csv(BINARY, dtype=str)["id"][0]
    pd.DataFrame({"sample_id": [sid], "tags": ["duplicate"], "annotator": ["ann"]}).to_csv(src, index=False)
    assert run_cli(capsys, "annotations", "import", str(BINARY), "--db", str(db), "--input", str(src))[0] == 0
    out = tmp_path / "other.csv"
    assert run_cli(capsys, "annotations", "export", str(SAMPLE), "--db", str(db), "--output", str(out))[0] == 0
    assert pd.read_csv(out).empty


def test_annotations_import_records_who_imported_and_the_original_author(capsys, tmp_path, db_url, monkeypatch):
    from evaldash import load_predictions
    from evaldash.annotations import AnnotationStore

    ids = list(pd.read_csv(SAMPLE, dtype=str)["id"][:2])
    src = tmp_path / "from_the_lab.csv"
    pd.DataFrame({"sample_id": ids, "tags": ["ambiguous", ""], "corrected_label": ["7", ""],
                  "note": ["", "blurred"], "annotator": ["ann", "bob"]}).to_csv(src, index=False)
    monkeypatch.setenv("LOGNAME", "osuser")  # getpass.getuser(): who runs the command
    code, out, err = run_cli(capsys, "annotations", "import", str(SAMPLE), "--db", db_url, "--input", str(src))
    assert (code, err) == (0, "")
    assert run_cli(capsys, "annotations", "import", str(SAMPLE), "--db", db_url, "--input", str(src),
                   "--as", "Carol Lead")[0] == 0
    events = AnnotationStore(db_url).events(load_predictions(SAMPLE).fingerprint())
    assert list(events["annotator"]) == ["osuser"] * 3 + ["Carol Lead"] * 3
    assert list(events["original_annotator"]) == ["ann", "ann", "bob"] * 2
    out_csv = tmp_path / "out.csv"
    assert run_cli(capsys, "annotations", "export", str(SAMPLE), "--db", db_url, "--output", str(out_csv))[0] == 0
    table = pd.read_csv(out_csv, dtype=str, keep_default_na=False)
    assert list(table.columns) == ["sample_id", "tags", "note", "corrected_label", "annotator",
                                   "original_annotator", "updated_at"]
    assert list(table["annotator"]) == ["Carol Lead"] * 2 and list(table["original_annotator"]) == ["ann", "bob"]
    out_json = tmp_path / "out.json"
    assert run_cli(capsys, "annotations", "export", str(SAMPLE), "--db", db_url, "--output", str(out_json))[0] == 0
    assert [a["original_annotator"] for a in json.loads(out_json.read_text())["annotations"]] == ["ann", "bob"]


def test_annotations_import_refuses_labels_that_are_not_classes(capsys, tmp_path, db_url):
    from evaldash import load_predictions
    from evaldash.annotations import AnnotationStore

    ids = list(pd.read_csv(SAMPLE, dtype=str)["id"][:3])
    src = tmp_path / "typos.csv"
    pd.DataFrame({"sample_id": ids, "corrected_label": ["7", "seven", "cat"],
                  "annotator": ["ann"] * 3}).to_csv(src, index=False)
    code, out, err = run_cli(capsys, "annotations", "import", str(SAMPLE), "--db", db_url, "--input", str(src),
                             "--as", "carol")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err == (f"error: {src}: column 'corrected_label' names 2 labels that are not classes of the predictions "
                   f"file: 'seven' (row 2: sample id '{ids[1]}'); 'cat' (row 3: sample id '{ids[2]}'); expected one "
                   "of its classes: '0', '1', '2', '3', '4', '5', '6', '7', '8', '9'. Nothing was imported.\n")
    assert AnnotationStore(db_url).events(load_predictions(SAMPLE).fingerprint()).empty


@pytest.mark.parametrize("args,match", [
    (["export", "--output", "x.txt"], "unsupported export; expected FILE.csv, FILE.json or FILE.predictions.csv"),
    (["import", "--input", "missing.csv"], "missing.csv: file not found"),
    (["export", "--output", "x.csv", "--db", "postgresql://nobody@127.0.0.1:1/none"],
     "cannot open the annotation database"),
])
def test_annotations_command_errors_are_one_line(capsys, tmp_path, args, match):
    action, *rest = args
    rest = [str(tmp_path / r) if r.endswith((".txt", ".csv")) else r for r in rest]
    if "--db" not in rest:
        rest += ["--db", str(tmp_path / "a.db")]
    code, out, err = run_cli(capsys, "annotations", action, str(SAMPLE), *rest)
    assert code == 2 and err.startswith("error: ") and match in err and err.count("\n") == 1


# --- evaldash report --thresholds FILE.json ---------------------------------------------------

def _rule_by_row(scores: np.ndarray, thresholds: list[float], fallback: str) -> list[int]:
    """Per-class thresholds written plainly: the highest passing score (first class on ties)."""
    out = []
    for row in scores:
        passing = [c for c in range(len(row)) if row[c] >= thresholds[c]]
        if passing:
            out.append(max(passing, key=lambda c: (row[c], -c)))
        else:
            out.append(int(np.argmax(row)) if fallback == "argmax" else -1)
    return out


@pytest.mark.parametrize("fallback", ["abstain", "argmax"])
def test_report_thresholds_adds_a_section_computed_by_the_rule(capsys, tmp_path, fallback):
    ref = Reference.from_file(SAMPLE)
    given = {c: 0.3 + 0.05 * i for i, c in enumerate(ref.classes)}
    given["9"] = None  # never passes its threshold
    path = tmp_path / "thresholds.json"
    path.write_text(json.dumps({"thresholds": given, "fallback": fallback}))
    plain = report_json(capsys, SAMPLE)
    report = report_json(capsys, SAMPLE, "--thresholds", path)
    section = report.pop("thresholds")
    assert report == plain  # every other key unchanged
    t = [math.inf if given[c] is None else given[c] for c in ref.classes]
    pred = np.array(_rule_by_row(ref.scores, t, fallback))
    y = np.array([ref.classes.index(v) for v in ref.y_true])
    assert section["fallback"] == fallback and "highest-scoring class whose score passes" in section["rule"]
    assert section["coverage"] == pytest.approx(np.mean(pred != -1), **APPROX)
    assert section["abstained"] == int(np.sum(pred == -1))
    assert section["accuracy"] == pytest.approx(np.mean(pred == y), **APPROX)
    assert section["confusion_matrix"] == confusion_matrix(y, pred, labels=[*range(10), -1])[:10].tolist()
    p, r, f, support = precision_recall_fscore_support(y, pred, labels=range(10), zero_division=0)
    for c, name in enumerate(ref.classes):
        got = section["per_class"][name]
        assert got["threshold"] == given[name]  # null for never, as in the file
        assert got["precision"] == pytest.approx(p[c], **APPROX)
        assert got["recall"] == pytest.approx(r[c], **APPROX)
        assert got["f1"] == pytest.approx(f[c], **APPROX)
        assert got["support"] == support[c]
    code, out, err = run_cli(capsys, "report", SAMPLE, "--thresholds", path)
    assert code == 0 and err == ""
    assert f"Per-class thresholds: {section['rule']}" in out
    assert f"coverage {section['coverage']:.3f} ({section['abstained']} of 899 abstained)" in out
    assert re.search(r"^9\s+never\s", out, re.M)


@pytest.mark.parametrize("content,extra,match", [
    ('{"thresholds": {"0": 0.5}}', [], "thresholds.json: no threshold for class(es) ['1', '2'"),
    ('{"thresholds": {"cat": 0.5}}', [], "thresholds.json: thresholds.'cat' is not a class"),
    ("nonsense", [], "thresholds.json: not valid JSON"),
    (None, [], "thresholds.json: thresholds file not found"),
    ('{"thresholds": {}}', ["--threshold", "0.5"], "use either --threshold (one threshold) or --thresholds"),
])
def test_report_thresholds_errors_are_one_line(capsys, tmp_path, content, extra, match):
    path = tmp_path / "thresholds.json"
    if content is not None:
        path.write_text(content)
    code, out, err = run_cli(capsys, "report", SAMPLE, "--thresholds", path, *extra)
    assert_usage_error(code, out, err, match)


def test_report_thresholds_needs_scores(capsys, tmp_path):
    frame = pd.read_csv(SAMPLE, dtype={"label": str, "prediction": str})
    data = tmp_path / "predictions_only.csv"
    frame[["id", "label", "prediction"]].to_csv(data, index=False)
    path = tmp_path / "thresholds.json"
    path.write_text('{"thresholds": {}}')
    code, out, err = run_cli(capsys, "report", data, "--thresholds", path)
    assert_usage_error(code, out, err, "--thresholds needs per-class scores")


# --- undefined precision, recall and F1 at --threshold: 0, as in per_class (zero_division=0) ---

def _no_positive_class_csv(folder: Path) -> Path:
    """Three score columns; class 'c' has no sample (no positives), scores in [0, 0.8]."""
    rng = np.random.default_rng(11)
    n = 60
    y = rng.integers(0, 2, n)
    p = rng.dirichlet(np.ones(3), size=n) * 0.8
    frame = pd.DataFrame({"label": np.array(["a", "b"])[y], "score_a": p[:, 0], "score_b": p[:, 1],
                          "score_c": p[:, 2]})
    path = folder / "no_c.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.mark.parametrize("t", [0.0, 0.3, 0.9])
def test_report_threshold_section_writes_0_for_undefined_rates_as_sklearn(capsys, tmp_path, t):
    path = _no_positive_class_csv(tmp_path)
    frame = pd.read_csv(path)
    report = report_json(capsys, path, "--threshold", t)
    for name, m in report["threshold"]["per_class"].items():
        want = precision_recall_fscore_support(frame["label"] == name, frame[f"score_{name}"] >= t,
                                               average="binary", zero_division=0)
        assert [m["precision"], m["recall"], m["f1"]] == pytest.approx(list(want[:3]), abs=1e-12), name


def test_report_threshold_and_per_class_agree_when_nothing_is_predicted_positive(capsys):
    # above every score, nothing counts as positive: precision 0/0 is 0 in both sections
    report = report_json(capsys, BINARY, "--threshold", 2.0)
    pos = report["positive"]
    assert report["per_class"][pos]["precision"] == report["threshold"]["per_class"][pos]["precision"] == 0.0
    assert report["per_class"][pos]["f1"] == report["threshold"]["per_class"][pos]["f1"] == 0.0


# --- images the report cannot find ---------------------------------------------------------------

@pytest.fixture
def outputs_csv(tmp_path) -> Path:
    """The digits sample as a project keeps it: predictions in outputs/, images in images/ beside it."""
    shutil.copytree(SAMPLE.parent / "images", tmp_path / "images")
    (tmp_path / "outputs").mkdir()
    frame = pd.read_csv(SAMPLE, dtype=str)
    frame["image"] = "../" + frame["image"]
    path = tmp_path / "outputs" / "predictions.csv"
    frame.to_csv(path, index=False)
    return path


def test_report_warns_of_images_outside_the_root_and_says_how_to_show_them(capsys, outputs_csv):
    n = len(pd.read_csv(outputs_csv))
    fix = (f"No image for {n} of {n} samples: their paths lead outside the images root "
           f"{outputs_csv.parent.resolve()}. To show them, set the images root to "
           f"{(outputs_csv.parent.parent / 'images').resolve()}: --images-root DIR.")
    assert main(["report", str(outputs_csv)]) == 0
    text = capsys.readouterr().out
    assert f"- {outputs_csv}: column 'image': {fix}" in text.split("Warnings:")[1].splitlines()
    assert main(["report", str(outputs_csv), "--json"]) == 0
    assert f"{outputs_csv}: column 'image': {fix}" in json.loads(capsys.readouterr().out)["warnings"]


def test_report_with_the_suggested_images_root_has_no_image_warning(capsys, outputs_csv):
    assert main(["report", str(outputs_csv), "--json", "--images-root",
                 str(outputs_csv.parent.parent / "images")]) == 0
    assert not [w for w in json.loads(capsys.readouterr().out)["warnings"] if "image" in w]


# --- a file too large for memory ------------------------------------------------------------------

def _raise(exc):
    def raising(*args, **kwargs):
        raise exc
    return raising


@pytest.mark.parametrize("fmt, target, exc", [
    ("parquet", "pyarrow.parquet.read_table", "arrow"),  # what `ulimit -v` gives on the 100M file
    ("parquet", "pyarrow.parquet.read_table", "python"),
    ("csv", "pandas.read_csv", "python"),
])
def test_a_file_too_large_for_memory_says_so_and_names_the_duckdb_engine(tmp_path, capsys, monkeypatch, fmt, target,
                                                                         exc):
    import pyarrow as pa

    from evaldash.cli import main

    frame = pd.DataFrame({"label": ["a", "b"], "score_a": [0.7, 0.2], "score_b": [0.3, 0.8]})
    path = tmp_path / f"big.{fmt}"
    frame.to_parquet(path, index=False) if fmt == "parquet" else frame.to_csv(path, index=False)
    error = (pa.ArrowMemoryError("malloc of size 1073741824 failed") if exc == "arrow" else MemoryError())
    monkeypatch.setattr(target, _raise(error))
    assert main(["report", str(path), "--engine", "memory"]) == 2
    err = capsys.readouterr().err
    assert "not a valid Parquet file" not in err
    assert err.startswith(f"error: {path}: the file does not fit in memory (")
    assert ("the memory engine reads every row into pandas and numpy, 0.0 GB on disk. Open it with --engine duckdb, "
            "which reads it in place out of core under --memory-limit (or --engine auto") in err
    if exc == "arrow":
        assert "(ArrowMemoryError: malloc of size 1073741824 failed)" in err


def test_memory_running_out_after_reading_names_the_duckdb_engine_too(tmp_path, capsys, monkeypatch):
    from evaldash.cli import main

    path = tmp_path / "p.csv"
    pd.DataFrame({"label": ["a", "b"], "score_a": [0.7, 0.2], "score_b": [0.3, 0.8]}).to_csv(path, index=False)
    monkeypatch.setattr("evaldash.cli.evaluate", _raise(MemoryError("Unable to allocate 8 GiB")))
    assert main(["report", str(path)]) == 2
    assert capsys.readouterr().err == ("error: out of memory (MemoryError: Unable to allocate 8 GiB): the rows do not fit "
                                       "in memory on the memory engine; run it with --engine duckdb (out of core, "
                                       "under --memory-limit) or --engine auto\n")
