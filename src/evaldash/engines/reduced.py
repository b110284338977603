"""Exact reduced sweeps of a file that stays in its engine.

A sweep by distinct score has as many points as the file has distinct scores (100M): too many to
bring back. A reduced sweep keeps *cut points* instead: the slider's positions and about
:data:`SPREAD` × 2 distinct scores spread over the samples and over the positives (with the
highest and the lowest). Its counts at each cut point are the exact counts of ``score >= t``,
computed by the engine in one pass (:func:`evaldash.engines.sql.cut_points`), so every slider
position, every drawn curve point and every suggested threshold (each one a cut point) has exact
numbers. A threshold off the cut points is counted by the engine when asked
(:meth:`ReducedSweep.counts_at`), so no number is approximated. ROC AUC and average precision
stay the engine's exact summaries of the full sweep (:meth:`ReducedSweep.roc_auc`), never areas
of the reduced points.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable

import numpy as np

from evaldash import metrics

SPREAD = 1000  # cut points spread over the samples, and as many over the positives
EVERY_STEP = 20_000  # distinct scores up to which every one is a cut point (the sweep is then whole)
EXACT_KEPT = 512  # off-cut thresholds whose engine counts are kept per sweep


@dataclass(frozen=True, eq=False)
class ReducedSweep(metrics.ThresholdSweep):
    """A :class:`~evaldash.metrics.ThresholdSweep` on cut points (``thresholds``: ``+inf`` then the
    cut points, decreasing; ``tp``/``fp`` exact there). ``known``: every threshold whose counts the
    engine gave (the cut points and the slider positions above the highest score);
    ``low``/``high``: the scores' range; ``exact_counts(thresholds)`` asks the engine for (t, tp, fp)
    at other thresholds; ``exact_auc``/``exact_ap``: the full sweep's areas, or ``exact_areas()`` gives
    them when first asked (the sort of every row they take is not needed to draw the curves)."""

    known: np.ndarray = field(default_factory=lambda: np.zeros(0))
    low: float = math.nan
    high: float = math.nan
    exact_auc: float = math.nan
    exact_ap: float = math.nan
    exact_counts: Callable | None = field(default=None, repr=False)
    exact_areas: Callable | None = field(default=None, repr=False)  # () -> (ROC AUC, AP), when asked
    _asked: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def roc_auc(self) -> float:
        """The full sweep's ROC AUC, computed in the engine (not the area of the cut points)."""
        return self.exact_areas()[0] if self.exact_areas is not None else self.exact_auc

    def average_precision(self) -> float:
        """The full sweep's average precision, computed in the engine."""
        return self.exact_areas()[1] if self.exact_areas is not None else self.exact_ap

    def counts_at(self, thresholds) -> tuple[np.ndarray, np.ndarray]:
        """(tp, fp) at each of ``thresholds`` (any order), exactly: from the cut points where a
        threshold is one (or lies above the highest score or at or below the lowest), else from
        the engine (one query for all that are not, kept for next time); shapes as input."""
        t = np.asarray(thresholds, dtype=np.float64)
        tp, fp = super().counts_at(t)
        tp, fp = np.array(tp, dtype=np.int64).reshape(-1), np.array(fp, dtype=np.int64).reshape(-1)
        flat = t.reshape(-1)
        exact = np.isin(flat, self.known) | (flat > self.high) | (flat <= self.low) | np.isnan(flat)
        if not exact.all() and self.exact_counts is not None:
            off = [float(v) for v in flat[~exact]]
            asked = self._engine_counts(off)
            at = np.flatnonzero(~exact)
            tp[at] = [asked[v][0] for v in off]
            fp[at] = [asked[v][1] for v in off]
        if t.ndim == 0:
            return tp[0], fp[0]
        return tp.reshape(t.shape), fp.reshape(t.shape)

    def _engine_counts(self, off: list[float]) -> dict[float, tuple[int, int]]:
        """(tp, fp) of each threshold of ``off`` from the engine (one query for those not kept)."""
        with self._lock:
            out = {v: self._asked[v] for v in off if v in self._asked}
        missing = sorted(set(off) - set(out))
        if missing:
            got_t, got_tp, got_fp = self.exact_counts(missing)
            got = {float(v): (int(a), int(b)) for v, a, b in zip(got_t.tolist(), got_tp.tolist(), got_fp.tolist())}
            out.update(got)
            with self._lock:
                self._asked.update(got)
                while len(self._asked) > EXACT_KEPT:
                    self._asked.popitem(last=False)
        return out

    def at(self, threshold: float, zero_division: float = np.nan) -> dict[str, float]:
        """:meth:`~evaldash.metrics.ThresholdSweep.at`, exact at any threshold (:meth:`counts_at`)."""
        tp, fp = self.counts_at(np.array([float(threshold)]))
        r = metrics.rates(tp[0], fp[0], self.n_pos, self.n_neg, zero_division)
        out = {name: (int(v) if name in ("tp", "fp", "fn", "tn") else float(v)) for name, v in r.items()}
        out["threshold"] = float(threshold)
        return out


