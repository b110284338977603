"""Validate a predictions table once, at the edge, into an immutable :class:`Dataset`.

Everything downstream (metrics, figures, pages) trusts a ``Dataset``: class
indices are in range, scores are finite, ids are unique, image paths are
inside the allowed root.
"""

from __future__ import annotations

import hashlib
import os
import unicodedata
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Sequence

import numpy as np
import pandas as pd

from evaldash.errors import InputError
from evaldash.named_classes import NamedClasses
from evaldash.image_paths import ImageCheck, resolve_images
from evaldash.io import file_format, read_header, read_table

LABEL_NAMES = ("label", "y_true", "target", "ground_truth", "true_label")
PREDICTION_NAMES = ("prediction", "y_pred", "pred", "predicted_label")
SCORE_PREFIXES = ("score_", "prob_", "proba_")
SINGLE_SCORE_NAMES = ("score", "prob", "proba")
IMAGE_NAMES = ("image", "image_path", "filepath", "path")
ID_NAMES = ("id",)
PROBABILITY_TOLERANCE = 1e-3
MAX_ROWS_SHOWN = 5


@dataclass(frozen=True, eq=False)
class Dataset(NamedClasses):
    """A validated predictions file.

    Attributes
    ----------
    source : str
        Where the data came from (a path or an upload name).
    classes : tuple of str
        Class names in class order (numeric order if every name is a number).
    y_true, y_pred : ndarray of shape (n_samples,), dtype int32
        Class indices into ``classes``.
    scores : ndarray of shape (n_samples, n_classes) or None
        Per-class scores; ``None`` when the file has predictions only.
    ids : ExtensionArray of shape (n_samples,), Arrow strings
        Unique sample ids as strings (default: the 1-based row number).
    image_paths : ndarray of shape (n_samples,), dtype object, or None
        Absolute, checked image paths; ``None`` per row where the image is
        missing, unreadable or refused.
    metadata : DataFrame
        Every other column, one row per sample.
    positive : int or None
        Index of the positive class for binary data.
    is_probability : bool
        Whether every score row is a probability vector.
    probability_reason : str
        Why the scores are not probabilities (empty when they are).
    warnings : tuple of str
        Problems that did not stop loading (missing images, refused paths).
    image_check : ImageCheck or None
        How many image paths were found, refused or missing, and how to fix it (None without an
        image column).
    score_mirror : {"one_minus", "negate"} or None
        For a file with one score column: how the other class's score was made from it
        (``1 - s`` for probabilities, ``-s`` otherwise), so both sweeps can share one sort.
    """

    source: str
    classes: tuple[str, ...]
    y_true: np.ndarray
    y_pred: np.ndarray
    scores: np.ndarray | None
    ids: np.ndarray
    image_paths: np.ndarray | None = None
    metadata: pd.DataFrame = field(default_factory=pd.DataFrame)
    positive: int | None = None
    is_probability: bool = False
    probability_reason: str = ""
    prediction_given: bool = False
    images_root: str | None = None
    warnings: tuple[str, ...] = ()
    score_mirror: str | None = None
    image_check: ImageCheck | None = None

    @property
    def n(self) -> int:
        return int(self.y_true.shape[0])

    @property
    def is_binary(self) -> bool:
        return len(self.classes) == 2

    @property
    def task(self) -> str:
        """``"binary"`` or ``"multiclass"`` (a multi-label file is a ``MultilabelDataset``)."""
        return "binary" if self.is_binary else "multiclass"

    @property
    def has_scores(self) -> bool:
        return self.scores is not None


    def confidence(self) -> np.ndarray:
        """Score of the predicted class per sample, shape (n_samples,); NaN without scores."""
        if self.scores is None:
            return np.full(self.n, np.nan)
        return self.scores[np.arange(self.n), self.y_pred]

    def fingerprint(self) -> str:
        """A stable hash of the content (classes, ids, labels, scores)."""
        h = hashlib.sha256()
        h.update("\x1f".join(self.classes).encode())
        h.update(_string_bytes(self.ids))
        h.update(self.y_true.tobytes())
        h.update(self.y_pred.tobytes())
        if self.scores is not None:
            h.update(np.ascontiguousarray(self.scores).tobytes())
        return h.hexdigest()[:16]

    def frame(self) -> pd.DataFrame:
        """One row per sample: id, true, predicted, confidence, image, metadata."""
        classes = np.asarray(self.classes, dtype=object)
        out = pd.DataFrame(
            {
                "id": self.ids,
                "true": classes[self.y_true],
                "predicted": classes[self.y_pred],
                "confidence": self.confidence(),
                "image": self.image_paths if self.image_paths is not None else None,
            }
        )
        for col in self.metadata.columns:
            out[col] = self.metadata[col].to_numpy()
        return out


