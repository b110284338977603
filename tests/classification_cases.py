"""Shared input cases: seeded random classification problems and the bundled sample files.

Imported by ``conftest.py`` (the ``case`` fixture) and by the Hypothesis strategies of
``test_metrics.py``; a module of its own because ``conftest`` is not importable by name
once several folders have one.

Every case is ``(y_true, y_pred, scores)`` with classes ``0..k-1`` and score rows that
are probability vectors, so the same case can be fed to every scikit-learn reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from evaldash import dataset_from_frame, load_predictions

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "sample_data" / "digits"
DIGITS_CSV = SAMPLE_DIR / "predictions.csv"
BINARY_CSV = SAMPLE_DIR / "binary_three.csv"


@dataclass(frozen=True)
class Case:
    name: str
    y_true: np.ndarray  # shape (n,), int
    y_pred: np.ndarray  # shape (n,), int
    scores: np.ndarray  # shape (n, k), rows sum to 1
    k: int

    def frame(self) -> pd.DataFrame:
        """The case as a predictions table (classes named "0".."k-1", numeric order)."""
        out = pd.DataFrame({"label": self.y_true, "prediction": self.y_pred})
        for c in range(self.k):
            out[f"score_{c}"] = self.scores[:, c]
        return out

    def dataset(self):
        return dataset_from_frame(self.frame(), source=f"<{self.name}>")


def random_case(rng: np.random.Generator, n: int, k: int, *, ties: bool,
                true_classes=None, pred_classes=None, name: str = "random") -> Case:
    """A random problem whose scores lean towards the true class.

    ``ties``: scores are small integers divided by the row total, so many scores
    are equal within and across rows. ``true_classes`` / ``pred_classes`` restrict
    the classes that occur in ``y_true`` / ``y_pred`` (to make some classes absent).
    """
    true_classes = np.arange(k) if true_classes is None else np.asarray(true_classes)
    y_true = rng.choice(true_classes, size=n)
    if ties:
        raw = rng.integers(0, 4, size=(n, k)).astype(np.float64)
        raw[np.arange(n), y_true] += rng.integers(0, 3, size=n)
        empty = raw.sum(axis=1) == 0
        raw[empty, rng.integers(0, k, size=empty.sum())] = 1.0
    else:
        raw = rng.gamma(1.0, size=(n, k))
        raw[np.arange(n), y_true] += rng.gamma(1.0, size=n)
    scores = raw / raw.sum(axis=1, keepdims=True)
    y_pred = np.argmax(scores, axis=1)
    flip = rng.random(n) < 0.2
    y_pred[flip] = rng.integers(0, k, size=flip.sum())
    if pred_classes is not None:
        pred_classes = np.asarray(pred_classes)
        outside = ~np.isin(y_pred, pred_classes)
        y_pred[outside] = rng.choice(pred_classes, size=outside.sum())
    return Case(name, y_true.astype(np.int64), y_pred.astype(np.int64), scores, k)


def _from_file(name: str, path: Path) -> Case:
    d = load_predictions(path)
    return Case(name, d.y_true.astype(np.int64), d.y_pred.astype(np.int64),
                np.array(d.scores), d.n_classes)


_RANDOM_CASES = {
    # name: (seed, n, k, ties, classes in y_true, classes in y_pred)
    "binary": (0, 200, 2, False, None, None),
    "binary-ties": (1, 150, 2, True, None, None),
    "k3-ties": (2, 120, 3, True, None, None),
    "k5": (3, 250, 5, False, None, None),
    "k12": (4, 400, 12, False, None, None),
    "k12-ties-small": (5, 30, 12, True, None, None),
    "single-class": (6, 40, 4, True, [2], None),
    "missing-in-true": (7, 80, 5, True, [1, 3, 4], None),
    "missing-in-pred": (8, 80, 6, False, None, [0, 2, 5]),
    "one-sample": (9, 1, 3, False, None, None),
}
CASE_NAMES = [*_RANDOM_CASES, "digits-sample", "binary-three-sample"]


@lru_cache(maxsize=None)
def make_case(name: str) -> Case:
    if name == "digits-sample":
        return _from_file(name, DIGITS_CSV)
    if name == "binary-three-sample":
        return _from_file(name, BINARY_CSV)
    seed, n, k, ties, true_classes, pred_classes = _RANDOM_CASES[name]
    return random_case(np.random.default_rng(seed), n, k, ties=ties, true_classes=true_classes,
                       pred_classes=pred_classes, name=name)
