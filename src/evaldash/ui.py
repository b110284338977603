"""The one Streamlit-facing module of the package: caching, session state, data panel, galleries.

Pages import from here; the computation they show lives in the Streamlit-free core.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import copy
import functools
import gc
import hashlib
import json
import logging
import math
import os
import re
import shutil
import socket
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import streamlit as st

from evaldash import figures
from evaldash.annotations import BUILTIN_TAGS, AnnotationStore, StoreError, database_url
from evaldash.app_config import add_auth_args
from evaldash.dataset import load_predictions
from evaldash.errors import InputError
from evaldash.evaluation import Evaluation, evaluate, with_corrected_labels
from evaldash.images import full_image, thumbnail
from evaldash.limits import current as upload_limits
from evaldash.metadata import value_text
from evaldash.roots import TURNED_OFF, DataRoots, default_roots
from evaldash.run_names import distinct_names
from evaldash.store_access import StoreOpener
from evaldash.uploads import UploadFolders, remove_stopped_servers, save_upload, server_folder

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = {
    "Digits: 10 classes": ROOT / "sample_data" / "digits" / "predictions.csv",
    "Digits: three vs rest (binary)": ROOT / "sample_data" / "digits" / "binary_three.csv",
    "Digits: a weaker model (to compare)": ROOT / "sample_data" / "digits" / "predictions_weaker.csv",
}
PAGE_SIZE = 24
GRID_COLUMNS = 6
UPLOAD_DIR = Path(os.environ.get("EVALDASH_UPLOAD_DIR", Path(tempfile.gettempdir()) / "evaldash-uploads"))


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


@dataclass(frozen=True)
class Source:
    """Where a dataset comes from and how to read it."""

    path: str
    positive: str | None = None
    images_root: str | None = None
    label: str = ""
    images_by_name: bool = False  # an upload: images not at their path are matched by file name in its zip

    @property
    def key(self) -> str:
        raw = f"{self.path}\x1f{self.positive}\x1f{self.images_root}"
        return hashlib.sha1(raw.encode()).hexdigest()[:10]

    @property
    def name(self) -> str:
        return self.label or Path(self.path).name


def app_args() -> argparse.Namespace:
    """The app's own command line, after ``--``: PATH, ``--positive``, ``--images-root``, ``--db``."""
    # streamlit sets sys.argv to [app.py, args after --]; under a test runner it is the runner's
    argv = tuple(sys.argv[1:]) if Path(sys.argv[0]).name == "app.py" else ()
    return copy.deepcopy(_parse_app_args(argv))  # a copy: callers may change it


