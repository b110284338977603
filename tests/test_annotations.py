"""The annotation store on SQLite and on a real PostgreSQL server (fixture ``db_url``), exports and imports."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pandas as pd
import pytest
import sqlalchemy as sa

from databases import SilentServer
from evaldash import annotations as an
from evaldash import db_limits as limits
from evaldash.annotations import AnnotationStore, StoreError
from evaldash.errors import InputError

DS = "f" * 16


def test_tags_notes_labels_replay_to_latest_state_with_history(db_url):
    store = AnnotationStore(db_url)
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    store.record(DS, "s1", "ann", "tag", "label error", when=t0)
    store.record(DS, "s1", "bob", "tag", "ambiguous", when=t0 + dt.timedelta(minutes=1))
    store.record(DS, "s1", "ann", "untag", "label error", when=t0 + dt.timedelta(minutes=2))
    store.record(DS, "s1", "ann", "note", "blurred 7 or 1?", when=t0 + dt.timedelta(minutes=3))
    store.record(DS, "s1", "bob", "label", "7", when=t0 + dt.timedelta(minutes=4))
    store.record(DS, "s2", "ann", "tag", "duplicate")
    store.record("other-dataset", "s1", "ann", "tag", "bad image")

    state = store.state(DS)
    assert set(state.index) == {"s1", "s2"}  # the other dataset's annotation is not shown
    s1 = state.loc["s1"]
    assert s1["tags"] == ("ambiguous",) and s1["note"] == "blurred 7 or 1?" and s1["corrected_label"] == "7"
    assert s1["annotator"] == "bob"
    history = store.history(DS, "s1")
    assert list(history["kind"]) == ["tag", "tag", "untag", "note", "label"]  # nothing is overwritten
    assert list(history["annotator"]) == ["ann", "bob", "ann", "ann", "bob"]
    # reopening the database shows the same
    store.close()
    again = AnnotationStore(db_url)
    assert again.state(DS).loc["s1"]["tags"] == ("ambiguous",)


def test_clearing_a_label_and_a_note(db_url):
    store = AnnotationStore(db_url)
    store.record(DS, "a", "ann", "label", "cat")
    store.record(DS, "a", "ann", "note", "x")
    store.record(DS, "a", "ann", "label", "")
    store.record(DS, "a", "ann", "note", "")
    row = store.state(DS).loc["a"]
    assert row["corrected_label"] == "" and row["note"] == "" and row["tags"] == ()
    assert len(store.history(DS, "a")) == 4


def test_review_marks_are_shared_and_not_changes(db_url):
    store = AnnotationStore(db_url)
    store.record(DS, "a", "ann", "reviewed", "cell 1→8")
    store.record(DS, "b", "bob", "reviewed", "cell 1→8")
    store.record(DS, "b", "ann", "reviewed", "cell 1→8")
    store.record(DS, "c", "bob", "reviewed", "mistakes")
    assert store.reviewed(DS, "cell 1→8") == {"a", "b"}
    assert store.reviewed(DS, "mistakes") == {"c"}
    assert store.state(DS).loc["a"]["reviewed"] == ("cell 1→8",)


@pytest.mark.parametrize("row,match", [
    ({"kind": "star", "value": "x", "annotator": "a"}, "unknown annotation kind 'star'"),
    ({"kind": "tag", "value": " ", "annotator": "a"}, "needs a non-empty value"),
    ({"kind": "tag", "value": "x", "annotator": ""}, "needs an annotator name"),
])
def test_bad_records_are_refused_and_nothing_is_written(db_url, row, match):
    store = AnnotationStore(db_url)
    good = {"dataset": DS, "sample_id": "a", "kind": "tag", "value": "ok", "annotator": "a"}
    with pytest.raises(StoreError, match=match):
        store.record_many([good, {"dataset": DS, "sample_id": "b", **row}])
    assert store.events(DS).empty  # one transaction: the good row was not written either


def test_concurrent_writers_lose_nothing(db_url):
    """Four annotators writing 500 records each at the same time: every record is there."""
    stores = [AnnotationStore(db_url) for _ in range(4)]
    errors = []
    barrier = threading.Barrier(4)

    def write(w):
        try:
            barrier.wait()
            for i in range(500):
                stores[w].record(DS, f"s{i % 50}", f"annotator {w}", "tag", f"t{w}-{i}")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(w,)) for w in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors
    events = AnnotationStore(db_url).events(DS)
    assert len(events) == 2000
    assert set(events["value"]) == {f"t{w}-{i}" for w in range(4) for i in range(500)}
    assert events["id"].is_unique


def test_schema_version_is_recorded_and_a_newer_database_refused(db_url):
    AnnotationStore(db_url)
    engine = sa.create_engine(an.database_url(db_url))
    with engine.begin() as conn:
        assert conn.execute(sa.text("SELECT version FROM schema_version")).scalar() == an.SCHEMA_VERSION
        conn.execute(sa.text("UPDATE schema_version SET version = 99"))
    engine.dispose()
    with pytest.raises(StoreError, match="schema version 99"):
        AnnotationStore(db_url)


def test_sqlite_file_uses_wal_and_is_created_with_its_folder(tmp_path):
    path = tmp_path / "deep" / "er" / "notes.db"
    store = AnnotationStore(path)
    store.record(DS, "a", "ann", "tag", "ambiguous")
    assert path.exists()
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_database_url_from_option_environment_and_default(tmp_path, monkeypatch):
    monkeypatch.delenv("EVALDASH_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert an.database_url(None) == f"sqlite:///{tmp_path / 'data' / 'evaldash' / 'annotations.db'}"
    monkeypatch.setenv("EVALDASH_DB", str(tmp_path / "env.db"))
    assert an.database_url(None) == f"sqlite:///{tmp_path / 'env.db'}"
    assert an.database_url("postgresql://u:p@localhost/x") == "postgresql+psycopg://u:p@localhost/x"
    assert "p@" not in an.describe(an.database_url("postgresql://u:secret@localhost/x"))


def test_unreachable_database_is_a_clear_error():
    with pytest.raises(StoreError, match=r"cannot open the annotation database \(postgresql database "):
        AnnotationStore("postgresql://nobody@127.0.0.1:1/none")


def test_unwritable_sqlite_file_is_a_clear_error(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "a.db").write_text("this is not a database")
    with pytest.raises(StoreError, match="cannot open the annotation database .SQLite file .*a.db"):
        AnnotationStore(folder / "a.db")


# --- exports -------------------------------------------------------------------------

def _filled(db_url) -> AnnotationStore:
    store = AnnotationStore(db_url)
    store.record(DS, "s1", "ann", "tag", "label error")
    store.record(DS, "s1", "ann", "tag", "ambiguous")
    store.record(DS, "s1", "ann", "note", "=HYPERLINK(\"http://x\")")
    store.record(DS, "s1", "ann", "label", "7")
    store.record(DS, "s2", "bob", "note", "+1 looks like a 7")
    store.record(DS, "s3", "bob", "tag", "bad image")
    store.record(DS, "s3", "bob", "untag", "bad image")  # nothing left: not exported
    return store


def test_csv_export_neutralises_formulas_and_reads_back(db_url, tmp_path):
    store = _filled(db_url)
    table = an.export_table(store.state(DS))
    assert list(table["sample_id"]) == ["s1", "s2"]
    path = tmp_path / "a.csv"
    an.write_export(table, path, DS)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    assert raw.loc[0, "note"] == "'=HYPERLINK(\"http://x\")" and raw.loc[1, "note"] == "'+1 looks like a 7"
    assert raw.loc[0, "tags"] == "ambiguous; label error" and raw.loc[0, "corrected_label"] == "7"
    back = an.read_import(path)
    assert back.loc[0, "note"] == "=HYPERLINK(\"http://x\")" and back.loc[0, "tags"] == ["ambiguous", "label error"]


def test_json_export_import_round_trip_into_another_database(db_url, tmp_path):
    store = _filled(db_url)
    path = tmp_path / "a.json"
    an.write_export(an.export_table(store.state(DS)), path, DS)
    data = json.loads(path.read_text())
    assert data["dataset"] == DS and data["annotations"][0]["tags"] == ["ambiguous", "label error"]
    other = AnnotationStore(tmp_path / "other.db")
    assert an.import_rows(other, DS, an.read_import(path), known_ids=["s1", "s2", "s3"], imported_by="carol") == 2
    got = other.state(DS)
    want = store.state(DS).loc[["s1", "s2"]]
    for col in ("tags", "note", "corrected_label"):
        assert list(got.loc[["s1", "s2"], col]) == list(want[col]), col
    assert list(got.loc[["s1", "s2"], "original_annotator"]) == list(want["annotator"])  # ann, bob
    assert list(got.loc[["s1", "s2"], "annotator"]) == ["carol", "carol"]


def test_neutralise_leaves_numbers_and_plain_text():
    frame = pd.DataFrame({"a": ["-3", "ok", "@x", "\tx", "-1+2", "+1e-3", "=1"], "n": [-3.0, 1, 2, 3, 4, 5, 6]})
    out = an.neutralise_formulas(frame)
    assert list(out["a"]) == ["-3", "ok", "'@x", "'\tx", "'-1+2", "+1e-3", "'=1"]
    assert list(out["n"]) == [-3.0, 1, 2, 3, 4, 5, 6]


@pytest.mark.parametrize("content,name,match", [
    ("sample_id,tags\ns1,x\n", "a.csv", r"missing column\(s\) \['annotator'\]"),
    ("sample_id,annotator,tags\ns1,ann,x\n,ann,y\n", "a.csv", "row 2, column 'sample_id' is empty"),
    ("sample_id,annotator,updated_at\ns1,ann,yesterday\n", "a.csv", "row 1, column 'updated_at' is 'yesterday'"),
    ("{not json", "a.json", "not valid JSON"),
    ('{"annotations": [{"sample_id": "s1", "annotator": "a", "tags": "x"}]}', "a.json",
     "row 1, column 'tags' is 'x'; expected a list"),
])
def test_bad_import_files_name_file_row_and_column(tmp_path, content, name, match):
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(InputError, match=match):
        an.read_import(path)


def test_import_refuses_ids_not_in_the_file(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("sample_id,annotator,tags\ns1,ann,x\nzz,ann,y\n")
    store = AnnotationStore(tmp_path / "db.db")
    with pytest.raises(InputError, match=r"a.csv: sample_id 'zz' \(row 2\) is not in the predictions file"):
        an.import_rows(store, DS, an.read_import(path), known_ids=["s1"], imported_by="carol", source=path)
    assert store.events(DS).empty


def test_import_records_who_imported_and_keeps_the_original_author(db_url, tmp_path):
    store = AnnotationStore(db_url)
    store.record(DS, "s3", "dora", "note", "made here")  # not imported: no original author
    path = tmp_path / "from_the_lab.csv"
    pd.DataFrame({"sample_id": ["s1", "s2"], "tags": ["ambiguous", ""], "note": ["", "blurred"],
                  "corrected_label": ["7", ""], "annotator": ["ann", "bob"],
                  "updated_at": ["2026-11-20T10:00:00+00:00", ""]}).to_csv(path, index=False)
    assert an.import_rows(store, DS, an.read_import(path), imported_by="carol", classes=["1", "7"], source=path) == 2
    events = store.events(DS)
    assert list(events["annotator"]) == ["dora", "carol", "carol", "carol"]
    assert list(events["original_annotator"]) == ["", "ann", "ann", "bob"]
    history = store.history(DS, "s1")
    assert list(history.columns) == ["created_at", "annotator", "kind", "value", "original_annotator"]
    assert list(history["original_annotator"]) == ["ann", "ann"]
    state = store.state(DS)
    assert (state.loc["s1", "annotator"], state.loc["s1", "original_annotator"]) == ("carol", "ann")
    assert state.loc["s3", "original_annotator"] == ""
    table = an.export_table(state)
    assert list(table.columns) == ["sample_id", "tags", "note", "corrected_label", "annotator",
                                   "original_annotator", "updated_at"]
    assert dict(zip(table["sample_id"], table["original_annotator"])) == {"s1": "ann", "s2": "bob", "s3": ""}
    # imported again elsewhere: the author stays the one who wrote it, the importer is the new one
    again = tmp_path / "again.csv"
    an.write_export(table, again, DS)
    other = AnnotationStore(tmp_path / "elsewhere.db")
    an.import_rows(other, DS, an.read_import(again), imported_by="erin", classes=["1", "7"], source=again)
    moved = other.state(DS)
    assert list(moved["annotator"]) == ["erin"] * 3 and (moved["original_annotator"] != "erin").all()
    assert list(moved.loc[["s1", "s2", "s3"], "original_annotator"]) == ["ann", "bob", "dora"]


def test_import_needs_who_imports(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("sample_id,annotator,tags\ns1,ann,x\n")
    with pytest.raises(InputError, match="a.csv: who imports is not known; expected a name"):
        an.import_rows(AnnotationStore(tmp_path / "db.db"), DS, an.read_import(path), imported_by=" ", source=path)


def test_import_refuses_corrected_labels_that_are_not_classes(db_url, tmp_path):
    store = AnnotationStore(db_url)
    path = tmp_path / "labels.csv"
    pd.DataFrame({"sample_id": ["s1", "s2", "s3", "s4"], "annotator": ["ann"] * 4,
                  "corrected_label": ["7", "seven", "", "seven"], "tags": ["", "", "x", ""]}).to_csv(path, index=False)
    classes = [str(c) for c in range(12)]
    with pytest.raises(InputError) as caught:
        an.import_rows(store, DS, an.read_import(path), imported_by="carol", classes=classes, source=path)
    assert str(caught.value) == (
        f"{path}: column 'corrected_label' names 1 label that is not a class of the predictions file: "
        "'seven' (rows 2, 4: sample ids 's2', 's4'); expected one of its classes: "
        "'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', … (12 classes in all). Nothing was imported.")
    assert store.events(DS).empty  # nothing written, not even the good rows
    # several unknown labels are each named
    path.write_text("sample_id,annotator,corrected_label\ns1,ann,Seven\ns2,ann,7 \n")
    with pytest.raises(InputError, match=r"names 2 labels that are not classes of the predictions file: "
                                         r"'Seven' \(row 1: sample id 's1'\); '7 ' \(row 2: sample id 's2'\)"):
        an.import_rows(store, DS, an.read_import(path), imported_by="carol", classes=classes, source=path)


def test_corrected_labels_apply_only_where_corrected(db_url):
    store = AnnotationStore(db_url)
    store.record(DS, "b", "ann", "label", "dog")
    store.record(DS, "c", "ann", "label", "cat")
    store.record(DS, "c", "ann", "label", "")  # withdrawn
    assert an.corrected_labels(["cat", "cat", "dog"], ["a", "b", "c"], store.state(DS)) == ["cat", "dog", "dog"]


@pytest.mark.parametrize("name,content,want", [
    ("ids.txt", b"s1\n\ns2\r\ns1\n  s3  \n", ["s1", "s2", "s3"]),
    ("ids.csv", b"id,reason\ns2,odd\ns1,blur\n", ["s2", "s1"]),
    ("ids.csv", b"\xef\xbb\xbfid\ns9\n", ["s9"]),
    ("single.csv", b"s4\ns5\n", ["s4", "s5"]),
])
def test_uploaded_id_lists(name, content, want):
    assert an.parse_id_list(name, content) == want


@pytest.mark.parametrize("name,content,match", [
    ("ids.txt", b"\xff\xfe\x00bad", "ids.txt: not a text file"),
    ("ids.csv", b"sample,reason\ns1,x\n", r"ids.csv: no 'id' column in the header \['sample', 'reason'\]"),
])
def test_bad_id_lists_name_the_file(name, content, match):
    with pytest.raises(InputError, match=match):
        an.parse_id_list(name, content)


# --- decision records (schema version 2) ---------------------------------------------------------

def _decision(when: dt.datetime, approver: str = "Dana", fingerprint: str = DS, threshold: float = 0.5):
    import numpy as np

    from evaldash import decision as dc
    from evaldash.metrics import threshold_sweep

    rng = np.random.default_rng(0)
    positive = rng.random(200) < 0.3
    score = np.clip(rng.normal(0.35 + 0.3 * positive, 0.2), 0, 1)
    figures = dc.deployment_figures(threshold_sweep(score, positive), threshold,
                                    dc.DeploymentInputs(0.05, cost_fp=1, cost_fn=20), resamples=100)
    return dc.decision_record(figures, fingerprint=fingerprint, model_file="model.csv", class_name="fraud",
                              rationale=f"chosen by {approver}", approver=approver, created_at=when)


def test_decision_records_are_kept_newest_first_per_dataset(db_url):
    store = AnnotationStore(db_url)
    t0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    first = _decision(t0, "ann")
    later = _decision(t0 + dt.timedelta(days=1), "bob", threshold=float("inf"))
    same_time = _decision(t0 + dt.timedelta(days=1), "cy", threshold=0.7)
    ids = [store.save_decision(r) for r in (first, later, same_time)]
    store.save_decision(_decision(t0 + dt.timedelta(days=5), "dee", fingerprint="other-dataset"))
    assert len(set(ids)) == 3
    store.close()
    got = AnnotationStore(db_url).decisions(DS)  # read back after reopening
    # newest first; on equal dates, the one saved last first
    assert [r.approver for r in got] == ["cy", "bob", "ann"]
    assert [r.to_json() for r in got] == [same_time.to_json(), later.to_json(), first.to_json()]
    assert got[1].threshold == float("inf")
    assert AnnotationStore(db_url).decisions("nothing-here") == []


def test_decision_record_needs_an_approver_and_a_fingerprint(db_url):
    store = AnnotationStore(db_url)
    when = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    with pytest.raises(StoreError, match="a decision record needs an approver name"):
        store.save_decision(_decision(when, approver="  "))
    with pytest.raises(StoreError, match="a decision record needs the dataset fingerprint"):
        store.save_decision(_decision(when, fingerprint=""))
    assert store.decisions(DS) == []


def test_unreadable_decision_record_is_a_store_error_naming_it(db_url):
    store = AnnotationStore(db_url)
    row_id = store.save_decision(_decision(dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)))
    with store.engine.begin() as conn:
        conn.execute(sa.text("UPDATE decision_records SET record = '{\"format\": 1}'"))
    with pytest.raises(StoreError, match=f"decision record {row_id} in .*: not an evaldash decision record"):
        store.decisions(DS)


def _events_v1(meta: sa.MetaData) -> sa.Table:
    """``annotation_events`` as schema versions 1 and 2 made it (no ``original_annotator``)."""
    return sa.Table(
        "annotation_events", meta,
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
        sa.Column("dataset", sa.String(64), nullable=False),
        sa.Column("sample_id", sa.Text, nullable=False),
        sa.Column("annotator", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Index("ix_annotation_events_dataset_sample", "dataset", "sample_id"),
    )


def _version_1_database(url: str) -> None:
    """A database as evaldash with schema version 1 left it: annotations, no decision records."""
    engine = sa.create_engine(an.database_url(url))
    meta = sa.MetaData()
    sa.Table("schema_version", meta, sa.Column("version", sa.Integer, nullable=False))
    _events_v1(meta)
    with engine.begin() as conn:
        meta.create_all(conn)
        conn.execute(sa.text("INSERT INTO schema_version (version) VALUES (1)"))
        conn.execute(meta.tables["annotation_events"].insert(), [
            {"dataset": DS, "sample_id": "s1", "annotator": "ann", "kind": "tag", "value": "ambiguous",
             "created_at": dt.datetime(2025, 12, 1, tzinfo=dt.timezone.utc)}])
    engine.dispose()


def test_version_1_database_is_upgraded_on_open_keeping_its_annotations(db_url):
    _version_1_database(db_url)
    engine = sa.create_engine(an.database_url(db_url))
    assert "decision_records" not in sa.inspect(engine).get_table_names()
    store = AnnotationStore(db_url)  # opening migrates
    assert an.SCHEMA_VERSION == 3
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version FROM schema_version")).scalar_one() == 3
        assert conn.execute(sa.text("SELECT count(*) FROM schema_version")).scalar_one() == 1
    assert "decision_records" in sa.inspect(engine).get_table_names()
    assert store.state(DS).loc["s1"]["tags"] == ("ambiguous",)  # the annotations are still there
    store.record(DS, "s2", "bob", "tag", "duplicate")
    rec = _decision(dt.datetime(2026, 2, 1, tzinfo=dt.timezone.utc))
    store.save_decision(rec)
    store.close()
    again = AnnotationStore(db_url)  # a second open finds version 3: nothing to do
    assert [r.to_json() for r in again.decisions(DS)] == [rec.to_json()]
    assert set(again.state(DS).index) == {"s1", "s2"}
    engine.dispose()


# --- database faults: locked, silent, gone and back -----------------------------------------------

def test_locked_sqlite_file_fails_a_save_within_seconds_saying_so(tmp_path):
    import sqlite3
    import time

    path = tmp_path / "team.db"
    store = AnnotationStore(path)
    store.record(DS, "a", "ann", "tag", "ambiguous")
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another writer holds the file
    try:
        began = time.perf_counter()
        with pytest.raises(StoreError) as caught:
            store.record(DS, "a", "bob", "note", "typed while locked")
        took = time.perf_counter() - began
        assert caught.value.kind == "busy"
        assert str(caught.value).startswith("the annotation database is busy (locked by another writer); "
                                            "your changes were not saved — try again")
        assert 2 * limits.SQLITE_BUSY_TIMEOUT <= took < 6, took  # it waited, briefly, and tried again
        assert store.state(DS).loc["a", "tags"] == ("ambiguous",)  # readers are not blocked (WAL)
    finally:
        other.execute("ROLLBACK")
        other.close()
    store.record(DS, "a", "bob", "note", "typed while locked")  # the lock is gone: saved
    assert store.state(DS).loc["a", "note"] == "typed while locked"


def test_sqlite_writer_that_finishes_soon_is_waited_for(tmp_path):
    import sqlite3

    path = tmp_path / "team.db"
    store = AnnotationStore(path)
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN EXCLUSIVE")
    release = threading.Timer(0.5, lambda: (other.execute("ROLLBACK"), other.close()))
    release.start()
    store.record(DS, "a", "ann", "tag", "duplicate")  # waits for the other writer instead of failing
    release.join()
    assert store.state(DS).loc["a", "tags"] == ("duplicate",)


def test_server_that_accepts_and_never_answers_fails_within_seconds():
    import time

    server = SilentServer()
    try:
        began = time.perf_counter()
        with pytest.raises(StoreError) as caught:
            AnnotationStore(f"postgresql://nobody@127.0.0.1:{server.port}/none")
        took = time.perf_counter() - began
    finally:
        server.close()
    assert server.accepted  # it did connect: the wait was for an answer
    assert caught.value.kind == "timeout"
    assert str(caught.value) == (f"cannot open the annotation database (postgresql database postgresql+psycopg://"
                                 f"nobody@127.0.0.1:{server.port}/none): the database server did not answer "
                                 f"within {limits.CONNECT_TIMEOUT} s")
    assert took < limits.CONNECT_TIMEOUT + 3, took


@pytest.fixture
def own_postgres():
    """A PostgreSQL server of this test alone, to stop, freeze and start again."""
    from databases import PostgresServer

    server = PostgresServer.start()
    try:
        yield server
    finally:
        try:
            server.thaw()
        except (OSError, ValueError):
            pass  # not running
        server.stop()


def test_store_works_again_when_its_server_comes_back(own_postgres):
    import time

    store = AnnotationStore(own_postgres.url())
    store.record(DS, "a", "ann", "tag", "ambiguous")
    own_postgres.halt()
    began = time.perf_counter()
    with pytest.raises(StoreError, match=r"cannot read the annotation database \(postgresql database .*\): ") as caught:
        store.state(DS)
    assert caught.value.kind in ("unavailable", "timeout") and time.perf_counter() - began < 8
    with pytest.raises(StoreError, match="cannot save to .*: connection failed: .*Connection refused; your changes were not saved$"):
        store.record(DS, "a", "ann", "note", "lost?")
    own_postgres.resume()
    store.record(DS, "a", "bob", "note", "back")  # the same store, new connections
    assert store.state(DS).loc["a", "note"] == "back"


def test_frozen_server_is_cut_off_within_seconds_and_used_again_when_it_answers(own_postgres):
    import time

    store = AnnotationStore(own_postgres.url())
    store.record(DS, "a", "ann", "tag", "ambiguous")  # a pooled connection, open to the server
    own_postgres.freeze()
    try:
        began = time.perf_counter()
        with pytest.raises(StoreError, match="the database server did not answer within") as caught:
            store.state(DS)
        took = time.perf_counter() - began
    finally:
        own_postgres.thaw()
    assert caught.value.kind == "timeout"
    assert took < limits.CONNECT_TIMEOUT * 2 + 3, took
    assert store.state(DS).loc["a", "tags"] == ("ambiguous",)


def test_statement_and_lock_timeouts_are_set_on_postgresql(db_url):
    store = AnnotationStore(db_url)
    if store.backend != "postgresql":
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == int(limits.SQLITE_BUSY_TIMEOUT * 1000)
        return
    with store.engine.connect() as conn:
        assert conn.exec_driver_sql("SHOW statement_timeout").scalar() == f"{limits.STATEMENT_TIMEOUT}s"
        assert conn.exec_driver_sql("SHOW lock_timeout").scalar() == f"{limits.LOCK_TIMEOUT}s"


def test_postgresql_writer_waiting_on_a_lock_is_told_busy(db_url):
    store = AnnotationStore(db_url)
    if store.backend != "postgresql":
        return  # SQLite: test_locked_sqlite_file_fails_a_save_within_seconds_saying_so
    import time

    holder = sa.create_engine(db_url)
    with holder.connect() as conn:
        conn.exec_driver_sql("BEGIN")
        conn.exec_driver_sql("LOCK TABLE annotation_events IN ACCESS EXCLUSIVE MODE")
        began = time.perf_counter()
        with pytest.raises(StoreError) as caught:
            store.record(DS, "a", "ann", "tag", "ambiguous")
        took = time.perf_counter() - began
        conn.exec_driver_sql("ROLLBACK")
    holder.dispose()
    assert caught.value.kind == "busy" and str(caught.value).startswith(an.BUSY_SAVE)
    assert took < limits.LOCK_TIMEOUT + 2, took


def test_version_2_database_gains_original_annotator_on_open(db_url):
    engine = sa.create_engine(an.database_url(db_url))
    meta = sa.MetaData()
    sa.Table("schema_version", meta, sa.Column("version", sa.Integer, nullable=False))
    _events_v1(meta)
    an._decision_records_v2(meta)
    with engine.begin() as conn:
        meta.create_all(conn)
        conn.execute(sa.text("INSERT INTO schema_version (version) VALUES (2)"))
        conn.execute(meta.tables["annotation_events"].insert(), [
            {"dataset": DS, "sample_id": "s1", "annotator": "ann", "kind": "note", "value": "old",
             "created_at": dt.datetime(2025, 12, 1, tzinfo=dt.timezone.utc)}])
    assert "original_annotator" not in {c["name"] for c in sa.inspect(engine).get_columns("annotation_events")}
    store = AnnotationStore(db_url)  # opening migrates 2 → 3
    assert "original_annotator" in {c["name"] for c in sa.inspect(engine).get_columns("annotation_events")}
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT version FROM schema_version")).scalar_one() == 3
    assert list(store.history(DS, "s1")["original_annotator"]) == [""]  # made there, not imported
    store.record_many([{"dataset": DS, "sample_id": "s1", "annotator": "carol", "kind": "note", "value": "new",
                        "original_annotator": "ann"}])
    assert list(store.history(DS, "s1")["original_annotator"]) == ["", "ann"]
    engine.dispose()


@pytest.mark.parametrize("name, stem", [
    ("Digits: 10 classes", "digits-10-classes"),
    ("predictions.csv", "predictions"),
    ("runA/predictions.csv.gz", "runa-predictions"),
    ("scores.parquet (upload)", "scores"),
    ("Café ![x](http://e/y) <b>", "cafe-x-http-e-y-b"),
    ("../../etc/passwd", "etc-passwd"),
    ("🙂", "evaldash"),
])
def test_download_file_names_are_clean_slugs(name, stem):
    assert an.file_stem(name) == stem


@pytest.mark.parametrize("note", ["'=HYPERLINK(\"x\")", "''+1", "'-0.25", "'plain", "=1+1", "-0.25", "'", "''"])
def test_notes_that_start_with_an_apostrophe_survive_export_and_import(note, tmp_path):
    store = AnnotationStore(tmp_path / "a.db")
    store.record(DS, "s1", "ana", "note", note)
    path = tmp_path / "a.csv"
    an.write_export(an.export_table(store.state(DS)), path, DS)
    raw = pd.read_csv(path, dtype=str, keep_default_na=False)
    cell = raw.loc[0, "note"]
    assert not cell.startswith(an.FORMULA_PREFIXES) or an._NUMBER.fullmatch(cell)  # no cell runs as a formula
    assert an.read_import(path).loc[0, "note"] == note


def test_a_new_sqlite_database_is_readable_by_its_owner_only(tmp_path):
    import stat

    store = AnnotationStore(tmp_path / "team.db")
    store.record(DS, "s1", "ana", "note", "private")
    for path in tmp_path.iterdir():  # the database and SQLite's -wal/-shm files beside it
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, (path.name, oct(path.stat().st_mode))
