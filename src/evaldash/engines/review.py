"""A review set's progress on an engine (the review queue walks a lazy set of rows): how many of its
samples are marked reviewed, and where the first one not yet reviewed is, without reading the set."""

from __future__ import annotations

from evaldash.engines import sql
from evaldash.engines.rows import BLOCK, RankedRows

IDS_PER_QUERY = 5_000  # ids written into one IN (...) list


def reviewed_count(evaluation, rows: RankedRows, ids) -> int:
    """How many of ``rows`` have an id in ``ids`` (a COUNT in the engine per few thousand ids)."""
    ids = sorted({str(i) for i in ids})
    n = 0
    for start in range(0, len(ids), IDS_PER_QUERY):
        listed = ", ".join(sql.text(i) for i in ids[start:start + IDS_PER_QUERY])
        n += int(evaluation.engine.row(f"SELECT COUNT(*) AS n FROM {rows.view} WHERE ({rows.where}) "
                                       f"AND ev_id IN ({listed})")["n"] or 0)
    return n


def first_not_reviewed(evaluation, rows: RankedRows, ids, done: int) -> int:
    """The position in ``rows`` of the first sample whose id is not in ``ids`` (0 when every one is),
    as the memory path starts its queue; ``done``: :func:`reviewed_count`. Reads pages of the set
    until it finds one: at most ``done`` rows before it."""
    total = len(rows)
    if done == 0 or done >= total:
        return 0
    wanted = {str(i) for i in ids}
    d = evaluation.dataset
    for start in range(0, total, BLOCK):
        for n, r in enumerate(rows[start:start + BLOCK]):
            if str(d.ids[int(r)]) not in wanted:
                return start + n
    return 0