def subset(dataset: Dataset, rows: np.ndarray, label: str = "") -> Dataset:
    """The samples at ``rows`` (sorted row indices, shape (m,)) as a dataset of their own; its
    source says which slice it is. Classes, the positive class and score kind are kept."""
    rows = np.asarray(rows, dtype=np.int64)
    arrays = {}
    for name in ("y_true", "y_pred", "scores", "image_paths"):
        value = getattr(dataset, name)
        if value is not None:
            value = value[rows]
            value.setflags(write=False)
        arrays[name] = value
    ids = dataset.ids.take(rows) if hasattr(dataset.ids, "take") else dataset.ids[rows]
    return replace(dataset, ids=ids, metadata=dataset.metadata.iloc[rows].reset_index(drop=True),
                   source=f"{dataset.source} [{label}]" if label else dataset.source, **arrays)


def load_predictions(
    path: str | Path,
    *,
    positive: str | None = None,
    images_root: str | Path | None = None,
    images_by_name: bool = False,
    classes: str | Sequence[str] | None = None,
) -> Dataset:
    """Read and validate a predictions file (CSV, CSV.gz, TSV, Parquet, JSON Lines).

    ``classes`` (``"cat,dog,bird"`` or a sequence, the name of class index 0 first) names the
    positions of a list of scores per row and labels written as class indices; without it they
    come from the file's sidecar (see :mod:`evaldash.score_lists`).

    ``images_by_name``: an image path that names no file is looked up by its file name among the
    files under the images root (an upload and its zip of images; see :mod:`evaldash.image_paths`).

    Raises
    ------
    InputError
        With a message naming the file, column, first offending rows and what
        was expected versus found.
    """
    path = Path(path)
    if classes is not None:
        from evaldash.score_lists import check_classes, parse_classes

        classes = parse_classes(classes) if isinstance(classes, str) else check_classes(list(classes), "classes")
    text_columns: list[str] = []
    if path.exists() and file_format(path) == "csv":
        header = read_header(path)
        text_columns = [
            c for c in header
            if _norm(c) in LABEL_NAMES + PREDICTION_NAMES + IMAGE_NAMES + ID_NAMES
        ]
    read_warnings: list[str] = []
    frame = read_table(path, text_columns, warnings=read_warnings, classes=classes)
    root = Path(images_root) if images_root is not None else path.resolve().parent
    return dataset_from_frame(
        frame, source=str(path), positive=positive, images_root=root,
        base_dir=path.resolve().parent, read_warnings=read_warnings, images_by_name=images_by_name,
    )