@functools.lru_cache(maxsize=8)
def _parse_app_args(argv: tuple[str, ...]) -> argparse.Namespace:
    """Parsed once per command line (an ArgumentParser costs milliseconds on every page run)."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("paths", nargs="*")
    parser.add_argument("--predictions", action="append", default=[])
    parser.add_argument("--positive")
    parser.add_argument("--images-root")
    parser.add_argument("--db")
    parser.add_argument("--data-root", action="append", default=[])
    parser.add_argument("--no-server-paths", action="store_true")
    parser.add_argument("--gates")
    add_auth_args(parser)
    args, _ = parser.parse_known_args(list(argv))
    args.paths = [*args.paths, *args.predictions]
    return args


def start_sources() -> list[Source]:
    """The files named after ``--`` (several allowed, also as ``--predictions``), else
    ``EVALDASH_PREDICTIONS``, else the bundled sample."""
    args = app_args()
    paths = args.paths or ([os.environ["EVALDASH_PREDICTIONS"]] if os.environ.get("EVALDASH_PREDICTIONS") else [])
    if paths:
        return [Source(str(Path(p).resolve()), args.positive, args.images_root) for p in paths]
    first = next(iter(SAMPLES))
    return [Source(str(SAMPLES[first]), label=first)]


def data_roots() -> DataRoots | None:
    """The folders whose files the sidebar's "Path on the server" may open (``--data-root``, else
    the folders of the start files and the bundled samples); None with ``--no-server-paths``."""
    args = app_args()
    if args.no_server_paths:
        return None
    if args.data_root:
        return DataRoots.of(args.data_root)
    return default_roots([s.path for s in start_sources()], ROOT / "sample_data")


def start_source() -> Source:
    """The file the dashboard opens first (the first of :func:`start_sources`)."""
    return start_sources()[0]


def runs() -> list[Source]:
    """The files open in this session (models, versions, holdout sets), in the order opened."""
    if "runs" not in st.session_state:
        st.session_state["runs"] = list(dict.fromkeys(start_sources()))
    return st.session_state["runs"]


def run_name(source: Source) -> str:
    """A run's name: as renamed on /runs, else its label or the shortest tail of its path that
    tells it apart from the other open runs (:func:`evaldash.run_names.distinct_names`)."""
    renamed = st.session_state.get("run_names", {}).get(source.key)
    if renamed:
        return renamed
    open_runs = runs() if source in runs() else [*runs(), source]
    names = distinct_names([r.path for r in open_runs], [r.label for r in open_runs])
    return names[open_runs.index(source)]


@st.cache_resource(max_entries=8, show_spinner=False)
def _evaluation(path: str, mtime_ns: int, size: int, positive: str | None,
                images_root: str | None, images_by_name: bool = False) -> Evaluation:
    dataset = load_predictions(path, positive=positive, images_root=images_root, images_by_name=images_by_name)
    evaluation = evaluate(dataset).precompute(background=True)
    # Move every object alive now (modules, the loaded file's objects) out of the garbage
    # collector's view: they live as long as the server, and a full collection that walks them
    # holds the server (and its answers to the browser) for tens of milliseconds each time.
    gc.freeze()
    return evaluation


def load(source: Source) -> Evaluation:
    """The evaluation of ``source``, computed once per file version (keyed by path, mtime, size)."""
    try:
        stat = os.stat(source.path)
    except OSError:
        raise InputError(f"{source.path}: file not found") from None
    return _evaluation(source.path, stat.st_mtime_ns, stat.st_size, source.positive, source.images_root,
                       source.images_by_name)


@st.cache_resource(show_spinner=False)
def _known_sources() -> dict[str, Source]:
    """Sources opened in any session, so a deep link with ``ds=`` reopens the same data."""
    return {}


def _activate(source: Source) -> Evaluation:
    evaluation = load(source)  # raises before anything is replaced
    _known_sources()[source.key] = source
    st.session_state["source"] = source
    if source not in runs():
        runs().append(source)
    return evaluation


def current() -> Evaluation:
    """The active evaluation of this session (opening the start file on first use), with the
    annotators' corrected labels when the sidebar's switch is on."""
    if "source" not in st.session_state:
        wanted = st.query_params.get("ds")
        source = _known_sources().get(wanted) if wanted else None
        try:
            base = _activate(source or start_source())
        except InputError as exc:
            st.session_state["load_error"] = str(exc)
            first = next(iter(SAMPLES))
            base = _activate(Source(str(SAMPLES[first]), label=first))
    else:
        base = load(st.session_state["source"])
    by, value = deep_link("slice_by"), deep_link("slice")
    if by is not None and value is not None:  # a link to a slice (?slice_by=<column>&slice=<value>)
        set_slice(by, value)
    base = _sliced_view(base)
    st.session_state.pop("corrections", None)
    if not st.session_state.get("use_corrected"):
        return base
    state = findings(base)
    corrections = {str(k): v for k, v in state["corrected_label"].items() if v} if len(state) else {}
    if not corrections:
        st.session_state["corrections"] = {"corrected": 0, "unknown": 0, "mistakes_were_label_errors": 0}
        return base
    key = fingerprint(base) + hashlib.sha256(json.dumps(sorted(corrections.items())).encode()).hexdigest()
    evaluation, info = _corrected(base, key, corrections)
    st.session_state["corrections"] = info
    return evaluation


def active_slice() -> tuple[str, str] | None:
    """The (metadata column, slice) the whole dashboard is filtered to, or None."""
    chosen = st.session_state.get("_slice")
    return tuple(chosen) if chosen else None


def set_slice(column: str | None, value: str | None = None) -> None:
    """Filter every page to one slice (None: show everything)."""
    st.session_state["_slice"] = (column, value) if column and value is not None else None
    if column is None:
        st.session_state.pop("slice_table", None)  # the slices table's selected row would pick it again


def _sliced_view(base: Evaluation) -> Evaluation:
    chosen = active_slice()
    if chosen is None:
        return base
    column, value = chosen
    if column not in base.dataset.metadata.columns:
        set_slice(None)
        return base
    sliced = _slice_evaluation(base, fingerprint(base), column, value)
    if sliced is None:  # a link to a slice this file does not have (or no longer has)
        set_slice(None)
        return base
    return sliced


@st.cache_resource(max_entries=16, show_spinner=False)
def _slice_evaluation(_base: Evaluation, base_fingerprint: str, column: str, value: str) -> Evaluation | None:
    from evaldash.dataset import subset
    from evaldash.slices import slice_rows

    rows = slice_rows(_base.dataset, column, value)
    if not len(rows):
        return None
    evaluation = evaluate(subset(_base.dataset, rows, f"{column} = {value}")).precompute(background=True)
    evaluation.memo("fingerprint", lambda e: base_fingerprint)  # findings stay those of the whole file
    return evaluation


@st.cache_resource(max_entries=8, show_spinner=False)
def _corrected(_base: Evaluation, key: str, corrections: dict[str, str]) -> tuple[Evaluation, dict]:
    # keyed by the base file (its fingerprint) and the corrections' hash; the findings stay
    # those of the file as given, so the corrected view keeps the base fingerprint
    dataset, info = with_corrected_labels(_base.dataset, corrections)
    evaluation = evaluate(dataset).precompute(background=True)
    base_fingerprint = fingerprint(_base)
    evaluation.memo("fingerprint", lambda e: base_fingerprint)
    return evaluation, info


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


# --- the data panel ----------------------------------------------------------

VIEW_WIDGETS = ("class_select", "threshold_t", "threshold_exact", "confidence_threshold", "err_true",
                "err_pred", "err_gallery", "cm_classes")


def _open(source: Source) -> None:
    try:
        _activate(source)
        st.session_state.pop("load_error", None)
        st.session_state["_open_panel"] = False  # the sidebar's ways to open a file close once one opens
        st.session_state.pop("cell", None)
        for key in VIEW_WIDGETS:  # class indices and thresholds of the old data mean nothing here
            st.session_state.pop(key, None)
    except InputError as exc:
        st.session_state["load_error"] = str(exc)
    except Exception:  # a file the loader has no message for: say so, keep what is loaded
        logging.getLogger("evaldash").exception("opening %s", source.path)
        st.session_state["load_error"] = (f"{source.name}: could not be read as a predictions file (the reason is "
                                          "in the server's log); expected a file as described in the README's "
                                          "'The predictions file'. What was loaded stays open.")


def _switch_run() -> None:
    key = st.session_state.get("active_run")
    chosen = next((r for r in runs() if r.key == key), None)
    if chosen is not None and chosen != st.session_state.get("source"):
        _open(chosen)


def _open_sample() -> None:
    label = st.session_state.get("sample_pick")
    if label:
        _open(Source(str(SAMPLES[label]), label=label))


def _open_path() -> None:
    roots = data_roots()
    if roots is None:  # the field is not drawn, but a callback can still be sent
        st.session_state["load_error"] = TURNED_OFF
        return
    path = (st.session_state.get("path_input") or "").strip()
    images = (st.session_state.get("images_root_input") or "").strip()
    active = st.session_state.get("source")
    if not path and not (images and active is not None):
        st.session_state["load_error"] = "Type the path of a predictions file on the server first."
        return
    try:
        real = roots.resolve(path) if path else None  # a file outside the roots is never opened, so never quoted
        images_root = roots.resolve_folder(images) if images else None  # nor are images read outside them
    except InputError as exc:
        st.session_state["load_error"] = str(exc)
        return
    positive = (st.session_state.get("positive_input") or "").strip() or None
    if real is None:  # an images root alone: the file open now, its images read from there
        source = replace(active, images_root=images_root, positive=positive or active.positive,
                         images_by_name=False)
    else:
        source = Source(real, positive=positive, images_root=images_root)
    _open(source)
    if "load_error" not in st.session_state:  # the same file opened before with other images: one run
        runs()[:] = [r for r in runs() if r == source or (r.path, r.positive) != (source.path, source.positive)]


_UPLOAD_FOLDERS = UploadFolders()  # not a cached resource: clearing the caches must not forget them


@atexit.register
def _remove_uploads() -> None:  # on a normal exit; after a signal, the next server's sweep does it
    _UPLOAD_FOLDERS.sweep(())
    shutil.rmtree(server_folder(UPLOAD_DIR), ignore_errors=True)


def _upload_folders() -> UploadFolders:
    """The upload folders of this server and the sessions using each (all removed at exit)."""
    return _UPLOAD_FOLDERS


def _session_id() -> str:
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else ""


def _live_sessions() -> set[str] | None:
    """Ids of this server's sessions, connected or waiting to reconnect; None when unknown (no
    server runtime, as under AppTest)."""
    from streamlit.runtime import Runtime

    if not Runtime.exists():
        return None
    try:  # Streamlit has no public list of sessions; this is the runtime's own session manager
        return {info.session.id for info in Runtime.instance()._session_mgr.list_sessions()}
    except AttributeError:
        return None


def _sweep_uploads() -> None:
    """Remove the upload folders that no live session uses."""
    live = _live_sessions()
    if live is not None:
        _upload_folders().sweep(live | {_session_id()})
    remove_stopped_servers(UPLOAD_DIR)


def _open_upload() -> None:
    upload = st.session_state.get("upload")
    if upload is None:
        st.session_state["load_error"] = "Choose a predictions file to upload first."
        return
    images = st.session_state.get("upload_images")
    folders, session = _upload_folders(), _session_id()
    try:
        saved = save_upload(server_folder(UPLOAD_DIR), upload.name, upload.getvalue(),
                            images.getvalue() if images is not None else None,
                            images.name if images is not None else None, upload_limits(), folders, session)
    except InputError as exc:  # what was loaded stays
        st.session_state["load_error"] = str(exc)
        _sweep_uploads()
        return
    source = Source(str(saved.path), label=f"{saved.path.name} (upload)", images_by_name=True)
    _open(source)
    error = st.session_state.get("load_error", "")
    if error:
        folders.release(saved.folder, session)
    if error.startswith(str(saved.path)):  # name the upload, not where the server keeps it
        st.session_state["load_error"] = saved.path.name + error[len(str(saved.path)):]
    elif not error and images is not None:
        check = load(source).dataset.image_check
        matched = check.matched() if check is not None else ""
        text = " ".join(t for t in (saved.notice(Path(images.name).name), matched) if t)
        if text:  # zip members left out are a warning; images matched by file name, news
            st.session_state["upload_notice"] = (source.key, text, bool(saved.skipped))
    _sweep_uploads()


def data_panel(evaluation: Evaluation) -> None:
    """Sidebar: what is loaded, its warnings, and ways to open another file."""
    d = evaluation.dataset
    source: Source = st.session_state["source"]
    with st.sidebar:
        open_runs = runs()
        if len(open_runs) > 1:
            st.markdown("**Data**")
            st.session_state["active_run"] = source.key
            names = {r.key: run_name(r) for r in open_runs}  # once per run, not per option
            st.selectbox("Active file (every page shows it)", [r.key for r in open_runs], format_func=names.get,
                         key="active_run", on_change=_switch_run)
        else:
            st.markdown(f"**Data**  \n{md(run_name(source))}")  # one element: a first view draws each
        st.caption(f"{d.n:,} samples · {d.n_classes} classes"
                   + (f" · positive class: {md(d.classes[d.positive])}" if d.is_binary else ""))
        showing = bool(st.session_state.get("_open_panel"))  # the ways to open a file (below)
        if "load_error" in st.session_state and not showing:  # else at the head of the panel
            st.error(md(st.session_state["load_error"]), icon=":material/warning:")
        notice = st.session_state.get("upload_notice")
        if notice and notice[0] == source.key:  # zip members of this upload left out, images matched by name
            if notice[2]:
                st.warning(md(notice[1]), icon=":material/warning:")
            else:
                st.info(md(notice[1]), icon=":material/image:")
        chosen = active_slice()
        if chosen is not None:
            st.info(f"Showing only the slice **{md(chosen[0])} = {md(chosen[1])}** ({d.n:,} samples).", icon=":material/filter_alt:")
            st.button("Show all samples", key="clear_slice", on_click=set_slice, args=(None,), width="stretch")
        warnings = evaluation.warnings()
        if warnings:
            with st.expander(f"{len(warnings)} load warning{'s' if len(warnings) > 1 else ''}"):
                for w in warnings:
                    st.text(w)
        annotator_panel()
        export_panel(evaluation)
        # drawn only when asked for: a dozen widgets and two file uploaders would otherwise be
        # drawn (and their code loaded by the browser) on every first view of every page
        st.button("Close “Open another file”" if showing else "Open another file…", key="open_file",
                  on_click=_toggle_open_panel, width="stretch",
                  help="A bundled sample, a path on the server, or an upload (with a zip of its images).")
        if showing:
            with st.container(border=True, key="open_panel"):
                if "load_error" in st.session_state:
                    st.error(md(st.session_state["load_error"]), icon=":material/warning:")
                st.selectbox("Bundled sample", list(SAMPLES), key="sample_pick")
                st.button("Open sample", key="open_sample", on_click=_open_sample)
                roots = data_roots()
                if roots is not None:
                    st.divider()
                    st.text_input("Path on the server", key="path_input", placeholder="/data/predictions.parquet",
                                  help="A predictions file inside one of these folders: "
                                       + ", ".join(md(f) for f in roots.folders))
                    st.text_input("Positive class (binary, optional)", key="positive_input")
                    st.text_input("Images root (optional)", key="images_root_input", placeholder="/data/images",
                                  help="The folder the file's images are in, inside the same folders. Relative "
                                       "image paths are read from the file's folder, then from it. With no path "
                                       "above, it applies to the file open now.")
                    st.button("Open path", key="open_path", on_click=_open_path)
                st.divider()
                st.file_uploader("Upload predictions (CSV, Parquet, JSONL)", key="upload",
                                 type=["csv", "gz", "parquet", "pq", "jsonl", "ndjson"])
                st.file_uploader("Images for the upload (zip, optional)", key="upload_images", type=["zip"])
                st.button("Open upload", key="open_upload", on_click=_open_upload)


def _toggle_open_panel() -> None:
    st.session_state["_open_panel"] = not st.session_state.get("_open_panel")


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
    sync_query()  # every URL names the data it shows (ds=) unless it is the start file
    _this_run.panel = evaluation  # drawn after the page's own content: see sidebar()
    st.title(title)
    _main_notices(title)
    return evaluation


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
    try:
        page.run()
        st.session_state["_entering"] = False
    except StopException:  # st.stop(): a complete run too
        st.session_state["_entering"] = False
        raise
    finally:
        sidebar()


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
    sidebar()
    st.stop()


def need_scores(evaluation: Evaluation, without: str) -> None:
    """Stop a page that needs per-class scores when the file has none, saying what is missing
    (``without``: e.g. "there is no threshold to choose")."""
    if not evaluation.dataset.has_scores:
        st.warning(f"This file has predictions but no per-class scores, so {without}. Add score columns "
                   "(score_<class>) to use this page.")
        stop()


# --- galleries -----------------------------------------------------------------

def _caption(evaluation: Evaluation, row: int, findings: pd.DataFrame | None = None) -> str:
    d = evaluation.dataset
    conf = evaluation.confidence[row]
    conf_text = f" · {conf:.3f}" if np.isfinite(conf) else ""
    text = f"{d.ids[row]} · true {d.classes[d.y_true[row]]} → {d.classes[d.y_pred[row]]}{conf_text}"
    sid = str(d.ids[row])
    if findings is not None and sid in findings.index:
        f = findings.loc[sid]
        if f["tags"]:
            text += " · tags: " + ", ".join(f["tags"])
        if f["corrected_label"]:
            text += f" · label → {f['corrected_label']}"
        if f["note"]:
            text += " · note"
    return md(text)  # st.image renders its caption as Markdown: ids, classes and tags show as typed


def gallery(evaluation: Evaluation, rows: np.ndarray, total: int, key: str, page: int,
            found: pd.DataFrame | None = None) -> None:
    """Thumbnails of ``rows`` (already the current page) in a grid, each with a details button."""
    d = evaluation.dataset
    paths = d.image_paths
    found = findings(evaluation) if found is None else found  # pages that read the findings pass them
    for start in range(0, len(rows), GRID_COLUMNS):
        cols = st.columns(GRID_COLUMNS)
        for col, row in zip(cols, rows[start:start + GRID_COLUMNS]):
            row = int(row)
            with col:
                # PNG bytes made once per image; output_format keeps Streamlit from re-encoding
                # them as JPEG on every rerun
                st.image(thumbnail(paths[row] if paths is not None else None, root=d.images_root),
                         caption=_caption(evaluation, row, found),
                         width="stretch", output_format="PNG")
                if st.button("Details", key=f"{key}_detail_{row}", width="stretch"):
                    st.session_state["_detail_nav"] = [row, row]
                    detail_dialog(evaluation, row, rows)


def pair_gallery(a: Evaluation, b: Evaluation, rows: np.ndarray, rows_b: np.ndarray, key: str) -> None:
    """Thumbnails of A's ``rows`` with both models' answers; ``rows_b[row]`` is the same sample in B."""
    d, db = a.dataset, b.dataset
    paths = d.image_paths
    for start in range(0, len(rows), GRID_COLUMNS):
        cols = st.columns(GRID_COLUMNS)
        for col, row in zip(cols, rows[start:start + GRID_COLUMNS]):
            row, rb = int(row), int(rows_b[int(row)])
            ca, cb = a.confidence[row], b.confidence[rb]
            caption = (f"{d.ids[row]} · true {d.classes[d.y_true[row]]} · A {d.classes[d.y_pred[row]]}"
                       + (f" ({ca:.2f})" if np.isfinite(ca) else "")
                       + f" · B {db.classes[db.y_pred[rb]]}" + (f" ({cb:.2f})" if np.isfinite(cb) else ""))
            with col:
                st.image(thumbnail(paths[row] if paths is not None else None, root=d.images_root), caption=md(caption),
                         width="stretch", output_format="PNG")
                if st.button("Details (B)", key=f"{key}_detail_{row}", width="stretch"):
                    st.session_state["_detail_nav"] = [rb, rb]
                    detail_dialog(b, rb)


def pager(key: str, total: int, page_size: int = PAGE_SIZE) -> int:
    """A page picker for ``total`` items; returns the 0-based page."""
    pages = max(1, -(-total // page_size))
    state_key = f"{key}_page"
    if st.session_state.get(state_key, 1) > pages:
        st.session_state[state_key] = 1
    if pages > 1:
        st.number_input(f"Page (of {pages})", min_value=1, max_value=pages, step=1, key=state_key,
                        width=160)
    return int(st.session_state.get(state_key, 1)) - 1


def image_notice(evaluation: Evaluation) -> None:
    """Where a gallery is: one line on the images that cannot be shown and how to show them, or
    on an upload's images matched by file name; nothing when every image is shown."""
    check = evaluation.dataset.image_check
    if check is None:
        return
    if check.not_shown:
        st.warning(md(f"{check.problem()} {check.fix(_images_root_ways(check))}"))
    elif check.by_name:
        st.caption(md(check.matched()))


