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
    quantile_function: str = "quantile_cont"  # exact, linear interpolation (numpy's default method)
    hash_function: str = "hash"  # a 64-bit hash of any value (DuckDB's hash, Spark's xxhash64)

    def quantile(self, x: str, p: float) -> str:
        """The exact linear-interpolation quantile ``p`` of ``x`` (numpy's default method)."""
        return f"{self.quantile_function}({x}, {number(p)})"

    def ident(self, name: str) -> str:
        q = self.quote_char
        return q + str(name).replace(q, q + q) + q


DUCKDB = Dialect('"')
SPARK = Dialect("`", "STRING", "percentile", "xxhash64")


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


BUCKETS = 1024  # score ranges that Spark sorts and sums in parallel (one window per range; ~1M rows each at 1B)


def _runs(scores_sql: str) -> str:
    # samples and positives per distinct score: the sweep's steps
    return f"SELECT t, COUNT(*) AS n, SUM(pos) AS pos FROM ({scores_sql}) ev_s GROUP BY t"


def bucket(t: str, low: float, high: float, buckets: int = BUCKETS) -> str:
    """Which of ``buckets`` equal ranges of [low, high] holds ``t``: a non-decreasing function of
    ``t`` (each step rounds monotonically; halves keep ``high - low`` finite), so the ranges keep
    the scores' order and a running sum splits into one per range plus the ranges above it."""
    if not high > low:
        return "0"
    lo, hi = number(low / 2), number(high / 2)
    clipped = f"LEAST(GREATEST({t} / 2, {lo}), {hi})"
    return f"LEAST(CAST(FLOOR(({clipped} - {lo}) / ({hi} - {lo}) * {buckets}) AS BIGINT), {buckets - 1})"


def _cumulated(steps_sql: str, rows_sql: str, low: float, high: float, order: str = "t DESC",
               buckets: int = 1) -> str:
    """``steps_sql`` (t, n, pos, ...) with ``tp`` and ``seen`` (samples at or above each step, in
    ``order``).

    With ``buckets`` above 1 the running sums are taken per score range, in parallel (Spark would
    otherwise run one window over every distinct score in a single task), offset by the totals
    of the ranges above, which come from ``rows_sql`` (t, n, pos, one row per sample and one per
    probe: every range that holds a step is in it). DuckDB runs one window faster than the extra
    scan and join (``buckets`` 1)."""
    if buckets <= 1:
        return f"""
SELECT ev_st.*, SUM(pos) OVER (ORDER BY {order} {CUMULATIVE}) AS tp, SUM(n) OVER (ORDER BY {order} {CUMULATIVE}) AS seen
FROM ({steps_sql}) ev_st"""
    b = bucket("t", low, high, buckets)
    return f"""
SELECT k.*, o.pos_above + SUM(k.pos) OVER (PARTITION BY k.ev_bucket ORDER BY {order} {CUMULATIVE}) AS tp,
       o.n_above + SUM(k.n) OVER (PARTITION BY k.ev_bucket ORDER BY {order} {CUMULATIVE}) AS seen
FROM (SELECT ev_st.*, {b} AS ev_bucket FROM ({steps_sql}) ev_st) k
JOIN (SELECT ev_bucket, SUM(bp) OVER (ORDER BY ev_bucket DESC {CUMULATIVE}) - bp AS pos_above,
             SUM(bn) OVER (ORDER BY ev_bucket DESC {CUMULATIVE}) - bn AS n_above
      FROM (SELECT {b} AS ev_bucket, SUM(pos) AS bp, SUM(n) AS bn FROM ({rows_sql}) ev_s2 GROUP BY {b}) ev_bt
     ) o ON k.ev_bucket = o.ev_bucket"""


def score_range(k: int) -> str:
    """One row: low_c and high_c, each class's lowest and highest score (for the score ranges)."""
    return "SELECT " + ", ".join(f"MIN({score(c)}) AS low_{c}, MAX({score(c)}) AS high_{c}" for c in range(k)) + \
        " FROM ev_rows"


def sweep_summary(scores_sql: str, low: float, high: float, buckets: int = 1) -> str:
    """One row: m (distinct scores), n_pos, n_neg, auc2 (twice the ROC area in counts, an exact
    integer), ap_sum (sum over steps of new positives × precision), low and high score;
    ``low``/``high``: the scores' range (:func:`score_range`), which only splits the work.

    The counts cumulated from the top score down are the sweep's ``tp``/``fp``; a step adds
    ``pos`` positives and ``n - pos`` negatives, so its ROC trapezoid is ``(n - pos)(2 tp - pos) / 2``
    (ties as scikit-learn) and ROC AUC is ``auc2 / 2 / (n_pos n_neg)``; average precision is
    ``ap_sum / n_pos`` (scikit-learn's step-wise sum)."""
    return f"""
SELECT COUNT(*) AS m, SUM(pos) AS n_pos, SUM(n - pos) AS n_neg,
       SUM((n - pos) * (2 * tp - pos)) AS auc2,
       SUM(CASE WHEN pos > 0 THEN pos * (CAST(tp AS DOUBLE) / seen) ELSE 0.0 END) AS ap_sum,
       MIN(t) AS low, MAX(t) AS high
FROM ({_cumulated(_runs(scores_sql), f"SELECT t, 1 AS n, pos FROM ({scores_sql}) ev_s1", low, high,
                    buckets=buckets)}) ev_c"""


MIRRORS = {"one_minus": "(1.0 - {})", "negate": "(-{})"}  # the other class's score (table.py's expressions)
PEERS = "RANGE BETWEEN CURRENT ROW AND CURRENT ROW"  # the rows of the same score
UP_TO_PEERS = "RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"  # every row of a score >= this one's


