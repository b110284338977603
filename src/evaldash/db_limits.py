"""Bounds on every call to the annotation database, and what a driver error means for the user.

A database that is down, hung or locked must cost a page a few seconds, never minutes: the
dashboard then works read-only and says why (see :mod:`evaldash.store_access`). PostgreSQL gets
connect, statement and lock timeouts, TCP keepalives and a client-side :class:`Deadline` for a
server that stops answering on an open connection; SQLite waits briefly for another writer.
No Streamlit here; :class:`evaldash.annotations.AnnotationStore` applies these.
"""

from __future__ import annotations

import os
import socket
import threading
from contextlib import contextmanager

import sqlalchemy as sa

CONNECT_TIMEOUT = 3  # s, to reach the server and finish its handshake (psycopg's minimum is 2)
STATEMENT_TIMEOUT = 5  # s, one statement on the server (PostgreSQL statement_timeout)
LOCK_TIMEOUT = 3  # s, waiting for another writer's lock (PostgreSQL lock_timeout)
ANSWER_TIMEOUT = 8  # s, client side: a connected server that stops answering is cut off
SQLITE_BUSY_TIMEOUT = 1.5  # s, SQLite waits this long for another writer, per try
SQLITE_TRIES = 2  # a locked SQLite file is tried twice before the user is told


def sqlite_pragmas(dbapi_connection, _record) -> None:
    """Set on every new SQLite connection (a SQLAlchemy ``connect`` event)."""
    cursor = dbapi_connection.cursor()
    # writers wait briefly for each other (then the store tries once more), first,
    # so that the pragmas below wait too when another connection holds the file
    cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT * 1000)}")
    cursor.execute("PRAGMA journal_mode=WAL")  # readers do not block the writer
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def postgres_connect_args(url: sa.engine.URL) -> dict:
    """Connection arguments bounding every PostgreSQL call: the handshake (``connect_timeout``,
    which psycopg applies to the whole start-up, also when a server accepts the connection and
    then says nothing), each statement, each lock wait, and a peer that vanished (TCP keepalives
    and ``tcp_user_timeout``). Values given in the URL's query win."""
    args = {"connect_timeout": CONNECT_TIMEOUT, "keepalives": 1, "keepalives_idle": 10,
            "keepalives_interval": 3, "keepalives_count": 3, "tcp_user_timeout": ANSWER_TIMEOUT * 1000}
    args = {k: v for k, v in args.items() if k not in url.query}
    if "options" not in url.query:
        args["options"] = (f"-c statement_timeout={STATEMENT_TIMEOUT * 1000} -c lock_timeout={LOCK_TIMEOUT * 1000} "
                           f"-c idle_in_transaction_session_timeout={4 * STATEMENT_TIMEOUT * 1000}")
    return args


def bound_pings(engine: sa.Engine) -> None:
    """The pool's pre-ping (is a pooled connection still alive?) waits at most
    ``CONNECT_TIMEOUT``: a server that stopped answering is then treated as gone."""
    dialect = engine.dialect
    ping = dialect.do_ping

    def bounded_ping(dbapi_connection) -> bool:
        with Deadline(CONNECT_TIMEOUT).watch(dbapi_connection):
            return ping(dbapi_connection)

    dialect.do_ping = bounded_ping


class Deadline:
    """A client-side bound on one exchange with a PostgreSQL server.

    ``statement_timeout`` needs a server that still runs; one that is frozen, or a network that
    drops everything, would keep the caller waiting on the socket for minutes. When the time is
    up the socket is shut down, so the driver fails at once with a closed connection (which the
    pool then discards) and ``passed`` tells the caller why.
    """

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.passed = False
        self._done = False
        self._lock = threading.Lock()

    @contextmanager
    def watch(self, dbapi_connection):
        fileno = getattr(dbapi_connection, "fileno", None)  # psycopg has one; sqlite3 (a file) has not
        if not callable(fileno):
            yield self
            return
        try:
            fd = fileno()
        except Exception:  # a closed connection: the driver reports it on use
            yield self
            return
        timer = threading.Timer(self.seconds, self._cut, (fd,))
        timer.daemon = True
        timer.start()
        try:
            yield self
        finally:
            with self._lock:
                self._done = True
            timer.cancel()

    def _cut(self, fd: int) -> None:
        with self._lock:
            if self._done:
                return
            self.passed = True
            try:
                with socket.socket(fileno=os.dup(fd)) as sock:
                    sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def error_kind(exc: BaseException) -> str:
    """What a driver error means for the user: "busy", "timeout", "unavailable" or ""."""
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).lower()
    code = getattr(orig, "sqlstate", None)
    if code == "55P03" or "database is locked" in text or "database table is locked" in text or "database is busy" in text:
        return "busy"
    if code == "57014" or "timeout expired" in text or "timed out" in text:
        return "timeout"
    if isinstance(exc, sa.exc.DBAPIError) and (exc.connection_invalidated or isinstance(exc, (
            sa.exc.OperationalError, sa.exc.InterfaceError))):
        return "unavailable"
    return ""


def timeout_of(exc: BaseException) -> int:
    code = getattr(getattr(exc, "orig", None), "sqlstate", None)
    text = str(getattr(exc, "orig", exc)).lower()
    if code == "57014":
        return STATEMENT_TIMEOUT
    if "connection timeout" in text:
        return CONNECT_TIMEOUT
    return ANSWER_TIMEOUT