def _images_root_ways(check) -> str:
    """Where this server lets the images root be set, for :meth:`ImageCheck.fix`."""
    roots = data_roots()
    if roots is None:
        return "--images-root DIR at start"
    if check.suggested_root is not None and not roots.contains(os.path.realpath(check.suggested_root)):
        return "--images-root DIR at start (the sidebar's Images root takes only folders in the data roots)"
    return "Images root under Open another file… in the sidebar, or --images-root DIR"


# Saving reruns only the dialog: closing it reruns the page, so the gallery under it shows what
# was saved (the sample's tags and note in its caption) at once
@st.dialog("Sample details", width="large", on_dismiss="rerun")
def detail_dialog(evaluation: Evaluation, row: int, rows=None) -> None:
    """One sample: its picture, facts, scores and findings; with ``rows`` (the gallery's rows, in
    its order), Previous / Next move through them inside the dialog.

    Opened from a gallery, the dialog reruns alone (a fragment) on Previous / Next, with the
    arguments it was opened with: the sample shown is kept in ``_detail_nav`` (opened, shown).
    Everything here is of one sample (O(1) in the file's size): no whole-file reads.
    """
    rows = [int(r) for r in rows] if rows is not None else [int(row)]
    nav = st.session_state.get("_detail_nav")
    if not nav or nav[0] != row or nav[1] not in rows:
        nav = st.session_state["_detail_nav"] = [row, row]
    row = nav[1]
    at = rows.index(row)
    if len(rows) > 1:
        prev_col, where_col, next_col = st.columns([1, 2, 1], vertical_alignment="center")
        prev_col.button("Previous", key="detail_prev", icon=":material/chevron_left:", width="stretch",
                        disabled=at == 0, on_click=_detail_step, args=(rows, -1))
        where_col.caption(f"Sample {at + 1} of {len(rows)} on this page of the gallery")
        next_col.button("Next", key="detail_next", icon=":material/chevron_right:", width="stretch",
                        disabled=at == len(rows) - 1, on_click=_detail_step, args=(rows, 1))
    d = evaluation.dataset
    image_notice(evaluation)
    left, right = st.columns([1, 2])
    with left:
        st.image(full_image(d.image_paths[row] if d.image_paths is not None else None, 256, root=d.images_root),
                 width="stretch", output_format="PNG")
    with right:
        conf = evaluation.confidence[row]
        facts = {
            "id": str(d.ids[row]),
            "true class": d.classes[d.y_true[row]],
            "predicted class": d.classes[d.y_pred[row]],
            "confidence": f"{conf:.4f}" if np.isfinite(conf) else "n/a",
        }
        if len(d.metadata.columns):  # one row, as the filters and slices write it: "(missing)", not "nan"
            one = d.metadata.iloc[[row]]
            for name in one.columns:
                facts[str(name)] = value_text(one[name]).iloc[0]
        with st.container(key=f"detail_facts_{row}"):
            st.dataframe(pd.DataFrame({"field": list(facts), "value": list(facts.values())}),
                         hide_index=True, width="stretch")
    if d.has_scores:
        with st.container(key=f"detail_scores_{row}"):
            st.dataframe(sample_scores(evaluation, row), hide_index=True, width="stretch",
                         column_config={"score": st.column_config.ProgressColumn(
                             "score", format="%.4f", min_value=float(min(0.0, d.scores[row].min())),
                             max_value=float(max(1.0, d.scores[row].max())))})
    findings_form(evaluation, row)


