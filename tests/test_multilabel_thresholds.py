"""Sample-level metrics when concepts' thresholds move, against a full re-evaluation and scikit-learn."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from sklearn.metrics import accuracy_score, f1_score, hamming_loss

from evaldash.multilabel_data import MultilabelDataset
from evaldash.multilabel_evaluation import evaluate_multilabel
from evaldash.multilabel_thresholds import metrics_at_thresholds
from evaldash.tasks import evaluate_dataset, load_dataset

CONCEPTS = Path(__file__).resolve().parents[1] / "sample_data" / "digits" / "concepts.csv"


def random_evaluation(seed: int, n: int = 400, k: int = 6):
    rng = np.random.default_rng(seed)
    y = rng.random((n, k)) < 0.3
    y[:20] = False  # samples with no label
    y[:, -1] = False  # a concept never labelled
    scores = np.round(rng.random((n, k)), 1)  # ties: ten distinct scores
    d = MultilabelDataset("random", tuple(f"c{i}" for i in range(k)), y, scores, pa.array([str(i) for i in range(n)]),
                          is_probability=True)
    return evaluate_multilabel(d, threshold=0.5)


@pytest.mark.parametrize("seed", range(5))
def test_moving_thresholds_gives_what_a_full_re_evaluation_and_scikit_learn_give(seed):
    ev = random_evaluation(seed)
    rng = np.random.default_rng(100 + seed)
    thresholds = ev.thresholds.copy()
    moved = rng.choice(ev.dataset.n_classes, 3, replace=False)
    thresholds[moved] = np.round(rng.random(3), 1)  # on a tied score value too
    got = metrics_at_thresholds(ev, thresholds)
    full = ev.with_thresholds(thresholds)
    y, p = ev.dataset.y_true, ev.dataset.scores >= thresholds
    assert got["subset_accuracy"] == pytest.approx(accuracy_score(y, p)) == pytest.approx(full.subset_accuracy)
    assert got["samples_f1"] == pytest.approx(f1_score(y, p, average="samples", zero_division=0))
    assert got["samples_f1"] == pytest.approx(full.averages["samples"]["f1"])
    assert got["hamming_loss"] == pytest.approx(hamming_loss(y, p)) == pytest.approx(full.hamming_loss)
    expected = full.thresholds_table()
    for col in ("threshold", "precision", "recall", "f1"):
        assert got["table"][col].tolist() == pytest.approx(expected[col].tolist()), col


def test_the_files_own_thresholds_give_its_own_numbers():
    ev = evaluate_dataset(load_dataset(CONCEPTS))
    got = metrics_at_thresholds(ev, ev.thresholds)
    head = ev.headline()
    assert [got[m] for m in ("subset_accuracy", "samples_f1", "hamming_loss")] == pytest.approx(
        [head["subset_accuracy"], head["samples_f1"], head["hamming_loss"]])
