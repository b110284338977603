"""Validate a multi-label (concept) predictions table once, at the edge, into a :class:`MultilabelDataset`.

A sample carries a set of true classes, given in one of two forms:

* a label-set column ``labels`` (aliases ``true_labels``, ``tags``, ``concepts``): a list in
  Parquet and JSON Lines; in CSV a JSON array (``["cat", "dog"]``) or the names joined by ``|``
  (another separator with ``label_sep``); an empty list or cell is no label;
* one 0/1 (or true/false) indicator column per class, ``label_<class>``.

Scores are ``score_<class>`` columns (aliases as for single-label files), one independent score
per class (they need not sum to 1). Predictions are optional: ``predicted_labels`` (the forms of
``labels``) or ``pred_<class>`` indicators; without them the evaluation thresholds the scores.

:func:`detect_task` decides from the truth columns' form whether a table is multi-label.
"""

from __future__ import annotations

import hashlib
import json
import math
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from evaldash.dataset import (ID_NAMES, IMAGE_NAMES, LABEL_NAMES, MAX_ROWS_SHOWN, SCORE_PREFIXES, _find, _ids,
                              _norm, _numeric, _order_classes, _rows, _score_columns, _score_matrix, _string_bytes)
from evaldash.errors import InputError
from evaldash.named_classes import NamedClasses
from evaldash.image_paths import ImageCheck, resolve_images
from evaldash.io import file_format, read_header, read_table

LABEL_SET_NAMES = ("labels", "true_labels", "tags", "concepts")
PREDICTED_SET_NAMES = ("predicted_labels",)
INDICATOR_PREFIX = "label_"
PREDICTED_PREFIX = "pred_"
DEFAULT_SEPARATOR = "|"
TASKS = ("multilabel", "multiclass", "binary")
# label_<x> columns that are not a class: the annotations export adds label_corrected to single-label files
_NOT_INDICATORS = ("label_corrected",)


FINGERPRINT_ROWS = 65_536  # rows of scores hashed at a time (a 52 MB copy at 100 classes)

@dataclass(frozen=True, eq=False)
class MultilabelDataset(NamedClasses):
    """A validated multi-label predictions file.

    Attributes
    ----------
    source : str
        Where the data came from.
    classes : tuple of str
        Class (concept) names in class order.
    y_true : ndarray of shape (n_samples, n_classes), bool
        The true label sets as indicators.
    scores : ndarray of shape (n_samples, n_classes), float64, or None
        One independent score per class; ``None`` with predictions only.
    y_pred_given : ndarray of shape (n_samples, n_classes), bool, or None
        The file's own predictions; ``None`` when the scores are thresholded.
    ids : ExtensionArray of shape (n_samples,)
        Unique sample ids as strings (default: the 1-based row number).
    image_paths : ndarray of shape (n_samples,), object, or None
        Absolute, checked image paths (``None`` per row where missing or refused).
    metadata : DataFrame
        Every other column.
    is_probability : bool
        Whether every score lies in [0, 1] (each concept's score is a probability on its own).
    """

    source: str
    classes: tuple[str, ...]
    y_true: np.ndarray
    scores: np.ndarray | None
    ids: np.ndarray
    y_pred_given: np.ndarray | None = None
    image_paths: np.ndarray | None = None
    metadata: pd.DataFrame = field(default_factory=pd.DataFrame)
    is_probability: bool = False
    probability_reason: str = ""
    images_root: str | None = None
    warnings: tuple[str, ...] = ()
    image_check: ImageCheck | None = None

    task = "multilabel"
    # as a single-label Dataset's: no positive class, never a binary (one-of-two) problem
    positive = None
    is_binary = False

    @property
    def n(self) -> int:
        return int(self.y_true.shape[0])

    @property
    def has_scores(self) -> bool:
        return self.scores is not None

    @property
    def prediction_given(self) -> bool:
        return self.y_pred_given is not None


    def label_sets(self, indicators: np.ndarray | None = None) -> list[list[str]]:
        """The true (or the given ``indicators``') label sets as lists of class names, one per sample."""
        matrix = self.y_true if indicators is None else indicators
        names = np.asarray(self.classes, dtype=object)
        return [names[row].tolist() for row in matrix]

    def fingerprint(self) -> str:
        """A stable hash of the content (classes, ids, label sets, predictions, scores)."""
        h = hashlib.sha256()
        h.update(b"multilabel\x1f" + "\x1f".join(self.classes).encode())
        h.update(_string_bytes(self.ids))
        h.update(np.packbits(self.y_true).tobytes())
        if self.y_pred_given is not None:
            h.update(np.packbits(self.y_pred_given).tobytes())
        if self.scores is not None:  # the row-order bytes, a block of rows at a time: the score
            n = self.scores.shape[0]  # matrix is column-major, and a whole row-order copy is its size again
            for start in range(0, n, FINGERPRINT_ROWS):
                h.update(np.ascontiguousarray(self.scores[start:start + FINGERPRINT_ROWS]))
        return h.hexdigest()[:16]


