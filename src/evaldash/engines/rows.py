"""Single rows of a file that stays in its engine, read as the memory path's arrays are indexed.

Pages and galleries index a dataset one row (or one page of rows) at a time: ``d.ids[row]``,
``d.y_true[row]``, ``d.scores[row]``, ``row_text(d.metadata, row)``, ``evaluation.confidence[row]``.
On an engine these are :class:`RowColumn` objects over a :class:`RowCache`: one query fetches every
column of many rows (a gallery page of 24 is one query, not 24 × 5), and a small LRU keeps the
rows last read. Whole-array use (``np.asarray(d.ids)``, ``d.y_true == 3``, iterating) raises
:class:`~evaldash.errors.InputError` naming the engine, instead of pulling 100M rows into Python.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pandas as pd

from evaldash.engines import sql
from evaldash.engines.page_connections import page_frame
from evaldash.errors import InputError

CACHED_ROWS = 4096  # rows kept (a few galleries of pages, and their Details)
FETCH_MAX = 10_000  # rows one indexing may read (a page, a list of rows); above: whole-array use
PAGES_KEPT = 256  # cell pages whose row numbers are kept
BLOCK = 240  # rows of a gallery read at once: a page of 24 reads its block, the next nine pages with it


class RowCache:
    """Every column of the rows last read from one :class:`~evaldash.engines.table.EngineDataset`
    (an LRU of :data:`CACHED_ROWS` rows); :meth:`fetch` reads the missing ones in one query."""

    def __init__(self, dataset, capacity: int = CACHED_ROWS):
        self.dataset = dataset
        self.capacity = capacity
        self._rows: OrderedDict[int, tuple] = OrderedDict()
        self._lock = threading.Lock()
        self.queries = 0  # engine queries run (tests and benchmarks read it)

    @property
    def columns(self) -> list[str]:
        """The record's columns in ``ev_rows`` (:meth:`RowAccess.record_columns`)."""
        return self.dataset.record_columns()

    def store(self, frame: pd.DataFrame) -> np.ndarray:
        """Keep the records of ``frame`` (columns :attr:`columns`); returns their row numbers, int64."""
        rows = frame["ev_rn"].to_numpy(np.int64)
        records = list(frame.itertuples(index=False, name=None))
        with self._lock:
            for row, record in zip(rows.tolist(), records):
                self._rows[row] = record
                self._rows.move_to_end(row)
            while len(self._rows) > self.capacity:
                self._rows.popitem(last=False)
        return rows

    def fetch(self, rows) -> dict[int, tuple]:
        """Row number → record of each of ``rows``; the ones not cached read in one query."""
        wanted = [int(r) for r in rows]
        out: dict[int, tuple] = {}
        with self._lock:
            for r in wanted:
                record = self._rows.get(r)
                if record is not None:
                    self._rows.move_to_end(r)
                    out[r] = record
        missing = sorted(set(wanted) - set(out))
        if missing:
            frame = self.dataset.engine.frame(sql.row_records(self.columns, missing))
            self.queries += 1
            self.store(frame)
            for record in frame.itertuples(index=False, name=None):
                out[int(record[0])] = record
        return out

    def page(self, where: str, order: str, limit: int, offset: int, view: str = "ev_rows") -> np.ndarray:
        """Row numbers of one page of the rows of ``view`` where ``where`` holds, in ``order``,
        their records kept: one query."""
        # a scan of every row: on a connection of its own, the engine's other queries go on meanwhile
        frame = page_frame(self.dataset.engine, sql.ranked_page(self.columns, where, order, limit, offset, view))
        self.queries += 1
        return self.store(frame)

    def query(self, text: str) -> np.ndarray:
        """Row numbers of the rows ``text`` selects (columns :attr:`columns`), their records kept:
        one query."""
        frame = self.dataset.engine.frame(text)
        self.queries += 1
        return self.store(frame)


