"""A throwaway PostgreSQL server for the tests, and fresh empty databases on it.

Used by the ``postgres_server_url`` and ``db_url`` fixtures of ``conftest.py``. The server is
the machine's own PostgreSQL binaries (``initdb``/``pg_ctl`` on PATH or under
``/usr/lib/postgresql/*/bin``; ``scripts/test.sh`` installs Debian's ``postgresql`` where
they are missing), run on a data directory in a new temporary folder that is removed again:

* it listens on 127.0.0.1 only, on a free port, with its Unix socket in that folder;
* authentication is ``trust`` for the superuser ``postgres``;
* durability is off (``fsync``, ``synchronous_commit``, ``full_page_writes``): it is thrown away.

``initdb`` refuses to run as root, so as root the server runs as an unprivileged user:
``postgres`` (created by Debian's package) when it exists, else a system user ``evaldash-pg``
created here with ``useradd --system``.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql

SUPERUSER = "postgres"
FALLBACK_OS_USER = "evaldash-pg"


class PostgresUnavailable(RuntimeError):
    """PostgreSQL could not be found or started; the message says why and what to do."""


def find_bindir() -> Path:
    """The folder holding ``initdb`` and ``pg_ctl``: PATH first, then the newest Debian version."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        folder = Path(on_path).resolve().parent  # pg_ctl beside the resolved initdb: same version
        if (folder / "pg_ctl").exists():
            return folder
        return Path(on_path).parent
    candidates = [Path(d) for d in glob.glob("/usr/lib/postgresql/*/bin")
                  if os.access(Path(d) / "initdb", os.X_OK) and os.access(Path(d) / "pg_ctl", os.X_OK)]

    def version(folder: Path) -> tuple:
        name = folder.parent.name
        return tuple(int(p) if p.isdigit() else 0 for p in name.split("."))

    if candidates:
        return max(candidates, key=version)
    raise PostgresUnavailable(
        "PostgreSQL server binaries (initdb, pg_ctl) not found on PATH nor under "
        "/usr/lib/postgresql/*/bin: run `bash scripts/test.sh` (installs Debian's `postgresql`) "
        "or `apt-get install postgresql`")