def with_label_sets(dataset: MultilabelDataset, y_true: np.ndarray) -> MultilabelDataset:
    """The dataset with other true label sets (e.g. annotators' corrections), shape (n, k), bool."""
    y_true = np.array(y_true, dtype=bool, copy=True)
    if y_true.shape != dataset.y_true.shape:
        raise InputError(f"{dataset.source}: corrected label sets of shape {y_true.shape}; expected "
                         f"{dataset.y_true.shape}")
    y_true.setflags(write=False)
    return replace(dataset, y_true=y_true)


def with_corrected_label_sets(dataset: MultilabelDataset,
                              corrections: dict[str, Sequence[str]]) -> tuple[MultilabelDataset, dict]:
    """The dataset with annotators' corrected label sets (sample id → the full corrected set of
    class names) as its truth. Returns it and a summary: ``corrected`` (samples whose set
    changed), ``added`` and ``removed`` (concepts), ``unknown`` (names of no class, ignored)."""
    summary = {"corrected": 0, "added": 0, "removed": 0, "unknown": 0}
    if not corrections:
        return dataset, summary
    where = {str(i): r for r, i in enumerate(np.asarray(dataset.ids, dtype=object)) if str(i) in corrections}
    index = {c: i for i, c in enumerate(dataset.classes)}
    y = np.array(dataset.y_true, copy=True)
    for sample, names in corrections.items():
        row = where.get(str(sample))
        if row is None:
            continue
        new = np.zeros(len(index), dtype=bool)
        for name in names:
            if name in index:
                new[index[name]] = True
            else:
                summary["unknown"] += 1
        summary["added"] += int(np.sum(new & ~y[row]))
        summary["removed"] += int(np.sum(~new & y[row]))
        summary["corrected"] += int(np.any(new != y[row]))
        y[row] = new
    return with_label_sets(dataset, y), summary


# --- detection -------------------------------------------------------------------------------

def indicator_columns(columns: Sequence[str], prefix: str) -> dict[str, str]:
    """Class name (NFC) → column, for the columns named ``<prefix><class>``."""
    out: dict[str, str] = {}
    for c in columns:
        if c.lower().startswith(prefix) and _norm(c) not in _NOT_INDICATORS and c[len(prefix):].strip():
            out[unicodedata.normalize("NFC", c[len(prefix):])] = c
    return out


