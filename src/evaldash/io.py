"""Read a predictions table from CSV (.csv, .csv.gz), TSV (.tsv, .tsv.gz: CSV with tabs), Parquet or
JSON Lines.

Only reading happens here: the result is a raw DataFrame plus the names of
the columns that must be kept as text. Meaning is given to the columns by
:mod:`evaldash.dataset`.
"""

from __future__ import annotations

import csv
import gzip
import json
import warnings as python_warnings
from pathlib import Path
from typing import Iterable, Sequence

import pandas as pd

from evaldash.errors import InputError

CSV_SUFFIXES = (".csv", ".csv.gz")
TSV_SUFFIXES = (".tsv", ".tsv.gz")  # read as CSV (the same rules), tab-separated
PARQUET_SUFFIXES = (".parquet", ".pq")
JSONL_SUFFIXES = (".jsonl", ".ndjson", ".jsonl.gz")
SUPPORTED = CSV_SUFFIXES + PARQUET_SUFFIXES + JSONL_SUFFIXES + TSV_SUFFIXES
MAX_SHOWN = 5
_OTHER_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}
_SEPARATOR_NAMES = {",": "comma", "\t": "tab"}
# pandas' documented default missing-value markers, kept for the numeric columns only:
# in a text column "NA", "None" or "null" can be a class name.
_DEFAULT_NA = ("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
               "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null")


def file_format(path: str | Path) -> str:
    """Return ``"csv"`` (also for tab-separated files), ``"parquet"`` or ``"jsonl"`` from the file name."""
    name = Path(path).name.lower()
    if name.endswith(CSV_SUFFIXES + TSV_SUFFIXES):
        return "csv"
    if name.endswith(PARQUET_SUFFIXES):
        return "parquet"
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    raise InputError(
        f"{path}: unsupported file type; expected one of {', '.join(SUPPORTED)}"
    )


def read_table(path: str | Path, text_columns: Iterable[str] = (),
               warnings: list[str] | None = None, classes: Sequence[str] | None = None) -> pd.DataFrame:
    """Read the file at ``path`` into a DataFrame.

    ``text_columns`` (CSV only) are read as strings so that labels such as
    ``007`` keep their spelling. Problems that do not stop reading (a trailing comma on every
    line) are appended to ``warnings`` when it is given. A list of scores per row and class-index
    labels are given class names (``classes``, else the file's sidecar): see
    :mod:`evaldash.score_lists`.
    """
    path = Path(path)
    fmt = file_format(path)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, expected a predictions file")
    warnings = warnings if warnings is not None else []
    try:
        if fmt == "csv":
            frame = _read_csv(path, set(text_columns), warnings)
        elif fmt == "parquet":
            frame = _read_parquet(path)
        else:
            frame = _read_jsonl(path)
        from evaldash.score_lists import named_scores

        return named_scores(frame, path, classes, warnings)
    except MemoryError as exc:  # pyarrow's ArrowMemoryError too
        raise too_large(path, exc) from None


def too_large(path: str | Path, exc: BaseException | None = None) -> InputError:
    """The error of a file whose rows do not fit in this process's memory: what to run instead."""
    try:
        size = f", {Path(path).stat().st_size / 1e9:.1f} GB on disk"
    except OSError:
        size = ""
    cause = f" ({type(exc).__name__}{': ' + str(exc).splitlines()[0] if str(exc).strip() else ''})" if exc else ""
    return InputError(f"{path}: the file does not fit in memory{cause}: the memory engine reads every row into "
                      f"pandas and numpy{size}. Open it with --engine duckdb, which reads it in place out of core "
                      f"under --memory-limit (or --engine auto, which chooses DuckDB for a file too large for memory)")


def read_header(path: str | Path) -> list[str]:
    """Return the column names of a CSV file as written in its first line, without reading its
    rows. A name given twice is refused here: pandas would rename the second ``score_a`` to
    ``score_a.1``, a class of its own."""
    path = Path(path)
    _check_text(path)
    sep = _separator(path)
    try:
        with _open_text(path) as fh:
            columns = next((row for row in csv.reader(fh, delimiter=sep) if not _blank(row)), [])
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InputError(f"{path}: cannot read the header as CSV text ({exc})") from None
    if not columns or not any(c.strip() for c in columns):
        raise InputError(f"{path}: the file is empty; expected a header row and data rows")
    if len(columns) == 1:
        for delim, name in ({**_SEPARATOR_NAMES, **_OTHER_DELIMITERS}).items():
            if delim != sep and delim in columns[0]:
                raise InputError(
                    f"{path}: the header has a single column {columns[0]!r}; the file seems to be "
                    f"{name}-separated, expected {_SEPARATOR_NAMES[sep]}-separated values"
                )
    named = [c for c in columns if c.strip()]
    dup = sorted({c for c in named if named.count(c) > 1})
    if dup:
        where = "; ".join(f"{c!r} at columns {', '.join(str(i + 1) for i, n in enumerate(columns) if n == c)}"
                          for c in dup[:MAX_SHOWN])
        raise InputError(
            f"{path}: duplicate column name{'s' if len(dup) > 1 else ''} in the header: {where}; "
            f"expected each column once"
        )
    return columns


def _separator(path: Path) -> str:
    return "\t" if path.name.lower().endswith(TSV_SUFFIXES) else ","


def _open_text(path: Path):
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


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


