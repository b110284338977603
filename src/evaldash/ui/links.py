"""Every view is a link: the URL read on entering a page, widget values kept across pages, the slice."""

from __future__ import annotations

import streamlit as st

from evaldash.ui.sources import start_source


def active_slice() -> tuple[str, str] | None:
    """The (metadata column, slice) the whole dashboard is filtered to, or None."""
    chosen = st.session_state.get("_slice")
    return tuple(chosen) if chosen else None


def set_slice(column: str | None, value: str | None = None) -> None:
    """Filter every page to one slice (None: show everything)."""
    st.session_state["_slice"] = (column, value) if column and value is not None else None
    if column is None:
        st.session_state.pop("slice_table", None)  # the slices table's selected row would pick it again


def deep_link(name: str) -> str | None:
    """The URL's value of ``name`` on the run that enters a page, else None."""
    if st.session_state.get("_entered"):
        return st.query_params.get(name)
    return None


def _kept_key(widget_key: str) -> str:
    source = st.session_state.get("source")
    return f"_kept_{source.key if source else ''}_{widget_key}"


def kept(widget_key: str, default=None):
    """The last value a widget had for the active dataset (on any page)."""
    return st.session_state.get(widget_key, st.session_state.get(_kept_key(widget_key), default))


def remember(widget_key: str, default) -> None:
    """Give a widget its last value back: Streamlit drops widget state on pages that don't show it."""
    if widget_key not in st.session_state:
        st.session_state[widget_key] = st.session_state.get(_kept_key(widget_key), default)


def keep(widget_key: str) -> None:
    """Store a widget's current value (per dataset) so :func:`remember` can restore it later."""
    if widget_key in st.session_state:
        st.session_state[_kept_key(widget_key)] = st.session_state[widget_key]


def link_params(**params) -> dict[str, str]:
    """Query parameters for an in-app link, carrying the dataset when it is not the start file,
    and the slice shown."""
    source = st.session_state.get("source")
    out = {k: str(v) for k, v in params.items() if v is not None}
    if source is not None and source != start_source():
        out["ds"] = source.key
    out.update({k: v for k, v in _slice_query().items() if v is not None})
    return out


def _slice_query() -> dict[str, str | None]:
    chosen = active_slice()
    return {"slice_by": chosen[0], "slice": chosen[1]} if chosen else {"slice_by": None, "slice": None}


def sync_query(**params) -> None:
    """Make the URL show the view: set the given parameters (None removes one); the dataset
    (``ds=``, unless the start file) and the slice (``slice_by=&slice=``) always."""
    for key, value in {**_slice_query(), **params}.items():
        if value is None:
            if key in st.query_params:
                del st.query_params[key]
        else:
            # always written: the URL this run started from can be older than the browser's
            # when reruns overlap, so comparing with it could skip a needed update
            st.query_params[key] = str(value)
    source = st.session_state.get("source")
    if source is not None and source != start_source():
        if st.query_params.get("ds") != source.key:
            st.query_params["ds"] = source.key
