"""Scores as one list per row, and labels as class indices: named before validation.

PyTorch and Hugging Face users save the model's output as one list-valued column
(``df["probs"] = probs.tolist()``): a Parquet list column, a JSON array in JSON Lines, or a JSON
array written as text in a CSV cell. :func:`named_scores` turns that column into the
``score_<class>`` columns :mod:`evaldash.dataset` validates, so both forms give the same dataset.

The class names of the list's positions come, in this order, from

1. ``classes`` (``--classes cat,dog,bird``: the name of position 0 first);
2. the file's sidecar, ``<file name without its suffix>.classes.json`` next to it, holding
   ``{"classes": ["cat", "dog", "bird"]}`` (``val.parquet`` → ``val.classes.json``);
3. else ``0..k-1``, with a warning saying so.

With class names given (1 or 2), labels and predictions written as class indices ``0..k-1`` are
replaced by the names. A column whose every value already is one of the names is kept as it is.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from evaldash.errors import InputError

# list-valued score columns, the first found is used (probabilities before scores before logits)
LIST_SCORE_NAMES = ("probs", "proba", "probabilities", "prob", "scores", "score", "logits")
SIDECAR_SUFFIX = ".classes.json"
_PREDICTIONS_SUFFIXES = (".csv.gz", ".tsv.gz", ".jsonl.gz", ".csv", ".tsv", ".parquet", ".pq", ".jsonl", ".ndjson")
_MAX_SHOWN = 5
_INDEX = re.compile(r"\s*\d+\s*")


def sidecar_path(path: str | Path) -> Path:
    """Where the class names of ``path`` are looked for: ``val.parquet`` → ``val.classes.json``."""
    path = Path(path)
    name = path.name
    for suffix in _PREDICTIONS_SUFFIXES:
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    return path.with_name(name + SIDECAR_SUFFIX)


def parse_classes(text: str) -> tuple[str, ...]:
    """``--classes cat,dog,bird`` as class names, the name of class index 0 first."""
    return check_classes([c.strip() for c in str(text).split(",")], "--classes")


def check_classes(names, where: str) -> tuple[str, ...]:
    """Class names as given by ``where`` (an option or a sidecar file): text, none empty, each once."""
    if not isinstance(names, (list, tuple)) or not all(isinstance(n, (str, int)) and not isinstance(n, bool)
                                                       for n in names):
        raise InputError(f"{where}: expected a list of class names, found {str(names)[:80]!r}")
    names = tuple(str(n).strip() for n in names)
    if len(names) < 2:
        raise InputError(f"{where}: {len(names)} class name{'s' if len(names) != 1 else ''} given; "
                         f"expected at least two, comma-separated (e.g. cat,dog,bird)")
    empty = [i for i, n in enumerate(names) if not n]
    if empty:
        raise InputError(f"{where}: empty class name at position{'s' if len(empty) > 1 else ''} "
                         f"{', '.join(map(str, empty[:_MAX_SHOWN]))} (0 is the first); expected a name for each class")
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise InputError(f"{where}: class name{'s' if len(dup) > 1 else ''} {dup[:_MAX_SHOWN]} given twice; "
                         f"expected each class once")
    return names


def read_sidecar(path: str | Path) -> tuple[tuple[str, ...], str] | None:
    """The class names of the sidecar of ``path`` and its name, or None when there is none."""
    side = sidecar_path(path)
    if not side.is_file():
        return None
    try:
        content = json.loads(side.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise InputError(f"{side}: cannot read the class names ({type(exc).__name__}: {exc}); expected JSON "
                         f'like {{"classes": ["cat", "dog", "bird"]}}') from None
    if not isinstance(content, dict) or "classes" not in content:
        raise InputError(f'{side}: no "classes" key; expected JSON like {{"classes": ["cat", "dog", "bird"]}}')
    return check_classes(content["classes"], f"{side} \"classes\""), str(side)


def named_scores(frame: pd.DataFrame, path: str | Path, classes: Sequence[str] | None,
                 warnings: list[str]) -> pd.DataFrame:
    """``frame`` with its list of scores per row as ``score_<class>`` columns and its class-index
    labels and predictions as class names (``classes``, else the sidecar of ``path``)."""
    source = str(path)
    column = _list_column(frame)
    given, origin = (tuple(classes), "--classes") if classes else (None, "")
    if given is None:
        given, origin = read_sidecar(path) or (None, "")
    if column is None:
        if given is None:
            return frame
        mapped = _name_indices(frame, given, source, origin)
        if mapped is frame and origin == "--classes":
            warnings.append(f"{source}: --classes was not used: the file has no list of scores and no labels "
                            f"written as class indices")
        return mapped
    from evaldash.dataset import SCORE_PREFIXES  # dataset reads through this module

    clash = [c for c in frame.columns if str(c).lower().startswith(SCORE_PREFIXES)]
    if clash:
        raise InputError(f"{source}: both a list of scores per row (column {column!r}) and score columns "
                         f"{clash[:_MAX_SHOWN]}; expected one of the two forms")
    scores = list_scores(frame[column], source, column)
    k = scores.shape[1]
    if given is not None and len(given) != k:
        raise InputError(f"{source}: column {column!r} holds {k} scores per row but {origin} names "
                         f"{len(given)} classes {list(given)[:10]}; expected one name per score")
    names = given if given is not None else tuple(str(i) for i in range(k))
    other_lists = [c for c in frame.columns if c != column and _norm(c) in LIST_SCORE_NAMES and _is_listy(frame[c])]
    kept = frame.drop(columns=[column, *other_lists])
    before = list(frame.columns)[: list(frame.columns).index(column)]
    position = sum(c not in other_lists for c in before)  # the score columns stand where the list stood
    named = pd.DataFrame(scores, columns=[f"score_{n}" for n in names], index=frame.index)
    out = pd.concat([kept.iloc[:, :position], named, kept.iloc[:, position:]], axis=1)
    if other_lists:
        warnings.append(f"{source}: the scores come from column {column!r}; the list column"
                        f"{'s' if len(other_lists) > 1 else ''} {other_lists} {'were' if len(other_lists) > 1 else 'was'} "
                        f"not used")
    if given is None:
        warnings.append(
            f"{source}: column {column!r} holds {k} scores per row and no class names were given, so the classes "
            f"are named by position, 0 to {k - 1}; name them with --classes (the name of score 0 first) or in "
            f"{sidecar_path(path).name} next to the file: {{\"classes\": [...]}}")
        return out
    return _name_indices(out, given, source, origin)


def list_scores(series: pd.Series, source: str, column: str) -> np.ndarray:
    """The scores of a list-valued column, shape (n_samples, n_classes), float64, all finite.

    Each cell is a list (Parquet list column, JSON Lines array) or the text of a JSON array (CSV);
    every row must hold the same number of numbers."""
    if _is_arrow_list(series.dtype):
        lengths, scores = _from_arrow(series, source, column)
    elif series.dtype != object and pd.api.types.is_string_dtype(series.dtype):  # CSV text, kept in Arrow
        missing = series.isna().to_numpy()
        if missing.any():
            raise InputError(f"{source}: column {column!r} has missing values at {_rows(missing)}; "
                             f"expected a list of scores (one per class) in every row")
        lengths, flat = _from_text(series.array, source, column)
        _check_lengths(lengths, source, column)
        scores = flat.reshape(len(lengths), int(lengths[0]) if len(lengths) else 0)
    else:
        values = series.to_numpy(dtype=object)
        kinds = np.fromiter(map(_kind, values), dtype=np.int8, count=len(values))
        if (kinds == _MISSING).any():
            raise InputError(f"{source}: column {column!r} has missing values at {_rows(kinds == _MISSING)}; "
                             f"expected a list of scores (one per class) in every row")
        if (kinds == _TEXT).any() and not (kinds == _TEXT).all():
            raise InputError(f"{source}: column {column!r} holds text at {_rows(kinds == _TEXT)} and lists "
                             f"elsewhere; expected a list of scores in every row")
        if (kinds == _TEXT).all():
            lengths, flat = _from_text(values, source, column)
            _check_lengths(lengths, source, column)
            scores = flat.reshape(len(lengths), int(lengths[0]) if len(lengths) else 0)
        else:
            lengths, scores = _from_lists(values, kinds, source, column)
    scores = np.ascontiguousarray(scores, dtype=np.float64)
    bad = ~np.isfinite(scores).all(axis=1)
    if bad.any():
        raise InputError(f"{source}: column {column!r} has missing or infinite scores at {_rows(bad)}; "
                         f"expected finite numbers")
    return scores


_LIST, _TEXT, _MISSING, _OTHER = 0, 1, 2, 3
_KINDS = {list: _LIST, tuple: _LIST, np.ndarray: _LIST, str: _TEXT, type(None): _MISSING}


def _kind(value) -> int:
    kind = _KINDS.get(type(value))
    if kind is not None:
        return kind
    if value is pd.NA or (isinstance(value, float) and value != value):
        return _MISSING
    return _LIST if isinstance(value, (list, tuple, np.ndarray)) else (_TEXT if isinstance(value, str) else _OTHER)


def _check_lengths(lengths: np.ndarray, source: str, column: str) -> None:
    """Every row the same number of scores, at least two."""
    if len(lengths) and lengths.min() != lengths.max():
        counts = pd.Series(lengths).value_counts()
        usual = int(counts.index[0])
        parts = "; ".join(f"{int(n)} at {_rows(lengths == n)}" for n in counts.index[1:][:_MAX_SHOWN])
        raise InputError(f"{source}: column {column!r} holds lists of different lengths: {usual} scores in most "
                         f"rows, but {parts}; expected the same number of scores (one per class) in every row")
    k = int(lengths[0]) if len(lengths) else 0
    if k < 2:
        raise InputError(f"{source}: column {column!r} holds lists of {k} score{'s' if k != 1 else ''}; expected "
                         f"one score per class, at least two")


def _from_lists(values: np.ndarray, kinds: np.ndarray, source: str, column: str) -> tuple[np.ndarray, np.ndarray]:
    """Python lists (JSON Lines) or arrays: lengths, shape (n,), and the scores, shape (n, k)."""
    if (kinds != _LIST).any():
        raise InputError(f"{source}: column {column!r} holds single values at {_rows(kinds != _LIST)} and lists "
                         f"elsewhere; expected a list of scores in every row")
    lengths = np.fromiter(map(len, values), dtype=np.int64, count=len(values))
    _check_lengths(lengths, source, column)
    try:  # one C loop over equal-length rows; a nested or non-numeric row fails here
        scores = np.array(values.tolist(), dtype=np.float64)
        if scores.ndim != 2:
            raise ValueError("nested lists")
    except (TypeError, ValueError):
        _name_non_numbers(values, source, column)
        raise InputError(f"{source}: column {column!r} could not be read as lists of numbers; "
                         f"expected e.g. [0.1, 0.7, 0.2]") from None
    return lengths, scores


def _is_arrow_list(dtype) -> bool:
    if not isinstance(dtype, pd.ArrowDtype):
        return False
    import pyarrow as pa

    t = dtype.pyarrow_dtype
    return pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t)


def _from_arrow(series: pd.Series, source: str, column: str) -> tuple[np.ndarray, np.ndarray]:
    """A Parquet list column kept in Arrow (see :func:`arrow_list_columns`): read without a Python
    object per row."""
    import pyarrow as pa
    import pyarrow.compute as pc

    arr = pa.chunked_array(pa.array(series.array)).combine_chunks() if len(series) else pa.array(series.array)
    missing = arr.is_null().to_numpy(zero_copy_only=False)
    if missing.any():
        raise InputError(f"{source}: column {column!r} has missing values at {_rows(missing)}; "
                         f"expected a list of scores (one per class) in every row")
    lengths = pc.list_value_length(arr).to_numpy(zero_copy_only=False).astype(np.int64)
    _check_lengths(lengths, source, column)
    flat = pc.list_flatten(arr)
    if not (pa.types.is_integer(flat.type) or pa.types.is_floating(flat.type) or pa.types.is_null(flat.type)):
        _name_non_numbers(np.array(arr.to_pylist(), dtype=object), source, column)
    values = pc.cast(flat, pa.float64()).to_numpy(zero_copy_only=False)  # a null inside a list: NaN
    return lengths, values.reshape(len(lengths), int(lengths[0]) if len(lengths) else 0)


def arrow_list_columns(table) -> tuple[object, list[tuple[int, str, pd.Series]]]:
    """Take the list-typed score columns (:data:`LIST_SCORE_NAMES`) out of a ``pyarrow.Table``, as
    Arrow-backed Series (position, name, series), so the rest converts to pandas as usual and the
    scores are read without a Python list per row. Put them back with :func:`put_back`."""
    import pyarrow as pa

    taken = []
    for i, name in enumerate(table.column_names):
        t = table.schema.field(i).type
        if _norm(name) in LIST_SCORE_NAMES and (pa.types.is_list(t) or pa.types.is_large_list(t)
                                                or pa.types.is_fixed_size_list(t)):
            taken.append((i, name, pd.Series(pd.arrays.ArrowExtensionArray(table.column(i)), name=name)))
    for i, _, _ in reversed(taken):
        table = table.remove_column(i)
    return table, taken


def put_back(frame: pd.DataFrame, taken: list[tuple[int, str, pd.Series]]) -> pd.DataFrame:
    """The columns of :func:`arrow_list_columns` back at their places."""
    for position, name, series in taken:
        frame.insert(position, name, series.set_axis(frame.index))
    return frame


def _from_text(values, source: str, column: str) -> tuple[np.ndarray, np.ndarray]:
    """JSON arrays written as text (a CSV cell such as ``"[0.1, 0.7, 0.2]"``), parsed by Arrow.

    ``values``: strings, shape (n,), none missing (an object array or a pandas string array)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    stripped = pa.array(values, type=pa.large_string()) if isinstance(values, np.ndarray) else pa.array(values)
    if isinstance(stripped, pa.ChunkedArray):
        stripped = stripped.combine_chunks()

    def bracketed_rows(arr) -> np.ndarray:
        return pc.and_(pc.starts_with(arr, "["), pc.ends_with(arr, "]")).to_numpy(zero_copy_only=False)

    bracketed = bracketed_rows(stripped)
    if not bracketed.all():  # spaces around the brackets (rare): trim every cell
        stripped = pc.utf8_trim_whitespace(stripped)
        bracketed = bracketed_rows(stripped)
    if not bracketed.all():
        first = stripped[int(np.flatnonzero(~bracketed)[0])].as_py()
        raise InputError(f"{source}: column {column!r} has values that are not lists at {_rows(~bracketed)} "
                         f"(first: {str(first)[:40]!r}); expected a JSON array of scores such as [0.1, 0.7, 0.2]")
    inner = pc.utf8_trim_whitespace(pc.utf8_slice_codeunits(stripped, 1, -1))
    empty = pc.equal(inner, "").to_numpy(zero_copy_only=False)
    parts = pc.split_pattern(inner, ",")
    lengths = np.where(empty, 0, pc.list_value_length(parts).to_numpy(zero_copy_only=False)).astype(np.int64)
    if empty.any():  # "[]": no numbers to parse
        parts = pc.filter(parts, pa.array(~empty))
    try:
        flat = pc.cast(pc.utf8_trim_whitespace(pc.list_flatten(parts)), pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        parsed = np.empty(len(stripped), dtype=object)
        for i, v in enumerate(stripped.to_pylist()):
            try:
                parsed[i] = json.loads(v)
            except (json.JSONDecodeError, RecursionError):
                parsed[i] = v
        _name_non_numbers(parsed, source, column)
        raise InputError(f"{source}: column {column!r} could not be read as JSON arrays of numbers; "
                         f"expected e.g. [0.1, 0.7, 0.2]") from None
    return lengths, np.asarray(flat, dtype=np.float64)


def _name_non_numbers(values: np.ndarray, source: str, column: str) -> None:
    """Raise naming the rows whose list holds something other than numbers."""
    def numbers(v) -> bool:
        return isinstance(v, (list, tuple, np.ndarray)) and all(
            isinstance(x, (int, float, np.integer, np.floating)) and not isinstance(x, bool) for x in v)

    bad = np.fromiter((not numbers(v) for v in values), dtype=bool, count=len(values))
    if bad.any():
        first = values[int(np.flatnonzero(bad)[0])]
        raise InputError(f"{source}: column {column!r} has lists holding something other than numbers at "
                         f"{_rows(bad)} (first: {str(first)[:60]!r}); expected a list of numbers, one score "
                         f"per class")


def _norm(name) -> str:
    return str(name).strip().lower()


def _is_listy(series: pd.Series) -> bool:
    """Whether the column holds lists (or JSON arrays as text): judged by its first value."""
    if _is_arrow_list(series.dtype):
        return True
    if series.dtype != object and not pd.api.types.is_string_dtype(series.dtype):
        return False
    present = series.dropna()
    if not len(present):
        return False
    first = present.iloc[0]
    if isinstance(first, (list, tuple, np.ndarray)):
        return True
    return isinstance(first, str) and first.lstrip().startswith("[")


def _list_column(frame: pd.DataFrame) -> str | None:
    by_name = {}
    for c in frame.columns:
        by_name.setdefault(_norm(c), c)
    for name in LIST_SCORE_NAMES:
        if name in by_name and _is_listy(frame[by_name[name]]):
            return by_name[name]
    return None


def _label_columns(frame: pd.DataFrame) -> list[str]:
    from evaldash.dataset import LABEL_NAMES, PREDICTION_NAMES, _find  # dataset reads through this module

    columns = [str(c) for c in frame.columns]
    return [c for c in (_find(columns, LABEL_NAMES), _find(columns, PREDICTION_NAMES)) if c is not None]


def _indices(series: pd.Series) -> np.ndarray | None:
    """The column as class indices, shape (n_samples,), when every value is a non-negative integer."""
    if pd.api.types.is_bool_dtype(series.dtype) or series.isna().any():
        return None
    if pd.api.types.is_integer_dtype(series.dtype):
        values = series.to_numpy(dtype=np.int64)
    elif pd.api.types.is_float_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64)
        if not np.all(np.mod(values, 1) == 0):
            return None
        values = values.astype(np.int64)
    else:
        distinct = pd.unique(series.to_numpy(dtype=object))
        if not all(isinstance(v, str) and _INDEX.fullmatch(v) for v in distinct):
            return None
        codes, uniques = pd.factorize(series)
        values = np.array([int(u) for u in uniques], dtype=np.int64)[codes]
    return values if values.size and values.min() >= 0 else None


