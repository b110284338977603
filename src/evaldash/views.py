"""The views every results object gives, whatever the task: pages and the CLI ask for these and do
not branch on the task.

:class:`~evaldash.evaluation.Evaluation` (single-label: ``multiclass`` or ``binary``) and
:class:`~evaldash.multilabel_evaluation.MultilabelEvaluation` (``multilabel``) both satisfy
:class:`EvaluationViews`; ``tests/test_views.py`` checks that each has every name here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
import pandas as pd

from evaldash.metrics import ThresholdSweep

# the names, in one place: what a page may call on any results object
VIEW_NAMES = ("task", "classes", "per_class_table", "matrix_modes", "matrix", "cell_samples", "sweep",
              "class_curves", "live_threshold", "suggestions", "slider_range", "report", "headline", "warnings")
# the columns of per_class_table(), in order (multi-label adds "threshold" at the end)
PER_CLASS_COLUMNS = ("class", "precision", "recall", "f1", "support", "tp", "fp", "fn", "tn", "roc_auc",
                     "average_precision")
MATRIX_MODE_LABELS = {"counts": "Counts", "true": "Share of the true class's samples",
                      "pred": "Share of the predicted class's samples", "score": "Mean score"}


@dataclass(frozen=True, eq=False)
class MatrixView:
    """A class-by-class matrix ready to draw.

    values : ndarray of shape (n_rows, n_cols), what the mode shows (counts, shares, mean scores)
    counts : ndarray of shape (n_rows, n_cols), the sample counts of the same cells
    rows, columns : tuple of str, the labels of the rows (true) and columns (predicted); a
        multi-label matrix ends with ``NO_LABEL`` / ``NO_PREDICTION``
    mode : str
    """

    values: np.ndarray
    counts: np.ndarray
    rows: tuple[str, ...]
    columns: tuple[str, ...]
    mode: str


NO_LABEL = "(no label)"
NO_PREDICTION = "(no prediction)"


@runtime_checkable
class EvaluationViews(Protocol):
    """What a results object offers (see :data:`VIEW_NAMES`)."""

    @property
    def task(self) -> str: ...  # "multilabel", "multiclass" or "binary"

    @property
    def classes(self) -> tuple[str, ...]: ...

    @property
    def matrix_modes(self) -> tuple[str, ...]: ...

    def per_class_table(self) -> pd.DataFrame: ...  # one row per class, PER_CLASS_COLUMNS

    def matrix(self, mode: str = "counts") -> MatrixView: ...

    def cell_samples(self, true: int, pred: int) -> np.ndarray: ...  # row indices, most confident first

    def sweep(self, cls: int) -> ThresholdSweep: ...

    def class_curves(self, cls: int) -> dict[str, np.ndarray]: ...

    def live_threshold(self, cls: int, t: float) -> dict: ...

    def suggestions(self, cls: int, target_precision: float = 0.9, target_recall: float = 0.9,
                    cost_fp: float = 1.0, cost_fn: float = 1.0) -> dict[str, float]: ...

    def slider_range(self, cls: int) -> tuple[float, float, float]: ...

    def report(self) -> dict: ...

    def headline(self) -> dict[str, float]: ...

    def warnings(self) -> list[str]: ...
