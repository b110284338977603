"""Validate a multi-label (concept) predictions file inside an engine, at the edge, into a
:class:`MultilabelEngineDataset`.

The rules and messages are those of :mod:`evaldash.multilabel_data` (the memory path), checked in
SQL: only counts, the first offending row numbers and the distinct label-set values (or list
items) come back. The dataset then defines the view ``ev_rows`` that the multi-label
aggregations of :mod:`evaldash.engines.sql` read: ``ev_rn``, ``ev_id``, one 0/1 column ``y_c`` per
class (labelled c), ``g_c`` (the file predicts c) when the file gives its predictions, ``s_c``
(DOUBLE) per class with scores, and the metadata columns.

The label sets become indicator columns in the engine:

* a list column (Parquet): its distinct items come back (``UNNEST`` / ``explode``), each is
  named as the memory path names it (stripped, NFC, whole numbers as text), and ``y_c`` is
  ``list_contains`` (``array_contains``) of any spelling of class c;
* a text column (CSV: JSON arrays or names joined by ``--label-sep``): its distinct cells come
  back, are parsed by the memory path's rules, and join back as a small table of indicators;
* ``label_<class>`` columns: 0/1 or true/false, checked and read in place.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evaldash import dataset as ds
from evaldash import multilabel_data as mld
from evaldash.engines import sql
from evaldash.engines.base import Engine, source_files
from evaldash.engines.rows import RowAccess, RowColumn, _whole
from evaldash.engines.table import MAX_SHOWN, _check_ids, _Checker, _literal, metadata_ref, rows_text
from evaldash.errors import InputError
from evaldash.named_classes import NamedClasses


@dataclass(frozen=True, eq=False)
class MultilabelEngineDataset(RowAccess, NamedClasses):
    """A validated multi-label file that stays in its engine: the scalars of
    :class:`evaldash.multilabel_data.MultilabelDataset` (same names and meaning); its per-sample
    columns (``ids``, ``y_true`` of shape (n, k), ``scores``, ``metadata``, ``image_paths``) are
    read a row or a page at a time (:class:`~evaldash.engines.rows.RowAccess`)."""

    source: str
    classes: tuple[str, ...]
    n: int
    engine: Engine = field(repr=False)
    has_scores: bool = False
    prediction_given: bool = False
    is_probability: bool = False
    probability_reason: str = ""
    warnings: tuple[str, ...] = ()
    metadata_columns: tuple[str, ...] = ()
    id_column: str | None = None
    image_column: str | None = None
    images_root: str | None = None  # with an image column: the folder images must lie in
    read_options: tuple = ()  # how the file was read (part of the annotations' fingerprint)
    column_kinds: tuple[tuple[str, str], ...] = ()  # (column, kind) of the file's columns
    rows_in_file: int | None = None  # a view of some rows (a slice): the file's, whose numbers its rows keep

    task = "multilabel"
    positive = None
    is_binary = False

    def record_columns(self) -> list[str]:
        """A row's record in ``ev_rows``: row number, id, labels, given predictions, scores, metadata, image."""
        k = self.n_classes
        return (["ev_rn", "ev_id"] + [sql.truth(c) for c in range(k)]
                + ([f"g_{c}" for c in range(k)] if self.prediction_given else [])
                + ([sql.score(c) for c in range(k)] if self.has_scores else [])
                + [metadata_ref(i) for i in range(len(self.metadata_columns))]
                + (["ev_image"] if self.image_column is not None else []))

    @property
    def y_true(self) -> RowColumn:
        """Each sample's labels, shape (n, k), bool; read a row or a page at a time."""
        k = self.n_classes
        return RowColumn(self, "y_true", "y_true", lambda r: np.array(r[2:2 + k], dtype=np.int64) == 1, bool, k)

    def predicted(self, thresholds) -> RowColumn:
        """Each sample's predicted labels, shape (n, k), bool: the file's own, else score >= ``thresholds``."""
        k = self.n_classes
        if self.prediction_given:
            return RowColumn(self, "y_pred", "y_pred", lambda r: np.array(r[2 + k:2 + 2 * k], dtype=np.int64) == 1,
                             bool, k)
        first, t = self._at(sql.score(0)), np.asarray(thresholds, dtype=np.float64)
        return RowColumn(self, "y_pred", "y_pred", lambda r: np.array(r[first:first + k], dtype=np.float64) >= t,
                         bool, k)

    @property
    def y_pred(self):
        raise _whole(self, "y_pred (the predictions depend on the thresholds: evaluation.y_pred)")

    def confidence_column(self):
        raise _whole(self, "the confidence (a multi-label file scores each concept on its own)")



