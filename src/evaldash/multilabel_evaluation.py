"""The results of evaluating one :class:`~evaldash.multilabel_data.MultilabelDataset`, computed once.

``evaluate_multilabel(dataset, thresholds)`` builds a :class:`MultilabelEvaluation`. Its views
have the names of the single-label :class:`~evaldash.evaluation.Evaluation`
(:data:`evaldash.views.VIEW_NAMES`), so a page asks either for a per-class table, a matrix, a
cell's samples or a class's sweep without knowing the task.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from evaldash import metrics
from evaldash import multilabel_metrics as mm
from evaldash.errors import InputError
from evaldash.evaluation import (WARNED_CLASSES, Evaluation, _class_curves, _per_class_warnings,
                                 live_threshold_view, slider_span)
from evaldash.multilabel_data import MultilabelDataset
from evaldash.views import NO_LABEL, NO_PREDICTION, MatrixView

DEFAULT_THRESHOLD = 0.5
# memo entries that do not depend on the thresholds (shared by with_thresholds)
_THRESHOLD_FREE = {"sweep", "ranking pass", "ranking metrics", "curves", "live", "mean score", "label issues"}


def evaluate_multilabel(dataset: MultilabelDataset, threshold: float | None = None,
                        thresholds=None) -> "MultilabelEvaluation":
    """Evaluate ``dataset``: a class is predicted when its score is >= its threshold (``threshold``
    for every class, or ``thresholds`` of shape (k,); default 0.5), unless the file gives its
    predictions, which take precedence."""
    k = dataset.n_classes
    if threshold is not None and thresholds is not None:
        raise InputError("use either --threshold (one threshold) or --thresholds FILE.json (one per class), not both")
    if threshold is not None:
        if not math.isfinite(threshold):
            raise InputError(f"--threshold must be a finite number, got {threshold}")
        t = np.full(k, float(threshold))
    elif thresholds is not None:
        t = np.asarray(thresholds, dtype=np.float64)
        if t.shape != (k,) or np.isnan(t).any():
            raise InputError(f"thresholds: expected {k} numbers, one per class, got {t.tolist()}")
    else:
        t = np.full(k, DEFAULT_THRESHOLD)
    t.setflags(write=False)
    return MultilabelEvaluation(dataset, t)


@dataclass(eq=False)
class MultilabelEvaluation:
    """Everything computed from one multi-label dataset; build with :func:`evaluate_multilabel`.

    ``thresholds``: ndarray of shape (n_classes,), each class's threshold (used only when the file
    gives no predictions).
    """

    dataset: MultilabelDataset
    thresholds: np.ndarray
    _memo: dict = field(default_factory=dict, repr=False)
    _guard: threading.RLock = field(default_factory=threading.RLock, repr=False)  # a computation may need another
    _locks: dict = field(default_factory=dict, repr=False)  # one per memo name (a page need not wait for another)

    task = "multilabel"

    @property
    def classes(self) -> tuple[str, ...]:
        return self.dataset.classes

    @property
    def predictions_thresholded(self) -> bool:
        return self.dataset.y_pred_given is None

    def with_thresholds(self, thresholds) -> "MultilabelEvaluation":
        """A new evaluation of the same dataset at other per-class thresholds, shape (k,); the
        sweeps (the expensive part) are shared, as they do not depend on the thresholds."""
        other = evaluate_multilabel(self.dataset, thresholds=thresholds)
        for name, value in list(self._memo.items()):
            if (name[0] if isinstance(name, tuple) else name) in _THRESHOLD_FREE:
                other._memo[name] = value
        return other

    # --- predictions and counts -------------------------------------------------------
    @cached_property
    def y_pred(self) -> np.ndarray:
        """Predicted indicators, shape (n_samples, n_classes), bool."""
        d = self.dataset
        if d.y_pred_given is not None:
            return d.y_pred_given
        out = mm.multilabel_predictions(d.scores, self.thresholds)
        out.setflags(write=False)
        return out

    @cached_property
    def per_class(self) -> dict[str, np.ndarray]:
        """Arrays of shape (n_classes,): tp, fp, fn, tn, precision, recall, f1, fpr, specificity,
        support, prevalence (as the single-label ``Evaluation.per_class``)."""
        return mm.multilabel_per_class(self.dataset.y_true, self.y_pred)

    @cached_property
    def averages(self) -> dict[str, dict[str, float]]:
        """``micro``, ``macro``, ``weighted`` and ``samples`` precision/recall/F1."""
        return mm.multilabel_averages(self.per_class, self.dataset.y_true, self.y_pred)

    @cached_property
    def subset_accuracy(self) -> float:
        return mm.multilabel_subset_accuracy(self.dataset.y_true, self.y_pred)

    @cached_property
    def hamming_loss(self) -> float:
        return mm.multilabel_hamming_loss(self.dataset.y_true, self.y_pred)

    @cached_property
    def jaccard(self) -> dict[str, float]:
        return mm.multilabel_jaccard(self.per_class, self.dataset.y_true, self.y_pred)

    @cached_property
    def label_cardinality(self) -> dict[str, float]:
        return {"true": mm.multilabel_cardinality(self.dataset.y_true),
                "predicted": mm.multilabel_cardinality(self.y_pred)}

    @cached_property
    def ranking_metrics(self) -> dict[str, float]:
        """LRAP, coverage error and label ranking loss (NaN without scores)."""
        if not self.dataset.has_scores:
            return {m: float("nan") for m in ("label_ranking_average_precision", "coverage_error",
                                               "label_ranking_loss")}
        return self.memo("ranking metrics", lambda e: mm.multilabel_ranking(e.dataset.y_true, e.dataset.scores))

    # --- sweeps and threshold-free metrics -------------------------------------------
    def sweep(self, cls: int) -> metrics.ThresholdSweep:
        """One-vs-rest sweep of class ``cls``'s indicator column (built once, when first asked for:
        all of them at a million rows × 100 classes would hold 1.6 GB)."""
        d = self.dataset
        if not d.has_scores:
            raise InputError(f"{d.source}: threshold metrics need per-class scores; the file has none")
        return self.memo(("sweep", cls), lambda e: metrics.threshold_sweep(np.ascontiguousarray(d.scores[:, cls]),
                                                                          d.y_true[:, cls]))

    def _ranking_pass(self) -> dict:
        d = self.dataset
        return self.memo("ranking pass", lambda e: mm.multilabel_ranking_pass(d.y_true, d.scores))

    @cached_property
    def ranking(self) -> dict:
        """Per-class ROC AUC and AP with macro averages and class name → why undefined (as the
        single-label ``Evaluation.ranking``)."""
        d = self.dataset
        if not d.has_scores:
            nan = [float("nan")] * d.n_classes
            return {"roc_auc": nan, "average_precision": nan, "roc_auc_macro": float("nan"),
                    "ap_macro": float("nan"), "reasons": {}, "unavailable": "the file has no scores"}
        out = dict(self._ranking_pass())
        out["reasons"] = {d.classes[c]: why for c, why in out["reasons"].items()}
        out["unavailable"] = ""
        return out

    def _ranking_notes(self) -> dict:
        """:attr:`ranking`'s ``reasons`` (class name → why its ROC AUC/AP is undefined) and
        ``unavailable``, for the warnings."""
        return self.ranking

    def class_ranking(self, cls: int) -> tuple[float, float]:
        """(ROC AUC, average precision) of concept ``cls``."""
        return self.ranking["roc_auc"][cls], self.ranking["average_precision"][cls]

    @property
    def micro_ranking(self) -> dict[str, float]:
        """Micro ROC AUC and AP (``roc_auc``, ``ap``) of every (sample, class) score pooled."""
        if not self.dataset.has_scores:
            return {"roc_auc": float("nan"), "ap": float("nan")}
        rk = self._ranking_pass()
        return {"roc_auc": rk["roc_auc_micro"], "ap": rk["ap_micro"]}

    def suggestions(self, cls: int, target_precision: float = 0.9, target_recall: float = 0.9,
                    cost_fp: float = 1.0, cost_fn: float = 1.0) -> dict[str, float]:
        """Suggested thresholds for class ``cls`` (from its sweep, as for one class today)."""
        return metrics.suggested_thresholds(self.sweep(cls), target_precision, target_recall, cost_fp, cost_fn)

    def class_curves(self, cls: int) -> dict[str, np.ndarray]:
        """ROC, PR and threshold curves of class ``cls`` reduced for drawing (keys as the single-label's)."""
        return self.memo(("curves", cls), lambda e: _class_curves(e.sweep(cls)))

    # the macro-average ROC and PR curves the live threshold draws beside a class's own: the
    # single-label computation (it needs only n_classes, sweep and class_curves)
    average_curves = cached_property(Evaluation.average_curves.func)

    def slider_range(self, cls: int) -> tuple[float, float, float]:
        """(low, high, step) of class ``cls``'s threshold slider."""
        if self.dataset.is_probability:
            return 0.0, 1.0, 0.001
        col = self.dataset.scores[:, cls]
        return slider_span(float(np.min(col)), float(np.max(col)))

    def live_threshold(self, cls: int, t: float) -> dict:
        """What the browser needs to move class ``cls``'s threshold (as the single-label's)."""
        return live_threshold_view(self, cls, t)

    def metrics_at_thresholds(self, thresholds) -> dict:
        """:func:`evaldash.multilabel_thresholds.metrics_at_thresholds` of this evaluation."""
        from evaldash.multilabel_thresholds import metrics_at_thresholds

        return metrics_at_thresholds(self, thresholds)

    def concept_calibration(self, cls: int, n_bins: int = 15) -> dict:
        """:func:`evaldash.multilabel_calibration.concept_calibration` of concept ``cls``."""
        from evaldash.multilabel_calibration import concept_calibration

        return concept_calibration(self, cls, n_bins)

    def concept_bin_samples(self, cls: int, lower: float, upper: float) -> np.ndarray:
        """Row indices of concept ``cls``'s score bin (``lower``, ``upper``], highest score first."""
        from evaldash.figures import reliability_bin_rows

        return reliability_bin_rows(np.asarray(self.dataset.scores[:, cls], dtype=np.float64), lower, upper)

    def slice_table(self, column: str) -> pd.DataFrame:
        """:func:`evaldash.multilabel_slices.multilabel_slice_table` of ``column``."""
        from evaldash.multilabel_slices import multilabel_slice_table

        return multilabel_slice_table(self, column)

    def thresholds_table(self) -> pd.DataFrame:
        """Each class's threshold with its precision and recall at it (the /threshold page's table)."""
        t = self.per_class
        return pd.DataFrame({"class": list(self.classes), "threshold": self.thresholds,
                             "precision": t["precision"], "recall": t["recall"], "f1": t["f1"]})

    # --- matrices and drill-down ------------------------------------------------------
    @cached_property
    def concept_counts(self) -> np.ndarray:
        """The concept-by-concept matrix, counts of shape (k + 1, k + 1) (:func:`~evaldash.multilabel_metrics.concept_matrix`)."""
        return mm.concept_matrix(self.dataset.y_true, self.y_pred)

    @cached_property
    def co_occurrence(self) -> np.ndarray:
        """Samples labelled both i and j, shape (k, k)."""
        return mm.co_occurrence(self.dataset.y_true)

    @cached_property
    def _row_samples(self) -> np.ndarray:
        """Samples of each matrix row (labelled i; the last: no label), shape (k + 1,)."""
        y = self.dataset.y_true
        return np.append(np.count_nonzero(y, axis=0), np.count_nonzero(~np.any(y, axis=1)))

    @property
    def row_totals(self) -> np.ndarray:
        """Samples of each concept-matrix row, shape (k + 1,): labelled i; the last, no label."""
        return self._row_samples

    @property
    def matrix_modes(self) -> tuple[str, ...]:
        return ("counts", "true", "score") if self.dataset.has_scores else ("counts", "true")

    def matrix(self, mode: str = "counts") -> MatrixView:
        """The concept matrix: ``counts``; ``true``: counts over the samples of the row (a sample
        counts in several cells of a row, so the diagonal is each class's recall); ``score``: the
        mean score of column class j over the samples labelled i (no "no prediction" column)."""
        counts = self.concept_counts
        rows = (*self.classes, NO_LABEL)
        columns = (*self.classes, NO_PREDICTION)
        if mode == "counts":
            return MatrixView(counts, counts, rows, columns, mode)
        if mode == "true":
            return MatrixView(mm.row_normalised(counts, self._row_samples), counts, rows, columns, mode)
        if mode == "score":
            if not self.dataset.has_scores:
                raise InputError("the mean-score matrix needs per-class scores")
            values = self.memo("mean score", lambda e: mm.mean_score_matrix(e.dataset.y_true, e.dataset.scores))
            return MatrixView(values, counts[:, :-1], rows, self.classes, mode)
        raise InputError(f"unknown matrix mode {mode!r}; expected {', '.join(self.matrix_modes)}")

    def cell_samples(self, true: int, pred: int) -> np.ndarray:
        """Row indices of the samples in matrix cell (true, pred), most confident first (index k:
        the "no label" row / "no prediction" column)."""
        k = self.dataset.n_classes
        if not (0 <= true <= k and 0 <= pred <= k):
            raise InputError(f"cell ({true}, {pred}) is outside the {k + 1} x {k + 1} concept matrix")
        return mm.cell_rows(self.dataset.y_true, self.y_pred, self.dataset.scores, true, pred)

    def concept_errors(self, cls: int, kind: str) -> np.ndarray:
        """Class ``cls``'s false positives (``"fp"``) or false negatives (``"fn"``), most confident mistakes first."""
        if kind not in ("fp", "fn"):
            raise InputError(f"kind {kind!r}: expected 'fp' (predicted, not labelled) or 'fn' (labelled, not predicted)")
        return mm.concept_errors(self.dataset.y_true, self.y_pred, self.dataset.scores, cls, kind)

    def label_sets(self, rows: np.ndarray) -> pd.DataFrame:
        """The true and predicted label sets of ``rows`` (sample id, true, predicted; names joined by ', ')."""
        d = self.dataset
        names = np.asarray(d.classes, dtype=object)
        rows = np.asarray(rows, dtype=np.int64)
        join = lambda m: [", ".join(names[r]) for r in m]  # noqa: E731
        ids = d.ids.take(rows) if hasattr(d.ids, "take") else d.ids[rows]
        return pd.DataFrame({"id": np.asarray(ids, dtype=object), "true": join(d.y_true[rows]),
                             "predicted": join(self.y_pred[rows])})

    def label_issues(self) -> dict:
        """Suspected label errors (cleanlab, multi-label mode): ``available``, ``reason`` and
        ``table`` (one row per sample and concept: row, id, concept, issue "missing" or "wrong",
        score; the most suspicious first)."""
        d = self.dataset
        if not d.is_probability:
            return {"available": False, "reason": f"cleanlab needs probabilities: {d.probability_reason}"}

        def find(e):
            try:
                found = mm.suspected_label_errors(d.y_true, d.scores)
            except ValueError as exc:  # cleanlab refuses some degenerate label sets
                return {"available": False, "reason": f"cleanlab could not run: {exc}"}
            ids = d.ids.take(found["row"]) if hasattr(d.ids, "take") else d.ids[found["row"]]
            table = pd.DataFrame({"row": found["row"], "id": np.asarray(ids, dtype=object),
                                  "concept": np.asarray(d.classes, dtype=object)[found["cls"]],
                                  "issue": np.where(found["missing"], "missing", "wrong"), "score": found["score"]})
            return {"available": True, "reason": "", "table": table}
        return self.memo("label issues", find)

    # --- summaries --------------------------------------------------------------------
    def per_class_table(self) -> pd.DataFrame:
        """One row per class: :data:`evaldash.views.PER_CLASS_COLUMNS` and its ``threshold``."""
        t, rk = self.per_class, self.ranking
        return pd.DataFrame({"class": list(self.classes), **{m: t[m] for m in ("precision", "recall", "f1", "support",
                                                                             "tp", "fp", "fn", "tn")},
                             "roc_auc": rk["roc_auc"], "average_precision": rk["average_precision"],
                             "threshold": self._threshold_used()})

    def _threshold_used(self) -> list[float | None]:
        return [None] * len(self.classes) if not self.predictions_thresholded else [float(v) for v in self.thresholds]

    def headline(self) -> dict[str, float]:
        """The flat metric name → value map used by quality gates and cards."""
        av, rk, mr = self.averages, self.ranking, self.micro_ranking
        out = {"subset_accuracy": self.subset_accuracy, "hamming_loss": self.hamming_loss}
        out.update({f"{avg}_{m}": av[avg][m] for avg in ("samples", "macro", "weighted", "micro")
                    for m in ("precision", "recall", "f1")})
        out.update({f"jaccard_{avg}": v for avg, v in self.jaccard.items()})
        out.update({"macro_roc_auc": rk["roc_auc_macro"], "micro_roc_auc": mr["roc_auc"],
                    "macro_average_precision": rk["ap_macro"], "micro_average_precision": mr["ap"]})
        out.update(self.ranking_metrics)
        out.update({"label_cardinality": self.label_cardinality["true"],
                    "predicted_label_cardinality": self.label_cardinality["predicted"]})
        return out

    def report(self) -> dict:
        """A JSON-ready dict of every metric (NaN kept as float NaN), keys as ``evaldash report --json``."""
        d = self.dataset
        t, rk, mr = self.per_class, self.ranking, self.micro_ranking
        used = self._threshold_used()
        per_class = {name: {"precision": float(t["precision"][c]), "recall": float(t["recall"][c]),
                            "f1": float(t["f1"][c]), "support": int(t["support"][c]), "tp": int(t["tp"][c]),
                            "fp": int(t["fp"][c]), "fn": int(t["fn"][c]), "tn": int(t["tn"][c]),
                            "roc_auc": rk["roc_auc"][c], "average_precision": rk["average_precision"][c],
                            "threshold": used[c]}
                     for c, name in enumerate(d.classes)}
        k = d.n_classes
        return {
            "task": self.task, "n": d.n, "classes": list(d.classes), "per_class": per_class,
            **{avg: self.averages[avg] for avg in ("micro", "macro", "weighted", "samples")},
            "subset_accuracy": self.subset_accuracy, "hamming_loss": self.hamming_loss, "jaccard": self.jaccard,
            **self.ranking_metrics,
            "roc_auc": {"macro": rk["roc_auc_macro"], "micro": mr["roc_auc"]},
            "average_precision": {"macro": rk["ap_macro"], "micro": mr["ap"]},
            "label_cardinality": self.label_cardinality,
            "concept_matrix": self.concept_counts[:k, :k].tolist(),
            "co_occurrence": self.co_occurrence.tolist(),
        }

    def warnings(self) -> list[str]:
        d = self.dataset
        out = list(d.warnings)
        t = self.per_class
        absent = [name for c, name in enumerate(d.classes) if t["support"][c] == 0]
        never = [name for c, name in enumerate(d.classes) if t["tp"][c] + t["fp"][c] == 0]
        out += _per_class_warnings(absent, "class {!r} is never labelled: its recall and F1 are reported as 0",
                                   "are never labelled: their recall and F1 are reported as 0")
        out += _per_class_warnings(never, "class {!r} is never predicted: its precision is reported as 0 (as "
                                   "scikit-learn does)", "are never predicted: their precision is reported as 0 "
                                   "(as scikit-learn does)")
        rk = self._ranking_notes()
        if rk["unavailable"]:
            out.append(f"ROC AUC, average precision and ranking metrics unavailable: {rk['unavailable']}")
        if len(rk["reasons"]) <= WARNED_CLASSES:
            out += [f"class {name!r}: ROC AUC/average precision undefined ({why})" for name, why in rk["reasons"].items()]
        else:
            out += _per_class_warnings(list(rk["reasons"]), "", "have an undefined ROC AUC/average precision "
                                       "(no positives or no negatives)")
        if not self.predictions_thresholded:
            out.append("the file gives its predictions (predicted_labels or pred_<class>): they are used as given, "
                       "not the thresholds")
        return out

    def precompute(self, background: bool = False) -> "MultilabelEvaluation":
        """Do every heavy computation now, so that interactions only look results up (``background``:
        accepted as the single-label ``Evaluation.precompute``'s; done now either way)."""
        _ = self.per_class, self.averages, self.subset_accuracy, self.concept_counts, self.co_occurrence
        if self.dataset.has_scores:
            _ = self.ranking, self.micro_ranking, self.ranking_metrics
        return self

    def memo(self, name, compute):
        """``compute(self)`` once per evaluation and ``name`` (thread-safe: one computation per name;
        on an engine a page is not held up by another name computed in the background)."""
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
