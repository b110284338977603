"""Compare two prediction files (models, versions or holdout sets): deltas with bootstrap intervals.

When both files hold the same sample ids, the comparison is paired: B is aligned to A's rows by
id, the bootstrap resamples samples (keeping both models' answers together), and the samples B
fixed and broke are counted. Otherwise the two files are resampled independently. Classes that
only one file has are named; per-class deltas cover the shared classes.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from evaldash import bootstrap as bs
from evaldash.evaluation import Evaluation


def aligned_rows(a: Evaluation, b: Evaluation) -> np.ndarray | None:
    """For each row of A, the row of B with the same sample id; None unless the ids are the same set."""
    da, db = a.dataset, b.dataset
    if da.n != db.n:
        return None
    ids_a = pa.array(da.ids).cast(pa.string())
    ids_b = pa.array(db.ids).cast(pa.string())
    where = pc.index_in(ids_a, value_set=ids_b).fill_null(-1).to_numpy()
    if (where < 0).any():
        return None
    return where.astype(np.int64)


def compare(a: Evaluation, b: Evaluation, resamples: int = bs.DEFAULT_RESAMPLES, seed: int = bs.DEFAULT_SEED,
            level: float = bs.LEVEL) -> dict:
    """A JSON-ready comparison: ``delta`` (b minus a: ``accuracy``, ``macro_f1``, ``macro_roc_auc``
    and ``ece`` when both files allow them, ``f1[C]`` for each shared class), ``intervals`` (the
    same keys → [low, high] of the delta), ``unavailable`` (metric → why it has no delta),
    ``paired``, ``fixed``/``broken``/``both_wrong`` (paired only), ``shared_classes``,
    ``only_in_a``, ``only_in_b``, a plain-language ``verdict`` on macro F1 and ``verdict_auc`` on
    macro ROC AUC (when it has a delta).

    Macro ROC AUC and ECE are each file's headline values; their resamples draw the rows jointly
    for all classes and, paired, for both models (:mod:`evaldash.bootstrap`)."""
    return compare_sides(a, b, MemorySides(a, b), resamples, seed, level)


class MemorySides:
    """What :func:`compare_sides` draws from, read from two in-memory evaluations (per-row arrays).
    An engine gives the same from aggregates (:class:`evaldash.engines.compare.EngineSides`)."""

    def __init__(self, a: Evaluation, b: Evaluation):
        self.a, self.b = a, b
        self.rows = aligned_rows(a, b) if a.dataset.classes == b.dataset.classes else None
        self.paired = self.rows is not None

    def class_metrics(self, resamples: int, seed: int) -> tuple[dict, dict]:
        """Resampled per-class metrics of A and B (:func:`evaldash.bootstrap.class_count_metrics`)."""
        da, db, rows = self.a.dataset, self.b.dataset, self.rows
        # per-class counts of each resample, never a (resamples, k, k) array
        if rows is not None:
            k = len(da.classes)
            ca, cb = bs.paired_resampled_class_counts(bs.cell_codes(da.y_true, da.y_pred, k),
                                                      bs.cell_codes(db.y_true[rows], db.y_pred[rows], k),
                                                      k, resamples, seed)
            return bs.class_count_metrics(**ca), bs.class_count_metrics(**cb)
        return (bs.resampled_metrics(bs.cell_codes(da.y_true, da.y_pred, len(da.classes)), len(da.classes),
                                     resamples, seed),
                bs.resampled_metrics(bs.cell_codes(db.y_true, db.y_pred, len(db.classes)), len(db.classes),
                                     resamples, seed + 1))

    def outcomes(self) -> dict[str, int]:
        """Paired: samples B ``fixed``, ``broken`` and those ``both_wrong``."""
        da, db, rows = self.a.dataset, self.b.dataset, self.rows
        right_a = da.y_true == da.y_pred
        right_b = db.y_true[rows] == db.y_pred[rows]
        return {"fixed": int(np.sum(~right_a & right_b)), "broken": int(np.sum(right_a & ~right_b)),
                "both_wrong": int(np.sum(~right_a & ~right_b))}

    def auc_classes(self, side: str) -> list[int] | str:
        """The classes macro ROC AUC averages on ``side`` ("a" or "b"), or why it is undefined."""
        auc = _auc_input(self.a if side == "a" else self.b, self.rows if side == "b" else None)
        return auc if isinstance(auc, str) else auc[2]

    def auc_draws(self, resamples: int, seed: int) -> np.ndarray:
        """Resampled macro ROC AUC of B minus that of A, shape (resamples,)."""
        auc_a, auc_b = _auc_input(self.a, None), _auc_input(self.b, self.rows)
        if self.rows is not None:
            return bs.paired_resampled_macro_auc_delta(auc_a, auc_b, resamples, seed)
        return (bs.resampled_macro_auc(*auc_b, resamples, seed + 1)[1]
                - bs.resampled_macro_auc(*auc_a, resamples, seed)[1])

    def ece_draws(self, resamples: int, seed: int) -> np.ndarray:
        """Resampled ECE of B minus that of A, shape (resamples,)."""
        a, b, rows = self.a, self.b, self.rows
        ece_a = (a.confidence, a.correct)
        ece_b = (b.confidence, b.correct) if rows is None else (b.confidence[rows], b.correct[rows])
        if rows is not None:
            da, db = bs.paired_resampled_ece(ece_a, ece_b, resamples, seed)
        else:
            da, db = bs.resampled_ece(*ece_a, resamples, seed), bs.resampled_ece(*ece_b, resamples, seed + 1)
        return db - da


def compare_sides(a: Evaluation, b: Evaluation, sides, resamples: int = bs.DEFAULT_RESAMPLES,
                  seed: int = bs.DEFAULT_SEED, level: float = bs.LEVEL) -> dict:
    """:func:`compare` with the resamples drawn from ``sides`` (:class:`MemorySides` or an engine's)."""
    da, db = a.dataset, b.dataset
    shared = [c for c in da.classes if c in db.classes]
    sa, sb = sides.class_metrics(resamples, seed)
    delta, draws = {}, {}
    for name in ("accuracy", "macro_f1"):
        point_a = a.accuracy if name == "accuracy" else a.averages["macro"]["f1"]
        point_b = b.accuracy if name == "accuracy" else b.averages["macro"]["f1"]
        delta[name] = float(point_b - point_a)
        draws[name] = sb[name] - sa[name]
    for c in shared:
        ia, ib = da.classes.index(c), db.classes.index(c)
        delta[f"f1[{c}]"] = float(b.per_class["f1"][ib] - a.per_class["f1"][ia])
        draws[f"f1[{c}]"] = sb["f1"][:, ib] - sa["f1"][:, ia]
    unavailable = _score_deltas(a, b, sides, resamples, seed, delta, draws)
    order = ["accuracy", "macro_f1", "macro_roc_auc", "ece"]
    delta = {name: delta[name] for name in order if name in delta} | {
        name: v for name, v in delta.items() if name not in order}
    intervals = {name: [float(v) for v in bs.percentile_interval(draws[name], level)] for name in delta}
    out = {
        "paired": sides.paired,
        "resamples": resamples, "seed": seed, "level": level,
        "delta": delta, "intervals": intervals, "unavailable": unavailable,
        "shared_classes": shared,
        "only_in_a": [c for c in da.classes if c not in db.classes],
        "only_in_b": [c for c in db.classes if c not in da.classes],
    }
    if sides.paired:
        out.update(sides.outcomes())
    out["verdict"] = verdict("macro F1", delta["macro_f1"], intervals["macro_f1"], level)
    if "macro_roc_auc" in delta:
        out["verdict_auc"] = verdict("macro ROC AUC", delta["macro_roc_auc"], intervals["macro_roc_auc"], level)
    return out


def _score_deltas(a: Evaluation, b: Evaluation, sides, resamples: int, seed: int,
                  delta: dict, draws: dict) -> dict[str, str]:
    """Add the macro ROC AUC and ECE deltas and their resampled deltas to ``delta`` and ``draws``
    where both files allow them; return metric → why not, for the others."""
    unavailable = {}
    auc = {side: sides.auc_classes(side) for side in ("a", "b")}
    why = [f"{side.upper()} ({e.dataset.source}) {auc[side]}" for side, e in (("a", a), ("b", b))
           if isinstance(auc[side], str)]
    if why:
        unavailable["macro_roc_auc"] = "; ".join(why)
    else:
        delta["macro_roc_auc"] = float(b.ranking["roc_auc_macro"] - a.ranking["roc_auc_macro"])
        draws["macro_roc_auc"] = sides.auc_draws(resamples, seed)
    why = [f"{side.upper()} ({e.dataset.source}): {e.calibration['reason']}" for side, e in (("a", a), ("b", b))
           if not e.calibration["available"]]
    if why:
        unavailable["ece"] = "; ".join(why)
    else:
        delta["ece"] = float(b.calibration["ece"] - a.calibration["ece"])
        draws["ece"] = sides.ece_draws(resamples, seed)
    return unavailable


def _auc_input(e: Evaluation, rows: np.ndarray | None) -> tuple[np.ndarray, np.ndarray, list[int]] | str:
    """(scores, labels, classes averaged) of macro ROC AUC, in the order of ``rows``; or why it
    is undefined."""
    d = e.dataset
    if not d.has_scores:
        return "has no scores"
    y = d.y_true if rows is None else d.y_true[rows]
    classes = bs.macro_auc_classes(y, d.n_classes, d.positive if d.is_binary else None)
    if not classes:
        return "has no class with both positives and negatives"
    return (d.scores if rows is None else d.scores[rows]), y, classes


def verdict(metric: str, delta: float, interval: list[float], level: float = bs.LEVEL) -> str:
    """One sentence: which model is better on ``metric`` and whether the interval excludes 0."""
    low, high = interval
    span = f"[{low:+.3f}, {high:+.3f}]"
    if low > 0:
        return f"B is better on {metric} by {delta:.3f} {span} ({level:.0%} interval, above 0)."
    if high < 0:
        return f"B is worse on {metric} by {-delta:.3f} {span} ({level:.0%} interval, below 0)."
    return (f"No clear difference on {metric}: B minus A is {delta:+.3f} {span}; the {level:.0%} interval "
            "includes 0.")


def supported_sign(interval) -> int:
    """+1 when the interval of B minus A lies above 0, -1 when below, 0 when it includes 0 (or is NaN):
    the direction of a difference the interval supports."""
    low, high = interval
    return 1 if low > 0 else -1 if high < 0 else 0


def fixed_broken(a: Evaluation, b: Evaluation, rows: np.ndarray | None = None) -> dict[str, np.ndarray] | None:
    """Rows of A that B fixed, broke, and both get wrong (paired files only), most confident first in B.

    ``rows``: :func:`aligned_rows` of the two, when the caller has it already."""
    rows = aligned_rows(a, b) if rows is None else rows
    if rows is None or a.dataset.classes != b.dataset.classes:
        return None
    da, db = a.dataset, b.dataset
    right_a = da.y_true == da.y_pred
    right_b = db.y_true[rows] == db.y_pred[rows]
    conf_b = np.nan_to_num(b.confidence[rows], nan=0.0)
    pick = lambda m: np.flatnonzero(m)[np.argsort(-conf_b[m], kind="stable")]  # noqa: E731
    return {"fixed": pick(~right_a & right_b), "broken": pick(right_a & ~right_b),
            "both_wrong": pick(~right_a & ~right_b)}
