"""Slices by metadata: per-slice metrics against scikit-learn on the slice's own rows."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

import evaldash
from evaldash.dataset import subset
from evaldash.slices import MIN_RELIABLE, slice_labels, slice_rows, slice_table

SAMPLE = evaldash.load_predictions(Path(__file__).resolve().parents[1] / "sample_data" / "digits" / "predictions.csv")


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


def test_slice_macro_auc_interval_equals_a_direct_loop_over_the_slices_rows():
    """Each slice's macro AUC interval: resamples drawing the slice's rows (``rng.integers``, seeded
    with the seed plus the slice's place in sorted order, as slice_table does) scored by
    roc_auc_score per class and averaged, then the 2.5% and 97.5% quantiles."""
    d = SAMPLE
    B = 40
    table = slice_table(d, "stroke", resamples=B, seed=3)
    labels = slice_labels(d, "stroke")
    for row in table.itertuples():
        place = sorted(labels.unique()).index(row.slice)
        idx = np.flatnonzero((labels == row.slice).to_numpy())
        y, s = d.y_true[idx], d.scores[idx]
        classes = [c for c in range(d.n_classes) if 0 < (y == c).sum() < y.size]
        rng = np.random.default_rng(3 + place)
        draws = []
        for _ in range(B):
            r = rng.integers(0, idx.size, size=idx.size)
            draws.append(np.mean([roc_auc_score(y[r] == c, s[r, c]) for c in classes if 0 < (y[r] == c).sum() < r.size]))
        low, high = np.nanquantile(draws, [0.025, 0.975])
        assert (row.macro_roc_auc_low, row.macro_roc_auc_high) == (pytest.approx(low, abs=1e-12),
                                                                   pytest.approx(high, abs=1e-12))
        assert row.macro_roc_auc_low <= row.macro_roc_auc <= row.macro_roc_auc_high


def test_binary_slices_average_the_positive_class_and_files_without_scores_have_no_interval():
    binary = evaldash.load_predictions(Path(__file__).resolve().parents[1] / "sample_data" / "digits"
                                       / "binary_three.csv")
    table = slice_table(binary, "stroke", resamples=50)
    labels = slice_labels(binary, "stroke")
    for row in table.itertuples():
        idx = np.flatnonzero((labels == row.slice).to_numpy())
        pos = binary.positive
        assert row.macro_roc_auc == pytest.approx(roc_auc_score(binary.y_true[idx] == pos, binary.scores[idx, pos]),
                                                  abs=1e-12)
        assert row.macro_roc_auc_low < row.macro_roc_auc_high
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"label": rng.integers(0, 3, 100), "prediction": rng.integers(0, 3, 100),
                          "site": ["a", "b"] * 50})
    plain = slice_table(evaldash.dataset_from_frame(frame, source="<sites>"), "site", resamples=50)
    assert plain[["macro_roc_auc", "macro_roc_auc_low", "macro_roc_auc_high"]].isna().all().all()


def test_large_slices_take_the_first_order_path_and_keep_their_interval():
    """A slice above EXACT_MAX_CELLS (rows × classes) takes the influence path: its interval agrees
    with the exact index resampling of the same rows within Monte Carlo error."""
    from evaldash import bootstrap as bs

    rng = np.random.default_rng(1)
    n, k = 12000, 3
    y = rng.integers(0, k, n)
    logits = rng.normal(size=(n, k))
    logits[np.arange(n), y] += 1.0
    frame = pd.DataFrame({"label": y, "site": np.where(rng.random(n) < 0.7, "big", "small")})
    for c in range(k):
        frame[f"score_{c}"] = np.exp(logits[:, c]) / np.exp(logits).sum(axis=1)
    d = evaldash.dataset_from_frame(frame, source="<big>")
    table = slice_table(d, "site", resamples=1500).set_index("slice")
    big = np.flatnonzero(frame["site"].to_numpy() == "big")
    assert big.size * k > bs.EXACT_MAX_CELLS
    _, exact = bs.resampled_macro_auc(d.scores[big], d.y_true[big], [0, 1, 2], 1500, seed=11, exact_max_cells=10**9)
    low, high = np.quantile(exact, [0.025, 0.975])
    width = high - low
    assert table.loc["big", "macro_roc_auc_low"] == pytest.approx(low, abs=0.08 * width)
    assert table.loc["big", "macro_roc_auc_high"] == pytest.approx(high, abs=0.08 * width)


def test_numeric_bins_name_missing_values():
    rng = np.random.default_rng(2)
    values = rng.random(100)
    values[[3, 50]] = np.nan
    frame = pd.DataFrame({"label": rng.integers(0, 2, 100), "prediction": rng.integers(0, 2, 100), "depth": values})
    d = evaldash.dataset_from_frame(frame, source="<depth>")
    labels = slice_labels(d, "depth")
    assert list(labels[[3, 50]]) == ["(missing)", "(missing)"]
    want = pd.qcut(frame["depth"], 4, precision=3).astype(str)
    assert (labels[frame["depth"].notna()] == want[frame["depth"].notna()]).all()
    assert slice_table(d, "depth", resamples=20)["n"].sum() == 100


# edges where pandas' own bin name reads "(0.34299999999999997, 0.418]": one float step off 0.343
NOISY_EDGES_INK = np.round(np.linspace(0.344, 0.641, 13), 3)


def noisy_edges_frame() -> pd.DataFrame:
    n = NOISY_EDGES_INK.size
    return pd.DataFrame({"id": [f"s{i}" for i in range(n)], "label": ["a", "b"] * (n // 2) + ["a"] * (n % 2),
                         "score": np.linspace(0.05, 0.95, n), "ink": NOISY_EDGES_INK})


def test_quantile_bin_names_read_as_decimals_not_float_noise(tmp_path):
    path = tmp_path / "noisy.csv"
    noisy_edges_frame().to_csv(path, index=False)
    d = evaldash.load_predictions(path, positive="b")
    names = list(dict.fromkeys(slice_labels(d, "ink")))
    assert names == ["(0.343, 0.418]", "(0.418, 0.492]", "(0.492, 0.567]", "(0.567, 0.641]"]
