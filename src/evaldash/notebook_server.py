"""The dashboard as a background process of a notebook or script (``evaldash.show``).

The server is ``evaldash serve`` itself, started with :class:`subprocess.Popen` on a free
127.0.0.1 port (the kernel is never replaced), and stopped when the interpreter exits. Data
given in memory is written as a Parquet file in this process's private temporary folder, which is
the server's data root; a second ``show`` lists its file in the manifest the running server reads
(:mod:`evaldash.notebook_runs`) instead of starting another server.
"""

from __future__ import annotations

import html
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import weakref
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from evaldash.errors import InputError
from evaldash.notebook_runs import ENV, read_thresholds, source_key, thresholds_file, write_manifest

START_TIMEOUT = 90.0  # seconds for the server to answer its health check
IFRAME_HEIGHT = 760


@dataclass
class Run:
    """One data set open in the dashboard: its file, how the server reads it, and its fingerprint
    (the key of its findings in the annotation database; computed on first use for a path)."""

    label: str
    path: str
    positive: str | None = None
    images_root: str | None = None
    _fingerprint: str | None = None

    @property
    def key(self) -> str:
        return source_key(self.path, self.positive, self.images_root)

    @property
    def fingerprint(self) -> str:
        if self._fingerprint is None:
            from evaldash.tasks import load_dataset

            self._fingerprint = load_dataset(self.path, positive=self.positive,
                                             images_root=self.images_root).fingerprint()
        return self._fingerprint


def free_port() -> int:
    """A TCP port free on 127.0.0.1 now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _database(db) -> str | None:
    if db is None:
        return None
    text = os.fspath(db)
    return text if "://" in text else str(Path(text).resolve())


def _stop_process(proc: subprocess.Popen, log) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
    if not log.closed:
        log.close()


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the server gets SIGTERM when the kernel dies without running atexit (killed)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Server:
    """One ``evaldash serve`` process on 127.0.0.1 and the runs it has open (the first one given on
    its command line, the others through the manifest)."""

    def __init__(self, first: Run, folder: Path, port: int | None, db: str | None):
        self.folder = folder
        self.port = port or free_port()
        self.db = db
        self.runs: list[Run] = [first]
        self.manifest = folder / f"runs-{self.port}.json"
        write_manifest(self.manifest, [])
        self.log_path = folder / f"server-{self.port}.log"
        cmd = [sys.executable, "-m", "evaldash.cli", "serve", first.path, "--port", str(self.port),
               "--address", "127.0.0.1", "--data-root", str(folder)]
        given = Path(first.path).parent
        if folder not in given.parents and given != folder:  # a file of the user's: its folder, as serve's default
            cmd += ["--data-root", str(given)]
        if first.positive is not None:
            cmd += ["--positive", first.positive]
        if first.images_root is not None:
            cmd += ["--images-root", first.images_root]
        if db is not None:
            cmd += ["--db", db]
        env = dict(os.environ)
        env[ENV] = str(self.manifest)
        env.pop("EVALDASH_PREDICTIONS", None)
        # the server runs the evaldash this process imported, wherever it comes from
        package_root = str(Path(__file__).resolve().parents[1])
        env["PYTHONPATH"] = os.pathsep.join([package_root, *[p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]])
        env["PYTHONUNBUFFERED"] = "1"
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL, stdout=self._log,
                                     stderr=subprocess.STDOUT, cwd=str(folder), start_new_session=True,
                                     preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None)
        # stopped at interpreter exit (a finalizer runs then), or when stop() is called
        self._finalizer = weakref.finalize(self, _stop_process, self.proc, self._log)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def wait_ready(self, timeout: float) -> None:
        """Return once the server answers its health check; InputError (with the server's last
        words) when it stops or does not answer within ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                self._log.flush()
                raise InputError(f"evaldash.show: the dashboard server stopped (exit {self.proc.returncode}) on port "
                                 f"{self.port}: {' '.join(self.log_tail().split())[-600:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise InputError(f"evaldash.show: the dashboard server did not answer on port {self.port} within "
                         f"{timeout:.0f} s: {' '.join(self.log_tail().split())[-600:]}")

    def add(self, runs: list[Run]) -> None:
        """Open ``runs`` in the running server (its sessions pick them up on their next page run)."""
        known = {r.key for r in self.runs}
        self.runs += [r for r in runs if r.key not in known]
        write_manifest(self.manifest, [{"path": r.path, "positive": r.positive, "images_root": r.images_root,
                                        "label": r.label} for r in self.runs[1:]])

    def stop(self) -> None:
        self._finalizer()


_servers: list[Server] = []


