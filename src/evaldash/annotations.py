"""Annotators' findings: tags, notes and corrected labels, kept append-only in a real database.

Every change is a new row of ``annotation_events`` (who, when, what); the state a sample is in
(its tags, latest note and corrected label) is derived by replaying its rows in order, so the
history is never lost. Rows are keyed by the dataset's fingerprint and the sample id: the same
file shows its annotations again, another file never shows them.

Signed-off operating points (:class:`~evaldash.decision.DecisionRecord`) are kept in the same
database, in ``decision_records`` (one row per record, its JSON with a few columns to query by).

The database is SQLite (a file, WAL mode, the default) or PostgreSQL (a ``postgresql://`` URL),
both through SQLAlchemy Core; the schema is created and migrated on open (``schema_version``).
Every call is bounded in time (:mod:`evaldash.db_limits`) and fails as a :class:`StoreError`
that says what happened. Imported findings keep their author as ``original_annotator``.
No Streamlit here: the dashboard and ``evaldash annotations`` share this module.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import time
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from evaldash.db_limits import (ANSWER_TIMEOUT, CONNECT_TIMEOUT, SQLITE_BUSY_TIMEOUT, SQLITE_TRIES, Deadline,
                                bound_pings, error_kind, postgres_connect_args, sqlite_pragmas, timeout_of)
from evaldash.errors import InputError

BUILTIN_TAGS = ("label error", "model error", "ambiguous", "bad image", "duplicate")
KINDS = ("tag", "untag", "note", "label", "reviewed")
SCHEMA_VERSION = 3
EXPORT_COLUMNS = ["sample_id", "tags", "note", "corrected_label", "annotator", "original_annotator", "updated_at"]
# spreadsheet programs run cells that start with these as formulas (the full-width forms too:
# some locales' spreadsheets read them as their ASCII twins)
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
BUSY_SAVE = ("the annotation database is busy (locked by another writer); your changes were not saved "
             "— try again")


class StoreError(InputError):
    """The annotation database cannot be opened, read or written; the message says which and why.

    ``kind`` says what went wrong: ``"unavailable"`` (the server cannot be reached) or
    ``"timeout"`` (it did not answer in time): the dashboard works read-only and tries again
    later; ``"busy"`` (another writer holds a lock: try again); ``""`` (anything else: bad
    input, a schema mismatch).
    """

    def __init__(self, message: str, kind: str = ""):
        super().__init__(message)
        self.kind = kind


_metadata = sa.MetaData()
_version = sa.Table("schema_version", _metadata, sa.Column("version", sa.Integer, nullable=False))
_events = sa.Table(
    "annotation_events", _metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("dataset", sa.String(64), nullable=False),
    sa.Column("sample_id", sa.Text, nullable=False),
    sa.Column("annotator", sa.Text, nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("value", sa.Text, nullable=False),
    # set by `annotations import`: who wrote the finding where it came from (``annotator`` is
    # who imported it); NULL for findings made here (schema version 3)
    sa.Column("original_annotator", sa.Text, nullable=True),
    sa.Index("ix_annotation_events_dataset_sample", "dataset", "sample_id"),
)


def _decision_records_v2(metadata: sa.MetaData) -> sa.Table:
    """``decision_records`` as schema version 2 made it (the migration creates exactly this)."""
    return sa.Table(
        "decision_records", metadata,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("dataset", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approver", sa.Text, nullable=False),
        sa.Column("class_name", sa.Text, nullable=False),
        sa.Column("record", sa.Text, nullable=False),  # DecisionRecord.to_json()
        sa.Index("ix_decision_records_dataset_created", "dataset", "created_at"),
    )


_decisions = _decision_records_v2(_metadata)


def _migrate_1_to_2(conn: sa.Connection) -> None:
    _decision_records_v2(sa.MetaData()).create(conn, checkfirst=True)


# Migrations from version N to N + 1, each run in the opening transaction. A new database gets
# the current schema at once; a database newer than this code is refused rather than misread.
def _migrate_2_to_3(conn: sa.Connection) -> None:
    conn.execute(sa.text("ALTER TABLE annotation_events ADD COLUMN original_annotator TEXT"))


_MIGRATIONS = {1: _migrate_1_to_2, 2: _migrate_2_to_3}


def default_db_path() -> Path:
    """Where annotations go without ``--db``/``EVALDASH_DB``: the user's data folder."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "evaldash" / "annotations.db"


