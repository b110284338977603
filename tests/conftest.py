"""Fixtures shared by the test modules; the cases themselves live in ``classification_cases``."""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import streamlit as st

from classification_cases import BINARY_CSV, CASE_NAMES, DIGITS_CSV, Case, make_case
from databases import PostgresServer, PostgresUnavailable

# The annotations' default database lives in the user's data folder: each test process (and the servers
# it starts) gets a folder of its own, so tests never touch the user's data nor each other's (pytest-xdist).
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="evaldash-test-data-")


def pytest_collection_modifyitems(config, items):
    """Under pytest-xdist (``scripts/test.sh`` runs a worker per core, ``--dist loadgroup``) every test
    that starts Spark runs in one worker, so one JVM serves them all."""
    for item in items:
        if "spark" in getattr(item, "fixturenames", ()) or "spark" in item.name.lower():
            item.add_marker(pytest.mark.xdist_group("spark"))


@pytest.fixture(params=CASE_NAMES)
def case(request) -> Case:
    """Every shared case in turn: random problems (ties, absent classes, k up to 12) and both samples."""
    return make_case(request.param)


@pytest.fixture
def digits_csv() -> Path:
    return DIGITS_CSV


@pytest.fixture
def binary_csv() -> Path:
    return BINARY_CSV


# -- databases: an embedded SQLite file and a throwaway PostgreSQL server (tests/databases.py) --

@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole session, on 127.0.0.1 only; stopped and removed at the end.

    Where PostgreSQL cannot be started the tests that need it FAIL (error) with the reason:
    they are never skipped.
    """
    try:
        server = PostgresServer.start()
    except PostgresUnavailable as exc:
        reason = str(exc)
    else:
        reason = None
    if reason is not None:
        pytest.fail(f"PostgreSQL test server unavailable: {reason}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_server_url(postgres_server: PostgresServer) -> str:
    """SQLAlchemy URL of the session server's ``postgres`` maintenance database (superuser, trust)."""
    return postgres_server.url("postgres")


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path: Path) -> Iterator[str]:
    """SQLAlchemy URL of a fresh, empty database for this test, once per backend.

    ``sqlite``: ``sqlite:///<tmp_path>/evaldash.db`` (the file does not exist yet).
    ``postgresql``: a new database ``t_<random hex>`` on the session server
    (``postgresql+psycopg://postgres@127.0.0.1:<port>/t_...``), dropped after the test even
    if connections to it are still open. The server is started only when first needed.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'evaldash.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create_database()
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


@pytest.fixture
def clean_app(monkeypatch, tmp_path):
    """An AppTest of ``app.py`` with no start file (the bundled sample), a fresh annotation
    database, and Streamlit's resource caches cleared before and after."""
    monkeypatch.setattr(sys, "argv", ["app.py"])
    monkeypatch.delenv("EVALDASH_PREDICTIONS", raising=False)
    monkeypatch.setenv("EVALDASH_DB", str(tmp_path / "annotations.db"))
    st.cache_resource.clear()
    yield
    st.cache_resource.clear()


@pytest.fixture(scope="session")
def spark():
    """One Spark session in local mode, bound to loopback, for every Spark test of the run (a
    session costs seconds to start)."""
    import warnings

    from evaldash.engines.spark_engine import SparkEngine, loopback_session

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # pyspark's notice about pandas 3
        session = loopback_session("local[2]", "evaldash-tests", {"spark.sql.shuffle.partitions": "2",
                                                                   "spark.default.parallelism": "2"})
    session.sparkContext.setLogLevel("ERROR")
    yield SparkEngine(session=session)
    session.stop()
