"""One sample's metadata as text (the Details dialog's facts), read without gathering rows."""

import numpy as np
import pandas as pd

from evaldash.metadata import MISSING, row_text, value_text


def _frame(n: int = 1000) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    brightness = rng.random(n)
    brightness[3] = np.nan
    source = pd.array(rng.choice(["camera_a", "camera_b", None], n), dtype="str")
    return pd.DataFrame({"source": source, "brightness": brightness,
                         "captured": pd.to_datetime("2024-01-01") + pd.to_timedelta(np.arange(n), "D"),
                         7: rng.integers(0, 5, n)})


def test_row_text_matches_the_whole_column_as_text():
    m = _frame()
    for row in (0, 3, 517, len(m) - 1):
        want = {str(c): value_text(m[c]).iloc[row] for c in m.columns}
        assert row_text(m, row) == want
    assert row_text(m, 3)["brightness"] == MISSING


def test_row_text_reads_a_slice_not_a_gathered_copy(monkeypatch):
    # gathering rows (``iloc[[row]]``) goes through ``take`` and copies every column: O(n) per click
    m = _frame()

    def no_take(self, *args, **kwargs):
        raise AssertionError("row_text gathered rows")

    monkeypatch.setattr(pd.DataFrame, "take", no_take)
    monkeypatch.setattr(pd.Series, "take", no_take)
    assert row_text(m, 517)["source"] == value_text(_frame()["source"]).iloc[517]


def test_row_text_of_no_columns_is_empty():
    assert row_text(pd.DataFrame(index=range(5)), 2) == {}
