"""``evaldash report``, ``check`` and ``compare`` on multi-label files (called by :mod:`evaldash.cli`
once the file's task is known)."""

from __future__ import annotations

import argparse
import math

from evaldash.errors import InputError
from evaldash.gates import check_gates, load_gates, metric_value, parse_gate
from evaldash.multilabel_data import DEFAULT_SEPARATOR, MultilabelDataset
from evaldash.multilabel_evaluation import MultilabelEvaluation, evaluate_multilabel
from evaldash.report import gates_text

TASK_HELP = "the task: multilabel, multiclass or binary (default: from the truth columns' form)"
LABEL_SEP_HELP = f"separator of the class names in a CSV label-set cell (default {DEFAULT_SEPARATOR!r})"


def add_task_args(p: argparse.ArgumentParser) -> None:
    """``--task`` and ``--label-sep``."""
    p.add_argument("--task", choices=("multilabel", "multiclass", "binary"), help=TASK_HELP)
    p.add_argument("--label-sep", default=DEFAULT_SEPARATOR, metavar="SEP", help=LABEL_SEP_HELP)


def _evaluate(args, dataset: MultilabelDataset) -> MultilabelEvaluation:
    thresholds = None
    if getattr(args, "thresholds", None):
        if not dataset.has_scores:
            raise InputError(f"{dataset.source}: --thresholds needs per-class scores; the file has none")
        from evaldash.decision import load_thresholds

        thresholds = load_thresholds(args.thresholds, dataset.classes).thresholds
    return evaluate_multilabel(dataset, threshold=getattr(args, "threshold", None), thresholds=thresholds)


def run_multilabel(args, dataset: MultilabelDataset) -> int:
    """``report`` or ``check`` of a multi-label dataset; returns the exit code."""
    return run_multilabel_evaluation(args, _evaluate(args, dataset))


def run_multilabel_evaluation(args, evaluation: MultilabelEvaluation, baseline_of=None) -> int:
    """``report`` or ``check`` of a multi-label evaluation (in memory or on an engine);
    ``baseline_of()``: the evaluation of ``--baseline`` (None, or no function: read into memory)."""
    if args.command == "report":
        from evaldash.multilabel_report import multilabel_report_json, multilabel_report_text

        ci = _intervals(args, evaluation)
        print(multilabel_report_json(evaluation, ci) if args.json else multilabel_report_text(evaluation, ci))
        return 0
    gates = [*(load_gates(args.gates) if args.gates else []), *args.gates_given]
    if args.max_drop and not args.baseline:
        raise InputError("--max-drop needs --baseline FILE, the predictions of the model to compare with")
    if not gates and not args.max_drop:
        raise InputError("check needs at least one --min or --max gate (e.g. --min samples_f1=0.8), a --gates FILE, "
                         "or --baseline FILE with --max-drop METRIC=VALUE")
    results = check_gates(evaluation, gates)
    lines = [gates_text(results)] if results else []
    passed = all(r.passed for r in results)
    if args.baseline:
        baseline = baseline_of() if baseline_of is not None else None
        if baseline is None:
            from evaldash.tasks import load_dataset

            other = load_dataset(args.baseline, task="multilabel", label_sep=args.label_sep,
                                 images_root=args.images_root)
            baseline = _evaluate(args, other)
        for text in args.max_drop:
            gate = parse_gate(text, "max-drop")
            now, before = metric_value(evaluation, gate.metric), metric_value(baseline, gate.metric)
            # a loss (Hamming loss, ranking loss, coverage error) drops when it grows
            drop = now - before if _lower_is_better(gate.metric) else before - now
            ok = math.isfinite(drop) and drop <= gate.limit
            passed &= ok
            lines.append(f"{gate.metric}: {now:.4f} against the baseline's {before:.4f}, "
                         f"{'a rise' if _lower_is_better(gate.metric) else 'a drop'} of {drop:.4f} "
                         f"(at most {gate.limit:g} allowed): {'pass' if ok else 'FAIL'}")
    print("\n".join(lines))
    return 0 if passed else 1


def _lower_is_better(metric: str) -> bool:
    return metric in ("hamming_loss", "label_ranking_loss", "coverage_error")


def _intervals(args, evaluation: MultilabelEvaluation):
    if not getattr(args, "ci", False):
        return None
    if args.resamples < 10:
        raise InputError(f"--resamples {args.resamples}: expected at least 10 resamples")
    from evaldash.multilabel_compare import multilabel_intervals

    return multilabel_intervals(evaluation, resamples=args.resamples, seed=args.seed)


def compare_multilabel_files(args, a_set, b_set) -> int:
    """``evaldash compare A B`` of two multi-label files."""
    if not (isinstance(a_set, MultilabelDataset) and isinstance(b_set, MultilabelDataset)):
        raise InputError(f"compare: {args.a} and {args.b} are of different tasks (one multi-label, one "
                         f"single-label); expected two files of the same task")
    from evaldash.multilabel_compare import compare_multilabel
    from evaldash.multilabel_report import multilabel_compare_text

    a, b = evaluate_multilabel(a_set), evaluate_multilabel(b_set)
    result = compare_multilabel(a, b, resamples=args.resamples, seed=args.seed)
    if args.json:
        import json

        from evaldash.report import to_jsonable

        print(json.dumps(to_jsonable({"a": a.report(), "b": b.report(), **result}), indent=2, ensure_ascii=False))
    else:
        print(multilabel_compare_text(a, b, result))
    return 0
