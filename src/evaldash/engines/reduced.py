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
    at other thresholds; ``exact_auc``/``exact_ap``: the full sweep's areas."""

    known: np.ndarray = field(default_factory=lambda: np.zeros(0))
    low: float = math.nan
    high: float = math.nan
    exact_auc: float = math.nan
    exact_ap: float = math.nan
    exact_counts: Callable | None = field(default=None, repr=False)
    _asked: OrderedDict = field(default_factory=OrderedDict, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def roc_auc(self) -> float:
        """The full sweep's ROC AUC, computed in the engine (not the area of the cut points)."""
        return self.exact_auc

    def average_precision(self) -> float:
        """The full sweep's average precision, computed in the engine."""
        return self.exact_ap

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