def detect_task(columns: Sequence[str], source: str = "<frame>", task: str | None = None) -> str:
    """``"multilabel"`` or ``"single"`` from the form of the truth columns (``task`` forces it).

    A label-set column (``labels`` and aliases) or ``label_<class>`` indicator columns mean
    multi-label; a ``label`` column (and its aliases) means single-label, a label-set alias beside
    it being metadata (``label`` with ``labels`` is ambiguous: an error)."""
    if task is not None and task not in TASKS:
        raise InputError(f"--task {task!r}: expected one of {', '.join(TASKS)}")
    if task is not None:
        return "multilabel" if task == "multilabel" else "single"
    columns = [str(c) for c in columns]
    set_col = _find(columns, LABEL_SET_NAMES)
    single = _find(columns, LABEL_NAMES)
    indicators = indicator_columns(columns, INDICATOR_PREFIX)
    if single is not None and set_col is not None and _norm(set_col) != LABEL_SET_NAMES[0]:
        # beside a `label` column an alias (tags, concepts, true_labels) is metadata: single-label
        # files with a `tags` column were read that way before multi-label files existed
        set_col = None
    if set_col is not None and single is not None:
        raise InputError(f"{source}: both a single-label column {single!r} and a label-set column {set_col!r}; "
                         f"expected one truth column (or say which with --task multilabel|multiclass|binary)")
    if set_col is not None or (indicators and single is None):
        return "multilabel"
    return "single"


# --- loading ---------------------------------------------------------------------------------

def load_multilabel(path: str | Path, *, label_sep: str = DEFAULT_SEPARATOR, images_root: str | Path | None = None,
                    images_by_name: bool = False) -> MultilabelDataset:
    """Read and validate a multi-label predictions file (CSV, CSV.gz, Parquet, JSON Lines).

    Raises
    ------
    InputError
        Naming the file, the column, the first offending rows and what was expected.
    """
    path = Path(path)
    text_columns: list[str] = []
    if path.exists() and file_format(path) == "csv":
        header = read_header(path)
        text_columns = [c for c in header if _norm(c) in LABEL_SET_NAMES + PREDICTED_SET_NAMES + LABEL_NAMES
                        + IMAGE_NAMES + ID_NAMES]
    read_warnings: list[str] = []
    root = Path(images_root) if images_root is not None else path.resolve().parent
    scores = None
    if path.is_file() and file_format(path) == "parquet":
        frame, scores = _read_parquet_scores_apart(path)
    else:
        frame = read_table(path, text_columns, warnings=read_warnings)
    # the table read here is no one else's: its score columns are freed as they are copied
    return multilabel_from_frame(frame, source=str(path),
                                 label_sep=label_sep, images_root=root, base_dir=path.resolve().parent,
                                 read_warnings=read_warnings, images_by_name=images_by_name, _consume=True,
                                 _scores=scores)


def _read_parquet_scores_apart(path: Path) -> tuple[pd.DataFrame, tuple[dict[str, str], np.ndarray] | None]:
    """:func:`evaldash.io.read_table` of a Parquet file, but with its list columns kept in Arrow (a
    label-set column of a million rows is then parsed in well under a second, without a Python
    object per row) and its float score columns read one at a time straight into the score matrix
    (class order, column-major): the scores are never held twice. Returns the other columns as a
    DataFrame and (class → score column, matrix), or None when no score column could be read so."""
    import pyarrow as pa

    def lists_in_arrow(arrow_type):
        return pd.ArrowDtype(arrow_type) if pa.types.is_list(arrow_type) or pa.types.is_large_list(arrow_type) else None
    try:
        import pyarrow.parquet as pq

        file = pq.ParquetFile(path)
        schema = file.schema_arrow
        score_cols, _ = _score_columns(schema.names, str(path))
        if not score_cols or not all(pa.types.is_floating(schema.field(c).type) for c in score_cols.values()):
            return file.read().to_pandas(self_destruct=True, split_blocks=True, types_mapper=lists_in_arrow), None
        ordered = [score_cols[c] for c in _order_classes(score_cols)]
        others = [c for c in schema.names if c not in set(ordered)]
        frame = file.read(columns=others).to_pandas(self_destruct=True, split_blocks=True,
                                                    types_mapper=lists_in_arrow)
        scores = np.empty((file.metadata.num_rows, len(ordered)), order="F")
        for i, column in enumerate(ordered):
            scores[:, i] = file.read(columns=[column]).column(0).to_numpy()  # a null becomes NaN, refused below
    except InputError:
        raise
    except Exception as exc:  # pyarrow raises several unrelated types for bad files
        raise InputError(f"{path}: not a valid Parquet file ({type(exc).__name__}: {exc})") from None
    return frame, ({c: score_cols[c] for c in _order_classes(score_cols)}, scores)