def _name_indices(frame: pd.DataFrame, names: tuple[str, ...], source: str, origin: str) -> pd.DataFrame:
    """Labels and predictions written as class indices, as ``names``; columns already holding names
    are kept."""
    out = frame
    for column in _label_columns(frame):
        series = frame[column]
        if all(str(v).strip() in names for v in pd.unique(series.dropna())):  # names already
            continue
        idx = _indices(series)
        if idx is None:
            continue
        beyond = idx >= len(names)
        if beyond.any():
            raise InputError(f"{source}: column {column!r} holds class index {int(idx[beyond].max())} at "
                             f"{_rows(beyond)}, but {origin} names {len(names)} classes (indices 0 to "
                             f"{len(names) - 1}); expected an index below {len(names)} or a class name")
        if out is frame:
            out = frame.copy()
        out[column] = np.asarray(names, dtype=object)[idx]
    return out


def _rows(mask: np.ndarray) -> str:
    """The first rows of ``mask``, 1-based (row 1 is the first data row)."""
    idx = np.flatnonzero(mask)
    shown = ", ".join(str(i + 1) for i in idx[:_MAX_SHOWN])
    more = f" and {len(idx) - _MAX_SHOWN} more" if len(idx) > _MAX_SHOWN else ""
    return f"row{'s' if len(idx) > 1 else ''} {shown}{more}"