def dataset_from_frame(
    frame: pd.DataFrame,
    *,
    source: str = "<frame>",
    positive: str | None = None,
    images_root: str | Path | None = None,
    base_dir: str | Path | None = None,
    read_warnings: Sequence[str] = (),
    images_by_name: bool = False,
) -> Dataset:
    """Validate a raw predictions table into a :class:`Dataset`.

    Class names are compared in Unicode NFC: ``café`` written composed or decomposed (in a
    label, a prediction or a score column's name) is one class, named in NFC, with a warning.
    ``read_warnings`` (from reading the file) lead the dataset's warnings.
    """
    if frame.shape[1] == 0 and len(frame) == 0:
        raise InputError(f"{source}: the file is empty; expected a header row and data rows")
    columns = [str(c) for c in frame.columns]
    frame = frame.set_axis(columns, axis=1)
    if len(set(columns)) != len(columns):
        dup = sorted({c for c in columns if columns.count(c) > 1})
        raise InputError(f"{source}: duplicate column names {dup}; expected each column once")

    label_col = _find(columns, LABEL_NAMES)
    if label_col is None:
        raise InputError(
            f"{source}: no label column; expected one of {list(LABEL_NAMES)}, "
            f"found columns {columns}"
        )
    if len(frame) == 0:
        raise InputError(f"{source}: the file has a header but no data rows")

    pred_col = _find(columns, PREDICTION_NAMES)
    image_col = _find(columns, IMAGE_NAMES)
    id_col = _find(columns, ID_NAMES)
    score_cols, single_col = _score_columns(columns, source)
    used = {label_col, pred_col, image_col, id_col, single_col, *score_cols.values()}

    labels = _class_codes(frame[label_col], source, label_col)
    predictions = _class_codes(frame[pred_col], source, pred_col) if pred_col else None
    if positive is not None:
        positive = unicodedata.normalize("NFC", str(positive))
    warnings: list[str] = list(read_warnings)
    renamed: dict[str, list[str]] = {}  # class name: the columns where it was not NFC
    for name, column in score_cols.items():
        if not unicodedata.is_normalized("NFC", column):
            renamed.setdefault(name, []).append(column)
    for coded, column in ((labels, label_col), (predictions, pred_col)):
        if coded is not None:
            for name in coded.names[coded.normalised]:
                renamed.setdefault(str(name), []).append(column)
    if renamed:
        shown = ", ".join(f"{name!r} (in {', '.join(repr(c) for c in columns)})"
                          for name, columns in list(renamed.items())[:MAX_ROWS_SHOWN])
        warnings.append(
            f"{source}: class names not in Unicode NFC were normalised to NFC, so that a name written "
            f"with composed or decomposed accents is one class: {shown}"
        )

    scores = None
    positive_idx = None
    if score_cols:
        classes = _order_classes(score_cols.keys())
        _check_known(labels, classes, source, label_col, "a score column", score_prefix(score_cols))
        if predictions is not None:
            _check_known(predictions, classes, source, pred_col, "a class with a score column",
                         score_prefix(score_cols))
        scores = _score_matrix(frame, [score_cols[c] for c in classes], source)
    elif single_col is not None:
        found = set(labels.names) | (set(predictions.names) if predictions is not None else set())
        if positive is not None:
            found.add(str(positive))
        if len(found) != 2:
            raise InputError(
                f"{source}: column {single_col!r} holds one score per row, which needs exactly two "
                f"classes; found {len(found)} in {label_col!r}: {sorted(found)[:10]}"
                + ("" if positive is not None or len(found) != 1 else
                   " (name the other class with --positive)")
            )
        classes = _order_classes(found)
        pos = classes.index(str(positive)) if positive is not None else 1
        s = _numeric(frame[single_col], source, single_col)
        in_unit = bool(np.all((s >= 0) & (s <= 1)))
        other = 1.0 - s if in_unit else -s
        scores = np.empty((len(s), 2))
        scores[:, pos] = s
        scores[:, 1 - pos] = other
        positive_idx = pos
    elif predictions is not None:
        classes = _order_classes(set(labels.names) | set(predictions.names))
    else:
        raise InputError(
            f"{source}: no scores and no prediction column; expected score columns named "
            f"{SCORE_PREFIXES[0]}<class> (or {', '.join(p + '<class>' for p in SCORE_PREFIXES[1:])}), "
            f"a single 'score' column for binary data, or a prediction column "
            f"({', '.join(PREDICTION_NAMES)}); found columns {columns}"
        )

    index = {c: i for i, c in enumerate(classes)}
    y_true = _encode(labels, index)
    if predictions is not None:
        y_pred = _encode(predictions, index)
    elif single_col is not None:
        # one score per row: positive when score >= 0.5 (probabilities) or >= 0 (real scores),
        # the same rule as the threshold views at that threshold
        cut = 0.5 if in_unit else 0.0
        y_pred = np.where(scores[:, positive_idx] >= cut, positive_idx, 1 - positive_idx).astype(np.int32)
    else:
        y_pred = np.argmax(scores, axis=1).astype(np.int32)

    if positive is not None and positive_idx is None:
        if str(positive) not in index:
            raise InputError(
                f"{source}: --positive {positive!r} is not a class; classes are {list(classes)}"
            )
        positive_idx = index[str(positive)]
    if positive_idx is None and len(classes) == 2:
        positive_idx = 1

    is_prob, reason = (False, "the file has no scores")
    mirror = None
    if single_col is not None and scores is not None:
        mirror = "one_minus" if in_unit else "negate"
        # s and 1 - s always sum to 1: no need to check the rows
        is_prob, reason = (True, "") if in_unit else _probability_check(scores, source)
    elif scores is not None:
        is_prob, reason = _probability_check(scores, source)

    ids = _ids(frame, id_col, source)
    image_paths = image_check = None
    if image_col is not None:
        root = Path(images_root) if images_root is not None else Path.cwd()
        base = Path(base_dir) if base_dir is not None else root
        image_paths, image_warnings, image_check = resolve_images(frame[image_col], root, base, source, image_col,
                                                                  by_name=images_by_name)
        warnings.extend(image_warnings)

    metadata = frame[[c for c in columns if c not in used]].reset_index(drop=True)
    for arr in (y_true, y_pred, scores, image_paths):
        if arr is not None:
            arr.setflags(write=False)
    return Dataset(
        source=source,
        classes=tuple(classes),
        y_true=y_true,
        y_pred=y_pred,
        scores=scores,
        ids=ids,
        image_paths=image_paths,
        metadata=metadata,
        positive=positive_idx,
        is_probability=is_prob,
        probability_reason=reason,
        prediction_given=predictions is not None,
        images_root=str(Path(images_root).resolve()) if image_col is not None and images_root else None,
        warnings=tuple(warnings),
        score_mirror=mirror,
        image_check=image_check,
    )