def row_sweep_summary(scores_sql: str, mirror: str | None = None, n: int = 0, n_other: int = 0,
                      low: float = 0.0, high: float = 0.0, buckets: int = 1) -> str:
    """:func:`sweep_summary` (same columns) from one sort of the samples themselves, without the
    GROUP BY of distinct scores (which does not shrink data whose scores are nearly all distinct,
    and costs a hash table of every score). Each row sees its score's step through windows over
    ``t DESC``: ``tp``/``seen`` at or above its score (``RANGE`` frames take the score's peers
    whole), ``pg`` of its score alone, and the rows before and after it (a new distinct
    score where ``t`` changes). A negative row adds ``2 tp - pg`` to twice the ROC area (its
    step's trapezoid is ``(n - pos)(2 tp - pos)``), a positive row ``tp / seen`` to the AP sum.
    (``sa``, the samples of a higher score, is ``RANK() - 1``: cheaper than a count over the peers.)

    With ``mirror`` (a binary file with one score column: the other class's score is
    ``MIRRORS[mirror]`` of ``t``, non-increasing) the same sort also gives the other class's sweep,
    which runs the same steps upward (columns ``*_o``; ``n``: samples, ``n_other``: samples of
    the other class): at or above a step there are ``n - sa`` samples and ``n_other - negatives
    above`` of its positives, ``sa`` being the samples of a higher score. Where the mirror makes
    neighbouring distinct scores equal (``1 - s`` rounds tiny differences away), their steps are
    one in the other class's sweep: the query then returns one row per such score besides the
    totals (grouped by ``ev_key``, that score; NULL for every other row) with its step's counts
    (``g_pos``, ``g_n``, ``g_above``: samples above, ``g_pos_above``), from which
    :func:`evaldash.engines.evaluation.mirrored_summaries` merges the steps exactly.

    With ``buckets`` above 1 (``low``/``high``: the scores' range, :func:`score_range`) the sort
    is split by score range (:func:`bucket`): each range's rows are sorted and windowed in their
    own task (Spark would otherwise sort every row in one task for a window without ``PARTITION
    BY``), and ``tp``, ``seen`` and ``sa`` are offset by the positives and samples of the ranges
    above (a scan and a table of ``buckets`` rows). A distinct score lies in one range, so every
    step is whole in its range; the first and the last step of each range also come back as
    ``ev_key`` rows (a merge of the mirror may join steps across a range's edge, which the
    windows of one range cannot see; a step that merges with nothing is left as it is)."""
    w = "ORDER BY t DESC"
    if buckets > 1:
        w = f"PARTITION BY ev_bucket {w}"

    def big(total: str) -> str:  # a frame's integer columns are exact as BIGINT (the grouped form)
        return f"CAST({total} AS BIGINT)" if mirror else total

    totals = (f"{big('SUM(CASE WHEN ev_prev IS NULL OR ev_prev <> t THEN 1 ELSE 0 END)')} AS m, "
              f"{big('SUM(pos)')} AS n_pos, {big('SUM(1 - pos)')} AS n_neg, "
              f"{big('SUM(CASE WHEN pos = 0 THEN 2 * tp - pg ELSE 0 END)')} AS auc2, "
              f"SUM(CASE WHEN pos = 1 THEN CAST(tp AS DOUBLE) / seen ELSE 0.0 END) AS ap_sum, MIN(t) AS low, "
              f"MAX(t) AS high")
    positives = "COUNT(CASE WHEN pos = 1 THEN 1 END)"  # BIGINT (a SUM may be wider): less to sort and spill
    windows = (f"SELECT t, pos, {positives} OVER ({w} {UP_TO_PEERS}) AS tp, COUNT(*) OVER ({w} {UP_TO_PEERS}) AS seen, "
               f"{positives} OVER ({w} {PEERS}) AS pg, RANK() OVER ({w}) - 1 AS sa, LAG(t) OVER ({w}) AS ev_prev"
               + (f", LEAD(t) OVER ({w}) AS ev_next" if mirror else "") + f" FROM ({scores_sql}) ev_s")
    edges = ""
    if buckets > 1:
        b = bucket("t", low, high, buckets)
        above = (f"SELECT ev_bucket, SUM(bp) OVER (ORDER BY ev_bucket DESC {CUMULATIVE}) - bp AS pos_above, "
                 f"SUM(bn) OVER (ORDER BY ev_bucket DESC {CUMULATIVE}) - bn AS n_above "
                 f"FROM (SELECT {b} AS ev_bucket, SUM(pos) AS bp, COUNT(*) AS bn FROM ({scores_sql}) ev_s2 "
                 f"GROUP BY {b}) ev_bt")
        ranged = windows.replace(f" FROM ({scores_sql}) ev_s",
                                 f", ev_bucket FROM (SELECT t, pos, {b} AS ev_bucket FROM ({scores_sql}) ev_s0) ev_s")
        windows = ("SELECT ev_r.t, ev_r.pos, ev_o.pos_above + ev_r.tp AS tp, ev_o.n_above + ev_r.seen AS seen, "
                   "ev_r.pg, ev_o.n_above + ev_r.sa AS sa, ev_r.ev_prev" + (", ev_r.ev_next" if mirror else "")
                   + f" FROM ({ranged}) ev_r JOIN ({above}) ev_o ON ev_r.ev_bucket = ev_o.ev_bucket")
        edges = " OR ev_prev IS NULL OR ev_next IS NULL"
    if mirror is None:
        return f"SELECT {totals} FROM ({windows}) ev_c"
    m = MIRRORS[mirror]
    tp_o = f"({int(n_other)} - (sa - (tp - pg)))"
    merges = (f"(ev_prev <> t AND {m.format('ev_prev')} = {m.format('t')}) OR "
              f"(ev_next <> t AND {m.format('ev_next')} = {m.format('t')}){edges}")
    return f"""
SELECT ev_key, {totals},
       CAST(SUM(CASE WHEN pos = 1 THEN 2 * {tp_o} - (seen - sa - pg) ELSE 0 END) AS BIGINT) AS auc2_o,
       SUM(CASE WHEN pos = 0 THEN CAST({tp_o} AS DOUBLE) / ({int(n)} - sa) ELSE 0.0 END) AS ap_sum_o,
       CAST(MIN(pg) AS BIGINT) AS g_pos, CAST(MIN(seen - sa) AS BIGINT) AS g_n, CAST(MIN(sa) AS BIGINT) AS g_above,
       CAST(MIN(tp - pg) AS BIGINT) AS g_pos_above
FROM (SELECT ev_w.*, CASE WHEN {merges} THEN t END AS ev_key FROM ({windows}) ev_w) ev_c
GROUP BY ev_key"""


