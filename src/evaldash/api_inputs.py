"""What :func:`evaldash.evaluate` accepts, turned into the table a predictions file holds.

A DataFrame, an Arrow table, a Polars frame or arrays (``y_true``, ``scores``, ``y_pred``,
``classes``, ``ids``, ``images``, ``metadata``) become one DataFrame in the file format
(``label``, ``score_<class>`` or ``score``, ``prediction``, ``id``, ``image``, metadata), which
:func:`evaldash.dataset.dataset_from_frame` validates exactly as it validates a file. Arrays are
checked here first only for what the file format cannot express (shapes, how many classes,
pixel arrays); a message of the file's validation is reworded to name the argument.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from evaldash.dataset import (ID_NAMES, IMAGE_NAMES, LABEL_NAMES, PREDICTION_NAMES, SCORE_PREFIXES,
                              SINGLE_SCORE_NAMES, _class_names)
from evaldash.errors import InputError

MAX_SHOWN = 5
ARRAYS = "evaluate()"  # the source named in messages about arrays


@dataclass(frozen=True)
class Prepared:
    """A table in the file format with what :func:`dataset_from_frame` needs besides it.

    ``from_arrays``: the table was made from arrays, so a validation message is reworded to name
    the arguments (``column 'label'`` → ``y_true``). ``path``: the file it was read from, if any.
    """

    frame: pd.DataFrame
    source: str
    positive: str | None = None
    images_root: str | None = None
    base_dir: str | None = None
    from_arrays: bool = False
    path: str | None = None


# --- the task of the data: one place to add multi-label -----------------------------------------

SINGLE_LABEL = "single-label"
MULTI_LABEL = "multi-label"


def task_of_arrays(y_true: np.ndarray) -> str:
    """The task ``y_true`` describes: shape (n,) of labels is single-label, an indicator matrix
    (n, k) is multi-label."""
    return SINGLE_LABEL if y_true.ndim == 1 else MULTI_LABEL


# --- the workspace: files made from in-memory data (PNGs of pixel arrays, Parquet for show) -------

_WORKSPACE: list[Path] = []


def workspace() -> Path:
    """This process's private temporary folder (mode 0700), removed when the interpreter exits."""
    if not _WORKSPACE or not _WORKSPACE[0].is_dir():
        folder = Path(tempfile.mkdtemp(prefix="evaldash-")).resolve()
        _WORKSPACE[:] = [folder]
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return _WORKSPACE[0]


# --- tables -------------------------------------------------------------------------------------

def is_polars(data) -> bool:
    """A Polars DataFrame, recognised without importing Polars (not a dependency)."""
    return type(data).__module__.split(".")[0] == "polars" and hasattr(data, "to_arrow")


def table_frame(data, source: str) -> pd.DataFrame:
    """A pandas DataFrame of a pandas, Arrow or Polars table (Arrow columns as the Parquet reader
    makes them); anything else is refused."""
    if isinstance(data, pd.DataFrame):
        return data
    import pyarrow as pa

    if is_polars(data):
        data = data.to_arrow()
    if isinstance(data, pa.RecordBatch):
        data = pa.Table.from_batches([data])
    if isinstance(data, pa.Table):
        # as io._read_parquet makes it, without self_destruct: the caller keeps their table
        return data.to_pandas(split_blocks=True)
    raise InputError(f"{source}: expected a pandas DataFrame, a pyarrow Table, a Polars DataFrame, a "
                     f"predictions file's path or arrays (y_true, scores); found {type(data).__name__}")


# --- arrays -------------------------------------------------------------------------------------

def _indices(mask: np.ndarray) -> str:
    idx = np.flatnonzero(mask)
    shown = ", ".join(str(i) for i in idx[:MAX_SHOWN])
    more = f" and {len(idx) - MAX_SHOWN} more" if len(idx) > MAX_SHOWN else ""
    return f"index{'es' if len(idx) > 1 else ''} {shown}{more}"


