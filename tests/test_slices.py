"""Slices by metadata: per-slice metrics against scikit-learn on the slice's own rows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

import evaldash
from evaldash.dataset import subset
from evaldash.slices import MIN_RELIABLE, slice_labels, slice_rows, slice_table

SAMPLE = evaldash.load_predictions(__import__("pathlib").Path(__file__).resolve().parents[1]
                                   / "sample_data" / "digits" / "predictions.csv")


@pytest.mark.parametrize("column", ["stroke", "ink"])
def test_slice_metrics_equal_sklearn_on_each_slices_rows(column):
    d = SAMPLE
    table = slice_table(d, column, resamples=200)
    labels = slice_labels(d, column)
    assert table["n"].sum() == d.n and set(table["slice"]) == set(labels)
    assert list(table["macro_f1"]) == sorted(table["macro_f1"])  # worst first
    for row in table.itertuples():
        idx = np.flatnonzero((labels == row.slice).to_numpy())
        y, p = d.y_true[idx], d.y_pred[idx]
        assert row.accuracy == pytest.approx(accuracy_score(y, p), abs=1e-12)
        assert row.macro_f1 == pytest.approx(f1_score(y, p, average="macro"), abs=1e-12)
        # macro over the classes with positives and negatives in the slice
        aucs = [roc_auc_score(y == c, d.scores[idx, c]) for c in range(d.n_classes) if 0 < (y == c).sum() < y.size]
        assert row.macro_roc_auc == pytest.approx(np.mean(aucs), abs=1e-9)
        assert row.accuracy_low <= row.accuracy <= row.accuracy_high
        assert row.macro_f1_low <= row.macro_f1 + 1e-12 and row.macro_f1 - 1e-12 <= row.macro_f1_high


def test_numeric_columns_are_cut_into_quantile_bins_and_small_slices_marked():
    d = SAMPLE
    labels = slice_labels(d, "ink")
    assert labels.nunique() == 4 and labels.str.match(r"^[\[(].*, .*\]$").all()
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"label": rng.integers(0, 3, 200), "prediction": rng.integers(0, 3, 200),
                          "site": ["big"] * 190 + ["tiny"] * 10})
    table = slice_table(evaldash.dataset_from_frame(frame, source="<sites>"), "site", resamples=100)
    tiny = table.set_index("slice").loc["tiny"]
    assert tiny["n"] == 10 and not tiny["reliable"] and 10 < MIN_RELIABLE  # shown, marked, not hidden
    assert np.isnan(tiny["macro_roc_auc"])  # no scores in this file


def test_subset_keeps_rows_in_order_with_their_ids_scores_and_metadata():
    d = SAMPLE
    rows = slice_rows(d, "stroke", "thin")
    s = subset(d, rows, "stroke = thin")
    assert s.n == rows.size and s.classes == d.classes
    assert list(map(str, s.ids)) == [str(d.ids[r]) for r in rows]
    np.testing.assert_array_equal(s.scores, d.scores[rows])
    assert (s.metadata["stroke"] == "thin").all() and s.source.endswith("[stroke = thin]")
    assert not s.y_true.flags.writeable
