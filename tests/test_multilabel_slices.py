"""Per-slice metrics of a multi-label file against scikit-learn on each slice's rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, f1_score, hamming_loss

from evaldash.multilabel_slices import multilabel_slice_table
from evaldash.tasks import evaluate_dataset, load_dataset

CONCEPTS = Path(__file__).resolve().parents[1] / "sample_data" / "digits" / "concepts.csv"


def test_each_slice_has_scikit_learns_subset_accuracy_samples_f1_and_hamming_loss():
    ev = evaluate_dataset(load_dataset(CONCEPTS))
    frame = pd.read_csv(CONCEPTS, dtype=str, keep_default_na=False)
    table = multilabel_slice_table(ev, "stroke")
    assert sorted(table["slice"]) == sorted(frame["stroke"].unique())
    assert table["samples_f1"].is_monotonic_increasing  # worst first
    for _, row in table.iterrows():
        where = np.flatnonzero(frame["stroke"].to_numpy() == row["slice"])
        y, p = ev.dataset.y_true[where], ev.y_pred[where]
        assert row["n"] == where.size
        assert row["subset_accuracy"] == pytest.approx(accuracy_score(y, p))
        assert row["samples_f1"] == pytest.approx(f1_score(y, p, average="samples", zero_division=0))
        assert row["hamming_loss"] == pytest.approx(hamming_loss(y, p))
