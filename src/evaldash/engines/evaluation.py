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
from evaldash.engines import reduced, sql
from evaldash.engines.reduced import ReducedSelective, ReducedSweep
from evaldash.engines.rows import CellRows, RankedRows
from evaldash.errors import InputError
from evaldash.evaluation import TOP_K, Evaluation, _nanmean, live_threshold_view, slider_positions, slider_span

CALIBRATION_BINS = 15  # as metrics.reliability's default


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
    buckets = e.engine.sweep_buckets
    ranged = e.score_range(pos) if buckets > 1 else (0.0, 0.0)
    f = e.engine.frame(sql.row_sweep_summary(sql.class_scores(pos), d.score_mirror, n, n_other, *ranged, buckets))

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


def class_summary(e, scores_sql: str, cls: int | None, engine=None) -> "SweepSummary":
    """The summary of the sweep of ``scores_sql`` (class ``cls``'s scores; None: every class's):
    by one sort of the rows, in one task where the engine sorts well on its own (DuckDB), split by
    score range where it sorts each partition in its own task (Spark); on ``engine`` if given."""
    engine = engine or e.engine
    buckets = engine.sweep_buckets
    ranged = e.score_range(cls) if buckets > 1 else (0.0, 0.0)
    return summarize(engine.row(sql.row_sweep_summary(scores_sql, None, 0, 0, *ranged, buckets)))