def database_url(db: str | os.PathLike | None = None) -> str:
    """A SQLAlchemy URL from ``--db``: a file path (SQLite) or a database URL; None: the
    ``EVALDASH_DB`` environment variable, else :func:`default_db_path`."""
    db = db if db not in (None, "") else os.environ.get("EVALDASH_DB") or default_db_path()
    text = str(db)
    if "://" not in text:
        return f"sqlite:///{Path(text).expanduser().resolve()}"
    if text.startswith(("postgresql://", "postgres://")):
        return "postgresql+psycopg://" + text.split("://", 1)[1]
    return text


def describe(url: str) -> str:
    """The database as a person would name it, without a password."""
    try:
        parsed = sa.engine.make_url(url)
    except sa.exc.ArgumentError:
        return url
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite file {parsed.database}"
    return f"{parsed.get_backend_name()} database {parsed.render_as_string(hide_password=True)}"


class AnnotationStore:
    """One annotation database. Writes are one transaction each; readers see committed rows.

    Every call is bounded in time (see ``CONNECT_TIMEOUT`` and the others above) and fails as a
    :class:`StoreError` saying what happened; a connection lost to a server that went away is
    replaced on the next call, so the store works again once the server is back.
    """

    def __init__(self, db: str | os.PathLike | None = None):
        self.url = database_url(db)
        self.name = describe(self.url)
        # when a call last found the database unreachable or silent (time.monotonic()), and why;
        # None again after a call that reached it (see evaldash.store_access)
        self.failed_at: float | None = None
        self.last_error = ""
        try:
            parsed = sa.engine.make_url(self.url)
            self.backend = parsed.get_backend_name()
        except sa.exc.ArgumentError as exc:
            raise StoreError(f"annotation database {db!r}: not a file path or database URL ({exc})") from None
        try:
            if self.backend == "sqlite":
                if parsed.database and parsed.database != ":memory:":
                    Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
                    # a new file is its owner's only (SQLite gives its -wal and -shm files the same
                    # mode): findings and notes are not for every account on a shared server
                    os.close(os.open(parsed.database, os.O_CREAT | os.O_WRONLY, 0o600))
                self.engine = sa.create_engine(self.url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT})
                sa.event.listen(self.engine, "connect", sqlite_pragmas)
            else:
                self.engine = sa.create_engine(self.url, pool_pre_ping=True, pool_timeout=CONNECT_TIMEOUT,
                                               connect_args=postgres_connect_args(parsed))
                if self.backend == "postgresql":
                    bound_pings(self.engine)
            self._run("open", self._migrate, write=True)
        except StoreError:
            raise
        except (sa.exc.SQLAlchemyError, OSError, ImportError) as exc:
            raise StoreError(f"cannot open the annotation database ({self.name}): {_reason(exc)}") from None

    def _run(self, action: str, work, write: bool = False):
        """``work(conn)`` in one transaction, bounded in time; a locked SQLite file is tried again
        briefly and a connection found dead is replaced once. Failures become a :class:`StoreError`
        whose message says what was attempted (``action``: "open", "read" or "save") and why."""
        tries = SQLITE_TRIES if self.backend == "sqlite" else 2
        for attempt in range(1, tries + 1):
            deadline = Deadline(ANSWER_TIMEOUT)
            try:
                with self.engine.connect() as conn, deadline.watch(conn.connection.dbapi_connection):
                    with conn.begin():  # the commit, too, is under the deadline
                        result = work(conn)
                self.failed_at = None
                return result
            except sa.exc.DBAPIError as exc:
                kind = "timeout" if deadline.passed else error_kind(exc)
                # a connection that died under a read is replaced and the read tried again; a write
                # is not (its commit may have arrived), the pool's pre-ping catches dead ones first
                again = kind == "busy" if self.backend == "sqlite" else (
                    exc.connection_invalidated and kind != "timeout" and not write)
                if again and attempt < tries:
                    time.sleep(0.2)  # another writer finishing, or a server restarted: once more
                    continue
                error = self._error(action, exc, kind, write)
            except sa.exc.SQLAlchemyError as exc:
                error = self._error(action, exc, error_kind(exc), write)
            if error.kind in ("unavailable", "timeout"):
                self.failed_at, self.last_error = time.monotonic(), str(error)
            raise error

    def ping(self) -> None:
        """Reach the database once (raises :class:`StoreError` when it cannot)."""
        self._run("read", lambda conn: conn.execute(sa.select(1)).scalar())

    def _error(self, action: str, exc: BaseException, kind: str, write: bool) -> StoreError:
        if kind == "busy":
            if write and action == "save":
                return StoreError(f"{BUSY_SAVE} ({self.name})", kind)
            return StoreError(f"the annotation database ({self.name}) is busy (locked by another writer): "
                              f"cannot {action} it now — try again", kind)
        if kind == "timeout":
            reason = f"the database server did not answer within {timeout_of(exc)} s"
        else:
            reason = _reason(exc)
        verb = {"open": "cannot open", "read": "cannot read", "save": "cannot save to"}[action]
        suffix = "; your changes were not saved" if action == "save" else ""
        return StoreError(f"{verb} the annotation database ({self.name}): {reason}{suffix}", kind)

    def _migrate(self, conn: sa.Connection) -> None:
        _version.create(conn, checkfirst=True)
        version = conn.execute(sa.select(_version.c.version)).scalar()
        if version is None:
            _metadata.create_all(conn)
            conn.execute(_version.insert().values(version=SCHEMA_VERSION))
            return
        if version > SCHEMA_VERSION:
            raise StoreError(f"the annotation database ({self.name}) has schema version {version}; this "
                             f"evaldash knows versions up to {SCHEMA_VERSION}: upgrade evaldash")
        for step in range(version, SCHEMA_VERSION):
            _MIGRATIONS[step](conn)
        if version < SCHEMA_VERSION:
            conn.execute(_version.update().values(version=SCHEMA_VERSION))

    # --- writing ---------------------------------------------------------------
    def record(self, dataset: str, sample_id: str, annotator: str, kind: str, value: str = "",
               when: dt.datetime | None = None) -> None:
        """Append one event: ``tag``/``untag`` a tag, set the ``note`` or the corrected ``label``
        (empty: cleared), or mark the sample ``reviewed`` in the review set named by ``value``."""
        self.record_many([{"dataset": dataset, "sample_id": sample_id, "annotator": annotator, "kind": kind,
                           "value": value, "created_at": when}])

    def record_many(self, rows: list[dict]) -> None:
        """Append several events in one transaction (all or none). A row may name its
        ``original_annotator`` (imports: who wrote it where it came from)."""
        now = _now()
        clean = []
        for row in rows:
            kind = row["kind"]
            if kind not in KINDS:
                raise StoreError(f"unknown annotation kind {kind!r}; expected one of {', '.join(KINDS)}")
            annotator = str(row.get("annotator") or "").strip()
            if not annotator:
                raise StoreError("an annotation needs an annotator name")
            value = str(row.get("value") or "")
            if kind in ("tag", "untag", "reviewed") and not value.strip():
                raise StoreError(f"a {kind!r} annotation needs a non-empty value")
            original = str(row.get("original_annotator") or "").strip() or None
            clean.append({"dataset": str(row["dataset"]), "sample_id": str(row["sample_id"]),
                          "annotator": annotator, "kind": kind, "value": value.strip() if kind != "note" else value,
                          "created_at": row.get("created_at") or now, "original_annotator": original})
        if not clean:
            return
        self._run("save", lambda conn: conn.execute(_events.insert(), clean), write=True)

    # --- reading ---------------------------------------------------------------
    def events(self, dataset: str, sample_ids=None) -> pd.DataFrame:
        """Every event of ``dataset`` (optionally of some samples) in the order they were made;
        ``original_annotator`` is "" for findings made here (not imported)."""
        query = sa.select(_events).where(_events.c.dataset == dataset).order_by(_events.c.id)
        if sample_ids is not None:
            query = query.where(_events.c.sample_id.in_([str(s) for s in sample_ids]))
        rows = self._run("read", lambda conn: conn.execute(query).mappings().all())
        columns = ["id", "dataset", "sample_id", "annotator", "created_at", "kind", "value", "original_annotator"]
        frame = pd.DataFrame([dict(r) for r in rows], columns=columns)
        frame["original_annotator"] = frame["original_annotator"].fillna("").astype(object)
        return frame

    def state(self, dataset: str, sample_ids=None) -> pd.DataFrame:
        """The latest state per annotated sample: one row per sample id (the index) with
        ``tags`` (a sorted tuple), ``note``, ``corrected_label`` ("" when none), ``annotator``,
        ``original_annotator`` ("" unless imported) and ``updated_at`` of the last change, and
        ``reviewed`` (tuple of review sets)."""
        return latest_state(self.events(dataset, sample_ids))

    def history(self, dataset: str, sample_id: str) -> pd.DataFrame:
        """One sample's events, oldest first: when, who, what, the value, and the original
        author of an imported finding ("" otherwise)."""
        return self.events(dataset, [sample_id])[["created_at", "annotator", "kind", "value", "original_annotator"]]

    def reviewed(self, dataset: str, review_set: str) -> set[str]:
        """Ids of the samples marked reviewed in ``review_set`` (by anyone)."""
        query = sa.select(_events.c.sample_id).distinct().where(
            (_events.c.dataset == dataset) & (_events.c.kind == "reviewed") & (_events.c.value == review_set))
        return self._run("read", lambda conn: {r[0] for r in conn.execute(query)})

    # --- decision records ------------------------------------------------------
    def save_decision(self, record) -> int:
        """Keep a :class:`~evaldash.decision.DecisionRecord` (append-only); returns its row id.

        The record needs an approver name and a dataset fingerprint; it is stored as its JSON, so
        :meth:`decisions` gives back exactly what was saved.
        """
        approver = record.approver.strip()
        if not approver:
            raise StoreError("a decision record needs an approver name")
        if not record.fingerprint:
            raise StoreError("a decision record needs the dataset fingerprint")
        when = record.created_at
        when = when.replace(tzinfo=dt.timezone.utc) if when.tzinfo is None else when.astimezone(dt.timezone.utc)
        row = {"dataset": record.fingerprint, "created_at": when, "approver": approver,
               "class_name": record.class_name, "record": record.to_json()}
        return self._run("save", lambda conn: int(conn.execute(_decisions.insert().values(**row)).inserted_primary_key[0]),
                         write=True)

    def decisions(self, dataset: str) -> list:
        """The decision records of the dataset with fingerprint ``dataset``, newest first (by
        ``created_at``, then by the order they were saved)."""
        from evaldash.decision import DecisionRecord

        query = (sa.select(_decisions.c.id, _decisions.c.record).where(_decisions.c.dataset == dataset)
                 .order_by(_decisions.c.created_at.desc(), _decisions.c.id.desc()))
        rows = self._run("read", lambda conn: conn.execute(query).all())
        out = []
        for row_id, text in rows:
            try:
                out.append(DecisionRecord.from_json(text, f"decision record {row_id} in {self.name}"))
            except InputError as exc:
                raise StoreError(str(exc)) from None
        return out

    def close(self) -> None:
        self.engine.dispose()


