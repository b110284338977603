"""The results object of a file that stays in its engine: :class:`evaldash.evaluation.Evaluation`'s
views (report, headline, warnings, per-class table, averages) over aggregates the engine computes.

Only the aggregates of :mod:`evaldash.engines.sql` come back: the confusion cells, one summary
row per class sweep (ROC AUC and average precision computed in the engine from the exact sweep
by distinct score), counts at asked thresholds, calibration sums and bins, and one page of a
cell's rows. Everything derived from them is the memory path's own code.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from evaldash import metrics
from evaldash.confusion_counts import ConfusionCounts
from evaldash.engines import sql
from evaldash.errors import InputError
from evaldash.evaluation import TOP_K, Evaluation, _nanmean

CALIBRATION_BINS = 15  # as metrics.reliability's default
GALLERY_PAGE = 100


@dataclass(frozen=True)
class SweepSummary:
    """What the engine returns of one exact sweep: its size and its two areas."""

    n_pos: int
    n_neg: int
    distinct: int
    roc_auc: float
    average_precision: float
    low: float
    high: float

    def undefined_reason(self) -> str:
        if self.n_pos == 0:
            return "no positive samples"
        if self.n_neg == 0:
            return "no negative samples"
        return ""


def summarize(row: dict) -> SweepSummary:
    n_pos, n_neg = int(row["n_pos"] or 0), int(row["n_neg"] or 0)
    auc = float("nan") if n_pos == 0 or n_neg == 0 else float(int(row["auc2"])) / 2.0 / (n_pos * n_neg)
    ap = float("nan") if n_pos == 0 else max(0.0, float(row["ap_sum"]) / n_pos)
    return SweepSummary(n_pos, n_neg, int(row["m"]), auc, ap, float(row["low"]), float(row["high"]))


def mirrored_summaries(e) -> dict:
    """{class: SweepSummary} of both classes of a binary file with one score column, from one
    engine sort (:func:`sql.row_sweep_summary`): the totals, then the other class's steps that the
    mirror merges (``1 - s`` equal for neighbouring scores), merged here exactly."""
    d = e.dataset
    pos, other = d.positive, 1 - d.positive
    n, n_other = d.n, int(e.counts.support[other])
    f = e.engine.frame(sql.row_sweep_summary(sql.class_scores(pos), d.score_mirror, n, n_other))

    def total(col: str) -> int:
        return sum(int(v) for v in f[col].dropna())

    row = {c: total(c) for c in ("m", "n_pos", "n_neg", "auc2", "auc2_o")}
    row.update(ap_sum=float(f["ap_sum"].sum()), ap_sum_o=float(f["ap_sum_o"].sum()), low=float(f["low"].min()),
               high=float(f["high"].max()))
    g = f[f["ev_key"].notna()].sort_values("ev_key", ascending=False)
    merged_away = 0
    if len(g):
        t = g["ev_key"].to_numpy(np.float64)
        u = 1.0 - t if d.score_mirror == "one_minus" else -t
        p_g = g["g_pos"].to_numpy(np.int64)
        n_g = g["g_n"].to_numpy(np.int64) - p_g
        above = g["g_above"].to_numpy(np.int64)
        tp_o = n_other - (above - g["g_pos_above"].to_numpy(np.int64))  # the other class's, at or above each step
        starts = np.flatnonzero(np.concatenate([[True], u[1:] != u[:-1]]))
        # the query summed each step on its own; the merged step has every count of its steps and the
        # cumulated counts of its top one (the highest score, the first in descending order)
        row["auc2_o"] -= sum(int(a) * (2 * int(b) - int(c)) for a, b, c in zip(p_g, tp_o, n_g))
        row["ap_sum_o"] -= float(np.sum(n_g * (tp_o / (n - above))))
        pm, nm = np.add.reduceat(p_g, starts), np.add.reduceat(n_g, starts)
        top_tp, top_seen = tp_o[starts], n - above[starts]
        row["auc2_o"] += sum(int(a) * (2 * int(b) - int(c)) for a, b, c in zip(pm, top_tp, nm))
        row["ap_sum_o"] += float(np.sum(nm * (top_tp / top_seen)))
        merged_away = len(t) - len(starts)
    flip = (lambda v: 1.0 - v) if d.score_mirror == "one_minus" else (lambda v: -v)
    return {pos: summarize(row),
            other: summarize({"m": row["m"] - merged_away, "n_pos": row["n_neg"], "n_neg": row["n_pos"],
                              "auc2": row["auc2_o"], "ap_sum": row["ap_sum_o"], "low": flip(row["high"]),
                              "high": flip(row["low"])})}


def scan_sums(e, by: list[str]):
    """The sums of one scan for the confusion cells, the calibration sums and the confidence bins
    (:func:`sql.cells_and_calibration`, run once per evaluation of probabilities), by ``by``:
    columns ``n``, ``conf_sum``, ``correct``, ``log_loss_sum``, ``brier_sum``; ``[]``: one row (a dict)."""
    f = e.memo("cells and calibration", lambda e: e.engine.frame(
        sql.cells_and_calibration(e.dataset.n_classes, CALIBRATION_BINS)))
    f = f.assign(correct=f["n"].where(f["y_true"] == f["y_pred"], 0))
    sums = ["n", "conf_sum", "correct", "log_loss_sum", "brier_sum"]
    if not by:
        return {c: f[c].sum() for c in sums}
    return f.groupby(by, as_index=False)[sums].sum().sort_values(by)


def class_summary(e, scores_sql: str, cls: int | None) -> "SweepSummary":
    """The summary of the sweep of ``scores_sql`` (class ``cls``'s scores; None: every class's):
    by one sort of the rows where the engine sorts well (DuckDB), by score ranges of distinct
    scores where it runs windows in parallel tasks (Spark)."""
    buckets = e.engine.sweep_buckets
    if buckets <= 1:
        return summarize(e.engine.row(sql.row_sweep_summary(scores_sql)))
    return summarize(e.engine.row(sql.sweep_summary(scores_sql, *e.score_range(cls), buckets)))


@dataclass(eq=False)
class EngineEvaluation(Evaluation):
    """Evaluation of an :class:`~evaldash.engines.table.EngineDataset`; build with
    :func:`evaldash.engines.evaluate`."""

    @property
    def engine(self):
        return self.dataset.engine

    def _frame(self, text: str):
        return self.engine.frame(text)

    @cached_property
    def counts(self) -> ConfusionCounts:
        f = scan_sums(self, ["y_true", "y_pred"]) if self.dataset.is_probability else self._frame(sql.confusion_cells())
        return ConfusionCounts(self.dataset.n_classes, f["y_true"].to_numpy(np.int64), f["y_pred"].to_numpy(np.int64),
                               f["n"].to_numpy(np.int64))

    @cached_property
    def accuracy(self) -> float:
        return float(self.counts.diagonal.sum() / self.dataset.n)

    def sweep_summary(self, cls: int) -> SweepSummary:
        """ROC AUC, AP and counts of class ``cls``'s one-vs-rest sweep, computed in the engine (once)."""
        self._need_scores("threshold metrics")
        if self.dataset.score_mirror is not None and self.engine.sweep_buckets <= 1:  # both from one sort
            return self.memo("mirrored summaries", mirrored_summaries)[cls]
        return self.memo(("summary", cls),
                         lambda e: class_summary(e, sql.class_scores(cls), cls))

    def score_range(self, cls: int | None = None) -> tuple[float, float]:
        """(lowest, highest) score of class ``cls`` (None: of every class), from one scan for all."""
        k = self.dataset.n_classes
        row = self.memo("score range", lambda e: e.engine.row(sql.score_range(k)))
        if cls is None:
            return min(float(row[f"low_{c}"]) for c in range(k)), max(float(row[f"high_{c}"]) for c in range(k))
        return float(row[f"low_{cls}"]), float(row[f"high_{cls}"])

    def sweep(self, cls: int):
        raise InputError(f"{self.dataset.source}: the {self.engine.name} engine does not bring a whole sweep back "
                         f"(its ROC AUC, AP and the counts at given thresholds are computed in the engine); use "
                         f"--engine memory for the curves")

    def _need_scores(self, what: str) -> None:
        if not self.dataset.has_scores:
            raise InputError(f"{self.dataset.source}: {what} need per-class scores; the file has none")

    @cached_property
    def ranking(self) -> dict:
        d = self.dataset
        k = d.n_classes
        if not d.has_scores:
            nan = [float("nan")] * k
            return {"roc_auc": nan, "average_precision": nan, "roc_auc_macro": float("nan"),
                    "ap_macro": float("nan"), "reasons": {}, "unavailable": "the file has no scores"}
        summaries = [self.sweep_summary(c) for c in range(k)]
        auc = np.array([s.roc_auc for s in summaries])
        ap = np.array([s.average_precision for s in summaries])
        reasons = {d.classes[c]: s.undefined_reason() for c, s in enumerate(summaries) if s.undefined_reason()}
        if d.is_binary:
            macro_auc, macro_ap = float(auc[d.positive]), float(ap[d.positive])
        else:
            macro_auc, macro_ap = _nanmean(auc), _nanmean(ap)
        return {"roc_auc": auc.tolist(), "average_precision": ap.tolist(), "roc_auc_macro": macro_auc,
                "ap_macro": macro_ap, "reasons": reasons, "unavailable": ""}

    @property
    def micro_ranking(self) -> dict[str, float]:
        d = self.dataset
        if not d.has_scores:
            return {"roc_auc": float("nan"), "ap": float("nan")}
        if d.is_binary:
            return {"roc_auc": self.ranking["roc_auc"][d.positive], "ap": self.ranking["average_precision"][d.positive]}

        def pooled(e):
            s = class_summary(e, sql.pooled_scores(d.n_classes), None)
            return {"roc_auc": s.roc_auc, "ap": s.average_precision}
        return self.memo("micro", pooled)

    def top_k(self) -> dict[str, float]:
        d = self.dataset
        if not d.has_scores:
            return {}
        ks = [k for k in TOP_K if k < d.n_classes]
        if not ks:
            return {}
        row = self.memo("top_k", lambda e: e.engine.row(sql.top_k_counts(d.n_classes, ks)))
        return {f"top_{k}": int(row[f"top_{k}"]) / d.n for k in ks}

    @cached_property
    def calibration(self) -> dict:
        d = self.dataset
        if not d.is_probability:
            return {"available": False, "reason": d.probability_reason}
        sums = scan_sums(self, [])
        brier = float(sums["brier_sum"]) / d.n
        bins = self.reliability_bins()
        return {"available": True, "reason": "", "log_loss": float(sums["log_loss_sum"]) / d.n,
                "brier": brier / 2 if d.n_classes < 3 else brier,
                "ece": metrics.expected_calibration_error(bins), "bins": bins}

    def reliability_bins(self, n_bins: int = CALIBRATION_BINS) -> dict[str, np.ndarray]:
        """:func:`evaldash.metrics.reliability` of the confidences, from the engine's bin sums."""
        one_scan = n_bins == CALIBRATION_BINS and self.dataset.is_probability
        f = scan_sums(self, ["ev_bin"]) if one_scan else self._frame(sql.reliability_bins(n_bins))
        count = np.zeros(n_bins)
        conf_sum = np.zeros(n_bins)
        acc_sum = np.zeros(n_bins)
        at = f["ev_bin"].to_numpy(np.int64)
        count[at] = f["n"].to_numpy(np.float64)
        conf_sum[at] = f["conf_sum"].to_numpy(np.float64)
        acc_sum[at] = f["correct"].to_numpy(np.float64)
        edges = np.linspace(0.0, 1.0, n_bins + 1)
        return {"lower": edges[:-1], "upper": edges[1:], "count": count.astype(np.int64),
                "confidence": metrics._safe_div(conf_sum, count), "accuracy": metrics._safe_div(acc_sum, count)}

    def counts_at(self, cls: int, thresholds) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(thresholds increasing and distinct, tp, fp) of class ``cls`` at ``thresholds``, exactly
        (:meth:`evaldash.metrics.ThresholdSweep.counts_at`), computed in the engine."""
        self._need_scores("threshold metrics")
        f = self._frame(sql.counts_at(sql.class_scores(cls), thresholds, *self.score_range(cls), self.engine.sweep_buckets))
        return f["t"].to_numpy(np.float64), f["tp"].to_numpy(np.int64), f["fp"].to_numpy(np.int64)

    def at(self, cls: int, t: float, zero_division: float = np.nan) -> dict[str, float]:
        """:meth:`evaldash.metrics.ThresholdSweep.at` of class ``cls``."""
        _, tp, fp = self.counts_at(cls, [t])
        s = self.sweep_summary(cls)
        r = metrics.rates(tp[0], fp[0], s.n_pos, s.n_neg, zero_division)
        out = {name: (int(v) if name in ("tp", "fp", "fn", "tn") else float(v)) for name, v in r.items()}
        out["threshold"] = float(t)
        return out

    def threshold_report(self, t: float) -> dict:
        d = self.dataset
        classes = [d.positive] if d.is_binary else range(d.n_classes)
        out = {"value": t, "per_class": {d.classes[c]: self.at(c, t, zero_division=0.0) for c in classes}}
        if not d.is_binary:
            row = self.engine.row(sql.selective_at(t))
            kept, correct = int(row["kept"] or 0), int(row["correct"] or 0)
            out["selective"] = {"threshold": float(t), "kept": kept, "coverage": kept / d.n if d.n else float("nan"),
                                "accuracy": correct / kept if kept else float("nan")}
        return out

    def cell_samples(self, true: int, pred: int, limit: int = GALLERY_PAGE, offset: int = 0) -> np.ndarray:
        """Row numbers (0-based, file order) of one page of cell (true, pred), most confident first,
        ties in file order: the same order as the memory path's."""
        f = self._frame(sql.cell_rows(true, pred, limit, offset))
        return f["ev_rn"].to_numpy(np.int64)

    def to_dataset(self):
        """The file as an in-memory :class:`evaldash.dataset.Dataset` of its classes, scores and ids
        (no metadata or images), read by the engine: for what needs every row (bootstrap)."""
        import pandas as pd

        from evaldash.dataset import Dataset

        d = self.dataset
        cols = ", ".join(["ev_id", "y_true", "y_pred"] + [sql.score(c) for c in range(d.n_classes) if d.has_scores])
        f = self._frame(f"SELECT {cols} FROM ev_rows ORDER BY ev_rn")
        arrays = {"y_true": f["y_true"].to_numpy(np.int32), "y_pred": f["y_pred"].to_numpy(np.int32),
                  "scores": f[[sql.score(c) for c in range(d.n_classes)]].to_numpy(np.float64) if d.has_scores else None}
        for a in arrays.values():
            if a is not None:
                a.setflags(write=False)
        return Dataset(source=d.source, classes=d.classes, ids=pd.Series(f["ev_id"], dtype="string[pyarrow]").array,
                       positive=d.positive, is_probability=d.is_probability, probability_reason=d.probability_reason,
                       prediction_given=d.prediction_given, warnings=d.warnings, score_mirror=d.score_mirror,
                       **arrays)

    def warnings(self) -> list[str]:
        out = super().warnings()
        if self.dataset.image_column is not None:
            out.append(f"the {self.engine.name} engine does not check the image paths of column "
                       f"{self.dataset.image_column!r} (the memory engine does)")
        return out

    def precompute(self, background: bool = False) -> "EngineEvaluation":
        _ = self.counts, self.calibration
        if self.dataset.has_scores:
            _ = self.ranking
        return self

    @property
    def correct(self):
        raise InputError(f"{self.dataset.source}: per-sample arrays stay in the {self.engine.name} engine")

    confidence = correct
