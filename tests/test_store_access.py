"""The dashboard's way to its annotation database (store_access.StoreOpener, ui.annotation_store,
ui.findings_form) when the database is down, comes back, or is locked by another writer."""

from __future__ import annotations

import sqlite3
import sys
import time

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from classification_cases import DIGITS_CSV
from databases import SilentServer
from evaldash import store_access
from evaldash.annotations import BUSY_SAVE, AnnotationStore
from evaldash.db_limits import CONNECT_TIMEOUT, SQLITE_BUSY_TIMEOUT
from evaldash.store_access import StoreOpener

DS = "f" * 16


@pytest.fixture
def own_postgres():
    """A PostgreSQL server of this test alone, to stop and start again."""
    from databases import PostgresServer

    server = PostgresServer.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(autouse=True)
def fresh_app(monkeypatch):
    """No cached opener from another test, no start file from pytest's argv."""
    monkeypatch.setattr(sys, "argv", ["app.py"])
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


def test_database_down_at_start_is_used_once_it_is_up(own_postgres):
    own_postgres.halt()
    opener = StoreOpener(own_postgres.url(), retry_after=0.5)
    store, error = opener.get()
    assert store is None and error.startswith("cannot open the annotation database (postgresql database ")
    began = time.perf_counter()
    assert opener.get() == (None, error)  # within the back-off: answered at once, no new attempt
    assert time.perf_counter() - began < 0.1
    own_postgres.resume()
    assert opener.get() == (None, error)  # still within the back-off
    time.sleep(0.6)
    store, error = opener.get()
    assert error == "" and store is not None
    store.record(DS, "a", "ann", "tag", "ambiguous")
    assert store.state(DS).loc["a", "tags"] == ("ambiguous",)


def test_store_that_lost_its_server_is_read_only_until_it_is_back(own_postgres):
    opener = StoreOpener(own_postgres.url(), retry_after=0.5)
    store, _ = opener.get()
    store.record(DS, "a", "ann", "tag", "ambiguous")
    own_postgres.halt()
    with pytest.raises(Exception, match="cannot read the annotation database"):
        store.state(DS)
    began = time.perf_counter()
    none, error = opener.get()  # the failed call is known: no new wait for this session
    assert none is None and error.startswith("cannot read the annotation database")
    assert time.perf_counter() - began < 0.1
    time.sleep(0.6)
    assert opener.get()[0] is None  # checked again after the back-off: still down
    own_postgres.resume()
    time.sleep(0.6)
    again, error = opener.get()
    assert (again, error) == (store, "")
    assert again.state(DS).loc["a", "tags"] == ("ambiguous",)


def _store_page():
    import streamlit as st

    from evaldash import ui

    store = ui.annotation_store()
    st.text("writable" if store is not None else "read-only: " + st.session_state.get("store_error", ""))
    if store is not None:
        store.record("f" * 16, "a", "ann", "note", "saved by a new session")


def test_new_session_writes_after_the_database_came_back(own_postgres, monkeypatch):
    """Down at the server's start: read-only; back: the next session writes, no restart."""
    monkeypatch.setattr(store_access, "RETRY_AFTER", 0.5)
    monkeypatch.setenv("EVALDASH_DB", own_postgres.url())
    own_postgres.halt()
    first = AppTest.from_function(_store_page, default_timeout=30)
    first.run()
    assert not first.exception
    assert first.text[0].value.startswith("read-only: cannot open the annotation database")
    own_postgres.resume()
    time.sleep(0.6)
    second = AppTest.from_function(_store_page, default_timeout=30)
    second.run()
    assert not second.exception
    assert second.text[0].value == "writable"
    assert AnnotationStore(own_postgres.url()).state(DS).loc["a", "note"] == "saved by a new session"
    first.run()  # the first session, on its next run, is no longer read-only either
    assert first.text[0].value == "writable"


def _details_page(path: str):
    import streamlit as st

    from evaldash import evaluate, load_predictions, ui

    @st.cache_resource
    def evaluation(p):
        return evaluate(load_predictions(p))

    st.session_state["_annotator"] = "ann"
    if st.session_state.get("show", True):  # the Details dialog is open
        ui.findings_form(evaluation(path), 0)