def source_columns(path: str) -> list[str]:
    """The column names of the file(s) at ``path`` without an engine: the first file's Parquet
    schema or CSV header (what the task is decided from)."""
    kind, files = source_files(path)
    if kind == "parquet":
        import pyarrow.parquet as pq

        try:
            return list(pq.read_schema(files[0]).names)
        except Exception:  # noqa: BLE001 - the engine says why the file is not Parquet
            return []
    from evaldash.io import read_header

    return read_header(files[0])


# --- the two forms of a label set, as SQL ---------------------------------------------------

@dataclass
class _Form:
    """Label sets read in the engine: ``names`` (sorted class names that occur, or every
    indicator's class), ``column`` (as the memory path names the form in messages)."""

    names: list[str]
    column: str

    def indicator(self, name: str) -> str:
        """0/1: the sample's set holds class ``name`` (a name of ``names``, or any class)."""
        raise NotImplementedError

    def holding(self, names) -> str:
        """SQL condition on ``ev_source``: the set holds one of ``names``."""
        return " OR ".join(f"{self.indicator(n)} = 1" for n in names)

    def joins(self, engine: Engine, classes, tag: str) -> str:
        return ""


class _ListForm(_Form):
    def __init__(self, names, column, spellings, ref, dialect):
        super().__init__(names, column)
        self.spellings, self.ref, self.dialect = spellings, ref, dialect

    def indicator(self, name: str) -> str:
        raws = self.spellings.get(name)
        if not raws:
            return "0"
        held = " OR ".join(sql.list_holds(self.dialect, self.ref, _literal(r)) for r in raws)
        return f"CASE WHEN {held} THEN 1 ELSE 0 END"


class _TextForm(_Form):
    """Distinct cells parsed in Python, joined back as a table of indicators."""

    def __init__(self, names, column, parsed, ref):
        super().__init__(names, column)
        self.parsed, self.ref = parsed, ref  # raw cell -> class names
        self.tag = None

    def indicator(self, name: str) -> str:
        if self.tag is None:  # before the join exists: the cells holding the name
            raws = [r for r, names in self.parsed.items() if name in names]
            return f"CASE WHEN {self.ref} IN ({', '.join(_literal(r) for r in raws)}) THEN 1 ELSE 0 END" if raws else "0"
        return f"COALESCE(ev_{self.tag}_{self.index[name]}, 0)"

    def joins(self, engine: Engine, classes, tag: str) -> str:
        self.index = {c: i for i, c in enumerate(classes)}
        raws = list(self.parsed)
        table = {f"ev_raw_{tag}": pd.Series(raws, dtype=object)}
        for c, name in enumerate(classes):
            table[f"ev_{tag}_{c}"] = np.array([name in self.parsed[r] for r in raws], dtype=np.int8)
        engine.register(f"ev_map_{tag}", pd.DataFrame(table))
        self.tag = tag
        return f" LEFT JOIN ev_map_{tag} ON {self.ref} = ev_raw_{tag}"


class _IndicatorForm(_Form):
    def __init__(self, names, columns, on):
        super().__init__(names, "label_<class>")
        self.on = on  # class name -> 0/1 expression

    def indicator(self, name: str) -> str:
        return self.on.get(name, "0")