def _array(value, name: str) -> np.ndarray:
    if isinstance(value, (pd.Series, pd.Index)):
        value = value.to_numpy()
    elif isinstance(value, pd.DataFrame):
        value = value.to_numpy()
    elif hasattr(value, "to_numpy") and not isinstance(value, np.ndarray):  # Arrow, Polars series
        value = value.to_numpy()
    try:
        out = np.asarray(value)
    except (ValueError, TypeError) as exc:
        raise InputError(f"{ARRAYS}: {name} cannot be read as an array ({exc}); expected a list or an "
                         f"array with one entry per sample") from None
    if out.ndim == 0:
        raise InputError(f"{ARRAYS}: {name} is a single value ({out!r}); expected one entry per sample")
    return out


def _scores(value, n: int) -> np.ndarray:
    raw = _array(value, "scores")
    if raw.dtype == object or not (np.issubdtype(raw.dtype, np.number) or raw.dtype == bool):
        try:
            raw = raw.astype(np.float64)
        except (ValueError, TypeError):
            raise InputError(f"{ARRAYS}: scores holds values that are not numbers (dtype {raw.dtype}); "
                             f"expected numbers of shape (n, k) or (n,) for binary data") from None
    scores = raw.astype(np.float64, copy=False)
    if scores.ndim not in (1, 2):
        raise InputError(f"{ARRAYS}: scores has shape {scores.shape}; expected (n, k) (a score per class) "
                         f"or (n,) (binary data: the positive class's score)")
    if scores.shape[0] != n:
        raise InputError(f"{ARRAYS}: scores has {scores.shape[0]} rows but y_true has {n} labels; expected "
                         f"one row of scores per label")
    if scores.ndim == 2 and scores.shape[1] < 2:
        raise InputError(f"{ARRAYS}: scores has shape {scores.shape}; expected (n, k) with k >= 2 columns, "
                         f"or shape (n,) for binary data")
    bad = ~np.isfinite(scores)
    if bad.any():
        rows = bad if bad.ndim == 1 else bad.any(axis=1)
        what = "NaN" if np.isnan(scores[bad]).all() else "NaN or infinite values"
        raise InputError(f"{ARRAYS}: scores has {what} at {_indices(rows)} (0-based); expected a finite "
                         f"score in every row")
    return scores


def _names(values, what: str) -> np.ndarray:
    """Class names as the file reader names a column's values (``3`` and ``3.0`` are ``'3'``)."""
    return _class_names(pd.Series(values), ARRAYS, what)


def _classes(classes, scores: np.ndarray | None, y_true: np.ndarray, y_pred: np.ndarray | None) -> list[str] | None:
    """The class of each score column, as names: ``classes`` when given, else the distinct labels
    in sorted order (as scikit-learn's ``classes_``)."""
    if classes is not None:
        given = _array(classes, "classes")
        if given.ndim != 1:
            raise InputError(f"{ARRAYS}: classes has shape {given.shape}; expected a list of class names")
        names = [str(n) for n in _names(given, "classes")]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise InputError(f"{ARRAYS}: classes names {dup[:MAX_SHOWN]} more than once; expected each class once")
        want = 2 if scores is not None and scores.ndim == 1 else (scores.shape[1] if scores is not None else None)
        if want is not None and len(names) != want:
            shape = "(n,) binary scores need two classes (negative, positive)" if scores.ndim == 1 else \
                f"scores has {want} columns"
            raise InputError(f"{ARRAYS}: classes has {len(names)} names but {shape}; expected one class per "
                             f"score column, in the columns' order (e.g. model.classes_)")
        return names
    if scores is None or scores.ndim == 1:
        return None  # the labels (and predictions) say which classes there are, as in a file
    seen = pd.unique(pd.Series(y_true if y_pred is None else np.concatenate([y_true, y_pred]).astype(object)))
    found = sorted({str(n) for n in _names(seen, "y_true")}, key=_order_key(seen))
    if len(found) != scores.shape[1]:
        raise InputError(f"{ARRAYS}: scores has {scores.shape[1]} columns but y_true{'' if y_pred is None else ' and y_pred'} "
                         f"hold{'s' if y_pred is None else ''} {len(found)} distinct labels {found[:10]}; pass classes= "
                         f"(the class of each score column, e.g. model.classes_)")
    return found


