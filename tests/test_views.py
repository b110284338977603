"""Both results objects give the same views (evaldash.views), so pages need not know the task."""

import numpy as np
import pandas as pd

from evaldash.dataset import dataset_from_frame
from evaldash.evaluation import evaluate
from evaldash.multilabel_data import multilabel_from_frame
from evaldash.multilabel_evaluation import evaluate_multilabel
from evaldash.views import PER_CLASS_COLUMNS, VIEW_NAMES, EvaluationViews, MatrixView


def _single(k=3):
    rng = np.random.default_rng(0)
    y = rng.integers(0, k, 60)
    s = rng.dirichlet(np.ones(k), 60)
    frame = pd.DataFrame({"label": y, **{f"score_{c}": s[:, c] for c in range(k)}})
    return evaluate(dataset_from_frame(frame))


def _multi():
    frame = pd.DataFrame({"labels": ["a|b", "", "b", "a"], "score_a": [0.9, 0.2, 0.4, 0.6],
                          "score_b": [0.8, 0.6, 0.7, 0.1]})
    return evaluate_multilabel(multilabel_from_frame(frame))


def test_every_results_object_has_every_view():
    for ev in (_single(), _single(2), _multi()):
        assert isinstance(ev, EvaluationViews)
        for name in VIEW_NAMES:
            assert hasattr(ev, name), name
        table = ev.per_class_table()
        assert tuple(table.columns[:len(PER_CLASS_COLUMNS)]) == PER_CLASS_COLUMNS
        assert list(table["class"]) == list(ev.classes)
        for mode in ev.matrix_modes:
            view = ev.matrix(mode)
            assert isinstance(view, MatrixView) and view.values.shape[0] == len(view.rows)
            assert view.values.shape[1] == len(view.columns)
        # a cell's samples are as many as its count
        assert ev.cell_samples(0, 0).size == ev.matrix("counts").counts[0, 0]
        assert ev.sweep(0).n_pos == int(table["support"][0])
        assert set(ev.headline()) and isinstance(ev.warnings(), list)


def test_single_label_reports_name_their_task():
    assert _single().report()["task"] == "multiclass" and _single().task == "multiclass"
    assert _single(2).report()["task"] == "binary"
    assert _multi().report()["task"] == "multilabel"
