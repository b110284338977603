"""Read a predictions table from CSV (.csv, .csv.gz), Parquet or JSON Lines.

Only reading happens here: the result is a raw DataFrame plus the names of
the columns that must be kept as text. Meaning is given to the columns by
:mod:`evaldash.dataset`.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Iterable

import pandas as pd

from evaldash.errors import InputError

CSV_SUFFIXES = (".csv", ".csv.gz")
PARQUET_SUFFIXES = (".parquet", ".pq")
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".jsonl.gz")
SUPPORTED = CSV_SUFFIXES + PARQUET_SUFFIXES + JSONL_SUFFIXES
_OTHER_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}
# pandas' documented default missing-value markers, kept for the numeric columns only:
# in a text column "NA", "None" or "null" can be a class name.
_DEFAULT_NA = ("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
               "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null")


def file_format(path: str | Path) -> str:
    """Return ``"csv"``, ``"parquet"`` or ``"jsonl"`` from the file name."""
    name = Path(path).name.lower()
    if name.endswith(CSV_SUFFIXES):
        return "csv"
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    raise InputError(
        f"{path}: unsupported file type; expected one of {', '.join(SUPPORTED)}"
    )


def read_table(path: str | Path, text_columns: Iterable[str] = ()) -> pd.DataFrame:
    """Read the file at ``path`` into a DataFrame.

    ``text_columns`` (CSV only) are read as strings so that labels such as
    ``007`` keep their spelling.
    """
    path = Path(path)
    fmt = file_format(path)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, expected a predictions file")
    if fmt == "csv":
        return _read_csv(path, set(text_columns))
    if fmt == "parquet":
        return _read_parquet(path)
    return _read_jsonl(path)


def read_header(path: str | Path) -> list[str]:
    """Return the column names of a CSV file without reading its rows."""
    path = Path(path)
    _check_text(path)
    try:
        header = pd.read_csv(path, nrows=0, encoding="utf-8-sig")
    except pd.errors.EmptyDataError:
        raise InputError(f"{path}: the file is empty; expected a header row and data rows") from None
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise InputError(f"{path}: cannot read the header as CSV text ({exc})") from None
    columns = [str(c) for c in header.columns]
    if len(columns) == 1:
        for delim, name in _OTHER_DELIMITERS.items():
            if delim in columns[0]:
                raise InputError(
                    f"{path}: the header has a single column {columns[0]!r}; the file seems to be "
                    f"{name}-separated, expected comma-separated values"
                )
    return columns


def _open_bytes(path: Path):
    return gzip.open(path, "rb") if path.name.lower().endswith(".gz") else open(path, "rb")


def _check_text(path: Path) -> None:
    try:
        with _open_bytes(path) as fh:
            head = fh.read(65536)
    except (OSError, EOFError) as exc:
        raise InputError(f"{path}: cannot read the file ({exc})") from None
    if not head.strip():
        raise InputError(f"{path}: the file is empty; expected a header row and data rows")
    if b"\x00" in head:
        raise InputError(f"{path}: this is a binary file, expected CSV text")
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character cut at the end of the sample is fine.
        if exc.start < len(head) - 4:
            raise InputError(
                f"{path}: not UTF-8 text (byte {exc.start}); expected a UTF-8 encoded CSV file"
            ) from None


def _read_csv(path: Path, text_columns: set[str]) -> pd.DataFrame:
    header = read_header(path)
    dtype = {c: str for c in header if c in text_columns}
    na_values = {c: [""] if c in text_columns else list(_DEFAULT_NA) for c in header}
    try:
        return pd.read_csv(path, dtype=dtype, encoding="utf-8-sig", low_memory=False,
                           keep_default_na=False, na_values=na_values)
    except pd.errors.ParserError as exc:
        raise InputError(f"{path}: malformed CSV ({exc})") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except (OSError, EOFError) as exc:
        raise InputError(f"{path}: cannot read the file ({exc})") from None


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        import pyarrow.parquet as pq

        # column by column into pandas, freeing each Arrow column as it goes: about half the
        # time of pd.read_parquet and a lower memory peak at millions of rows
        return pq.read_table(path).to_pandas(self_destruct=True, split_blocks=True)
    except Exception as exc:  # pyarrow raises several unrelated types for bad files
        raise InputError(f"{path}: not a valid Parquet file ({type(exc).__name__}: {exc})") from None


def _read_jsonl(path: Path) -> pd.DataFrame:
    try:
        with _open_bytes(path) as fh:
            raw = fh.read()
    except (OSError, EOFError) as exc:
        raise InputError(f"{path}: cannot read the file ({exc})") from None
    if not raw.strip():
        raise InputError(f"{path}: the file is empty; expected one JSON object per line")
    records = []
    for line_no, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(
                f"{path}: line {line_no} is not valid JSON ({exc}); expected one complete "
                f"JSON object per line (is the file truncated?)"
            ) from None
        if not isinstance(record, dict):
            raise InputError(
                f"{path}: line {line_no} holds a JSON {type(record).__name__}, expected an object"
            )
        records.append(record)
    return pd.DataFrame.from_records(records)