def counts_at(scores_sql: str, thresholds, low: float, high: float, buckets: int = 1) -> str:
    """(t, tp, fp) at each of ``thresholds``, increasing: the samples with ``score >= t`` that are
    positive / negative, exactly as :meth:`~evaldash.metrics.ThresholdSweep.counts_at`.

    The thresholds join the distinct scores as steps without samples, ordered after a score equal
    to them, so the running sums at a threshold count every score >= it."""
    values = ", ".join(f"({number(t)})" for t in sorted({float(t) for t in thresholds}))
    probes = f"SELECT t, 0 AS n, 0 AS pos FROM (VALUES {values}) AS ev_q(t)"
    steps = f"SELECT t, n, pos, 0 AS probe FROM ({_runs(scores_sql)}) ev_r UNION ALL SELECT ev_p.*, 1 AS probe FROM ({probes}) ev_p"
    rows = f"SELECT t, 1 AS n, pos FROM ({scores_sql}) ev_s1 UNION ALL {probes}"
    return f"""
SELECT t, tp, seen - tp AS fp FROM ({_cumulated(steps, rows, low, high, "t DESC, probe", buckets)}) ev_c
WHERE probe = 1 ORDER BY t"""


def grouped_sweep_summary(scores_sql: str, keys: list[str]) -> str:
    """Per group of ``keys``: n_pos, n_neg and auc2 (as :func:`sweep_summary`) of the sweep within
    the group; ``scores_sql`` yields the keys, t and pos."""
    by = ", ".join(keys)
    return f"""
SELECT {by}, SUM(pos) AS n_pos, SUM(n - pos) AS n_neg, SUM((n - pos) * (2 * tp - pos)) AS auc2
FROM (SELECT ev_g.*, SUM(pos) OVER (PARTITION BY {by} ORDER BY t DESC {CUMULATIVE}) AS tp
      FROM (SELECT {by}, t, COUNT(*) AS n, SUM(pos) AS pos FROM ({scores_sql}) ev_s GROUP BY {by}, t) ev_g) ev_c
GROUP BY {by}"""


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


def _binned(n_bins: int, columns: str, expressions: str | None = None) -> str:
    """``columns`` (from ``expressions`` of ``ev_rows``, default the columns themselves) and
    ``ev_bin``, the equal-width confidence bin of each row, chosen
    exactly as :func:`evaldash.metrics.reliability` does: ``ceil(c * n) - 1`` then corrected
    where rounding puts it across an edge of ``np.linspace(0, 1, n + 1)``."""
    edges = np.linspace(0.0, 1.0, n_bins + 1)

    def edge(col: str) -> str:
        return f"CASE {col} " + " ".join(f"WHEN {i} THEN {number(e)}" for i, e in enumerate(edges)) + " END"

    first = (f"LEAST(GREATEST(CAST(CEIL(conf * {n_bins}) AS BIGINT) - 1, 0), {n_bins - 1})")
    down = f"ev_b0 - CASE WHEN ev_b0 > 0 AND conf <= {edge('ev_b0')} THEN 1 ELSE 0 END"
    up = f"ev_b1 + CASE WHEN ev_b1 < {n_bins - 1} AND conf > {edge('ev_b1 + 1')} THEN 1 ELSE 0 END"
    return f"""(SELECT {columns}, {up} AS ev_bin FROM
      (SELECT {columns}, {down} AS ev_b1 FROM
       (SELECT {expressions or columns}, {first} AS ev_b0 FROM ev_rows) ev_x) ev_y) ev_z"""


def reliability_bins(n_bins: int) -> str:
    """(bin, count, confidence sum, correct count) of the equal-width confidence bins (see
    :func:`_binned`)."""
    return f"""
SELECT ev_bin, COUNT(*) AS n, SUM(conf) AS conf_sum, SUM(CASE WHEN y_true = y_pred THEN 1 ELSE 0 END) AS correct
FROM {_binned(n_bins, "conf, y_true, y_pred")}
GROUP BY ev_bin ORDER BY ev_bin"""


def cells_and_calibration(k: int, n_bins: int) -> str:
    """One scan for the confusion cells, the calibration sums and the confidence bins: (true,
    pred, bin, count, confidence sum, log loss sum, Brier sum) per observed combination (at most
    k × k × n_bins rows), which sum to :func:`confusion_cells`, :func:`calibration_summary` and
    :func:`reliability_bins`."""
    st = true_score(k)
    squares = " + ".join(f"{score(c)} * {score(c)}" for c in range(k))
    clip = f"LEAST(GREATEST({st}, {number(EPS)}), {number(1 - EPS)})"
    expressions = f"conf, y_true, y_pred, -LN({clip}) AS ev_ll, {squares} - 2 * {st} + 1 AS ev_br"
    return f"""
SELECT y_true, y_pred, ev_bin, COUNT(*) AS n, SUM(conf) AS conf_sum, SUM(ev_ll) AS log_loss_sum,
       SUM(ev_br) AS brier_sum
FROM {_binned(n_bins, "conf, y_true, y_pred, ev_ll, ev_br", expressions)}
GROUP BY y_true, y_pred, ev_bin"""


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


KEYS_PER_PART = 1 << 20  # keys of the duplicate check that one task counts (a hash table of ~64 MB)


