"""The results of evaluating one :class:`~evaldash.dataset.Dataset`, computed once.

``evaluate(dataset)`` builds an :class:`Evaluation`; its methods derive views
(report dict, confusion matrices, curves, galleries) from what was computed
once. The per-class threshold sweeps are built lazily, once each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import cached_property
import logging
import os
import threading

import numpy as np
import pandas as pd

from evaldash import bootstrap, metrics
from evaldash.confusion_counts import ConfusionCounts, confusion_counts
from evaldash.dataset import Dataset
from evaldash.micro_average import micro_auc_ap
from evaldash.errors import InputError
from evaldash.views import MatrixView

TOP_K = (3, 5)
MIRRORS = {"one_minus": lambda v: 1.0 - v, "negate": np.negative}


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


def with_corrected_labels(dataset: Dataset, corrections: dict[str, str]) -> tuple[Dataset, dict]:
    """The dataset with annotators' corrected labels (sample id → class name) as its labels.

    Returns the new dataset (scores and predictions unchanged) and a summary: ``corrected``
    (labels changed), ``unknown`` (corrections naming no class of the file, ignored), and
    ``mistakes_were_label_errors`` (samples that were mistakes and are right with the corrected
    label).
    """
    if not corrections:
        return dataset, {"corrected": 0, "unknown": 0, "mistakes_were_label_errors": 0}
    import pyarrow as pa
    import pyarrow.compute as pc

    ids = pa.array(dataset.ids)
    keys = pa.array(list(corrections), type=pa.string())
    where = pc.index_in(ids.cast(pa.string()), value_set=keys).fill_null(-1).to_numpy()
    rows = np.flatnonzero(where >= 0)
    names = list(corrections.values())
    index = {c: i for i, c in enumerate(dataset.classes)}
    y_true = np.array(dataset.y_true, copy=True)
    unknown = 0
    corrected = 0
    for row in rows:
        name = names[int(where[row])]
        if name not in index:
            unknown += 1
            continue
        if y_true[row] != index[name]:
            corrected += 1
        y_true[row] = index[name]
    fixed = int(np.sum((dataset.y_true != dataset.y_pred) & (y_true == dataset.y_pred)))
    y_true.setflags(write=False)
    return replace(dataset, y_true=y_true), {"corrected": corrected, "unknown": unknown,
                                             "mistakes_were_label_errors": fixed}


@dataclass(eq=False)
class Evaluation:
    """Everything computed from one dataset; build with :func:`evaluate`."""

    dataset: Dataset
    threshold: float | None = None
    _memo: dict = field(default_factory=dict, repr=False)
    _locks: dict = field(default_factory=dict, repr=False)
    _guard: threading.Lock = field(default_factory=threading.Lock, repr=False)

    # --- counts ---------------------------------------------------------
    @cached_property
    def counts(self) -> ConfusionCounts:
        """The observed confusion cells (O(n) whatever the number of classes): everything the
        views and reports need derives from them, not from the dense matrix."""
        d = self.dataset
        return confusion_counts(d.y_true, d.y_pred, d.n_classes)

    @cached_property
    def confusion(self) -> np.ndarray:
        """ndarray of shape (n_classes, n_classes), rows true, columns predicted: k² numbers, so
        built only when asked for (views of many classes use :attr:`counts`)."""
        return self.counts.dense()

    @cached_property
    def per_class(self) -> dict[str, np.ndarray]:
        return self.counts.per_class_table()

    @cached_property
    def averages(self) -> dict[str, dict[str, float]]:
        return metrics.averages(self.per_class)

    @cached_property
    def accuracy(self) -> float:
        return float(self.counts.diagonal.sum() / self.dataset.n)

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

    def confusion_block(self, mode: str, shown) -> tuple[np.ndarray, np.ndarray]:
        """The values of :meth:`confusion_view` and the counts of the classes ``shown`` (rows and
        columns in that order), each of shape (s, s), in O(n + k + s²) instead of k²; the
        shares are of the whole row or column, and a mean score is over the whole true class."""
        shown = np.asarray(shown, dtype=np.int64)
        counts = self.counts.sub(shown)
        if mode == "counts":
            return counts, counts
        if mode in ("true", "pred"):
            totals = (self.counts.support if mode == "true" else self.counts.predicted)[shown].astype(np.float64)
            totals = totals[:, None] if mode == "true" else totals[None, :]
            return np.divide(counts, totals, out=np.zeros(counts.shape), where=totals > 0), counts
        if mode == "score":
            if not self.dataset.has_scores:
                raise InputError("the mean-score matrix needs per-class scores")
            d = self.dataset
            where = np.full(d.n_classes, -1, dtype=np.int64)
            where[shown] = np.arange(shown.size)
            rows = np.flatnonzero(where[d.y_true] >= 0)
            group = where[d.y_true[rows]]
            sums = np.zeros((shown.size, shown.size))
            np.add.at(sums, group, d.scores[np.ix_(rows, shown)])
            with np.errstate(invalid="ignore", divide="ignore"):
                return sums / np.bincount(group, minlength=shown.size)[:, None], counts
        raise InputError(f"unknown confusion mode {mode!r}; expected counts, true, pred or score")

    # --- the views shared with the multi-label results (evaldash.views) -----
    @property
    def task(self) -> str:
        """``"binary"`` or ``"multiclass"``."""
        return "binary" if self.dataset.is_binary else "multiclass"

    @property
    def classes(self) -> tuple[str, ...]:
        return self.dataset.classes

    @property
    def matrix_modes(self) -> tuple[str, ...]:
        return ("counts", "true", "pred", "score") if self.dataset.has_scores else ("counts", "true", "pred")

    def matrix(self, mode: str = "counts") -> MatrixView:
        """The confusion matrix in ``mode`` (:meth:`confusion_view`) with its counts and labels (k² cells:
        views of many classes use :meth:`confusion_block`)."""
        return MatrixView(self.confusion_view(mode), self.confusion, self.classes, self.classes, mode)

    def per_class_table(self) -> pd.DataFrame:
        """One row per class: the columns of :data:`evaldash.views.PER_CLASS_COLUMNS`."""
        t, rk = self.per_class, self.ranking
        return pd.DataFrame({"class": list(self.classes), **{m: t[m] for m in ("precision", "recall", "f1", "support",
                                                                             "tp", "fp", "fn", "tn")},
                             "roc_auc": rk["roc_auc"], "average_precision": rk["average_precision"]})

    # --- threshold-dependent ---------------------------------------------
    def sweep(self, cls: int) -> metrics.ThresholdSweep:
        """One-vs-rest sweep of class index ``cls`` (built once)."""
        if not self.dataset.has_scores:
            raise InputError(f"{self.dataset.source}: threshold metrics need per-class scores; the file has none")
        d = self.dataset
        if d.score_mirror is not None:  # one score column: both classes' sweeps from one sort
            pos = d.positive
            pair = self.memo("mirrored sweeps", lambda e: metrics.mirrored_sweeps(
                d.scores[:, pos], d.y_true == pos, MIRRORS[d.score_mirror]))
            return pair[0] if cls == pos else pair[1]
        return self.memo(("sweep", cls),
                         lambda e: metrics.threshold_sweep(e.dataset.scores[:, cls], e.dataset.y_true == cls))

    def _ranking_notes(self) -> dict:
        """:attr:`ranking`'s ``reasons`` (class name → why its ROC AUC/AP is undefined) and
        ``unavailable``, for the warnings."""
        return self.ranking

    def class_ranking(self, cls: int) -> tuple[float, float]:
        """(ROC AUC, average precision) of class ``cls``."""
        return self.ranking["roc_auc"][cls], self.ranking["average_precision"][cls]

    @property
    def micro_ranking(self) -> dict[str, float]:
        """Micro-average ROC AUC and AP (``roc_auc``, ``ap``); binary data: the positive class's.

        The pooled problem has n_samples × n_classes scores: its two numbers are computed
        without sorting them all (:mod:`evaldash.micro_average`).
        """
        d = self.dataset
        if not d.has_scores:
            return {"roc_auc": float("nan"), "ap": float("nan")}
        if d.is_binary:  # as scikit-learn scores a binary target
            return {"roc_auc": self.ranking["roc_auc"][d.positive], "ap": self.ranking["average_precision"][d.positive]}

        def pooled(e):
            auc, ap = micro_auc_ap(e.dataset.y_true, e.dataset.scores)
            return {"roc_auc": auc, "ap": ap}
        return self.memo("micro", pooled)

    @cached_property
    def selective(self) -> metrics.SelectiveSweep:
        return metrics.selective_sweep(self.confidence, self.correct)

    def suggestions(self, cls: int, target_precision: float = 0.9, target_recall: float = 0.9,
                    cost_fp: float = 1.0, cost_fn: float = 1.0) -> dict[str, float]:
        """Suggested thresholds for class ``cls``."""
        return metrics.suggested_thresholds(self.sweep(cls), target_precision, target_recall, cost_fp, cost_fn)

    @cached_property
    def ranking(self) -> dict:
        """Per-class ROC AUC and AP with macro averages and reasons for NaN (micro: ``micro_ranking``)."""
        d = self.dataset
        k = d.n_classes
        if not d.has_scores:
            reason = "the file has no scores"
            nan = [float("nan")] * k
            return {"roc_auc": nan, "average_precision": nan, "roc_auc_macro": float("nan"),
                    "ap_macro": float("nan"), "reasons": {}, "unavailable": reason}
        auc = np.array([self.sweep(c).roc_auc() for c in range(k)])
        ap = np.array([self.sweep(c).average_precision() for c in range(k)])
        reasons = {d.classes[c]: self.sweep(c).undefined_reason() for c in range(k)
                   if self.sweep(c).undefined_reason()}
        if d.is_binary:
            # as scikit-learn scores a binary target: the positive class alone (averaging in
            # the negative class would inflate average precision)
            macro_auc, macro_ap = float(auc[d.positive]), float(ap[d.positive])
        else:
            macro_auc, macro_ap = _nanmean(auc), _nanmean(ap)
        return {
            "roc_auc": auc.tolist(),
            "average_precision": ap.tolist(),
            "roc_auc_macro": macro_auc,
            "ap_macro": macro_ap,
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
        # the samples sorted by cell, most confident first within one, and their cell codes in
        # that order: a cell's samples are found by binary search (O(n), not one offset per cell)
        d = self.dataset
        cell = d.y_true.astype(np.int64) * d.n_classes + d.y_pred
        order = np.lexsort((-np.nan_to_num(self.confidence, nan=-np.inf), cell))
        return order, cell[order]

    def cell_samples(self, true: int, pred: int) -> np.ndarray:
        """Row indices of the samples in cell (true, pred), most confident first."""
        order, cells = self._cells
        c = true * self.dataset.n_classes + pred
        lo, hi = np.searchsorted(cells, [c, c + 1])
        return order[lo:hi]

    def class_curves(self, cls: int) -> dict[str, np.ndarray]:
        """ROC, PR and threshold curves of class ``cls`` reduced for drawing (built once).

        Keys: ``roc_fpr``, ``roc_tpr``, ``roc_threshold``; ``pr_recall``, ``pr_precision``,
        ``pr_threshold``; ``threshold``, ``precision``, ``recall``, ``f1`` (one reduced threshold
        axis). Each point's threshold is the lowest score that gives it (+inf: nothing predicted).
        """
        return self.memo(("curves", cls), lambda e: _class_curves(e.sweep(cls)))

    @cached_property
    def average_curves(self) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Macro-average ROC (fpr, tpr) and PR (recall, precision) curves on 201 points.

        Each defined class's drawn curve is interpolated on a common grid and the mean taken (as
        in scikit-learn's ROC example); PR uses interpolated precision (the best at recall >= r).
        The micro average is a number only (``micro_ranking``): its curve needs the pooled sort.
        """
        d = self.dataset
        grid = np.linspace(0.0, 1.0, 201)
        tprs, precs = [], []
        for c in range(d.n_classes):
            s = self.sweep(c)
            if s.n_pos == 0 or s.n_neg == 0:
                continue
            cv = self.class_curves(c)
            tprs.append(np.interp(grid, cv["roc_fpr"], cv["roc_tpr"]))
            best = np.maximum.accumulate(cv["pr_precision"])  # increasing thresholds: recall falls
            precs.append(np.interp(grid, cv["pr_recall"][::-1], best[::-1]))
        if not tprs:
            return {}
        return {"roc macro-average": (grid.astype(np.float32), np.mean(tprs, axis=0).astype(np.float32)),
                "pr macro-average": (grid.astype(np.float32), np.mean(precs, axis=0).astype(np.float32))}

    def slider_range(self, cls: int) -> tuple[float, float, float]:
        """(low, high, step) of the threshold slider of class ``cls``: [0, 1] by 0.001 for
        probabilities, else the score range cut in about 1000 round steps."""
        if self.dataset.is_probability:
            return 0.0, 1.0, 0.001
        col = self.dataset.scores[:, cls]
        return slider_span(float(np.min(col)), float(np.max(col)))

    def live_threshold(self, cls: int, t: float) -> dict:
        """What the browser needs to move the threshold of class ``cls`` without the server.

        ``grid``: the slider's positions (ndarray of shape (n_positions,), increasing): the
        regular steps of :meth:`slider_range` plus ``t`` itself, so a typed or suggested value is
        shown exactly; ``tp``/``fp``: the sweep's counts at each position (the core's own numbers,
        the browser only divides); ``index``: the position of ``t``; ``inserted``: whether ``t`` is off the regular steps;
        ``n_pos``/``n_neg``; and the
        drawn curves of :meth:`class_curves`.
        """
        return live_threshold_view(self, cls, t)

    @cached_property
    def selective_reduced(self) -> dict[str, np.ndarray]:
        """The selective-prediction curve (coverage, accuracy) reduced for drawing."""
        c = self.selective.curve()
        idx = metrics.reduce_curve(c["coverage"], c["accuracy"])
        return {"coverage": c["coverage"][idx], "accuracy": c["accuracy"][idx]}

    def precompute(self, background: bool = False) -> "Evaluation":
        """Do every heavy computation now so that interactions only look results up.

        What every first page view needs (counts, calibration, the per-class sweeps) is done
        here; the rest (drill-down order, curves, micro average, top-k) too, or, with
        ``background``, in a daemon thread: a page that asks for a result still being computed
        waits for it (each result has its own lock) instead of computing it twice.
        """
        _ = self.counts, self.per_class, self.calibration
        if self.dataset.has_scores:
            _ = self.ranking
        if background:
            _background(self._precompute_rest, "evaldash-precompute")
        else:
            self._precompute_rest()
        return self

    def _precompute_rest(self) -> None:
        try:
            _ = self._cells
            if self.dataset.has_scores:
                for c in range(self.dataset.n_classes):
                    self.class_curves(c)
                _ = self.average_curves, self.selective, self.selective_reduced, self.top_k(), self.micro_ranking
                self._compute_auc_intervals()  # last: seconds at 1M rows, and only the overview shows them
        except Exception:  # noqa: BLE001 - a page asking for the result recomputes it and reports the error
            logging.getLogger(__name__).exception("background precompute failed")

    _AUC_INTERVALS = "auc intervals"
    _INTERVALS = "intervals"

    def auc_intervals(self, wait: bool = True) -> dict[str, list[float]] | None:
        """Class name → [low, high] of its ROC AUC's 95% bootstrap interval
        (:func:`evaldash.bootstrap.auc_intervals`, default resamples and seed), computed once.

        With ``wait=False``: None while it is not ready yet, and its computation started in a
        daemon thread unless one runs already (the background precompute starts it too)."""
        if not self.dataset.has_scores:
            raise InputError(f"{self.dataset.source}: ROC AUC intervals need per-class scores; the file has none")
        return self._once(self._AUC_INTERVALS, self._compute_auc_intervals, wait)

    def intervals(self, wait: bool = True) -> dict | None:
        """The 95% bootstrap intervals of accuracy, macro F1 and each class's precision, recall
        and F1 (:func:`evaldash.bootstrap.intervals`, default resamples and seed), computed once;
        ``wait=False`` as for :meth:`auc_intervals` (seconds at a million rows of 1,000 classes:
        resamples × observed confusion cells)."""
        return self._once(self._INTERVALS, self._compute_intervals, wait)

    def _once(self, name: str, compute, wait: bool):
        if wait or name in self._memo:
            return compute()
        with self._guard:
            running = name in self._locks
        if not running:
            _background(compute, f"evaldash-{name.replace(' ', '-')}")
        return None

    def _compute_auc_intervals(self) -> dict[str, list[float]]:
        return self._memo_or_retry(self._AUC_INTERVALS, lambda e: bootstrap.auc_intervals_of_groups(
            e.auc_groups, list(e.dataset.classes)))

    def _compute_intervals(self) -> dict:
        return self._memo_or_retry(self._INTERVALS, lambda e: e.bootstrap_intervals(auc=False))

    def bootstrap_intervals(self, resamples: int = bootstrap.DEFAULT_RESAMPLES, seed: int = bootstrap.DEFAULT_SEED,
                            auc: bool = True) -> dict:
        """:func:`evaldash.bootstrap.intervals` of this evaluation (``report --ci``), from what it
        counted once: the confusion cells and, with ``auc`` and scores, each class's
        :meth:`auc_groups` (the same draws and intervals as from the per-sample arrays)."""
        d, c = self.dataset, self.counts
        out = bootstrap.intervals_of_cells(c.true * d.n_classes + c.pred, c.count, list(d.classes), resamples, seed)
        if auc and d.has_scores:
            for name, pair in bootstrap.auc_intervals_of_groups(self.auc_groups, list(d.classes), resamples,
                                                                seed).items():
                out["per_class"][name]["roc_auc"] = pair
        return out

    def operating_points(self, thresholds, fallback: str = "abstain"):
        """:func:`evaldash.decision.operating_points` of per-class ``thresholds`` on this file."""
        from evaldash.decision import operating_points

        return operating_points(self.dataset.y_true, self.dataset.scores, thresholds, fallback)

    def auc_groups(self, cls: int) -> np.ndarray | None:
        """:func:`evaldash.bootstrap.auc_group_counts` of class ``cls`` (None without positives or
        negatives): what its ROC AUC's bootstrap draws from."""
        d = self.dataset
        positive = d.y_true == cls
        return None if positive.all() or not positive.any() else bootstrap.auc_group_counts(d.scores[:, cls], positive)

    def _memo_or_retry(self, name: str, compute):
        try:
            return self.memo(name, compute)
        except BaseException:
            with self._guard:  # not left "running": the next call tries again
                self._locks.pop(name, None)
            raise

    def memo(self, name, compute):
        """``compute(self)`` once per evaluation and ``name`` (thread-safe: one computation per name)."""
        try:
            return self._memo[name]
        except KeyError:
            pass
        with self._guard:
            lock = self._locks.setdefault(name, threading.RLock())
        with lock:
            if name not in self._memo:
                self._memo[name] = compute(self)
        return self._memo[name]

    # --- summaries ---------------------------------------------------------
    def top_k(self) -> dict[str, float]:
        d = self.dataset
        if not d.has_scores:
            return {}
        rank = self.memo("rank", lambda e: _true_class_rank(e.dataset.y_true, e.dataset.scores))
        return {f"top_{k}": float(np.mean(rank < k)) for k in TOP_K if k < d.n_classes}

    def warnings(self) -> list[str]:
        d = self.dataset
        out = list(d.warnings)
        table = self.per_class
        absent = [name for c, name in enumerate(d.classes) if table["support"][c] == 0]
        never = [name for c, name in enumerate(d.classes) if table["tp"][c] + table["fp"][c] == 0]
        # one line per class up to WARNED_CLASSES classes of a kind; a file of thousands of classes
        # would otherwise carry thousands of lines (drawn one by one in the sidebar)
        out += _per_class_warnings(absent, "class {!r} has no samples in the labels: its recall and F1 are "
                                   "reported as 0", "have no samples in the labels: their recall and F1 are "
                                   "reported as 0")
        out += _per_class_warnings(never, "class {!r} is never predicted: its precision is reported as 0 (as "
                                   "scikit-learn does)", "are never predicted: their precision is reported as 0 "
                                   "(as scikit-learn does)")
        rk = self._ranking_notes()
        if rk["unavailable"]:
            out.append(f"ROC AUC and average precision unavailable: {rk['unavailable']}")
        if len(rk["reasons"]) <= WARNED_CLASSES:
            for name, why in rk["reasons"].items():
                out.append(f"class {name!r}: ROC AUC/average precision undefined ({why})")
        else:
            out += _per_class_warnings(list(rk["reasons"]), "", "have an undefined ROC AUC/average precision "
                                       "(no positives or no negatives)")
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
            "micro_roc_auc": self.micro_ranking["roc_auc"],
            "macro_average_precision": rk["ap_macro"],
            "micro_average_precision": self.micro_ranking["ap"],
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
            "task": self.task,
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
            # dense up to DENSE_MAX_CLASSES classes, else the observed cells (see confusion_counts)
            "confusion_matrix": self.counts.to_json(),
            "per_class": per_class,
            "roc_auc": {"macro": rk["roc_auc_macro"], "micro": self.micro_ranking["roc_auc"]},
            "average_precision": {"macro": rk["ap_macro"], "micro": self.micro_ranking["ap"]},
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
        """Per-class one-vs-rest counts and rates at ``t`` (binary: the positive class only).
        Undefined precision, recall and F1 are 0, as in the per-class table (``zero_division=0``)."""
        d = self.dataset
        classes = [d.positive] if d.is_binary else range(d.n_classes)
        out = {"value": t, "per_class": {d.classes[c]: self.sweep(c).at(t, zero_division=0.0) for c in classes}}
        if not d.is_binary:
            out["selective"] = self.selective.at(t)
        return out