def _detail_step(rows: list[int], step: int) -> None:
    nav = st.session_state.get("_detail_nav")
    if nav and nav[1] in rows:
        nav[1] = rows[min(max(rows.index(nav[1]) + step, 0), len(rows) - 1)]


SCORES_SHOWN = 10  # classes in a sample's scores table (the highest; the true class always)


def sample_scores(evaluation: Evaluation, row: int) -> pd.DataFrame:
    """One sample's highest scores (at most :data:`SCORES_SHOWN` classes, and its true class),
    highest first, with what each class is to the sample ("true", "predicted")."""
    d = evaluation.dataset
    scores = np.asarray(d.scores[row], dtype=np.float64)
    top = np.argsort(-scores, kind="stable")[:SCORES_SHOWN].tolist()
    true, pred = int(d.y_true[row]), int(d.y_pred[row])
    shown = top if true in top else [*top[:SCORES_SHOWN - 1], true]
    role = {true: "true", pred: "predicted"} if true != pred else {true: "true, predicted"}
    return pd.DataFrame({"class": [d.classes[c] for c in shown], "score": scores[shown],
                         "is": [role.get(c, "") for c in shown]})


# --- annotations -----------------------------------------------------------------

@st.cache_resource(show_spinner=False)
def _open_store(url: str) -> StoreOpener:
    # the opener, not its outcome, is cached: a database down now is tried again later
    return StoreOpener(url)