def score_prefix(score_cols: dict[str, str]) -> str:
    first = next(iter(score_cols.values()))
    return first[: first.index("_") + 1]


def _norm(name: str) -> str:
    return str(name).strip().lower()


def _find(columns: Sequence[str], names: Sequence[str]) -> str | None:
    by_norm = {}
    for c in columns:
        by_norm.setdefault(_norm(c), c)
    for name in names:
        if name in by_norm:
            return by_norm[name]
    return None


def _score_columns(columns: Sequence[str], source: str = "<frame>") -> tuple[dict[str, str], str | None]:
    """Per-class score columns of the first prefix that has any (class name in NFC: column), else
    a single score column."""
    for c in columns:
        for prefix in SCORE_PREFIXES:
            if c.lower().startswith(prefix) and not c[len(prefix):].strip():
                raise InputError(
                    f"{source}: column {c!r} has no class name after {prefix!r}; expected "
                    f"{prefix}<class> (rename it, or drop it if it is not a score)"
                )
    for prefix in SCORE_PREFIXES:
        found: dict[str, str] = {}
        for c in columns:
            if c.lower().startswith(prefix):
                name = unicodedata.normalize("NFC", c[len(prefix):])
                if name in found:
                    raise InputError(
                        f"{source}: columns {found[name]!r} and {c!r} (written {ascii(found[name])} and "
                        f"{ascii(c)}) are scores of the same class "
                        f"{name!r} (the names differ only in Unicode normalisation, NFC versus NFD); "
                        f"expected one score column per class"
                    )
                found[name] = c
        if found:
            return found, None
    return {}, _find(columns, SINGLE_SCORE_NAMES)


def _rows(mask: np.ndarray) -> str:
    """The first offending data rows, 1-based (row 1 is the first data row)."""
    idx = np.flatnonzero(mask)
    shown = ", ".join(str(i + 1) for i in idx[:MAX_ROWS_SHOWN])
    more = f" and {len(idx) - MAX_ROWS_SHOWN} more" if len(idx) > MAX_ROWS_SHOWN else ""
    return f"row{'s' if len(idx) > 1 else ''} {shown}{more}"