def multilabel_from_frame(frame: pd.DataFrame, *, source: str = "<frame>", label_sep: str = DEFAULT_SEPARATOR,
                          images_root: str | Path | None = None, base_dir: str | Path | None = None,
                          read_warnings: Sequence[str] = (), images_by_name: bool = False,
                          _consume: bool = False, _scores=None) -> MultilabelDataset:
    """Validate a raw multi-label table into a :class:`MultilabelDataset` (``frame`` is left as it is)."""
    if not label_sep:
        raise InputError("--label-sep: expected a non-empty separator, e.g. '|' or ';'")
    if frame.shape[1] == 0 and len(frame) == 0:
        raise InputError(f"{source}: the file is empty; expected a header row and data rows")
    columns = [str(c) for c in frame.columns]
    frame = frame.set_axis(columns, axis=1)
    set_col = _find(columns, LABEL_SET_NAMES) or _find(columns, LABEL_NAMES)
    indicators = indicator_columns(columns, INDICATOR_PREFIX)
    if set_col is not None and indicators:
        shown = ", ".join(repr(c) for c in list(indicators.values())[:3])
        raise InputError(f"{source}: the true labels are given twice, as the label-set column {set_col!r} and as "
                         f"indicator columns ({shown}); expected one form: a label-set column or label_<class> "
                         f"columns")
    if set_col is None and not indicators:
        raise InputError(f"{source}: no true labels for a multi-label file; expected a label-set column (one of "
                         f"{list(LABEL_SET_NAMES)}) or one indicator column per class (label_<class>), found "
                         f"columns {columns}")
    if len(frame) == 0:
        raise InputError(f"{source}: the file has a header but no data rows")
    pred_col = _find(columns, PREDICTED_SET_NAMES)
    pred_indicators = indicator_columns(columns, PREDICTED_PREFIX)
    if pred_col is not None and pred_indicators:
        shown = ", ".join(repr(c) for c in list(pred_indicators.values())[:3])
        raise InputError(f"{source}: the predictions are given twice, as {pred_col!r} and as indicator columns "
                         f"({shown}); expected one form")
    score_cols, _ = _score_columns(columns, source) if _scores is None else (_scores[0], None)
    image_col = _find(columns, IMAGE_NAMES)
    id_col = _find(columns, ID_NAMES)

    truth = (_label_set_column(frame[set_col], source, set_col, label_sep) if set_col is not None
             else _indicator_matrix(frame, indicators, source))
    given = None
    if pred_col is not None:
        given = _label_set_column(frame[pred_col], source, pred_col, label_sep)
    elif pred_indicators:
        given = _indicator_matrix(frame, pred_indicators, source)
    if not score_cols and given is None:
        raise InputError(f"{source}: no scores and no predictions; expected score columns named "
                         f"{SCORE_PREFIXES[0]}<class> (one independent score per class), a "
                         f"{PREDICTED_SET_NAMES[0]!r} column or pred_<class> columns; found columns {columns}")
    if score_cols:
        classes = _order_classes(score_cols.keys())
        for what, sets in (("true labels", truth), ("predicted labels", given)):
            if sets is not None:
                _check_scored(sets, classes, source, what, _score_prefix(score_cols))
        if _scores is not None:
            scores = _checked(_scores[1], [score_cols[c] for c in classes], source)
        else:
            scores = (_take_scores(frame, [score_cols[c] for c in classes], source) if _consume
                      else _score_matrix(frame, [score_cols[c] for c in classes], source))
    else:
        classes = _order_classes(set(truth.names) | set(given.names))
        scores = None
    index = {c: i for i, c in enumerate(classes)}
    y_true = truth.matrix(index, len(frame))
    y_pred = given.matrix(index, len(frame)) if given is not None else None
    in_unit = scores is not None and bool(np.all((scores >= 0) & (scores <= 1)))
    reason = "" if in_unit else ("the file has no scores" if scores is None else "some scores lie outside [0, 1]")

    warnings = list(read_warnings)
    ids = _ids(frame, id_col, source)
    image_paths = image_check = None
    if image_col is not None:
        root = Path(images_root) if images_root is not None else Path.cwd()
        base = Path(base_dir) if base_dir is not None else root
        image_paths, image_warnings, image_check = resolve_images(frame[image_col], root, base, source, image_col,
                                                                  by_name=images_by_name)
        warnings.extend(image_warnings)
    used = {set_col, pred_col, image_col, id_col, *indicators.values(), *pred_indicators.values(),
            *score_cols.values()}
    metadata = frame[[c for c in columns if c not in used]].reset_index(drop=True)
    for arr in (y_true, y_pred, scores, image_paths):
        if arr is not None:
            arr.setflags(write=False)
    return MultilabelDataset(
        source=source, classes=tuple(classes), y_true=y_true, scores=scores, ids=ids, y_pred_given=y_pred,
        image_paths=image_paths, metadata=metadata, is_probability=in_unit, probability_reason=reason,
        images_root=str(Path(images_root).resolve()) if image_col is not None and images_root else None,
        warnings=tuple(warnings), image_check=image_check,
    )