def _order_key(values):
    """Numeric order when every label is a number (as np.unique sorts integer labels), else text order."""
    numeric = all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in values)
    return (lambda n: float(n)) if numeric else (lambda n: n)


def _reserved(column: str) -> bool:
    low = str(column).strip().lower()
    return (low in LABEL_NAMES + PREDICTION_NAMES + IMAGE_NAMES + ID_NAMES + SINGLE_SCORE_NAMES
            or low.startswith(SCORE_PREFIXES) or low in ("labels",))


def _metadata(metadata, n: int) -> pd.DataFrame:
    if isinstance(metadata, pd.DataFrame):
        frame = metadata.reset_index(drop=True)
    elif isinstance(metadata, dict):
        try:
            frame = pd.DataFrame({str(k): list(v) if not hasattr(v, "__len__") or isinstance(v, str) else v
                                  for k, v in metadata.items()})
        except (ValueError, TypeError) as exc:
            raise InputError(f"{ARRAYS}: metadata cannot be made into columns ({exc}); expected a DataFrame "
                             f"or a dict of columns, one value per sample") from None
    else:
        try:
            frame = table_frame(metadata, f"{ARRAYS}: metadata").reset_index(drop=True)
        except InputError:
            raise InputError(f"{ARRAYS}: metadata is a {type(metadata).__name__}; expected a DataFrame or a dict of "
                             f"columns, one value per sample") from None
    if len(frame) != n:
        raise InputError(f"{ARRAYS}: metadata has {len(frame)} rows but y_true has {n} labels; expected one row "
                         f"per sample")
    clash = [str(c) for c in frame.columns if _reserved(c)]
    if clash:
        raise InputError(f"{ARRAYS}: metadata columns {clash[:MAX_SHOWN]} have names evaldash reads as labels, "
                         f"scores, predictions, ids or images; expected other names (rename them)")
    return frame


def frame_from_arrays(y_true, scores=None, y_pred=None, classes=None, ids=None, images=None, metadata=None,
                      positive: str | None = None) -> Prepared:
    """Arrays as the table a predictions file holds, by the task ``y_true`` describes
    (:data:`FRAME_BUILDERS`)."""
    if y_true is None:
        raise InputError(f"{ARRAYS}: no y_true; expected y_true (the true label of each sample) with scores "
                         f"(n, k) or (n,) and/or y_pred, or a DataFrame in the file format")
    labels = _array(y_true, "y_true")
    build = FRAME_BUILDERS[task_of_arrays(labels)]
    return build(labels, scores, y_pred, classes, ids, images, metadata, positive)


def single_label_frame(labels: np.ndarray, scores=None, y_pred=None, classes=None, ids=None, images=None,
                       metadata=None, positive: str | None = None) -> Prepared:
    """``label``, ``score_<class>`` (or ``score``), ``prediction``, ``id``, ``image`` and metadata
    columns from ``labels`` of shape (n,)."""
    n = labels.shape[0]
    if n == 0:
        raise InputError(f"{ARRAYS}: y_true is empty; expected at least one sample")
    if scores is None and y_pred is None:
        raise InputError(f"{ARRAYS}: no scores and no y_pred; expected scores of shape (n, k) (or (n,) for "
                         f"binary data) and/or y_pred (the predicted label of each sample)")
    s = _scores(scores, n) if scores is not None else None
    preds = None
    if y_pred is not None:
        preds = _array(y_pred, "y_pred")
        if preds.shape != (n,):
            raise InputError(f"{ARRAYS}: y_pred has shape {preds.shape} but y_true has shape ({n},); expected one "
                             f"predicted label per sample")
    for values, what in ((labels, "y_true"), (preds, "y_pred")):
        missing = pd.isna(pd.Series(values, dtype=object)).to_numpy() if values is not None else None
        if missing is not None and missing.any():
            raise InputError(f"{ARRAYS}: {what} has missing values at {_indices(missing)} (0-based); expected a "
                             f"label in every row")
    names = _classes(classes, s, labels, preds)
    columns: dict[str, object] = {"label": labels}
    if s is not None and s.ndim == 2:
        for i, name in enumerate(names):
            columns[f"score_{name}"] = s[:, i]
    elif s is not None:
        columns["score"] = s
        if names is not None and positive is None:
            positive = names[1]  # predict_proba(X)[:, 1] is the second class's score
    if preds is not None:
        columns["prediction"] = preds
    if names is not None:
        _check_in_classes(labels, names, "y_true")
        if preds is not None:
            _check_in_classes(preds, names, "y_pred")
    if ids is not None:
        id_values = _array(ids, "ids")
        if id_values.shape != (n,):
            raise InputError(f"{ARRAYS}: ids has shape {id_values.shape} but y_true has shape ({n},); expected "
                             f"one id per sample")
        columns["id"] = id_values
    images_root = None
    if images is not None:
        columns["image"], images_root = image_column(images, n)
    frame = pd.DataFrame(columns)
    if metadata is not None:
        meta = _metadata(metadata, n)
        frame = pd.concat([frame, meta], axis=1)
    return Prepared(frame, ARRAYS, positive, images_root, images_root, from_arrays=True)


