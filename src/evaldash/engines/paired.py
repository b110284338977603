"""Two runs on one engine as the dashboard's /compare page shows them: the memory path's
comparison (:func:`evaldash.engines.compare.compare_on_engine`, the same draws) and its galleries
(the samples B fixed and broke, those that moved into or out of a confusion cell), each a page of
rows at a time, in the memory path's order.

The two runs are opened each on its own (:func:`evaldash.engines.evaluate_file`); B's file is
defined once more beside A's (:mod:`evaldash.engines.alongside`) so that one query pairs the samples
by a JOIN on id. A gallery's page brings back A's rows (their records kept in A's row cache, as a
single run's gallery) with B's row number of each; B's records of the page are then read in one
query from B's own session.
"""

from __future__ import annotations

import numpy as np

from evaldash import bootstrap as bs
from evaldash.engines.alongside import alongside, rows_view
from evaldash.engines.rows import RankedRows

OUTCOMES = {"fixed": "ev_a.y_true <> ev_a.y_pred AND ev_b.y_true = ev_b.y_pred",
            "broken": "ev_a.y_true = ev_a.y_pred AND ev_b.y_true <> ev_b.y_pred",
            "both_wrong": "ev_a.y_true <> ev_a.y_pred AND ev_b.y_true <> ev_b.y_pred"}
# fixed_broken's order: B's confidence (NaN as 0) highest first, ties in A's row order
B_MOST_CONFIDENT = "CASE WHEN ev_b.conf IS NULL OR isnan(ev_b.conf) THEN 0.0 ELSE ev_b.conf END DESC, ev_a.ev_rn"


class EnginePair:
    """Runs ``a`` and ``b`` (:class:`~evaldash.engines.evaluation.EngineEvaluation`, both on engines
    of one kind) compared: :meth:`compare`, :meth:`fixed_broken`, :meth:`moved` and :attr:`rows_b`
    (B's row of each of A's rows shown so far) replace the memory page's arrays.

    ``tag`` names B's views in A's session (one per pair of files)."""

    def __init__(self, a, b, tag: str):
        from evaldash.engines import evaluate_file

        self.a, self.b, self.tag = a, b, tag
        options = dict(getattr(b.dataset, "read_options", ()))
        # B's views in A's session (validated again there: the same file, the same classes)
        self.b_beside = evaluate_file(alongside(a.engine, tag), b.dataset.source, positive=options.get("positive"),
                                      threshold=options.get("threshold"))
        self.b_rows = rows_view(tag)
        self.rows_b = BRows(self)
        self._sides = None

    def sides(self):
        """:class:`~evaldash.engines.compare.EngineSides` of the pair (the pairing query runs once)."""
        from evaldash.engines.compare import EngineSides

        if self._sides is None:
            self._sides = EngineSides(self.a, self.b, self.b_rows)
        return self._sides

    @property
    def paired(self) -> bool:
        return self.sides().paired

    def compare(self, resamples: int = bs.DEFAULT_RESAMPLES, seed: int = bs.DEFAULT_SEED, level: float = bs.LEVEL,
                progress=None) -> dict:
        """:func:`evaldash.compare.compare` of the two runs; ``progress(text)`` names each step."""
        from evaldash.compare import compare_sides

        say = progress or (lambda text: None)
        say("pairing the samples by id")
        sides = _Steps(self.sides(), say)
        return compare_sides(self.a, self.b, sides, resamples, seed, level)

    def _join(self) -> str:
        return f"ev_rows ev_a JOIN {self.b_rows} ev_b ON ev_a.ev_id = ev_b.ev_id"

    def fixed_broken(self, counts: dict[str, int] | None = None) -> dict[str, "PairRows"] | None:
        """:func:`evaldash.compare.fixed_broken`: the lazy rows of A that B ``fixed``, ``broken`` and
        ``both_wrong`` (B's most confident first, ties in A's order); None unless paired.
        ``counts``: the comparison's counts of each (else counted from the paired cells)."""
        if not self.paired or self.a.dataset.classes != self.b.dataset.classes:
            return None
        counts = counts or self.sides().outcomes()
        return {name: PairRows(self, ("outcome", name), where, B_MOST_CONFIDENT, int(counts[name]), name)
                for name, where in OUTCOMES.items()}

    def moved(self, true: int, pred: int) -> tuple["PairRows", "PairRows"]:
        """The rows of A that moved into cell (``true``, ``pred``) with B and out of it, in A's
        order, each lazy, counted from the paired cells (no query)."""
        k = self.a.dataset.n_classes
        codes, counts = self.sides().pairs
        cell = int(true) * k + int(pred)
        in_a, in_b = codes // (k * k) == cell, codes % (k * k) == cell
        here_a = f"(ev_a.y_true = {int(true)} AND ev_a.y_pred = {int(pred)})"
        here_b = f"(ev_b.y_true = {int(true)} AND ev_b.y_pred = {int(pred)})"
        return (PairRows(self, ("moved in", cell), f"NOT {here_a} AND {here_b}", "ev_a.ev_rn",
                         int(counts[~in_a & in_b].sum()), f"samples moved into cell ({true}, {pred})"),
                PairRows(self, ("moved out", cell), f"{here_a} AND NOT {here_b}", "ev_a.ev_rn",
                         int(counts[in_a & ~in_b].sum()), f"samples moved out of cell ({true}, {pred})"))


