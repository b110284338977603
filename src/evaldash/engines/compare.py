"""``compare`` on an engine: the memory path's numbers (:func:`evaldash.compare.compare`, the same
draws) from aggregates, with the second file alongside the first in one session
(:mod:`evaldash.engines.alongside`) so that samples are paired by a JOIN on id.

What comes back from the engine:

- pairing and the confusion draws: one JOIN on id, grouped by (cell of A, cell of B): the paired
  cells and their counts (whether the two files hold the same ids is whether the JOIN matches every
  row of both). Unpaired: each file's cells, already counted. Fixed / broken / both wrong are sums
  of those pairs.
- ECE: up to :data:`~evaldash.bootstrap.EXACT_MAX_CELLS` rows the resamples draw rows, so the
  confidence and correctness columns are read (at most that many rows); above, the groups of
  (bin, difference rounded to 1/64) are counted in SQL, jointly for A and B when paired, with their
  sums of ``correct - confidence``.
- macro ROC AUC: up to :data:`~evaldash.bootstrap.EXACT_MAX_CELLS` rows × classes averaged the
  resamples draw rows, so the score and label columns are read (B's in A's row order, by the
  JOIN; at most that many numbers); above, each row's influence is computed in the engine, bit
  for bit numpy's, and only its groups come back (:mod:`evaldash.engines.auc_delta`).
"""

from __future__ import annotations

import numpy as np

from evaldash import bootstrap as bs
from evaldash.engines import sql
from evaldash.engines.alongside import alongside, rows_view

B_TAG = "b"


def evaluate_pair(name: str, args, path_a: str, path_b: str):
    """The engine evaluations of ``path_a`` and ``path_b`` on engine ``name``, B's views beside A's."""
    from evaldash.engines.multilabel_evaluation import evaluate_path
    from evaldash.engines.options import evaluate_on

    a = evaluate_on(name, args, path_a)
    b = evaluate_path(alongside(a.engine, B_TAG), path_b, task=getattr(args, "task", None),
                      label_sep=getattr(args, "label_sep", "|"), positive=getattr(args, "positive", None))
    return a, b


def compare_on_engine(a, b, resamples: int = bs.DEFAULT_RESAMPLES, seed: int = bs.DEFAULT_SEED,
                      level: float = bs.LEVEL) -> dict:
    """:func:`evaldash.compare.compare` of two engine evaluations built by :func:`evaluate_pair`."""
    from evaldash.compare import compare_sides

    return compare_sides(a, b, EngineSides(a, b), resamples, seed, level)


def _join(b_rows: str) -> str:
    return f"ev_rows ev_a JOIN {b_rows} ev_b ON ev_a.ev_id = ev_b.ev_id"


def ece_group_sql(dialect: sql.Dialect, alias: str) -> tuple[str, str]:
    """(group, correct - confidence) of each row of ``alias`` as :func:`evaldash.bootstrap._ece_groups`
    computes them: the bin of :func:`~evaldash.bootstrap.ece_bins` times 2·64+1 plus the difference
    in steps of 1/64, rounded half to even (``np.rint``)."""
    n_bins, step = bs.ECE_BINS, bs.ECE_STEP
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    conf = f"{alias}.conf"

    def edge(index: str) -> str:
        return f"CASE {index} " + " ".join(f"WHEN {i} THEN {sql.number(e)}" for i, e in enumerate(edges)) + " END"

    b0 = f"LEAST(GREATEST(CAST(CEIL({conf} * {n_bins}) AS BIGINT) - 1, 0), {n_bins - 1})"
    b1 = f"({b0} - CASE WHEN {b0} > 0 AND {conf} <= {edge(b0)} THEN 1 ELSE 0 END)"
    bin_ = f"({b1} + CASE WHEN {b1} < {n_bins - 1} AND {conf} > {edge(b1 + ' + 1')} THEN 1 ELSE 0 END)"
    gap = f"((CASE WHEN {alias}.y_true = {alias}.y_pred THEN 1.0 ELSE 0.0 END) - {conf})"
    rint = "bround" if dialect.quantile_function == "percentile" else "round_even"
    group = f"({bin_} * {2 * step + 1} + CAST({rint}({gap} * {step}, 0) AS BIGINT) + {step})"
    return group, gap