def _indicators(value, name: str, shape: tuple[int, int]) -> np.ndarray:
    """An indicator matrix of ``shape`` (0/1 or bool) as bool."""
    raw = _array(value, name)
    if raw.shape != shape:
        raise InputError(f"{ARRAYS}: {name} has shape {raw.shape} but y_true has shape {shape}; expected an "
                         f"indicator matrix (n, k), one 0/1 column per class")
    if raw.dtype == bool:
        return raw
    try:
        numbers = raw.astype(np.float64)
    except (ValueError, TypeError):
        numbers = np.full(shape, np.nan)
    bad = ~np.isin(numbers, (0.0, 1.0))
    if bad.any():
        i, j = (int(v[0]) for v in np.nonzero(bad))
        first = raw[i, j].item() if isinstance(raw[i, j], np.generic) else raw[i, j]
        raise InputError(f"{ARRAYS}: {name} has values other than 0 and 1 at {_indices(bad.any(axis=1))} (0-based; "
                         f"first: {first!r} in column {j}); expected an indicator matrix of 0/1 or bool")
    return numbers == 1.0


def multi_label_frame(labels: np.ndarray, scores=None, y_pred=None, classes=None, ids=None, images=None,
                      metadata=None, positive: str | None = None) -> Prepared:
    """``label_<class>`` indicators, ``score_<class>``, ``pred_<class>``, ``id``, ``image`` and
    metadata columns from ``labels``, an indicator matrix of shape (n, k) (the multi-label file
    format); ``scores`` (n, k) are independent per-class scores, ``y_pred`` (n, k) indicators."""
    if labels.ndim != 2:
        raise InputError(f"{ARRAYS}: y_true has shape {labels.shape}; expected (n,) (one label per sample) or an "
                         f"indicator matrix (n, k) for multi-label data")
    n, k = labels.shape
    if n == 0 or k == 0:
        raise InputError(f"{ARRAYS}: y_true has shape {labels.shape}; expected at least one sample and one class")
    if positive is not None:
        raise InputError(f"{ARRAYS}: positive={positive!r} given with multi-label y_true; a multi-label model "
                         f"has no positive class (every class is scored on its own)")
    truth = _indicators(labels, "y_true", (n, k))
    if scores is None and y_pred is None:
        raise InputError(f"{ARRAYS}: no scores and no y_pred; expected scores of shape ({n}, {k}) (one independent "
                         f"score per class) and/or y_pred, an indicator matrix ({n}, {k})")
    s = None
    if scores is not None:
        s = _scores(scores, n)
        if s.shape != (n, k):
            raise InputError(f"{ARRAYS}: scores has shape {s.shape} but y_true has shape ({n}, {k}); expected one "
                             f"score per sample and class, shape ({n}, {k})")
    preds = _indicators(y_pred, "y_pred", (n, k)) if y_pred is not None else None
    if classes is None:
        names = [str(i) for i in range(k)]
    else:
        given = _array(classes, "classes")
        if given.ndim != 1:
            raise InputError(f"{ARRAYS}: classes has shape {given.shape}; expected a list of class names")
        names = [str(v) for v in _names(given, "classes")]
        if len(names) != k:
            raise InputError(f"{ARRAYS}: classes has {len(names)} names but y_true has {k} columns; expected one "
                             f"class per column, in the columns' order (e.g. MultiLabelBinarizer.classes_)")
        dup = sorted({v for v in names if names.count(v) > 1})
        if dup:
            raise InputError(f"{ARRAYS}: classes names {dup[:MAX_SHOWN]} more than once; expected each class once")
    columns: dict[str, object] = {f"label_{c}": truth[:, i] for i, c in enumerate(names)}
    if s is not None:
        columns.update({f"score_{c}": s[:, i] for i, c in enumerate(names)})
    if preds is not None:
        columns.update({f"pred_{c}": preds[:, i] for i, c in enumerate(names)})
    if ids is not None:
        id_values = _array(ids, "ids")
        if id_values.shape != (n,):
            raise InputError(f"{ARRAYS}: ids has shape {id_values.shape} but y_true has {n} rows; expected one id "
                             f"per sample")
        columns["id"] = id_values
    images_root = None
    if images is not None:
        columns["image"], images_root = image_column(images, n)
    frame = pd.DataFrame(columns)
    if metadata is not None:
        meta = _metadata(metadata, n)
        clash = [str(c) for c in meta.columns if str(c).strip().lower().startswith(("label_", "pred_"))]
        if clash:
            raise InputError(f"{ARRAYS}: metadata columns {clash[:MAX_SHOWN]} have names evaldash reads as "
                             f"multi-label indicators (label_<class>, pred_<class>); expected other names "
                             f"(rename them)")
        frame = pd.concat([frame, meta], axis=1)
    return Prepared(frame, ARRAYS, None, images_root, images_root, from_arrays=True)