class _Steps:
    """:class:`~evaldash.engines.compare.EngineSides` naming each of its long steps first."""

    STEPS = {"class_metrics": "resampling the paired confusion cells", "auc_draws": "macro ROC AUC resamples",
             "ece_draws": "ECE resamples"}

    def __init__(self, sides, say):
        self._sides, self._say = sides, say

    def __getattr__(self, name):
        value = getattr(self._sides, name)
        if name in self.STEPS:
            def step(*args, **kwargs):
                self._say(self.STEPS[name])
                return value(*args, **kwargs)
            return step
        return value


class BRows:
    """B's row number of each of A's rows that a page of :class:`PairRows` brought back
    (``rows_b[row]``, as the memory path's :func:`evaldash.compare.aligned_rows` is indexed)."""

    def __init__(self, pair: EnginePair):
        self._pair, self._rows = pair, {}

    def note(self, rows_a: np.ndarray, rows_b: np.ndarray) -> None:
        self._rows.update(zip(rows_a.tolist(), rows_b.tolist()))

    def __getitem__(self, row) -> int:
        row = int(row)
        found = self._rows.get(row)
        if found is None:  # a row no page brought back (yet): one query
            p = self._pair
            f = p.a.engine.frame(f"SELECT ev_b.ev_rn AS rn FROM {p._join()} WHERE ev_a.ev_rn = {row}")
            if f.empty:
                raise KeyError(f"row {row} of A has no sample of the same id in B")
            found = self._rows[row] = int(f["rn"].iloc[0])
        return found


class PairRows(RankedRows):
    """Rows of A where a condition on both runs' answers holds (SQL over ``ev_a`` and ``ev_b``, the
    pair's JOIN), in an order, read a page at a time; each page also notes B's row of each of its
    rows (:class:`BRows`) and reads B's records of them in one query."""

    def __init__(self, pair: EnginePair, key, where: str, order: str, count: int, what: str):
        self.pair = pair
        super().__init__(pair.a, ("pair", pair.tag) + tuple(key), where, order, count, what)

    def _read(self, start: int, stop: int) -> np.ndarray:
        cache = self._e.dataset.row_cache
        columns = ", ".join(f"ev_a.{c} AS {c}" for c in cache.columns)
        frame = self._e.engine.frame(
            f"SELECT {columns}, ev_b.ev_rn AS ev_rn_of_b FROM {self.pair._join()} WHERE {self.where} "
            f"ORDER BY {self.order} LIMIT {int(stop - start)} OFFSET {int(start)}")
        cache.queries += 1
        rows = cache.store(frame[cache.columns])
        self.pair.rows_b.note(rows, frame["ev_rn_of_b"].to_numpy(np.int64))
        return rows

    def _page(self, start: int, stop: int) -> np.ndarray:
        rows = super()._page(start, stop)
        if rows.size:  # B's records of the page: one query (captions read B's answer and confidence)
            self.pair.b.prefetch([self.pair.rows_b[r] for r in rows.tolist()])
        return rows

    def __array__(self, dtype=None, copy=None):
        from evaldash.engines.rows import _whole

        raise _whole(self._e.dataset, self.what)


def pair_tag(key_b: str) -> str:
    """A view suffix for B's file beside A's (letters and digits only)."""
    import hashlib

    return "p" + hashlib.sha1(key_b.encode()).hexdigest()[:10]

