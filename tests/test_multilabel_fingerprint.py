"""The multi-label dataset's fingerprint (the key of its findings) hashes the score matrix a block of
rows at a time: the same hash as the whole row-order matrix, without a copy of it (at 1M × 100 the
whole copy and its bytes were 1.6 GB of the server's peak RSS)."""

from __future__ import annotations

import hashlib
import tracemalloc
from dataclasses import replace
from pathlib import Path

import numpy as np

from evaldash import multilabel_data
from evaldash.tasks import load_dataset

CONCEPTS = Path(__file__).resolve().parents[1] / "sample_data" / "digits" / "concepts.csv"


def whole_matrix_fingerprint(d) -> str:
    """The definition: classes, ids, label sets, scores as one row-order byte string."""
    h = hashlib.sha256()
    h.update(b"multilabel\x1f" + "\x1f".join(d.classes).encode())
    h.update(multilabel_data._string_bytes(d.ids))
    h.update(np.packbits(d.y_true).tobytes())
    h.update(np.ascontiguousarray(d.scores).tobytes())
    return h.hexdigest()[:16]


def column_major(rng, n: int, k: int) -> np.ndarray:
    scores = np.asfortranarray(rng.random((n, k)))
    scores.setflags(write=False)
    return scores


def test_the_fingerprint_is_that_of_the_whole_row_order_matrix_at_any_block_size(monkeypatch):
    d = load_dataset(CONCEPTS)
    assert d.fingerprint() == whole_matrix_fingerprint(d)
    d = replace(d, scores=column_major(np.random.default_rng(0), 1_003, d.n_classes))
    for rows in (1, 7, 1_000, 65_536):
        monkeypatch.setattr(multilabel_data, "FINGERPRINT_ROWS", rows)
        assert d.fingerprint() == whole_matrix_fingerprint(d), rows


def test_the_fingerprint_does_not_copy_the_whole_score_matrix(monkeypatch):
    d = load_dataset(CONCEPTS)
    d = replace(d, scores=column_major(np.random.default_rng(1), 200_000, 20))  # 32 MB, column-major
    monkeypatch.setattr(multilabel_data, "FINGERPRINT_ROWS", 1_000)
    tracemalloc.start()
    try:
        d.fingerprint()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < d.scores.nbytes / 4, peak