def latest_state(events: pd.DataFrame) -> pd.DataFrame:
    """Replay events (oldest first) into one row per sample; see :meth:`AnnotationStore.state`."""
    out: dict[str, dict] = {}
    for row in events.itertuples(index=False):
        s = out.setdefault(row.sample_id, {"tags": set(), "note": "", "corrected_label": "", "annotator": "",
                                            "original_annotator": "", "updated_at": None, "reviewed": set()})
        if row.kind == "tag":
            s["tags"].add(row.value)
        elif row.kind == "untag":
            s["tags"].discard(row.value)
        elif row.kind == "note":
            s["note"] = row.value
        elif row.kind == "label":
            s["corrected_label"] = row.value
        elif row.kind == "reviewed":
            s["reviewed"].add(row.value)
            continue  # a review mark is not a change of the sample's annotation
        s["annotator"], s["updated_at"] = row.annotator, row.created_at
        s["original_annotator"] = getattr(row, "original_annotator", "") or ""
    frame = pd.DataFrame.from_dict(out, orient="index",
                                   columns=["tags", "note", "corrected_label", "annotator", "original_annotator",
                                            "updated_at", "reviewed"])
    frame["tags"] = [tuple(sorted(t)) for t in frame["tags"]]
    frame["reviewed"] = [tuple(sorted(t)) for t in frame["reviewed"]]
    frame.index.name = "sample_id"
    return frame