def _whole(dataset, what: str) -> InputError:
    return InputError(f"{dataset.source}: {what} stays in the {dataset.engine.name} engine (the file is not read "
                      f"into memory); index it one row or one page at a time, or open a sample of rows in memory")


class RowColumn:
    """One per-sample column of an engine dataset, indexed one row or a few rows at a time
    (shape (n,) as the memory path's array; ``scores``: (n, k))."""

    def __init__(self, dataset, name: str, column: str, convert, dtype=object, width: int | None = None):
        self._d, self._name, self._column, self._convert, self._dtype = dataset, name, column, convert, dtype
        # a row of (n, k) columns (scores; a multi-label file's label sets): k values
        self._width = dataset.n_classes if column == "scores" else width

    def __len__(self) -> int:
        return self._d.n

    @property
    def shape(self) -> tuple[int, ...]:
        return (self._d.n,) if self._width is None else (self._d.n, self._width)

    def _rows(self, key) -> list[int] | int:
        n = getattr(self._d, "rows_in_file", None) or self._d.n  # a slice's rows keep the file's numbers
        if isinstance(key, (int, np.integer)) and not isinstance(key, (bool, np.bool_)):
            r = int(key)
            if r < -n or r >= n:
                raise IndexError(f"row {r} out of range for {n} rows")
            return r % n
        if isinstance(key, slice):
            rows = range(n)[key]
        else:
            rows = np.asarray(key)
            if rows.dtype == bool or rows.ndim != 1 or rows.dtype.kind not in "iu":
                raise _whole(self._d, f"{self._name} (indexed by a mask)")
            if rows.size and (rows.min() < -n or rows.max() >= n):
                raise IndexError(f"rows out of range for {n} rows")
            rows = (rows % n).tolist() if rows.size else []
        if len(rows) > FETCH_MAX:
            raise _whole(self._d, f"{self._name} ({len(rows):,} rows at once)")
        return list(rows)

    def __getitem__(self, key):
        column = None
        if isinstance(key, tuple) and self._width is not None and len(key) == 2:
            key, column = key
        rows = self._rows(key)
        records = self._d.row_cache.fetch([rows] if isinstance(rows, int) else rows)
        if isinstance(rows, int):
            value = self._convert(records[rows])
        else:
            value = np.array([self._convert(records[r]) for r in rows], dtype=self._dtype)
            if self._width is not None:
                value = value.reshape(len(rows), self._width)
        return value if column is None else value[..., column]

    def __array__(self, dtype=None, copy=None):
        raise _whole(self._d, self._name)

    def __iter__(self):
        raise _whole(self._d, self._name)

    def _compare(self, other):
        raise _whole(self._d, self._name)

    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = _compare
    __hash__ = None

    def __repr__(self) -> str:
        return f"<{self._name} of {self._d.n:,} rows in the {self._d.engine.name} engine>"


class _ILoc:
    def __init__(self, metadata: "LazyMetadata"):
        self._m = metadata

    def __getitem__(self, key):
        m = self._m
        if isinstance(key, (int, np.integer)):
            frame = self[int(key):int(key) + 1 if int(key) != -1 else None]
            return frame.iloc[0]
        if not isinstance(key, slice):
            raise _whole(m._d, "the metadata")
        rows = list(RowColumn(m._d, "the metadata", "metadata", None)._rows(key))
        records = m._d.row_cache.fetch(rows)
        at = m._positions
        return pd.DataFrame([[records[r][i] for i in at] for r in rows], columns=list(m.columns),
                            index=pd.RangeIndex(rows[0], rows[-1] + 1) if rows and rows == list(
                                range(rows[0], rows[-1] + 1)) else rows)


