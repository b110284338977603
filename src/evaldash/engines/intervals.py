"""What the bootstrap intervals draw from, counted in the engine (``report --ci``, the overview's
intervals): the confusion cells (already counted) and, per class, the counts of
:func:`evaldash.bootstrap.auc_group_counts`, so the intervals are those of the memory path, the same
draws, with no row leaving the engine.

A class with at most :data:`~evaldash.bootstrap.MAX_AUC_BINS` distinct scores is grouped by distinct
score (one GROUP BY, at most that many rows back). Above, the memory path cuts the scores at their
exact quantiles (numpy's linear interpolation; the engine's ``quantile_cont`` / ``percentile``
compute the same) and counts each bin; here a bin's counts are differences of the exact counts at
or above each cut (:func:`evaldash.engines.sql.counts_at`, the sweep's own query), so the bins hold
the very samples numpy's ``searchsorted(cuts, score, side="right")`` puts in them.
"""

from __future__ import annotations

import numpy as np

from evaldash import bootstrap
from evaldash.engines import sql


def quantiles_sql(dialect: sql.Dialect, x: str, ps) -> str:
    """One list value: the exact linear-interpolation quantiles ``ps`` of ``x`` (one sort for all)."""
    values = ", ".join(sql.number(p) for p in ps)
    as_list = f"array({values})" if dialect.quantile_function == "percentile" else f"[{values}]"
    return f"{dialect.quantile_function}({x}, {as_list})"


def auc_groups(evaluation, cls: int, max_bins: int = bootstrap.MAX_AUC_BINS) -> np.ndarray | None:
    """:func:`evaldash.bootstrap.auc_group_counts` of class ``cls`` of an
    :class:`~evaldash.engines.evaluation.EngineEvaluation` (None without positives or negatives)."""
    summary = evaluation.sweep_summary(cls)
    if summary.n_pos == 0 or summary.n_neg == 0:
        return None
    engine = evaluation.engine
    scores = sql.class_scores(cls)
    if summary.distinct <= max_bins:
        f = engine.frame(f"SELECT t, n, pos FROM ({sql._runs(scores)}) ev_r ORDER BY t")
        pos = f["pos"].to_numpy(np.int64)
        neg = f["n"].to_numpy(np.int64) - pos
    else:
        row = engine.row(f"SELECT {quantiles_sql(engine.dialect, 't', bootstrap.auc_bin_quantiles(max_bins))} AS q "
                         f"FROM ({scores}) ev_s")
        cuts = np.unique(np.asarray(list(row["q"]), dtype=np.float64))
        t, tp, fp = evaluation.counts_at(cls, cuts)
        assert np.array_equal(t, cuts)
        # at or above each cut, then the bins between them: below the first cut, ..., at or above the last
        pos = -np.diff(np.concatenate([[summary.n_pos], tp, [0]]))
        neg = -np.diff(np.concatenate([[summary.n_neg], fp, [0]]))
    out = np.empty(2 * pos.size, dtype=np.int64)
    out[0::2], out[1::2] = neg, pos
    return out
