"""Every page's frame: set-up, notices in the main area, the sidebar drawn after the content, stopping."""

from __future__ import annotations

import socket
import threading

import streamlit as st

from evaldash.errors import InputError
from evaldash.evaluation import Evaluation
from evaldash.ui.active_data import current
from evaldash.ui.components import request_scroll, scroll_into_view
from evaldash.ui.links import sync_query
from evaldash.ui.notices import new_page_run
from evaldash.ui.open_panel import data_panel, empty_panel
from evaldash.ui.sources import Source, run_name
from evaldash.ui.text import md


def _nodelay_on_new_connections() -> None:
    """Send each response at once: set TCP_NODELAY on every connection the server accepts.

    Streamlit's server creates its listening socket with ``socket.socket(family)``, protocol 0,
    and asyncio only sets TCP_NODELAY on sockets whose protocol is ``IPPROTO_TCP``. Without it,
    Nagle's algorithm holds the body of each response on a reused keep-alive connection until the
    browser's delayed ACK, ~40 ms: a new browser session fetches some 50 script files that way
    (six connections), and WebSocket messages wait too. Applies to connections accepted after
    this module is first imported (the first page run).
    """
    from asyncio import base_events

    if getattr(base_events._set_nodelay, "evaldash", False):
        return

    def _set_nodelay(sock) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.type == socket.SOCK_STREAM:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    _set_nodelay.evaldash = True
    base_events._set_nodelay = _set_nodelay


_nodelay_on_new_connections()


def _ensure_navigation() -> None:
    """Run the app through ``app.py``'s ``st.navigation`` even when a deep link is the first request.

    Streamlit treats an app with a ``pages/`` folder as a v1 multipage app until some session
    runs ``st.navigation``; a fresh server whose first request is ``/threshold`` would run the
    page file alone, with file names in the sidebar. Clearing the flag and rerunning executes
    ``app.py``, which then opens the requested page.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def page_setup(title: str) -> Evaluation:
    """Every page starts here: the active evaluation, the data panel and the title."""
    _ensure_navigation()
    # A run is an "entry" when the page differs from the last run's: only then does the URL
    # decide the view (a deep link); afterwards the widgets decide and the URL follows them.
    # An entry lasts until one run of the page completes: a first run cut short by a rerun (a
    # component's first value, a quick click) would otherwise leave the link's later values unread.
    entered = st.session_state.get("_page") != title or st.session_state.get("_entering", False)
    st.session_state["_entered"] = st.session_state["_entering"] = entered
    st.session_state["_page"] = title
    evaluation = current()
    if evaluation is None:
        _nothing_loaded(title)
    sync_query()  # every URL names the data it shows (ds=) unless it is the start file
    _this_run.panel = evaluation  # drawn after the page's own content: see sidebar()
    st.title(title)
    _main_notices(title)
    return evaluation


def _nothing_loaded(title: str) -> None:
    """Stop the page when the file given at start did not load: its error in the main area, no data
    (never a sample in its place), and the sidebar's ways to open a file."""
    st.title(title)
    with st.container(key="main_start_error"):
        st.error(f"{md(st.session_state['start_error'])}  \nNo data is loaded. Fix the file and reload "
                 "the page, or open a file in the sidebar (“Open another file…”).", icon=":material/error:")
    empty_panel()
    st.stop()


def _dismiss_load_error() -> None:
    st.session_state.pop("load_error", None)


def _main_notices(title: str) -> None:
    """Say at the top of the main area what the sidebar did, where the user is looking: that another
    file is now shown (until the page changes), or that a file could not be opened (until dismissed)."""
    source: Source = st.session_state["source"]
    before = st.session_state.get("_shown_source")
    st.session_state["_shown_source"] = source.key
    if before is not None and before != source.key:
        st.session_state["_switched"] = (source.key, title)
        request_scroll("main_switched")  # the main area may be scrolled far down the old file's page
    if st.session_state.get("_switched") == (source.key, title):
        with st.container(key="main_switched"):
            st.info(f"Now showing {md(run_name(source))}.", icon=":material/swap_horiz:")
            scroll_into_view("main_switched")
    else:
        st.session_state.pop("_switched", None)
    error = st.session_state.get("load_error")
    if error != st.session_state.get("_shown_error"):  # a new error: bring it into view once
        st.session_state["_shown_error"] = error
        if error:
            request_scroll("main_load_error")
    if error:
        with st.container(key="main_load_error"):
            st.error(f"{md(error)}  \nStill showing {md(run_name(source))}.", icon=":material/error:")
            st.button("Dismiss", key="dismiss_load_error", on_click=_dismiss_load_error)  # full label at any width
            scroll_into_view("main_load_error")


_this_run = threading.local()  # each session's script runs in its own thread


def run_page(page) -> None:
    """Run ``page`` (app.py's ``st.navigation`` choice), then draw its sidebar (:func:`sidebar`)."""
    from streamlit.runtime.scriptrunner_utils.exceptions import StopException

    _this_run.panel = None
    new_page_run()
    try:
        page.run()
        st.session_state["_entering"] = False
    except StopException:  # st.stop(): a complete run too
        st.session_state["_entering"] = False
        raise
    except Exception as exc:  # a view the file's engine refuses, or its own failure: one line, not a traceback
        if not _engine_line(exc):
            raise
        st.session_state["_entering"] = False
    finally:
        sidebar()


def _engine_line(exc: Exception) -> bool:
    """Show ``exc`` in one line (with the sample button on an engine) when it is an :class:`InputError`
    or an engine's own error (out of memory, a file changed under it); False for anything else."""
    from evaldash.ui.engine_gate import engine_error
    from evaldash.ui.engine_sources import engine_failure, failure_text, on_engine

    evaluation = getattr(_this_run, "panel", None)
    if evaluation is None:
        return False
    if not isinstance(exc, InputError):
        engine = on_engine(evaluation)
        if engine is None or not engine_failure(exc):
            return False
        exc = InputError(failure_text(exc, engine))
    engine_error(evaluation, exc, key="engine_sample_page")
    return True


def sidebar() -> None:
    """The data panel of the page being run, drawn once, after the page's content.

    A new browser session loads the code of each kind of element when it first sees one, and the
    server serves those files while it sends the page: the sidebar's widgets (text boxes, file
    uploaders, toggles) would otherwise be requested first and delay the page's own elements.
    Pages that stop early call :func:`stop`, which draws it first.
    """
    evaluation = getattr(_this_run, "panel", None)
    _this_run.panel = None
    if evaluation is not None:
        data_panel(evaluation)


def stop() -> None:
    """``st.stop()`` after drawing the sidebar (nothing can be drawn once a stop is requested)."""
    # a stopped run is a complete run: the entry ends here, before the stop (with Streamlit 1.67
    # run_page's StopException handler is not reached, so a page that stopped stayed "entered" and
    # re-applied its deep link on every rerun, undoing the user's widget changes)
    st.session_state["_entering"] = False
    sidebar()
    st.stop()


def need_scores(evaluation: Evaluation, without: str) -> None:
    """Stop a page that needs per-class scores when the file has none, saying what is missing
    (``without``: e.g. "there is no threshold to choose")."""
    if not evaluation.dataset.has_scores:
        st.warning(f"This file has predictions but no per-class scores, so {without}. Add score columns "
                   "(score_<class>) to use this page.")
        stop()

