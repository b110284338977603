"""The evaluation a session shows: the active file, sliced, with corrected labels when asked."""

from __future__ import annotations

import hashlib
import json

import streamlit as st

from evaldash.errors import InputError
from evaldash.evaluation import Evaluation, evaluate, with_corrected_labels
from evaldash.ui.findings_store import findings, fingerprint
from evaldash.ui.links import active_slice, deep_link, set_slice
from evaldash.ui.text import md
from evaldash.ui.sources import _activate, _known_sources, load, runs, start_source


def current() -> Evaluation | None:
    """The active evaluation of this session (opening the start file on first use), with the
    annotators' corrected labels when the sidebar's switch is on.

    None when the file given at start (or named by the link) does not load: its message is kept
    in ``st.session_state["start_error"]`` and nothing is loaded in its place, never a sample the
    user did not choose, until the user opens a file in the sidebar."""
    if "source" not in st.session_state:
        if "start_error" in st.session_state:  # tried once this session; the sidebar opens another file
            return None
        wanted = st.query_params.get("ds")
        source = _known_sources().get(wanted) if wanted else None
        source = source or start_source()
        try:
            base = _activate(source)
        except InputError as exc:
            st.session_state["start_error"] = str(exc)
            runs()[:] = [r for r in runs() if r != source]  # not offered as a run to switch to
            return None
    else:
        base = load(st.session_state["source"])
    by, value = deep_link("slice_by"), deep_link("slice")
    if by is not None and value is not None:  # a link to a slice (?slice_by=<column>&slice=<value>)
        set_slice(by, value)
    base = _sliced_view(base)
    st.session_state.pop("corrections", None)
    engine = getattr(getattr(base.dataset, "engine", None), "name", None)
    if not st.session_state.get("use_corrected"):
        return base
    state = findings(base)
    corrections = {str(k): v for k, v in state["corrected_label"].items() if v} if len(state) else {}
    if not corrections:
        st.session_state["corrections"] = {"corrected": 0, "unknown": 0, "mistakes_were_label_errors": 0}
        return base
    if engine is not None:  # the corrections joined to the rows in the engine (engines.derived)
        from evaldash.ui.engine_views import engine_corrected

        try:
            evaluation, info = engine_corrected(base, corrections)
        except InputError as exc:  # the engine failed: said in one line, the labels as given shown
            st.error(md(exc), icon=":material/warning:")
            return base
        st.session_state["corrections"] = info
        return evaluation
    key = fingerprint(base) + hashlib.sha256(json.dumps(sorted(corrections.items())).encode()).hexdigest()
    evaluation, info = _corrected(base, key, corrections)
    st.session_state["corrections"] = info
    return evaluation


def _sliced_view(base: Evaluation) -> Evaluation:
    chosen = active_slice()
    if chosen is None:
        return base
    column, value = chosen
    if column not in base.dataset.metadata.columns:
        set_slice(None)
        return base
    if getattr(base.dataset, "engine", None) is not None:  # a view of the rows in the engine (engines.derived)
        from evaldash.ui.engine_views import engine_slice

        try:
            sliced = engine_slice(base, column, value)
        except InputError as exc:  # the engine failed: said in one line, the whole file shown
            st.error(md(exc), icon=":material/warning:")
            sliced = None
        if sliced is None:
            set_slice(None)
            return base
        return sliced
    # a multi-label file read at other thresholds has the same fingerprint: they key its slice too
    at = ",".join(f"{t:.17g}" for t in base.thresholds) if base.task == "multilabel" else ""
    sliced = _slice_evaluation(base, fingerprint(base), column, value, at)
    if sliced is None:  # a link to a slice this file does not have (or no longer has)
        set_slice(None)
        return base
    return sliced


@st.cache_resource(max_entries=16, show_spinner=False)
def _slice_evaluation(_base: Evaluation, base_fingerprint: str, column: str, value: str,
                      thresholds: str = "") -> Evaluation | None:
    from evaldash.dataset import subset
    from evaldash.slices import slice_rows

    rows = slice_rows(_base.dataset, column, value)
    if not len(rows):
        return None
    if _base.task == "multilabel":  # the slice's samples at the file's thresholds
        from evaldash.multilabel_slices import multilabel_slice_evaluation

        evaluation = multilabel_slice_evaluation(_base, rows, f"{column} = {value}").precompute()
    else:
        evaluation = evaluate(subset(_base.dataset, rows, f"{column} = {value}")).precompute(background=True)
    evaluation.memo("fingerprint", lambda e: base_fingerprint)  # findings stay those of the whole file
    return evaluation


@st.cache_resource(max_entries=8, show_spinner=False)
def _corrected(_base: Evaluation, key: str, corrections: dict[str, str]) -> tuple[Evaluation, dict]:
    # keyed by the base file (its fingerprint) and the corrections' hash; the findings stay
    # those of the file as given, so the corrected view keeps the base fingerprint
    if _base.task == "multilabel":  # corrected label sets: the same thresholds, new truth
        from evaldash.multilabel_corrections import corrected_evaluation

        evaluation, info = corrected_evaluation(_base, corrections)
        evaluation.precompute()
    else:
        dataset, info = with_corrected_labels(_base.dataset, corrections)
        evaluation = evaluate(dataset).precompute(background=True)
    base_fingerprint = fingerprint(_base)
    evaluation.memo("fingerprint", lambda e: base_fingerprint)
    return evaluation, info
