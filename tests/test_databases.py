"""The database fixtures themselves: both backends work through SQLAlchemy, each test gets an
empty database of its own, and the PostgreSQL server is reachable on loopback only."""

from __future__ import annotations

import sqlalchemy as sa


def test_round_trip(db_url: str) -> None:
    engine = sa.create_engine(db_url)
    try:
        meta = sa.MetaData()
        notes = sa.Table("notes", meta,
                         sa.Column("id", sa.Integer, primary_key=True),
                         sa.Column("text", sa.String(200), nullable=False))
        meta.create_all(engine)
        with engine.begin() as conn:
            conn.execute(notes.insert(), [{"id": 1, "text": "héllo"}, {"id": 2, "text": "world"}])
        with engine.connect() as conn:
            rows = conn.execute(sa.select(notes.c.id, notes.c.text).order_by(notes.c.id)).all()
        assert [tuple(r) for r in rows] == [(1, "héllo"), (2, "world")]
    finally:
        engine.dispose()


def test_database_starts_empty(db_url: str) -> None:
    """Run after test_round_trip: its table is not here, and a table left behind is not seen later."""
    engine = sa.create_engine(db_url)
    assert sa.inspect(engine).get_table_names() == []
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE notes (id INTEGER PRIMARY KEY)"))
    # Neither disposed nor closed on purpose: an open connection left behind by a test must
    # not stop the fixture from dropping its database.
    leftover = engine.connect()
    leftover.execute(sa.text("SELECT 1"))


def test_backend_is_the_one_named(db_url: str, request) -> None:
    engine = sa.create_engine(db_url)
    try:
        expected = request.node.callspec.params["db_url"]
        assert engine.dialect.name == expected
        if expected == "postgresql":
            assert engine.dialect.driver == "psycopg"
            with engine.connect() as conn:
                assert conn.execute(sa.text("SELECT current_database()")).scalar().startswith("t_")
    finally:
        engine.dispose()


def test_postgres_listens_on_loopback_only(postgres_server_url: str, postgres_server) -> None:
    engine = sa.create_engine(postgres_server_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(sa.text("SHOW listen_addresses")).scalar() == "127.0.0.1"
            assert conn.execute(sa.text("SELECT host(inet_server_addr())")).scalar() == "127.0.0.1"
            assert conn.execute(sa.text("SHOW unix_socket_directories")).scalar() == str(postgres_server.root)
            assert conn.execute(sa.text("SELECT current_database()")).scalar() == "postgres"
    finally:
        engine.dispose()
    assert postgres_server_url.startswith("postgresql+psycopg://postgres@127.0.0.1:")
    assert postgres_server_url.endswith("/postgres")