def _label_set_form(check: _Checker, column: str, sep: str) -> _Form:
    """Read the label-set ``column`` as the memory path does (:func:`multilabel_data._label_set_column`)."""
    engine, source, kind = check.engine, check.source, check.kinds[column]
    ref = check.q(column)
    if kind == "nested":
        items = engine.frame(sql.list_items(engine.dialect, ref))["v"].tolist()
        spellings: dict[str, list] = {}
        bad = False
        for raw in items:
            if raw is None or (isinstance(raw, float) and math.isnan(raw)):
                bad = True
                continue
            if isinstance(raw, float) and raw.is_integer():
                raw = int(raw)  # an integer list with NULLs comes back as floats
            name = mld._item_name(raw)
            if name is None:
                bad = True
            else:
                spellings.setdefault(name, []).append(raw)
        if bad:
            wrong = [sql.list_holds(engine.dialect, ref, _literal(r)) for r in items
                     if r is not None and not (isinstance(r, float) and math.isnan(r)) and mld._item_name(r) is None]
            condition = " OR ".join([sql.list_holds_null(engine.dialect, ref), *wrong])
            rows, total = check.offending(f"COALESCE({condition}, FALSE)")
            first = engine.frame(f"SELECT {ref} AS v FROM ev_source WHERE ev_rn = {rows[0]}")["v"].iloc[0]
            raise InputError(f"{source}: column {column!r} has label sets with an empty or non-text class name at "
                             f"{rows_text(rows, total)} (first: {str(list(first))[:60]!r}); expected non-empty "
                             f"class names (text or whole numbers)")
        return _ListForm(sorted(spellings), column, spellings, ref, engine.dialect)
    if kind != "string":
        rows, total = check.offending(f"{ref} IS NOT NULL")
        first = engine.frame(f"SELECT {ref} AS v FROM ev_source WHERE ev_rn = {rows[0]}")["v"].iloc[0] if rows else None
        raise InputError(f"{source}: column {column!r} has values that are not lists at {rows_text(rows, total)} "
                         f"(first: {type(first).__name__} {str(first)[:40]!r}); expected a list of class names per "
                         f"row (in CSV: a JSON array such as [\"cat\", \"dog\"] or names joined by {sep!r}; empty: "
                         f"no label)")
    cells = engine.frame(f"SELECT DISTINCT {ref} AS v FROM ev_source WHERE {ref} IS NOT NULL")["v"].tolist()
    parsed: dict[str, tuple[str, ...]] = {}
    bad_json, bad_item = [], []
    for v in cells:
        items = mld.parse_label_cell(str(v), sep)
        if items is None:
            bad_json.append(v)
            continue
        names = [mld._item_name(item) for item in items]
        if any(n is None for n in names):
            bad_item.append(v)
        else:
            parsed[v] = tuple(dict.fromkeys(names))
    for bad, message in ((bad_json, "has cells starting with '[' that are not a JSON array at {rows} (first: {first}); "
                                    "expected a JSON array of class names such as [\"cat\", \"dog\"]"),
                         (bad_item, "has label sets with an empty or non-text class name at {rows} (first: {first60}); "
                                    "expected non-empty class names (text or whole numbers)")):
        if bad:
            rows, total = check.offending(f"{ref} IN ({', '.join(_literal(b) for b in bad)})")
            first = engine.frame(f"SELECT {ref} AS v FROM ev_source WHERE ev_rn = {rows[0]}")["v"].iloc[0]
            raise InputError(f"{source}: column {column!r} " + message.format(
                rows=rows_text(rows, total), first=repr(str(first)[:40]), first60=repr(str(first)[:60])))
    names = sorted({n for names in parsed.values() for n in names})
    return _TextForm(names, column, parsed, ref)


_TRUE = ("1", "true", "1.0")
_TEXT_01 = ("1", "0", "true", "false", "1.0", "0.0")