def annotation_store() -> AnnotationStore | None:
    """The annotation database of this server (``--db``/``EVALDASH_DB``), or None while it cannot
    be used: the dashboard then works read-only and the sidebar says why, until it is back."""
    store, error = _open_store(database_url(app_args().db)).get()
    if error:
        st.session_state["store_error"] = error
    else:
        st.session_state.pop("store_error", None)
    return store


def fingerprint(evaluation: Evaluation) -> str:
    return evaluation.memo("fingerprint", lambda e: e.dataset.fingerprint())


def findings(evaluation: Evaluation, sample_ids=None) -> pd.DataFrame:
    """The annotators' latest findings for this dataset (empty when the database is unavailable)."""
    store = annotation_store()
    if store is not None:
        try:
            return store.state(fingerprint(evaluation), sample_ids)
        except StoreError as exc:
            st.session_state["store_error"] = str(exc)
    return pd.DataFrame(columns=["tags", "note", "corrected_label", "annotator", "updated_at", "reviewed"])


def tags_in(found: pd.DataFrame) -> list[str]:
    """Every tag used in ``found`` (see :func:`findings`), sorted."""
    return sorted({t for ts in found["tags"] for t in ts}) if len(found) else []


def tagged_mask(dataset, found: pd.DataFrame, tags) -> np.ndarray:
    """Boolean mask of shape (n_samples,): the samples carrying any of ``tags``."""
    wanted = set(tags)
    return id_mask(dataset, [sid for sid, ts in found["tags"].items() if wanted & set(ts)])


def tag_filter(evaluation: Evaluation, found: pd.DataFrame, label: str, key: str) -> tuple[list[str], np.ndarray | None]:
    """A tag picker for a gallery: the chosen tags and the mask of their samples (None: no filter)."""
    options = tags_in(found)
    chosen = st.multiselect(label, options, key=key,
                            placeholder="any sample" if options else "no tags yet in this file")
    return chosen, (tagged_mask(evaluation.dataset, found, chosen) if chosen else None)


NAME_FIRST = "Type your name under Annotations in the sidebar first: every finding records who made it."


def signed_in_user() -> str | None:
    """The logged-in user when the server has a log-in (``--users``, ``--trust-user-header``), else
    None. Only the server's guard sets this header (it strips any a browser sends)."""
    from evaldash.auth import IDENTITY_HEADER, identity_from_header

    return identity_from_header(st.context.headers.get(IDENTITY_HEADER))


def annotator_name() -> str:
    """The logged-in user, else the annotator named in the sidebar ("" when none yet)."""
    who = signed_in_user()
    if who is not None:
        return who
    _remember_annotator()
    return str(st.session_state.get("_annotator") or "").strip()


def approver_input() -> str:
    """The approver of a decision record: the logged-in user, else a text field (typed name)."""
    who = signed_in_user()
    if who is not None:
        st.text(f"Approver: {who}")
        return who
    return st.text_input("Approver", value=annotator_name(), key="dec_approver", placeholder="your name")


