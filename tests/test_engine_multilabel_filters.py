"""A multi-label file's views on an engine (DuckDB) equal the memory path's: galleries within a tag's
ids and an id list's rows in its order (:mod:`evaldash.engines.id_sets`), one slice and the
corrected label sets (:mod:`evaldash.engines.derived`, :mod:`evaldash.engines.multilabel_corrected`),
each a whole evaluation (every number of the report, every cell's and concept's gallery). One small
file with ties, a concept never labelled, one never predicted and samples without labels."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from engine_cases import differences
from evaldash.engines import open_engine
from evaldash.engines.id_sets import id_rows, within
from evaldash.engines.multilabel_evaluation import evaluate_path
from evaldash.report import to_jsonable
from multilabel_engine_cases import frame, memory_evaluation, write


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """(memory evaluation, DuckDB evaluation) of one multi-label Parquet file of 5 concepts, with a
    numeric metadata column of many values (quantile slices)."""
    table = frame("list", k=5, n=400, seed=9)
    table["age"] = np.random.default_rng(3).integers(0, 90, len(table)).astype(float)
    path = write(table, tmp_path_factory.mktemp("mlfilters") / "ml.parquet")
    engine = open_engine("duckdb", memory_limit="1GB")
    yield memory_evaluation(path), evaluate_path(engine, str(path))
    engine.close()


def ids_of(e, rows) -> list[str]:
    return [str(e.dataset.ids[int(r)]) for r in rows]


def report(e) -> dict:
    out = to_jsonable(e.report())
    out.pop("source", None)
    return out


def assert_same_evaluation(m, e):
    """Every number of the report, and the first rows of every cell's and concept's gallery."""
    assert e.dataset.n == m.dataset.n
    assert differences(report(m), report(e)) == []
    k = m.dataset.n_classes
    assert e.concept_counts.tolist() == m.concept_counts.tolist()
    for t in range(k + 1):
        for p in range(k + 1):
            assert ids_of(e, e.cell_samples(t, p)[:20]) == ids_of(m, m.cell_samples(t, p)[:20]), (t, p)
    for c in range(k):
        for kind in ("fn", "fp"):
            assert ids_of(e, e.concept_errors(c, kind)[:20]) == ids_of(m, m.concept_errors(c, kind)[:20]), (c, kind)
        assert e.live_threshold(c, 0.37)["tp"].tolist() == m.live_threshold(c, 0.37)["tp"].tolist()


def test_galleries_within_a_tags_ids_keep_their_order_and_an_id_list_keeps_its_own(pair):
    m, e = pair
    d = m.dataset
    picked = np.random.default_rng(1).choice(d.n, size=150, replace=False)
    ids = [str(d.ids[r]) for r in picked] + ["not an id"]
    mask = np.zeros(d.n, dtype=bool)
    mask[picked] = True
    k = d.n_classes
    for t, p in ((0, 0), (0, 3), (k, k), (2, k)):
        want = m.cell_samples(t, p)
        got = within(e, e.cell_samples(t, p), ids)
        assert len(got) == int(mask[want].sum()) and ids_of(e, got[:len(got)]) == ids_of(m, want[mask[want]])
    for kind in ("fn", "fp"):
        want = m.concept_errors(3, kind)
        got = within(e, e.concept_errors(3, kind), ids)
        assert ids_of(e, np.asarray(got)) == ids_of(m, want[mask[want]])
    assert len(within(e, e.cell_samples(0, 0), [])) == 0
    assert ids_of(e, id_rows(e, ids)[:150]) == ids_of(m, np.sort(picked))  # file order
    listed = ids[::-1]
    got = id_rows(e, listed, ordered=True)
    assert ids_of(e, got[:len(got)]) == [s for s in listed if s != "not an id"]


@pytest.mark.parametrize("column, value", [("site", "north"), ("age", None)])
def test_a_slice_is_the_memory_path_slice_on_every_view(pair, column, value):
    from evaldash.engines.derived import slice_evaluation
    from evaldash.multilabel_slices import multilabel_slice_evaluation
    from evaldash.slices import slice_labels, slice_rows

    m, e = pair
    if value is None:  # a quantile bin, named as the memory path names it
        value = str(sorted(slice_labels(m.dataset, column).unique())[1])
    rows = slice_rows(m.dataset, column, value)
    ms = multilabel_slice_evaluation(m, rows, f"{column} = {value}")
    es = slice_evaluation(e, column, value)
    assert 0 < es.dataset.n == len(rows) < m.dataset.n
    assert_same_evaluation(ms, es)
    pd.testing.assert_frame_equal(es.slice_table("site"), ms.slice_table("site"), rtol=1e-12)
    assert es.memo("fingerprint", lambda x: None) == e.dataset.fingerprint()  # the file's findings
    half = {str(m.dataset.ids[r]) for r in rows[::2]}  # a tag's ids within the slice's gallery
    got = within(es, es.cell_samples(0, 0), half)
    assert ids_of(es, got[:len(got)]) == [s for s in ids_of(ms, ms.cell_samples(0, 0)) if s in half]
    assert slice_evaluation(e, column, "no such value") is None


def corrections_of(m) -> dict[str, str]:
    """Corrected sets: mistakes that were label errors (a row's set made its predicted set), a set
    emptied, one unchanged, one not a set, one naming no class, and an id not in the file."""
    from evaldash.multilabel_corrections import label_set_value

    d, names = m.dataset, np.asarray(m.classes)
    pred = np.asarray(m.y_pred)
    wrong = np.flatnonzero((d.y_true != pred).any(axis=1))
    wrong = wrong[wrong > 4]
    out = {str(d.ids[r]): label_set_value(names[pred[r]], m.classes) for r in wrong[:30]}
    out[str(d.ids[0])] = "[]"
    out[str(d.ids[2])] = label_set_value(names[d.y_true[2]], m.classes)
    out[str(d.ids[3])] = "cat"
    out[str(d.ids[4])] = json.dumps(["cat", "no such concept"])
    out["not an id of the file"] = "[]"
    return out


def test_corrected_label_sets_are_the_memory_path_ones_also_within_a_slice(pair):
    from evaldash.engines.derived import corrected_evaluation, slice_evaluation
    from evaldash.multilabel_corrections import corrected_evaluation as memory_corrected
    from evaldash.multilabel_slices import multilabel_slice_evaluation
    from evaldash.slices import slice_rows

    m, e = pair
    corrections = corrections_of(m)
    mc, info = memory_corrected(m, corrections)
    ec, einfo = corrected_evaluation(e, corrections)
    assert einfo == info and info["unknown"] == 2 and info["corrected"] == 31
    assert info["mistakes_were_label_errors"] > 30
    assert_same_evaluation(mc, ec)
    assert ec.memo("fingerprint", lambda x: None) == e.dataset.fingerprint()  # the file's findings
    assert ec.label_sets(np.array([0, 7]))["true"].tolist() == mc.label_sets(np.array([0, 7]))["true"].tolist()
    # a slice's corrected sets: the corrections within the slice
    rows = slice_rows(m.dataset, "site", "south")
    ms = multilabel_slice_evaluation(m, rows)
    msc, msc_info = memory_corrected(ms, corrections)
    esc, esc_info = corrected_evaluation(slice_evaluation(e, "site", "south"), corrections)
    assert esc_info == msc_info and esc.dataset.n == len(rows)
    assert_same_evaluation(msc, esc)
    assert corrected_evaluation(e, {})[0] is e
    assert corrected_evaluation(e, {str(m.dataset.ids[3]): "[\"no such concept\"]"}) == (
        e, {"corrected": 0, "unknown": 1, "mistakes_were_label_errors": 0})