def test_locked_database_save_is_refused_quickly_and_the_typed_text_stays(tmp_path, monkeypatch):
    db = tmp_path / "team.db"
    monkeypatch.setenv("EVALDASH_DB", str(db))
    at = AppTest.from_function(_details_page, args=(str(DIGITS_CSV),), default_timeout=30)
    at.run()
    assert not at.exception
    other = sqlite3.connect(db, isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")  # another writer holds the file
    try:
        at.text_area(key="findings_note_0").input("a 7 with a bar, not a 1")
        at.multiselect(key="findings_tags_0").select("ambiguous")
        at.selectbox(key="findings_label_0").select("7")
        began = time.perf_counter()
        at.button(key="findings_save_0").click().run()
        took = time.perf_counter() - began
        assert not at.exception
        shown = [e.value.replace("\\", "") for e in at.error]  # md() escapes Markdown characters
        assert shown == [f"{BUSY_SAVE} (SQLite file {db})"]
        assert took < 2 * SQLITE_BUSY_TIMEOUT + 3, took
        assert at.text_area(key="findings_note_0").value == "a 7 with a bar, not a 1"
        assert at.multiselect(key="findings_tags_0").value == ["ambiguous"]
        assert at.selectbox(key="findings_label_0").value == "7"
        # the dialog is closed and opened again: what was typed is still there
        at.session_state["show"] = False
        at.run()
        at.session_state["show"] = True
        at.run()
        assert at.text_area(key="findings_note_0").value == "a 7 with a bar, not a 1"
        assert at.multiselect(key="findings_tags_0").value == ["ambiguous"]
        assert at.selectbox(key="findings_label_0").value == "7"
    finally:
        other.execute("ROLLBACK")
        other.close()
    at.button(key="findings_save_0").click().run()  # the lock is gone: one click saves it
    assert not at.exception and at.success[0].value == "Saved 3 changes."
    from evaldash import load_predictions

    d = load_predictions(DIGITS_CSV)
    row = AnnotationStore(db).state(d.fingerprint()).loc[str(d.ids[0])]
    assert (row["note"], row["tags"], row["corrected_label"]) == ("a 7 with a bar, not a 1", ("ambiguous",), "7")


def test_first_page_with_a_silent_database_opens_read_only_within_seconds(monkeypatch):
    """A server that accepts connections and never answers: the overview opens read-only, saying why."""
    server = SilentServer()
    monkeypatch.setenv("EVALDASH_DB", f"postgresql://nobody@127.0.0.1:{server.port}/team")
    monkeypatch.delenv("EVALDASH_PREDICTIONS", raising=False)
    try:
        at = AppTest.from_file(str(DIGITS_CSV.parents[2] / "app.py"), default_timeout=60)
        began = time.perf_counter()
        at.run()
        took = time.perf_counter() - began
    finally:
        server.close()
    assert not at.exception
    shown = [e.value.replace("\\", "").replace("\u2060", "") for e in at.sidebar.error]  # as md() escaped it
    assert any(m.startswith("Findings cannot be saved, the dashboard is read-only: cannot open the annotation "
                            f"database (postgresql database postgresql+psycopg://nobody@127.0.0.1:{server.port}"
                            f"/team): the database server did not answer within {CONNECT_TIMEOUT} s") for m in shown), shown
    assert len(server.accepted) == 1  # tried once for the whole page, not once per use
    assert took < CONNECT_TIMEOUT + 12, took


def test_details_history_shows_who_imported_and_the_original_author(tmp_path, monkeypatch):
    from evaldash import annotations as an
    from evaldash import load_predictions

    db = tmp_path / "team.db"
    monkeypatch.setenv("EVALDASH_DB", str(db))
    d = load_predictions(DIGITS_CSV)
    store = AnnotationStore(db)
    store.record(d.fingerprint(), str(d.ids[0]), "dora", "tag", "ambiguous")
    src = tmp_path / "lab.csv"
    src.write_text(f"sample_id,annotator,note\n{d.ids[0]},ann,seen in the lab\n")
    an.import_rows(store, d.fingerprint(), an.read_import(src), imported_by="carol", source=src)
    at = AppTest.from_function(_details_page, args=(str(DIGITS_CSV),), default_timeout=30)
    at.run()
    assert not at.exception
    history = at.dataframe[-1].value
    assert list(history.columns) == ["when", "who", "what", "value", "original author (imported)"]
    assert list(history["who"]) == ["dora", "carol"]
    assert list(history["original author (imported)"]) == ["", "ann"]
