"""The Python API for notebooks and scripts: ``evaluate``, ``show`` and ``compare``.

A front door, not a second house: every input becomes the table a predictions file holds
(:mod:`evaldash.api_inputs`), validated by :func:`evaldash.dataset.dataset_from_frame` as a
file is, and evaluated by :func:`evaldash.evaluation.evaluate`, as the CLI and the dashboard do.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from evaldash.api_inputs import Prepared, frame_from_arrays, is_polars, reword, table_frame
from evaldash.dataset import Dataset, dataset_from_frame, load_predictions
from evaldash.errors import InputError
from evaldash.evaluation import Evaluation, evaluate as _evaluate
from evaldash.results import Results

__all__ = ["evaluate", "Results"]


def _is_table(data) -> bool:
    if isinstance(data, pd.DataFrame) or is_polars(data):
        return True
    import pyarrow as pa

    return isinstance(data, (pa.Table, pa.RecordBatch))


def prepare(data=None, scores=None, *, y_true=None, y_pred=None, classes=None, ids=None, images=None,
            metadata=None, positive: str | None = None, source: str | None = None) -> Prepared:
    """Any input of :func:`evaluate` as a table in the file format (not yet validated)."""
    if isinstance(data, (str, os.PathLike)):
        raise InputError("prepare() takes in-memory data; a path is read by load_predictions")
    arrays = {"y_true": y_true, "y_pred": y_pred, "classes": classes, "ids": ids, "images": images,
              "metadata": metadata}
    if isinstance(data, dict):  # a dict of runs is for show(); a dict of columns: make it a DataFrame
        table_frame(data, "evaluate()")  # refuses it, naming what is accepted
    if data is not None and _is_table(data):
        given = [name for name, v in {**arrays, "scores": scores}.items() if v is not None]
        if given:
            raise InputError(f"evaluate(): a table was given with {', '.join(given)}; expected either a table in the "
                             f"file format (label, score_<class>, prediction, id, image, metadata columns) or arrays")
        where = source or f"<{type(data).__name__}>"
        return Prepared(table_frame(data, where), where, positive)
    if data is not None:
        if y_true is not None:
            raise InputError("evaluate(): y_true given twice (as the first argument and as y_true=)")
        y_true = data
    prepared = frame_from_arrays(y_true, scores, y_pred, classes, ids, images, metadata, positive)
    if source:
        return Prepared(prepared.frame, source, prepared.positive, prepared.images_root, prepared.base_dir,
                        from_arrays=True)
    return prepared


def dataset_of(prepared: Prepared, images_root: str | None = None) -> Dataset:
    """Validate a prepared table as a file is validated; a message about a table made from arrays
    names the arguments.

    The one place a task dispatch goes: a multi-label table (a ``labels`` column, or arrays with
    an indicator matrix) would be sent to its own validation here, giving a multi-label Dataset.
    """
    root = images_root or prepared.images_root
    try:
        return dataset_from_frame(prepared.frame, source=prepared.source, positive=prepared.positive,
                                  images_root=root, base_dir=prepared.base_dir or root)
    except InputError as exc:
        if prepared.from_arrays:
            raise InputError(reword(str(exc))) from None
        raise


def evaluate(data=None, scores=None, *, y_true=None, y_pred=None, classes=None, ids=None, images=None,
             metadata=None, positive: str | None = None, threshold: float | None = None,
             images_root: str | os.PathLike | None = None, source: str | None = None) -> Results | Evaluation:
    """Evaluate predictions; no server, no files of yours written.

    Parameters
    ----------
    data : DataFrame, pyarrow.Table, polars.DataFrame, path, Dataset or array-like, optional
        A table in the predictions-file format (``label``, ``score_<class>`` or ``score``,
        ``prediction``, ``id``, ``image``, metadata columns), a predictions file's path, or the
        true labels (as ``y_true``).
    scores : array-like of shape (n, k), or (n,) for binary data
        Per-class scores in the order of ``classes`` (binary (n,): the second class's score).
    y_true : array-like of shape (n,)
        True labels.
    y_pred : array-like of shape (n,), optional
        Predicted labels (default: the highest score; binary (n,) scores: score >= 0.5 for
        probabilities, else >= 0).
    classes : array-like of shape (k,), optional
        The class of each score column (e.g. ``model.classes_``; default: the sorted distinct labels).
    ids : array-like of shape (n,), optional
        Unique sample ids (default: 1 to n).
    images : paths, PIL images, or uint8 array of shape (n, h, w) or (n, h, w, c), optional
        Pixels are written as PNG files to a private temporary folder, removed at exit.
    metadata : DataFrame or dict of columns, optional
        One row per sample (slices, galleries).
    positive, threshold, images_root
        As ``evaldash report --positive --threshold --images-root``.
    source : str, optional
        The name the report gives the data (default: the path, or ``evaluate()``).

    Returns
    -------
    Results
        (a :class:`Dataset` gives its :class:`Evaluation`, as ``evaldash.evaluate`` always did)

    Raises
    ------
    InputError
        Naming the argument (or column), the first offending rows and what was expected.
    """
    if isinstance(data, Results):
        return Results(_evaluate(data.dataset, threshold=threshold), data._frame, data._path)
    if isinstance(data, Dataset):
        # as before the API existed: a validated Dataset gives the core Evaluation (wrap it in
        # Results(...) for the views as DataFrames)
        return _evaluate(data, threshold=threshold)
    if isinstance(data, (str, os.PathLike)):
        if scores is not None or y_true is not None:
            raise InputError("evaluate(): a path was given with arrays; expected either a predictions file or arrays")
        dataset = load_predictions(data, positive=positive,
                                   images_root=str(images_root) if images_root is not None else None)
        return Results(_evaluate(dataset, threshold=threshold), path=str(Path(data).resolve()))
    prepared = prepare(data, scores, y_true=y_true, y_pred=y_pred, classes=classes, ids=ids, images=images,
                       metadata=metadata, positive=positive, source=source)
    dataset = dataset_of(prepared, str(images_root) if images_root is not None else None)
    return Results(_evaluate(dataset, threshold=threshold), frame=prepared.frame)