class LazyMetadata:
    """The metadata columns of an engine dataset: ``columns`` known, rows read lazily through
    ``iloc`` (``row_text(d.metadata, row)`` reads one row); a whole column raises InputError."""

    def __init__(self, dataset):
        self._d = dataset
        self.columns = pd.Index(list(dataset.metadata_columns), dtype=object)
        from evaldash.engines.table import metadata_ref

        at = {name: i for i, name in enumerate(dataset.record_columns())}
        self._positions = [at[metadata_ref(i)] for i in range(len(self.columns))]
        self.iloc = _ILoc(self)

    @property
    def empty(self) -> bool:
        return len(self.columns) == 0

    @property
    def shape(self) -> tuple[int, int]:
        return self._d.n, len(self.columns)

    def __len__(self) -> int:
        return self._d.n

    def __contains__(self, name) -> bool:
        return name in self.columns

    def __getitem__(self, key):
        raise _whole(self._d, f"metadata column {key!r}")

    def __array__(self, dtype=None, copy=None):
        raise _whole(self._d, "the metadata")


class EngineImageCheck:
    """The image check of an engine dataset: the paths are not checked ahead (that reads every
    row); the shown rows' paths are checked when they are drawn
    (:func:`evaldash.engines.row_images.rows_image_check`). :func:`evaldash.ui.notices.image_notice`
    shows :meth:`matched` as one line, once per page."""

    refused = missing = unreadable = not_shown = 0
    in_upload = False
    suggested_root = None
    example = ""

    def __init__(self, engine_name: str, column: str, root: str):
        self.engine_name, self.column, self.root, self.base = engine_name, column, root, root
        self.by_name = 1  # truthy: the notice shows the line of matched()

    def problem(self) -> str:
        return ""

    def fix(self, ways: str = "") -> str:
        return ""

    def matched(self) -> str:
        return (f"Image paths (column {self.column!r}) are not checked ahead on the {self.engine_name} engine: "
                f"each is checked when its image is shown, and a line above the images says why any cannot be.")


def resolve_image(text, base: str, root: str) -> str | None:
    """The absolute path of one image path as :func:`evaldash.image_paths.resolve_images` resolves
    it (the file's folder first, then the images root; inside the root), or None."""
    from evaldash.image_paths import OK, _check

    if text is None or (isinstance(text, float) and np.isnan(text)):
        return None
    t = str(text).strip()
    if not t or "\x00" in t:
        return None
    root_real = os.path.realpath(root)
    status, resolved = _check(t if os.path.isabs(t) else os.path.join(base, t), root_real)
    if status != OK and not os.path.isabs(t) and os.path.realpath(base) != root_real:
        status, resolved = _check(os.path.join(root_real, t), root_real)
    return resolved if status == OK else None


def source_folder(source: str) -> str:
    """The folder a file's relative image paths start from: a file's folder, a folder itself, a
    glob's folder before its first pattern character."""
    from evaldash.engines.base import GLOB_CHARS

    text = str(source)
    cut = min((text.index(ch) for ch in GLOB_CHARS if ch in text), default=None)
    if cut is not None:
        return str(Path(text[:cut]).resolve().parent if not text[:cut].endswith(os.sep)
                   else Path(text[:cut]).resolve())
    p = Path(text).resolve()
    return str(p if p.is_dir() else p.parent)


def source_fingerprint(dataset, options=()) -> str:
    """A cheap, stable hash of what an engine dataset reads: its files' paths, sizes and
    modification times, the classes, the row count, the columns and the read ``options``
    (a changed file, a changed positive class or threshold gives another fingerprint). Not
    the memory path's content hash: annotations saved on one engine are keyed apart."""
    from evaldash.engines.base import source_files

    _, files = source_files(dataset.source)
    h = hashlib.sha256()
    for f in files:
        st = os.stat(f)
        h.update(f"{os.path.realpath(f)}\x1f{st.st_size}\x1f{st.st_mtime_ns}\x1e".encode())
    h.update("\x1f".join(dataset.classes).encode())
    h.update(f"\x1e{dataset.n}\x1e{dataset.positive}\x1e{dataset.prediction_given}\x1e".encode())
    h.update(repr(dataset.column_kinds).encode())
    h.update(repr(tuple(options)).encode())
    return "engine-" + h.hexdigest()[:16]


def _maybe_nan(value) -> float:
    return float("nan") if value is None or pd.isna(value) else float(value)


