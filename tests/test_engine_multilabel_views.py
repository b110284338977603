"""What the dashboard's pages ask a multi-label evaluation on DuckDB for, equal to the memory path's:
each concept's live threshold (exact counts at the slider's positions and off them), the sample-level
metrics at moved thresholds, lazy galleries (cells, a concept's FN / FP, a score bin) in the memory
order, per-concept calibration, the slice table, the flips of /decision, and the sample of rows a
page opens in memory. One small file, one engine for the module."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evaldash.engines import open_engine
from evaldash.engines.multilabel_evaluation import evaluate_path
from evaldash.engines.rows import RankedRows
from multilabel_engine_cases import frame, memory_evaluation, write


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """(memory evaluation, DuckDB evaluation) of one multi-label Parquet file of 4 concepts."""
    path = write(frame("list", k=4, n=300, seed=5), tmp_path_factory.mktemp("mlv") / "ml.parquet")
    engine = open_engine("duckdb", memory_limit="1GB")
    yield memory_evaluation(path), evaluate_path(engine, str(path))
    engine.close()


def test_each_concepts_live_threshold_has_the_memory_counts_at_every_slider_position(pair):
    m, e = pair
    for c in range(len(m.classes)):
        for t in (0.3, 0.45, 0.123457):  # two slider positions, one off them (counted by the engine)
            want, got = m.live_threshold(c, t), e.live_threshold(c, t)
            assert got["grid"].tolist() == want["grid"].tolist(), (c, t)
            assert got["tp"].tolist() == want["tp"].tolist() and got["fp"].tolist() == want["fp"].tolist(), (c, t)
            assert (got["n_pos"], got["n_neg"], got["index"]) == (want["n_pos"], want["n_neg"], want["index"])
        assert e.suggestions(c) == pytest.approx(m.suggestions(c), nan_ok=True)


def test_the_sample_level_metrics_at_moved_thresholds_are_the_memory_ones(pair):
    m, e = pair
    thresholds = np.array([0.3, 0.5, 0.62, 0.45])
    want, got = m.metrics_at_thresholds(thresholds), e.metrics_at_thresholds(thresholds)
    for name in ("subset_accuracy", "samples_f1", "hamming_loss"):
        assert got[name] == pytest.approx(want[name], abs=1e-12), name
    pd.testing.assert_frame_equal(got["table"], want["table"], rtol=1e-12)


def test_galleries_are_lazy_and_in_the_memory_order(pair):
    m, e = pair
    k = len(m.classes)
    for t, p in ((0, 0), (0, 2), (k, k), (3, k)):
        rows = e.cell_samples(t, p)
        assert isinstance(rows, RankedRows) and len(rows) == len(m.cell_samples(t, p))
        assert rows[2:9].tolist() == m.cell_samples(t, p)[2:9].tolist(), (t, p)
    for kind in ("fn", "fp"):
        rows = e.concept_errors(3, kind)
        assert len(rows) == len(m.concept_errors(3, kind)) and list(rows) == m.concept_errors(3, kind).tolist()
    bin_rows = e.concept_bin_samples(0, 0.2, 4 / 15)
    assert list(bin_rows) == m.concept_bin_samples(0, 0.2, 4 / 15).tolist() and len(bin_rows) > 0


def test_a_samples_label_sets_and_predictions_come_a_row_at_a_time(pair):
    m, e = pair
    rows = np.array([5, 0, 299, 17])
    pd.testing.assert_frame_equal(e.label_sets(rows), m.label_sets(rows), check_dtype=False)
    assert e.y_pred[17].tolist() == m.y_pred[17].tolist() and e.dataset.y_true[17, 2] == m.dataset.y_true[17, 2]
    assert np.allclose(e.dataset.scores[17], m.dataset.scores[17])


def test_each_concepts_calibration_is_the_memory_one(pair):
    m, e = pair
    for c in range(len(m.classes)):
        want, got = m.concept_calibration(c), e.concept_calibration(c)
        assert got["bins"]["count"].tolist() == want["bins"]["count"].tolist()
        for key in ("confidence", "accuracy"):
            np.testing.assert_allclose(got["bins"][key], want["bins"][key], rtol=1e-12, atol=1e-12)
        for key in ("ece", "brier", "log_loss"):
            assert got[key] == pytest.approx(want[key], abs=1e-12), key


def test_the_slice_table_is_the_memory_one(pair):
    m, e = pair
    pd.testing.assert_frame_equal(e.slice_table("site"), m.slice_table("site"), rtol=1e-12)


def test_the_flips_of_a_concept_are_its_own_labels(pair):
    from evaldash import decision as dc
    from evaldash.engines.flips import engine_flips

    m, e = pair
    c = 3
    for a, b in ((0.5, 0.3), (0.3, 0.62)):
        want = dc.flips(m.dataset.scores[:, c], m.dataset.y_true[:, c], a, b)
        got = engine_flips(e, c, a, b)
        assert got.counts == want.counts
        for kind in ("new_tp", "new_fp", "new_fn", "new_tn"):
            rows = getattr(want, kind)
            order = rows[np.argsort(-m.dataset.scores[rows, c], kind="stable")]
            assert list(getattr(got, kind)) == order.tolist(), kind


def test_the_sample_opened_in_memory_is_the_files_rows(pair, tmp_path):
    from evaldash.tasks import evaluate_dataset, load_dataset

    m, e = pair
    path = e.sample_to_parquet(40, tmp_path / "sample.parquet")
    sample = evaluate_dataset(load_dataset(path))
    assert sample.task == "multilabel" and sample.dataset.n == 40 and sample.classes == m.classes
    rows = np.array([m.dataset.ids.tolist().index(i) for i in sample.dataset.ids])
    assert (np.diff(rows) > 0).all()  # drawn, file order kept
    assert (sample.dataset.y_true == m.dataset.y_true[rows]).all()
    assert np.array_equal(sample.dataset.scores, m.dataset.scores[rows])
