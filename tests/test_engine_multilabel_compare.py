"""/compare of two multi-label runs both on DuckDB (``serve A B --engine duckdb``): the memory path's
deltas and paired intervals (the same draws), the concept-matrix difference with the samples that
moved, and the fixed / broken galleries in the memory path's order a page at a time; and
:class:`evaldash.engines.multilabel_paired.MultilabelEnginePair` against the memory path directly."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from multilabel_engine_cases import frame, memory_evaluation, write
from test_engine_app import APP, TIMEOUT

N = 200


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """A and B: the same 200 samples of 4 concepts scored by two models, B's rows shuffled."""
    folder = tmp_path_factory.mktemp("mlpair")
    a = frame("list", k=4, n=N, seed=7)
    b = a.copy()
    rng = np.random.default_rng(8)
    for c in [c for c in a.columns if c.startswith("score_")]:
        b[c] = np.round(np.clip(b[c].to_numpy() + rng.normal(0, 0.2, N), 0, 1), 2)
    b = b.sample(frac=1.0, random_state=3).reset_index(drop=True)
    return write(a, folder / "a.parquet"), write(b, folder / "b.parquet")


@pytest.fixture(scope="module")
def memory(files):
    """(A, B, their compare_multilabel(), aligned_rows()) on the memory path."""
    from evaldash.compare import aligned_rows
    from evaldash.multilabel_compare import compare_multilabel

    a, b = (memory_evaluation(p) for p in files)
    return a, b, compare_multilabel(a, b), aligned_rows(a, b)


def test_the_engine_pair_is_the_memory_paths_comparison_and_rows(files, memory):
    from evaldash.engines import open_engine
    from evaldash.engines.multilabel_evaluation import evaluate_path
    from evaldash.engines.multilabel_paired import MultilabelEnginePair, fits
    from evaldash.multilabel_compare import concept_cell_moves, exact_match_changes

    a, b = (evaluate_path(open_engine("duckdb", memory_limit="1GB"), str(p)) for p in files)
    ma, mb, want, rows_b = memory
    assert fits(a, b) and not fits(a, b, max_cells=N * 4 - 1)
    pair = MultilabelEnginePair(a, b)
    got = pair.compare()
    assert got["paired"] and got["intervals"] == want["intervals"]  # the same draws: equal, not close
    assert got["delta"] == pytest.approx(want["delta"], abs=1e-12)
    assert (got["fixed"], got["broken"], got["both_wrong"]) == (want["fixed"], want["broken"], want["both_wrong"])
    assert np.array_equal(pair.rows_b, rows_b) and not np.array_equal(rows_b, np.arange(N))
    for name, rows in exact_match_changes(ma, mb, rows_b).items():
        assert np.array_equal(pair.fixed_broken()[name], rows)
    moves = concept_cell_moves(ma, mb, rows_b, 0, 0)
    assert all(np.array_equal(pair.moved(0, 0)[k], v) for k, v in moves.items())


@pytest.fixture(scope="module")
def on_duckdb(files, tmp_path_factory):
    folder = tmp_path_factory.mktemp("mlpair_state")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(sys, "argv", ["app.py", str(files[0]), str(files[1]), "--engine", "duckdb"])
        mp.delenv("EVALDASH_PREDICTIONS", raising=False)
        mp.setenv("EVALDASH_DB", str(folder / "annotations.db"))
        st.cache_resource.clear()
        yield
        st.cache_resource.clear()


def compare_page() -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    at.run()
    at.switch_page("pages/compare.py").run()
    assert not at.exception, at.exception
    return at


def gallery_ids(where) -> list[str]:
    return [c.replace("\\", "").split(" · ")[0] for im in where.get("image") for c in im.captions]


def test_compare_on_duckdb_shows_the_memory_paths_intervals_moves_and_galleries(on_duckdb, memory):
    from evaldash.multilabel_compare import concept_cell_moves, exact_match_changes
    from evaldash.ui.concept_runs import COMPARED

    ma, mb, want, rows_b = memory
    at = compare_page()
    heads = at.get_by_key("concept_compare_headline").dataframe[0].value
    iv = want["intervals"]
    assert list(heads["95% interval"]) == [f"[{iv[m][0]:+.3f}, {iv[m][1]:+.3f}]" if m in iv else "n/a"
                                          for m in COMPARED]
    per = at.get_by_key("concept_compare_classes").dataframe[0].value
    assert list(per["95% interval"]) == [f"[{iv[f'f1[{c}]'][0]:+.3f}, {iv[f'f1[{c}]'][1]:+.3f}]"
                                         for c in want["shared_classes"]]
    # a cell of the difference that changed: the samples that moved, in the memory path's order
    diff = mb.concept_counts - ma.concept_counts
    i, j = (int(v) for v in np.argwhere(diff != 0)[0])
    moves = concept_cell_moves(ma, mb, rows_b, i, j)
    at.session_state["cml_cell"] = (i, j)
    at.run()
    assert not at.exception, at.exception
    moved = at.get_by_key("cml_moved")
    assert f"{len(moves['moved_in'])} moved in with B, {len(moves['moved_out'])} moved out" in moved.markdown[0].value
    ids = ma.dataset.ids
    assert gallery_ids(moved) == [str(ids[r]) for r in list(moves["moved_in"][:24]) + list(moves["moved_out"][:24])]
    # B fixed / broke: the second page of "both wrong" (more than a page), captions with both models' sets
    groups = exact_match_changes(ma, mb, rows_b)
    assert len(groups["both_wrong"]) > 24 and len(groups["fixed"]) and len(groups["broken"])
    at.segmented_control(key="cml_group").set_value("both_wrong").run()
    at.number_input(key="cml_changed_page").set_value(2).run()
    assert not at.exception, at.exception
    changed = at.get_by_key("cml_changed")
    assert gallery_ids(changed) == [str(ids[r]) for r in groups["both_wrong"][24:48]]
    r = int(groups["both_wrong"][24])
    true, set_a, set_b = (", ".join(n for n, on in zip(ma.classes, m) if on) or "∅"
                          for m in (ma.dataset.y_true[r], ma.y_pred[r], mb.y_pred[rows_b[r]]))
    first = changed.get("image")[0].captions[0].replace("\\", "")
    assert first == f"{ids[r]} · true {{{true}}} · A {{{set_a}}} · B {{{set_b}}}"


def test_runs_too_large_to_read_back_keep_the_headline_and_say_why_in_one_line(on_duckdb, memory, monkeypatch):
    from evaldash.engines import multilabel_paired

    monkeypatch.setattr(multilabel_paired, "IN_MEMORY_MAX_CELLS", N * 4 - 1)
    at = compare_page()
    line = " ".join(c.value for c in at.get_by_key("cmp_engine_line").caption).replace("\\", "")
    assert "A and B are both on the duckdb engine but too large to read back" in line
    assert f"up to {N * 4 - 1:,} rows × concepts per file" in line
    with pytest.raises(KeyError):
        at.get_by_key("cml_changed")
