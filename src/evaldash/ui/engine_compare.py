"""Two runs on one engine compared on /compare: the pair (B's file beside A's, paired by id in the
engine) and its comparison, computed once per pair of file versions for every session, its steps
shown while the engine works."""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import streamlit as st

from evaldash.ui.engine_sources import engine_failures, on_engine, shared_once

MAX_PAIRS = 4  # pairs kept (each holds B's views in A's session and its comparison)


@st.cache_resource(show_spinner=False)
def _pairs() -> tuple[OrderedDict, threading.Lock, dict]:
    """The pairs compared (for every session), a lock for the table and one lock per pair at work."""
    return OrderedDict(), threading.Lock(), {}


def same_engine(a, b) -> bool:
    """Whether runs ``a`` and ``b`` are both on an engine of one kind (the pair's JOIN runs there)."""
    name = on_engine(a)
    return name is not None and name == on_engine(b)


def engine_comparison(source_a, source_b, a, b):
    """(:class:`~evaldash.engines.paired.EnginePair`, its comparison) of runs ``a`` and ``b`` on one
    engine, computed once for every session while the two evaluations stay open."""
    from evaldash.engines.paired import EnginePair, pair_tag

    def build(progress):
        progress(f"opening {Path(b.dataset.source).name} beside {Path(a.dataset.source).name}")
        with engine_failures(f"{source_a.path}, {source_b.path}", on_engine(a)):
            pair = EnginePair(a, b, pair_tag(f"{source_b.key}|{id(b)}"))
            return a, b, pair, pair.compare(progress=progress)

    # keyed by the two open evaluations: the entry holds them, so their ids stay theirs while it is kept
    label = f"Comparing {Path(a.dataset.source).name} with {Path(b.dataset.source).name} on the {on_engine(a)} engine"
    _, _, pair, result = shared_once(_pairs(), (id(a), id(b)), label, build, MAX_PAIRS)
    return pair, result


def multilabel_pair(a, b):
    """:class:`~evaldash.engines.multilabel_paired.MultilabelEnginePair` of multi-label runs ``a``
    and ``b`` on one engine (their columns read back once for every session, the step shown), or
    None when they are too large to read back (:func:`~evaldash.engines.multilabel_paired.fits`)."""
    from evaldash.engines.multilabel_paired import MultilabelEnginePair, fits

    if not fits(a, b):
        return None

    def build(progress):
        progress("reading both runs' labels, predictions and scores for the paired resamples")
        with engine_failures(f"{a.dataset.source}, {b.dataset.source}", on_engine(a)):
            return a, b, MultilabelEnginePair(a, b)

    label = f"Comparing {Path(a.dataset.source).name} with {Path(b.dataset.source).name} on the {on_engine(a)} engine"
    return shared_once(_pairs(), ("multilabel", id(a), id(b)), label, build, MAX_PAIRS)[2]