def _indicator_form(check: _Checker, columns: dict[str, str]) -> _IndicatorForm:
    """``label_<class>`` (or ``pred_<class>``) columns: 0/1 or true/false in every row."""
    on = {}
    for name, column in columns.items():
        c, kind = check.q(column), check.kinds[column]
        if kind == "boolean":
            bad, value = f"{c} IS NULL", f"CASE WHEN {c} THEN 1 ELSE 0 END"
        elif kind in ("integer", "float"):
            v = f"CAST({c} AS DOUBLE)"
            bad, value = f"({check.missing(column)} OR {v} NOT IN (0.0, 1.0))", f"CASE WHEN {v} = 1.0 THEN 1 ELSE 0 END"
        elif kind == "string":
            t = f"LOWER(TRIM({c}))"
            bad = f"({c} IS NULL OR {t} NOT IN ({', '.join(sql.text(x) for x in _TEXT_01)}))"
            value = f"CASE WHEN {t} IN ({', '.join(sql.text(x) for x in _TRUE)}) THEN 1 ELSE 0 END"
        else:
            bad, value = "TRUE", "0"
        if check.engine.row(f"SELECT COUNT(*) AS n FROM ev_source WHERE {bad}")["n"]:
            rows, total = check.offending(bad)
            first = check.engine.frame(f"SELECT CAST({c} AS {check.engine.dialect.string}) AS v FROM ev_source "
                                       f"WHERE ev_rn = {rows[0]}")["v"].iloc[0]
            first = "nan" if first is None else first
            raise InputError(f"{check.source}: column {column!r} has values other than 0 or 1 at "
                             f"{rows_text(rows, total)} (first: {str(first)[:40]!r}); expected 0 or 1 (or true/false) "
                             f"in every row")
        on[name] = value
    return _IndicatorForm(list(columns), list(columns.values()), on)


def _check_scored(check: _Checker, form: _Form, classes, what: str, prefix: str) -> None:
    known = set(classes)
    bad = [name for name in form.names if name not in known]
    if bad:
        raise InputError(
            f"{check.source}: column {form.column!r} ({what}) names class{'es' if len(bad) > 1 else ''} "
            f"{bad[:MAX_SHOWN]} at {check.rows(form.holding(bad))} without a score column; expected a score column "
            f"for every class ({', '.join(prefix + b for b in bad[:3])} missing); score columns exist for "
            f"{list(classes)[:20]}")


# --- the edge -------------------------------------------------------------------------------

