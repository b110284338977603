"""The slice table of :mod:`evaldash.slices`, from GROUP BY slice in the engine.

The slice of a row is written in SQL as the memory path writes it (a value's text, or for a
numeric column with many values its quantile bin, the bins cut at the engine's exact linear
quantiles of the finite values and named by pandas). Per slice the engine returns the confusion
cells and, per class, the exact sweep's ROC AUC; accuracy and macro F1 and their bootstrap
intervals follow from the cells as in memory. The macro ROC AUC's interval resamples rows, so it
is NaN here, and said so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from evaldash import bootstrap as bs
from evaldash import slices as memory_slices
from evaldash.engines import sql
from evaldash.engines.table import metadata_ref
from evaldash.errors import InputError
from evaldash.metadata import MISSING

NOT_ON_ENGINE = ("macro_roc_auc_low", "macro_roc_auc_high")  # NaN on the engines: they resample rows
EXACT_INTERVAL_ROWS = 5_000_000  # a slice's accuracy/F1 intervals draw from an array of its rows' cells


def slice_expression(evaluation, column: str) -> str:
    """The SQL text of each row's slice of ``column`` (as :func:`evaldash.slices.slice_labels`)."""
    d = evaluation.dataset
    engine = evaluation.engine
    if column not in d.metadata_columns:
        raise InputError(f"{d.source}: no metadata column {column!r}; columns are {list(d.metadata_columns)}")
    kinds = dict(d.column_kinds)
    q = engine.dialect.ident(column)
    ref = metadata_ref(d.metadata_columns.index(column))  # the column in ev_rows
    if kinds[column] in ("integer", "float"):
        x, xr = f"CAST({q} AS DOUBLE)", f"CAST({ref} AS DOUBLE)"
        finite = f"(NOT isnan({x}) AND ABS({x}) <= CAST('1.7976931348623157e308' AS DOUBLE))"
        distinct = engine.row(f"SELECT COUNT(DISTINCT {x}) AS n FROM ev_source WHERE {q} IS NOT NULL AND NOT isnan({x})")
        if int(distinct["n"]) > memory_slices.MAX_VALUES:
            qs = [i / memory_slices.QUANTILE_BINS for i in range(memory_slices.QUANTILE_BINS + 1)]
            row = engine.row("SELECT " + ", ".join(f"{engine.dialect.quantile(x, p)} AS q{i}" for i, p in enumerate(qs))
                             + f" FROM ev_source WHERE {q} IS NOT NULL AND {finite}")
            edges = [row[f"q{i}"] for i in range(len(qs))]
            if edges[0] is None:
                bins = "NULL"
            else:
                cut = pd.cut(np.array(edges, dtype=float), bins=np.array(edges, dtype=float), include_lowest=True,
                             precision=3, duplicates="drop")
                names = memory_slices.bin_names(cut.categories)
                right = np.unique(np.array(edges, dtype=float))[1:].tolist()  # the bins' upper edges, as cut
                bins = "CASE " + " ".join(f"WHEN {xr} <= {sql.number(r)} THEN {sql.text(n)}"
                                          for r, n in zip(right, names)) + " END"
            return (f"CASE WHEN {ref} IS NULL OR isnan({xr}) THEN {sql.text(MISSING)} "
                    f"WHEN {xr} > CAST('1.7976931348623157e308' AS DOUBLE) THEN 'inf' "
                    f"WHEN {xr} < CAST('-1.7976931348623157e308' AS DOUBLE) THEN '-inf' ELSE {bins} END")
    if kinds[column] == "string":
        return f"CASE WHEN {ref} IS NULL THEN {sql.text(MISSING)} ELSE {ref} END"
    return _python_text(evaluation, column, ref)


