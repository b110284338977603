"""Validate a predictions file inside an engine, at the edge, into an :class:`EngineDataset`.

The rules and messages are those of :mod:`evaldash.dataset` (the memory path), checked in SQL:
only counts, the first offending row numbers and the distinct class values come back. The
dataset then defines the view ``ev_rows`` (see :mod:`evaldash.engines.sql`) that every
aggregation reads.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from evaldash import dataset as ds
from evaldash.engines import sql
from evaldash.engines.base import Engine
from evaldash.engines.rows import RowAccess
from evaldash.errors import InputError
from evaldash.named_classes import NamedClasses

MAX_SHOWN = ds.MAX_ROWS_SHOWN
_NA_TEXT = ("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>",
            "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null")  # pandas' missing markers (io._DEFAULT_NA)
_MAX_DOUBLE = "CAST('1.7976931348623157e308' AS DOUBLE)"


@dataclass(frozen=True, eq=False)
class EngineDataset(RowAccess, NamedClasses):
    """A validated predictions file that stays in its engine: the scalars of
    :class:`evaldash.dataset.Dataset` (same names and meaning); its per-sample columns are read
    a row or a page at a time (:class:`~evaldash.engines.rows.RowAccess`)."""

    source: str
    classes: tuple[str, ...]
    n: int
    engine: Engine = field(repr=False)
    has_scores: bool = False
    positive: int | None = None
    is_probability: bool = False
    probability_reason: str = ""
    prediction_given: bool = False
    warnings: tuple[str, ...] = ()
    score_mirror: str | None = None
    metadata_columns: tuple[str, ...] = ()
    id_column: str | None = None
    image_column: str | None = None
    column_kinds: tuple[tuple[str, str], ...] = ()  # (column, kind) of the file's columns
    images_root: str | None = None  # with an image column: the folder images must lie in
    read_options: tuple = ()  # (name, value) of what changes the rows read (positive, threshold)
    rows_in_file: int | None = None  # a view of some rows (a slice): the file's, whose numbers its rows keep

    @property
    def is_binary(self) -> bool:
        return len(self.classes) == 2



def metadata_ref(i: int) -> str:
    """The name in ``ev_rows`` of the ``i``-th metadata column (apart from the file's names)."""
    return f"ev_m{int(i)}"


def rows_text(rows, total: int) -> str:
    """The first offending data rows, 1-based, as :func:`evaldash.dataset._rows` writes them."""
    shown = ", ".join(str(int(r) + 1) for r in list(rows)[:MAX_SHOWN])
    more = f" and {total - MAX_SHOWN} more" if total > MAX_SHOWN else ""
    return f"row{'s' if total > 1 else ''} {shown}{more}"


class _Checker:
    def __init__(self, engine: Engine, source: str, kinds: dict[str, str]):
        self.engine, self.source, self.kinds = engine, source, kinds
        self.q = engine.dialect.ident
        self._counted: dict[str, int] = {}  # condition: rows of ev_source that meet it (the survey's)
        self._distinct: dict[str, pd.Series] = {}  # column: its distinct values (the survey's)
        self._extremes: dict[str, tuple] = {}  # expression: (lowest, highest) (the survey's)

    def survey(self, grouped: list[str], conditions: list[str], extremes: list[str]) -> int:
        """One scan of ``ev_source`` for what the checks read, grouped by the ``grouped`` columns
        (the class columns: a few groups): the rows (returned), each grouped column's distinct
        values (:meth:`distinct`), how many rows meet each of ``conditions`` (:meth:`counts`) and
        the lowest and highest value of each of ``extremes`` (:meth:`extremes`). A check whose
        counts were not surveyed scans for them itself."""
        keys = [self.q(c) for c in grouped]
        columns = ([f"{k} AS ev_g{i}" for i, k in enumerate(keys)] + ["COUNT(*) AS ev_n"]
                   + [f"SUM(CASE WHEN {c} THEN 1 ELSE 0 END) AS ev_c{i}" for i, c in enumerate(conditions)]
                   + [f"MIN({e}) AS ev_lo{i}, MAX({e}) AS ev_hi{i}" for i, e in enumerate(extremes)])
        f = self.engine.frame(f"SELECT {', '.join(columns)} FROM ev_source"
                              + (f" GROUP BY {', '.join(keys)}" if keys else ""))
        for i, column in enumerate(grouped):
            self._distinct[column] = f[f"ev_g{i}"].drop_duplicates().reset_index(drop=True)
        for i, condition in enumerate(conditions):
            self._counted[condition] = int(f[f"ev_c{i}"].sum())
        for i, e in enumerate(extremes):
            self._extremes[e] = (f[f"ev_lo{i}"].min(), f[f"ev_hi{i}"].max())
        return int(f["ev_n"].sum())

    def counts(self, conditions: dict[str, str]) -> dict[str, int]:
        """{name: rows of ``ev_source`` where its condition holds}: the survey's, the others in one scan."""
        out = {name: self._counted[c] for name, c in conditions.items() if c in self._counted}
        rest = [(name, c) for name, c in conditions.items() if name not in out]
        if rest:
            row = self.engine.row("SELECT " + ", ".join(f"SUM(CASE WHEN {c} THEN 1 ELSE 0 END) AS ev_c{i}"
                                                        for i, (_, c) in enumerate(rest)) + " FROM ev_source")
            out.update({name: int(row[f"ev_c{i}"] or 0) for i, (name, _) in enumerate(rest)})
        return out

    def surveyed(self, conditions) -> bool:
        """Whether the survey counted every one of ``conditions``."""
        return all(c in self._counted for c in conditions)

    def distinct(self, column: str) -> pd.Series:
        """The distinct values of ``column`` (the survey's, else a scan)."""
        if column in self._distinct:
            return self._distinct[column]
        return self.engine.frame(f"SELECT DISTINCT {self.q(column)} AS v FROM ev_source")["v"]

    def extremes(self, expression: str) -> tuple:
        """(lowest, highest) value of ``expression`` over ``ev_source`` (the survey's, else a scan)."""
        if expression not in self._extremes:
            row = self.engine.row(f"SELECT MIN({expression}) AS lo, MAX({expression}) AS hi FROM ev_source")
            self._extremes[expression] = (row["lo"], row["hi"])
        return self._extremes[expression]

    def numeric_checks(self, column: str) -> dict[str, str]:
        """The conditions a numeric score column must meet in no row: missing, infinite."""
        missing = self.missing(column)
        return {"missing": missing, "inf": f"NOT {missing} AND ABS(CAST({self.q(column)} AS DOUBLE)) > {_MAX_DOUBLE}"}

    def offending(self, condition: str, view: str = "ev_source") -> tuple[list[int], int]:
        f = self.engine.frame(sql.offending_rows(condition, MAX_SHOWN, view))
        return [int(r) for r in f["ev_rn"]], int(f["total"].iloc[0]) if len(f) else 0

    def rows(self, condition: str, view: str = "ev_source") -> str:
        rows, total = self.offending(condition, view)
        return rows_text(rows, total)

    def missing(self, column: str) -> str:
        c = self.q(column)
        if self.kinds[column] == "float":
            return f"({c} IS NULL OR isnan({c}))"
        return f"{c} IS NULL"

    def class_column(self, column: str) -> tuple[pd.Series, list[str], list[bool]]:
        """(distinct raw values, their class names in NFC, whether each was not NFC) of a class column."""
        c = self.q(column)
        if self.kinds[column] == "nested":
            where = self.rows(f"{c} IS NOT NULL")
            raise InputError(f"{self.source}: column {column!r} holds lists at {where}; expected one class name per "
                             f"row (a single-label file)")
        if self.counts({"missing": self.missing(column)})["missing"]:
            raise InputError(f"{self.source}: column {column!r} has missing values at "
                             f"{self.rows(self.missing(column))}; expected a class name in every row")
        raw = self.distinct(column)
        names = ds._class_names(raw.reset_index(drop=True), "", column) if len(raw) else np.array([], dtype=object)
        blank = [i for i, n in enumerate(names) if not str(n).strip()]
        if blank:
            values = ", ".join(_literal(raw.iloc[i]) for i in blank)
            raise InputError(f"{self.source}: column {column!r} has empty values at {self.rows(f'{c} IN ({values})')}; "
                             f"expected a class name in every row")
        nfc = [unicodedata.normalize("NFC", str(n)) for n in names]
        return raw, nfc, [a != str(b) for a, b in zip(nfc, names)]

    def score_columns(self, columns: list[str]) -> list[str]:
        """:meth:`score_column` of each column; numeric columns checked in one scan for all."""
        numeric = [c for c in columns if self.kinds[c] in ("integer", "float")]
        counts = self.counts({(c, what): condition for c in numeric for what, condition in self.numeric_checks(c).items()})
        clean = {c for c in numeric if not counts[(c, "missing")] and not counts[(c, "inf")]}
        # a clean column needs no other look; the others are looked at one by one, for the message
        return [f"CAST({self.q(c)} AS DOUBLE)" if c in clean else self.score_column(c) for c in columns]

    def score_column(self, column: str) -> str:
        """The column as a DOUBLE expression, after refusing text, missing and infinite values."""
        c, kind = self.q(column), self.kinds[column]
        if kind == "nested":
            raise InputError(f"{self.source}: column {column!r} holds lists at {self.rows(f'{c} IS NOT NULL')}; "
                             f"expected a number")
        if kind in ("integer", "float"):
            value = f"CAST({c} AS DOUBLE)"
            missing, inf = self.numeric_checks(column).values()
        else:
            trimmed = f"TRIM(CAST({c} AS {self.engine.dialect.string}))"
            na = f"({c} IS NULL OR {trimmed} IN ({', '.join(sql.text(t) for t in _NA_TEXT)}))"
            value = f"TRY_CAST({trimmed} AS DOUBLE)"
            bad = f"(NOT {na} AND {value} IS NULL)"
            if self.counts({"bad": bad})["bad"]:
                rows, total = self.offending(bad)
                first = self.engine.frame(f"SELECT CAST({c} AS {self.engine.dialect.string}) AS v FROM ev_source WHERE ev_rn = {rows[0]}")
                raise InputError(f"{self.source}: column {column!r} has non-numeric values at {rows_text(rows, total)} "
                                 f"(first: {str(first['v'].iloc[0])[:40]!r}); expected a number")
            missing = f"({na} OR isnan({value}))"
            inf = f"NOT {missing} AND ABS({value}) > {_MAX_DOUBLE}"
        counts = self.counts({"missing": missing, "inf": inf})
        if counts["missing"]:
            raise InputError(f"{self.source}: column {column!r} has missing values at {self.rows(missing)}; "
                             f"expected a score in every row")
        if counts["inf"]:
            raise InputError(f"{self.source}: column {column!r} has infinite values at "
                             f"{self.rows(f'ABS({value}) > {_MAX_DOUBLE}')}; expected a finite number")
        return value


def _literal(value) -> str:
    if isinstance(value, (bool, np.bool_)):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return sql.number(float(value))
    return sql.text(str(value))


def open_table(engine: Engine, path: str, *, positive: str | None = None,
               threshold: float | None = None) -> EngineDataset:
    """Validate the file(s) at ``path`` in ``engine`` and define ``ev_rows``.

    ``threshold`` (binary data with scores): predictions become ``score(positive) >= threshold``,
    as :func:`evaldash.evaluation.evaluate` does. Raises :class:`InputError` with the memory path's
    messages."""
    source = str(path)
    text_names = ds.LABEL_NAMES + ds.PREDICTION_NAMES + ds.IMAGE_NAMES + ds.ID_NAMES
    probe = engine.define_source(source, ())
    text_columns = [c for c in probe if ds._norm(c) in text_names]
    kinds = engine.define_source(source, text_columns) if text_columns else probe
    columns = list(kinds)
    label_col = ds._find(columns, ds.LABEL_NAMES)
    if label_col is None:
        raise InputError(f"{source}: no label column; expected one of {list(ds.LABEL_NAMES)}, found columns {columns}")
    check = _Checker(engine, source, kinds)
    q = engine.dialect.ident
    pred_col = ds._find(columns, ds.PREDICTION_NAMES)
    image_col = ds._find(columns, ds.IMAGE_NAMES)
    id_col = ds._find(columns, ds.ID_NAMES)
    n = check.survey(*_survey_plan(check, columns, label_col, pred_col, id_col))
    if n == 0:
        raise InputError(f"{source}: the file has a header but no data rows")
    score_cols, single_col = ds._score_columns(columns, source)
    used = {label_col, pred_col, image_col, id_col, single_col, *score_cols.values()}

    label_raw, label_names, label_nfc = check.class_column(label_col)
    pred_raw, pred_names, pred_nfc = check.class_column(pred_col) if pred_col else (None, [], [])
    if positive is not None:
        positive = unicodedata.normalize("NFC", str(positive))
    warnings: list[str] = []
    renamed: dict[str, list[str]] = {}
    for name, column in score_cols.items():
        if not unicodedata.is_normalized("NFC", column):
            renamed.setdefault(name, []).append(column)
    for names, flags, column in ((label_names, label_nfc, label_col), (pred_names, pred_nfc, pred_col)):
        for name in dict.fromkeys(nm for nm, f in zip(names, flags) if f):
            renamed.setdefault(name, []).append(column)
    if renamed:
        shown = ", ".join(f"{name!r} (in {', '.join(repr(c) for c in cols)})"
                          for name, cols in list(renamed.items())[:MAX_SHOWN])
        warnings.append(f"{source}: class names not in Unicode NFC were normalised to NFC, so that a name written "
                        f"with composed or decomposed accents is one class: {shown}")

    scores: list[str] | None = None
    positive_idx = None
    mirror = None
    in_unit = False
    if score_cols:
        classes = ds._order_classes(score_cols.keys())
        _check_known(check, label_col, label_raw, label_names, classes, "a score column", ds.score_prefix(score_cols))
        if pred_col:
            _check_known(check, pred_col, pred_raw, pred_names, classes, "a class with a score column",
                         ds.score_prefix(score_cols))
        scores = check.score_columns([score_cols[c] for c in classes])
    elif single_col is not None:
        found = set(label_names) | set(pred_names)
        if positive is not None:
            found.add(str(positive))
        if len(found) != 2:
            raise InputError(
                f"{source}: column {single_col!r} holds one score per row, which needs exactly two "
                f"classes; found {len(found)} in {label_col!r}: {sorted(found)[:10]}"
                + ("" if positive is not None or len(found) != 1 else " (name the other class with --positive)"))
        classes = ds._order_classes(found)
        pos = classes.index(str(positive)) if positive is not None else 1
        s = check.score_column(single_col)
        low, high = check.extremes(s)
        in_unit = bool(low >= 0 and high <= 1)
        scores = [""] * 2
        scores[pos] = s
        scores[1 - pos] = f"(1.0 - {s})" if in_unit else f"(-{s})"
        positive_idx = pos
        mirror = "one_minus" if in_unit else "negate"
    elif pred_col is not None:
        classes = ds._order_classes(set(label_names) | set(pred_names))
    else:
        raise InputError(
            f"{source}: no scores and no prediction column; expected score columns named "
            f"{ds.SCORE_PREFIXES[0]}<class> (or {', '.join(p + '<class>' for p in ds.SCORE_PREFIXES[1:])}), "
            f"a single 'score' column for binary data, or a prediction column "
            f"({', '.join(ds.PREDICTION_NAMES)}); found columns {columns}")

    if positive is not None and positive_idx is None:
        if str(positive) not in classes:
            raise InputError(f"{source}: --positive {positive!r} is not a class; classes are {list(classes)}")
        positive_idx = classes.index(str(positive))
    if positive_idx is None and len(classes) == 2:
        positive_idx = 1

    metadata = tuple(c for c in columns if c not in used)
    index = {c: i for i, c in enumerate(classes)}
    # the class maps' columns are named apart from the file's, so its columns need no qualifier
    joins = ""
    y_true_expr, pred_expr = "ev_idx_l", "ev_idx_p"
    if _small_map(kinds[label_col], label_raw):  # a CASE costs less per row than a join
        y_true_expr = _class_case(q(label_col), label_raw, [index[n] for n in label_names])
    else:
        engine.register("ev_label_map", pd.DataFrame({"ev_raw_l": label_raw.to_numpy(),
                                                      "ev_idx_l": np.array([index[n] for n in label_names], np.int32)}))
        joins = f" JOIN ev_label_map ON {q(label_col)} = ev_raw_l"
    if pred_col and _small_map(kinds[pred_col], pred_raw):
        pred_expr = _class_case(q(pred_col), pred_raw, [index[n] for n in pred_names])
    elif pred_col:
        engine.register("ev_pred_map", pd.DataFrame({"ev_raw_p": pred_raw.to_numpy(),
                                                     "ev_idx_p": np.array([index[n] for n in pred_names], np.int32)}))
        joins += f" JOIN ev_pred_map ON {q(pred_col)} = ev_raw_p"
    k = len(classes)
    prediction_given = pred_col is not None
    if threshold is not None and scores is not None and k == 2:
        pos = positive_idx
        y_pred = f"CASE WHEN s_{pos} >= {sql.number(threshold)} THEN {pos} ELSE {1 - pos} END"
        prediction_given = True
    elif pred_col:
        y_pred = "ev_idx_p"
    elif single_col is not None:
        cut = 0.5 if in_unit else 0.0
        y_pred = f"CASE WHEN s_{positive_idx} >= {sql.number(cut)} THEN {positive_idx} ELSE {1 - positive_idx} END"
    else:
        y_pred = sql.argmax(k)
    string = engine.dialect.string
    id_expr = f"CAST({q(id_col)} AS {string})" if id_col else f"CAST(ev_rn + 1 AS {string})"
    # the scores first, then the prediction that may read them, then its confidence
    inner = (f"SELECT ev_rn, {id_expr} AS ev_id, {y_true_expr} AS y_true"
             + (f", {pred_expr} AS ev_idx_p" if pred_col else "")
             + "".join(f", {expr} AS {sql.score(c)}" for c, expr in enumerate(scores or []))
             + "".join(f", {q(c)} AS {metadata_ref(i)}" for i, c in enumerate(metadata))
             + (f", {q(image_col)} AS ev_image" if image_col else "")
             + f" FROM ev_source{joins}")
    conf = sql.picked_score(k, "y_pred") if scores is not None else "CAST(NULL AS DOUBLE)"
    middle = f"SELECT ev_a.*, {y_pred} AS y_pred FROM ({inner}) ev_a"
    engine.define_rows(f"SELECT ev_m.*, {conf} AS conf FROM ({middle}) ev_m")

    is_prob, reason = (False, "the file has no scores")
    if mirror is not None:
        is_prob, reason = (True, "") if in_unit else _probability_check(check, scores)
    elif scores is not None:
        is_prob, reason = _probability_check(check, scores)
    if id_col is not None:
        _check_ids(check, id_col, n)
    return EngineDataset(source=source, classes=tuple(classes), n=n, engine=engine, has_scores=scores is not None,
                         positive=positive_idx, is_probability=is_prob, probability_reason=reason,
                         prediction_given=prediction_given, warnings=tuple(warnings), score_mirror=mirror,
                         metadata_columns=metadata, id_column=id_col, image_column=image_col,
                         column_kinds=tuple(kinds.items()))


def _survey_plan(check: _Checker, columns: list[str], label_col: str, pred_col: str | None,
                 id_col: str | None) -> tuple[list[str], list[str], list[str]]:
    """What :meth:`_Checker.survey` counts in its one scan for :func:`open_table`'s checks, in their
    order: the class columns' missing values and distinct values (grouped by them), the numeric
    score columns' missing and infinite values (a single score column: its range too), whether
    the scores of every class are probabilities, and (``Engine.survey_ids``) the ids' missing and
    blank values. The checks raise their errors in the memory path's order from these counts;
    those that find a fault look for its rows then."""
    plain = [c for c in (label_col, pred_col) if c is not None and check.kinds[c] != "nested"]
    conditions = [check.missing(c) for c in plain]
    extremes = []
    try:
        score_cols, single_col = ds._score_columns(columns, check.source)
    except InputError:  # raised after the rows are counted, as in memory
        score_cols, single_col = {}, None
    numeric = [c for c in [*score_cols.values(), single_col] if c is not None
               and check.kinds[c] in ("integer", "float")]
    for c in numeric:
        conditions += check.numeric_checks(c).values()
    if single_col in numeric:
        extremes.append(f"CAST({check.q(single_col)} AS DOUBLE)")
    elif score_cols and len(numeric) == len(score_cols):
        scores = [f"CAST({check.q(score_cols[c])} AS DOUBLE)" for c in ds._order_classes(score_cols.keys())]
        negative, _, off = _probability_conditions(scores)
        conditions += [negative, off]
    if id_col is not None and check.engine.survey_ids:
        conditions += _id_checks(check, id_col).values()
    return plain, conditions, extremes


SMALL_MAP = 64  # class values up to which ev_rows maps them with a CASE instead of a join


def _small_map(kind: str, raw: pd.Series) -> bool:
    return kind in ("string", "integer", "boolean") and len(raw) <= SMALL_MAP


def _class_case(column: str, raw: pd.Series, indices: list[int]) -> str:
    """The class index of each raw value of ``column`` (every value is one of ``raw``)."""
    return (f"CAST(CASE {column} " + " ".join(f"WHEN {_literal(v)} THEN {int(i)}" for v, i in zip(raw, indices))
            + " END AS INTEGER)")


def _check_known(check: _Checker, column: str, raw: pd.Series, names: list[str], classes, what: str,
                 prefix: str) -> None:
    known = set(classes)
    bad_at = [i for i, n in enumerate(names) if n not in known]
    if not bad_at:
        return
    bad = sorted({names[i] for i in bad_at})  # the memory path lists the names sorted (np.unique)
    values = ", ".join(_literal(raw.iloc[i]) for i in bad_at)
    rows = check.rows(f"{check.q(column)} IN ({values})")
    raise InputError(
        f"{check.source}: column {column!r} has value{'s' if len(bad) > 1 else ''} "
        f"{bad[:MAX_SHOWN]} at {rows} that {'have' if len(bad) > 1 else 'has'} no score column; expected {what} "
        f"({', '.join(prefix + b for b in bad[:3])} missing); score columns exist for {list(classes)[:20]}")


def _probability_conditions(scores: list[str]) -> tuple[str, str, str]:
    """(a score is negative, the scores' sum, the sum is not 1) of each row, ``scores``: each
    class's score (an expression over ``ev_source``), summed in class order."""
    total = " + ".join(scores)
    return (" OR ".join(f"{s} < 0" for s in scores), total,
            f"ABS({total} - 1.0) > {sql.number(ds.PROBABILITY_TOLERANCE)}")


def _probability_check(check: _Checker, scores: list[str]) -> tuple[bool, str]:
    negative, total, off = _probability_conditions(scores)
    counts = check.counts({"neg": negative, "off": off})
    if counts["neg"]:
        return False, f"scores are not probabilities: negative values at {check.rows(negative)}"
    if counts["off"]:
        rows, n_off = check.offending(off)
        first = check.engine.frame(f"SELECT {total} AS s FROM ev_source WHERE ev_rn = {rows[0]}")["s"].iloc[0]
        return False, (f"scores are not probabilities: rows do not sum to 1 within {ds.PROBABILITY_TOLERANCE:g} "
                       f"({rows_text(rows, n_off)}; row {rows[0] + 1} sums to {first:.4g})")
    return True, ""


def _id_checks(check: _Checker, id_col: str) -> dict[str, str]:
    """The conditions no id may meet: missing, blank."""
    missing = check.missing(id_col)
    if check.kinds[id_col] != "string":
        return {"missing": missing, "blank": "FALSE"}
    as_text = f"CAST({check.q(id_col)} AS {check.engine.dialect.string})"
    # TRIM removes spaces: only a text that is empty or starts with a space-like character is looked at
    return {"missing": missing, "blank": f"({as_text} = '' OR (ascii({as_text}) <= 32 AND TRIM({as_text}) = ''))"}


def _check_ids(check: _Checker, id_col: str, n: int) -> None:
    """Refuse missing, blank and repeated ids (``n``: the rows)."""
    c = check.q(id_col)
    source = check.source
    as_text = f"CAST({c} AS {check.engine.dialect.string})" if check.kinds[id_col] != "float" else c
    missing = check.missing(id_col)
    blank = f"TRIM({as_text}) = ''" if check.kinds[id_col] == "string" else "FALSE"
    # the distinct ids counted by a 64-bit hash of the text (a hash table of 8-byte keys, not of the
    # strings; other kinds by the value itself); only fewer distinct hashes than ids (a duplicate,
    # or two ids of one hash: about 1 in 10^11 files of 100M ids) takes the exact look at the ids below
    key = f"{check.engine.dialect.hash_function}({as_text})" if check.kinds[id_col] == "string" else c
    checks = _id_checks(check, id_col)
    keys = None
    if check.surveyed(checks.values()):
        counts = check.counts(checks)
    else:  # the missing and blank ids counted in the read that counts the distinct ones
        row = check.engine.row(sql.distinct_keys(key, n, checks))
        counts, keys = {name: int(row[name] or 0) for name in checks}, int(row["keys"])
    if counts["missing"]:
        raise InputError(f"{source}: column {id_col!r} has missing values at {check.rows(missing)}; "
                         f"expected a unique id per row")
    if counts["blank"]:
        raise InputError(f"{source}: column {id_col!r} has empty values at {check.rows(blank)}; expected a unique id "
                         f"per row")
    if keys is None:
        keys = int(check.engine.row(sql.distinct_keys(key, n))["keys"])
    groups = f"SELECT {c} FROM ev_source GROUP BY {c} HAVING COUNT(*) > 1"
    if keys < n and len(check.engine.frame(f"{groups} LIMIT 1")):
        duplicated = f"{c} IN ({groups})"
        first = check.engine.frame(f"SELECT {as_text} AS v, MIN(ev_rn) AS first FROM ev_source WHERE {duplicated} "
                                   f"GROUP BY {as_text} ORDER BY first LIMIT {MAX_SHOWN}")
        raise InputError(f"{source}: column {id_col!r} has duplicate ids {[str(v) for v in first['v']]} at "
                         f"{check.rows(duplicated)}; expected each id once")
