"""Render an evaluation as readable text or as JSON (NaN written as null)."""

from __future__ import annotations

import json
import math

import numpy as np

from evaldash.evaluation import Evaluation
from evaldash.gates import GateResult


def to_jsonable(value):
    """Replace NaN/inf by None and numpy scalars/arrays by Python types, recursively."""
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return to_jsonable(value.tolist())
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return v if math.isfinite(v) else None
    return value


def report_json(evaluation: Evaluation, intervals: dict | None = None, thresholds: dict | None = None) -> str:
    """The report as JSON; with ``intervals`` (see :func:`evaldash.bootstrap.intervals`) under "intervals",
    with per-class ``thresholds`` (see :meth:`evaldash.decision.OperatingPoints.report`) under "thresholds"."""
    r = evaluation.report()
    if intervals is not None:
        r["intervals"] = intervals
    if thresholds is not None:
        r["thresholds"] = thresholds
    return json.dumps(to_jsonable(r), indent=2, ensure_ascii=False)


def fmt(value, digits: int = 3) -> str:
    """A number for people: fixed decimals, 'n/a' for undefined."""
    if value is None:
        return "n/a"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    v = float(value)
    return "n/a" if math.isnan(v) else f"{v:.{digits}f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = lambda r: "  ".join(  # noqa: E731
        str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(r, widths))
    )
    return [line(header), line(["-" * w for w in widths]), *map(line, rows)]


def report_text(evaluation: Evaluation, intervals: dict | None = None, thresholds: dict | None = None) -> str:
    r = evaluation.report()
    d = evaluation.dataset
    kind = "probabilities" if d.is_probability else ("scores" if d.has_scores else "no scores")
    lines = [
        f"evaldash report: {r['source']}",
        f"{r['n']} samples, {len(r['classes'])} classes, {kind}"
        + (f", positive class {r['positive']!r}" if d.is_binary else ""),
        "",
        f"accuracy {fmt(r['accuracy'])}   error rate {fmt(r['error_rate'])}"
        + "".join(f"   top-{k[4:]} {fmt(v)}" for k, v in r.items() if k.startswith("top_")),
    ]
    for avg in ("macro", "weighted", "micro"):
        a = r[avg]
        lines.append(f"{avg:<9}precision {fmt(a['precision'])}   recall {fmt(a['recall'])}   f1 {fmt(a['f1'])}")
    lines.append(
        f"ROC AUC  macro {fmt(r['roc_auc']['macro'])}   micro {fmt(r['roc_auc']['micro'])}   "
        f"average precision macro {fmt(r['average_precision']['macro'])}   micro {fmt(r['average_precision']['micro'])}"
    )
    cal = r["calibration"]
    if "unavailable" in cal:
        lines.append(f"calibration: unavailable ({cal['unavailable']})")
    else:
        lines.append(f"log loss {fmt(cal['log_loss'], 4)}   Brier {fmt(cal['brier'], 4)}   ECE {fmt(cal['ece'], 4)}")
    ci = intervals
    if ci:
        lines.append(f"{ci['level']:.0%} intervals ({ci['resamples']} bootstrap resamples, seed {ci['seed']}): "
                     f"accuracy {_interval(ci['accuracy'])}   macro f1 {_interval(ci['macro_f1'])}")
    lines += ["", "Per class:"]
    rows = [
        [name, fmt(m["precision"]), fmt(m["recall"]), fmt(m["f1"])]
        + ([_interval(ci["per_class"][name]["f1"])] if ci else [])
        + [fmt(m["support"]), fmt(m["roc_auc"]), fmt(m["average_precision"])]
        for name, m in r["per_class"].items()
    ]
    lines += _table(["class", "precision", "recall", "f1", *(["f1 95% CI"] if ci else []), "support", "roc_auc",
                     "avg_prec"], rows)
    lines += ["", *_confusion_text(evaluation, r)]
    if "threshold" in r:
        t = r["threshold"]
        lines += ["", f"At threshold {t['value']:g} (score >= threshold counts as positive):"]
        rows = [[name, str(m["tp"]), str(m["fp"]), str(m["fn"]), str(m["tn"]), fmt(m["precision"]),
                 fmt(m["recall"]), fmt(m["f1"])] for name, m in t["per_class"].items()]
        lines += _table(["class", "TP", "FP", "FN", "TN", "precision", "recall", "f1"], rows)
        if "selective" in t:
            s = t["selective"]
            lines.append(f"keeping predictions with confidence >= {t['value']:g}: coverage "
                         f"{fmt(s['coverage'])}, accuracy of kept {fmt(s['accuracy'])}")
    if thresholds is not None:
        lines += ["", *_thresholds_text(thresholds)]
    if r["warnings"]:
        lines += ["", "Warnings:", *[f"- {w}" for w in r["warnings"]]]
    return "\n".join(lines)


TOP_CONFUSIONS = 50  # confusions listed instead of the matrix above DENSE_MAX_CLASSES classes


def _confusion_text(evaluation: Evaluation, r: dict) -> list[str]:
    """The matrix as a table (as in the JSON: up to DENSE_MAX_CLASSES classes), else its most
    frequent off-diagonal cells: a table of k² cells would not be read, nor fit in memory."""
    if isinstance(r["confusion_matrix"], list):
        cm_rows = [[name, *map(str, row)] for name, row in zip(r["classes"], r["confusion_matrix"])]
        return ["Confusion matrix (rows: true, columns: predicted):",
                *_table(["true \\ pred", *r["classes"]], cm_rows)]
    counts = evaluation.counts
    top = counts.top_confusions(TOP_CONFUSIONS)
    off = int(np.sum(counts.true != counts.pred))
    classes = r["classes"]
    rows = [[classes[t], classes[p], str(c)] for t, p, c in top]
    return [f"Most frequent confusions ({len(top)} of {off} off-diagonal cells; the full matrix of "
            f"{len(classes)} classes is in the JSON report, in sparse form):",
            *_table(["true", "predicted", "samples"], rows)]


def _thresholds_text(t: dict) -> list[str]:
    th = lambda v: "never" if v is None or v == math.inf else f"{v:g}"  # noqa: E731
    lines = [f"Per-class thresholds: {t['rule']}",
             f"coverage {fmt(t['coverage'])} ({t['abstained']} of {t['n']} abstained)   accuracy {fmt(t['accuracy'])}"
             f"   accuracy of covered {fmt(t['accuracy_covered'])}   macro f1 {fmt(t['macro']['f1'])}"]
    rows = [[name, th(m["threshold"]), fmt(m["precision"]), fmt(m["recall"]), fmt(m["f1"]), str(m["support"]),
             str(m["predicted"]), str(m["abstained"])] for name, m in t["per_class"].items()]
    return lines + _table(["class", "threshold", "precision", "recall", "f1", "support", "predicted", "abstained"],
                          rows)


def _interval(pair) -> str:
    return f"[{fmt(pair[0])}, {fmt(pair[1])}]"


def gates_text(results: list[GateResult]) -> str:
    rows = [
        [res.gate.metric, fmt(res.value, 4), f"{'>=' if res.gate.kind == 'min' else '<='} {res.gate.limit:g}",
         ("pass" if res.passed else "FAIL") + (f" ({res.note})" if res.note else "")]
        for res in results
    ]
    failed = sum(not r.passed for r in results)
    summary = f"{len(results) - failed} of {len(results)} gates passed" + (f", {failed} failed" if failed else "")
    return "\n".join([*_table(["gate", "value", "limit", "result"], rows), "", summary])