# --- exports and imports ---------------------------------------------------------------

def file_stem(name: str) -> str:
    """A clean file name stem for downloads made from a run called ``name`` ("Digits: 10 classes"
    -> "digits-10-classes", "runA/predictions.csv" -> "runa-predictions"): ASCII letters, digits
    and single hyphens, the data file's extensions dropped; "evaldash" when nothing is left."""
    import unicodedata

    text = unicodedata.normalize("NFKD", str(name)).encode("ascii", "ignore").decode().lower()
    text = re.sub(r"\s*\(upload\)$", "", text)
    text = re.sub(r"(\.(csv|tsv|gz|parquet|pq|jsonl|ndjson|json))+$", "", text)
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:80].strip("-") or "evaldash"


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells and column names cannot run as spreadsheet formulas: a text
    starting with ``=``, ``+``, ``-``, ``@``, tab, a line break (or a full-width ``＝＋－＠``)
    gets a leading apostrophe. Numbers, also written as text (``-0.25``, ``+1e-3``), are left
    alone: a spreadsheet reads them as numbers."""
    out = frame.copy()
    for col in out.columns:
        values = out[col]
        if not (pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values)
                or pd.api.types.is_datetime64_any_dtype(values)):  # text, categories, mixed objects
            out[col] = values.map(_neutral)
    out.columns = [_neutral(c) for c in out.columns]  # the header row is opened as cells too
    return out


_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


def _neutral(value):
    if not isinstance(value, str):
        return value
    # apostrophes already in front are kept as typed: one more is added so that an import,
    # which removes one, gives back the text ("'=x" is exported "''=x")
    rest = value.lstrip("'")
    if not rest.startswith(FORMULA_PREFIXES) or _NUMBER.fullmatch(rest):
        return value
    return "'" + value


def export_table(state: pd.DataFrame) -> pd.DataFrame:
    """The annotations export: one row per annotated sample (tags joined with "; "), with
    ``original_annotator``: who wrote an imported finding where it came from ("" for findings
    made in this database)."""
    state = state[(state["tags"].map(len) > 0) | (state["note"] != "") | (state["corrected_label"] != "")]
    out = pd.DataFrame({
        "sample_id": state.index.astype(str),
        "tags": ["; ".join(t) for t in state["tags"]],
        "note": state["note"].to_numpy(),
        "corrected_label": state["corrected_label"].to_numpy(),
        "annotator": state["annotator"].to_numpy(),
        "original_annotator": (state["original_annotator"].fillna("").to_numpy() if "original_annotator" in state
                               else [""] * len(state)),
        "updated_at": [_iso(t) for t in state["updated_at"]],
    }, columns=EXPORT_COLUMNS)
    return out.reset_index(drop=True)


def write_export(table: pd.DataFrame, path: Path, dataset: str) -> None:
    """Write ``table`` as CSV (formulas neutralised) or JSON (by the extension)."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        records = table.to_dict(orient="records")
        for r in records:
            r["tags"] = [t for t in str(r["tags"]).split("; ") if t] if "tags" in r else []
        path.write_text(json.dumps({"dataset": dataset, "annotations": records}, indent=2, ensure_ascii=False) + "\n",
                        encoding="utf-8")
    else:
        neutralise_formulas(table).to_csv(path, index=False)


