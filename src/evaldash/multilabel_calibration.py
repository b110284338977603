"""Calibration of one concept of a multi-label evaluation: does a score of 0.8 for a concept mean the
sample carries it 80% of the time? Each concept's score is a probability on its own (binary)."""

from __future__ import annotations

import numpy as np

from evaldash import metrics

EPS = 1e-15  # scores are clipped to [EPS, 1 - EPS] for the log loss, as scikit-learn does


def concept_calibration(evaluation, cls: int, n_bins: int = 15) -> dict:
    """Calibration of concept ``cls``: ``available`` and ``reason``; then ``bins`` (as
    :func:`evaldash.metrics.reliability`, "accuracy" being the share of the bin's samples that carry
    the concept), ``ece``, ``brier`` (mean squared gap between score and 0/1 label) and ``log_loss``
    (binary cross-entropy)."""
    d = evaluation.dataset
    if not d.has_scores:
        return {"available": False, "reason": "the file has no scores"}
    if not d.is_probability:
        return {"available": False, "reason": d.probability_reason or "the scores are not probabilities"}
    score = np.asarray(d.scores[:, cls], dtype=np.float64)
    label = d.y_true[:, cls]
    bins = metrics.reliability(score, label, n_bins)
    p = np.clip(score, EPS, 1 - EPS)
    return {"available": True, "reason": "", "bins": bins, "ece": metrics.expected_calibration_error(bins),
            "brier": float(np.mean((score - label) ** 2)),
            "log_loss": float(-np.mean(np.where(label, np.log(p), np.log1p(-p))))}