WARNED_CLASSES = 10  # classes named one per line in the warnings; above, one line per kind


def live_threshold_view(evaluation, cls: int, t: float) -> dict:
    """What the browser needs to move class ``cls``'s threshold: the slider grid's exact counts
    (``t`` inserted when it is not a grid step), the class's totals and drawn curves; for any
    results object with ``memo``, ``sweep``, ``slider_range`` and ``class_curves``."""
    base = evaluation.memo(("live", cls), lambda e: _grid(e.sweep(cls), *e.slider_range(cls)))
    grid, tp, fp = base["grid"], base["tp"], base["fp"]
    i = int(np.searchsorted(grid, t))
    inserted = i == grid.size or grid[i] != t
    if inserted:
        t_tp, t_fp = evaluation.sweep(cls).counts_at(np.array([t]))
        grid, tp, fp = np.insert(grid, i, t), np.insert(tp, i, t_tp), np.insert(fp, i, t_fp)
    s = evaluation.sweep(cls)
    return {"grid": grid, "tp": tp, "fp": fp, "index": i, "inserted": inserted, "n_pos": s.n_pos,
            "n_neg": s.n_neg, "curves": evaluation.class_curves(cls)}


def _per_class_warnings(names: list[str], one: str, many: str) -> list[str]:
    if len(names) <= WARNED_CLASSES:
        return [one.format(name) for name in names]
    shown = ", ".join(repr(name) for name in names[:5])
    return [f"{len(names)} classes ({shown}, …) {many}"]