def _class_names(series: pd.Series, source: str, column: str) -> np.ndarray:
    """Class names as strings; integral floats (3.0) become '3'."""
    missing = series.isna().to_numpy()
    if missing.any():
        raise InputError(
            f"{source}: column {column!r} has missing values at {_rows(missing)}; "
            f"expected a class name in every row"
        )
    values = series.to_numpy()
    if pd.api.types.is_bool_dtype(series.dtype):
        return values.astype(str).astype(object)
    if pd.api.types.is_integer_dtype(series.dtype):
        return values.astype(np.int64).astype(str).astype(object)
    if pd.api.types.is_float_dtype(series.dtype):
        if np.all(np.mod(values, 1) == 0):
            return values.astype(np.int64).astype(str).astype(object)
        return np.array([repr(float(v)) for v in values], dtype=object)
    if pd.api.types.infer_dtype(series, skipna=False) == "string":
        out = series.to_numpy(dtype=object)
    else:
        out = np.array(
            [str(int(v)) if isinstance(v, float) and v.is_integer() else str(v) for v in values],
            dtype=object,
        )
    blank = pd.Series(out).str.strip().eq("").to_numpy()
    if blank.any():
        raise InputError(
            f"{source}: column {column!r} has empty values at {_rows(blank)}; "
            f"expected a class name in every row"
        )
    return out


@dataclass(frozen=True)
class _Coded:
    """A class-name column as codes into its distinct names (names are made once per value)."""

    codes: np.ndarray  # shape (n_samples,)
    names: np.ndarray  # shape (n_distinct,), str, NFC
    normalised: np.ndarray  # shape (n_distinct,), bool: a raw spelling of the name was not NFC

    def rows_with(self, names) -> np.ndarray:
        """Mask of shape (n_samples,) of the rows holding one of ``names``."""
        wanted = np.flatnonzero(np.isin(self.names, list(names)))
        return np.isin(self.codes, wanted)


def _class_codes(series: pd.Series, source: str, column: str) -> _Coded:
    """Factorise a class column first, so only its distinct values are turned into names."""
    missing = series.isna().to_numpy()
    if missing.any():
        raise InputError(
            f"{source}: column {column!r} has missing values at {_rows(missing)}; "
            f"expected a class name in every row"
        )
    _check_scalars(series, source, column, "one class name per row (a single-label file)")
    codes, uniques = pd.factorize(series)
    names = _class_names(pd.Series(np.asarray(uniques, dtype=object), dtype=object), source, column)
    nfc = np.array([unicodedata.normalize("NFC", n) for n in names.astype(str)], dtype=object)
    changed = nfc != names.astype(str)
    # distinct raw values can share a name (3 and 3.0 in JSON Lines, café in NFC and NFD)
    merged, inverse = np.unique(nfc.astype(str), return_inverse=True)
    normalised = np.zeros(len(merged), dtype=bool)
    normalised[inverse.reshape(-1)[changed]] = True
    coded = _Coded(inverse.reshape(-1)[codes].astype(np.int32), np.array([str(m) for m in merged], dtype=object),
                   normalised)
    blank = [n for n in coded.names if not n.strip()]
    if blank:
        raise InputError(
            f"{source}: column {column!r} has empty values at {_rows(coded.rows_with(blank))}; "
            f"expected a class name in every row"
        )
    return coded


_NESTED = (list, tuple, dict, set, np.ndarray)


def _check_scalars(series: pd.Series, source: str, column: str, expected: str) -> None:
    """Refuse lists and objects in a column that needs one plain value per row (Parquet list
    columns, JSON objects): pandas cannot even compare them."""
    if series.dtype != object or pd.api.types.infer_dtype(series, skipna=True) not in ("mixed", "unknown-array"):
        return
    nested = np.fromiter((isinstance(v, _NESTED) for v in series), dtype=bool, count=len(series))
    if nested.any():
        kinds = sorted({"objects" if isinstance(v, dict) else "lists" for v in series[nested]})
        raise InputError(
            f"{source}: column {column!r} holds {' and '.join(kinds)} at {_rows(nested)}; expected {expected}"
        )


def _is_number(text: str) -> bool:
    try:
        return np.isfinite(float(text))
    except ValueError:
        return False


