"""Samples named by id on an engine (a tag's samples, an uploaded id list): the ids are registered
in the engine as a small table and the rows are joined to it on their id, a page at a time.

A gallery restricted to them keeps its order (:func:`within`); the samples themselves come in file
order (:func:`id_rows`) or in the list's order (``ordered``), as the memory path shows them.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from evaldash.engines import sql
from evaldash.engines.rows import RankedRows


def id_table(evaluation, ids) -> str | None:
    """The name of a table of ``ids`` in the evaluation's engine (``ev_sid``; ``ev_pos``: each id's
    position in ``ids``, its last one when it is listed twice), registered once; None for no id."""
    order = {str(s): n for n, s in enumerate(ids)}
    if not order:
        return None
    digest = hashlib.sha1("\x1f".join(f"{s}\x1e{n}" for s, n in order.items()).encode()).hexdigest()[:16]
    name = f"ev_ids_{digest}"

    def register(e):
        e.engine.register(name, pd.DataFrame({"ev_sid": pd.Series(list(order), dtype=object),
                                              "ev_pos": np.fromiter(order.values(), np.int64, len(order))}))
        return name
    return evaluation.memo(("id table", name), register)


def within(evaluation, rows: RankedRows, ids, what: str = "") -> RankedRows:
    """The rows of ``rows`` (a gallery, a cell) whose id is in ``ids``, in ``rows``' order."""
    table = id_table(evaluation, ids)
    where = f"({rows.where}) AND {sql.in_id_set(table)}" if table else "FALSE"
    return RankedRows(evaluation, (rows.key, "ids", table), where, rows.order, count=None if table else 0,
                      what=what or rows.what)


def id_rows(evaluation, ids, ordered: bool = False, what: str = "samples") -> RankedRows:
    """The rows whose id is in ``ids``: in file order, or (``ordered``) in the order of ``ids``."""
    table = id_table(evaluation, ids)
    if table is None:
        return RankedRows(evaluation, ("ids", None), "FALSE", "ev_rn", count=0, what=what)
    if ordered:
        return ListedRows(evaluation, table, what)
    return RankedRows(evaluation, ("ids", table), sql.in_id_set(table), "ev_rn", what=what)


class ListedRows(RankedRows):
    """The rows whose id is in an id table, in the table's order (``ev_pos``): joined to it."""

    def __init__(self, evaluation, table: str, what: str):
        super().__init__(evaluation, ("listed", table), sql.in_id_set(table), "ev_rn", what=what)
        self.table = table

    def _read(self, start: int, stop: int) -> np.ndarray:
        cache = self._e.dataset.row_cache
        return cache.query(sql.listed_page(cache.columns, self.table, "TRUE", stop - start, start))

    def __array__(self, dtype=None, copy=None):
        n = len(self)
        if n <= 0:
            return np.zeros(0, dtype=dtype or np.int64)
        rows = np.asarray(self[0:n])
        return rows.astype(dtype) if dtype is not None else rows
