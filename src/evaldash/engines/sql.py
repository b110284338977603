"""The aggregations behind every reported number, written once as SQL text that DuckDB and Spark SQL
both run.

Each function returns a query over two views an engine defines (:mod:`evaldash.engines.table`):

* ``ev_source``: the file's raw columns plus ``ev_rn``, the 0-based row number in file order;
* ``ev_rows``: one row per sample, ``ev_rn``, ``y_true``, ``y_pred`` (class indices),
  ``s_0`` … ``s_{k-1}`` (scores, DOUBLE) and ``conf`` (the predicted class's score, NULL without
  scores).

Only aggregates come back: confusion cells, the sweep's ROC AUC and average precision (computed
inside the engine from the cumulated counts by distinct score, as
:class:`evaldash.metrics.ThresholdSweep` does), counts at given thresholds, calibration bins and
the rows of one gallery page. The SQL is the common subset of DuckDB and Spark SQL; the few
spellings that differ live in :class:`Dialect`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

EPS = float(np.finfo(np.float64).eps)  # as metrics.log_loss clips
CUMULATIVE = "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"


@dataclass(frozen=True)
class Dialect:
    """How one engine spells an identifier (``"a"`` or ```a```) and the text type."""

    quote_char: str = '"'
    string: str = "VARCHAR"

    def ident(self, name: str) -> str:
        q = self.quote_char
        return q + str(name).replace(q, q + q) + q


DUCKDB = Dialect('"')
SPARK = Dialect("`", "STRING")


def number(value: float) -> str:
    """A DOUBLE literal that both engines parse to exactly ``value`` (the shortest repr, as text)."""
    v = float(value)
    if math.isnan(v):
        return "CAST('NaN' AS DOUBLE)"
    if math.isinf(v):
        return f"CAST('{'-' if v < 0 else ''}Infinity' AS DOUBLE)"
    return f"CAST('{v!r}' AS DOUBLE)"


def text(value: str) -> str:
    """A string literal (quotes doubled; both engines read ``''`` as one quote)."""
    return "'" + str(value).replace("\\", "\\\\").replace("'", "''") + "'"


def score(c: int) -> str:
    return f"s_{int(c)}"


def true_score(k: int) -> str:
    """The true class's score of each row."""
    return "CASE y_true " + " ".join(f"WHEN {c} THEN {score(c)}" for c in range(k)) + " END"


def picked_score(k: int, column: str = "y_pred") -> str:
    """The score of the class in ``column`` (default: the predicted class)."""
    return f"CASE {column} " + " ".join(f"WHEN {c} THEN {score(c)}" for c in range(k)) + " END"


def argmax(k: int) -> str:
    """The first class of highest score (``np.argmax``: ties go to the lower index)."""
    if k == 1:
        return "0"
    top = "GREATEST(" + ", ".join(score(c) for c in range(k)) + ")"
    return "CASE " + " ".join(f"WHEN {score(c)} = {top} THEN {c}" for c in range(k - 1)) + f" ELSE {k - 1} END"


# --- the exact sweep ----------------------------------------------------------------------

def class_scores(c: int) -> str:
    """(t, pos) of class ``c``'s one-vs-rest problem: every sample's score and whether it is of ``c``."""
    return f"SELECT {score(c)} AS t, CASE WHEN y_true = {int(c)} THEN 1 ELSE 0 END AS pos FROM ev_rows"


def pooled_scores(k: int) -> str:
    """(t, pos) of the micro average: every (sample, class) score, positive where the class is true."""
    return " UNION ALL ".join(class_scores(c) for c in range(k))


def _runs(scores_sql: str) -> str:
    # samples and positives per distinct score: the sweep's steps
    return f"SELECT t, COUNT(*) AS n, SUM(pos) AS pos FROM ({scores_sql}) ev_s GROUP BY t"