def distinct_keys(key: str, rows: int, conditions: dict[str, str] | None = None) -> str:
    """One row: ``keys``, the distinct values of ``key`` (an expression over ``ev_source``), and
    for each of ``conditions`` (name: condition) the rows where it holds, from the same read. The
    values are first spread over one partition per ``KEYS_PER_PART`` of the ``rows`` (Spark's
    REPARTITION hint; a comment to DuckDB), so that each one's rows meet in one task, which
    counts them in a table of its share of the values: without it Spark counts every value of
    its input in a partial aggregation before the shuffle, whose table of unique ids spills and
    shrinks nothing."""
    parts = max(1, -(-int(rows) // KEYS_PER_PART))
    conditions = conditions or {}
    flags = "".join(f", CASE WHEN {c} THEN 1 ELSE 0 END AS ev_f{i}" for i, c in enumerate(conditions.values()))
    sums = "".join(f", SUM(ev_f{i}) AS {name}" for i, name in enumerate(conditions))
    return (f"SELECT COUNT(DISTINCT ev_k) AS keys{sums} FROM (SELECT /*+ REPARTITION({parts}, ev_k) */ {key} AS ev_k"
            f"{flags} FROM ev_source) ev_h")


def offending_rows(condition: str, shown: int, view: str = "ev_source") -> str:
    """The first ``shown`` row numbers where ``condition`` holds on ``view``, with how many there are."""
    return (f"SELECT ev_rn, COUNT(*) OVER () AS total FROM {view} WHERE {condition} "
            f"ORDER BY ev_rn LIMIT {int(shown)}")


# --- rows of a gallery page, cut points of a reduced sweep (engines.rows, engines.reduced) ------

def row_records(columns, rows) -> str:
    """Every column in ``columns`` of the rows numbered ``rows`` (a page, a few rows), by row number."""
    listed = ", ".join(str(int(r)) for r in rows)
    return f"SELECT {', '.join(columns)} FROM ev_rows WHERE ev_rn IN ({listed}) ORDER BY ev_rn"


MOST_CONFIDENT = "conf DESC NULLS LAST, ev_rn"  # a cell's order (cell_rows)


def cell_where(true: int, pred: int) -> str:
    return f"y_true = {int(true)} AND y_pred = {int(pred)}"


def ranked_rows(where: str, order: str, limit: int, offset: int = 0, view: str = "ev_rows") -> str:
    """Row numbers of the rows of ``view`` (``ev_rows``, or a query over it with an alias) where
    ``where`` holds, in ``order`` (which ends with ``ev_rn``), one page."""
    return f"SELECT ev_rn FROM {view} WHERE {where} ORDER BY {order} LIMIT {int(limit)} OFFSET {int(offset)}"


def ranked_page(columns, where: str, order: str, limit: int, offset: int = 0, view: str = "ev_rows") -> str:
    """:func:`ranked_rows`' page with every column in ``columns`` of its rows: a gallery page and
    its captions in one query."""
    return (f"SELECT {', '.join(columns)} FROM {view} WHERE {where} ORDER BY {order} "
            f"LIMIT {int(limit)} OFFSET {int(offset)}")


def count_where(where: str, view: str = "ev_rows") -> str:
    return f"SELECT COUNT(*) AS n FROM {view} WHERE {where}"


def class_score_sums(k: int, classes=None, where: str = "") -> str:
    """(y_true, n, sum_j) per true class: the count and the sum of each score ``j`` of ``classes``
    (default: all ``k``), for the mean-score matrix."""
    cols = range(k) if classes is None else classes
    sums = "".join(f", SUM({score(j)}) AS sum_{int(j)}" for j in cols)
    return (f"SELECT y_true, COUNT(*) AS n{sums} FROM ev_rows" + (f" WHERE {where}" if where else "")
            + " GROUP BY y_true ORDER BY y_true")


def confidence_scores() -> str:
    """(t, pos) of the selective-prediction sweep: each confidence and whether its prediction is right."""
    return "SELECT conf AS t, CASE WHEN y_true = y_pred THEN 1 ELSE 0 END AS pos FROM ev_rows"


def cut_points(scores_sql: str, thresholds, spread: int, n: int, n_pos: int, low: float, high: float,
               buckets: int = 1, every_step: bool = False) -> str:
    """(t, tp, fp) exactly at each of ``thresholds`` and at about ``2 * spread`` distinct scores
    spread over the sweep (where the samples seen from the top, or the positives seen, cross a
    multiple of ``n / spread`` or ``n_pos / spread``; with the highest and the lowest score):
    the cut points of a reduced sweep, in one pass over the distinct scores. Increasing ``t``.

    As in :func:`counts_at`, the thresholds join the distinct scores as steps without samples
    (``probe`` 1), ordered after a score equal to them. ``every_step``: every distinct score is a
    cut point (for a sweep of few distinct scores)."""
    values = ", ".join(f"({number(t)})" for t in sorted({float(t) for t in thresholds}) or [float("inf")])
    probes = f"SELECT t, 0 AS n, 0 AS pos FROM (VALUES {values}) AS ev_q(t)"
    steps = (f"SELECT t, n, pos, 0 AS probe FROM ({_runs(scores_sql)}) ev_r "
             f"UNION ALL SELECT ev_p.*, 1 AS probe FROM ({probes}) ev_p")
    rows = f"SELECT t, 1 AS n, pos FROM ({scores_sql}) ev_s1 UNION ALL {probes}"
    every, pos_every = max(n, 1) / spread, max(n_pos, 1) / spread
    crossed = (f"FLOOR(seen / {number(every)}) > FLOOR((seen - n) / {number(every)}) "
               f"OR FLOOR(tp / {number(pos_every)}) > FLOOR((tp - pos) / {number(pos_every)})")
    return f"""
SELECT t, tp, seen - tp AS fp, probe FROM ({_cumulated(steps, rows, low, high, "t DESC, probe", buckets)}) ev_c
WHERE {"TRUE" if every_step else f"probe = 1 OR seen = n OR seen = {int(n)} OR {crossed}"} ORDER BY t"""


def counts_at_few(scores_sql: str, thresholds) -> str:
    """One row: tp_i and fp_i, the positive / negative samples with ``t >= thresholds[i]``: the
    counts at a few thresholds in one scan (no sort, no window), as :func:`counts_at` gives them."""
    sums = ", ".join(f"SUM(CASE WHEN t >= {number(x)} THEN pos ELSE 0 END) AS tp_{i}, "
                     f"SUM(CASE WHEN t >= {number(x)} THEN 1 - pos ELSE 0 END) AS fp_{i}"
                     for i, x in enumerate(thresholds))
    return f"SELECT {sums} FROM ({scores_sql}) ev_s"


def steps_in_ranges(scores_sql: str, ranges) -> str:
    """Each distinct score ``t`` lying in one of ``ranges`` (``[lo, hi)`` pairs; an infinite end is
    open) with its positive and negative samples: the full sweep's steps between two cut points."""
    def within(lo: float, hi: float) -> str:
        parts = ([f"t >= {number(lo)}"] if lo > -math.inf else []) + ([f"t < {number(hi)}"] if hi < math.inf else [])
        return "(" + " AND ".join(parts or ["TRUE"]) + ")"
    where = " OR ".join(within(float(lo), float(hi)) for lo, hi in ranges)
    return f"SELECT t, SUM(pos) AS pos, COUNT(*) - SUM(pos) AS neg FROM ({scores_sql}) ev_s WHERE {where} GROUP BY t"


def histogram_bucket(t: str, low: float, high: float, buckets: int) -> str:
    """Which of ``buckets`` equal ranges of [low, high] holds ``t``: non-decreasing in ``t`` (each
    step rounds monotonically; halves keep ``high - low`` finite), so a range's lowest score has
    every score of the ranges above it above it, and none of the ranges below."""
    if not high > low:
        return "0"
    lo, hi = number(low / 2), number(high / 2)
    clipped = f"LEAST(GREATEST({t} / 2, {lo}), {hi})"
    return f"LEAST(CAST(FLOOR(({clipped} - {lo}) / ({hi} - {lo}) * {int(buckets)}) AS BIGINT), {int(buckets) - 1})"


def score_histogram(scores_sql: str, low: float, high: float, buckets: int) -> str:
    """(b, lo, hi, n, pos) per non-empty range ``b`` of :func:`histogram_bucket`: its lowest and
    highest score, samples and positives. One hash aggregation, no sort: the samples at or above
    a range's lowest score are exactly those of that range and the ranges above."""
    b = histogram_bucket("t", low, high, buckets)
    return (f"SELECT ev_b AS b, MIN(t) AS lo, MAX(t) AS hi, COUNT(*) AS n, SUM(pos) AS pos "
            f"FROM (SELECT {b} AS ev_b, t, pos FROM ({scores_sql}) ev_s) ev_h GROUP BY ev_b ORDER BY ev_b")


def in_buckets(scores_sql: str, low: float, high: float, buckets: int, which) -> str:
    """``scores_sql``'s rows whose :func:`histogram_bucket` is one of ``which``."""
    b = histogram_bucket("t", low, high, buckets)
    return (f"SELECT t, pos FROM ({scores_sql}) ev_s WHERE {b} IN "
            f"({', '.join(str(int(x)) for x in which)})")


# --- multi-label (concept) files ---------------------------------------------------------------
# ``ev_rows`` of a multi-label file (:mod:`evaldash.engines.multilabel_table`) holds ``y_c`` (0/1:
# labelled c) and ``s_c`` per class, and ``g_c`` (0/1: the file predicts c) when the file gives
# its predictions; the queries below read it through :func:`multilabel_rows`, which adds ``p_c``
# (0/1: predicted c) at the evaluation's thresholds, and ``ev_nt``, ``ev_np``, ``ev_nb`` (labels,
# predictions and labels predicted, per sample).

# how each engine spells the list functions: (unnest a list into rows, does a list hold an item,
# does a list hold a NULL item)
_LISTS = {DUCKDB: ("UNNEST({l})", "list_contains({l}, {x})", "(list_count({l}) < len({l}))"),
          SPARK: ("explode({l})", "array_contains({l}, {x})", "exists({l}, ev_x -> ev_x IS NULL)")}


def list_items(dialect: Dialect, column: str) -> str:
    """Each distinct item of the list column ``column`` (an identifier) of ``ev_source``, as ``v``."""
    return f"SELECT DISTINCT {_LISTS[dialect][0].format(l=column)} AS v FROM ev_source"


def list_holds(dialect: Dialect, column: str, item: str) -> str:
    """Whether the list ``column`` holds ``item`` (a SQL literal); NULL for a NULL list."""
    return _LISTS[dialect][1].format(l=column, x=item)


def list_holds_null(dialect: Dialect, column: str) -> str:
    """Whether the list ``column`` holds a NULL item."""
    return _LISTS[dialect][2].format(l=column)


def truth(c: int) -> str:
    return f"y_{int(c)}"


def predicted(c: int) -> str:
    return f"p_{int(c)}"


def multilabel_rows(k: int, predictions: list[str]) -> str:
    """``ev_rows`` with ``p_c`` (``predictions[c]``, a 0/1 expression) and the per-sample counts
    ``ev_nt`` (labels), ``ev_np`` (predicted labels), ``ev_nb`` (labels predicted)."""
    preds = ", ".join(f"{expr} AS {predicted(c)}" for c, expr in enumerate(predictions))
    nt = " + ".join(truth(c) for c in range(k))
    np_ = " + ".join(predicted(c) for c in range(k))
    nb = " + ".join(f"{truth(c)} * {predicted(c)}" for c in range(k))
    return (f"SELECT ev_p.*, {nt} AS ev_nt, {np_} AS ev_np, {nb} AS ev_nb FROM "
            f"(SELECT ev_rows.*, {preds} FROM ev_rows) ev_p")


def threshold_predictions(k: int, thresholds) -> list[str]:
    """``p_c`` of each class when its score is >= its threshold."""
    return [f"CASE WHEN {score(c)} >= {number(t)} THEN 1 ELSE 0 END" for c, t in zip(range(k), thresholds)]


def multilabel_class_counts(k: int, rows_sql: str) -> str:
    """One row: ``sup_c`` (samples labelled c), ``prd_c`` (predicted c), ``tp_c`` (both) per class."""
    sums = ", ".join(f"SUM({truth(c)}) AS sup_{c}, SUM({predicted(c)}) AS prd_{c}, "
                     f"SUM({truth(c)} * {predicted(c)}) AS tp_{c}" for c in range(k))
    return f"SELECT {sums} FROM ({rows_sql}) ev_a"


def multilabel_sample_counts(rows_sql: str) -> str:
    """(labels, predicted labels, labels predicted, samples): how many samples have each triple;
    every sample-level metric (samples averages, subset accuracy, Hamming loss, Jaccard, label
    cardinality) is a sum over these groups."""
    return (f"SELECT ev_nt AS nt, ev_np AS np, ev_nb AS nb, COUNT(*) AS n FROM ({rows_sql}) ev_a "
            f"GROUP BY ev_nt, ev_np, ev_nb ORDER BY ev_nt, ev_np, ev_nb")


def concept_cells(k: int, rows_sql: str) -> str:
    """One row: ``m_i_j`` of the concept matrix, shape (k + 1, k + 1): samples labelled i and
    predicted j; row k: no label, column k: no prediction
    (:func:`evaldash.multilabel_metrics.concept_matrix`)."""
    def row(i):
        return truth(i) if i < k else "CASE WHEN ev_nt = 0 THEN 1 ELSE 0 END"

    def col(j):
        return predicted(j) if j < k else "CASE WHEN ev_np = 0 THEN 1 ELSE 0 END"
    sums = ", ".join(f"SUM({row(i)} * {col(j)}) AS m_{i}_{j}" for i in range(k + 1) for j in range(k + 1))
    return f"SELECT {sums} FROM ({rows_sql}) ev_a"


def co_occurrence_cells(k: int) -> str:
    """One row: ``o_i_j`` (i <= j), the samples labelled both i and j."""
    sums = ", ".join(f"SUM({truth(i)} * {truth(j)}) AS o_{i}_{j}" for i in range(k) for j in range(i, k))
    return f"SELECT {sums} FROM ev_rows"


def mean_score_sums(k: int) -> str:
    """One row: ``ms_i_j``, the sum of class j's score over the samples labelled i (row k: with no
    label), and ``mn_i``, the samples of row i."""
    nt = " + ".join(truth(c) for c in range(k))
    rows = [truth(i) for i in range(k)] + [f"CASE WHEN {nt} = 0 THEN 1 ELSE 0 END"]
    sums = ", ".join(f"SUM(CASE WHEN {r} = 1 THEN {score(j)} ELSE 0.0 END) AS ms_{i}_{j}"
                     for i, r in enumerate(rows) for j in range(k))
    counts = ", ".join(f"SUM({r}) AS mn_{i}" for i, r in enumerate(rows))
    return f"SELECT {sums}, {counts} FROM ev_rows"


def label_scores(c: int) -> str:
    """(t, pos) of class ``c``'s one-vs-rest problem on its indicator column."""
    return f"SELECT {score(c)} AS t, {truth(c)} AS pos FROM ev_rows"


def pooled_label_scores(k: int) -> str:
    """(t, pos) of every (sample, class) score, positive where the sample is labelled with the class."""
    return " UNION ALL ".join(label_scores(c) for c in range(k))


def label_ranking_sums(k: int) -> str:
    """One row: the sums over samples of label ranking average precision, coverage error and label
    ranking loss (:func:`evaldash.multilabel_metrics.multilabel_ranking` before its mean): for
    each true label j, ``rank`` = labels scored >= j's score and ``above`` = true labels among
    them. Costs k × k comparisons a sample."""
    def rank(j):
        return " + ".join(f"CASE WHEN {score(i)} >= {score(j)} THEN 1 ELSE 0 END" for i in range(k))

    def above(j):
        return " + ".join(f"CASE WHEN {score(i)} >= {score(j)} THEN {truth(i)} ELSE 0 END" for i in range(k))
    cols = ", ".join(f"{rank(j)} AS ev_r{j}, {above(j)} AS ev_a{j}" for j in range(k))
    nt = " + ".join(truth(c) for c in range(k))
    ratio = " + ".join(f"CASE WHEN {truth(j)} = 1 THEN CAST(ev_a{j} AS DOUBLE) / ev_r{j} ELSE 0.0 END"
                       for j in range(k))
    wrong = " + ".join(f"CASE WHEN {truth(j)} = 1 THEN ev_r{j} - ev_a{j} ELSE 0 END" for j in range(k))
    cover = ("GREATEST(" + ", ".join(f"CASE WHEN {truth(j)} = 1 THEN ev_r{j} ELSE 0 END" for j in range(k)) + ")"
             if k > 1 else f"CASE WHEN {truth(0)} = 1 THEN ev_r0 ELSE 0 END")
    ranked = f"ev_nt > 0 AND ev_nt < {k}"
    return f"""
SELECT SUM(CASE WHEN {ranked} THEN ({ratio}) / ev_nt ELSE 1.0 END) AS lrap_sum,
       SUM({cover}) AS coverage_sum,
       SUM(CASE WHEN {ranked} THEN CAST({wrong} AS DOUBLE) / (ev_nt * ({k} - ev_nt)) ELSE 0.0 END) AS loss_sum
FROM (SELECT ev_rows.*, {cols}, {nt} AS ev_nt FROM ev_rows) ev_a"""


def multilabel_cell_rows(k: int, rows_sql: str, true: int, pred: int, has_scores: bool, limit: int,
                         offset: int = 0) -> str:
    """Row numbers of concept-matrix cell (true, pred), most confident first (the score of class
    ``pred``; column k: the sample's highest score), ties in file order
    (:func:`evaldash.multilabel_metrics.cell_rows`)."""
    return ranked_rows(multilabel_cell_where(k, true, pred), multilabel_cell_order(k, pred, has_scores), limit,
                       offset, f"({rows_sql}) ev_a")


def multilabel_cell_where(k: int, true: int, pred: int) -> str:
    """Concept-matrix cell (true, pred) over :func:`multilabel_rows` (row k: no label, column k: no prediction)."""
    row = f"{truth(true)} = 1" if true < k else "ev_nt = 0"
    col = f"{predicted(pred)} = 1" if pred < k else "ev_np = 0"
    return f"{row} AND {col}"


def multilabel_cell_order(k: int, pred: int, has_scores: bool) -> str:
    if not has_scores:
        return "ev_rn"
    if pred < k:
        return f"{score(pred)} DESC, ev_rn"
    return ("GREATEST(" + ", ".join(score(c) for c in range(k)) + ")" if k > 1 else score(0)) + " DESC, ev_rn"


def concept_error_rows(rows_sql: str, c: int, kind: str, has_scores: bool, limit: int, offset: int = 0) -> str:
    """Row numbers of class ``c``'s false positives (``fp``, highest score first) or false
    negatives (``fn``, lowest score first), ties in file order
    (:func:`evaldash.multilabel_metrics.concept_errors`)."""
    return ranked_rows(*concept_error_where_order(c, kind, has_scores), limit, offset, f"({rows_sql}) ev_a")


def concept_error_where_order(c: int, kind: str, has_scores: bool) -> tuple[str, str]:
    where = (f"{predicted(c)} = 1 AND {truth(c)} = 0" if kind == "fp" else f"{truth(c)} = 1 AND {predicted(c)} = 0")
    order = "ev_rn" if not has_scores else f"{score(c)} {'DESC' if kind == 'fp' else 'ASC'}, ev_rn"
    return where, order


def concept_calibration(c: int, n_bins: int, eps: float) -> str:
    """(bin, count, score sum, labelled count, log loss sum, Brier sum) of concept ``c``'s
    equal-width score bins (:func:`_binned`; :func:`evaldash.multilabel_calibration.concept_calibration`)."""
    s, y = score(c), truth(c)
    clip = f"LEAST(GREATEST({s}, {number(eps)}), {number(1 - eps)})"
    expressions = (f"{s} AS conf, {y} AS ev_y, CASE WHEN {y} = 1 THEN -LN({clip}) ELSE -LN(1 - {clip}) END AS ev_ll, "
                   f"({s} - {y}) * ({s} - {y}) AS ev_br")
    return f"""
SELECT ev_bin, COUNT(*) AS n, SUM(conf) AS conf_sum, SUM(ev_y) AS correct, SUM(ev_ll) AS log_loss_sum,
       SUM(ev_br) AS brier_sum
FROM {_binned(n_bins, "conf, ev_y, ev_ll, ev_br", expressions)}
GROUP BY ev_bin ORDER BY ev_bin"""


def multilabel_slice_samples(rows_sql: str, slice_expr: str) -> str:
    """:func:`multilabel_sample_counts` per slice: (slice, nt, np, nb, n)."""
    return (f"SELECT ev_slice, ev_nt AS nt, ev_np AS np, ev_nb AS nb, COUNT(*) AS n FROM "
            f"(SELECT {slice_expr} AS ev_slice, ev_nt, ev_np, ev_nb FROM ({rows_sql}) ev_a) ev_b "
            f"GROUP BY ev_slice, ev_nt, ev_np, ev_nb")


RANKING_TERMS_MAX = 24  # classes up to which label_ranking_sums compares scores in one row (k × k terms)


def label_ranking_sums_stacked(k: int) -> str:
    """:func:`label_ranking_sums` for many classes: every (sample, class) score stacked, and each
    label's ``rank`` and ``above`` taken by a window over the sample's scores, highest first, ties
    together (RANGE: the labels scored >= it). Costs samples × k log k, not samples × k × k."""
    stacked = " UNION ALL ".join(f"SELECT ev_rn, {score(c)} AS t, {truth(c)} AS pos FROM ev_rows" for c in range(k))
    window = "(PARTITION BY ev_rn ORDER BY t DESC RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
    return f"""
SELECT SUM(CASE WHEN nt > 0 AND nt < {k} THEN ratio / nt ELSE 1.0 END) AS lrap_sum,
       SUM(cover) AS coverage_sum,
       SUM(CASE WHEN nt > 0 AND nt < {k} THEN CAST(wrong AS DOUBLE) / (nt * ({k} - nt)) ELSE 0.0 END) AS loss_sum
FROM (SELECT ev_rn, SUM(pos) AS nt, SUM(CASE WHEN pos = 1 THEN CAST(above AS DOUBLE) / rnk ELSE 0.0 END) AS ratio,
             MAX(CASE WHEN pos = 1 THEN rnk ELSE 0 END) AS cover, SUM(CASE WHEN pos = 1 THEN rnk - above ELSE 0 END) AS wrong
      FROM (SELECT ev_rn, pos, COUNT(*) OVER {window} AS rnk, SUM(pos) OVER {window} AS above
            FROM ({stacked}) ev_s) ev_w
      GROUP BY ev_rn) ev_r"""


MATRIX_TERMS_MAX = 24  # classes up to which the matrices are one sum per cell in one scan (k × k sums)


def _stacked_labels(k: int, rows_sql: str, column: str, count: str) -> str:
    """(ev_rn, ev_c): one row per (sample, class) where ``column``_c is 1, and (ev_rn, k) for the
    samples where ``count`` is 0 (no label / no prediction)."""
    parts = [f"SELECT ev_rn, {c} AS ev_c FROM ({rows_sql}) ev_a WHERE {column}_{c} = 1" for c in range(k)]
    parts.append(f"SELECT ev_rn, {k} AS ev_c FROM ({rows_sql}) ev_a WHERE {count} = 0")
    return " UNION ALL ".join(parts)


def concept_cells_stacked(k: int, rows_sql: str) -> str:
    """(i, j, n): the non-zero cells of :func:`concept_cells` for many classes, from the labels and
    predictions stacked one per row and joined by sample (labels × predictions per sample, not
    k × k sums per sample)."""
    return (f"SELECT ev_t.ev_c AS i, ev_p.ev_c AS j, COUNT(*) AS n FROM ({_stacked_labels(k, rows_sql, 'y', 'ev_nt')}) "
            f"ev_t JOIN ({_stacked_labels(k, rows_sql, 'p', 'ev_np')}) ev_p ON ev_t.ev_rn = ev_p.ev_rn "
            f"GROUP BY ev_t.ev_c, ev_p.ev_c")


def co_occurrence_stacked(k: int) -> str:
    """(i, j, n), i <= j: the non-zero cells of :func:`co_occurrence_cells` for many classes."""
    labels = " UNION ALL ".join(f"SELECT ev_rn, {c} AS ev_c FROM ev_rows WHERE {truth(c)} = 1" for c in range(k))
    return (f"SELECT a.ev_c AS i, b.ev_c AS j, COUNT(*) AS n FROM ({labels}) a JOIN ({labels}) b "
            f"ON a.ev_rn = b.ev_rn AND a.ev_c <= b.ev_c GROUP BY a.ev_c, b.ev_c")


POOLED_PART_VALUES = 4_000_000  # pooled (sample, class) scores a micro-average window takes at once


def bucket_counts(scores_sql: str, low: float, high: float, buckets: int) -> str:
    """(ev_bucket, n, pos) of ``scores_sql`` (t, pos) in ``buckets`` equal score ranges (:func:`bucket`)."""
    b = bucket("t", low, high, buckets)
    return f"SELECT {b} AS ev_bucket, COUNT(*) AS n, SUM(pos) AS pos FROM ({scores_sql}) ev_s GROUP BY {b}"


def sweep_summary_part(scores_sql: str, low: float, high: float, buckets: int, first: int, last: int,
                       pos_above: int, n_above: int) -> str:
    """:func:`sweep_summary`'s sums over the steps whose score lies in buckets ``first``..``last``
    (:func:`bucket`), given ``pos_above`` positives and ``n_above`` samples scored in the buckets
    above: summed over consecutive parts, the whole sweep's, each part's window holding only its
    own scores (an exact sweep of any size under a memory limit)."""
    b = bucket("t", low, high, buckets)
    steps = f"SELECT t, COUNT(*) AS n, SUM(pos) AS pos FROM ({scores_sql}) ev_s WHERE {b} BETWEEN {int(first)} AND {int(last)} GROUP BY t"
    return f"""
SELECT COUNT(*) AS m, SUM(pos) AS n_pos, SUM(n - pos) AS n_neg, SUM((n - pos) * (2 * tp - pos)) AS auc2,
       SUM(CASE WHEN pos > 0 THEN pos * (CAST(tp AS DOUBLE) / seen) ELSE 0.0 END) AS ap_sum
FROM (SELECT ev_st.*, {int(pos_above)} + SUM(pos) OVER (ORDER BY t DESC {CUMULATIVE}) AS tp,
             {int(n_above)} + SUM(n) OVER (ORDER BY t DESC {CUMULATIVE}) AS seen
      FROM ({steps}) ev_st) ev_c"""


# --- a view of the rows: corrected labels (engines.derived), a set of ids (engines.id_sets) ----------

def corrected_samples(table: str) -> str:
    """(row number, true class, predicted class, corrected class) of the samples whose id is in
    ``table`` (``ev_cid``, ``ev_label``: a class index, -1 for a name that is no class)."""
    return ("SELECT ev_r.ev_rn, ev_r.y_true, ev_r.y_pred, ev_c.ev_label FROM ev_rows ev_r "
            f"JOIN {table} ev_c ON ev_r.ev_id = ev_c.ev_cid")


def corrected_rows(columns, table: str) -> str:
    """``ev_rows`` (its ``columns``) with ``y_true`` replaced by the corrected class of ``table``
    (``ev_frn``: a row number, ``ev_label``: its class) where there is one: joined on the row number,
    so that no scan reads the ids."""
    picked = ", ".join("COALESCE(ev_c.ev_label, ev_r.y_true) AS y_true" if c == "y_true" else f"ev_r.{c}"
                       for c in columns)
    return f"SELECT {picked} FROM ev_rows ev_r LEFT JOIN {table} ev_c ON ev_r.ev_rn = ev_c.ev_frn"


def id_set_rows(table: str) -> str:
    """(row number, position) of the samples whose id is in ``table`` (``ev_sid``, ``ev_pos``)."""
    return f"SELECT ev_rn, ev_pos FROM ev_rows JOIN {table} ON ev_id = ev_sid"


def in_id_set(table: str) -> str:
    """The rows whose number is in ``table`` (``ev_frn``, from :func:`id_set_rows`): a semi-join on
    an integer, so that no scan reads the ids."""
    return f"ev_rn IN (SELECT ev_frn FROM {table})"


def listed_page(columns, table: str, where: str, limit: int, offset: int = 0) -> str:
    """:func:`ranked_page` of the rows whose number is in ``table``, in its order (``ev_pos``)."""
    return (f"SELECT {', '.join(columns)} FROM ev_rows JOIN {table} ON ev_rn = ev_frn WHERE {where} "
            f"ORDER BY ev_pos, ev_rn LIMIT {int(limit)} OFFSET {int(offset)}")