# --- the two forms of a label set ------------------------------------------------------------

@dataclass(frozen=True)
class _Sets:
    """Label sets as (row, name code) pairs: ``rows`` and ``codes`` of shape (n_pairs,) into ``names``."""

    rows: np.ndarray
    codes: np.ndarray
    names: list[str]
    column: str

    def matrix(self, index: dict[str, int], n: int) -> np.ndarray:
        out = np.zeros((n, len(index)), dtype=bool)
        lookup = np.array([index[name] for name in self.names], dtype=np.int64)
        if self.rows.size:
            out[self.rows, lookup[self.codes]] = True
        return out

    def rows_with(self, names) -> np.ndarray:
        wanted = np.flatnonzero(np.isin(np.asarray(self.names, dtype=object), list(names)))
        return np.unique(self.rows[np.isin(self.codes, wanted)])


def _label_set_column(series: pd.Series, source: str, column: str, sep: str) -> _Sets:
    """Parse a label-set column: lists (Parquet, JSON Lines), JSON arrays or ``sep``-joined names (text)."""
    if isinstance(series.dtype, pd.ArrowDtype):  # a Parquet list column kept in Arrow (load_multilabel)
        fast = _list_sets(series.array.__arrow_array__(), len(series), column)
        if fast is not None:
            return fast
    values = series.to_numpy(dtype=object)
    # a column holding any list is in list form (Parquet, JSON Lines): text cells there are not lists
    as_text = not any(isinstance(v, (list, tuple, np.ndarray)) for v in values)
    fast = _arrow_sets(values, as_text, sep, column)
    if fast is not None:
        return fast
    n = values.size
    lengths = np.zeros(n, dtype=np.int64)
    flat: list = []
    bad: list[int] = []
    bad_json: list[int] = []
    bad_item: list[int] = []
    for i, v in enumerate(values):
        if isinstance(v, (list, tuple, np.ndarray)):
            items = list(v)
        elif v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)):
            continue
        elif isinstance(v, str) and as_text:
            items = parse_label_cell(v, sep)
            if items is None:
                bad_json.append(i)
                continue
        else:
            bad.append(i)
            continue
        names = []
        for item in items:
            name = _item_name(item)
            if name is None:
                bad_item.append(i)
                break
            names.append(name)
        else:
            lengths[i] = len(names)
            flat.extend(names)
    if bad:
        rows = np.zeros(n, dtype=bool)
        rows[bad] = True
        first = values[bad[0]]
        raise InputError(f"{source}: column {column!r} has values that are not lists at {_rows(rows)} (first: "
                         f"{type(first).__name__} {str(first)[:40]!r}); expected a list of class names per row "
                         f"(in CSV: a JSON array such as [\"cat\", \"dog\"] or names joined by {sep!r}; empty: no label)")
    if bad_json:
        rows = np.zeros(n, dtype=bool)
        rows[bad_json] = True
        raise InputError(f"{source}: column {column!r} has cells starting with '[' that are not a JSON array at "
                         f"{_rows(rows)} (first: {str(values[bad_json[0]])[:40]!r}); expected a JSON array of "
                         f"class names such as [\"cat\", \"dog\"]")
    if bad_item:
        rows = np.zeros(n, dtype=bool)
        rows[bad_item] = True
        raise InputError(f"{source}: column {column!r} has label sets with an empty or non-text class name at "
                         f"{_rows(rows)} (first: {str(values[bad_item[0]])[:60]!r}); expected non-empty class "
                         f"names (text or whole numbers)")
    rows = np.repeat(np.arange(n, dtype=np.int64), lengths)
    codes, names = pd.factorize(pd.Series(flat, dtype=object)) if flat else (np.zeros(0, np.int64), [])
    return _Sets(rows, np.asarray(codes, dtype=np.int64), [str(x) for x in names], column)