def id_mask(dataset, sample_ids) -> np.ndarray:
    """Boolean mask of shape (n_samples,): the rows whose id is in ``sample_ids``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    wanted = pa.array([str(s) for s in sample_ids], type=pa.string())
    return pc.is_in(pa.array(dataset.ids).cast(pa.string()), value_set=wanted).to_numpy(zero_copy_only=False)


def _keep_annotator() -> None:
    st.session_state["_annotator"] = str(st.session_state.get("annotator") or "").strip()


def _remember_annotator() -> None:
    """A new session (a reload, a new tab) starts with the name this browser remembers."""
    from evaldash.annotator_cookie import COOKIE, name_from_cookie

    if "_annotator" not in st.session_state:
        st.session_state["_annotator"] = name_from_cookie(st.context.cookies.get(COOKIE))


def _annotator_cookie(name: str) -> None:
    """Have the browser remember ``name`` (forget it when empty): see :mod:`evaldash.annotator_cookie`."""
    from evaldash.annotator_cookie import COOKIE, MAX_AGE

    st.components.v2.component("evaldash_annotator_cookie", js=(_WEB / "annotator_cookie.js").read_text())(
        key="annotator_cookie", data={"name": name, "cookie": COOKIE, "path": _base_path() or "/", "max_age": MAX_AGE})


def _base_path() -> str:
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}" if base else ""


def annotator_panel() -> None:
    """Sidebar: who is annotating (kept for the session) and where findings are saved."""
    st.markdown("**Annotations**")
    who = signed_in_user()
    if who is not None:  # a log-in names the annotator: no name to type
        st.text(f"Signed in as {who}")
        if app_args().users:  # the server's own log-in (a proxy's is left through the proxy)
            # HTML for target="_self" (a full page load); the only text in it is the operator's base path
            import html

            st.markdown(f'<a href="{html.escape(_base_path())}/_evaldash/logout" target="_self">Log out</a>',
                        unsafe_allow_html=True)
    else:
        # Each page's sidebar has its own widget, which starts empty: the name lives in a plain
        # session key, copied there when typed and given to the widget on every run; the browser
        # remembers it for its next sessions
        _remember_annotator()
        st.session_state["annotator"] = st.session_state.get("_annotator", "")
        st.text_input("Your name (saved with each finding)", key="annotator", placeholder="e.g. Ana",
                      on_change=_keep_annotator)
        _annotator_cookie(st.session_state["_annotator"])
    st.toggle("Use corrected labels", key="use_corrected",
              help="Every metric, the confusion matrix and the curves use the annotators' corrected labels.")
    info = st.session_state.get("corrections")
    if info is not None:
        st.caption(f"{info['corrected']} label{'s' if info['corrected'] != 1 else ''} corrected; "
                   f"{info['mistakes_were_label_errors']} former mistake"
                   f"{'s were' if info['mistakes_were_label_errors'] != 1 else ' was'} label errors"
                   + (f"; {info['unknown']} correction(s) name no class of this file, ignored" if info["unknown"] else ""))
    store = annotation_store()
    if store is None or st.session_state.get("store_error"):
        st.error("Findings cannot be saved, the dashboard is read-only: "
                 + md(st.session_state.get("store_error", "")), icon=":material/warning:")
    else:
        st.caption(f"Saved in {md(store.name)}")


def export_panel(evaluation: Evaluation) -> None:
    """Sidebar: download the findings (CSV, JSON) and the predictions file with ``label_corrected``."""
    from evaldash import annotations as an

    store = annotation_store()
    if store is None:
        return
    source: Source = st.session_state["source"]
    fp = fingerprint(evaluation)
    base = load(source).dataset  # the labels as given, also while corrected labels are in use
    stem = an.file_stem(run_name(source))
    with st.expander("Export findings"):
        # made when asked (reading the predictions file again can take seconds at a million rows),
        # then offered as plain downloads of what was made
        if st.button("Prepare the files", key="export_prepare", width="stretch"):
            state = store.state(fp)
            st.session_state["_exports"] = {
                "fp": fp, "csv": an.export_bytes(state, "csv", fp), "json": an.export_bytes(state, "json", fp),
                "predictions": an.predictions_export_bytes(source.path, base, state), "samples": len(an.export_table(state)),
            }
        made = st.session_state.get("_exports")
        if made and made["fp"] == fp:
            st.caption(f"Findings of {made['samples']} samples, as of when prepared.")
            st.download_button("Annotations (CSV)", made["csv"], file_name=f"{stem}.annotations.csv", mime="text/csv",
                               key="export_csv", width="stretch")
            st.download_button("Annotations (JSON)", made["json"], file_name=f"{stem}.annotations.json",
                               mime="application/json", key="export_json", width="stretch")
            st.download_button("Predictions with label_corrected (CSV)", made["predictions"],
                               file_name=f"{stem}.predictions.csv", mime="text/csv", key="export_predictions",
                               width="stretch")


def findings_form(evaluation: Evaluation, row: int) -> None:
    """Tags, note and corrected label of one sample, saved as new records; its history below."""
    d = evaluation.dataset
    sid = str(d.ids[row])
    store = annotation_store()
    st.markdown("**Findings**")
    if store is None:
        st.info("Findings cannot be saved: " + md(st.session_state.get("store_error", "")))
        return
    mine = findings(evaluation, [sid])
    current = mine.loc[sid] if sid in mine.index else None
    tags = list(current["tags"]) if current is not None else []
    note = current["note"] if current is not None else ""
    label = current["corrected_label"] if current is not None else ""
    known = [t for t in tags_in(findings(evaluation)) if t not in BUILTIN_TAGS]
    labels = ["(no correction)", *d.classes]
    # what was typed when a save failed: shown again, also after the dialog was closed meanwhile
    draft = st.session_state.get(f"_findings_draft_{sid}")
    shown_tags, shown_note, shown_label = (draft["tags"], draft["note"], draft["label"]) if draft else (tags, note, label)
    with st.form(key=f"findings_{row}", border=False):
        options = list(dict.fromkeys([*BUILTIN_TAGS, *known, *shown_tags]))
        new_tags = st.multiselect("Tags (type to add your own)", options, default=shown_tags,
                                  accept_new_options=True, key=f"findings_tags_{row}")
        new_note = st.text_area("Note", value=shown_note, key=f"findings_note_{row}")
        new_label = st.selectbox("Corrected label", labels,
                                 index=labels.index(shown_label) if shown_label in labels else 0,
                                 key=f"findings_label_{row}")
        saved = st.form_submit_button("Save findings", key=f"findings_save_{row}", type="primary")
    if saved:
        who = annotator_name()
        if not who:
            st.warning(NAME_FIRST)
        else:
            new_label = "" if new_label == labels[0] else new_label
            rows = [{"kind": "tag", "value": t} for t in new_tags if t not in tags]
            rows += [{"kind": "untag", "value": t} for t in tags if t not in new_tags]
            if new_note != note:
                rows.append({"kind": "note", "value": new_note})
            if new_label != label:
                rows.append({"kind": "label", "value": new_label})
            try:
                store.record_many([{"dataset": fingerprint(evaluation), "sample_id": sid, "annotator": who, **r}
                                   for r in rows])
                st.session_state.pop(f"_findings_draft_{sid}", None)
                st.success(f"Saved {len(rows)} change{'s' if len(rows) != 1 else ''}." if rows else "Nothing changed.")
            except StoreError as exc:
                # nothing was written: keep what was typed, to save again with one click
                st.session_state[f"_findings_draft_{sid}"] = {"tags": list(new_tags), "note": new_note,
                                                              "label": new_label}
                st.error(md(exc))
    try:
        history = store.history(fingerprint(evaluation), sid)
    except StoreError as exc:
        st.caption("History unavailable: " + md(exc))
        return
    if len(history):
        with st.expander(f"History ({len(history)} record{'s' if len(history) != 1 else ''})"):
            history = history.assign(created_at=[str(t)[:19] for t in history["created_at"]])
            if not (history["original_annotator"] != "").any():
                history = history.drop(columns="original_annotator")  # nothing imported
            st.dataframe(history.rename(columns={"created_at": "when", "annotator": "who", "kind": "what",
                                                 "original_annotator": "original author (imported)"}),
                         hide_index=True, width="stretch")


# every character with a meaning in Streamlit's Markdown: emphasis, links and images, HTML,
# headings and lists, tables, strikethrough, LaTeX, icons (:name:), entities (&lt;), setext (===)
_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_{}[]<>()#+-.!|~$:&="})
# Streamlit's GFM turns web addresses into links, and :material/name: into an icon, whatever the
# escapes: an invisible word joiner inside "://", "www." and ":material" keeps them text
_AUTOLINK = re.compile(r"(?<=:)(?=//|material[/_])|(?<=www)(?=\.)", re.IGNORECASE)
WORD_JOINER = "\u2060"


# --- the live threshold --------------------------------------------------------

_WEB = Path(__file__).resolve().parent / "web"


def _component(name: str, asset: str):
    # registered on every use: cheap, and each Streamlit runtime (also AppTest's) has its own registry
    return st.components.v2.component(name, js=(_WEB / f"{asset}.js").read_text(),
                                      css=(_WEB / f"{asset}.css").read_text())


def request_scroll(target_key: str) -> None:
    """Ask :func:`scroll_into_view` to bring the container ``target_key`` into view on this run
    (call it where a click or a deep link opens that container: once per request, not per rerun)."""
    st.session_state[f"_scroll_{target_key}"] = time.time_ns()


def scroll_into_view(target_key: str) -> None:
    """Scroll the browser to the container of key ``target_key`` when :func:`request_scroll` asked
    for it since the last time (a gallery opened below the fold by a click on a matrix cell)."""
    nonce = st.session_state.get(f"_scroll_{target_key}")
    if nonce:
        st.components.v2.component("evaldash_scroll_into_view", js=(_WEB / "scroll_into_view.js").read_text())(
            key=f"scroll_{target_key}", data={"target": f"st-key-{target_key}", "nonce": str(nonce)})


def _live_component(name: str):
    return _component(name, "live_threshold")


def chart(spec: dict, key: str, on_pick=None) -> None:
    """A chart spec of :mod:`evaldash.figures` drawn in the browser (SVG, no charting library).

    With ``on_pick`` and a spec whose ``pick`` lists an id per point of its first series, a click
    on the chart calls ``on_pick``; :func:`picked` tells which id the nearest point carries."""
    if on_pick is None:
        _live_component("evaldash_chart")(key=key, data={"role": "chart", **spec})
    else:
        _live_component("evaldash_chart")(key=key, data={"role": "chart", **spec}, on_pick_change=on_pick)


def picked(key: str) -> int | None:
    """The id of the chart point just clicked (in a chart's ``on_pick``), else None."""
    state = st.session_state.get(key)
    value = state.get("pick") if isinstance(state, dict) else getattr(state, "pick", None)
    return None if value is None else int(value)


def confusion_grid(values: np.ndarray, counts: np.ndarray, labels: list[str], mode: str,
                   selected: tuple[int, int] | None, row_totals: np.ndarray, on_cell,
                   key: str = "confusion_matrix", cells: dict | None = None, cell_px: int | None = None) -> None:
    """A clickable confusion matrix (default key ``confusion_matrix``): a grid drawn in the browser
    without a charting library. A click calls ``on_cell``; :func:`clicked_cell` tells which cell.
    ``cells`` replaces the cell texts and colours (e.g. :func:`figures.difference_cells`)."""
    cells = cells or figures.confusion_cells(values, counts, mode, row_totals)
    k = len(labels)
    _component("evaldash_confusion_matrix", "confusion_matrix")(
        key=key, on_cell_change=on_cell,
        data={"labels": [str(c) for c in labels], "counts": counts.tolist(), "mode": mode,
              "selected": list(selected) if selected is not None else None, "show_text": k <= 25,
              "cell_px": cell_px or (64 if k <= 6 else 48 if k <= 12 else 36 if k <= 25 else 16), **cells})


def clicked_cell(key: str = "confusion_matrix") -> tuple[int, int] | None:
    """The (row, column) of the grid cell just clicked (in ``on_cell``), else None."""
    state = st.session_state.get(key)
    value = state.get("cell") if isinstance(state, dict) else None
    return (int(value[0]), int(value[1])) if value is not None else None


def set_threshold(evaluation: Evaluation, cls: int, value: float) -> None:
    """Make ``value`` the threshold (``threshold_t``), kept within class ``cls``'s slider range
    (+inf, "flag nothing", becomes the slider's top)."""
    lo, hi, _ = evaluation.slider_range(cls)
    st.session_state["threshold_t"] = min(max(float(value), lo), hi)


def _store_committed_threshold(evaluation: Evaluation, cls: int) -> None:
    # the slider was released: it sends the threshold it landed on
    t = committed_threshold()
    if t is not None and math.isfinite(t):
        set_threshold(evaluation, cls, t)


def live_threshold(evaluation: Evaluation, cls: int, t: float, label: str,
                   slider_box=None, metrics_box=None) -> None:
    """The threshold slider (key ``threshold``) and what follows it (key ``threshold_metrics``).

    The browser gets the core's exact counts at every slider position and the drawn curves
    once, and updates precision, recall, F1, the counts and the operating points on each
    movement of the thumb without the server; the DET curve (:func:`figures.det_curve`) comes with
    each slider position's place on its normal-deviate axes, so its point follows too. On
    release it sends the threshold, which becomes ``threshold_t`` (:func:`set_threshold`).
    ``slider_box``/``metrics_box``: where to put each (containers or columns; default: here, with
    no container of their own: each element is one more for a first view to draw).
    """
    slider_box = slider_box if slider_box is not None else contextlib.nullcontext()
    metrics_box = metrics_box if metrics_box is not None else contextlib.nullcontext()
    live = evaluation.live_threshold(cls, t)
    grid = live["grid"]
    token = f"{id(evaluation)}:{cls}:{repr(float(t)) if live['inserted'] else ''}"
    common = {"token": token, "t": float(t), "index": live["index"], "probability": evaluation.dataset.is_probability}
    with slider_box:
        _live_component("evaldash_threshold_slider")(
            key="threshold", on_commit_change=functools.partial(_store_committed_threshold, evaluation, cls),
            data={**common, "role": "slider", "label": label, "grid": pa.table({"t": grid})})
    # Arrow tables, not DataFrames: pandas' conversion starts a thread pool for each frame (about
    # 90 ms of a new session's first view); the class's curves are built once
    frames = evaluation.memo(("live_tables", cls), lambda e: _curve_tables(e, cls))
    table = {"t": grid, "tp": live["tp"], "fp": live["fp"]}
    det_axis = frames.get("det_axis")  # the memoised dict is shared: read, never pop
    if det_axis is not None:
        # where each slider position puts the point on the DET curve's normal-deviate axes
        with np.errstate(invalid="ignore", divide="ignore"):
            table["det_x"] = figures.det_coordinates(live["fp"] / live["n_neg"], det_axis).astype(np.float32)
            table["det_y"] = figures.det_coordinates(1.0 - live["tp"] / live["n_pos"], det_axis).astype(np.float32)
    rk = evaluation.ranking
    number = lambda v: None if math.isnan(v) else float(v)  # noqa: E731 - JSON has no NaN
    with metrics_box:
        _live_component("evaldash_threshold_metrics")(
            key="threshold_metrics",
            data={**common, "role": "metrics", "class_name": evaluation.dataset.classes[cls],
                  "n_pos": live["n_pos"], "n_neg": live["n_neg"], "auc": number(rk["roc_auc"][cls]),
                  "ap": number(rk["average_precision"][cls]), "det_axis": det_axis,
                  "ticks": {"unit": figures.nice_ticks(0.0, 1.0),
                            "threshold": figures.nice_ticks(float(grid[0]), float(grid[-1]))},
                  "grid": pa.table(table), **{k: v for k, v in frames.items() if k != "det_axis"}})


def _curve_tables(evaluation: Evaluation, cls: int) -> dict:
    """The drawn curves of class ``cls`` as Arrow tables for the live threshold (built once):
    ROC, PR, metrics against the threshold, the macro averages, the DET curve and its axis."""
    c = evaluation.class_curves(cls)
    out = {
        "roc": pa.table({"fpr": c["roc_fpr"], "tpr": c["roc_tpr"], "threshold": c["roc_threshold"]}),
        "pr": pa.table({"recall": c["pr_recall"], "precision": c["pr_precision"], "threshold": c["pr_threshold"]}),
        "thr": pa.table({k: c[k] for k in ("threshold", "precision", "recall", "f1")}),
    }
    avg = evaluation.average_curves if not evaluation.dataset.is_binary else {}
    if avg:
        out["avg"] = pa.table({"grid": avg["roc macro-average"][0], "tpr": avg["roc macro-average"][1],
                               "precision": avg["pr macro-average"][1]})
    det = evaluation.memo(("det", cls), lambda e: figures.det_curve(*e.sweep(cls).roc()))
    if det is not None:
        out["det"] = pa.table({k: det[k].astype(np.float32) for k in ("x", "y", "fpr", "fnr", "threshold")})
        out["det_axis"] = det["axis"]
    return out


def threshold_choice(evaluation: Evaluation) -> tuple[int, float, float, float]:
    """The class (key ``class_select``) and threshold (``threshold_t``) a threshold page starts from,
    shared by ``/threshold`` and ``/decision``: the last ones chosen on this dataset, or those of a
    deep link ``?class=<name>&t=<value>`` when the page is entered, the threshold kept within the
    class's slider range. Returns (class, low, high, step) of that range; ``threshold_t`` is set."""
    d = evaluation.dataset
    default_class = d.positive if d.positive is not None else 0
    remember("class_select", default_class)
    if st.session_state["class_select"] not in range(d.n_classes):
        st.session_state["class_select"] = default_class
    link_class, link_t = deep_link("class"), deep_link("t")
    if link_class in d.classes:
        st.session_state["class_select"] = d.classes.index(link_class)
    c = st.session_state["class_select"]
    lo, hi, step = evaluation.slider_range(c)
    t0 = kept("threshold_t", 0.5 if d.is_probability else 0.0)
    try:
        if link_t is not None and math.isfinite(float(link_t)):
            t0 = float(link_t)
    except ValueError:
        pass
    st.session_state["threshold_t"] = min(max(float(t0), lo), hi) if math.isfinite(float(t0)) else hi
    return c, lo, hi, step


def committed_threshold() -> float | None:
    """The threshold the slider sent on release (in its commit callback), else None."""
    state = st.session_state.get("threshold")
    value = getattr(state, "commit", None) if state is not None else None
    if value is None and isinstance(state, dict):
        value = state.get("commit")
    return None if value is None else float(value)


def md(text) -> str:
    """Escape a class name or value so Markdown shows it as typed (as text: no link, image, icon
    or HTML); web addresses and icon names get an invisible :data:`WORD_JOINER`."""
    return _AUTOLINK.sub(WORD_JOINER, str(text)).translate(_MD_SPECIAL)


def class_label(evaluation: Evaluation):
    """A ``format_func`` that shows class indices as their names."""
    classes = evaluation.dataset.classes
    return lambda i: classes[i]
