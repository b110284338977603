"""Decide a predictions file's task once, at the edge, and load it into the dataset of that task.

``load_dataset`` gives a single-label :class:`~evaldash.dataset.Dataset` (task ``multiclass`` or
``binary``) or a :class:`~evaldash.multilabel_data.MultilabelDataset` (task ``multilabel``);
``evaluate_dataset`` gives the results object of either (both have the views of
:mod:`evaldash.views`).
"""

from __future__ import annotations

import json
from pathlib import Path

from evaldash.dataset import Dataset, load_predictions
from evaldash.errors import InputError
from evaldash.io import _open_bytes, file_format, read_header
from evaldash.multilabel_data import DEFAULT_SEPARATOR, MultilabelDataset, detect_task, load_multilabel


def file_columns(path: str | Path) -> list[str]:
    """The column names of a predictions file without reading its rows (JSON Lines: the first
    record's keys)."""
    path = Path(path)
    fmt = file_format(path)
    if not path.is_file():
        return []  # the loader names the problem
    if fmt == "csv":
        return read_header(path)
    if fmt == "parquet":
        try:
            import pyarrow.parquet as pq

            return list(pq.read_schema(path).names)
        except Exception:  # noqa: BLE001 - the loader says why the file is not Parquet
            return []
    try:
        with _open_bytes(path) as fh:
            for line in fh:
                if line.strip():
                    record = json.loads(line)
                    return list(record) if isinstance(record, dict) else []
    except (OSError, EOFError, ValueError):
        return []
    return []


def load_dataset(path: str | Path, *, task: str | None = None, label_sep: str = DEFAULT_SEPARATOR,
                 positive: str | None = None, images_root: str | Path | None = None,
                 images_by_name: bool = False, classes=None) -> Dataset | MultilabelDataset:
    """Load ``path`` as the dataset of its task: detected from the truth columns' form, or forced
    with ``task`` ("multilabel", "multiclass" or "binary")."""
    kind = detect_task(file_columns(path), str(path), task)
    if kind == "multilabel":
        if positive is not None:
            raise InputError(f"--positive {positive!r}: a multi-label file has no positive class (every class is "
                             f"scored on its own)")
        if classes is not None:
            raise InputError(f"--classes {classes}: a multi-label file names its classes in its score columns")
        return load_multilabel(path, label_sep=label_sep, images_root=images_root, images_by_name=images_by_name)
    dataset = load_predictions(path, positive=positive, images_root=images_root, images_by_name=images_by_name,
                               classes=classes)
    if task == "binary" and not dataset.is_binary:
        raise InputError(f"{path}: --task binary needs exactly two classes; found {len(dataset.classes)}: "
                         f"{list(dataset.classes)[:10]}")
    return dataset


def evaluate_dataset(dataset: Dataset | MultilabelDataset, threshold: float | None = None, thresholds=None):
    """The results object of ``dataset``'s task (:class:`~evaldash.evaluation.Evaluation` or
    :class:`~evaldash.multilabel_evaluation.MultilabelEvaluation`)."""
    if isinstance(dataset, MultilabelDataset):
        from evaldash.multilabel_evaluation import evaluate_multilabel

        return evaluate_multilabel(dataset, threshold=threshold, thresholds=thresholds)
    from evaldash.evaluation import evaluate

    return evaluate(dataset, threshold=threshold)
