"""A slice, a set of ids and corrected labels on an engine equal the memory path's: the slice's and
the corrected file's whole evaluation (the report, every cell's gallery), a gallery within a tag's
ids and an id list's rows in its order (:mod:`evaldash.engines.derived`, :mod:`evaldash.engines.id_sets`)."""

from __future__ import annotations

import numpy as np
import pytest

from engine_cases import differences, multiclass_ties, write
from evaldash.dataset import load_predictions, subset
from evaldash.engines import evaluate_file, open_engine
from evaldash.engines.derived import corrected_evaluation, slice_evaluation
from evaldash.engines.id_sets import id_rows, within
from evaldash.error_analysis import gallery_rows
from evaldash.evaluation import evaluate, with_corrected_labels
from evaldash.report import to_jsonable
from evaldash.slices import slice_rows


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    """(memory evaluation, DuckDB evaluation) of one small file of four classes and two metadata
    columns, one numeric of many values (quantile slices)."""
    frame = multiclass_ties(n=900, seed=11)
    frame["age"] = np.random.default_rng(2).integers(0, 90, len(frame)).astype(float)
    path = write(frame, tmp_path_factory.mktemp("filters") / "f.parquet")
    engine = open_engine("duckdb", memory_limit="1GB")
    yield evaluate(load_predictions(path)), evaluate_file(engine, str(path))
    engine.close()


def report(e) -> dict:
    out = to_jsonable(e.report())
    out.pop("source")
    return out


def ids_of(e, rows) -> list[str]:
    return [str(e.dataset.ids[int(r)]) for r in rows]


def assert_same_evaluation(m, e):
    assert differences(report(m), report(e)) == []
    k = m.dataset.n_classes
    for t in range(k):
        for p in range(k):
            assert ids_of(e, e.cell_samples(t, p)[:30]) == ids_of(m, m.cell_samples(t, p)[:30])


@pytest.mark.parametrize("column, value", [("site", "north"), ("age", None)])
def test_a_slice_is_the_memory_path_subset_on_every_view(pair, column, value):
    m, e = pair
    if value is None:  # a quantile bin, named as the memory path names it
        from evaldash.slices import slice_labels

        value = str(sorted(slice_labels(m.dataset, column).unique())[1])
    rows = slice_rows(m.dataset, column, value)
    ms = evaluate(subset(m.dataset, rows, f"{column} = {value}"))
    es = slice_evaluation(e, column, value)
    assert es.dataset.n == len(rows) < m.dataset.n
    assert_same_evaluation(ms, es)
    assert es.memo("fingerprint", lambda x: None) == e.dataset.fingerprint()  # the file's findings
    kinds = ("mistakes", "unsure")
    for kind in kinds:
        want, total = gallery_rows(ms, kind, np.ones(ms.dataset.n, dtype=bool), 24)
        got = es.gallery_samples(kind)
        assert len(got) == total and ids_of(es, got[:24]) == ids_of(ms, want[:24])
    assert slice_evaluation(e, column, "no such value") is None


def test_corrected_labels_are_the_memory_path_ones_also_within_a_slice(pair):
    m, e = pair
    d = m.dataset
    wrong = np.flatnonzero(d.y_true != d.y_pred)
    wrong = wrong[wrong > 1]  # rows 0 and 1 get corrections of their own below
    corrections = {str(d.ids[r]): d.classes[int(d.y_pred[r])] for r in wrong[:25]}  # mistakes that were label errors
    corrections[str(d.ids[0])] = d.classes[(int(d.y_true[0]) + 1) % d.n_classes]
    corrections[str(d.ids[1])] = "no such class"
    corrections["not an id of the file"] = d.classes[0]
    fixed, info = with_corrected_labels(d, corrections)
    ec, einfo = corrected_evaluation(e, corrections)
    assert einfo == info and info["unknown"] == 1 and info["mistakes_were_label_errors"] == 25
    assert_same_evaluation(evaluate(fixed), ec)
    # a slice's corrected labels: the corrections within the slice
    es = slice_evaluation(e, "site", "south")
    rows = slice_rows(d, "site", "south")
    sub, sub_info = with_corrected_labels(subset(d, rows), corrections)
    esc, esc_info = corrected_evaluation(es, corrections)
    assert esc_info == sub_info and esc.dataset.n == len(rows)
    assert_same_evaluation(evaluate(sub), esc)
    assert corrected_evaluation(e, {})[0] is e
    assert corrected_evaluation(e, {str(d.ids[3]): "no such class"}) == (e, {"corrected": 0, "unknown": 1,
                                                                            "mistakes_were_label_errors": 0})


def test_galleries_within_a_set_of_ids_keep_their_order_and_an_id_list_keeps_its_own(pair):
    m, e = pair
    d = m.dataset
    rng = np.random.default_rng(0)
    picked = rng.choice(d.n, size=300, replace=False)
    ids = [str(d.ids[r]) for r in picked] + ["not an id"]
    mask = np.zeros(d.n, dtype=bool)
    mask[picked] = True
    want, total = gallery_rows(m, "mistakes", mask, d.n)
    got = within(e, e.gallery_samples("mistakes"), ids)
    assert len(got) == total and ids_of(e, got[:total]) == ids_of(m, want)
    cell = m.cell_samples(1, 2)
    got = within(e, e.cell_samples(1, 2), ids)
    assert ids_of(e, got[:len(got)]) == ids_of(m, cell[mask[cell]])
    assert ids_of(e, id_rows(e, ids)[:300]) == ids_of(m, np.sort(picked))  # file order
    listed = ids[::-1] + [ids[5]]  # the list's order; an id listed twice counts at its last place
    order = {s: n for n, s in enumerate(listed)}
    got = id_rows(e, listed, ordered=True)
    assert len(got) == 300 and ids_of(e, got[:300]) == sorted(ids[:300], key=order.get)
    assert ids_of(e, np.asarray(got)) == sorted(ids[:300], key=order.get)
    assert len(id_rows(e, [])) == 0 and len(within(e, e.gallery_samples("mistakes"), [])) == 0


def test_a_sample_opened_from_a_slice_is_of_the_whole_file(pair, tmp_path):
    import pandas as pd

    m, e = pair
    es = slice_evaluation(e, "site", "north")
    path = es.sample_to_parquet(10 ** 6, tmp_path / "s.parquet")
    assert pd.read_parquet(path).equals(pd.read_parquet(e.dataset.source))  # every row (the slice applies in memory)