def _read_csv(path: Path, text_columns: set[str], warnings: list[str]) -> pd.DataFrame:
    header = read_header(path)
    dtype = {c: str for c in header if c in text_columns}
    # keyed by the names pandas gives: an empty header name becomes "Unnamed: <position>"
    na_values = {c or f"Unnamed: {i}": [""] if c in text_columns else list(_DEFAULT_NA)
                 for i, c in enumerate(header)}
    try:
        with python_warnings.catch_warnings(record=True) as caught:
            python_warnings.simplefilter("always", pd.errors.ParserWarning)
            frame = pd.read_csv(path, sep=_separator(path), dtype=dtype, encoding="utf-8-sig", low_memory=False,
                                keep_default_na=False, na_values=na_values,
                                # never take the first column as the index when rows have a
                                # field more than the header (a comma at the end of each data row)
                                index_col=False)
    except pd.errors.ParserError as exc:
        if "out of memory" in str(exc):  # the C parser's own allocation failed
            raise too_large(path, exc) from None
        if "fields" in str(exc):
            _check_row_lengths(path, len(header))  # names the rows of every length that is off
        raise InputError(f"{path}: malformed CSV ({exc})") from None
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except (OSError, EOFError) as exc:
        raise InputError(f"{path}: cannot read the file ({exc})") from None
    for warning in caught:
        if not issubclass(warning.category, pd.errors.ParserWarning):
            python_warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)
    # pandas fills a short row with missing cells and, with index_col=False, drops a row's extra
    # fields with a ParserWarning: only then (or with an empty last cell) are the rows counted
    longer = any(issubclass(w.category, pd.errors.ParserWarning) for w in caught)
    if (longer or (len(frame) and frame.iloc[:, -1].isna().any())) and _check_row_lengths(path, len(header)):
        warnings.append(f"{path}: every data row ends with a {_SEPARATOR_NAMES[_separator(path)]} (one empty field more than the "
                        f"header's {len(header)}); the empty last field was ignored")
    elif not header[-1].strip() and len(header) == frame.shape[1] and _all_empty(frame.iloc[:, -1]):
        warnings.append(f"{path}: every line ends with a {_SEPARATOR_NAMES[_separator(path)]} (an empty last column without a "
                        f"name); that column was ignored")
        frame = frame.iloc[:, :-1]
    return frame


def _all_empty(column: pd.Series) -> bool:
    return bool((column.isna() | column.astype(str).str.strip().eq("")).all())


def _check_row_lengths(path: Path, width: int) -> bool:
    """Refuse rows with more or fewer fields than the header's ``width`` (pandas fills a short
    row with missing values and takes the first column as the index when every row is one
    field longer). Return True when every data row has exactly one more field and it is empty:
    a comma at the end of each data row.

    A fast pass (Arrow's CSV reader, only counting fields) finds whether any row is off; only
    then are the rows named by a pass with the csv module.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    off = []
    sep = _separator(path)
    try:
        pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=[f"f{i}" for i in range(width)], skip_rows=1),
            parse_options=pacsv.ParseOptions(delimiter=sep, newlines_in_values=True,
                                              invalid_row_handler=lambda row: off.append(row) or "skip"),
            convert_options=pacsv.ConvertOptions(include_columns=["f0"], column_types={"f0": pa.string()},
                                                 check_utf8=False),
        )
        if not off:
            return False
    except (pa.ArrowException, OSError, ValueError):
        pass  # the csv module below decides (and pandas names any other fault)
    short, long, trailing, rows = [], [], 0, 0
    try:
        with _open_text(path) as fh:
            reader = (row for row in csv.reader(fh, delimiter=sep) if not _blank(row))  # pandas skips them too
            next(reader, None)  # the header
            for fields in reader:
                rows += 1
                if len(fields) < width:
                    short.append(rows)
                elif len(fields) > width:
                    long.append(rows)
                    trailing += len(fields) == width + 1 and not fields[-1].strip()
    except (UnicodeDecodeError, csv.Error, OSError, EOFError):
        return False  # pandas reports these with its own words
    if long and not short and trailing == rows:
        return True
    if short or long:
        parts = []
        if short:
            parts.append(f"fewer fields at {_rows_text(short)}")
        if long:
            parts.append(f"more fields at {_rows_text(long)}")
        raise InputError(
            f"{path}: rows with a different number of fields than the header's {width}: "
            f"{'; '.join(parts)} (row 1 is the first data row); expected {width} {_SEPARATOR_NAMES[sep]}-separated "
            f"fields in every row (quote values that contain a {_SEPARATOR_NAMES[sep]})"
        )
    return False


def _blank(fields: list[str]) -> bool:
    """A line that is empty or only spaces."""
    return not fields or (len(fields) == 1 and not fields[0].strip())


def _rows_text(rows: list[int]) -> str:
    shown = ", ".join(str(r) for r in rows[:MAX_SHOWN])
    more = f" and {len(rows) - MAX_SHOWN} more" if len(rows) > MAX_SHOWN else ""
    return f"row{'s' if len(rows) > 1 else ''} {shown}{more}"


def _read_parquet(path: Path) -> pd.DataFrame:
    try:
        import pyarrow.parquet as pq

        from evaldash.score_lists import arrow_list_columns, put_back

        # column by column into pandas, freeing each Arrow column as it goes: about half the
        # time of pd.read_parquet and a lower memory peak at millions of rows; a list of scores
        # per row stays in Arrow (no Python list per row)
        table, lists = arrow_list_columns(pq.read_table(path))
        return put_back(table.to_pandas(self_destruct=True, split_blocks=True), lists)
    except MemoryError:  # a valid file too large for memory (pyarrow's ArrowMemoryError too): read_table says so
        raise
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
        except RecursionError:
            raise InputError(
                f"{path}: line {line_no} nests JSON arrays or objects too deeply to read; expected "
                f"one flat JSON object per line (class names, scores and metadata as plain values)"
            ) from None
        if not isinstance(record, dict):
            raise InputError(
                f"{path}: line {line_no} holds a JSON {type(record).__name__}, expected an object"
            )
        records.append(record)
    return pd.DataFrame.from_records(records)
