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
from evaldash.dataset import Dataset, dataset_from_frame
from evaldash.errors import InputError
from evaldash.evaluation import Evaluation
from evaldash.comparison import Comparison
from evaldash.multilabel_data import MultilabelDataset, detect_task, multilabel_from_frame
from evaldash.multilabel_evaluation import MultilabelEvaluation
from evaldash.results import MultilabelResults, Results, results_for
from evaldash.tasks import evaluate_dataset, load_dataset

__all__ = ["Comparison", "MultilabelResults", "Results", "compare", "evaluate", "show"]


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


def dataset_of(prepared: Prepared, images_root: str | None = None) -> Dataset | MultilabelDataset:
    """Validate a prepared table as a file is validated, by the task its truth columns say (a
    ``labels`` column or ``label_<class>`` indicators: multi-label); a message about a table made
    from arrays names the arguments."""
    root = images_root or prepared.images_root
    try:
        if detect_task(prepared.frame.columns, prepared.source) == "multilabel":
            if prepared.positive is not None:
                raise InputError(f"positive={prepared.positive!r}: a multi-label table has no positive class "
                                 f"(every class is scored on its own)")
            return multilabel_from_frame(prepared.frame, source=prepared.source, images_root=root,
                                         base_dir=prepared.base_dir or root)
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
        ``prediction``, ``id``, ``image``, metadata columns; multi-label: a ``labels`` list column
        or ``label_<class>`` indicators, ``predicted_labels`` or ``pred_<class>``), a predictions
        file's path (either task), or the true labels (as ``y_true``).
    scores : array-like of shape (n, k), or (n,) for binary data
        Per-class scores in the order of ``classes`` (binary (n,): the second class's score;
        multi-label: one independent score per class).
    y_true : array-like of shape (n,), or (n, k) of 0/1 or bool for multi-label data
        True labels, or the indicator matrix of the true label sets.
    y_pred : array-like of shape (n,), or (n, k) of 0/1 or bool for multi-label data, optional
        Predicted labels (default: the highest score; binary (n,) scores: score >= 0.5 for
        probabilities, else >= 0; multi-label: each score >= ``threshold``, default 0.5).
    classes : array-like of shape (k,), optional
        The class of each score column (e.g. ``model.classes_``; default: the sorted distinct labels;
        multi-label: the class of each column of ``y_true``, default ``"0"`` to ``"k-1"``).
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
    Results or MultilabelResults
        (a :class:`Dataset` gives its :class:`Evaluation`, as ``evaldash.evaluate`` always did)

    Raises
    ------
    InputError
        Naming the argument (or column), the first offending rows and what was expected.
    """
    if isinstance(data, Results):
        return results_for(evaluate_dataset(data.dataset, threshold=threshold), data._frame, data._path)
    if isinstance(data, (Dataset, MultilabelDataset)):
        # as before the API existed: a validated Dataset gives the core Evaluation (wrap it in
        # results_for(...) for the views as DataFrames)
        return evaluate_dataset(data, threshold=threshold)
    if isinstance(data, (str, os.PathLike)):
        if scores is not None or y_true is not None:
            raise InputError("evaluate(): a path was given with arrays; expected either a predictions file or arrays")
        dataset = load_dataset(data, positive=positive,
                               images_root=str(images_root) if images_root is not None else None)
        return results_for(evaluate_dataset(dataset, threshold=threshold), path=str(Path(data).resolve()))
    prepared = prepare(data, scores, y_true=y_true, y_pred=y_pred, classes=classes, ids=ids, images=images,
                       metadata=metadata, positive=positive, source=source)
    dataset = dataset_of(prepared, str(images_root) if images_root is not None else None)
    return results_for(evaluate_dataset(dataset, threshold=threshold), frame=prepared.frame)


# --- show: the dashboard in the background -------------------------------------------------------

_shown = [0]  # runs shown by this process, to name files and unnamed runs
_SHOW_KEYWORDS = {"y_true", "y_pred", "classes", "ids", "images", "metadata", "positive", "images_root", "source"}


def show(data=None, scores=None, *, name: str | None = None, port: int | None = None, db=None,
         timeout: float = 90.0, **evaluate_kwargs):
    """Open the dashboard on ``data`` in the background and return its handle.

    Parameters
    ----------
    data
        Anything :func:`evaluate` accepts (a table, arrays with ``scores=`` and the keywords of
        ``evaluate``, a path), a :class:`Results`, or several runs as a dict
        ``{"v1": data1, "v2": data2}`` (each a table, a path or a Results).
    name : str, optional
        The run's name in the dashboard (a dict's keys name its runs).
    port : int, optional
        The port on 127.0.0.1 (default: a free one). The server is reused by later calls unless
        they ask for another port or database.
    db : path or database URL, optional
        The annotation database (default: as ``evaldash serve``: EVALDASH_DB, else the user's).
    timeout : float
        Seconds to wait for a new server to answer (it starts while the data is checked and written).

    Returns
    -------
    Dashboard
        ``.url``, ``.stop()``, ``.findings()``, ``.thresholds()``; shown inline in Jupyter.
        The server stops when this interpreter exits.
    """
    from evaldash.api_inputs import workspace
    from evaldash.notebook_server import Dashboard, forget, server_for

    unknown = sorted(set(evaluate_kwargs) - _SHOW_KEYWORDS)
    if "threshold" in unknown:
        raise InputError("show(): threshold= is chosen in the dashboard (/threshold, /decision); for a report at a "
                         "fixed threshold use evaluate(..., threshold=t)")
    if unknown:  # as Python says it for any function
        raise TypeError(f"show() got an unexpected keyword argument {unknown[0]!r}")
    folder = workspace()
    if isinstance(data, dict):
        if scores is not None or evaluate_kwargs.get("y_true") is not None:
            raise InputError("show(): a dict of runs was given with arrays; expected {name: table, path or Results}")
        if not data:
            raise InputError("show(): the dict of runs is empty; expected {name: table, path or Results}")
        plans = [_plan(value, str(label), None, evaluate_kwargs, folder) for label, value in data.items()]
    else:
        plans = [_plan(data, name, scores, evaluate_kwargs, folder)]
    runs = [run for run, _ in plans]
    # a new server starts first: its seconds of start-up overlap with validating and writing the data
    server, started = server_for(runs, folder, port, db)
    try:
        for _, write in plans:
            if write is not None:
                write()
    except BaseException:
        if started:
            forget(server)
        raise
    if started:
        server.wait_ready(timeout)
    server.add(runs)
    return Dashboard(server, runs)


def _plan(data, label: str | None, scores, kwargs: dict, folder: Path):
    """One run for the server and what must happen before it can read it (None for a file given
    by its path; else validating the data and writing it as Parquet in ``folder``). The cheap
    checks of arrays run here, before any server starts."""
    from evaldash.dataset import IMAGE_NAMES, _find
    from evaldash.notebook_server import Run, safe_name

    _shown[0] += 1
    number = _shown[0]
    positive = kwargs.get("positive")
    images_root = kwargs.get("images_root")
    images_root = str(Path(images_root).resolve()) if images_root is not None else None
    if isinstance(data, (str, os.PathLike)):
        if scores is not None:
            raise InputError("show(): a path was given with scores; expected either a predictions file or arrays")
        path = Path(data).resolve()
        if not path.is_file():
            raise InputError(f"{data}: file not found")
        return Run(label or path.name, str(path), positive, images_root), None
    if isinstance(data, Results) and data._path is not None and scores is None:
        d = data.dataset
        return Run(label or Path(data._path).name, data._path, _positive_name(d), d.images_root), None
    label = label or f"{'arrays' if not _is_table(data) and not isinstance(data, Results) else type(data).__name__} {number}"
    run_folder = folder / f"run-{number}"
    run_folder.mkdir(exist_ok=True)
    path = run_folder / f"{safe_name(label)}.parquet"
    path.touch()  # `evaldash serve` checks that its file exists; the data replaces it before show returns
    if isinstance(data, (Results, Evaluation, Dataset, MultilabelEvaluation, MultilabelDataset)):
        dataset = data if isinstance(data, (Dataset, MultilabelDataset)) else data.dataset
        evaluation = data.evaluation if isinstance(data, Results) else None if dataset is data else data
        own_frame = data._frame if isinstance(data, Results) else None
        frame = own_frame if own_frame is not None else frame_of_dataset(dataset)
        root = dataset.images_root or (os.path.realpath(os.getcwd()) if dataset.image_paths is not None else None)
        threshold_free = evaluation is None or getattr(evaluation, "threshold", None) is None
        run = Run(label, str(path), _positive_name(dataset), root, dataset.fingerprint() if threshold_free else None)
        return run, lambda: _write_parquet(frame, path)
    prepared = prepare(data, scores, **{k: v for k, v in kwargs.items() if k != "images_root"})
    has_images = _find([str(c) for c in prepared.frame.columns], IMAGE_NAMES) is not None
    root = images_root or prepared.images_root or (os.path.realpath(os.getcwd()) if has_images else None)
    run = Run(label, str(path), prepared.positive, root)

    def write() -> None:  # validated as the server will (a bad table raises here, not in the browser)
        run._fingerprint = dataset_of(prepared, root).fingerprint()
        _write_parquet(prepared.frame, path)
    return run, write


def _positive_name(dataset) -> str | None:
    positive = getattr(dataset, "positive", None)  # a multi-label dataset has none
    return dataset.classes[positive] if positive is not None else None


def frame_of_dataset(dataset: Dataset | MultilabelDataset) -> pd.DataFrame:
    """A validated dataset as the table of a predictions file that gives it back (same classes,
    labels, predictions, scores and ids; so the same fingerprint)."""
    if isinstance(dataset, MultilabelDataset):
        return _frame_of_multilabel(dataset)
    classes = np.asarray(dataset.classes, dtype=object)
    columns = {"id": np.asarray(dataset.ids, dtype=object), "label": classes[dataset.y_true],
               "prediction": classes[dataset.y_pred]}  # always: argmax could break a tie otherwise
    if dataset.scores is not None:
        columns.update({f"score_{c}": dataset.scores[:, i] for i, c in enumerate(dataset.classes)})
    if dataset.image_paths is not None:
        columns["image"] = dataset.image_paths
    frame = pd.DataFrame(columns)
    for column in dataset.metadata.columns:
        frame[column] = dataset.metadata[column].to_numpy()
    return frame


def _frame_of_multilabel(dataset: MultilabelDataset) -> pd.DataFrame:
    """A multi-label dataset as ``label_<class>`` (and ``pred_<class>``) indicators and ``score_<class>``."""
    columns = {"id": np.asarray(dataset.ids, dtype=object)}
    columns.update({f"label_{c}": dataset.y_true[:, i] for i, c in enumerate(dataset.classes)})
    if dataset.y_pred_given is not None:
        columns.update({f"pred_{c}": dataset.y_pred_given[:, i] for i, c in enumerate(dataset.classes)})
    if dataset.scores is not None:
        columns.update({f"score_{c}": dataset.scores[:, i] for i, c in enumerate(dataset.classes)})
    if dataset.image_paths is not None:
        columns["image"] = dataset.image_paths
    frame = pd.DataFrame(columns)
    for column in dataset.metadata.columns:
        frame[column] = dataset.metadata[column].to_numpy()
    return frame


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    partial = path.with_name(path.name + ".partial")
    try:
        table = pa.Table.from_pandas(frame, preserve_index=False)
        pq.write_table(table, partial)
        os.replace(partial, path)  # a reader never sees half a file
    except (pa.ArrowException, TypeError, ValueError) as exc:
        raise InputError(f"show(): the data cannot be written as Parquet for the dashboard "
                         f"({type(exc).__name__}: {exc}); expected columns of plain values (numbers, text, "
                         f"dates), one type per column") from None


# --- compare: two runs, B minus A -----------------------------------------------------------------

def compare(a, b, *, resamples: int = 1000, seed: int = 0, **evaluate_kwargs) -> Comparison:
    """Compare B with A (each anything :func:`evaluate` accepts: a path, a table, a Results), as
    ``evaldash compare A B``: deltas of B minus A with bootstrap intervals, paired when both
    hold the same sample ids."""
    from evaldash.compare import compare as compare_evaluations

    if resamples < 10:
        raise InputError(f"--resamples {resamples}: expected at least 10 resamples")
    ra, rb = (_results(x, evaluate_kwargs) for x in (a, b))
    multi = [isinstance(r, MultilabelResults) for r in (ra, rb)]
    if any(multi):
        if not all(multi):
            raise InputError(f"compare(): A is {'multi' if multi[0] else 'single'}-label and B is "
                             f"{'multi' if multi[1] else 'single'}-label; expected two runs of the same task")
        from evaldash.multilabel_compare import compare_multilabel

        return Comparison(ra, rb, compare_multilabel(ra.evaluation, rb.evaluation, resamples=resamples, seed=seed))
    return Comparison(ra, rb, compare_evaluations(ra.evaluation, rb.evaluation, resamples=resamples, seed=seed))


def _results(data, kwargs: dict) -> Results:
    if isinstance(data, Results):
        return data
    if isinstance(data, (Evaluation, MultilabelEvaluation)):
        return results_for(data)
    out = evaluate(data, **kwargs)
    return out if isinstance(out, Results) else results_for(out)