def _python_text(evaluation, column: str, ref: str) -> str:
    """A column of few values whose text pandas writes (floats, booleans, dates): its distinct
    values come back and are written by :func:`evaldash.metadata.value_text`, then mapped in SQL."""
    engine = evaluation.engine
    q = engine.dialect.ident(column)
    raw = engine.frame(f"SELECT DISTINCT {q} AS v FROM ev_source")["v"]
    from evaldash.metadata import value_text

    names = value_text(raw.reset_index(drop=True))
    whens = []
    for value, name in zip(raw, names):
        if pd.isna(value):
            continue
        literal = "TRUE" if value is True else "FALSE" if value is False else \
            sql.number(value) if isinstance(value, (float, np.floating)) else \
            str(int(value)) if isinstance(value, (int, np.integer)) else sql.text(str(value))
        whens.append(f"WHEN {ref} = {literal} THEN {sql.text(name)}")
    return f"CASE {' '.join(whens)} ELSE {sql.text(MISSING)} END"


def slice_table(evaluation, column: str, resamples: int = bs.DEFAULT_RESAMPLES,
                seed: int = bs.DEFAULT_SEED) -> pd.DataFrame:
    """:func:`evaldash.slices.slice_table` on the engine (macro ROC AUC intervals NaN: see the module)."""
    d = evaluation.dataset
    k = d.n_classes
    expr = slice_expression(evaluation, column)
    cells = evaluation.engine.frame(sql.slice_cells(expr))
    aucs = _slice_aucs(evaluation, expr) if d.has_scores else {}
    rows = []
    for n_slice, value in enumerate(sorted(cells["ev_slice"].unique(), key=str)):
        part = cells[cells["ev_slice"] == value]
        true, pred, count = (part[c].to_numpy(np.int64) for c in ("y_true", "y_pred", "n"))
        present, codes = np.unique(np.concatenate([true, pred]), return_inverse=True)
        kp = present.size
        y, p = codes[:true.size], codes[true.size:]
        matrix = np.zeros((1, kp, kp), dtype=np.int64)
        np.add.at(matrix, (0, y, p), count)
        point = bs.confusion_metrics(matrix)
        n = int(count.sum())
        if n <= EXACT_INTERVAL_ROWS:
            stats = bs.resampled_metrics(np.repeat(bs.cell_codes(y, p, kp), count), kp, resamples, seed + n_slice)
            acc_iv, f1_iv = bs.percentile_interval(stats["accuracy"]), bs.percentile_interval(stats["macro_f1"])
        else:
            acc_iv = f1_iv = [float("nan")] * 2
        support = np.bincount(true, weights=count, minlength=k)
        averaged = [c for c in range(k) if 0 < support[c] < n]
        if d.is_binary:
            averaged = [d.positive] if d.positive in averaged else []
        auc = float(np.mean([aucs[(value, c)] for c in averaged])) if averaged and d.has_scores else float("nan")
        rows.append({"slice": value, "n": n, "accuracy": float(point["accuracy"][0]),
                     "accuracy_low": float(acc_iv[0]), "accuracy_high": float(acc_iv[1]),
                     "macro_f1": float(point["macro_f1"][0]), "macro_f1_low": float(f1_iv[0]),
                     "macro_f1_high": float(f1_iv[1]), "macro_roc_auc": auc,
                     "macro_roc_auc_low": float("nan"), "macro_roc_auc_high": float("nan"),
                     "reliable": bool(n >= memory_slices.MIN_RELIABLE)})
    table = pd.DataFrame(rows)
    return table.sort_values(["macro_f1", "slice"], kind="stable").reset_index(drop=True)


def _slice_aucs(evaluation, expr: str) -> dict[tuple[str, int], float]:
    """ROC AUC of each (slice, class) from the exact sweep within the slice."""
    k = evaluation.dataset.n_classes
    scores = " UNION ALL ".join(
        f"SELECT {expr} AS ev_slice, {c} AS cls, {sql.score(c)} AS t, CASE WHEN y_true = {c} THEN 1 ELSE 0 END AS pos "
        f"FROM ev_rows" for c in range(k))
    f = evaluation.engine.frame(sql.grouped_sweep_summary(scores, ["ev_slice", "cls"]))
    out = {}
    for row in f.itertuples(index=False):
        n_pos, n_neg = int(row.n_pos), int(row.n_neg)
        out[(row.ev_slice, int(row.cls))] = (float(int(row.auc2)) / 2.0 / (n_pos * n_neg)
                                             if n_pos and n_neg else float("nan"))
    return out
