"""The macro ROC AUC resamples of ``compare`` on DuckDB above their exact size come from groups
counted in the engine (:mod:`evaldash.engines.auc_delta`): each row's influence is numpy's bit for
bit, the groups hold the memory path's rows, and the draws are the memory path's; no score column
is read back."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from engine_cases import multiclass_ties, write
from evaldash import bootstrap as bs
from evaldash.compare import _auc_input, aligned_rows
from evaldash.dataset import load_predictions
from evaldash.engines import auc_delta, evaluate_file, open_engine
from evaldash.engines.alongside import alongside, rows_view
from evaldash.engines.compare import EngineSides
from evaldash.evaluation import evaluate

RESAMPLES = 50


def continuous(n: int, seed: int) -> pd.DataFrame:
    """Three classes, scores with (almost) no ties: more than MAX_AUC_BINS distinct influences."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    s = rng.dirichlet(np.ones(3), n)
    s[np.arange(n), y] += 0.4
    s /= s.sum(axis=1, keepdims=True)
    return pd.DataFrame({"id": [f"r{i}" for i in range(n)], "label": [f"c{v}" for v in y],
                         **{f"score_c{c}": s[:, c] for c in range(3)}})


def rescored(a: pd.DataFrame, other: pd.DataFrame, ids: str | None = None) -> pd.DataFrame:
    b = a.copy()
    for c in [c for c in a.columns if c.startswith("score")]:
        b[c] = other[c].to_numpy()
    if ids is not None:  # other samples: unpaired
        b["id"] = [f"{ids}{i}" for i in range(len(b))]
    return b.sample(frac=1.0, random_state=5).reset_index(drop=True)


@pytest.fixture(scope="module")
def cases(tmp_path_factory):
    folder = tmp_path_factory.mktemp("aucdelta")
    c = continuous(4000, 1)  # 4,000 rows x 6 classes averaged: above the exact size (20,000)
    m = multiclass_ties(n=4000, seed=31)  # 25 distinct score rows: few distinct influences
    out = {"continuous": (c, rescored(c, continuous(4000, 2))),
           "ties": (m, rescored(m, multiclass_ties(n=4000, seed=32))),
           # 7,000 rows x 3 classes each: above the exact size on each side
           "unpaired": (continuous(7000, 4), rescored(continuous(7000, 4), continuous(7000, 3), ids="other"))}
    return {name: (write(a, folder / f"{name}_a.parquet"), write(b, folder / f"{name}_b.parquet"))
            for name, (a, b) in out.items()}


@pytest.fixture(scope="module")
def duck():
    engine = open_engine("duckdb", memory_limit="1GB")
    yield engine
    engine.close()


def _pair(duck, paths, tag):
    a = evaluate_file(duck.sibling(), str(paths[0]))
    b = evaluate_file(alongside(a.engine, tag), str(paths[1]))
    return a, b, EngineSides(a, b, rows_view(tag))


def _memory(paths):
    a, b = (evaluate(load_predictions(p)) for p in paths)
    return a, b, aligned_rows(a, b)


@pytest.mark.parametrize("case", ["continuous", "ties"])
def test_paired_influences_groups_and_draws_are_the_memory_paths(duck, cases, case, monkeypatch):
    ma, mb, rows = _memory(cases[case])
    auc_a, auc_b = _auc_input(ma, None), _auc_input(mb, rows)
    ea, eb, sides = _pair(duck, cases[case], f"u{case[:3]}")
    assert sides.paired and not bs._exact(ma.dataset.n * (len(auc_a[2]) + len(auc_b[2])), None)
    assert (sides.auc_classes("a"), sides.auc_classes("b")) == (auc_a[2], auc_b[2])
    # each row's influence difference, in A's row order: numpy's bit for bit
    point_a, inf_a = bs.macro_auc_influence(*auc_a)
    point_b, inf_b = bs.macro_auc_influence(*auc_b)
    side_a = auc_delta.SideInfluence(ea.engine, "ev_rows", "ev_a", auc_a[2], "a")
    side_b = auc_delta.SideInfluence(ea.engine, sides.b_rows, "ev_b", auc_b[2], "b")
    assert (side_a.point, side_b.point) == (point_a, point_b)
    ctes = ", ".join(f"{name} AS ({body})" for name, body in side_a.ctes + side_b.ctes)
    got = ea.engine.frame(f"WITH {ctes} SELECT {side_b.expr} - {side_a.expr} AS d FROM ev_rows ev_a JOIN "
                          f"{sides.b_rows} ev_b ON ev_a.ev_id = ev_b.ev_id {side_a.joins()} {side_b.joins()} "
                          f"ORDER BY ev_a.ev_rn")["d"].to_numpy()
    assert np.array_equal(got, inf_b - inf_a)
    # the groups: the same rows (exactly), sums within 1e-12
    counts, sums = bs.linear_groups(inf_b - inf_a)
    assert (counts.size > bs.MAX_AUC_BINS - 100) == (case == "continuous")  # quantile bins / distinct values
    rows_sql = (f"SELECT {side_b.expr} - {side_a.expr} AS d FROM ev_rows ev_a JOIN {sides.b_rows} ev_b "
                f"ON ev_a.ev_id = ev_b.ev_id {side_a.joins()} {side_b.joins()}")
    got_counts, got_sums = auc_delta.linear_groups(ea.engine, side_a.ctes + side_b.ctes, rows_sql, ma.dataset.n)
    assert np.array_equal(got_counts, counts)
    np.testing.assert_allclose(got_sums, sums, rtol=0, atol=1e-12)
    # the draws, and no score column read back
    monkeypatch.setattr(EngineSides, "_auc_input", lambda *a: pytest.fail("scores read back"))
    want = bs.paired_resampled_macro_auc_delta(auc_a, auc_b, RESAMPLES, 9)
    np.testing.assert_allclose(sides.auc_draws(RESAMPLES, 9), want, rtol=0, atol=1e-12)
    assert np.array_equal(bs.percentile_interval(sides.auc_draws(RESAMPLES, 9)).round(12),
                          bs.percentile_interval(want).round(12))


def test_unpaired_draws_above_the_exact_size_are_the_memory_paths(duck, cases, monkeypatch):
    ma, mb, rows = _memory(cases["unpaired"])
    assert rows is None
    _, _, sides = _pair(duck, cases["unpaired"], "uunp")
    assert not sides.paired
    monkeypatch.setattr(EngineSides, "_auc_input", lambda *a: pytest.fail("scores read back"))
    want = (bs.resampled_macro_auc(*_auc_input(mb, None), RESAMPLES, 10)[1]
            - bs.resampled_macro_auc(*_auc_input(ma, None), RESAMPLES, 9)[1])
    np.testing.assert_allclose(sides.auc_draws(RESAMPLES, 9), want, rtol=0, atol=1e-12)

