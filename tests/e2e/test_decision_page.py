"""/decision in a browser: a stakeholder sets the deployment prevalence and costs, takes the cheapest
threshold, looks at the images that flip, signs the decision off, exports it and reads it back; and
per-class thresholds with abstention. Expected numbers come straight from the CSV with NumPy and
scikit-learn, never from the app or from evaldash's decision module."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest
from playwright.sync_api import expect
from sklearn.metrics import f1_score, precision_recall_curve

from dashboard import DIGITS_CSV, PAGE_SIZE, STEP
from evaldash.annotations import AnnotationStore
from evaldash.decision import DecisionRecord

pytestmark = pytest.mark.e2e

CLASS = "8"
PREVALENCE_PCT = 2.0
COST_FP, COST_FN = 1.0, 20.0
APPROVER = "Dana Ops (e2e)"
RATIONALE = "A missed 8 costs twenty reviews; 2% of the traffic are 8s."


def _db_of(server) -> str:
    return str(server.log_path.with_suffix(".annotations.db"))


def _frame() -> pd.DataFrame:
    return pd.read_csv(DIGITS_CSV, dtype={"id": str, "label": str, "prediction": str})


def _class_columns(df: pd.DataFrame, cls: str) -> tuple[np.ndarray, np.ndarray]:
    return df[f"score_{cls}"].to_numpy(dtype=float), (df["label"] == cls).to_numpy()


def _direct(score, positive, t: float, pi: float, cost_fp: float, cost_fn: float) -> dict[str, float]:
    """The deployment figures at threshold ``t``, counted directly from the scores."""
    flagged = score >= t
    tpr, fpr = flagged[positive].mean(), flagged[~positive].mean()
    flagged_share = tpr * pi + fpr * (1 - pi)
    return {"recall": tpr, "fpr": fpr,
            "precision": tpr * pi / flagged_share if flagged_share > 0 else float("nan"),
            "alerts_per_10k": 1e4 * flagged_share, "missed_per_10k": 1e4 * pi * (1 - tpr),
            "cost_per_10k": 1e4 * (cost_fp * fpr * (1 - pi) + cost_fn * pi * (1 - tpr))}


def _cheapest(score, positive, pi: float, cost_fp: float, cost_fn: float) -> float:
    """Brute force: the expected cost at every distinct score; the highest threshold on ties."""
    candidates = np.unique(score)[::-1]  # decreasing, so the first minimum is the highest threshold
    cost = np.array([cost_fp * (score[~positive] >= c).mean() * (1 - pi)
                     + cost_fn * pi * (1 - (score[positive] >= c).mean()) for c in candidates])
    return float(candidates[np.flatnonzero(cost <= cost.min() + 1e-12 * np.abs(cost).max())[0]])


def _set_number(dash, key: str, value: float) -> None:
    box = dash.page.locator(f".st-key-{key} input")
    box.scroll_into_view_if_needed()
    box.fill(f"{value:g}")
    box.press("Enter")
    dash.wait_idle()


def _summary_numbers(dash) -> tuple[str, str, str]:
    """(threshold, alerts per 10,000, precision) as the summary box shows them."""
    text = dash.page.locator(".st-key-dec_summary").inner_text()
    t = re.search(r"At threshold (\S+), with", text)
    alerts = re.search(r"Of every 10,000 items, (\S+) ", text)
    precision = re.search(r"a share of (\S+) ", text)
    assert t and alerts and precision, text
    return t.group(1), alerts.group(1), precision.group(1)


def _expect_summary(dash, t: float, want: dict[str, float]) -> None:
    box = dash.page.locator(".st-key-dec_summary")
    expect(box).to_contain_text(f"At threshold {t:.4g}, with {PREVALENCE_PCT / 100:.2%} {CLASS} in deployment")
    assert _summary_numbers(dash) == (f"{t:.4g}", f"{want['alerts_per_10k']:,.0f}", f"{want['precision']:,.3f}")
    expect(box).to_contain_text(f"Expected cost: {want['cost_per_10k']:,.1f}")


def _flip_line(dash):
    return dash.page.locator('[data-testid="stMarkdownContainer"]').filter(
        has_text=re.compile(r"new true positives · .* new false positives · .* newly correct negatives"))


def test_choose_an_operating_point_sign_it_off_and_read_it_back(dash, digits_ev, app_server):
    d = digits_ev.dataset
    df = _frame()
    score, positive = _class_columns(df, CLASS)
    pi = PREVALENCE_PCT / 100

    dash.open(f"/decision?class={CLASS}&t=0.35")
    expect(dash.page.locator("h1")).to_have_text("Decision")
    assert dash.threshold_value() == pytest.approx(0.35)

    # deployment: 2% of the traffic are 8s, a missed 8 costs 20 times a false alarm
    _set_number(dash, f"dec_prevalence_{CLASS}", PREVALENCE_PCT)
    _set_number(dash, "dec_cost_fp", COST_FP)
    _set_number(dash, "dec_cost_fn", COST_FN)
    _expect_summary(dash, 0.35, _direct(score, positive, 0.35, pi, COST_FP, COST_FN))

    # take the cheapest threshold: the brute-force minimum over every distinct score of class 8
    best = _cheapest(score, positive, pi, COST_FP, COST_FN)
    shown_best = min(max(best, 0.0), 1.0)  # the slider shows values clamped to [0, 1]
    expect(dash.page.locator(".st-key-dec_take_best button")).to_be_enabled()
    dash.page.locator(".st-key-dec_take_best button").click()
    dash.wait_idle()
    t = dash.threshold_value()
    assert t == pytest.approx(shown_best, abs=STEP / 10), f"the slider shows {t!r}, the cheapest is {best!r}"
    assert float(dash.query["t"]) == pytest.approx(shown_best, abs=1e-6)
    assert dash.query["class"] == CLASS
    figures_at_best = _direct(score, positive, t, pi, COST_FP, COST_FN)
    _expect_summary(dash, t, figures_at_best)
    expect(dash.page.locator(".st-key-dec_take_best button")).to_be_disabled()  # already there

    # what flips from A = 0.5 to B = the slider: set differences counted here
    a = 0.5
    _set_number(dash, "dec_from", a)
    before, after = score >= a, score >= t
    want_rows = {
        "new_tp": np.flatnonzero(positive & after & ~before),
        "new_fp": np.flatnonzero(~positive & after & ~before),
        "new_fn": np.flatnonzero(positive & before & ~after),
        "new_tn": np.flatnonzero(~positive & before & ~after),
    }
    labels = {"new_tp": "new true positives", "new_fp": "new false positives", "new_fn": "new false negatives",
              "new_tn": "newly correct negatives"}
    want_line = " · ".join(f"{len(want_rows[k]):,} {labels[k]}" for k in labels)
    expect(_flip_line(dash)).to_have_count(1)
    expect(_flip_line(dash)).to_have_text(want_line)
    assert len(want_rows["new_tp"]) > 0 and len(want_rows["new_fp"]) > 0  # the check below has images to show

    main = dash.page.locator('[data-testid="stMain"]')
    for kind in ("new_fp", "new_tp"):
        rows = want_rows[kind]
        dash.page.locator(".st-key-dec_flip_kind button").filter(
            has_text=f"{labels[kind]} ({len(rows):,})").click()
        dash.wait_idle()
        shown = min(PAGE_SIZE, len(rows))
        expect(main.locator('[data-testid="stImage"] img')).to_have_count(shown)
        expect(main.locator('[class*="st-key-dec_flip_detail_"] button')).to_have_count(shown)
        # the flipped samples, highest score first
        first_page = rows[np.argsort(-score[rows], kind="stable")][:shown]
        captions = main.locator('[data-testid="stImageCaption"]').all_inner_texts()
        assert [c.split(" · ")[0].strip() for c in captions] == list(df["id"].to_numpy()[first_page]), kind

    # sign it off: approver and rationale, typed as a person would, then "Save to the database"
    approver = dash.page.locator(".st-key-dec_approver input")
    approver.fill(APPROVER)
    approver.press("Enter")
    dash.wait_idle()
    dash.page.locator(".st-key-dec_rationale textarea").fill(RATIONALE)
    dash.page.locator(".st-key-dec_save button").click()
    dash.wait_idle()
    expect(dash.page.get_by_text(f"Saved: class {CLASS} at threshold {t:.6g}, approved by {APPROVER}.")
           ).to_be_visible()
    records = dash.page.locator(".st-key-dec_records")
    expect(records.locator('[data-testid="stDataFrame"]')).to_have_count(1)
    expect(records.locator("[role='grid']")).to_have_attribute("aria-rowcount", "2")  # the header and one row
    expect(dash.page.get_by_text("Decisions recorded for this dataset (1, newest first)")).to_be_visible()

    # the downloads: JSON read back with DecisionRecord.from_json, and the Markdown
    with dash.page.expect_download() as download:
        dash.page.locator(".st-key-dec_json button").click()
    assert download.value.suggested_filename.endswith(f"-{CLASS}.json")
    with open(download.value.path(), encoding="utf-8") as fh:
        text = fh.read()
    record = DecisionRecord.from_json(text)
    _check_record(record, d.fingerprint(), t, figures_at_best)
    assert json.loads(text)["class"] == CLASS

    with dash.page.expect_download() as download:
        dash.page.locator(".st-key-dec_md button").click()
    with open(download.value.path(), encoding="utf-8") as fh:
        markdown = fh.read()
    assert markdown.startswith(f"# Operating point: class {CLASS} at threshold {t:.6g}")
    # the approver and the rationale as typed (Markdown's special characters escaped)
    assert "**Approver:** Dana Ops \\(e2e\\)" in markdown
    assert "A missed 8 costs twenty reviews; 2% of the traffic are 8s\\." in markdown
    assert f"| expected prevalence in deployment | {pi:.4%} |" in markdown
    assert f"| cost of a false negative | {COST_FN:g} |" in markdown

    # the server's annotation database has the same decision
    saved = AnnotationStore(_db_of(app_server)).decisions(d.fingerprint())
    assert len(saved) == 1, [r.summary() for r in saved]
    _check_record(saved[0], d.fingerprint(), t, figures_at_best)
    expect(dash.exceptions).to_have_count(0)


def _check_record(record: DecisionRecord, fingerprint: str, t: float, want: dict[str, float]) -> None:
    assert record.fingerprint == fingerprint
    assert record.model_file.endswith("predictions.csv")
    assert record.class_name == CLASS
    assert record.threshold == pytest.approx(t, abs=1e-12)
    assert record.inputs.prevalence == pytest.approx(PREVALENCE_PCT / 100)
    assert (record.inputs.cost_fp, record.inputs.cost_fn, record.inputs.value_tp) == (COST_FP, COST_FN, 0.0)
    assert record.inputs.volume_per_day is None
    assert record.approver == APPROVER
    assert record.rationale == RATIONALE, f"the record's rationale is {record.rationale!r}"
    for name, value in want.items():
        f = record.figures[name]
        assert f["value"] == pytest.approx(value, rel=1e-9, abs=1e-12), name
        assert f["low"] <= f["value"] <= f["high"], (name, f)


# --- multi-class: one threshold per class ----------------------------------------------------------

def _max_f1_thresholds(df: pd.DataFrame, classes: list[str]) -> np.ndarray:
    out = []
    for cls in classes:
        score, positive = _class_columns(df, cls)
        p, r, th = precision_recall_curve(positive, score)
        with np.errstate(invalid="ignore", divide="ignore"):
            f1 = np.where(p[:-1] + r[:-1] > 0, 2 * p[:-1] * r[:-1] / (p[:-1] + r[:-1]), 0.0)
        ties = np.flatnonzero(f1 >= f1.max() - 1e-12)
        out.append(float(th[ties].max()))  # the highest threshold on ties
    return np.array(out)


def _rule(scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Row by row: the highest-scoring class whose score passes its threshold, else -1 (abstain)."""
    pred = np.full(len(scores), -1)
    for i, row in enumerate(scores):
        passing = [k for k in range(len(row)) if row[k] >= thresholds[k]]
        if passing:
            pred[i] = max(passing, key=lambda k: (row[k], -k))  # the lower class on equal scores
    return pred