class OnEngine:
    """What an evaluation on an engine does the same way for any task: a class's threshold (its
    score range, its exact reduced sweep, :mod:`evaldash.engines.reduced`, whose cut points are
    the slider's positions, the counts at any threshold), a reliability bin's samples and the
    sample of rows a page opens in memory. A task gives :meth:`_class_scores` (the (t, pos) rows
    of a class's one-vs-rest problem), :meth:`_positive` and :meth:`sweep_summary`."""

    SCORE_RANGE = staticmethod(sql.score_range)  # the query of every class's lowest and highest score

    @property
    def engine(self):
        return self.dataset.engine

    def _frame(self, text: str):
        return self.engine.frame(text)

    def _need_scores(self, what: str = "threshold metrics") -> None:
        if not self.dataset.has_scores:
            raise InputError(f"{self.dataset.source}: {what} need per-class scores; the file has none")

    def _class_scores(self, cls: int) -> str:
        """(t, pos) of class ``cls``'s one-vs-rest problem."""
        return sql.class_scores(cls)

    def _positive(self, cls: int) -> str:
        """SQL condition on ``ev_rows``: the sample is of (labelled with) class ``cls``."""
        return f"y_true = {int(cls)}"

    def class_ranking(self, cls: int) -> tuple[float, float]:
        """(ROC AUC, average precision) of class (concept) ``cls`` alone: its exact summary, not
        every class's; NaN without scores."""
        if not self.dataset.has_scores:
            return float("nan"), float("nan")
        s = self.sweep_summary(cls)
        return s.roc_auc, s.average_precision

    def score_range(self, cls: int | None = None) -> tuple[float, float]:
        """(lowest, highest) score of class ``cls`` (None: of every class), from one scan for all."""
        k = self.dataset.n_classes
        row = self.memo("score range", lambda e: e.engine.row(e.SCORE_RANGE(k)))
        if cls is None:
            return min(float(row[f"low_{c}"]) for c in range(k)), max(float(row[f"high_{c}"]) for c in range(k))
        return float(row[f"low_{cls}"]), float(row[f"high_{cls}"])

    def sweep(self, cls: int) -> ReducedSweep:
        """Class ``cls``'s exact reduced sweep (:mod:`evaldash.engines.reduced`): its cut points are
        the slider's positions and about 2 × SPREAD distinct scores, tp/fp exact at each, and exact
        at any other threshold (the engine counts it); ROC AUC / AP are the engine's (built once)."""
        self._need_scores("threshold metrics")
        return self.memo(("sweep", cls), lambda e: e._reduced_sweep(cls))

    def _sweep_totals(self, cls: int) -> tuple[int, int, float, float, int | None]:
        """(positives, negatives, lowest score, highest score, distinct scores or None when not
        known yet) of class ``cls``'s sweep, from its support (:meth:`_support`) and the score
        ranges (scans, no sort): the drawn curves and the slider's counts do not wait for the
        class's exact summary (its ROC AUC and AP); its distinct scores when the summary is there
        already (else decided from a histogram: the same choice)."""
        self._need_scores("threshold metrics")
        n_pos = int(self._support()[cls])
        mirrored = getattr(self.dataset, "score_mirror", None) is not None
        done = self._memo.get("mirrored summaries" if mirrored else ("summary", cls))
        if isinstance(done, dict):  # both classes of a one-score binary file, from one sort
            done = done.get(cls)
        return n_pos, self.dataset.n - n_pos, *self.score_range(cls), done.distinct if done is not None else None

    def _ranking_notes(self) -> dict:
        """:attr:`ranking`'s ``reasons`` and ``unavailable`` from each class's support (a class
        without positives or negatives), without sorting every class's scores."""
        d = self.dataset
        if not d.has_scores:
            return {"reasons": {}, "unavailable": "the file has no scores"}
        support = self._support()
        return {"reasons": {d.classes[c]: "no positive samples" if support[c] == 0 else "no negative samples"
                            for c in range(d.n_classes) if support[c] == 0 or support[c] == d.n},
                "unavailable": ""}

    def _reduced_sweep(self, cls: int) -> ReducedSweep:
        n_pos, n_neg, low, high, distinct = self._sweep_totals(cls)
        grid = slider_positions(*self.slider_range(cls))
        scores = self._class_scores(cls)
        hist = None
        if distinct is None:  # decided without the sort where it can be: the same choice as with it
            if not high > low:
                distinct = 1
            elif n_pos + n_neg <= reduced.EVERY_STEP:
                distinct = n_pos + n_neg  # at most: every step is a cut point either way
            else:
                hist = self._frame(sql.score_histogram(scores, low, high, reduced.HISTOGRAM))
                # each range holds at least one distinct score, two if its lowest and highest differ
                at_least = len(hist) + int((hist["lo"].to_numpy(np.float64) < hist["hi"].to_numpy(np.float64)).sum())
                distinct = at_least if at_least > reduced.EVERY_STEP else self.sweep_summary(cls).distinct
        t, tp, fp = self._cut_points(scores, grid, n_pos + n_neg, n_pos, low, high,
                                     distinct <= reduced.EVERY_STEP, hist)

        def areas() -> tuple[float, float]:
            s = self.sweep_summary(cls)
            return s.roc_auc, s.average_precision
        return reduced.from_cut_points(t, tp, fp, n_pos, n_neg, low, high, exact_areas=areas,
                                       exact_counts=lambda ts: self._counts_few(cls, ts))

    def _cut_points(self, scores_sql: str, grid, n: int, n_pos: int, low: float, high: float,
                    every_step: bool, hist=None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(t, tp, fp) at the cut points of a reduced sweep: with few distinct scores, at every one
        of them and the slider positions (one pass over the distinct scores); else at the slider
        positions and range minima of a score histogram (one hash aggregation, ``hist`` when it was
        made already, and one look at the samples of the ranges that hold a slider position)."""
        if every_step or not high > low:
            f = self._frame(sql.cut_points(scores_sql, grid, reduced.SPREAD, n, n_pos, low, high,
                                           self.engine.sweep_buckets, every_step=every_step))
            return f["t"].to_numpy(np.float64), f["tp"].to_numpy(np.int64), f["fp"].to_numpy(np.int64)
        k = reduced.HISTOGRAM
        if hist is None:
            hist = self._frame(sql.score_histogram(scores_sql, low, high, k))

        def own_counts(buckets, positions):
            f = self._frame(sql.counts_at(sql.in_buckets(scores_sql, low, high, k, buckets), positions, low, high,
                                          self.engine.sweep_buckets))
            return f["t"].to_numpy(np.float64), f["tp"].to_numpy(np.int64), f["fp"].to_numpy(np.int64)
        return reduced.histogram_cut_points(hist, grid, own_counts, reduced.SPREAD)

    def suggestions(self, cls: int, target_precision: float = 0.9, target_recall: float = 0.9,
                    cost_fp: float = 1.0, cost_fn: float = 1.0) -> dict[str, float]:
        """Suggested thresholds of class ``cls``, those of its full sweep (every distinct score) as in
        memory: from the reduced sweep where it is whole, else by branch and bound over the gaps
        between its cut points (:func:`evaldash.engines.reduced.exact_suggestions`: the engine reads
        only the gaps that could hold one, in one query)."""
        sweep = self.sweep(cls)
        if self.sweep_summary(cls).distinct <= reduced.EVERY_STEP:  # every distinct score is a cut point
            return metrics.suggested_thresholds(sweep, target_precision, target_recall, cost_fp, cost_fn)
        asked = tuple(float(v) for v in (target_precision, target_recall, cost_fp, cost_fn))
        return self.memo(("suggestions", cls, asked), lambda e: reduced.exact_suggestions(
            sweep, lambda ranges: e._steps_between(cls, ranges), *asked))

    def _steps_between(self, cls: int, ranges) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        f = self._frame(sql.steps_in_ranges(self._class_scores(cls), ranges))
        return f["t"].to_numpy(np.float64), f["pos"].to_numpy(np.int64), f["neg"].to_numpy(np.int64)

    FEW = 16  # thresholds counted by one filtered scan; above, by the sweep's window (counts_at)

    def _counts_few(self, cls: int, thresholds) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """:meth:`counts_at` by one scan without a sort when there are few thresholds (a slider
        position off the cut points)."""
        t = sorted({float(x) for x in thresholds})
        if len(t) > self.FEW:
            return self.counts_at(cls, t)
        row = self.engine.row(sql.counts_at_few(self._class_scores(cls), t))
        return (np.array(t, dtype=np.float64), np.array([int(row[f"tp_{i}"] or 0) for i in range(len(t))], np.int64),
                np.array([int(row[f"fp_{i}"] or 0) for i in range(len(t))], np.int64))

    def slider_range(self, cls: int) -> tuple[float, float, float]:
        """:meth:`evaldash.evaluation.Evaluation.slider_range` from the engine's score range."""
        if self.dataset.is_probability:
            return 0.0, 1.0, 0.001
        self._need_scores("threshold metrics")
        return slider_span(*self.score_range(cls))

    def live_threshold(self, cls: int, t: float) -> dict:
        """:meth:`evaldash.evaluation.Evaluation.live_threshold`: the slider's positions are cut
        points of the reduced sweep (exact counts, no query); a ``t`` off them is counted by the
        engine (one query)."""
        return live_threshold_view(self, cls, t)

    def counts_at(self, cls: int, thresholds) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(thresholds increasing and distinct, tp, fp) of class ``cls`` at ``thresholds``, exactly
        (:meth:`evaldash.metrics.ThresholdSweep.counts_at`), computed in the engine."""
        self._need_scores("threshold metrics")
        f = self._frame(sql.counts_at(self._class_scores(cls), thresholds, *self.score_range(cls), self.engine.sweep_buckets))
        return f["t"].to_numpy(np.float64), f["tp"].to_numpy(np.int64), f["fp"].to_numpy(np.int64)

    def bin_samples(self, lower: float, upper: float, conf: str = "conf") -> RankedRows:
        """The samples of the reliability bin (``lower``, ``upper``] of ``conf`` (the confidence;
        a concept's score column) (the first bin, ``lower`` 0, also holds 0), most confident
        first, ties in file order: lazy, as :func:`evaldash.figures.reliability_bin_rows` on the
        memory path."""
        lo, hi = sql.number(lower), sql.number(upper)
        where = f"{conf} <= {hi} AND ({conf} > {lo} OR ({lo} <= 0 AND {conf} >= 0))"
        return RankedRows(self, ("bin", conf, float(lower), float(upper)), where, f"{conf} DESC, ev_rn",
                          what=f"confidence bin ({lower:g}, {upper:g}]")

    def sample_to_parquet(self, n: int, path, seed: int = 0) -> str:
        """Write ``n`` rows drawn at random (``seed``: the same rows each time), every column of the
        file in file order, to the Parquet file ``path``: what the memory path opens when a page
        needs every row. Returns ``path``."""
        import pandas as pd

        d = self.dataset
        n = int(n)
        if n < 1:
            raise InputError(f"a sample needs at least one row, got {n}")
        total = getattr(d, "rows_in_file", None) or d.n  # of the whole file, also from a view of it (a slice)
        rows = np.sort(np.random.default_rng(seed).choice(total, size=min(n, total), replace=False)).astype(np.int64)
        self.engine.register("ev_sample", pd.DataFrame({"ev_rn": rows}))
        q = self.engine.dialect.ident
        names = [name for name, _ in d.column_kinds]
        f = self._frame(f"SELECT {', '.join(q(c) for c in names)} FROM ev_source "
                        f"WHERE ev_rn IN (SELECT ev_rn FROM ev_sample) ORDER BY ev_rn")
        f.to_parquet(path, index=False)
        return str(path)

    def _needs_every_row(self, what: str):
        raise InputError(f"{self.dataset.source}: {what} need every row in memory, which the {self.engine.name} "
                         f"engine does not bring back; open a sample of rows in memory for them")


@dataclass(eq=False)
class EngineEvaluation(OnEngine, Evaluation):
    """Evaluation of an :class:`~evaldash.engines.table.EngineDataset`; build with
    :func:`evaldash.engines.evaluate`."""

    @cached_property
    def counts(self) -> ConfusionCounts:
        f = scan_sums(self, ["y_true", "y_pred"]) if self.dataset.is_probability else self._frame(sql.confusion_cells())
        return ConfusionCounts(self.dataset.n_classes, f["y_true"].to_numpy(np.int64), f["y_pred"].to_numpy(np.int64),
                               f["n"].to_numpy(np.int64))

    @cached_property
    def accuracy(self) -> float:
        return float(self.counts.diagonal.sum() / self.dataset.n)

    def sweep_summary(self, cls: int, engine=None) -> SweepSummary:
        """ROC AUC, AP and counts of class ``cls``'s one-vs-rest sweep, computed in the engine (once;
        ``engine``: on that connection, e.g. a worker's, if it is not computed yet)."""
        self._need_scores("threshold metrics")
        if self.dataset.score_mirror is not None:  # both classes from one sort
            return self.memo("mirrored summaries", mirrored_summaries)[cls]
        return self.memo(("summary", cls),
                         lambda e: class_summary(e, e._class_scores(cls), cls, engine))

    def _support(self) -> np.ndarray:
        """Each class's samples, from the confusion counts (a scan, no sort)."""
        return self.counts.support

    @cached_property
    def selective(self) -> ReducedSelective:
        """The selective-prediction sweep on cut points of the confidences (exact there; the
        engine counts any other threshold)."""
        self._need_scores("selective prediction")
        d = self.dataset
        scores = sql.confidence_scores()
        row = self.engine.row(f"SELECT MIN(t) AS low, MAX(t) AS high, SUM(pos) AS n_pos FROM ({scores}) ev_s")
        low, high, n_pos = float(row["low"]), float(row["high"]), int(row["n_pos"] or 0)
        grid = slider_positions(*((0.0, 1.0, 0.001) if d.is_probability else slider_span(low, high)))
        cut = reduced.from_cut_points(*self._cut_points(scores, grid, d.n, n_pos, low, high, False), n_pos,
                                      d.n - n_pos, low, high)
        t, kept, correct = cut.thresholds[1:], (cut.tp + cut.fp)[1:], cut.tp[1:]

        def exact_at(v: float) -> tuple[int, int]:
            r = self.engine.row(sql.selective_at(v))
            return int(r["kept"] or 0), int(r["correct"] or 0)
        return ReducedSelective(thresholds=t, kept=kept, correct=correct, n=d.n, low=low, high=high,
                                exact_at=exact_at)

    def confidence_range(self) -> tuple[float, float]:
        """(lowest, highest) confidence (the score of the predicted class), from the engine."""
        s = self.selective
        return s.low, s.high

    def confusion_view(self, mode: str) -> np.ndarray:
        """:meth:`evaldash.evaluation.Evaluation.confusion_view`; the mean scores per true class
        summed by the engine."""
        if mode != "score":
            return super().confusion_view(mode)
        if not self.dataset.has_scores:
            raise InputError("the mean-score matrix needs per-class scores")
        k = self.dataset.n_classes
        return self.memo("mean_score", lambda e: e._mean_scores(list(range(k)))[0])

    def confusion_block(self, mode: str, shown) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`evaldash.evaluation.Evaluation.confusion_block`; mode ``score`` summed by the engine
        for the ``shown`` classes only."""
        if mode != "score":
            return super().confusion_block(mode, shown)
        if not self.dataset.has_scores:
            raise InputError("the mean-score matrix needs per-class scores")
        shown = [int(c) for c in np.asarray(shown, dtype=np.int64)]
        return self._mean_scores(shown)[0], self.counts.sub(np.asarray(shown, dtype=np.int64))

    def _mean_scores(self, shown: list[int]) -> tuple[np.ndarray]:
        """Mean score of each class of ``shown`` over the samples of each true class of ``shown``,
        shape (s, s) (NaN rows: no samples)."""
        where = f"y_true IN ({', '.join(map(str, shown))})" if len(shown) < self.dataset.n_classes else ""
        f = self._frame(sql.class_score_sums(self.dataset.n_classes, shown, where)) if shown else None
        sums = np.zeros((len(shown), len(shown)))
        count = np.zeros(len(shown))
        if f is not None and len(f):
            at = {c: i for i, c in enumerate(shown)}
            rows = [at[int(t)] for t in f["y_true"]]
            count[rows] = f["n"].to_numpy(np.float64)
            sums[rows] = f[[f"sum_{j}" for j in shown]].to_numpy(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            return (sums / count[:, None],)


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

    def cell_samples(self, true: int, pred: int, limit: int | None = None, offset: int = 0):
        """Row numbers (0-based, file order) of cell (true, pred), most confident first, ties in file
        order: the same order as the memory path's.

        Without ``limit``: a lazy :class:`~evaldash.engines.rows.CellRows` (``len()`` from the
        confusion counts, ``rows[a:b]`` one query for that page and its rows' records). With
        ``limit``: that page (``offset`` on) as an int64 ndarray."""
        if limit is None:
            return CellRows(self, true, pred, int(self.counts.row(int(true))[int(pred)]))
        f = self._frame(sql.cell_rows(true, pred, limit, offset))
        return f["ev_rn"].to_numpy(np.int64)

    def operating_points(self, thresholds, fallback: str = "abstain"):
        """Per-class thresholds applied in the engine (:mod:`evaldash.engines.operating`)."""
        from evaldash.engines.operating import operating_points

        return operating_points(self, thresholds, fallback)

    def auc_groups(self, cls: int) -> np.ndarray | None:
        """What class ``cls``'s ROC AUC bootstrap draws from, counted in the engine
        (:func:`evaldash.engines.intervals.auc_groups`)."""
        from evaldash.engines.intervals import auc_groups

        return self.memo(("auc groups", cls), lambda e: auc_groups(e, cls))

    def gallery_samples(self, kind: str, true=(), pred=(), metadata=None, cls: int | None = None,
                        threshold: float | None = None) -> RankedRows:
        """The rows of the errors page's gallery ``kind`` (mistakes, unsure, threshold) within the
        filters, in :func:`evaldash.error_analysis.gallery_rows`' order (ties in file order), lazy:
        ``len()`` one COUNT query, a page one query. ``metadata``: column → accepted texts (text
        columns) or a (low, high) range (numeric columns), as :func:`evaldash.error_analysis.filter_mask`."""
        d = self.dataset
        where = [self._filter_sql(true, pred, metadata)]
        conf = "COALESCE(conf, CAST(0 AS DOUBLE))"  # the memory path reads a missing confidence as 0
        if kind == "mistakes":
            where.append("y_true <> y_pred")
            order = f"{conf} DESC, ev_rn"
        elif kind == "unsure":
            where.append("y_true = y_pred")
            order = f"{conf} ASC, ev_rn"
        elif kind == "threshold":
            if cls is None or threshold is None or not d.has_scores:
                where.append("FALSE")
                order = "ev_rn"
            else:
                order = f"ABS({sql.score(int(cls))} - {sql.number(threshold)}) ASC, ev_rn"
        elif kind == "label_issues":
            self._needs_every_row("suspected label errors (cleanlab)")
        else:
            raise InputError(f"unknown gallery {kind!r}; expected mistakes, unsure, threshold or label_issues")
        text = " AND ".join(w for w in where if w) or "TRUE"
        return RankedRows(self, ("gallery", text, order), text, order, what=f"the {kind} gallery")

    def _filter_sql(self, true=(), pred=(), metadata=None) -> str:
        from evaldash.engines.table import metadata_ref
        from evaldash.metadata import MISSING

        d = self.dataset
        parts = []
        if len(true):
            parts.append(f"y_true IN ({', '.join(str(int(c)) for c in true)})")
        if len(pred):
            parts.append(f"y_pred IN ({', '.join(str(int(c)) for c in pred)})")
        kinds = dict(d.column_kinds)
        for column, accepted in (metadata or {}).items():
            if column not in d.metadata_columns:
                raise InputError(f"{d.source}: no metadata column {column!r}; columns are {list(d.metadata_columns)}")
            ref = metadata_ref(d.metadata_columns.index(column))
            if isinstance(accepted, tuple):
                value = (f"CAST({ref} AS DOUBLE)" if kinds.get(column) in ("integer", "float")
                         else f"TRY_CAST({ref} AS DOUBLE)")
                parts.append(f"({value} >= {sql.number(accepted[0])} AND {value} <= {sql.number(accepted[1])})")
            elif accepted:
                if kinds.get(column) != "string":
                    raise InputError(f"{d.source}: on the {self.engine.name} engine, metadata column {column!r} "
                                     f"filters by a range only (its values are not text)")
                texts = [str(a) for a in accepted if str(a) != MISSING]
                either = ([f"{ref} IN ({', '.join(sql.text(t) for t in texts)})"] if texts else []) + \
                    ([f"{ref} IS NULL"] if MISSING in map(str, accepted) else [])
                parts.append("(" + " OR ".join(either) + ")")
        return " AND ".join(parts)

    def metadata_filters(self) -> list[tuple[str, str, object]]:
        """:func:`evaldash.error_analysis.metadata_filters` from the engine (one query per column):
        ``(column, "range", (low, high))`` for numeric columns of more than 12 values,
        ``(column, "values", texts)`` for text columns of up to 200 values; others left out."""
        from evaldash.error_analysis import MAX_FILTER_VALUES
        from evaldash.engines.table import metadata_ref
        from evaldash.metadata import MISSING

        def compute(e):
            d = e.dataset
            kinds = dict(d.column_kinds)
            out = []
            for i, column in enumerate(d.metadata_columns):
                ref = metadata_ref(i)
                if kinds.get(column) in ("integer", "float"):
                    x = f"CAST({ref} AS DOUBLE)"
                    finite = f"CASE WHEN ABS({x}) <= CAST('1.7976931348623157e308' AS DOUBLE) THEN {x} END"
                    row = e.engine.row(f"SELECT COUNT(DISTINCT {ref}) AS m, MIN({finite}) AS lo, MAX({finite}) AS hi "
                                       f"FROM ev_rows")
                    if int(row["m"] or 0) > 12 and row["lo"] is not None and float(row["lo"]) < float(row["hi"]):
                        out.append((str(column), "range", (float(row["lo"]), float(row["hi"]))))
                elif kinds.get(column) == "string":
                    f = e.engine.frame(f"SELECT DISTINCT {ref} AS v FROM ev_rows LIMIT {MAX_FILTER_VALUES + 2}")
                    texts = {MISSING if v is None or (isinstance(v, float) and np.isnan(v)) else str(v) for v in f["v"]}
                    if len(texts) <= MAX_FILTER_VALUES:
                        out.append((str(column), "values", sorted(texts)))
            return out
        return self.memo("metadata_filters", compute)

    def prefetch(self, rows) -> None:
        """Read every column of ``rows`` (a page) into the row cache in one query."""
        self.dataset.row_cache.fetch(rows)

    @property
    def confidence(self):
        """The predicted class's score per row, read a row or a page at a time (NaN without scores)."""
        return self.dataset.confidence_column()

    def auc_intervals(self, wait: bool = True):
        """The ROC AUC intervals once computed (``report --ci`` computes them in the engine); the
        dashboard does not start them: each class's scores are sorted once, a long query that would
        hold the engine while other clicks wait. (Accuracy and F1 intervals come from the confusion
        counts: :meth:`intervals` works as in memory.)"""
        self._need_scores("ROC AUC intervals")
        if self._AUC_INTERVALS in self._memo:
            return self._memo[self._AUC_INTERVALS]
        d = self.dataset
        raise InputError(f"{d.source}: ROC AUC intervals are not computed in the dashboard on the {self.engine.name} "
                         f"engine (each class's scores are sorted, a long query); evaldash report with --engine "
                         f"{self.engine.name} --ci gives them")

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

    def precompute(self, background: bool = False, progress=None) -> "EngineEvaluation":
        """Run what the first views need (counts, calibration, each class's exact summary, then
        each class's reduced sweep and drawn curves), calling ``progress(text)`` before each
        engine step; then the sorted cell table of the cell galleries (DuckDB,
        :mod:`evaldash.engines.cells`): here, or with ``background`` after this returns, in a
        thread of its own on a second connection (the first view does not wait for its sort).

        With ``background`` on DuckDB, only the exact summary of the class ``/threshold`` opens on
        (the positive class, else the first) is computed here; the other classes' summaries (one
        sort of every row each) follow in that thread before the cell table
        (:func:`evaldash.engines.background.after_first_view`). The drawn curves and slider counts
        do not need them (:meth:`_sweep_totals`); a page showing a class's ROC AUC or AP computes
        it when it is not there yet."""
        from evaldash.engines import cells

        d = self.dataset
        later = background and cells.duckdb_of(self.engine) is not None

        def step(text: str) -> None:
            if progress is not None:
                progress(text)
        step("confusion counts")
        _ = self.counts, self.per_class
        step("calibration")
        _ = self.calibration
        if d.has_scores:
            step("score ranges")
            self.score_range()
            classes = [d.positive] if d.is_binary else range(d.n_classes)
            for c in [d.positive if d.positive is not None else 0] if later else range(d.n_classes):
                step(f"class {d.classes[c]!r}: exact sweep (ROC AUC, average precision)")
                self.sweep_summary(c)
            if not later:
                _ = self.ranking
            for c in classes:
                step(f"class {d.classes[c]!r}: counts at the slider's positions and the curves' points")
                self.class_curves(c)
        if later:
            from evaldash.engines import background as jobs

            if d.has_scores:
                jobs.after_first_view(self)
            else:
                cells.start(self)
        elif cells.duckdb_of(self.engine) is not None:
            step(cells.STEP)
            cells.build(self)
        return self

    @property
    def correct(self):
        raise InputError(f"{self.dataset.source}: per-sample arrays stay in the {self.engine.name} engine")