def read_import(path: Path) -> pd.DataFrame:
    """Rows of an annotations export (CSV or JSON): sample_id, tags (list), note, corrected_label,
    annotator, updated_at. Raises :class:`InputError` naming the file, row and column."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"{path}: file not found")
    if path.suffix.lower() == ".json":
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: not valid JSON ({exc}); expected an evaldash annotations export") from None
        records = data.get("annotations") if isinstance(data, dict) else data
        if not isinstance(records, list):
            raise InputError(f"{path}: expected an object with an 'annotations' list (an evaldash export)")
        frame = pd.DataFrame(records)
    else:
        try:
            frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
            raise InputError(f"{path}: cannot read as CSV ({exc}); expected an evaldash annotations export") from None
        frame["tags"] = [[t for t in _unformula(v).split("; ") if t] for v in frame.get("tags", pd.Series([""] * len(frame)))]
    missing = [c for c in ("sample_id", "annotator") if c not in frame.columns]
    if missing:
        raise InputError(f"{path}: missing column(s) {missing}; expected columns {EXPORT_COLUMNS}")
    for col in ("note", "corrected_label", "updated_at", "original_annotator"):
        if col not in frame.columns:
            frame[col] = ""
    for col in ("sample_id", "note", "corrected_label", "annotator", "updated_at", "original_annotator"):
        frame[col] = [_unformula("" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v))
                      for v in frame[col]]
    for i, row in enumerate(frame.itertuples(index=False), start=1):
        if not row.sample_id:
            raise InputError(f"{path}: row {i}, column 'sample_id' is empty; expected a sample id")
        if not row.annotator:
            raise InputError(f"{path}: row {i}, column 'annotator' is empty; expected who made the annotation")
        if not isinstance(row.tags, list):
            raise InputError(f"{path}: row {i}, column 'tags' is {row.tags!r}; expected a list of tags")
        if row.updated_at:
            try:
                dt.datetime.fromisoformat(row.updated_at)
            except ValueError:
                raise InputError(f"{path}: row {i}, column 'updated_at' is {row.updated_at!r}; expected an "
                                 "ISO date and time such as 2026-11-23T10:00:00+00:00") from None
    return frame


def import_rows(store: AnnotationStore, dataset: str, frame: pd.DataFrame, known_ids=None, *,
                imported_by: str, classes=None, source: str | os.PathLike = "import") -> int:
    """Append the imported annotations as events (tags added, note and label set); returns how
    many samples were imported.

    Each event is recorded as made by ``imported_by`` (who imports), and keeps the author the
    file names as ``original_annotator`` (its own ``original_annotator`` column when it has one,
    else its ``annotator``). Ids not in ``known_ids`` and corrected labels not in ``classes`` are
    refused, naming ``source`` (the input file), the rows and sample ids; nothing is written then.
    """
    importer = str(imported_by or "").strip()
    if not importer:
        raise InputError(f"{source}: who imports is not known; expected a name (evaldash annotations import --as NAME)")
    if known_ids is not None:
        known = set(map(str, known_ids))
        unknown = [i for i, s in enumerate(frame["sample_id"], start=1) if s not in known]
        if unknown:
            raise InputError(f"{source}: sample_id {frame['sample_id'].iloc[unknown[0] - 1]!r} (row {unknown[0]}"
                             f"{f' and {len(unknown) - 1} more' if len(unknown) > 1 else ''}) is not in the "
                             "predictions file; expected ids of this file")
    if classes is not None:
        _check_corrected_labels(frame, [str(c) for c in classes], source)
    rows = []
    for r in frame.itertuples(index=False):
        when = dt.datetime.fromisoformat(r.updated_at) if r.updated_at else None
        if when is not None and when.tzinfo is None:
            when = when.replace(tzinfo=dt.timezone.utc)
        original = getattr(r, "original_annotator", "") or r.annotator
        base = {"dataset": dataset, "sample_id": r.sample_id, "annotator": importer, "created_at": when,
                "original_annotator": original}
        rows += [{**base, "kind": "tag", "value": t} for t in r.tags]
        if r.note:
            rows.append({**base, "kind": "note", "value": r.note})
        if r.corrected_label:
            rows.append({**base, "kind": "label", "value": r.corrected_label})
    store.record_many(rows)
    return len(frame)


def _check_corrected_labels(frame: pd.DataFrame, classes: list[str], source) -> None:
    """Refuse corrected labels that are no class of the predictions file, naming each with its
    rows and sample ids, and some of the classes that would do."""
    known = set(classes)
    bad: dict[str, list[tuple[int, str]]] = {}
    for i, (label, sid) in enumerate(zip(frame["corrected_label"], frame["sample_id"]), start=1):
        if label and label not in known:
            bad.setdefault(label, []).append((i, sid))
    if not bad:
        return

    def where(places: list[tuple[int, str]]) -> str:
        shown = places[:3]
        more = f" and {len(places) - 3} more" if len(places) > 3 else ""
        rows = ", ".join(str(i) for i, _ in shown)
        ids = ", ".join(repr(s) for _, s in shown)
        return f"row{'s' if len(places) > 1 else ''} {rows}{more}: sample id{'s' if len(places) > 1 else ''} {ids}"

    listed = list(bad.items())
    parts = "; ".join(f"{label!r} ({where(places)})" for label, places in listed[:5])
    others = f"; and {len(listed) - 5} more unknown labels" if len(listed) > 5 else ""
    some = ", ".join(repr(c) for c in classes[:10]) + (f", … ({len(classes)} classes in all)" if len(classes) > 10 else "")
    raise InputError(f"{source}: column 'corrected_label' names {len(listed)} label{'s' if len(listed) > 1 else ''} "
                     f"that {'are not classes' if len(listed) > 1 else 'is not a class'} of the predictions file: "
                     f"{parts}{others}; expected one of its classes: {some}. Nothing was imported.")


def export_bytes(state: pd.DataFrame, fmt: str, dataset: str) -> bytes:
    """The annotations export as file contents: ``fmt`` "csv" or "json" (see :func:`write_export`)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"annotations.{fmt}"
        write_export(export_table(state), path, dataset)
        return path.read_bytes()