def sweep_summary(scores_sql: str) -> str:
    """One row: m (distinct scores), n_pos, n_neg, auc2 (twice the ROC area in counts, an exact
    integer), ap_sum (sum over steps of new positives × precision), low and high score.

    The counts cumulated from the top score down are the sweep's ``tp``/``fp``; ROC AUC is
    ``auc2 / 2 / (n_pos n_neg)`` (trapezoids between distinct scores: ties as scikit-learn) and
    average precision ``ap_sum / n_pos`` (scikit-learn's step-wise sum)."""
    return f"""
WITH ev_g AS ({_runs(scores_sql)}),
ev_c AS (
  SELECT t, n, pos,
         SUM(pos) OVER (ORDER BY t DESC {CUMULATIVE}) AS tp,
         SUM(n - pos) OVER (ORDER BY t DESC {CUMULATIVE}) AS fp
  FROM ev_g),
ev_d AS (
  SELECT t, n, pos, tp, fp,
         LAG(tp, 1, 0) OVER (ORDER BY t DESC) AS tp0,
         LAG(fp, 1, 0) OVER (ORDER BY t DESC) AS fp0
  FROM ev_c)
SELECT COUNT(*) AS m, SUM(pos) AS n_pos, SUM(n - pos) AS n_neg,
       SUM((fp - fp0) * (tp + tp0)) AS auc2,
       SUM(CASE WHEN pos > 0 THEN pos * (CAST(tp AS DOUBLE) / (tp + fp)) ELSE 0.0 END) AS ap_sum,
       MIN(t) AS low, MAX(t) AS high
FROM ev_d"""


def counts_at(scores_sql: str, thresholds) -> str:
    """(t, tp, fp) at each of ``thresholds``, increasing: the samples with ``score >= t`` that are
    positive / negative, exactly as :meth:`~evaldash.metrics.ThresholdSweep.counts_at`.

    The thresholds join the distinct scores as steps without samples, ordered after a score equal
    to them, so the running sums at a threshold count every score >= it."""
    values = ", ".join(f"({number(t)})" for t in sorted({float(t) for t in thresholds}))
    return f"""
WITH ev_g AS (
  SELECT t, n, pos, 0 AS probe FROM ({_runs(scores_sql)}) ev_r
  UNION ALL SELECT t, 0 AS n, 0 AS pos, 1 AS probe FROM (VALUES {values}) AS ev_q(t)),
ev_c AS (
  SELECT t, probe,
         SUM(pos) OVER (ORDER BY t DESC, probe {CUMULATIVE}) AS tp,
         SUM(n - pos) OVER (ORDER BY t DESC, probe {CUMULATIVE}) AS fp
  FROM ev_g)
SELECT t, tp, fp FROM ev_c WHERE probe = 1 ORDER BY t"""


# --- counts -------------------------------------------------------------------------------

def confusion_cells() -> str:
    """(true, pred, count) of every observed confusion cell, in matrix order."""
    return "SELECT y_true, y_pred, COUNT(*) AS n FROM ev_rows GROUP BY y_true, y_pred ORDER BY y_true, y_pred"


def true_class_rank(k: int) -> str:
    """How many classes rank ahead of the true one, whose score is ``ev_st`` (ties: the higher
    index first, as top-k accuracy)."""
    return " + ".join(f"CASE WHEN {score(j)} > ev_st OR ({score(j)} = ev_st AND {j} > y_true) THEN 1 ELSE 0 END"
                      for j in range(k))


def top_k_counts(k: int, ks) -> str:
    """One row: for each of ``ks``, the samples whose true class is among the ``t`` best scores."""
    rank, st = true_class_rank(k), true_score(k)
    sums = ", ".join(f"SUM(CASE WHEN ev_rank < {int(t)} THEN 1 ELSE 0 END) AS top_{int(t)}" for t in ks)
    return (f"SELECT {sums} FROM (SELECT {rank} AS ev_rank FROM "
            f"(SELECT ev_rows.*, {st} AS ev_st FROM ev_rows) ev_a) ev_b")