class RowAccess:
    """The per-row accessors of the memory :class:`~evaldash.dataset.Dataset`, for an engine
    dataset (mixed into :class:`~evaldash.engines.table.EngineDataset`)."""

    def record_columns(self) -> list[str]:
        """A row's record in ``ev_rows``: row number, id, classes, confidence, scores, metadata, image."""
        from evaldash.engines.table import metadata_ref

        return (["ev_rn", "ev_id", "y_true", "y_pred", "conf"]
                + [sql.score(c) for c in range(self.n_classes) if self.has_scores]
                + [metadata_ref(i) for i in range(len(self.metadata_columns))]
                + (["ev_image"] if self.image_column is not None else []))

    def _at(self, column: str) -> int:
        """The position of ``column`` in a record."""
        return self.record_columns().index(column)

    @property
    def row_cache(self) -> RowCache:
        cache = self.__dict__.get("_row_cache")
        if cache is None:
            cache = self.__dict__.setdefault("_row_cache", RowCache(self))
        return cache

    @property
    def ids(self) -> RowColumn:
        return RowColumn(self, "ids", "ev_id", lambda r: str(r[1]))

    @property
    def y_true(self) -> RowColumn:
        return RowColumn(self, "y_true", "y_true", lambda r: int(r[2]), np.int32)

    @property
    def y_pred(self) -> RowColumn:
        return RowColumn(self, "y_pred", "y_pred", lambda r: int(r[3]), np.int32)

    @property
    def scores(self) -> RowColumn | None:
        if not self.has_scores:
            return None
        k, first = self.n_classes, self._at(sql.score(0))
        return RowColumn(self, "scores", "scores", lambda r: np.array(r[first:first + k], dtype=np.float64),
                         np.float64)

    def confidence_column(self) -> RowColumn:
        """The predicted class's score per row (NaN without scores), as ``Dataset.confidence()``."""
        return RowColumn(self, "confidence", "conf", lambda r: _maybe_nan(r[4]), np.float64)

    @property
    def image_paths(self) -> RowColumn | None:
        if self.image_column is None:
            return None
        base = source_folder(self.source)
        root = self.images_root or base
        return RowColumn(self, "image_paths", "ev_image", lambda r: resolve_image(r[-1], base, root))

    @property
    def image_check(self) -> EngineImageCheck | None:
        if self.image_column is None:
            return None
        return EngineImageCheck(self.engine.name, self.image_column, self.images_root or source_folder(self.source))

    @property
    def metadata(self) -> LazyMetadata:
        return LazyMetadata(self)

    def fingerprint(self) -> str:
        """:func:`source_fingerprint` of this dataset."""
        return source_fingerprint(self, getattr(self, "read_options", ()))

    def frame(self):
        raise _whole(self, "the samples' frame")


