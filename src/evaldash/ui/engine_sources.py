"""Files that stay in an engine (``--engine duckdb|spark|auto``): each opened once per server, with
its work shown while it runs, and the sample of rows a page can open in memory instead."""

from __future__ import annotations

import functools
import os
import threading
from collections import OrderedDict
from contextlib import contextmanager
from pathlib import Path

import streamlit as st

from evaldash.errors import InputError


MAX_OPEN = 8  # engine evaluations kept (each holds a connection and a few aggregates, no rows)
SAMPLE_ROWS = 1_000_000


def file_version(path: str) -> tuple:
    """(files, their mtimes and sizes) of a file, a folder of Parquet files or a glob: a new
    version of any of them is another evaluation."""
    from evaldash.engines.base import source_files

    _, files = source_files(path)
    out = []
    for f in files:
        stat = os.stat(f)
        out.append((f, stat.st_mtime_ns, stat.st_size))
    return tuple(out)


@functools.lru_cache(maxsize=64)
def _chosen(name: str, path: str, version: tuple) -> str:
    from evaldash.engines import choose_engine

    return choose_engine(name, [path])


def engine_name(source) -> str:
    """The engine ``source`` is computed on (``auto`` resolved once per file version)."""
    if source.engine != "auto":
        return source.engine
    return _chosen(source.engine, source.path, file_version(source.path))


@st.cache_resource(show_spinner=False)
def _engines() -> dict:
    """One running engine per (name, memory limit, Spark master); each file gets views of its own on
    it (:meth:`evaldash.engines.base.Engine.sibling`)."""
    return {}


@st.cache_resource(show_spinner=False)
def _opened() -> tuple[OrderedDict, threading.Lock, dict]:
    """The evaluations opened on an engine (kept per file, for every session), a lock for the
    table and one lock per file being opened."""
    return OrderedDict(), threading.Lock(), {}


def _engine(name: str, memory_limit: str | None, spark_master: str | None):
    from evaldash.engines import open_engine

    engines = _engines()
    key = (name, memory_limit, spark_master)
    if key not in engines:
        engines[key] = open_engine(name, memory_limit=memory_limit, spark_master=spark_master)
        return engines[key]
    return engines[key].sibling()


def shared_once(store: tuple[OrderedDict, threading.Lock, dict], key, label: str, build, keep: int,
                dropped=None):
    """``build(progress)``'s result, computed once per ``key`` for every session and kept in ``store``
    (a table, its lock and one lock per key at work; the newest ``keep`` stay, ``dropped(key, value)``
    is called with each entry no longer kept). The first build shows ``label`` in a status box, with
    each step ``progress(text)`` names, removed when done; a session arriving while another builds it
    waits, said so."""
    table, table_lock, locks = store
    with table_lock:
        if key in table:
            table.move_to_end(key)
            return table[key]
        lock = locks.setdefault(key, threading.Lock())
    shown = st.empty()
    try:
        if not lock.acquire(blocking=False):  # another session is at work on it: wait for it, said so
            with shown.status(f"{label} (another session started it)…"):
                lock.acquire()
        try:
            with table_lock:
                if key in table:
                    return table[key]
            with shown.status(f"{label}…") as status:
                found = build(lambda text: status.update(label=f"{label}: {text}…"))
            with table_lock:
                table[key] = found
                gone = [table.popitem(last=False) for _ in range(len(table) - keep)]
                locks.pop(key, None)
            for entry in gone if dropped is not None else ():
                dropped(*entry)
            return found
        finally:
            lock.release()
    finally:
        shown.empty()


def load_on_engine(source):
    """The evaluation of ``source`` on its engine, opened once per file version for every session;
    None when ``auto`` chose memory. The first opening shows its steps while the engine works.
    Another images root is a view of the same opening (:mod:`evaldash.engines.rooted`)."""
    from evaldash.engines.rooted import with_images_root

    name = engine_name(source)
    if name == "memory":
        return None
    key = (source.path, file_version(source.path), name, source.memory_limit, source.spark_master,
           source.positive, source.threshold, source.task, source.label_sep, source.thresholds)
    opened = shared_once(_opened(), key, f"Opening {Path(source.path).name} on the {name} engine",
                         lambda progress: _open(source, name, progress), MAX_OPEN)
    return with_images_root(opened, source.images_root)


def _open(source, name: str, progress):
    """Validate ``source`` on engine ``name`` and compute its first numbers, naming each step (its
    images in the file's folder: :func:`load_on_engine` gives the view of the source's root)."""
    from evaldash.engines.multilabel_evaluation import evaluate_path

    progress("reading and checking the file")
    with engine_failures(source.path, name):
        engine = _engine(name, source.memory_limit, source.spark_master)
        evaluation = evaluate_path(engine, source.path, task=source.task, label_sep=source.label_sep,
                                   positive=source.positive, threshold=source.threshold,
                                   thresholds_file=source.thresholds)
        # the cell galleries' sorted table is built after the first view, in the background
        evaluation.precompute(background=True, progress=progress)
    return evaluation


def on_engine(evaluation) -> str | None:
    """The name of the engine ``evaluation`` runs on, None in memory."""
    engine = getattr(evaluation.dataset, "engine", None)
    return getattr(engine, "name", None) if engine is not None else None


def engine_caption(source, evaluation) -> str:
    """The sidebar's line saying where the file's numbers are computed."""
    name = on_engine(evaluation)
    if name is None:
        return "Engine: memory (--engine auto: the file fits in memory)"
    options = {"duckdb": f", memory limit {source.memory_limit}" if source.memory_limit else "",
               "spark": f", master {source.spark_master}" if source.spark_master else ""}.get(name, "")
    return f"Engine: {name}{options} (the rows stay in the engine; only aggregates come back)"


def source_stat(path: str):
    """``os.stat`` of a file; of a folder or glob on an engine, the newest mtime and the total size of
    its files (``st_mtime``, ``st_size``)."""
    if os.path.isfile(path):
        return os.stat(path)
    from types import SimpleNamespace

    version = file_version(path)
    return SimpleNamespace(st_mtime=max(v[1] for v in version) / 1e9, st_size=sum(v[2] for v in version))


ENGINE_PACKAGES = ("duckdb", "pyspark", "py4j")


def engine_failure(exc: BaseException) -> bool:
    """Whether ``exc`` is an engine's own error (out of memory, a file changed under it, a lost
    cluster): the page says it in one line instead of showing a traceback."""
    return type(exc).__module__.split(".")[0].lstrip("_") in ENGINE_PACKAGES  # duckdb's are in _duckdb


def failure_text(exc: BaseException, name: str) -> str:
    lines = str(exc).strip().splitlines()
    return f"the {name} engine failed: {lines[0] if lines else type(exc).__name__}"


@contextmanager
def engine_failures(what: str, name: str | None):
    """Work on engine ``name`` whose engine's own error (:func:`engine_failure`) becomes one
    :class:`InputError` line, ``<what>: the <name> engine failed: <its first line>`` (``what``
    names what failed: the file, the view, the pair); any other error passes through."""
    try:
        yield
    except Exception as exc:
        if engine_failure(exc):
            raise InputError(f"{what}: {failure_text(exc, name)}") from None
        raise
