"""Render a multi-label evaluation as readable text or as JSON (NaN written as null)."""

from __future__ import annotations

import json

import numpy as np

from evaldash.multilabel_evaluation import MultilabelEvaluation
from evaldash.report import _interval, _table, fmt, to_jsonable

TOP_CELLS = 20  # off-diagonal concept-matrix cells listed in the text report


def multilabel_report_json(evaluation: MultilabelEvaluation, intervals: dict | None = None) -> str:
    """The report as JSON (the keys of ``evaldash report --json`` for a multi-label file; with
    ``intervals`` under "intervals")."""
    r = evaluation.report()
    if intervals is not None:
        r["intervals"] = intervals
    return json.dumps(to_jsonable(r), indent=2, ensure_ascii=False)


def multilabel_report_text(evaluation: MultilabelEvaluation, intervals: dict | None = None) -> str:
    r = evaluation.report()
    d = evaluation.dataset
    kind = "probabilities" if d.is_probability else ("scores" if d.has_scores else "no scores")
    how = ("predictions as given in the file" if not evaluation.predictions_thresholded else
           f"a class is predicted when its score >= its threshold "
           f"({_thresholds_text(evaluation.thresholds)})")
    card = r["label_cardinality"]
    lines = [
        f"evaldash report: {d.source}",
        f"{r['n']} samples, {len(r['classes'])} classes (multi-label), {kind}; {how}",
        "",
        f"subset accuracy {fmt(r['subset_accuracy'])}   Hamming loss {fmt(r['hamming_loss'], 4)}   "
        f"labels per sample: true {fmt(card['true'], 2)}, predicted {fmt(card['predicted'], 2)}",
    ]
    for avg in ("samples", "micro", "macro", "weighted"):
        a = r[avg]
        lines.append(f"{avg:<9}precision {fmt(a['precision'])}   recall {fmt(a['recall'])}   f1 {fmt(a['f1'])}")
    j = r["jaccard"]
    lines.append(f"Jaccard  samples {fmt(j['samples'])}   macro {fmt(j['macro'])}   micro {fmt(j['micro'])}")
    lines.append(f"ROC AUC  macro {fmt(r['roc_auc']['macro'])}   micro {fmt(r['roc_auc']['micro'])}   "
                 f"average precision macro {fmt(r['average_precision']['macro'])}   "
                 f"micro {fmt(r['average_precision']['micro'])}")
    lines.append(f"ranking  LRAP {fmt(r['label_ranking_average_precision'])}   coverage error "
                 f"{fmt(r['coverage_error'], 2)}   ranking loss {fmt(r['label_ranking_loss'], 4)}")
    ci = intervals
    if ci:
        lines.append(f"{ci['level']:.0%} intervals ({ci['resamples']} bootstrap resamples, seed {ci['seed']}): "
                     f"subset accuracy {_interval(ci['subset_accuracy'])}   samples f1 {_interval(ci['samples_f1'])}   "
                     f"Hamming loss {_interval(ci['hamming_loss'])}")
    lines += ["", "Per class:"]
    rows = [[name, fmt(m["threshold"], 3) if m["threshold"] is not None else "given", fmt(m["precision"]),
             fmt(m["recall"]), fmt(m["f1"])] + ([_interval(ci["per_class"][name]["f1"])] if ci else [])
            + [str(m["support"]), str(m["tp"]), str(m["fp"]), str(m["fn"]), fmt(m["roc_auc"]),
               fmt(m["average_precision"])]
            for name, m in r["per_class"].items()]
    lines += _table(["class", "threshold", "precision", "recall", "f1", *(["f1 95% CI"] if ci else []), "support",
                     "TP", "FP", "FN", "roc_auc", "avg_prec"], rows)
    lines += ["", *_matrix_text(evaluation)]
    warnings = evaluation.warnings()
    if warnings:
        lines += ["", "Warnings:", *[f"- {w}" for w in warnings]]
    return "\n".join(lines)


def _thresholds_text(t: np.ndarray) -> str:
    values = np.unique(t)
    return f"{values[0]:g} for every class" if values.size == 1 else "per class, below"


def _matrix_text(evaluation: MultilabelEvaluation) -> list[str]:
    """The concept matrix's most frequent cells off the diagonal (the full matrix is in the JSON)."""
    view = evaluation.matrix("counts")
    counts = view.counts.copy()
    k = len(evaluation.classes)
    counts[np.arange(k + 1), np.arange(k + 1)] = 0  # (no label, no prediction) is right too
    flat = np.argsort(-counts, axis=None, kind="stable")[:TOP_CELLS]
    cells = [(int(f // counts.shape[1]), int(f % counts.shape[1])) for f in flat if counts.flat[f] > 0]
    rows = [[view.rows[i], view.columns[j], str(int(view.counts[i, j]))] for i, j in cells]
    return [f"Most frequent concept-matrix cells off the diagonal ({len(rows)} shown; rows: a true class, columns: "
            f"a predicted class; a sample counts in every pair of its labels and predictions):",
            *_table(["true", "predicted", "samples"], rows)]


def multilabel_compare_text(a: MultilabelEvaluation, b: MultilabelEvaluation, r: dict) -> str:
    iv = lambda name: f"[{r['intervals'][name][0]:+.3f}, {r['intervals'][name][1]:+.3f}]"  # noqa: E731
    pa, pb = a.headline(), b.headline()
    names = {"subset_accuracy": "subset accuracy", "samples_f1": "samples F1", "macro_f1": "macro F1",
             "micro_f1": "micro F1", "hamming_loss": "Hamming loss"}
    lines = [f"evaldash compare (multi-label): A = {a.dataset.source}, B = {b.dataset.source}",
             f"{'paired (same sample ids)' if r['paired'] else 'unpaired (different samples)'}; "
             f"{r['level']:.0%} bootstrap intervals of B minus A, {r['resamples']} resamples, seed {r['seed']}", ""]
    for key, label in names.items():
        lines.append(f"{label:<16} A {pa[key]:.3f}  B {pb[key]:.3f}  delta {r['delta'][key]:+.3f} {iv(key)}"
                     + ("  (lower is better)" if key == "hamming_loss" else ""))
    if "macro_roc_auc" in r["delta"]:
        lines.append(f"{'macro ROC AUC':<16} A {pa['macro_roc_auc']:.3f}  B {pb['macro_roc_auc']:.3f}  "
                     f"delta {r['delta']['macro_roc_auc']:+.3f} {iv('macro_roc_auc')}")
    elif "macro_roc_auc" in r["unavailable"]:
        lines.append(f"{'macro ROC AUC':<16} unavailable: {r['unavailable']['macro_roc_auc']}")
    lines.append(r["verdict"])
    if r["paired"]:
        lines.append(f"B fixed {r['fixed']} samples whose label set A got wrong, broke {r['broken']} that A got "
                     f"right; both wrong on {r['both_wrong']}")
    for side in ("a", "b"):
        if r[f"only_in_{side}"]:
            lines.append(f"classes only in {side.upper()}: {', '.join(r[f'only_in_{side}'])}")
    lines += ["", "Per class F1 (shared classes):"]
    lines += _table(["class", "delta f1", "95% interval"],
                    [[c, f"{r['delta'][f'f1[{c}]']:+.3f}", iv(f"f1[{c}]")] for c in r["shared_classes"]])
    return "\n".join(lines)