def _order_classes(names) -> list[str]:
    names = sorted({str(n) for n in names})
    if names and all(_is_number(n) for n in names):
        return sorted(names, key=lambda n: (float(n), n))
    return names


def _check_known(values: _Coded, classes: Sequence[str], source: str, column: str,
                 what: str, prefix: str) -> None:
    bad = [str(n) for n in values.names if n not in set(classes)]
    if bad:
        raise InputError(
            f"{source}: column {column!r} has value{'s' if len(bad) > 1 else ''} "
            f"{bad[:MAX_ROWS_SHOWN]} at {_rows(values.rows_with(bad))} that "
            f"{'have' if len(bad) > 1 else 'has'} no score column; expected {what} "
            f"({', '.join(prefix + b for b in bad[:3])} missing); "
            f"score columns exist for {list(classes)[:20]}" + _index_hint(bad, classes, column, source)
        )


def _index_hint(bad: Sequence[str], classes: Sequence[str], column: str, source: str) -> str:
    """How to fix class indices written against named score columns (or named labels against
    scores named by position)."""
    k = len(classes)
    if all(b.isdigit() for b in bad) and not all(c.isdigit() for c in classes):
        return (f". The values look like class indices 0..{k - 1}: name them with --classes "
                f"NAME0,NAME1,... (the name of class 0 first, e.g. --classes {','.join(list(classes)[:3])}"
                f"{',...' if k > 3 else ''} in the order the model numbers its classes), or write the class names "
                f"in {column!r}")
    if list(classes) == [str(i) for i in range(k)] and not any(b.isdigit() for b in bad):
        from evaldash.score_lists import sidecar_path

        return (f". The scores are named by position, 0 to {k - 1}: give their class names with --classes "
                f"NAME0,NAME1,... (the name of score 0 first) or in a sidecar {sidecar_path(source).name} next to the file")
    return ""


def _numeric(series: pd.Series, source: str, column: str) -> np.ndarray:
    if pd.api.types.is_numeric_dtype(series.dtype) and not pd.api.types.is_bool_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        bad_text = np.zeros(len(values), dtype=bool)
    else:
        _check_scalars(series, source, column, "a number")
        values = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        bad_text = np.isnan(values) & series.notna().to_numpy()
    if bad_text.any():
        first = series.iloc[int(np.flatnonzero(bad_text)[0])]
        raise InputError(
            f"{source}: column {column!r} has non-numeric values at {_rows(bad_text)} "
            f"(first: {str(first)[:40]!r}); expected a number"
        )
    missing = np.isnan(values)
    if missing.any():
        raise InputError(
            f"{source}: column {column!r} has missing values at {_rows(missing)}; expected a score in every row"
        )
    infinite = ~np.isfinite(values)
    if infinite.any():
        raise InputError(
            f"{source}: column {column!r} has infinite values at {_rows(infinite)}; expected a finite number"
        )
    return values


def _score_matrix(frame: pd.DataFrame, columns: list[str], source: str) -> np.ndarray:
    """Scores of shape (n_samples, n_classes): one copy when every column is already a float."""
    if all(pd.api.types.is_float_dtype(frame[c].dtype) for c in columns):
        scores = frame[columns].to_numpy(dtype=np.float64, na_value=np.nan)
        if np.isfinite(scores).all():
            return scores
    # something is off (or not float): find and name it column by column
    return np.column_stack([_numeric(frame[c], source, c) for c in columns])


def _encode(values: _Coded, index: dict[str, int]) -> np.ndarray:
    lookup = np.array([index[str(n)] for n in values.names], dtype=np.int32)
    return lookup[values.codes]


def _probability_check(scores: np.ndarray, source: str) -> tuple[bool, str]:
    negative = (scores < 0).any(axis=1)
    if negative.any():
        return False, f"scores are not probabilities: negative values at {_rows(negative)}"
    off = np.abs(scores.sum(axis=1) - 1.0) > PROBABILITY_TOLERANCE
    if off.any():
        first = int(np.flatnonzero(off)[0])
        return False, (
            f"scores are not probabilities: rows do not sum to 1 within {PROBABILITY_TOLERANCE:g} "
            f"({_rows(off)}; row {first + 1} sums to {scores[first].sum():.4g})"
        )
    return True, ""