class RankedRows:
    """The row numbers of the samples where a condition holds, in an order (ties in file order),
    read a page at a time: ``len()`` is their count (given, or one COUNT query kept);
    ``rows[a:b]`` is one query for that page (its records kept for the captions and Details), an
    int64 ndarray; ``rows[i]`` one row. Above :data:`FETCH_MAX` rows, whole-array use raises
    InputError. ``where``/``order``: SQL over ``ev_rows``; ``key``: names it in the caches."""

    def __init__(self, evaluation, key, where: str, order: str, count: int | None = None, what: str = "rows",
                 view: str = "ev_rows"):
        self._e, self.key, self.where, self.order, self._count, self.what = evaluation, key, where, order, count, what
        self.view = view  # what ``where`` and ``order`` read: ev_rows, or a query over it (its columns kept)

    def __len__(self) -> int:
        if self._count is None:
            # a scan of every row, as a page: on a connection of its own
            self._count = self._e.memo(("count", self.key), lambda e: int(
                page_frame(e.engine, sql.count_where(self.where, self.view))["n"].iloc[0] or 0))
        return self._count

    @property
    def shape(self) -> tuple[int]:
        return (len(self),)

    @property
    def size(self) -> int:
        return len(self)

    def _page(self, start: int, stop: int) -> np.ndarray:
        if stop <= start:
            return np.zeros(0, dtype=np.int64)
        first = start - start % BLOCK
        if stop <= first + BLOCK:  # within one block: the block's query serves its other pages too
            rows = self._block(first)
            return rows[start - first:stop - first]
        return self._block(start, stop)

    def _block(self, start: int, stop: int | None = None) -> np.ndarray:
        """Row numbers ``start``..``stop`` (default: a block of :data:`BLOCK`), their records in
        the row cache: one query the first time."""
        stop = min(start + BLOCK, len(self)) if stop is None else stop
        e = self._e
        cache = e.dataset.row_cache
        key = ("page", self.key, start, stop)
        pages = e._memo.setdefault("pages", OrderedDict())
        rows = pages.get(key)
        if rows is None:
            rows = self._read(start, stop)
            rows.setflags(write=False)
            pages[key] = rows
            while len(pages) > PAGES_KEPT:
                pages.popitem(last=False)
        else:
            cache.fetch(rows)  # the records may have left the LRU since
        return rows

    def _read(self, start: int, stop: int) -> np.ndarray:
        """One query for rows ``start``..``stop``, their records kept."""
        return self._e.dataset.row_cache.page(self.where, self.order, stop - start, start, self.view)

    def __getitem__(self, key):
        n = len(self)
        if isinstance(key, slice):
            start, stop, step = key.indices(n)
            if step != 1:
                return np.asarray(self)[key]
            if stop - start > FETCH_MAX:
                raise _whole(self._e.dataset, f"{self.what} ({stop - start:,} rows at once)")
            return self._page(start, stop)
        if isinstance(key, (int, np.integer)) and not isinstance(key, (bool, np.bool_)):
            i = int(key)
            if i < -n or i >= n:
                raise IndexError(f"sample {i} out of range for {n} samples")
            i %= n
            return int(self._page(i, i + 1)[0])
        return np.asarray(self)[key]

    def __array__(self, dtype=None, copy=None):
        n = len(self)
        if n > FETCH_MAX:
            raise _whole(self._e.dataset, f"{self.what} ({n:,} samples)")

        def every(ev):  # row numbers only: the records of thousands of rows are not kept
            rows = ev.engine.frame(sql.ranked_rows(self.where, self.order, n, 0, self.view))["ev_rn"].to_numpy(np.int64)
            rows.setflags(write=False)
            return rows
        rows = self._e.memo(("rows", self.key), every)
        return rows.astype(dtype) if dtype is not None else rows

    def __iter__(self):
        return iter(np.asarray(self).tolist())

    def tolist(self) -> list[int]:
        return np.asarray(self).tolist()

    def __repr__(self) -> str:
        return f"<{len(self):,} {self.what} in the {self._e.engine.name} engine>"


class CellRows(RankedRows):
    """The samples of confusion cell (true, pred), most confident first, ties in file order (the
    memory path's order); ``len()`` from the confusion counts (no query)."""

    def __init__(self, evaluation, true: int, pred: int, count: int):
        self.true, self.pred = int(true), int(pred)
        super().__init__(evaluation, ("cell", self.true, self.pred), sql.cell_where(self.true, self.pred),
                         sql.MOST_CONFIDENT, int(count), f"cell ({self.true}, {self.pred})")

    def _read(self, start: int, stop: int) -> np.ndarray:
        """From the sorted cell table when precompute built it (DuckDB: one row group read), else
        (or once it was dropped, :func:`evaldash.engines.cells.drop`) the per-page query over the file."""
        table = self._e._memo.get("cell table")
        if table is None or table.dropped:
            return super()._read(start, stop)
        cache = self._e.dataset.row_cache
        try:
            return cache.query(table.page_sql(cache.columns, self.true, self.pred, start, stop))
        except Exception:
            if not table.dropped:  # dropped while this page was read: its database is gone
                raise
            return super()._read(start, stop)