def open_multilabel_table(engine: Engine, path: str, *, label_sep: str = mld.DEFAULT_SEPARATOR
                          ) -> MultilabelEngineDataset:
    """Validate the multi-label file(s) at ``path`` in ``engine`` and define ``ev_rows``.
    Raises :class:`InputError` with the memory path's messages."""
    source = str(path)
    if not label_sep:
        raise InputError("--label-sep: expected a non-empty separator, e.g. '|' or ';'")
    text_names = (mld.LABEL_SET_NAMES + mld.PREDICTED_SET_NAMES + ds.LABEL_NAMES + ds.IMAGE_NAMES + ds.ID_NAMES)
    probe = engine.define_source(source, ())
    text_columns = [c for c in probe if ds._norm(c) in text_names]
    kinds = engine.define_source(source, text_columns) if text_columns else probe
    columns = list(kinds)
    set_col = ds._find(columns, mld.LABEL_SET_NAMES) or ds._find(columns, ds.LABEL_NAMES)
    indicators = mld.indicator_columns(columns, mld.INDICATOR_PREFIX)
    if set_col is not None and indicators:
        shown = ", ".join(repr(c) for c in list(indicators.values())[:3])
        raise InputError(f"{source}: the true labels are given twice, as the label-set column {set_col!r} and as "
                         f"indicator columns ({shown}); expected one form: a label-set column or label_<class> "
                         f"columns")
    if set_col is None and not indicators:
        raise InputError(f"{source}: no true labels for a multi-label file; expected a label-set column (one of "
                         f"{list(mld.LABEL_SET_NAMES)}) or one indicator column per class (label_<class>), found "
                         f"columns {columns}")
    n = int(engine.row("SELECT COUNT(*) AS n FROM ev_source")["n"])
    if n == 0:
        raise InputError(f"{source}: the file has a header but no data rows")
    pred_col = ds._find(columns, mld.PREDICTED_SET_NAMES)
    pred_indicators = mld.indicator_columns(columns, mld.PREDICTED_PREFIX)
    if pred_col is not None and pred_indicators:
        shown = ", ".join(repr(c) for c in list(pred_indicators.values())[:3])
        raise InputError(f"{source}: the predictions are given twice, as {pred_col!r} and as indicator columns "
                         f"({shown}); expected one form")
    score_cols, _ = ds._score_columns(columns, source)
    image_col = ds._find(columns, ds.IMAGE_NAMES)
    id_col = ds._find(columns, ds.ID_NAMES)
    check = _Checker(engine, source, kinds)

    truth = (_label_set_form(check, set_col, label_sep) if set_col is not None else _indicator_form(check, indicators))
    given = None
    if pred_col is not None:
        given = _label_set_form(check, pred_col, label_sep)
    elif pred_indicators:
        given = _indicator_form(check, pred_indicators)
    if not score_cols and given is None:
        raise InputError(f"{source}: no scores and no predictions; expected score columns named "
                         f"{ds.SCORE_PREFIXES[0]}<class> (one independent score per class), a "
                         f"{mld.PREDICTED_SET_NAMES[0]!r} column or pred_<class> columns; found columns {columns}")
    scores = None
    if score_cols:
        classes = ds._order_classes(score_cols.keys())
        for what, form in (("true labels", truth), ("predicted labels", given)):
            if form is not None:
                _check_scored(check, form, classes, what, mld._score_prefix(score_cols))
        scores = check.score_columns([score_cols[c] for c in classes])
    else:
        classes = ds._order_classes(set(truth.names) | set(given.names))
    k = len(classes)
    in_unit = False
    if scores is not None:
        bounds = engine.row("SELECT " + ", ".join(f"MIN({s}) AS lo_{c}, MAX({s}) AS hi_{c}"
                                                  for c, s in enumerate(scores)) + " FROM ev_source")
        in_unit = all(bounds[f"lo_{c}"] >= 0 and bounds[f"hi_{c}"] <= 1 for c in range(k))
    reason = "" if in_unit else ("the file has no scores" if scores is None else "some scores lie outside [0, 1]")
    if id_col is not None:
        _check_ids(check, id_col, n)

    q = engine.dialect.ident
    joins = truth.joins(engine, classes, "t") + (given.joins(engine, classes, "g") if given is not None else "")
    used = {set_col, pred_col, image_col, id_col, *indicators.values(), *pred_indicators.values(), *score_cols.values()}
    metadata = tuple(c for c in columns if c not in used)
    string = engine.dialect.string
    id_expr = f"CAST({q(id_col)} AS {string})" if id_col else f"CAST(ev_rn + 1 AS {string})"
    select = ["ev_rn", f"{id_expr} AS ev_id"]
    select += [f"CAST({truth.indicator(name)} AS INT) AS {sql.truth(c)}" for c, name in enumerate(classes)]
    if given is not None:
        select += [f"CAST({given.indicator(name)} AS INT) AS g_{c}" for c, name in enumerate(classes)]
    select += [f"{expr} AS {sql.score(c)}" for c, expr in enumerate(scores or [])]
    select += [f"{q(c)} AS {metadata_ref(i)}" for i, c in enumerate(metadata)]
    select += [f"{q(image_col)} AS ev_image"] if image_col else []
    engine.define_rows(f"SELECT {', '.join(select)} FROM ev_source{joins}")
    return MultilabelEngineDataset(source=source, classes=tuple(classes), n=n, engine=engine,
                                   has_scores=scores is not None, prediction_given=given is not None,
                                   is_probability=in_unit, probability_reason=reason,
                                   metadata_columns=metadata, id_column=id_col, image_column=image_col,
                                   column_kinds=tuple(kinds.items()))