# task → builder of the file-format table from arrays
FRAME_BUILDERS = {SINGLE_LABEL: single_label_frame, MULTI_LABEL: multi_label_frame}


def _check_in_classes(values: np.ndarray, names: list[str], what: str) -> None:
    codes, uniques = pd.factorize(pd.Series(values, dtype=object))
    unique_names = np.array([str(n) for n in _names(np.asarray(uniques, dtype=object), what)], dtype=object)
    unknown = ~np.isin(unique_names, names)
    if unknown.any():
        rows = np.isin(codes, np.flatnonzero(unknown))
        raise InputError(f"{ARRAYS}: {what} has labels {list(unique_names[unknown][:MAX_SHOWN])} at {_indices(rows)} "
                         f"(0-based) that are not classes; expected one of {names[:20]} (the class of each score "
                         f"column)")


# --- images -------------------------------------------------------------------------------------

def image_column(images, n: int) -> tuple[np.ndarray, str]:
    """The ``image`` column of ``images`` (paths, PIL images, or uint8 pixel arrays of shape
    (n, h, w) or (n, h, w, c)) and the images root. Pixels are written as PNG files in the
    workspace; paths are kept, their common folder is the root."""
    if isinstance(images, np.ndarray) and images.dtype != object:
        return _write_pixels(_pixel_stack(images, n))
    items = list(images.to_numpy() if isinstance(images, (pd.Series, pd.Index)) else images)
    if len(items) != n:
        raise InputError(f"{ARRAYS}: images has {len(items)} entries but y_true has {n} labels; expected one "
                         f"image per sample")
    from PIL import Image

    kinds = {("path" if isinstance(v, (str, os.PathLike)) or v is None else
              "PIL image" if isinstance(v, Image.Image) else
              "array" if isinstance(v, np.ndarray) else type(v).__name__) for v in items}
    if kinds <= {"path"}:
        return _paths(items)
    if kinds == {"array"}:
        shapes = [v.shape for v in items]
        first = shapes[0]
        other = np.array([s != first for s in shapes])
        if other.any():
            j = int(np.flatnonzero(other)[0])
            raise InputError(f"{ARRAYS}: images have mixed sizes: index 0 is {_size(first)}, index {j} is "
                             f"{_size(shapes[j])} ({_indices(other)} not of the size of index 0); expected one size "
                             f"(h, w[, c]) for every image")
        return _write_pixels(_pixel_stack(np.stack(items), n))
    if kinds == {"PIL image"}:
        return _write_images(items)
    raise InputError(f"{ARRAYS}: images mixes {sorted(kinds)}; expected file paths, PIL images, or uint8 "
                     f"arrays of shape (n, h, w) or (n, h, w, c)")


