"""The macro ROC AUC resamples of ``compare`` on an engine from aggregates: the memory path's draws
(:func:`evaldash.bootstrap.paired_resampled_macro_auc_delta`, :func:`~evaldash.bootstrap.resampled_macro_auc`)
with no score column read back above their exact size.

Up to :data:`~evaldash.bootstrap.EXACT_MAX_CELLS` rows × classes averaged, the memory path draws the
rows themselves (``rng.integers``): the same draws need each row's scores in file order, so the
engine reads them (at most 20,000 numbers; :class:`evaldash.engines.compare.EngineSides`). Above,
the memory path's resample is the point value plus the sum over the rows of each row's influence
(:func:`~evaldash.bootstrap.auc_influence`, B's minus A's when paired), the rows grouped by that
value (:func:`~evaldash.bootstrap.resampled_linear`: by distinct value up to ``MAX_AUC_BINS`` of
them, else into quantile bins cut at order statistics). Here each row's influence is computed in
the engine from its class's distinct-score runs, with the very floating-point operations numpy
performs (exact integer counts, then one rounded division, subtraction and division each, the
classes added in order), so the values are bit for bit numpy's and the groups hold the same rows;
the point AUC is the exact integer ratio both paths compute. Only the groups come back: (group,
rows, sum of influence), at most ``MAX_AUC_BINS``. The draws are then identical (same counts, same
seed); a group's mean differs at most in its last bits (a SUM in another order), far below 1e-9.

A quantile bin's rows are found without a sort of every row by position: the memory path's edges
are the values at positions ``(i · n) // bins`` of the sorted influences, and a value ``v`` whose
last sorted position is ``P`` lies above exactly ``min(bins - 1, ceil((P + 1) · bins / n) - 1)``
of those positions; grouping by that count gives the same rows in the same order as grouping by
the number of distinct edges at or below ``v`` (the memory path's ``searchsorted``).
"""

from __future__ import annotations

import numpy as np

from evaldash import bootstrap as bs
from evaldash.engines import sql


def _idiv(dialect: sql.Dialect, a: str, b: str) -> str:
    """Integer division (floor) of non-negative BIGINTs."""
    return f"(({a}) div ({b}))" if dialect.quantile_function == "percentile" else f"(({a}) // ({b}))"


def class_runs(rows_view: str, cls: int) -> str:
    """(t, n, pos, cn, cp) of class ``cls`` on ``rows_view``: per distinct score, its samples, its
    positives, and the negatives and positives at or below it (running sums)."""
    scores = sql.class_scores(cls).replace("FROM ev_rows", f"FROM {rows_view}")
    window = "OVER (ORDER BY t ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
    return (f"SELECT t, n, pos, SUM(n - pos) {window} AS cn, SUM(pos) {window} AS cp "
            f"FROM ({sql._runs(scores)}) ev_r")


def class_point(engine, rows_view: str, cls: int) -> tuple[float, int, int]:
    """(ROC AUC, positives, negatives) of class ``cls``: the exact integer sum of
    ``pos · (2 · negatives below + negatives tied)`` over ``2 · positives · negatives``, rounded once
    (:func:`evaldash.bootstrap.auc_influence` computes the same)."""
    row = engine.row(f"SELECT SUM(pos * (2 * cn - (n - pos))) AS num, SUM(pos) AS n_pos, SUM(n - pos) AS n_neg "
                     f"FROM ({class_runs(rows_view, cls)}) ev_c")
    n_pos, n_neg = int(row["n_pos"]), int(row["n_neg"])
    return int(row["num"]) / (2 * n_pos * n_neg), n_pos, n_neg


def _double(x) -> str:
    return f"CAST({x} AS DOUBLE)"


def influence_runs(engine, rows_view: str, cls: int) -> tuple[float, str]:
    """(class ``cls``'s AUC, SQL of (t, ip, ineg)): a positive's and a negative's influence at each
    distinct score, as :func:`evaldash.bootstrap.auc_influence` computes them."""
    auc, n_pos, n_neg = class_point(engine, rows_view, cls)
    a, np_, nn = sql.number(auc), _double(n_pos), _double(n_neg)
    below = f"(({_double('cn')} - {_double('n - pos')} / {_double(2)}) / {nn})"
    above = f"(({np_} - {_double('cp')} + {_double('pos')} / {_double(2)}) / {np_})"
    return auc, (f"SELECT t, ({below} - {a}) / {np_} AS ip, ({above} - {a}) / {nn} AS ineg "
                 f"FROM ({class_runs(rows_view, cls)}) ev_c")