def predictions_with_corrections(path, dataset, state: pd.DataFrame) -> pd.DataFrame:
    """The predictions file as it was (CSV columns read as text, so spelled as written) with a
    ``label_corrected`` column: the corrected label where annotators gave one, else the label."""
    from evaldash.io import file_format, read_header, read_table

    if getattr(dataset, "task", "") == "multilabel":  # corrected label SETS: a labels_corrected column
        from evaldash.multilabel_corrections import predictions_with_corrected_sets

        return predictions_with_corrected_sets(path, dataset, state)
    text = read_header(path) if file_format(Path(path)) == "csv" else []
    frame = read_table(path, text_columns=text)
    labels = [dataset.classes[i] for i in dataset.y_true]
    frame["label_corrected"] = corrected_labels(labels, dataset.ids, state)
    return frame


def predictions_export_bytes(path, dataset, state: pd.DataFrame) -> bytes:
    """:func:`predictions_with_corrections` as CSV with formulas neutralised."""
    return neutralise_formulas(predictions_with_corrections(path, dataset, state)).to_csv(index=False).encode("utf-8")


def parse_id_list(name: str, content: bytes) -> list[str]:
    """Sample ids from an uploaded list: a CSV with an ``id`` column, or one id per line.

    Blank lines and repeats are dropped; the order is kept. Raises :class:`InputError` naming
    the file when it is not text or a CSV lacks the ``id`` column.
    """
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError(f"{name}: not a text file; expected one id per line or a CSV with an 'id' column") from None
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if name.lower().endswith(".csv") and lines:
        header = [c.strip().strip('"') for c in lines[0].split(",")]
        if len(header) > 1 or header == ["id"]:
            if "id" not in header:
                raise InputError(f"{name}: no 'id' column in the header {header}; expected a CSV with an 'id' column")
            import io as _io

            frame = pd.read_csv(_io.StringIO(text), dtype=str, keep_default_na=False)
            lines = [v.strip() for v in frame["id"] if v.strip()]
    return list(dict.fromkeys(lines))


def corrected_labels(labels: list[str], ids, state: pd.DataFrame) -> list[str]:
    """Each sample's label with the annotators' correction applied where there is one."""
    fix = state["corrected_label"][state["corrected_label"] != ""].to_dict() if len(state) else {}
    return [fix.get(str(i), lab) for i, lab in zip(ids, labels)]


def _unformula(value: str) -> str:
    # undo neutralise_formulas: the leading apostrophe is removed exactly where the export added one
    return value[1:] if value.startswith("'") and _neutral(value[1:]) == value else value


def _iso(value) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    ts = pd.Timestamp(value)
    if ts.tzinfo is None:
        ts = ts.tz_localize("UTC")
    return ts.isoformat()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip().splitlines()
    return text[0] if text else type(exc).__name__