def _size(shape: tuple) -> str:
    return "×".join(str(s) for s in shape)


def _pixel_stack(pixels: np.ndarray, n: int) -> np.ndarray:
    if pixels.ndim not in (3, 4) or (pixels.ndim == 4 and pixels.shape[3] not in (1, 3, 4)):
        raise InputError(f"{ARRAYS}: images has shape {pixels.shape}; expected (n, h, w) or (n, h, w, c) with "
                         f"c 1, 3 or 4 channels")
    if pixels.dtype != np.uint8:
        raise InputError(f"{ARRAYS}: images has dtype {pixels.dtype}; expected uint8 pixels (0-255), e.g. "
                         f"(x * 255).round().astype(np.uint8) for values in [0, 1]")
    if pixels.shape[0] != n:
        raise InputError(f"{ARRAYS}: images has {pixels.shape[0]} images but y_true has {n} labels; expected one "
                         f"image per sample")
    return pixels[..., 0] if pixels.ndim == 4 and pixels.shape[3] == 1 else pixels


def _new_image_folder() -> Path:
    folder = workspace() / f"images-{uuid.uuid4().hex[:12]}"
    folder.mkdir()
    return folder


def _write_pixels(pixels: np.ndarray) -> tuple[np.ndarray, str]:
    from PIL import Image

    return _write_images(Image.fromarray(p) for p in pixels)


def _write_images(images) -> tuple[np.ndarray, str]:
    folder = _new_image_folder()
    paths = []
    for i, image in enumerate(images):
        path = folder / f"{i:07d}.png"
        image.save(path, format="PNG")
        paths.append(str(path))
    return np.array(paths, dtype=object), str(folder)


def _paths(items: list) -> tuple[np.ndarray, str]:
    texts = [None if v is None else os.fspath(v) for v in items]
    real = [os.path.realpath(t) for t in texts if t is not None and str(t).strip()]
    folders = {os.path.dirname(r) for r in real}
    root = os.path.commonpath(sorted(folders)) if folders else os.getcwd()
    absolute = [None if t is None else (t if os.path.isabs(t) or not str(t).strip() else os.path.abspath(t))
                for t in texts]
    return np.array(absolute, dtype=object), root


# --- messages -----------------------------------------------------------------------------------

_ARGUMENT_OF = (("label", "y_true"), ("prediction", "y_pred"), ("id", "ids"), ("image", "images"),
                ("score", "scores"))


def reword(message: str) -> str:
    """A file-validation message about a table made from arrays, naming the arguments instead of
    the columns evaluate() made (rows are 1-based there: row 1 is index 0)."""
    out = re.sub(r"column 'score_(.*?)'", lambda m: f"scores (the column of class {m.group(1)!r})", message)
    out = re.sub(r"column 'label_(.*?)'", lambda m: f"y_true (the column of class {m.group(1)!r})", out)
    out = re.sub(r"column 'pred_(.*?)'", lambda m: f"y_pred (the column of class {m.group(1)!r})", out)
    for column, argument in _ARGUMENT_OF:
        out = out.replace(f"column {column!r}", argument).replace(f" in {column!r}", f" in {argument}")
    if re.search(r"\brows? \d", out):
        out += " (rows count from 1: row 1 is index 0)"
    return out
