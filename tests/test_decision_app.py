"""AppTest checks of /decision: the deployment figures, the cheapest threshold, flips, the record
and per-class thresholds. Expected numbers are computed here from the CSV with NumPy/scikit-learn."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import precision_recall_curve
from streamlit.testing.v1 import AppTest

from evaldash.annotations import AnnotationStore, database_url
from evaldash.dataset import load_predictions

ROOT = Path(__file__).resolve().parents[1]
APP = ROOT / "app.py"
SAMPLE = ROOT / "sample_data" / "digits" / "predictions.csv"
BINARY = ROOT / "sample_data" / "digits" / "binary_three.csv"
TIMEOUT = 60


pytestmark = pytest.mark.usefixtures("clean_app")  # tests/conftest.py: no start file, a fresh database


def open_decision(monkeypatch, path: Path | None = None) -> AppTest:
    if path is not None:
        monkeypatch.setenv("EVALDASH_PREDICTIONS", str(path))
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    at.switch_page("pages/decision.py").run()
    assert not at.exception, at.exception
    return at


def run(at: AppTest) -> AppTest:
    at.run()
    assert not at.exception, at.exception
    return at


def frame() -> pd.DataFrame:
    return pd.read_csv(SAMPLE, dtype={"label": str})


def rates(df: pd.DataFrame, cls: str, t: float) -> tuple[float, float]:
    score = df[f"score_{cls}"].to_numpy()
    pos = (df["label"] == cls).to_numpy()
    flagged = score >= t
    return flagged[pos].mean(), flagged[~pos].mean()


def summary_text(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown if "Of every 10,000 items" in m.value or "At threshold" in m.value)


def class_8_at_2_percent_fn_20(monkeypatch) -> AppTest:
    """/decision on class 8 with a 2% deployment share and a false negative costing 20 (not run yet)."""
    at = open_decision(monkeypatch)
    at.selectbox(key="class_select").set_value(8)
    run(at)
    at.number_input(key="dec_prevalence_8").set_value(2.0)
    at.number_input(key="dec_cost_fn").set_value(20.0)
    return at


def test_deployment_figures_follow_prevalence_and_costs(monkeypatch):
    at = class_8_at_2_percent_fn_20(monkeypatch)
    at.number_input(key="dec_volume").set_value(50000.0)
    run(at)
    t = at.session_state["threshold_t"]
    tpr, fpr = rates(frame(), "8", t)
    pi = 0.02
    alerts = 1e4 * (tpr * pi + fpr * (1 - pi))
    precision = tpr * pi / (tpr * pi + fpr * (1 - pi))
    missed = 1e4 * pi * (1 - tpr)
    cost = 1e4 * (1 * fpr * (1 - pi) + 20 * pi * (1 - tpr))
    text = summary_text(at)
    assert f"**{alerts:,.0f}**" in text
    assert f"**{precision:,.3f}**" in text
    assert f"**{missed:,.0f}**" in text
    assert f"**{cost:,.1f}**" in text
    assert f"**{cost * 5:,.1f}**" in text  # per day at 50,000 items = 5 × per 10,000


def test_take_the_cheapest_threshold_is_the_brute_force_minimum(monkeypatch):
    at = run(class_8_at_2_percent_fn_20(monkeypatch))
    at.button(key="dec_take_best").click()
    run(at)
    df, pi = frame(), 0.02
    candidates = np.unique(df["score_8"].to_numpy())
    costs = []
    for t in candidates:
        tpr, fpr = rates(df, "8", t)
        costs.append(fpr * (1 - pi) + 20 * pi * (1 - tpr))
    costs = np.array(costs)
    best = candidates[np.flatnonzero(costs <= costs.min() + 1e-12)].max()  # highest threshold on ties
    assert at.session_state["threshold_t"] == pytest.approx(min(max(best, 0.0), 1.0))
    assert at.button(key="dec_take_best").disabled  # already there


def test_flip_counts_are_set_differences(monkeypatch):
    at = open_decision(monkeypatch)
    at.selectbox(key="class_select").set_value(3)
    run(at)
    at.number_input(key="dec_from").set_value(0.8)
    run(at)
    t = at.session_state["threshold_t"]
    df = frame()
    score, pos = df["score_3"].to_numpy(), (df["label"] == "3").to_numpy()
    before, after = set(np.flatnonzero(score >= 0.8)), set(np.flatnonzero(score >= t))
    positives = set(np.flatnonzero(pos))
    new_tp = len((after - before) & positives)
    new_fp = len((after - before) - positives)
    new_fn = len((before - after) & positives)
    new_tn = len((before - after) - positives)
    line = next(m.value for m in at.markdown if "new true positives" in m.value)
    assert line == (f"**{new_tp:,}** new true positives · **{new_fp:,}** new false positives · "
                    f"**{new_fn:,}** new false negatives · **{new_tn:,}** newly correct negatives")
    assert new_tp + new_fp > 0  # the sample moves: the default 0.5 lies below 0.8


def test_save_a_decision_record_and_list_it(monkeypatch, tmp_path):
    at = open_decision(monkeypatch)
    at.selectbox(key="class_select").set_value(8)
    run(at)
    at.button(key="dec_save").click()
    run(at)
    assert any("Name the approver" in e.value for e in at.error)
    at.text_input(key="dec_approver").input("Dana Reviewer")
    at.text_area(key="dec_rationale").input("Fewer false alarms matter more than a few misses.")
    run(at)
    at.button(key="dec_save").click()
    run(at)
    assert any("Saved" in s.value for s in at.success)
    ds = load_predictions(str(SAMPLE))
    saved = AnnotationStore(database_url(str(tmp_path / "annotations.db"))).decisions(ds.fingerprint())
    assert len(saved) == 1
    record = saved[0]
    assert (record.class_name, record.approver) == ("8", "Dana Reviewer")
    assert record.threshold == pytest.approx(at.session_state["threshold_t"])
    tpr, fpr = rates(frame(), "8", record.threshold)
    assert record.figures["recall"]["value"] == pytest.approx(tpr)
    assert record.figures["fpr"]["value"] == pytest.approx(fpr)
    assert record.figures["recall"]["low"] <= tpr <= record.figures["recall"]["high"]
    table = at.get_by_key("dec_records").dataframe[0].value
    assert len(table) == 1 and table["approver"].iloc[0] == "Dana Reviewer"


def test_per_class_max_f1_suggestion_and_the_rule(monkeypatch):
    at = open_decision(monkeypatch)
    at.button(key="dec_suggest_f1").click()
    run(at)
    df = frame()
    classes = [str(c) for c in range(10)]
    scores = df[[f"score_{c}" for c in classes]].to_numpy()
    y = df["label"].map({c: i for i, c in enumerate(classes)}).to_numpy()
    want = []
    for c in range(10):
        precision, recall, thr = precision_recall_curve(y == c, scores[:, c])
        f1 = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-300), 0)[:-1]
        want.append(thr[np.flatnonzero(f1 >= f1.max() - 1e-12)].max())
    assert at.session_state["dec_thresholds"] == pytest.approx(want)
    # the rule, row by row: the highest-scoring class whose score passes its threshold, else abstain
    pred = []
    for row in scores:
        passing = [c for c in range(10) if row[c] >= want[c]]
        pred.append(max(passing, key=lambda c: (row[c], -c)) if passing else -1)
    pred = np.array(pred)
    coverage = (pred >= 0).mean()
    accuracy = (pred == y).mean()
    line = next(m.value for m in at.markdown if m.value.startswith("**Coverage**"))
    assert line.startswith(f"**Coverage** {coverage:.3f} ({(pred < 0).sum():,} of {len(y):,} set aside) · "
                           f"**accuracy** {accuracy:.3f}")
    metrics = at.get_by_key("dec_class_metrics").dataframe[0].value
    for c in range(10):
        tp = ((pred == c) & (y == c)).sum()
        assert metrics["recall"].iloc[c] == pytest.approx(tp / (y == c).sum())


def test_binary_file_has_no_per_class_section(monkeypatch):
    at = open_decision(monkeypatch, BINARY)
    assert not [b for b in at.button if b.key == "dec_suggest_f1"]
    assert any("Of every 10,000 items" in m.value for m in at.markdown)


def test_a_class_without_positives_at_a_positive_prevalence_says_the_cost_is_undefined(monkeypatch, tmp_path):
    # class "c" has scores but no sample: at a deployment share above 0 no cost can be computed
    rng = np.random.default_rng(0)
    s = rng.dirichlet([1, 1, 1], 200)
    path = tmp_path / "absent.csv"
    pd.DataFrame({"label": rng.choice(["a", "b"], 200), "score_a": s[:, 0], "score_b": s[:, 1],
                  "score_c": s[:, 2]}).to_csv(path, index=False)
    at = open_decision(monkeypatch, path)
    at.selectbox(key="class_select").set_value(2)
    run(at)
    at.number_input(key="dec_prevalence_2").set_value(5.0)
    run(at)
    assert any("expected cost is undefined" in i.value for i in at.info)
    assert not [b for b in at.button if b.key == "dec_take_best"]
