"""Per-concept calibration against scikit-learn (Brier score, log loss, the reliability curve)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.calibration import calibration_curve
from sklearn.metrics import brier_score_loss, log_loss

from evaldash.multilabel_calibration import concept_calibration
from evaldash.tasks import evaluate_dataset, load_dataset

CONCEPTS = Path(__file__).resolve().parents[1] / "sample_data" / "digits" / "concepts.csv"


@pytest.mark.parametrize("cls", range(4))
def test_each_concepts_calibration_is_scikit_learns(cls):
    ev = evaluate_dataset(load_dataset(CONCEPTS))
    y, s = ev.dataset.y_true[:, cls], ev.dataset.scores[:, cls]
    cal = concept_calibration(ev, cls)
    assert cal["available"]
    assert cal["brier"] == pytest.approx(brier_score_loss(y, s))
    assert cal["log_loss"] == pytest.approx(log_loss(y, s, labels=[False, True]))
    bins = cal["bins"]
    used = bins["count"] > 0
    share, mean_score = calibration_curve(y, s, n_bins=15, strategy="uniform")
    assert bins["accuracy"][used] == pytest.approx(share)
    assert bins["confidence"][used] == pytest.approx(mean_score)
    assert cal["ece"] == pytest.approx(np.sum(np.abs(share - mean_score) * bins["count"][used]) / len(y))