def _coverage_line(pred: np.ndarray, y: np.ndarray, k: int) -> str:
    n, abstained = len(pred), int((pred == -1).sum())
    correct = int((pred == y).sum())
    macro_f1 = f1_score(y, pred, labels=list(range(k)), average="macro", zero_division=0)
    return (f"Coverage {(n - abstained) / n:.3f} ({abstained:,} of {n:,} set aside) · accuracy "
            f"{correct / n:.3f} over all samples, {correct / (n - abstained):.3f} over those given a class · "
            f"macro F1 {macro_f1:.3f}")


def test_best_f1_thresholds_per_class_with_abstention(dash, tmp_path):
    df = _frame()
    classes = [str(k) for k in range(10)]
    scores = df[[f"score_{c}" for c in classes]].to_numpy(dtype=float)
    y = df["label"].map(classes.index).to_numpy()
    line = dash.page.locator('[data-testid="stMarkdownContainer"]').filter(has_text=re.compile(r"^\s*Coverage "))

    dash.open("/decision")
    # the starting thresholds: 0.5 for every class, abstain when none passes
    expect(line).to_have_text(_coverage_line(_rule(scores, np.full(10, 0.5)), y, 10))

    button = dash.page.locator(".st-key-dec_suggest_f1 button")
    button.scroll_into_view_if_needed()
    button.click()
    dash.wait_idle()
    thresholds = _max_f1_thresholds(df, classes)
    expect(line).to_have_text(_coverage_line(_rule(scores, thresholds), y, 10))

    # the thresholds file holds the same thresholds
    with dash.page.expect_download() as download:
        dash.page.locator(".st-key-dec_thresholds_json button").click()
    with open(download.value.path(), encoding="utf-8") as fh:
        saved = json.load(fh)
    assert saved["fallback"] == "abstain"
    assert [saved["thresholds"][c] for c in classes] == pytest.approx(list(thresholds), abs=0)
    expect(dash.exceptions).to_have_count(0)
