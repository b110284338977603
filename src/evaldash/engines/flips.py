"""The samples that flip when a class's threshold moves (:func:`evaldash.decision.flips`), on an
engine: the two sets between the thresholds, counted and ranked there, a page at a time."""

from __future__ import annotations

import numpy as np

from evaldash import decision as dc
from evaldash.engines import sql
from evaldash.engines.rows import RankedRows


def engine_flips(evaluation, cls: int, a: float, b: float) -> dc.Flips:
    """:func:`evaldash.decision.flips` of class ``cls`` from ``a`` to ``b``: each set lazy (``len()``
    one COUNT, a page one query), highest score first, ties in file order, as the memory path
    shows them."""
    dc.flips(np.zeros(0), np.zeros(0, dtype=bool), a, b)  # the same refusals of a threshold that is no number
    lo, hi = min(a, b), max(a, b)
    score = sql.score(int(cls))
    between = f"{score} >= {sql.number(lo)} AND {score} < {sql.number(hi)}"

    def rows(positive: bool) -> RankedRows:
        is_class = evaluation._positive(int(cls))  # of class cls (single-label), labelled cls (multi-label)
        where = f"{between} AND {'' if positive else 'NOT '}({is_class})"
        return RankedRows(evaluation, ("flips", int(cls), lo, hi, positive), where, f"{score} DESC, ev_rn",
                          what=f"samples between {lo:g} and {hi:g}")

    none = np.zeros(0, dtype=np.int64)
    if b < a:  # lowering: the samples in between become flagged
        return dc.Flips(float(a), float(b), new_tp=rows(True), new_fp=rows(False), new_fn=none, new_tn=none)
    return dc.Flips(float(a), float(b), new_tp=none, new_fp=none, new_fn=rows(True), new_tn=rows(False))