def exact_suggestions(sweep: ReducedSweep, steps_between, target_precision: float = 0.9,
                      target_recall: float = 0.9, cost_fp: float = 1.0, cost_fn: float = 1.0) -> dict[str, float]:
    """:func:`evaldash.metrics.suggested_thresholds` of the FULL sweep (every distinct score), from a
    reduced one, by branch and bound: the full sweep's points between two cut points have counts
    between theirs, so each gap between cut points bounds what its points can reach; only the gaps
    that could hold a suggestion (its best value, or a tie above it) are read from the engine,
    ``steps_between(ranges)`` → (t, pos, neg) of each distinct score in the ranges [lo, hi), in
    one query. The suggestions are then the memory path's functions on those points: the same
    floats, the same tie rules (the highest threshold)."""
    P, N = sweep.n_pos, sweep.n_neg
    T = np.concatenate([sweep.thresholds, [-np.inf]])  # gap j: scores in [T[j+1], T[j])
    tp = np.concatenate([sweep.tp, [P]]).astype(np.float64)
    fp = np.concatenate([sweep.fp, [N]]).astype(np.float64)
    hi_tp, lo_fp = tp[1:], fp[:-1]  # a gap's points: tp at most hi_tp, fp at least lo_fp
    if P == 0 or N == 0:  # every rate of one kind undefined: the cut points decide as well
        return metrics.suggested_thresholds(sweep, target_precision, target_recall, cost_fp, cost_fn)
    eps = 1e-12
    reduced_rates = sweep.curve()
    with np.errstate(divide="ignore", invalid="ignore"):
        gaps = np.zeros(T.size - 1, dtype=bool)
        f1 = np.nan_to_num(reduced_rates["f1"][1:], nan=-np.inf)  # reached by a full sweep point each
        gaps |= 2 * hi_tp / (hi_tp + lo_fp + P) >= (f1.max() if f1.size else -np.inf) - eps
        youden = np.nan_to_num((reduced_rates["recall"] - reduced_rates["fpr"])[1:], nan=-np.inf)
        gaps |= hi_tp / P - lo_fp / N >= (youden.max() if youden.size else -np.inf) - eps
        cost = cost_fp * sweep.fp + cost_fn * (P - sweep.tp)
        gaps |= cost_fp * lo_fp + cost_fn * (P - hi_tp) <= cost.min() * (1 + eps) + eps
        # the lowest threshold reaching the target precision: gaps from the lowest cut point reaching it down
        may_precision = np.nan_to_num(hi_tp / (hi_tp + lo_fp), nan=1.0) >= target_precision - eps
        ok = np.flatnonzero(reduced_rates["precision"][1:] >= target_precision) + 1
        gaps |= may_precision & (np.arange(gaps.size) >= (ok[-1] - 1 if ok.size else 0))
        # the highest threshold reaching the target recall: gaps above the highest cut point reaching it
        may_recall = hi_tp / P >= target_recall - eps
        ok = np.flatnonzero(reduced_rates["recall"][1:] >= target_recall) + 1
        gaps |= may_recall & (np.arange(gaps.size) <= (ok[0] - 1 if ok.size else gaps.size))
    picked = np.flatnonzero(gaps)
    points_t, points_tp, points_fp = [], [], []
    if picked.size:
        runs = np.split(picked, np.flatnonzero(np.diff(picked) > 1) + 1)  # adjacent gaps: one range
        t, pos, neg = steps_between([(float(T[r[-1] + 1]), float(T[r[0]])) for r in runs])
        order = np.argsort(-t, kind="stable")
        t, pos, neg = t[order], pos[order], neg[order]
        gap = np.searchsorted(-T, -t, side="left") - 1  # T[gap+1] <= t < T[gap]
        for j in picked:  # each gap's points: its upper cut point's counts plus the scores at or above
            at = gap == j
            points_t.append(t[at])
            points_tp.append(sweep.tp[j] + np.cumsum(pos[at]))
            points_fp.append(sweep.fp[j] + np.cumsum(neg[at]))
    full = metrics.ThresholdSweep(
        thresholds=np.concatenate([[np.inf], *points_t]),
        tp=np.concatenate([[0], *points_tp]).astype(np.int64), fp=np.concatenate([[0], *points_fp]).astype(np.int64),
        n_pos=int(P), n_neg=int(N))
    return metrics.suggested_thresholds(full, target_precision, target_recall, cost_fp, cost_fn)