class EngineSides:
    """What :func:`evaldash.compare.compare_sides` draws from, as aggregates of two engine
    evaluations (B's rows visible in A's session as ``b_rows``)."""

    def __init__(self, a, b, b_rows: str = rows_view(B_TAG)):
        self.a, self.b, self.b_rows = a, b, b_rows
        self.engine = a.engine
        self.k = a.dataset.n_classes
        self.pairs = None
        if a.dataset.classes == b.dataset.classes and a.dataset.n == b.dataset.n:
            k = self.k
            f = self.engine.frame(
                f"SELECT ev_a.y_true * {k} + ev_a.y_pred AS ca, ev_b.y_true * {k} + ev_b.y_pred AS cb, COUNT(*) AS n "
                f"FROM {_join(b_rows)} GROUP BY ev_a.y_true, ev_a.y_pred, ev_b.y_true, ev_b.y_pred")
            if int(f["n"].sum()) == a.dataset.n:  # ids are unique in each file: every row matched
                codes = f["ca"].to_numpy(np.int64) * (k * k) + f["cb"].to_numpy(np.int64)
                order = np.argsort(codes)
                self.pairs = (codes[order], f["n"].to_numpy(np.int64)[order])
        self.paired = self.pairs is not None

    def class_metrics(self, resamples: int, seed: int) -> tuple[dict, dict]:
        if self.paired:
            ca, cb = bs.paired_class_counts_of_pairs(*self.pairs, self.k, resamples, seed)
            return bs.class_count_metrics(**ca), bs.class_count_metrics(**cb)
        out = []
        for e, s in ((self.a, seed), (self.b, seed + 1)):
            c, k = e.counts, e.dataset.n_classes
            counts = bs.class_counts_of_cells(c.true * k + c.pred, c.count, k, resamples, s)
            out.append(bs.class_count_metrics(**counts))
        return out[0], out[1]

    def outcomes(self) -> dict[str, int]:
        kk = self.k * self.k
        codes, counts = self.pairs
        cell_a, cell_b = codes // kk, codes % kk
        right_a = cell_a // self.k == cell_a % self.k
        right_b = cell_b // self.k == cell_b % self.k
        return {"fixed": int(counts[~right_a & right_b].sum()), "broken": int(counts[right_a & ~right_b].sum()),
                "both_wrong": int(counts[~right_a & ~right_b].sum())}

    def auc_classes(self, side: str) -> list[int] | str:
        e = self.a if side == "a" else self.b
        d = e.dataset
        if not d.has_scores:
            return "has no scores"
        support = np.bincount(e.counts.true, weights=e.counts.count, minlength=d.n_classes)
        defined = [c for c in range(d.n_classes) if 0 < support[c] < d.n]
        if d.is_binary:
            defined = [d.positive] if d.positive in defined else []
        return defined or "has no class with both positives and negatives"

    def _columns(self, columns: list[str], side: str):
        """Columns of A in file order, or of B: paired, in A's row order (by id); else its own."""
        names = ", ".join(f"ev_x.{c} AS {c}" for c in columns)
        if side == "a":
            return self.engine.frame(f"SELECT {names} FROM ev_rows ev_x ORDER BY ev_x.ev_rn")
        if self.paired:
            return self.engine.frame(f"SELECT {names.replace('ev_x.', 'ev_b.')} FROM {_join(self.b_rows)} "
                                     f"ORDER BY ev_a.ev_rn")
        return self.engine.frame(f"SELECT {names} FROM {self.b_rows} ev_x ORDER BY ev_x.ev_rn")

    def _auc_input(self, side: str):
        e = self.a if side == "a" else self.b
        k = e.dataset.n_classes
        f = self._columns(["y_true"] + [sql.score(c) for c in range(k)], side)
        return (f[[sql.score(c) for c in range(k)]].to_numpy(np.float64), f["y_true"].to_numpy(np.int64),
                self.auc_classes(side))

    def auc_draws(self, resamples: int, seed: int) -> np.ndarray:
        from evaldash.engines import auc_delta

        ca, cb = self.auc_classes("a"), self.auc_classes("b")
        if self.paired:
            n = self.a.dataset.n
            if not bs._exact(n * (len(ca) + len(cb)), None):  # the rows' influences grouped in the engine
                return auc_delta.paired_auc_delta(self.engine, "ev_rows", self.b_rows, ca, cb, n, resamples, seed)
            return bs.paired_resampled_macro_auc_delta(self._auc_input("a"), self._auc_input("b"), resamples, seed)
        out = []
        for side, classes, view, s in (("a", ca, "ev_rows", seed), ("b", cb, self.b_rows, seed + 1)):
            n = (self.a if side == "a" else self.b).dataset.n
            if bs._exact(n * len(classes), None):
                out.append(bs.resampled_macro_auc(*self._auc_input(side), resamples, s)[1])
            else:
                out.append(auc_delta.macro_auc_draws(self.engine, view, classes, n, resamples, s))
        return out[1] - out[0]

    def _ece_rows(self, side: str) -> tuple[np.ndarray, np.ndarray]:
        f = self._columns(["conf", "y_true", "y_pred"], side)
        return f["conf"].to_numpy(np.float64), f["y_true"].to_numpy() == f["y_pred"].to_numpy()

    def _ece_groups(self, sides: str) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
        """(joint group, count, sums of correct - confidence per side) of ``sides`` ("a", "b" or "ab")."""
        dialect = self.engine.dialect
        width = bs.ECE_BINS * (2 * bs.ECE_STEP + 1)
        if sides == "ab":
            (ga, da), (gb, db) = ece_group_sql(dialect, "ev_a"), ece_group_sql(dialect, "ev_b")
            inner = f"SELECT {ga} * {width} + {gb} AS g, {da} AS da, {db} AS db FROM {_join(self.b_rows)}"
            sums = "SUM(da) AS da, SUM(db) AS db"
        else:
            g, d = ece_group_sql(dialect, "ev_x")
            inner = f"SELECT {g} AS g, {d} AS da FROM {'ev_rows' if sides == 'a' else self.b_rows} ev_x"
            sums = "SUM(da) AS da"
        f = self.engine.frame(f"SELECT g, COUNT(*) AS n, {sums} FROM ({inner}) ev_g GROUP BY g ORDER BY g")
        return (f["g"].to_numpy(np.int64), f["n"].to_numpy(np.int64),
                [f[c].to_numpy(np.float64) for c in ("da", "db") if c in f])

    def ece_draws(self, resamples: int, seed: int) -> np.ndarray:
        if self.paired:
            if bs._exact(self.a.dataset.n, None):
                da, db = bs.paired_resampled_ece(self._ece_rows("a"), self._ece_rows("b"), resamples, seed)
            else:
                da, db = bs.ece_of_groups(*self._ece_groups("ab"), resamples, np.random.default_rng(seed))
            return db - da
        out = []
        for side, s in (("a", seed), ("b", seed + 1)):
            e = self.a if side == "a" else self.b
            if bs._exact(e.dataset.n, None):
                out.append(bs.resampled_ece(*self._ece_rows(side), resamples, s))
            else:
                out.append(bs.ece_of_groups(*self._ece_groups(side), resamples, np.random.default_rng(s))[0])
        return out[1] - out[0]