def server_for(runs: list[Run], folder: Path, port: int | None, db) -> tuple[Server, bool]:
    """The running server to show ``runs`` in (same port and database if given), else a new one
    started on the first run (not yet waited for); and whether it was started now."""
    db = _database(db)
    for server in _servers:
        if server.alive and (port is None or port == server.port) and (db is None or db == server.db):
            return server, False
    server = Server(runs[0], folder, port, db)
    _servers.append(server)
    return server, True


def forget(server: Server) -> None:
    """Stop a server that will not be used (its data was refused)."""
    server.stop()
    if server in _servers:
        _servers.remove(server)


class Dashboard:
    """The handle ``evaldash.show`` returns: the dashboard's ``url`` (opening the first run of that
    call), ``stop()``, ``findings()`` and ``thresholds()``; in Jupyter it shows the dashboard
    inline with a link to open it in its own tab."""

    def __init__(self, server: Server, runs: list[Run]):
        self._server = server
        self.runs = runs

    @property
    def url(self) -> str:
        first = self.runs[0]
        base = self._server.url + "/"
        return base if first is self._server.runs[0] else f"{base}?ds={first.key}"

    @property
    def port(self) -> int:
        return self._server.port

    def __repr__(self) -> str:
        state = "running" if self._server.alive else "stopped"
        return f"<evaldash Dashboard {self.url} ({state}; runs {[r.label for r in self.runs]})>"

    def stop(self) -> None:
        """Stop the server (every handle of it)."""
        self._server.stop()

    def _store(self):
        from evaldash.annotations import AnnotationStore

        return AnnotationStore(self._server.db)

    def findings(self) -> pd.DataFrame:
        """The annotators' latest findings on this call's runs, one row per annotated sample, the
        sample id as index: ``tags`` (tuple), ``note``, ``corrected_label`` ("" when none),
        ``annotator``, ``updated_at`` (and ``run`` when several runs were shown)."""
        store = self._store()
        try:
            frames = []
            for run in self.runs:
                state = store.state(run.fingerprint)
                frames.append(state.assign(run=run.label) if len(self.runs) > 1 else state)
        finally:
            store.close()
        columns = ["tags", "note", "corrected_label", "annotator", "updated_at"] + (["run"] if len(self.runs) > 1 else [])
        out = pd.concat(frames) if frames else pd.DataFrame()
        out = out.reindex(columns=columns)
        out.index.name = "sample_id"
        return out

    def thresholds(self) -> pd.DataFrame:
        """The operating points chosen for this call's runs, newest first: those signed off on
        /decision (its decision records: approver, rationale) and the latest threshold moved to on
        /threshold for each class (``chosen_on``: "/decision" or "/threshold"). Columns: run,
        class, threshold, chosen_on, approver, created_at, rationale."""
        columns = ["run", "class", "threshold", "chosen_on", "approver", "created_at", "rationale"]
        store = self._store()
        try:
            rows = [{"run": run.label, "class": rec.class_name, "threshold": rec.threshold, "chosen_on": "/decision",
                     "approver": rec.approver, "created_at": pd.Timestamp(rec.created_at), "rationale": rec.rationale}
                    for run in self.runs for rec in store.decisions(run.fingerprint)]
        finally:
            store.close()
        manifest = getattr(self._server, "manifest", None)
        moved = read_thresholds(thresholds_file(manifest)) if manifest is not None else []
        by_path = {run.path: run.label for run in self.runs}
        rows += [{"run": by_path[r["path"]], "class": r["class"], "threshold": r["threshold"], "chosen_on": "/threshold",
                  "approver": "", "created_at": pd.Timestamp(r.get("chosen_at")), "rationale": ""}
                 for r in moved if r["path"] in by_path]
        frame = pd.DataFrame(rows, columns=columns)
        if len(frame):
            frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
            frame = frame.sort_values("created_at", ascending=False, kind="stable").reset_index(drop=True)
        return frame

    def _repr_html_(self) -> str:
        url = html.escape(self.url, quote=True)
        return (f'<iframe src="{url}" width="100%" height="{IFRAME_HEIGHT}" style="border:1px solid #ddd" '
                f'title="evaldash dashboard"></iframe>'
                f'<p><a href="{url}" target="_blank" rel="noopener">Open the dashboard in its own tab</a> '
                f'(<code>{url}</code>)</p>')


def safe_name(label: str) -> str:
    """A file name made from a run's label (the dashboard names a run by its file when it has no label)."""
    name = re.sub(r"[^\w.-]+", "_", label, flags=re.UNICODE).strip("._") or "run"
    return name[:60]