def from_cut_points(t: np.ndarray, tp: np.ndarray, fp: np.ndarray, n_pos: int, n_neg: int, low: float,
                    high: float, **exact) -> ReducedSweep:
    """The reduced sweep of the engine's (t increasing, tp, fp) at the cut points; where every
    distinct score is a cut point, it is the memory path's sweep exactly."""
    t, first = np.unique(np.asarray(t, dtype=np.float64), return_index=True)
    tp, fp = np.asarray(tp, dtype=np.int64)[first], np.asarray(fp, dtype=np.int64)[first]
    down_t = np.concatenate([[np.inf], t[::-1]])
    down_tp, down_fp = np.concatenate([[0], tp[::-1]]), np.concatenate([[0], fp[::-1]])
    # a cut point whose counts equal the one above it (a slider position between two scores, or
    # above every score) is that point again: dropped, as the memory sweep has no such point
    # (its counts stay exact: the next cut point above gives them)
    new = np.concatenate([[True], (np.diff(down_tp) != 0) | (np.diff(down_fp) != 0)])
    return ReducedSweep(thresholds=down_t[new], tp=down_tp[new], fp=down_fp[new], n_pos=int(n_pos),
                        n_neg=int(n_neg), known=t, low=float(low), high=float(high), **exact)


@dataclass(frozen=True, eq=False)
class ReducedSelective(metrics.SelectiveSweep):
    """A :class:`~evaldash.metrics.SelectiveSweep` on cut points of the confidences (exact there);
    :meth:`at` asks the engine (``exact_at(t)`` → (kept, correct)) at a threshold off them."""

    low: float = math.nan
    high: float = math.nan
    exact_at: Callable | None = field(default=None, repr=False)

    def at(self, threshold: float) -> dict[str, float]:
        t = float(threshold)
        if np.isin(t, self.thresholds) or t > self.high or t <= self.low or self.exact_at is None or math.isnan(t):
            return super().at(t)
        kept, correct = self.exact_at(t)
        return {"threshold": t, "kept": kept, "coverage": kept / self.n if self.n else float("nan"),
                "accuracy": correct / kept if kept else float("nan")}


HISTOGRAM = 65_536  # score ranges of the histogram a large sweep's cut points come from


def histogram_cut_points(hist, grid, own_counts, spread: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(t increasing, tp, fp) exactly at the slider positions ``grid`` and at about ``2 * spread``
    range minima of the engine's score histogram ``hist`` (columns b, lo, hi, n, pos: ranges in
    score order, :func:`evaldash.engines.sql.score_histogram`).

    A range's lowest score has exactly the samples of that range and the ranges above at or
    above it. A slider position inside a range (above its lowest score, at or below its highest)
    needs that range's own samples at or above it: ``own_counts(buckets, positions)`` asks the
    engine for (t, tp, fp) of those ranges' samples at or above each position."""
    order = np.argsort(hist["b"].to_numpy(np.int64), kind="stable")
    b = hist["b"].to_numpy(np.int64)[order]
    lo, hi = hist["lo"].to_numpy(np.float64)[order], hist["hi"].to_numpy(np.float64)[order]
    n, pos = hist["n"].to_numpy(np.int64)[order], hist["pos"].to_numpy(np.int64)[order]
    seen_from = np.concatenate([np.cumsum(n[::-1])[::-1], [0]])  # samples in range j and above
    tp_from = np.concatenate([np.cumsum(pos[::-1])[::-1], [0]])
    total, total_pos = int(seen_from[0]), int(tp_from[0])
    grid = np.unique(np.asarray(grid, dtype=np.float64))
    j = np.searchsorted(hi, grid, side="left")  # the first range reaching each position
    inside = j < b.size
    inside[inside] = lo[j[inside]] < grid[inside]
    g_seen = np.where(j < b.size, seen_from[np.minimum(j, b.size)], 0)
    g_tp = np.where(j < b.size, tp_from[np.minimum(j, b.size)], 0)
    if inside.any():
        at = np.flatnonzero(inside)
        ranges = np.unique(j[at])
        got_t, got_tp, got_fp = own_counts(b[ranges], grid[at])
        # the engine counted every sample of those ranges at or above a position; the ranges
        # above the position's own are counted in seen_from already
        above_seen = np.concatenate([np.cumsum(n[ranges][::-1])[::-1], [0]])
        above_tp = np.concatenate([np.cumsum(pos[ranges][::-1])[::-1], [0]])
        k = np.searchsorted(ranges, j[at]) + 1
        where = np.searchsorted(got_t, grid[at])
        g_seen[at] = seen_from[j[at] + 1] + (got_tp + got_fp)[where] - above_seen[k]
        g_tp[at] = tp_from[j[at] + 1] + got_tp[where] - above_tp[k]
    # the ranges' minima spread over the samples and the positives (from the top), with the lowest
    seen_at, tp_at = seen_from[:-1], tp_from[:-1]
    every, pos_every = max(total, 1) / spread, max(total_pos, 1) / spread
    before_seen, before_tp = seen_at - n, tp_at - pos
    pick = ((np.floor(seen_at / every) > np.floor(before_seen / every))
            | (np.floor(tp_at / pos_every) > np.floor(before_tp / pos_every)))
    pick[0] = True
    t = np.concatenate([lo[pick], grid])
    tp = np.concatenate([tp_at[pick], g_tp])
    seen = np.concatenate([seen_at[pick], g_seen])
    order = np.argsort(t, kind="stable")
    return t[order], tp[order], (seen - tp)[order]
