"""Suggested thresholds on an engine whose sweep is reduced to cut points: those of the full sweep
(every distinct score), equal to the memory path's, by branch and bound over the gaps between cut
points (``engines.reduced.exact_suggestions``). The sweep is made to reduce on small files by
lowering ``EVERY_STEP`` and ``SPREAD``."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import evaldash
from engine_cases import write
from evaldash.engines import evaluate_file, open_engine, reduced

ASKED = [(0.9, 0.9, 1.0, 1.0), (0.5, 0.99, 1.0, 10.0), (0.99, 0.3, 10.0, 1.0), (0.0, 1.0, 0.0, 1.0),
         (1.0, 0.0, 1.0, 0.0)]


@pytest.fixture
def duck(monkeypatch):
    monkeypatch.setattr(reduced, "EVERY_STEP", 40)  # the sweeps below reduce to ~2 × SPREAD cut points
    monkeypatch.setattr(reduced, "SPREAD", 12)
    engine = open_engine("duckdb", memory_limit="1GB")
    yield engine
    engine.close()


def scored(n: int, k: int, seed: int, decimals: int | None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, k, size=n)
    raw = rng.random((n, k)) + 0.8 * np.eye(k)[labels] * rng.random((n, 1))
    scores = raw / raw.sum(axis=1, keepdims=True)
    if decimals is not None:  # ties
        scores = np.round(scores, decimals)
    frame = pd.DataFrame({"id": [f"s{i}" for i in range(n)], "label": [f"c{v}" for v in labels]})
    for c in range(k):
        frame[f"score_c{c}"] = scores[:, c]
    return frame


@pytest.mark.parametrize("k, decimals, seed", [(2, None, 0), (2, 5, 1), (4, 4, 2), (3, None, 3)])
def test_suggestions_on_a_reduced_sweep_are_the_full_sweeps(duck, tmp_path, k, decimals, seed):
    path = write(scored(12000, k, seed, decimals), tmp_path / "s.parquet")
    memory = evaldash.evaluate(evaldash.load_predictions(path))
    e = evaluate_file(duck, str(path))
    read = []
    real = type(e)._steps_between

    def spy(self, cls, ranges):
        out = real(self, cls, ranges)
        read.append(out[0].size)
        return out

    type(e)._steps_between, restore = spy, real
    try:
        for c in range(k):
            sweep = e.sweep(c)
            full = memory.sweep(c)
            assert sweep.thresholds.size < full.thresholds.size / 4  # reduced: the gaps must be read
            for asked in ASKED:
                want = memory.suggestions(c, *asked)
                got = e.suggestions(c, *asked)
                assert got == pytest.approx(want, abs=0, nan_ok=True), (c, asked)
                assert all(np.isnan(v) or np.isinf(v) or v in set(full.thresholds.tolist()) for v in got.values())
    finally:
        type(e)._steps_between = restore
    assert read and max(read) < memory.dataset.n / 2  # only the gaps that could hold a suggestion


def test_a_suggestion_inside_a_gap_is_found_there(duck, tmp_path):
    # F1 peaks at a score between two cut points: the cut points alone would miss it
    n = 2000
    rng = np.random.default_rng(5)
    s = rng.random(n)
    y = (s > 0.6131) ^ (rng.random(n) < 0.05)
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(n)], "label": np.where(y, "yes", "no"),
                          "score_no": 1 - s, "score_yes": s})
    path = write(frame, tmp_path / "gap.parquet")
    memory = evaldash.evaluate(evaldash.load_predictions(path))
    e = evaluate_file(duck, str(path))
    c = e.dataset.classes.index("yes")
    best = memory.suggestions(c)["max_f1"]
    assert best not in set(e.sweep(c).thresholds.tolist())  # not a cut point
    assert e.suggestions(c) == memory.suggestions(c)
