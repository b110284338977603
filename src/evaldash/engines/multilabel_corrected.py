"""A multi-label file's evaluation with the annotators' corrected label SETS, on its engine:
:func:`evaldash.multilabel_corrections.corrected_evaluation` without reading the rows.

The corrections (sample id → stored set, :func:`~evaldash.multilabel_corrections.parse_label_set`)
are parsed here, registered as a small table of indicators (one 0/1 column per concept) and joined
to the rows on the id once; the corrected rows' numbers and sets, a second small table, replace the
file's ``y_c`` (COALESCE) in a view that every query of the evaluation reads, joined on the row
number (:func:`evaldash.engines.derived.derived`). The predictions do not change.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from evaldash.engines import sql
from evaldash.multilabel_corrections import parse_label_set


def _parsed(corrections: dict[str, str], classes) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(ids, valid of shape (m,), sets of shape (m, k) 0/1): each correction's set, as the memory
    path reads it; not valid: not a set, or naming a concept that is no class of the file."""
    index = {c: i for i, c in enumerate(classes)}
    ids = [str(s) for s in corrections]
    valid = np.zeros(len(ids), dtype=np.int32)
    sets = np.zeros((len(ids), len(classes)), dtype=np.int32)
    for n, value in enumerate(corrections.values()):
        names = parse_label_set(value)
        if names is None or any(name not in index for name in names):
            continue
        valid[n] = 1
        sets[n, [index[name] for name in names]] = 1
    return ids, valid, sets


def corrected_label_sets(base, corrections: dict[str, str]):
    """(the evaluation of ``base`` (an engine multi-label evaluation, or a view of one) whose labels
    are the corrected sets, at the same thresholds; the summary ``corrected`` (samples whose set
    changed), ``unknown`` (corrections of the file's samples that are no set of its classes,
    ignored), ``mistakes_were_label_errors`` ((sample, concept) mistakes the corrected sets make
    right)), as :func:`evaldash.multilabel_corrections.with_corrected_label_sets`."""
    from evaldash.engines.derived import derived

    d = base.dataset
    k = d.n_classes
    info = {"corrected": 0, "unknown": 0, "mistakes_were_label_errors": 0}
    if not corrections:
        return base, info
    ids, valid, sets = _parsed(corrections, d.classes)
    digest = hashlib.sha1(repr((ids, valid.tolist(), sets.tolist())).encode()).hexdigest()[:12]
    fixes = f"ev_mlfix_{digest}"
    table = {"ev_cid": pd.Series(ids, dtype=object), "ev_ok": valid}
    table.update({f"ev_fy_{c}": sets[:, c] for c in range(k)})
    base.engine.register(fixes, pd.DataFrame(table))
    truth, pred = [sql.truth(c) for c in range(k)], [sql.predicted(c) for c in range(k)]
    f = base.engine.frame(
        "SELECT ev_a.ev_rn, ev_c.ev_ok, " + ", ".join(f"ev_a.{c}" for c in truth + pred)
        + ", " + ", ".join(f"ev_c.ev_fy_{c}" for c in range(k))
        + f" FROM ({base._rows_sql}) ev_a JOIN {fixes} ev_c ON ev_a.ev_id = ev_c.ev_cid")
    ok = f["ev_ok"].to_numpy(np.int64) == 1
    old = f[truth].to_numpy(np.int64)[ok]
    predicted = f[pred].to_numpy(np.int64)[ok]
    new = f[[f"ev_fy_{c}" for c in range(k)]].to_numpy(np.int64)[ok]
    info = {"corrected": int(np.sum((new != old).any(axis=1))), "unknown": int(np.sum(~ok)),
            "mistakes_were_label_errors": int(np.sum((old != predicted) & (new == predicted)))}
    if not ok.any():  # no correction is a set of the file's classes: the labels as given
        return base, info
    rows = f"ev_mlfixrn_{digest}"
    fixed = {"ev_frn": f["ev_rn"].to_numpy(np.int64)[ok]}
    fixed.update({f"ev_fy_{c}": new[:, c].astype(np.int32) for c in range(k)})
    base.engine.register(rows, pd.DataFrame(fixed))
    columns = list(base.engine.frame("SELECT * FROM ev_rows LIMIT 0").columns)
    at = {name: c for c, name in enumerate(truth)}
    picked = ", ".join(f"COALESCE(ev_c.ev_fy_{at[c]}, ev_r.{c}) AS {c}" if c in at else f"ev_r.{c}" for c in columns)
    select = f"SELECT {picked} FROM ev_rows ev_r LEFT JOIN {rows} ev_c ON ev_r.ev_rn = ev_c.ev_frn"
    return derived(base, select, f"corrected sets\x1f{digest}", n=d.n), info