def _arrow_sets(values: np.ndarray, as_text: bool, sep: str, column: str) -> _Sets | None:
    """The label sets parsed by Arrow, vectorised (a million rows in about a second); None when
    some cell needs the row-by-row parser (which also names the rows of a bad cell)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        if as_text:
            text = pa.array(values, type=pa.string(), from_pandas=True)
            text = pc.utf8_trim_whitespace(text)
            if pc.any(pc.starts_with(text, "[")).as_py():
                return None  # JSON arrays: the row-by-row parser
            text = pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)
            lists = pc.split_pattern(text, sep)
        else:
            lists = pa.array(values, from_pandas=True)
    except (pa.ArrowException, ValueError, TypeError):
        return None
    return _list_sets(lists, values.size, column)


def _list_sets(lists, n: int, column: str) -> _Sets | None:
    """Label sets from an Arrow list array (or chunked array) of n rows; None when some item is
    not a usable class name."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(lists, pa.ChunkedArray):
        lists = lists.combine_chunks()
    if not pa.types.is_list(lists.type) and not pa.types.is_large_list(lists.type):
        return None
    item_type = lists.type.value_type
    if not (pa.types.is_string(item_type) or pa.types.is_large_string(item_type) or pa.types.is_integer(item_type)):
        return None
    flat = pc.list_flatten(lists)
    if flat.null_count:
        return None
    lengths = pc.fill_null(pc.list_value_length(lists), 0).to_numpy(zero_copy_only=False).astype(np.int64)
    encoded = pc.dictionary_encode(flat).combine_chunks() if isinstance(flat, pa.ChunkedArray) else \
        pc.dictionary_encode(flat)
    raw = encoded.dictionary.to_pylist()
    names = [_item_name(x) for x in raw]
    if any(name is None for name in names):
        return None
    # spellings that become one name (" a" and "a", NFC and NFD) merge
    merged, inverse = np.unique(np.asarray(names, dtype=object).astype(str), return_inverse=True) if names else \
        (np.zeros(0, dtype=str), np.zeros(0, dtype=np.int64))
    codes = inverse.reshape(-1)[encoded.indices.to_numpy(zero_copy_only=False)] if names else np.zeros(0, np.int64)
    rows = np.repeat(np.arange(n, dtype=np.int64), lengths)
    return _Sets(rows, codes.astype(np.int64), [str(m) for m in merged], column)


def parse_label_cell(text: str, sep: str) -> list | None:
    """The items of one text cell of a label-set column: a JSON array (``["cat", "dog"]``) or names
    joined by ``sep``; ``[]`` for an empty cell; None when it starts with '[' but is not a JSON array."""
    text = text.strip()
    if not text:
        return []
    if not text.startswith("["):
        return text.split(sep)
    try:
        items = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return items if isinstance(items, list) else None


def _item_name(item) -> str | None:
    """A class name in a label set (NFC, stripped), or None when the item cannot be one."""
    if isinstance(item, (bool, np.bool_)):
        return None
    if isinstance(item, (int, np.integer)):
        return str(int(item))
    if isinstance(item, (float, np.floating)):
        return str(int(item)) if math.isfinite(item) and float(item).is_integer() else None
    if isinstance(item, str):
        name = unicodedata.normalize("NFC", item.strip())
        return name or None
    return None