def _os_user() -> str | None:
    """The user to run the server as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    for name in (SUPERUSER, FALLBACK_OS_USER):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            pass
    result = subprocess.run(
        ["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", FALLBACK_OS_USER],
        capture_output=True, text=True)
    if result.returncode != 0:
        raise PostgresUnavailable(
            f"running as root and no user `{SUPERUSER}` exists to run PostgreSQL as; "
            f"`useradd --system {FALLBACK_OS_USER}` failed: {result.stderr.strip()}")
    return FALLBACK_OS_USER


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PostgresServer:
    """One running throwaway server; ``stop()`` ends it and removes its folder."""

    bindir: Path
    root: Path  # temporary folder: data/, the socket, server.log
    port: int
    os_user: str | None
    startup_seconds: float = 0.0  # initdb + pg_ctl start, for the report

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def log(self) -> Path:
        return self.root / "server.log"

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL of one database on this server (psycopg 3 driver)."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def conninfo(self, database: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user={SUPERUSER} dbname={database}"

    def _run(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        kwargs = {}
        env = dict(os.environ, LC_ALL="C", LANG="C")
        env.pop("PGDATA", None)
        if self.os_user is not None:
            entry = pwd.getpwnam(self.os_user)
            kwargs = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
            env.update(HOME=str(self.root), USER=self.os_user, LOGNAME=self.os_user)
        return subprocess.run([str(self.bindir / args[0]), *args[1:]], cwd=self.root, env=env,
                              stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=timeout, **kwargs)

    def _log_tail(self) -> str:
        try:
            return self.log.read_text(errors="replace")[-2000:]
        except OSError:
            return "(no server log)"

    @classmethod
    def start(cls) -> "PostgresServer":
        began = time.perf_counter()
        bindir = find_bindir()
        os_user = _os_user()
        # Directly in the system temp folder: pytest's own base folder is private to its user,
        # and the server's user has to reach this one. Short, for the socket path's length limit.
        root = Path(tempfile.mkdtemp(prefix="evaldash-pg-"))
        server = cls(bindir=bindir, root=root, port=0, os_user=os_user)
        try:
            if os_user is not None:
                entry = pwd.getpwnam(os_user)
                os.chown(root, entry.pw_uid, entry.pw_gid)
            server._init()
            server._start()
        except BaseException:
            server.stop()
            raise
        server.startup_seconds = time.perf_counter() - began
        return server

    def _init(self) -> None:
        result = self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
                           "--encoding=UTF8", "--no-locale", "--no-sync")
        if result.returncode != 0:
            raise PostgresUnavailable(
                f"initdb ({self.bindir}) failed as user {self.os_user or os.getuid()}:\n"
                f"{result.stdout}{result.stderr}")
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.write(
                "\n# evaldash tests: a throwaway server\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.root}'\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                "max_connections = 100\n")

    def _start(self) -> None:
        last = ""
        for _attempt in range(5):  # the free port may be taken between probing and binding
            self.port = _free_port()
            result = self._run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.log),
                               "-w", "-t", "60", "-o", f"-p {self.port}")
            if result.returncode == 0:
                return
            last = f"{result.stdout}{result.stderr}\n{self._log_tail()}"
            if "already in use" not in last:
                break
        raise PostgresUnavailable(f"pg_ctl start ({self.bindir}) failed:\n{last}")

    # -- faults: a server that goes away and comes back, or stops answering -----------------

    def halt(self) -> None:
        """Stop the server but keep its data: ``resume()`` starts it again on the same port.
        A fast (clean) shutdown: with durability off, an immediate one may lose recent commits."""
        result = self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "fast", "-w", "-t", "30")
        if result.returncode != 0:
            raise PostgresUnavailable(f"pg_ctl stop failed:\n{result.stdout}{result.stderr}")

    def resume(self) -> None:
        """Start a halted server again on its port."""
        result = self._run("pg_ctl", "start", "-D", str(self.data), "-l", str(self.log),
                           "-w", "-t", "60", "-o", f"-p {self.port}")
        if result.returncode != 0:
            raise PostgresUnavailable(f"pg_ctl start failed:\n{result.stdout}{result.stderr}\n{self._log_tail()}")

    def processes(self) -> list[int]:
        """Process ids of the server: the postmaster and every process it started."""
        main = int((self.data / "postmaster.pid").read_text().split()[0])
        children = []
        for stat in glob.glob("/proc/[0-9]*/stat"):
            try:
                fields = Path(stat).read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue  # ended meanwhile
            if int(fields[1]) == main:
                children.append(int(Path(stat).parent.name))
        return [main, *children]

    def freeze(self) -> None:
        """SIGSTOP every server process: connections stay open, nothing answers."""
        for pid in self.processes():
            os.kill(pid, signal.SIGSTOP)

    def thaw(self) -> None:
        for pid in self.processes():
            os.kill(pid, signal.SIGCONT)

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w", "-t", "30")
        shutil.rmtree(self.root, ignore_errors=True)

    # -- databases -------------------------------------------------------------------------

    def create_database(self) -> str:
        """A new empty database ``t_<random hex>``; returns its name."""
        name = f"t_{uuid.uuid4().hex}"
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return name

    def drop_database(self, name: str) -> None:
        """Drop a database, ending any connection a test left open to it (PostgreSQL 13+)."""
        with psycopg.connect(self.conninfo(), autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


class SilentServer:
    """A loopback TCP server that accepts connections and never says a word."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.accepted = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)  # held open, never answered

    def close(self):
        self.sock.close()
        for conn in self.accepted:
            conn.close()
