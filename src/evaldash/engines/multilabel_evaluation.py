"""The results object of a multi-label file that stays in its engine:
:class:`evaldash.multilabel_evaluation.MultilabelEvaluation`'s views (report, headline, warnings,
per-class table, concept matrix, a cell's samples) over aggregates the engine computes.

What comes back: each class's support, predictions and true positives; the samples counted by
(labels, predicted labels, labels predicted), from which every sample-level metric is a sum; the
concept and co-occurrence matrices; the sums of the label ranking metrics; each class's exact
sweep summary (ROC AUC and AP computed in the engine by one sort of the rows on the class's
indicator column, :func:`evaldash.engines.sql.row_sweep_summary`) and the pooled one (micro).
For the dashboard: each concept's reduced sweep (the single-label engine's,
:class:`~evaldash.engines.evaluation.OnEngine`: the slider's counts exact), its calibration
bins, the slice table's per-slice sample counts, and the rows of a cell, a concept's FN / FP or a
score bin a page at a time (lazy, in the memory order).
Everything derived from them is the memory path's own code. Cleanlab's suspected label errors
need every row in memory: the warnings say so in one line (the pages: with the sample button).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from evaldash import metrics
from evaldash import multilabel_metrics as mm
from evaldash.engines import sql
from evaldash.engines.evaluation import OnEngine, class_summary, summarize
from evaldash.engines.rows import RankedRows
from evaldash.engines.multilabel_table import MultilabelEngineDataset, open_multilabel_table, source_columns
from evaldash.errors import InputError
from evaldash.multilabel_data import DEFAULT_SEPARATOR, detect_task
from evaldash.multilabel_evaluation import _THRESHOLD_FREE, MultilabelEvaluation, evaluate_multilabel
from evaldash.views import MatrixView


def evaluate_engine_multilabel(dataset: MultilabelEngineDataset, threshold: float | None = None,
                               thresholds=None) -> "EngineMultilabelEvaluation":
    """:func:`evaldash.multilabel_evaluation.evaluate_multilabel` of a dataset in its engine
    (same threshold rules and messages)."""
    checked = evaluate_multilabel(dataset, threshold=threshold, thresholds=thresholds)
    return EngineMultilabelEvaluation(dataset, checked.thresholds)


def evaluate_path(engine, path: str, *, task: str | None = None, label_sep: str = DEFAULT_SEPARATOR,
                  positive: str | None = None, threshold: float | None = None, thresholds_file: str | None = None,
                  images_root: str | None = None):
    """The evaluation of ``path`` in ``engine`` for its task, decided once from its columns (as
    :func:`evaldash.tasks.load_dataset`): an :class:`EngineMultilabelEvaluation` or a single-label
    :class:`~evaldash.engines.evaluation.EngineEvaluation`; ``images_root`` (with an image column):
    the folder images must lie in (default: the file's folder)."""
    from evaldash.engines import evaluate_file

    if detect_task(source_columns(path), str(path), task) != "multilabel":
        # a single-label file's --thresholds are per-class operating points, reported apart (cli)
        evaluation = evaluate_file(engine, path, positive=positive, threshold=threshold, images_root=images_root)
        d = evaluation.dataset
        if task == "binary" and not d.is_binary:
            raise InputError(f"{path}: --task binary needs exactly two classes; found {len(d.classes)}: "
                             f"{list(d.classes)[:10]}")
        return evaluation
    if positive is not None:
        raise InputError(f"--positive {positive!r}: a multi-label file has no positive class (every class is "
                         f"scored on its own)")
    from evaldash.engines import shared

    dataset = shared(open_multilabel_table(engine, path, label_sep=label_sep), path,
                     (("task", "multilabel"), ("label_sep", label_sep), ("threshold", threshold),
                      ("thresholds", thresholds_file)), images_root)
    thresholds = None
    if thresholds_file:
        if not dataset.has_scores:
            raise InputError(f"{dataset.source}: --thresholds needs per-class scores; the file has none")
        from evaldash.decision import load_thresholds

        thresholds = load_thresholds(thresholds_file, dataset.classes).thresholds
    return evaluate_engine_multilabel(dataset, threshold=threshold, thresholds=thresholds)


@dataclass(eq=False)
class EngineMultilabelEvaluation(OnEngine, MultilabelEvaluation):
    """Evaluation of a :class:`~evaldash.engines.multilabel_table.MultilabelEngineDataset`; build
    with :func:`evaluate_engine_multilabel`. Each concept's threshold (its reduced sweep, the
    counts at the slider's positions) is the single-label engine's (:class:`OnEngine`) on the
    concept's indicator column."""

    def _class_scores(self, cls: int) -> str:
        return sql.label_scores(cls)

    def _positive(self, cls: int) -> str:
        return f"{sql.truth(cls)} = 1"

    @cached_property
    def _rows_sql(self) -> str:
        """``ev_rows`` with the predictions at this evaluation's thresholds (or the file's own)."""
        d = self.dataset
        k = d.n_classes
        preds = [f"g_{c}" for c in range(k)] if d.prediction_given else sql.threshold_predictions(k, self.thresholds)
        return sql.multilabel_rows(k, preds)

    @property
    def predictions_thresholded(self) -> bool:
        return not self.dataset.prediction_given

    @property
    def y_pred(self):
        """Predicted labels, shape (n, k), bool, read a row or a page at a time (the row cache's records)."""
        return self.dataset.predicted(self.thresholds)

    @property
    def _view(self) -> str:
        """``ev_rows`` with the predictions (``p_c``) and per-sample counts, as a FROM item."""
        return f"({self._rows_sql}) ev_a"

    def with_thresholds(self, thresholds) -> "EngineMultilabelEvaluation":
        other = evaluate_engine_multilabel(self.dataset, thresholds=thresholds)
        for name, value in list(self._memo.items()):
            if (name[0] if isinstance(name, tuple) else name) in _THRESHOLD_FREE | {"summary", "micro", "score range", "co-occurrence"}:
                other._memo[name] = value
        return other

    # --- counts -------------------------------------------------------------------------
    @cached_property
    def per_class(self) -> dict[str, np.ndarray]:
        """As :func:`evaldash.multilabel_metrics.multilabel_per_class`, from per-class sums."""
        d = self.dataset
        k, n = d.n_classes, d.n
        row = self.engine.row(sql.multilabel_class_counts(k, self._rows_sql))
        get = lambda name: np.array([int(row[f"{name}_{c}"] or 0) for c in range(k)], dtype=np.int64)  # noqa: E731
        tp, support, predicted = get("tp"), get("sup"), get("prd")
        out = metrics.rates(tp, predicted - tp, support, n - support, zero_division=0.0)
        out["support"] = support
        out["prevalence"] = metrics._safe_div(support, np.full_like(support, n))
        return out

    @cached_property
    def _samples(self) -> dict[str, np.ndarray]:
        """Samples counted by (labels, predicted labels, labels predicted): arrays nt, np, nb, count."""
        f = self.engine.frame(sql.multilabel_sample_counts(self._rows_sql))
        return {key: f[key].to_numpy(np.int64) for key in ("nt", "np", "nb", "n")}

    def _mean(self, numerator: np.ndarray, denominator: np.ndarray) -> float:
        return sample_mean(self._samples, numerator, denominator, self.dataset.n)

    @cached_property
    def averages(self) -> dict[str, dict[str, float]]:
        s = self._samples
        out = metrics.averages(self.per_class)
        out["samples"] = {"precision": self._mean(s["nb"], s["np"]), "recall": self._mean(s["nb"], s["nt"]),
                          "f1": self._mean(2 * s["nb"], s["nt"] + s["np"])}
        return out

    @cached_property
    def subset_accuracy(self) -> float:
        return sample_metrics(self._samples, self.dataset.n, self.dataset.n_classes)["subset_accuracy"]

    @cached_property
    def hamming_loss(self) -> float:
        return sample_metrics(self._samples, self.dataset.n, self.dataset.n_classes)["hamming_loss"]

    @cached_property
    def jaccard(self) -> dict[str, float]:
        s, t = self._samples, self.per_class
        tp, fp, fn = t["tp"], t["fp"], t["fn"]
        pooled = int(tp.sum() + fp.sum() + fn.sum())
        return {"samples": self._mean(s["nb"], s["nt"] + s["np"] - s["nb"]),
                "macro": float(metrics._safe_div(tp, tp + fp + fn, 0.0).mean()),
                "micro": float(tp.sum() / pooled) if pooled else 0.0}

    @cached_property
    def label_cardinality(self) -> dict[str, float]:
        s, n = self._samples, self.dataset.n
        return {"true": float(int(np.dot(s["n"], s["nt"])) / n), "predicted": float(int(np.dot(s["n"], s["np"])) / n)}

    @cached_property
    def ranking_metrics(self) -> dict[str, float]:
        names = ("label_ranking_average_precision", "coverage_error", "label_ranking_loss")
        if not self.dataset.has_scores:
            return {m: float("nan") for m in names}

        return self.memo("ranking metrics", lambda e: _ranking_sums(e, e.engine))

    # --- the sweeps, summarised in the engine -----------------------------------------------
    def sweep_summary(self, cls: int, engine=None):
        """ROC AUC, AP and counts of class ``cls``'s sweep on its indicator column, in the engine
        (once; ``engine``: on that connection, e.g. a worker's, if it is not computed yet), as a
        single-label class's: one sort of the rows, split by score range on Spark."""
        self._need_scores()
        return self.memo(("summary", cls), lambda e: class_summary(e, e._class_scores(cls), cls, engine))

    def _support(self) -> np.ndarray:
        """Each concept's positive samples (a scan, no sort)."""
        return self.per_class["support"]

    @cached_property
    def ranking(self) -> dict:
        d = self.dataset
        if not d.has_scores:
            nan = [float("nan")] * d.n_classes
            return {"roc_auc": nan, "average_precision": nan, "roc_auc_macro": float("nan"),
                    "ap_macro": float("nan"), "reasons": {}, "unavailable": "the file has no scores"}
        summaries = [self.sweep_summary(c) for c in range(d.n_classes)]
        auc = np.array([s.roc_auc for s in summaries])
        ap = np.array([s.average_precision for s in summaries])
        return {"roc_auc": auc.tolist(), "average_precision": ap.tolist(), "roc_auc_macro": mm._nanmean(auc),
                "ap_macro": mm._nanmean(ap), "unavailable": "",
                "reasons": {d.classes[c]: s.undefined_reason() for c, s in enumerate(summaries) if s.undefined_reason()}}

    @property
    def micro_ranking(self) -> dict[str, float]:
        return self.micro_summary()

    def micro_summary(self, engine=None) -> dict[str, float]:
        """:attr:`micro_ranking`, computed once (``engine``: on that connection if not computed yet)."""
        d = self.dataset
        if not d.has_scores:
            return {"roc_auc": float("nan"), "ap": float("nan")}

        def pooled(e):
            on = engine or e.engine
            if d.n * d.n_classes > sql.POOLED_PART_VALUES and on.sweep_buckets <= 1:
                s = _pooled_in_parts(e, on)  # one window would hold every pooled score (DuckDB, under its limit)
            else:  # as a single-label micro sweep (Spark: split by score range, a task per range)
                s = class_summary(e, sql.pooled_label_scores(d.n_classes), None, on)
            if s.n_pos == 0 or s.n_neg == 0:  # as micro_average.pooled_auc_ap
                return {"roc_auc": float("nan"), "ap": float("nan")}
            return {"roc_auc": s.roc_auc, "ap": s.average_precision}
        return self.memo("micro", pooled)

    def later_sorts(self) -> list:
        """What the first view does not wait for beyond the concepts' summaries
        (:func:`evaldash.engines.background.other_summaries`): ``(what, compute(engine))`` pairs,
        each run on a worker connection unless a page computed it first."""
        if not self.dataset.has_scores:
            return []
        return [("the micro average", lambda w: self.micro_summary(w)),
                ("the label ranking metrics", lambda w: self.memo("ranking metrics", lambda e: _ranking_sums(e, w)))]

    # --- matrices and drill-down ----------------------------------------------------------
    @cached_property
    def concept_counts(self) -> np.ndarray:
        k = self.dataset.n_classes
        if k > sql.MATRIX_TERMS_MAX:
            return _cells(self.engine.frame(sql.concept_cells_stacked(k, self._rows_sql)), k + 1)
        row = self.engine.row(sql.concept_cells(k, self._rows_sql))
        return np.array([[int(row[f"m_{i}_{j}"] or 0) for j in range(k + 1)] for i in range(k + 1)], dtype=np.int64)

    @cached_property
    def co_occurrence(self) -> np.ndarray:
        k = self.dataset.n_classes
        if k > sql.MATRIX_TERMS_MAX:
            upper = _cells(self.memo("co-occurrence", lambda e: e.engine.frame(sql.co_occurrence_stacked(k))), k)
            return upper + np.triu(upper, 1).T
        row = self.memo("co-occurrence", lambda e: e.engine.row(sql.co_occurrence_cells(k)))
        out = np.zeros((k, k), dtype=np.int64)
        for i in range(k):
            for j in range(i, k):
                out[i, j] = out[j, i] = int(row[f"o_{i}_{j}"] or 0)
        return out

    @cached_property
    def _row_samples(self) -> np.ndarray:
        s = self._samples
        return np.append(self.per_class["support"], int(s["n"][s["nt"] == 0].sum()))

    def matrix(self, mode: str = "counts") -> MatrixView:
        if mode == "score" and self.dataset.has_scores and "mean score" not in self._memo:
            self.memo("mean score", lambda e: _mean_scores(e))
        return super().matrix(mode)

    def cell_samples(self, true: int, pred: int, limit: int | None = None, offset: int = 0):
        """Row numbers (0-based, file order) of concept-matrix cell (true, pred), most confident
        first, ties in file order: the memory path's order. Without ``limit``: lazy
        (:class:`~evaldash.engines.rows.RankedRows`: ``len()`` from the concept matrix, a page one
        query); with ``limit``: that page (``offset`` on), an int64 ndarray."""
        d = self.dataset
        k = d.n_classes
        if not (0 <= true <= k and 0 <= pred <= k):
            raise InputError(f"cell ({true}, {pred}) is outside the {k + 1} x {k + 1} concept matrix")
        where, order = sql.multilabel_cell_where(k, true, pred), sql.multilabel_cell_order(k, pred, d.has_scores)
        if limit is None:
            return RankedRows(self, ("cell", int(true), int(pred)), where, order, int(self.concept_counts[true, pred]),
                              f"cell ({true}, {pred})", self._view)
        return self.engine.frame(sql.ranked_rows(where, order, limit, offset, self._view))["ev_rn"].to_numpy(np.int64)

    def concept_errors(self, cls: int, kind: str, limit: int | None = None, offset: int = 0):
        """Class ``cls``'s false positives or false negatives, most confident mistakes first: lazy
        without ``limit`` (as :meth:`cell_samples`), else that page."""
        if kind not in ("fp", "fn"):
            raise InputError(f"kind {kind!r}: expected 'fp' (predicted, not labelled) or 'fn' (labelled, not predicted)")
        where, order = sql.concept_error_where_order(cls, kind, self.dataset.has_scores)
        if limit is None:
            return RankedRows(self, ("errors", int(cls), kind), where, order, int(self.per_class[kind][cls]),
                              f"the {kind.upper()} of {self.dataset.classes[cls]!r}", self._view)
        return self.engine.frame(sql.ranked_rows(where, order, limit, offset, self._view))["ev_rn"].to_numpy(np.int64)

    def label_sets(self, rows: np.ndarray) -> pd.DataFrame:
        """The true and predicted label sets of ``rows`` (from the row cache: a gallery page read
        once serves its captions)."""
        d = self.dataset
        rows = np.asarray(rows, dtype=np.int64)
        if not rows.size:
            return pd.DataFrame({"id": [], "true": [], "predicted": []})
        names = np.asarray(d.classes, dtype=object)
        truth, pred = d.y_true[rows], self.y_pred[rows]
        return pd.DataFrame({"id": np.asarray(d.ids[rows], dtype=object),
                             "true": [", ".join(names[r]) for r in truth],
                             "predicted": [", ".join(names[r]) for r in pred]})

    def metrics_at_thresholds(self, thresholds) -> dict:
        """:func:`evaldash.multilabel_thresholds.metrics_at_thresholds`: the sample-level metrics
        counted by the engine at ``thresholds`` (two queries, kept for the last few), each
        concept's precision and recall from its reduced sweep (exact at any threshold)."""
        from evaldash.multilabel_thresholds import concept_table

        thresholds = np.asarray(thresholds, dtype=np.float64)
        if not self.predictions_thresholded or np.array_equal(thresholds, self.thresholds):
            moved = self
        else:
            kept = self._memo.setdefault("at thresholds", {})
            key = tuple(thresholds.tolist())
            moved = kept.get(key)
            if moved is None:
                moved = kept[key] = self.with_thresholds(thresholds)
                while len(kept) > 8:
                    kept.pop(next(iter(kept)))
        return {"subset_accuracy": moved.subset_accuracy, "samples_f1": moved.averages["samples"]["f1"],
                "hamming_loss": moved.hamming_loss,
                "table": self.thresholds_table() if not self.predictions_thresholded else concept_table(self, thresholds)}

    def concept_calibration(self, cls: int, n_bins: int = 15) -> dict:
        """:func:`evaldash.multilabel_calibration.concept_calibration` from the engine's bin sums."""
        from evaldash import metrics as m
        from evaldash.multilabel_calibration import EPS, concept_calibration

        d = self.dataset
        if not d.has_scores or not d.is_probability:
            return concept_calibration(self, cls, n_bins)  # says why not
        f = self.engine.frame(sql.concept_calibration(cls, n_bins, EPS))
        count, conf_sum, hits = np.zeros(n_bins), np.zeros(n_bins), np.zeros(n_bins)
        at = f["ev_bin"].to_numpy(np.int64)
        count[at], conf_sum[at], hits[at] = (f[c].to_numpy(np.float64) for c in ("n", "conf_sum", "correct"))
        edges = np.linspace(0.0, 1.0, n_bins + 1)
        bins = {"lower": edges[:-1], "upper": edges[1:], "count": count.astype(np.int64),
                "confidence": m._safe_div(conf_sum, count), "accuracy": m._safe_div(hits, count)}
        return {"available": True, "reason": "", "bins": bins, "ece": m.expected_calibration_error(bins),
                "brier": float(f["brier_sum"].sum()) / d.n, "log_loss": float(f["log_loss_sum"].sum()) / d.n}

    def concept_bin_samples(self, cls: int, lower: float, upper: float):
        """The samples of concept ``cls``'s score bin (``lower``, ``upper``], highest score first (lazy)."""
        return self.bin_samples(lower, upper, sql.score(int(cls)))

    def slice_table(self, column: str) -> pd.DataFrame:
        """:func:`evaldash.multilabel_slices.multilabel_slice_table` by GROUP BY slice in the engine:
        each slice's samples counted by (labels, predicted labels, labels predicted), its metrics
        the same sums as the whole file's."""
        from evaldash.engines.slices import slice_expression
        from evaldash.slices import MIN_RELIABLE

        f = self.engine.frame(sql.multilabel_slice_samples(self._rows_sql, slice_expression(self, column)))
        k, rows = self.dataset.n_classes, []
        for value, g in f.groupby("ev_slice", sort=False, dropna=False):
            s = {key: g[key].to_numpy(np.int64) for key in ("nt", "np", "nb", "n")}
            n = int(s["n"].sum())
            rows.append({"slice": str(value), "n": n, **sample_metrics(s, n, k), "reliable": bool(n >= MIN_RELIABLE)})
        table = pd.DataFrame(rows, columns=["slice", "n", "subset_accuracy", "samples_f1", "hamming_loss", "reliable"])
        return table.sort_values(["samples_f1", "slice"], kind="stable").reset_index(drop=True)

    def precompute(self, background: bool = False, progress=None) -> "EngineMultilabelEvaluation":
        """:meth:`MultilabelEvaluation.precompute` in named steps (``progress(text)`` before each),
        then each concept's reduced sweep (the slider's counts).

        With ``background`` on DuckDB, only the exact summary of the concept ``/threshold`` opens
        on (the first) is computed here; the other concepts' summaries, the micro average (a sort
        of every pooled score) and the label ranking metrics follow after this returns, in a thread
        of its own on a worker connection (:func:`evaldash.engines.background.after_first_view`).
        The drawn curves and slider counts do not need them (:meth:`_sweep_totals`); a page showing
        them computes what is not there yet (the memo: never twice)."""
        from evaldash.engines.cells import duckdb_of

        d = self.dataset
        later = background and d.has_scores and duckdb_of(self.engine) is not None

        def step(text: str) -> None:
            if progress is not None:
                progress(text)
        step("per-concept counts")
        _ = self.per_class, self.averages, self.subset_accuracy
        step("the concept matrix")
        _ = self.concept_counts, self.co_occurrence
        if d.has_scores:
            step("score ranges")
            self.score_range()
            for c in [0] if later else range(d.n_classes):
                step(f"concept {d.classes[c]!r}: exact sweep (ROC AUC, average precision)")
                self.sweep_summary(c)
            if not later:
                step("micro average and label ranking")
                _ = self.ranking, self.micro_ranking, self.ranking_metrics
            for c in range(d.n_classes):  # /threshold draws every concept's curves (the macro average too)
                step(f"concept {d.classes[c]!r}: counts at the slider's positions and the curves' points")
                self.class_curves(c)
        if later:
            from evaldash.engines import background as jobs

            jobs.after_first_view(self)
        return self

    def label_issues(self) -> dict:
        return {"available": False, "reason": self._no_cleanlab()}

    def _no_cleanlab(self) -> str:
        return (f"the {self.engine.name} engine does not compute the suspected label errors (cleanlab needs every "
                f"row in memory); use --engine memory, or a sample of the rows, for them")

    def warnings(self) -> list[str]:
        out = super().warnings()
        line = self._no_cleanlab() if self.dataset.is_probability else ""
        if self.dataset.image_column is not None:
            line = (f"the {self.engine.name} engine does not check the image paths of column "
                    f"{self.dataset.image_column!r}" + (", nor compute the suspected label errors (cleanlab needs "
                                                         "every row in memory)" if line else "")
                    + "; use --engine memory for them")
        return out + ([line] if line else [])

    def to_dataset(self):
        """The file as an in-memory :class:`~evaldash.multilabel_data.MultilabelDataset` (classes,
        label sets, given predictions, scores, ids; no metadata or images), read by the engine: for
        what needs every row (compare's bootstrap)."""
        from evaldash.multilabel_data import MultilabelDataset

        d = self.dataset
        k = d.n_classes
        cols = ["ev_id"] + [sql.truth(c) for c in range(k)] + ([f"g_{c}" for c in range(k)] if d.prediction_given
                                                                else []) + ([sql.score(c) for c in range(k)]
                                                                            if d.has_scores else [])
        f = self.engine.frame(f"SELECT {', '.join(cols)} FROM ev_rows ORDER BY ev_rn")
        y_true = f[[sql.truth(c) for c in range(k)]].to_numpy(np.int64) == 1
        given = f[[f"g_{c}" for c in range(k)]].to_numpy(np.int64) == 1 if d.prediction_given else None
        scores = np.asfortranarray(f[[sql.score(c) for c in range(k)]].to_numpy(np.float64)) if d.has_scores else None
        for a in (y_true, given, scores):
            if a is not None:
                a.setflags(write=False)
        return MultilabelDataset(source=d.source, classes=d.classes, y_true=y_true, scores=scores,
                                 ids=pd.Series(f["ev_id"], dtype="string[pyarrow]").array, y_pred_given=given,
                                 is_probability=d.is_probability, probability_reason=d.probability_reason,
                                 warnings=d.warnings)


def sample_mean(s: dict, numerator: np.ndarray, denominator: np.ndarray, n: int) -> float:
    """The mean over ``n`` samples of ``numerator / denominator`` (0 where the denominator is 0),
    given per group of ``s`` (:attr:`EngineMultilabelEvaluation._samples`): summed as exact
    fractions, so the mean is the correctly rounded one, as near as can be to numpy's mean over
    every sample."""
    from fractions import Fraction

    total = sum((Fraction(int(c) * int(a), int(b)) for c, a, b in zip(s["n"], numerator, denominator) if b),
                Fraction(0))
    return float(total / n)


def sample_metrics(s: dict, n: int, k: int) -> dict[str, float]:
    """Subset accuracy, samples F1 and Hamming loss of ``n`` samples of ``k`` classes counted by
    (labels, predicted labels, labels predicted) in ``s``."""
    wrong = int(np.dot(s["n"], s["nt"] + s["np"] - 2 * s["nb"]))
    return {"subset_accuracy": float(s["n"][(s["nt"] == s["nb"]) & (s["np"] == s["nb"])].sum() / n),
            "samples_f1": sample_mean(s, 2 * s["nb"], s["nt"] + s["np"], n),
            "hamming_loss": float(wrong / (n * k))}


def _ranking_sums(e: EngineMultilabelEvaluation, engine) -> dict[str, float]:
    """The label ranking metrics from their sums over samples, one scan on ``engine``."""
    k, n = e.dataset.n_classes, e.dataset.n
    row = engine.row(sql.label_ranking_sums(k) if k <= sql.RANKING_TERMS_MAX else sql.label_ranking_sums_stacked(k))
    return {"label_ranking_average_precision": float(row["lrap_sum"]) / n,
            "coverage_error": float(row["coverage_sum"]) / n, "label_ranking_loss": float(row["loss_sum"]) / n}


def _pooled_in_parts(e: EngineMultilabelEvaluation, engine):
    """The pooled (micro) sweep's summary from consecutive score ranges of at most about
    ``sql.POOLED_PART_VALUES`` scores, highest first: one window of samples × classes scores
    would need them all in memory at once."""
    d = e.dataset
    scores = sql.pooled_label_scores(d.n_classes)
    low, high = e.score_range()
    fine = 64 * max(1, -(-d.n * d.n_classes // sql.POOLED_PART_VALUES))  # equal score ranges, merged below
    f = engine.frame(sql.bucket_counts(scores, low, high, fine)).sort_values("ev_bucket", ascending=False)
    parts, size = [], 0
    for b, n in zip(f["ev_bucket"].astype(int), f["n"].astype(int)):
        if not parts or size + n > sql.POOLED_PART_VALUES:
            parts.append([b, b])
            size = 0
        parts[-1][0] = b
        size += n
    total = {"m": 0, "n_pos": 0, "n_neg": 0, "auc2": 0, "ap_sum": 0.0}
    for first, last in parts:  # from the highest scores down: the counts above each part are known
        row = engine.row(sql.sweep_summary_part(scores, low, high, fine, first, last, total["n_pos"],
                                                  total["n_pos"] + total["n_neg"]))
        for key in total:
            total[key] += (float if key == "ap_sum" else int)(row[key] or 0)
    return summarize({**total, "low": low, "high": high})


def _cells(f: pd.DataFrame, size: int) -> np.ndarray:
    """A (size, size) count matrix from its non-zero cells (i, j, n)."""
    out = np.zeros((size, size), dtype=np.int64)
    out[f["i"].to_numpy(np.int64), f["j"].to_numpy(np.int64)] = f["n"].to_numpy(np.int64)
    return out


def _mean_scores(e: EngineMultilabelEvaluation) -> np.ndarray:
    """:func:`evaldash.multilabel_metrics.mean_score_matrix` from the engine's sums, shape (k + 1, k)."""
    k = e.dataset.n_classes
    row = e.engine.row(sql.mean_score_sums(k))
    sums = np.array([[float(row[f"ms_{i}_{j}"] or 0.0) for j in range(k)] for i in range(k + 1)])
    counts = np.array([int(row[f"mn_{i}"] or 0) for i in range(k + 1)], dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / counts[:, None]