class SideInfluence:
    """One run's macro ROC AUC (over ``classes``) and, as SQL, each row's influence on it."""

    def __init__(self, engine, rows_view: str, alias: str, classes: list[int], tag: str):
        self.classes, self.alias = list(classes), alias
        total, self.ctes, terms, self._on = 0.0, [], [], []
        for c in self.classes:
            auc, runs = influence_runs(engine, rows_view, c)
            total += auc  # in the memory path's order
            name = f"ev_i{tag}{int(c)}"
            self.ctes.append((name, runs))
            self._on.append(f"JOIN {name} ON {alias}.{sql.score(int(c))} = {name}.t")
            terms.append(f"CASE WHEN {alias}.y_true = {int(c)} THEN {name}.ip ELSE {name}.ineg END")
        self.point = total / len(self.classes)
        summed = terms[0]
        for term in terms[1:]:
            summed = f"({summed} + {term})"
        self.expr = f"({summed} / {_double(len(self.classes))})"

    def joins(self) -> str:
        """The JOINs that give each row its classes' influences (one per class, on its score)."""
        return " ".join(self._on)


def linear_groups(engine, ctes: list[tuple[str, str]], rows_sql: str, n: int,
                  max_bins: int = bs.MAX_AUC_BINS) -> tuple[np.ndarray, np.ndarray]:
    """(rows, sum of the value ``d``) of each group of :func:`evaldash.bootstrap.resampled_linear`
    over the rows of ``rows_sql`` (one column ``d``), groups in increasing order."""
    dialect = engine.dialect
    grouped = _idiv(dialect, f"(ev_w.p + 1) * {int(max_bins)} + {int(n)} - 1", str(int(n)))
    with_ = ", ".join(f"{name} AS ({body})" for name, body in ctes)
    text = (f"WITH {with_}, ev_d AS ({rows_sql}), "
            f"ev_g AS (SELECT d, COUNT(*) AS c, SUM(d) AS s FROM ev_d GROUP BY d), "
            f"ev_w AS (SELECT d, c, s, SUM(c) OVER (ORDER BY d ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) - 1 "
            f"AS p, COUNT(*) OVER () AS m FROM ev_g) "
            f"SELECT CASE WHEN ev_w.m <= {int(max_bins)} THEN ev_w.p "
            f"ELSE LEAST({int(max_bins) - 1}, {grouped} - 1) END AS grp, SUM(ev_w.c) AS c, SUM(ev_w.s) AS s FROM ev_w GROUP BY 1 ORDER BY 1")
    f = engine.frame(text)
    return f["c"].to_numpy(np.int64), f["s"].to_numpy(np.float64)


def linear_draws(counts: np.ndarray, sums: np.ndarray, resamples: int, rng: np.random.Generator) -> np.ndarray:
    """:func:`evaldash.bootstrap.resampled_linear` from its groups' rows and sums, shape (resamples,)."""
    n = int(counts.sum())
    draws = rng.multinomial(n, counts / n, size=resamples)
    return draws @ (sums / counts)


def paired_auc_delta(engine, rows_a: str, rows_b: str, classes_a, classes_b, n: int, resamples: int,
                     seed: int) -> np.ndarray:
    """:func:`evaldash.bootstrap.paired_resampled_macro_auc_delta` above its exact size: A's rows
    ``rows_a`` and B's ``rows_b`` joined on id, in the engine."""
    side_a = SideInfluence(engine, rows_a, "ev_a", classes_a, "a")
    side_b = SideInfluence(engine, rows_b, "ev_b", classes_b, "b")
    rows = (f"SELECT {side_b.expr} - {side_a.expr} AS d FROM {rows_a} ev_a JOIN {rows_b} ev_b "
            f"ON ev_a.ev_id = ev_b.ev_id {side_a.joins()} {side_b.joins()}")
    counts, sums = linear_groups(engine, side_a.ctes + side_b.ctes, rows, n)
    return (side_b.point - side_a.point) + linear_draws(counts, sums, resamples, np.random.default_rng(seed))


def macro_auc_draws(engine, rows_view: str, classes, n: int, resamples: int, seed: int) -> np.ndarray:
    """:func:`evaldash.bootstrap.resampled_macro_auc`'s resamples above its exact size, of the rows
    of ``rows_view``."""
    side = SideInfluence(engine, rows_view, "ev_x", classes, "x")
    counts, sums = linear_groups(engine, side.ctes, f"SELECT {side.expr} AS d FROM {rows_view} ev_x {side.joins()}", n)
    return side.point + linear_draws(counts, sums, resamples, np.random.default_rng(seed))