def _ids(frame: pd.DataFrame, id_col: str | None, source: str) -> pd.api.extensions.ExtensionArray:
    """Sample ids as an immutable Arrow string array (cheap at millions of rows)."""
    if id_col is None:
        return pd.Series(np.arange(1, len(frame) + 1)).astype("string[pyarrow]").array
    series = frame[id_col]
    missing = series.isna().to_numpy()
    if missing.any():
        raise InputError(f"{source}: column {id_col!r} has missing values at {_rows(missing)}; expected a unique id per row")
    if pd.api.types.infer_dtype(series, skipna=False) == "string":
        ids = series.astype("string[pyarrow]").reset_index(drop=True)
    else:
        ids = pd.Series(_class_names(series, source, id_col), dtype="string[pyarrow]")
    blank = ids.str.strip().eq("").to_numpy(dtype=bool)
    if blank.any():
        raise InputError(f"{source}: column {id_col!r} has empty values at {_rows(blank)}; expected a unique id per row")
    if not _all_distinct(ids.array):
        dup = ids.duplicated(keep=False).to_numpy()
        bad = pd.unique(ids[dup])
        raise InputError(
            f"{source}: column {id_col!r} has duplicate ids {[str(b) for b in bad[:MAX_ROWS_SHOWN]]} "
            f"at {_rows(dup)}; expected each id once"
        )
    return ids.array


def _string_bytes(strings) -> bytes:
    """The strings' UTF-8 bytes with their lengths, from the Arrow buffers (no Python strings)."""
    import pyarrow as pa

    arr = pa.array(strings)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    arr = arr.cast(pa.large_string())
    _, offsets_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int64)[arr.offset:arr.offset + len(arr) + 1]
    data = np.frombuffer(data_buf, dtype=np.uint8)[offsets[0]:offsets[-1]] if len(arr) else np.zeros(0, np.uint8)
    return np.diff(offsets).tobytes() + data.tobytes()


_HASH_MULTIPLIERS = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
                     0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0x94D049BB133111EB, 0xBF58476D1CE4E5B9)


def _all_distinct(strings) -> bool:
    """Whether no string occurs twice. Ids of one length (zero-padded numbers, UUIDs, hashes) are
    hashed to 64 bits with numpy and the hashes sorted, several times faster than Arrow's
    ``is_unique`` at millions of rows; only strings whose hashes clash are compared as text.
    Other ids use ``is_unique``."""
    import pyarrow as pa

    arr = pa.array(strings)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type):
        offset_type = np.int64 if pa.types.is_large_string(arr.type) else np.int32
        validity, offsets_buf, data_buf = arr.buffers()
        offsets = np.frombuffer(offsets_buf, dtype=offset_type)[arr.offset:arr.offset + len(arr) + 1]
        lengths = np.diff(offsets)
        width = int(lengths[0]) if lengths.size else 0
        if validity is None and lengths.size and 0 < width <= 64 and np.all(lengths == width):
            data = np.frombuffer(data_buf, dtype=np.uint8)[offsets[0]:offsets[-1]].reshape(-1, width)
            words = -(-width // 8)
            padded = np.zeros((len(arr), words * 8), dtype=np.uint8)
            padded[:, :width] = data
            cols = padded.view(np.uint64)
            # a 64-bit multiply-add hash, sorted; equal hashes are then compared byte for byte
            keys = np.zeros(len(arr), dtype=np.uint64)
            for j in range(words):
                keys += cols[:, j] * np.uint64(_HASH_MULTIPLIERS[j])
                keys ^= keys >> np.uint64(29)
            sorted_keys = np.sort(keys)
            clash = np.flatnonzero(sorted_keys[1:] == sorted_keys[:-1])
            if clash.size == 0:
                return True
            suspects = np.isin(keys, sorted_keys[clash])
            return not pd.Series(strings[suspects]).duplicated().any()
    return pd.Series(strings).is_unique