BACKGROUND_NICE = 19


def _background(target, name: str) -> threading.Thread:
    """Start ``target`` in a daemon thread at the lowest CPU priority (Linux: a thread has its
    own nice value), so that work nobody waits for yet (the rest of a precompute, bootstrap
    intervals) does not slow what a user is waiting for: a page being drawn, the browser on
    the same machine."""
    def run():
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), BACKGROUND_NICE)
        except (AttributeError, OSError):  # not Linux, or not permitted: run at normal priority
            pass
        target()

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread


RANK_BLOCK = 2_000_000  # scores compared at once by _true_class_rank


def _true_class_rank(y_true: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """:func:`evaldash.metrics.true_class_rank` a block of rows at a time: its five boolean
    temporaries of the scores' shape are half a gigabyte at 100,000 rows of 1,000 classes."""
    step = max(1, RANK_BLOCK // max(scores.shape[1], 1))
    return np.concatenate([metrics.true_class_rank(y_true[i:i + step], scores[i:i + step])
                           for i in range(0, y_true.size, step)] or [np.zeros(0, dtype=np.int64)])


def _nanmean(values: np.ndarray) -> float:
    v = np.asarray(values, dtype=np.float64)
    v = v[~np.isnan(v)]
    return float(v.mean()) if v.size else float("nan")


def slider_span(lo: float, hi: float) -> tuple[float, float, float]:
    """(low, high, step) of a slider over scores from ``lo`` to ``hi``: about 1000 round steps."""
    step = float(f"{(hi - lo) / 1000:.2g}") or 1e-6
    return math.floor(lo / step) * step, math.ceil(hi / step) * step, step


def slider_positions(lo: float, hi: float, step: float) -> np.ndarray:
    """The slider's regular positions from ``lo`` to ``hi`` by ``step``, increasing."""
    n = int(round((hi - lo) / step)) + 1
    # rounded so that a position prints as the step's decimals (0.3, not 0.30000000000000004)
    decimals = max(0, -math.floor(math.log10(step)) + 2)
    return np.unique(np.round(lo + step * np.arange(n), decimals))


def _grid(sweep: metrics.ThresholdSweep, lo: float, hi: float, step: float) -> dict[str, np.ndarray]:
    grid = slider_positions(lo, hi, step)
    tp, fp = sweep.counts_at(grid)
    return {"grid": grid, "tp": tp, "fp": fp}


def _class_curves(s: metrics.ThresholdSweep) -> dict[str, np.ndarray]:
    # the drawn indices are picked first; rates are computed at those points only
    fpr, tpr, _ = s.roc()
    roc = metrics.reduce_curve(fpr, tpr)
    precision, recall, pr_th = s.pr()
    pr = metrics.reduce_curve(recall, precision)
    pr_th = np.concatenate([pr_th, [np.inf]])  # the closing point (recall 0, precision 1)
    f1 = np.divide(2 * s.tp[1:], s.tp[1:] + s.fp[1:] + s.n_pos, dtype=np.float64)
    th = metrics.reduce_curve(s.thresholds[1:], f1) + 1  # the +inf point has no place on an axis
    at = metrics.rates(s.tp[th], s.fp[th], s.n_pos, s.n_neg)
    curves = {
        "roc_fpr": fpr[roc], "roc_tpr": tpr[roc], "roc_threshold": s.thresholds[roc],
        "pr_recall": recall[pr], "pr_precision": precision[pr], "pr_threshold": pr_th[pr],
        "threshold": s.thresholds[th], "precision": at["precision"], "recall": at["recall"],
        "f1": at["f1"],
    }
    # drawn, not computed with: float32 halves what goes to the browser
    return {k: v.astype(np.float32) for k, v in curves.items()}
