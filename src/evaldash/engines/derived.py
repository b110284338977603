"""A file's evaluation on a view of its rows, in the same engine: one slice of it, or its rows with
the annotators' corrected labels.

Every aggregation of :mod:`evaldash.engines.sql` reads the view ``ev_rows``. A derived evaluation
defines ``ev_rows_<name>`` over the file's ``ev_rows`` (a WHERE on a metadata column, or a LEFT JOIN
of a small table of corrections whose label replaces the file's) and runs on an engine of the same
session whose queries read ``ev_rows`` as that view: every number, sweep and gallery of the
evaluation is the view's, by the same SQL. Row numbers stay the file's (``ev_rn``): a slice's rows
are not renumbered (that would sort the file in every query), so its galleries name the file's rows.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import re
from dataclasses import replace

import numpy as np
import pandas as pd

from evaldash.engines import sql
from evaldash.engines.base import Serialized
from evaldash.engines.page_connections import pool_of
from evaldash.engines.rewritten import raw_engine, rewritten

_names = itertools.count()
# a quoted string or identifier (left as it is), or the bare view name ev_rows
_ROWS = re.compile(r"'(?:[^']|'')*'|\"(?:[^\"]|\"\")*\"|`(?:[^`]|``)*`|\b(ev_rows)\b")


def reading(text: str, view: str) -> str:
    """``text`` (SQL) with each bare ``ev_rows`` read as ``view``."""
    return _ROWS.sub(lambda m: view if m.group(1) else m.group(0), text)


def view_engine(engine, view: str):
    """An engine on ``engine``'s session (one lock with it) whose queries read ``ev_rows`` as ``view``."""
    out = rewritten(engine, functools.partial(reading, view=view))
    if out.name == "duckdb":
        # one list of definitions for the file and its views: a worker (the cell table's sort)
        # replays them all, in order, then reads ev_rows as this view
        out.__dict__["_definitions"] = raw_engine(engine).__dict__.setdefault("_definitions", [])
        # and one pool of page connections with those definitions replayed (engines.page_connections)
        out.__dict__["_page_pool"] = pool_of(raw_engine(engine))
    return Serialized(out)


def derived(base, select_sql: str, key: str, n: int | None = None):
    """The evaluation of ``select_sql`` (over the base's ``ev_rows``, its columns) in place of the
    base's rows; ``n``: its row count (default: counted). Its findings stay the base file's."""
    from evaldash.engines.evaluation import EngineEvaluation

    d = base.dataset
    view = f"ev_rows_{hashlib.sha1(key.encode()).hexdigest()[:10]}_{next(_names)}"
    base.engine.execute(f"CREATE OR REPLACE TEMP VIEW {view} AS {select_sql}")
    engine = view_engine(base.engine, view)
    if n is None:
        n = int(engine.row("SELECT COUNT(*) AS n FROM ev_rows")["n"] or 0)
    dataset = replace(d, engine=engine, n=int(n), rows_in_file=d.rows_in_file or d.n)
    if base.task == "multilabel":  # at the file's per-concept thresholds, as the memory path's slice
        from evaldash.engines.multilabel_evaluation import EngineMultilabelEvaluation

        out = EngineMultilabelEvaluation(dataset, base.thresholds)
    else:
        out = EngineEvaluation(dataset, base.threshold)
    fp = base.memo("fingerprint", lambda e: e.dataset.fingerprint())
    out.memo("fingerprint", lambda e: fp)  # annotations are keyed by the whole file, as in memory
    return out


def slice_evaluation(base, column: str, value: str):
    """The evaluation of the rows of slice ``value`` of ``column``
    (:func:`evaldash.slices.slice_rows`), or None when the slice holds no row."""
    from evaldash.engines.slices import slice_expression

    expr = slice_expression(base, column)
    out = derived(base, f"SELECT * FROM ev_rows WHERE ({expr}) = {sql.text(value)}", f"slice\x1f{column}\x1f{value}")
    return out if out.dataset.n else None


def corrected_evaluation(base, corrections: dict[str, str]):
    """:func:`evaldash.evaluation.with_corrected_labels` on the engine: (the evaluation whose true
    class is COALESCE(correction, label), the summary ``corrected``, ``unknown``,
    ``mistakes_were_label_errors``). The corrections (sample id → class name) are registered as a
    small table and joined on the id once; the corrected rows' numbers and classes, a second small
    table, are LEFT JOINed on the row number by every query of the evaluation."""
    if base.task == "multilabel":  # corrected label SETS
        from evaldash.engines.multilabel_corrected import corrected_label_sets

        return corrected_label_sets(base, corrections)
    d = base.dataset
    none = {"corrected": 0, "unknown": 0, "mistakes_were_label_errors": 0}
    if not corrections:
        return base, none
    index = {c: i for i, c in enumerate(d.classes)}
    ids = [str(k) for k in corrections]
    labels = np.array([index.get(str(v), -1) for v in corrections.values()], dtype=np.int32)
    digest = hashlib.sha1(repr(sorted(zip(ids, labels.tolist()))).encode()).hexdigest()[:12]
    base.engine.register(f"ev_fix_{digest}", pd.DataFrame({"ev_cid": pd.Series(ids, dtype=object), "ev_label": labels}))
    f = base.engine.frame(sql.corrected_samples(f"ev_fix_{digest}"))
    label, true, pred = (f[c].to_numpy(np.int64) for c in ("ev_label", "y_true", "y_pred"))
    known = label >= 0
    info = {"corrected": int(np.sum(known & (label != true))), "unknown": int(np.sum(~known)),
            "mistakes_were_label_errors": int(np.sum(known & (true != pred) & (label == pred)))}
    if not known.any():  # no correction names a class of the file: the labels as given
        return base, info
    base.engine.register(f"ev_fixrn_{digest}", pd.DataFrame({"ev_frn": f["ev_rn"].to_numpy(np.int64)[known],
                                                             "ev_label": label[known].astype(np.int32)}))
    columns = list(base.engine.frame("SELECT * FROM ev_rows LIMIT 0").columns)
    out = derived(base, sql.corrected_rows(columns, f"ev_fixrn_{digest}"), f"corrected\x1f{digest}", n=d.n)
    return out, info