def selective_at(t: float) -> str:
    """One row: kept (confidence >= t) and correct among the kept."""
    return (f"SELECT SUM(CASE WHEN conf >= {number(t)} THEN 1 ELSE 0 END) AS kept, "
            f"SUM(CASE WHEN conf >= {number(t)} AND y_true = y_pred THEN 1 ELSE 0 END) AS correct FROM ev_rows")


# --- calibration ----------------------------------------------------------------------------

def calibration_summary(k: int) -> str:
    """One row: the sums of log loss and Brier terms over samples (as metrics.log_loss and
    brier_score before their mean)."""
    st = true_score(k)
    squares = " + ".join(f"{score(c)} * {score(c)}" for c in range(k))
    clip = f"LEAST(GREATEST({st}, {number(EPS)}), {number(1 - EPS)})"
    return (f"SELECT SUM(-LN({clip})) AS log_loss_sum, SUM({squares} - 2 * {st} + 1) AS brier_sum, "
            f"COUNT(*) AS n FROM ev_rows")


def reliability_bins(n_bins: int) -> str:
    """(bin, count, confidence sum, correct count) of the equal-width confidence bins, with the bin
    of a confidence chosen exactly as :func:`evaldash.metrics.reliability` does: ``ceil(c * n) - 1``
    then corrected where rounding puts it across an edge of ``np.linspace(0, 1, n + 1)``."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)

    def edge(col: str) -> str:
        return f"CASE {col} " + " ".join(f"WHEN {i} THEN {number(e)}" for i, e in enumerate(edges)) + " END"

    first = (f"LEAST(GREATEST(CAST(CEIL(conf * {n_bins}) AS BIGINT) - 1, 0), {n_bins - 1})")
    down = f"ev_b0 - CASE WHEN ev_b0 > 0 AND conf <= {edge('ev_b0')} THEN 1 ELSE 0 END"
    up = f"ev_b1 + CASE WHEN ev_b1 < {n_bins - 1} AND conf > {edge('ev_b1 + 1')} THEN 1 ELSE 0 END"
    return f"""
SELECT ev_bin, COUNT(*) AS n, SUM(conf) AS conf_sum, SUM(CASE WHEN y_true = y_pred THEN 1 ELSE 0 END) AS correct
FROM (SELECT conf, y_true, y_pred, {up} AS ev_bin FROM
      (SELECT conf, y_true, y_pred, {down} AS ev_b1 FROM
       (SELECT conf, y_true, y_pred, {first} AS ev_b0 FROM ev_rows) ev_x) ev_y) ev_z
GROUP BY ev_bin ORDER BY ev_bin"""


# --- drill-down and slices -------------------------------------------------------------------

def cell_rows(true: int, pred: int, limit: int, offset: int = 0) -> str:
    """Row numbers of the samples of cell (true, pred), most confident first, ties in file order
    (the order of :meth:`evaldash.evaluation.Evaluation.cell_samples`), one page of them."""
    return (f"SELECT ev_rn FROM ev_rows WHERE y_true = {int(true)} AND y_pred = {int(pred)} "
            f"ORDER BY conf DESC NULLS LAST, ev_rn LIMIT {int(limit)} OFFSET {int(offset)}")


def slice_cells(slice_expr: str) -> str:
    """(slice, true, pred, count): the confusion cells of each slice."""
    return (f"SELECT ev_slice, y_true, y_pred, COUNT(*) AS n FROM (SELECT {slice_expr} AS ev_slice, y_true, y_pred "
            f"FROM ev_rows) ev_a GROUP BY ev_slice, y_true, y_pred")


def offending_rows(condition: str, shown: int, view: str = "ev_source") -> str:
    """The first ``shown`` row numbers where ``condition`` holds on ``view``, with how many there are."""
    return (f"SELECT ev_rn, COUNT(*) OVER () AS total FROM {view} WHERE {condition} "
            f"ORDER BY ev_rn LIMIT {int(shown)}")
