"""Views of a file on its engine that every page shows (one slice of it, its corrected labels): each
computed in the engine once per (file version, view) for every session, its steps shown while it runs
(:mod:`evaldash.engines.derived`)."""

from __future__ import annotations

import hashlib
import json
import threading
from collections import OrderedDict

import streamlit as st

from evaldash.ui.engine_sources import engine_failures, on_engine, shared_once

MAX_VIEWS = 16  # views kept (each holds a few aggregates and a view's name, no rows)


@st.cache_resource(show_spinner=False)
def _views() -> tuple[OrderedDict, threading.Lock, dict]:
    """The views computed (for every session), a lock for the table and one lock per view being built."""
    return OrderedDict(), threading.Lock(), {}


def shared_view(key: tuple, label: str, build):
    """``build(progress)``'s result, once per ``key`` for every session, its steps shown
    (:func:`~evaldash.ui.engine_sources.shared_once`); a view no longer kept leaves the temporary
    disk (:func:`_dropped`)."""
    return shared_once(_views(), key, label, build, MAX_VIEWS, _dropped)


def _dropped(key: tuple, value) -> None:
    """Delete the sorted cell table (:func:`evaldash.engines.cells.drop`, in a thread of its own) of
    the view that the entry ``key`` built; not the table of the file or of another view that the
    entry holds as it was (corrections that changed no label keep the evaluation they were given)."""
    from evaldash.engines import cells

    evaluation = value[0] if isinstance(value, tuple) else value
    if evaluation is not None and views_of(evaluation) == key[1:]:
        cells.drop(evaluation, background=True)


def _replace_older(key: tuple) -> None:
    """Forget the views of ``key``'s kind on the same rows kept so far (before ``key``'s was built:
    older corrections of the file) and drop their cell tables: nobody asks for them again."""
    table, table_lock, _ = _views()
    with table_lock:
        older = [(k, table.pop(k)) for k in list(table)
                 if k != key and k[:-1] == key[:-1] and k[-1][0] == key[-1][0]]
    for entry in older:
        _dropped(*entry)


def _built(evaluation, what: str, build):
    with engine_failures(f"{evaluation.dataset.source}: {what}", on_engine(evaluation)):
        return build()


def view_key(evaluation) -> tuple:
    """What identifies ``evaluation``'s rows: the file's version (its fingerprint) and the views on it."""
    from evaldash.ui.findings_store import fingerprint

    return (fingerprint(evaluation),) + views_of(evaluation)


def views_of(evaluation) -> tuple:
    """The views (slice, corrections) ``evaluation`` shows of its file, in the order taken."""
    return evaluation.memo("engine view", lambda e: ())


def engine_slice(base, column: str, value: str):
    """The evaluation of slice ``value`` of ``column`` on the engine (None: no row), shared."""
    from evaldash.engines.derived import slice_evaluation

    def build(progress):
        def compute():
            progress("the slice's rows")
            sliced = slice_evaluation(base, column, value)
            if sliced is not None:
                sliced.memo("engine view", lambda e: views_of(base) + (("slice", column, value),))
                sliced.precompute(background=True, progress=progress)  # its cell table after the first view
            return sliced
        return _built(base, f"slice {column} = {value}", compute)
    return shared_view(view_key(base) + (("slice", column, value),),
                       f"Computing the slice {column} = {value} on the {on_engine(base)} engine", build)


def engine_corrected(base, corrections: dict[str, str]):
    """(the evaluation with the corrected labels on the engine, its summary), shared per version of
    the corrections."""
    from evaldash.engines.derived import corrected_evaluation

    digest = hashlib.sha256(json.dumps(sorted(corrections.items())).encode()).hexdigest()[:16]

    def build(progress):
        def compute():
            progress("the corrections joined to the rows")
            evaluation, info = corrected_evaluation(base, corrections)
            evaluation.memo("engine view", lambda e: views_of(base) + (("corrected", digest),))
            evaluation.precompute(background=True, progress=progress)  # its cell table after the first view
            _replace_older(key)  # the file's corrections are one set: the views of older versions are stale
            return evaluation, info
        return _built(base, "corrected labels", compute)
    key = view_key(base) + (("corrected", digest),)
    return shared_view(key, f"Computing the corrected labels on the {on_engine(base)} engine", build)
