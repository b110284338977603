"""Samples named by id on an engine (a tag's samples, an uploaded id list): the ids are registered
in the engine as a small table and joined to the rows on their id once; the rows found (their
numbers and the ids' positions, a second small table) then filter or order every page's query by
the row number, an integer, without reading the ids again.

A gallery restricted to them keeps its order (:func:`within`); the samples themselves come in file
order (:func:`id_rows`) or in the list's order (``ordered``), as the memory path shows them.
"""

from __future__ import annotations

import hashlib
import itertools

import numpy as np
import pandas as pd

from evaldash.engines import sql
from evaldash.engines.rows import RankedRows

_names = itertools.count()


def id_table(evaluation, ids) -> tuple[str, int] | None:
    """(the name of a table of the evaluation's rows whose id is in ``ids``, their count), made
    once: the ids are registered (``ev_sid``; ``ev_pos``: each id's position in ``ids``, its last
    one when it is listed twice) and joined to the rows in one scan; the table holds the rows'
    numbers (``ev_frn``) and the ids' positions (``ev_pos``). None for no id."""
    order = {str(s): n for n, s in enumerate(ids)}
    if not order:
        return None
    digest = hashlib.sha1("\x1f".join(f"{s}\x1e{n}" for s, n in order.items()).encode()).hexdigest()[:16]

    def register(e):
        e.engine.register(f"ev_ids_{digest}", pd.DataFrame({
            "ev_sid": pd.Series(list(order), dtype=object),
            "ev_pos": np.fromiter(order.values(), np.int64, len(order))}))
        f = e.engine.frame(sql.id_set_rows(f"ev_ids_{digest}"))
        if not len(f):  # none of the ids is a row here (Spark cannot register an empty table)
            return None, 0
        name = f"ev_idrn_{digest}_{next(_names)}"  # each view its own: a slice holds fewer of the ids
        e.engine.register(name, pd.DataFrame({"ev_frn": f["ev_rn"].to_numpy(np.int64),
                                              "ev_pos": f["ev_pos"].to_numpy(np.int64)}))
        return name, len(f)
    return evaluation.memo(("id table", digest), register)


def within(evaluation, rows: RankedRows, ids, what: str = "") -> RankedRows:
    """The rows of ``rows`` (a gallery, a cell) whose id is in ``ids``, in ``rows``' order."""
    found = id_table(evaluation, ids)
    if found is None or not found[1]:
        return RankedRows(evaluation, (rows.key, "ids", None), "FALSE", rows.order, count=0, what=what or rows.what,
                          view=rows.view)
    # rows.view: what the gallery's condition reads (a multi-label gallery's: ev_rows with its predictions)
    return RankedRows(evaluation, (rows.key, "ids", found[0]), f"({rows.where}) AND {sql.in_id_set(found[0])}",
                      rows.order, what=what or rows.what, view=rows.view)


def id_rows(evaluation, ids, ordered: bool = False, what: str = "samples") -> RankedRows:
    """The rows whose id is in ``ids``: in file order, or (``ordered``) in the order of ``ids``."""
    found = id_table(evaluation, ids)
    if found is None or not found[1]:
        return RankedRows(evaluation, ("ids", None), "FALSE", "ev_rn", count=0, what=what)
    table, count = found
    if ordered:
        return ListedRows(evaluation, table, count, what)
    return RankedRows(evaluation, ("ids", table), sql.in_id_set(table), "ev_rn", count=count, what=what)


class ListedRows(RankedRows):
    """The rows whose id is in an id table, in the table's order (``ev_pos``): joined to it."""

    def __init__(self, evaluation, table: str, count: int, what: str):
        super().__init__(evaluation, ("listed", table), sql.in_id_set(table), "ev_rn", count=count, what=what)
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
