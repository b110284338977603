"""The results of evaluating one :class:`~evaldash.dataset.Dataset`, computed once.

``evaluate(dataset)`` builds an :class:`Evaluation`; its methods derive views
(report dict, confusion matrices, curves, galleries) from what was computed
once. The per-class threshold sweeps are built lazily, once each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np

from evaldash import metrics
from evaldash.dataset import Dataset
from evaldash.errors import InputError

TOP_K = (3, 5)


def evaluate(dataset: Dataset, threshold: float | None = None) -> "Evaluation":
    """Evaluate ``dataset``.

    With ``threshold`` on binary data with scores, the predictions become
    ``score(positive) >= threshold`` before anything is computed.
    """
    if threshold is not None:
        if not math.isfinite(threshold):
            raise InputError(f"--threshold must be a finite number, got {threshold}")
        if dataset.is_binary and dataset.has_scores:
            dataset = with_threshold(dataset, threshold)
    return Evaluation(dataset, threshold)


def with_threshold(dataset: Dataset, threshold: float) -> Dataset:
    """The binary dataset whose predictions are ``score(positive) >= threshold``."""
    pos = dataset.positive
    y_pred = np.where(dataset.scores[:, pos] >= threshold, pos, 1 - pos).astype(np.int32)
    y_pred.setflags(write=False)
    return replace(dataset, y_pred=y_pred, prediction_given=True)


@dataclass(eq=False)
class Evaluation:
    """Everything computed from one dataset; build with :func:`evaluate`."""

    dataset: Dataset
    threshold: float | None = None
    _sweeps: dict = field(default_factory=dict, repr=False)

    # --- counts ---------------------------------------------------------
    @cached_property
    def confusion(self) -> np.ndarray:
        """ndarray of shape (n_classes, n_classes), rows true, columns predicted."""
        d = self.dataset
        return metrics.confusion_matrix(d.y_true, d.y_pred, d.n_classes)

    @cached_property
    def per_class(self) -> dict[str, np.ndarray]:
        return metrics.per_class_table(self.confusion)

    @cached_property
    def averages(self) -> dict[str, dict[str, float]]:
        return metrics.averages(self.per_class)

    @cached_property
    def accuracy(self) -> float:
        return float(np.trace(self.confusion) / self.dataset.n)

    @cached_property
    def correct(self) -> np.ndarray:
        return self.dataset.y_true == self.dataset.y_pred

    @cached_property
    def confidence(self) -> np.ndarray:
        return self.dataset.confidence()

    def confusion_view(self, mode: str) -> np.ndarray:
        """The matrix for ``mode``: counts, true (row-normalised), pred (column-normalised), score."""
        if mode == "counts":
            return self.confusion
        if mode in ("true", "pred"):
            return metrics.normalize_confusion(self.confusion, mode)
        if mode == "score":
            if not self.dataset.has_scores:
                raise InputError("the mean-score matrix needs per-class scores")
            return self.memo("mean_score", lambda e: metrics.mean_score_matrix(e.dataset.y_true, e.dataset.scores))
        raise InputError(f"unknown confusion mode {mode!r}; expected counts, true, pred or score")

    # --- threshold-dependent ---------------------------------------------
    def sweep(self, cls: int) -> metrics.ThresholdSweep:
        """One-vs-rest sweep of class index ``cls`` (built once)."""
        if not self.dataset.has_scores:
            raise InputError(f"{self.dataset.source}: threshold metrics need per-class scores; the file has none")
        if cls not in self._sweeps:
            d = self.dataset
            self._sweeps[cls] = metrics.threshold_sweep(d.scores[:, cls], d.y_true == cls)
        return self._sweeps[cls]

    def micro_summary(self, curves: bool = False) -> dict:
        """Micro-average ROC AUC and AP, with reduced ROC/PR curves when ``curves``.

        The pooled sweep has n_samples × n_classes points, so only these results are kept.
        """
        cached = self._sweeps.get("micro")
        if cached is None or (curves and "roc" not in cached):
            d = self.dataset
            sweep = metrics.micro_sweep(d.y_true, d.scores)
            cached = {"roc_auc": sweep.roc_auc(), "ap": sweep.average_precision()}
            if curves:
                fpr, tpr, _ = sweep.roc()
                precision, recall, _ = sweep.pr()
                ri, pi = metrics.reduce_curve(fpr, tpr), metrics.reduce_curve(recall, precision)
                cached["roc"] = (fpr[ri].astype(np.float32), tpr[ri].astype(np.float32))
                cached["pr"] = (recall[pi].astype(np.float32), precision[pi].astype(np.float32))
            self._sweeps["micro"] = cached
        return cached

    @cached_property
    def selective(self) -> metrics.SelectiveSweep:
        return metrics.selective_sweep(self.confidence, self.correct)

    def suggestions(self, cls: int, target_precision: float = 0.9, target_recall: float = 0.9,
                    cost_fp: float = 1.0, cost_fn: float = 1.0) -> dict[str, float]:
        """Suggested thresholds for class ``cls``."""
        s = self.sweep(cls)
        return {
            "max_f1": metrics.suggest_max_f1(s),
            "max_youden": metrics.suggest_max_youden(s),
            "target_precision": metrics.suggest_target_precision(s, target_precision),
            "target_recall": metrics.suggest_target_recall(s, target_recall),
            "min_cost": metrics.suggest_min_cost(s, cost_fp, cost_fn),
        }

    @cached_property
    def ranking(self) -> dict:
        """Per-class ROC AUC and AP with macro/micro averages and reasons for NaN."""
        d = self.dataset
        k = d.n_classes
        if not d.has_scores:
            reason = "the file has no scores"
            nan = [float("nan")] * k
            return {"roc_auc": nan, "average_precision": nan,
                    "roc_auc_macro": float("nan"), "roc_auc_micro": float("nan"),
                    "ap_macro": float("nan"), "ap_micro": float("nan"), "reasons": {}, "unavailable": reason}
        auc = np.array([self.sweep(c).roc_auc() for c in range(k)])
        ap = np.array([self.sweep(c).average_precision() for c in range(k)])
        reasons = {d.classes[c]: self.sweep(c).undefined_reason() for c in range(k)
                   if self.sweep(c).undefined_reason()}
        if d.is_binary:
            # as scikit-learn scores a binary target: the positive class alone (averaging in
            # the negative class would inflate average precision)
            pos = d.positive
            macro_auc = micro_auc = float(auc[pos])
            macro_ap = micro_ap = float(ap[pos])
        else:
            micro = self.micro_summary()
            macro_auc, macro_ap = _nanmean(auc), _nanmean(ap)
            micro_auc, micro_ap = micro["roc_auc"], micro["ap"]
        return {
            "roc_auc": auc.tolist(),
            "average_precision": ap.tolist(),
            "roc_auc_macro": macro_auc,
            "ap_macro": macro_ap,
            "roc_auc_micro": micro_auc,
            "ap_micro": micro_ap,
            "reasons": reasons,
            "unavailable": "",
        }

    # --- calibration -------------------------------------------------------
    @cached_property
    def calibration(self) -> dict:
        """Log loss, Brier score, reliability bins and ECE, or the reason they are unavailable."""
        d = self.dataset
        if not d.is_probability:
            return {"available": False, "reason": d.probability_reason}
        bins = metrics.reliability(self.confidence, self.correct)
        return {
            "available": True,
            "reason": "",
            "log_loss": metrics.log_loss(d.y_true, d.scores),
            "brier": metrics.brier_score(d.y_true, d.scores),
            "ece": metrics.expected_calibration_error(bins),
            "bins": bins,
        }

    # --- drill-down --------------------------------------------------------
    @cached_property
    def _cells(self) -> tuple[np.ndarray, np.ndarray]:
        d = self.dataset
        return metrics.cell_index(d.y_true, d.y_pred, self.confidence, d.n_classes)

    def cell_samples(self, true: int, pred: int) -> np.ndarray:
        """Row indices of the samples in cell (true, pred), most confident first."""
        order, offsets = self._cells
        c = true * self.dataset.n_classes + pred
        return order[offsets[c]:offsets[c + 1]]

    def class_curves(self, cls: int) -> dict[str, np.ndarray]:
        """ROC, PR and threshold curves of class ``cls`` reduced for drawing (built once).

        Keys: ``roc_fpr``, ``roc_tpr``, ``pr_recall``, ``pr_precision``, ``threshold``,
        ``precision``, ``recall``, ``f1`` (the last four share one reduced threshold axis).
        """
        key = ("curves", cls)
        if key not in self._sweeps:
            s = self.sweep(cls)
            fpr, tpr, _ = s.roc()
            roc_idx = metrics.reduce_curve(fpr, tpr)
            precision, recall, _ = s.pr()
            pr_idx = metrics.reduce_curve(recall, precision)
            c = s.curve()
            finite = slice(1, None)  # the +inf point has no place on a threshold axis
            th_idx = metrics.reduce_curve(c["threshold"][finite], c["f1"][finite]) + 1
            curves = {
                "roc_fpr": fpr[roc_idx], "roc_tpr": tpr[roc_idx],
                "pr_recall": recall[pr_idx], "pr_precision": precision[pr_idx],
                "threshold": c["threshold"][th_idx], "precision": c["precision"][th_idx],
                "recall": c["recall"][th_idx], "f1": c["f1"][th_idx],
            }
            # drawn, not computed with: float32 halves what each slider move sends to the browser
            self._sweeps[key] = {k: v.astype(np.float32) for k, v in curves.items()}
        return self._sweeps[key]

    @cached_property
    def average_curves(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Micro- and macro-average ROC (fpr, tpr) and PR (recall, precision) curves, reduced.

        Macro averages interpolate each defined class on a common grid and take the mean
        (as in scikit-learn's ROC example).
        """
        d = self.dataset
        grid = np.linspace(0.0, 1.0, 201)
        tprs, precs = [], []
        for c in range(d.n_classes):
            s = self.sweep(c)
            if s.n_pos == 0 or s.n_neg == 0:
                continue
            fpr, tpr, _ = s.roc()
            tprs.append(np.interp(grid, fpr, tpr))
            precision, recall, _ = s.pr()
            # interpolated precision: the best precision at recall >= r
            best = np.maximum.accumulate(precision)
            precs.append(np.interp(grid, recall[::-1], best[::-1]))
        micro = self.micro_summary(curves=True)
        out = {"roc micro-average": micro["roc"], "pr micro-average": micro["pr"]}
        if tprs:
            out["roc macro-average"] = (grid.astype(np.float32), np.mean(tprs, axis=0).astype(np.float32))
            out["pr macro-average"] = (grid.astype(np.float32), np.mean(precs, axis=0).astype(np.float32))
        return out

    @cached_property
    def selective_reduced(self) -> dict[str, np.ndarray]:
        """The selective-prediction curve (coverage, accuracy) reduced for drawing."""
        c = self.selective.curve()
        idx = metrics.reduce_curve(c["coverage"], c["accuracy"])
        return {"coverage": c["coverage"][idx], "accuracy": c["accuracy"][idx]}

    def precompute(self) -> "Evaluation":
        """Do every heavy computation now (sweeps, curves, cells) so interactions only look up."""
        _ = self.confusion, self.per_class, self.calibration, self._cells
        if self.dataset.has_scores:
            _ = self.average_curves, self.ranking, self.selective, self.selective_reduced, self.top_k()
            for c in range(self.dataset.n_classes):
                self.class_curves(c)
        return self

    def memo(self, name: str, compute):
        """``compute(self)`` once per evaluation, for derived views such as filter options."""
        key = ("memo", name)
        if key not in self._sweeps:
            self._sweeps[key] = compute(self)
        return self._sweeps[key]

    # --- summaries ---------------------------------------------------------
    def top_k(self) -> dict[str, float]:
        d = self.dataset
        if not d.has_scores:
            return {}
        rank = self.memo("rank", lambda e: metrics.true_class_rank(e.dataset.y_true, e.dataset.scores))
        return {f"top_{k}": float(np.mean(rank < k)) for k in TOP_K if k < d.n_classes}

    def warnings(self) -> list[str]:
        d = self.dataset
        out = list(d.warnings)
        table = self.per_class
        for c, name in enumerate(d.classes):
            if table["support"][c] == 0:
                out.append(f"class {name!r} has no samples in the labels: its recall and F1 are reported as 0")
            if table["tp"][c] + table["fp"][c] == 0:
                out.append(f"class {name!r} is never predicted: its precision is reported as 0 (as scikit-learn does)")
        rk = self.ranking
        if rk["unavailable"]:
            out.append(f"ROC AUC and average precision unavailable: {rk['unavailable']}")
        for name, why in rk["reasons"].items():
            out.append(f"class {name!r}: ROC AUC/average precision undefined ({why})")
        if not self.calibration["available"]:
            out.append(f"log loss and calibration unavailable: {self.calibration['reason']}")
        return out

    def headline(self) -> dict[str, float]:
        """The flat metric name → value map used by quality gates and cards."""
        av = self.averages
        rk = self.ranking
        cal = self.calibration
        out = {
            "accuracy": self.accuracy,
            "error_rate": 1.0 - self.accuracy,
            **{f"{avg}_{m}": av[avg][m] for avg in ("macro", "weighted", "micro")
               for m in ("precision", "recall", "f1")},
            "macro_roc_auc": rk["roc_auc_macro"],
            "micro_roc_auc": rk["roc_auc_micro"],
            "macro_average_precision": rk["ap_macro"],
            "micro_average_precision": rk["ap_micro"],
            "log_loss": cal.get("log_loss", float("nan")),
            "brier": cal.get("brier", float("nan")),
            "ece": cal.get("ece", float("nan")),
        }
        out.update(self.top_k())
        return out

    def report(self) -> dict:
        """A JSON-ready dict of every metric (NaN kept as float NaN)."""
        d = self.dataset
        table = self.per_class
        rk = self.ranking
        per_class = {}
        for c, name in enumerate(d.classes):
            per_class[name] = {
                "precision": float(table["precision"][c]),
                "recall": float(table["recall"][c]),
                "f1": float(table["f1"][c]),
                "support": int(table["support"][c]),
                "specificity": float(table["specificity"][c]),
                "fpr": float(table["fpr"][c]),
                "prevalence": float(table["prevalence"][c]),
                "roc_auc": rk["roc_auc"][c],
                "average_precision": rk["average_precision"][c],
            }
        cal = self.calibration
        out = {
            "source": d.source,
            "n": d.n,
            "classes": list(d.classes),
            "positive": d.classes[d.positive] if d.positive is not None else None,
            "accuracy": self.accuracy,
            "error_rate": 1.0 - self.accuracy,
            **self.top_k(),
            "macro": self.averages["macro"],
            "weighted": self.averages["weighted"],
            "micro": self.averages["micro"],
            "confusion_matrix": self.confusion.tolist(),
            "per_class": per_class,
            "roc_auc": {"macro": rk["roc_auc_macro"], "micro": rk["roc_auc_micro"]},
            "average_precision": {"macro": rk["ap_macro"], "micro": rk["ap_micro"]},
            "calibration": (
                {"log_loss": cal["log_loss"], "brier": cal["brier"], "ece": cal["ece"]}
                if cal["available"] else {"unavailable": cal["reason"]}
            ),
            "warnings": self.warnings(),
        }
        if self.threshold is not None and d.has_scores:
            out["threshold"] = self.threshold_report(self.threshold)
        return out

    def threshold_report(self, t: float) -> dict:
        """Per-class one-vs-rest counts and rates at ``t`` (binary: the positive class only)."""
        d = self.dataset
        classes = [d.positive] if d.is_binary else range(d.n_classes)
        out = {"value": t, "per_class": {d.classes[c]: self.sweep(c).at(t) for c in classes}}
        if not d.is_binary:
            out["selective"] = self.selective.at(t)
        return out


def _nanmean(values: np.ndarray) -> float:
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    return float(v.mean()) if v.size else float("nan")
