"""One reading of a metadata column for every page that filters or slices by it.

A metadata column can hold anything a file holds: text with empty cells, strings and numbers
mixed (JSON Lines), dates, booleans with gaps, numbers with infinities, even lists. Filters and
slices compare and sort these values, which pandas 3 refuses for NaN next to text. So both
read a column through the two functions here: :func:`value_text` (every cell as text, missing
cells as :data:`MISSING`) and :func:`numbers` (a float per cell for numeric columns).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

MISSING = "(missing)"


def is_numeric(values: pd.Series) -> bool:
    """Whether the column holds numbers (booleans and text are not numbers here)."""
    return pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype)


def value_text(values: pd.Series) -> pd.Series:
    """Each cell as text, shape (n_samples,), dtype object: missing cells (None, NaN, NaT, NA)
    become :data:`MISSING`, every other value its ``str``; the same text in filters, slices
    and the details of a sample."""
    codes, names = value_codes(values)
    return pd.Series(names[codes], index=values.index, name=values.name, dtype=object)


def row_text(metadata: pd.DataFrame, row: int) -> dict[str, str]:
    """One sample's metadata as text, column by column, as :func:`value_text` writes it.

    Read as a one-row slice, a view: gathering a list of rows copies every column of the frame
    (about 50 ms for a million rows of Arrow text, on each Details click)."""
    one = metadata.iloc[row:row + 1]
    return {str(name): value_text(one[name]).iloc[0] for name in one.columns}


def value_codes(values: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """The column as codes into its distinct texts: (codes of shape (n_samples,), texts of shape
    (n_distinct,), dtype object), as :func:`value_text` writes them; each value is written once
    (a million floats written one by one took 3 s)."""
    try:
        codes, uniques = pd.factorize(values, use_na_sentinel=True)
        names = _text(pd.Series(uniques))
    except TypeError:  # unhashable cells (lists, dicts): written one by one, then factorised
        text = _text(values)
        text[np.asarray(pd.isna(values), dtype=bool)] = MISSING
        codes, names = pd.factorize(text)
        return codes, np.asarray(names, dtype=object)
    codes = np.where(codes < 0, len(names), codes)  # missing: the last text
    return codes, np.append(names, np.array([MISSING], dtype=object))


def _text(values: pd.Series) -> np.ndarray:
    try:
        return values.astype(str).to_numpy(dtype=object)
    except (UnicodeDecodeError, TypeError, ValueError):  # bytes that are not UTF-8 (Parquet binary)
        return np.array([str(v) for v in values], dtype=object)


def numbers(values: pd.Series) -> np.ndarray:
    """A numeric column as floats, shape (n_samples,): NaN where a cell is missing."""
    return values.to_numpy(dtype=np.float64, na_value=np.nan)


def finite_range(values: pd.Series) -> tuple[float, float] | None:
    """(lowest, highest) finite value of a numeric column, or None when it has none."""
    x = numbers(values)
    x = x[np.isfinite(x)]
    return (float(x.min()), float(x.max())) if x.size else None


def distinct_count(values: pd.Series) -> int:
    """How many distinct values a column holds (missing cells not counted); lists count as text."""
    try:
        return int(values.nunique())
    except TypeError:  # unhashable cells (lists, dicts)
        return int(value_text(values).nunique())