_TRUE_TEXT = {"1": True, "0": False, "true": True, "false": False, "1.0": True, "0.0": False}


def _indicator_matrix(frame: pd.DataFrame, columns: dict[str, str], source: str) -> _Sets:
    """Indicator columns (0/1 or true/false) as label sets."""
    rows_all, codes_all, names = [], [], []
    for code, (name, column) in enumerate(columns.items()):
        on = _indicator(frame[column], source, column)
        rows = np.flatnonzero(on)
        rows_all.append(rows)
        codes_all.append(np.full(rows.size, code, dtype=np.int64))
        names.append(name)
    rows = np.concatenate(rows_all) if rows_all else np.zeros(0, np.int64)
    codes = np.concatenate(codes_all) if codes_all else np.zeros(0, np.int64)
    return _Sets(rows, codes, names, "label_<class>")


def _indicator(series: pd.Series, source: str, column: str) -> np.ndarray:
    """One indicator column as bool, shape (n_samples,)."""
    if pd.api.types.is_bool_dtype(series.dtype) and not series.isna().any():
        return series.to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        bad = ~np.isin(values, (0.0, 1.0))
        if not bad.any():
            return values == 1.0
    else:
        text = series.map(lambda v: _TRUE_TEXT.get(str(v).strip().lower()) if not isinstance(v, bool) else v)
        bad = text.isna().to_numpy()
        if not bad.any():
            return text.to_numpy(dtype=bool)
    first = series.iloc[int(np.flatnonzero(bad)[0])]
    raise InputError(f"{source}: column {column!r} has values other than 0 or 1 at {_rows(bad)} (first: "
                     f"{str(first)[:40]!r}); expected 0 or 1 (or true/false) in every row")


def _checked(scores: np.ndarray, columns: list[str], source: str) -> np.ndarray:
    """A score matrix read apart (columns in class order), refused where a value is missing or not finite."""
    bad = ~np.isfinite(scores)
    if bad.any():
        c = int(np.flatnonzero(bad.any(axis=0))[0])
        column = bad[:, c]
        raise InputError(f"{source}: column {columns[c]!r} has missing or infinite values at {_rows(column)}; "
                         f"expected a finite score in every row")
    return scores


def _take_scores(frame: pd.DataFrame, columns: list[str], source: str) -> np.ndarray:
    """The score matrix of shape (n_samples, n_classes), column-major, each column removed from
    ``frame`` once copied: the peak holds one copy of the scores and one column, not two copies."""
    scores = np.empty((len(frame), len(columns)), order="F")
    for i, column in enumerate(columns):
        values = frame.pop(column)
        if pd.api.types.is_float_dtype(values.dtype):
            scores[:, i] = values.to_numpy(dtype=np.float64, na_value=np.nan)
            if np.isfinite(scores[:, i]).all():
                continue
        scores[:, i] = _numeric(values, source, column)
    return scores


def _score_prefix(score_cols: dict[str, str]) -> str:
    first = next(iter(score_cols.values()))
    return first[: first.index("_") + 1]


def _check_scored(sets: _Sets, classes: Sequence[str], source: str, what: str, prefix: str) -> None:
    known = set(classes)
    bad = [name for name in sets.names if name not in known]
    if bad:
        raise InputError(
            f"{source}: column {sets.column!r} ({what}) names class{'es' if len(bad) > 1 else ''} "
            f"{bad[:MAX_ROWS_SHOWN]} at {_rows(_mask(sets.rows_with(bad), int(sets.rows.max()) + 1))} without a "
            f"score column; expected a score column for every class ({', '.join(prefix + b for b in bad[:3])} "
            f"missing); score columns exist for {list(classes)[:20]}")


def _mask(rows: np.ndarray, n: int) -> np.ndarray:
    out = np.zeros(n, dtype=bool)
    out[rows] = True
    return out
