"""The sidebar's data panel: what is loaded, and opening a sample, a path on the server or an upload."""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import streamlit as st

from evaldash.errors import InputError
from evaldash.evaluation import Evaluation
from evaldash.limits import current as upload_limits
from evaldash.roots import TURNED_OFF
from evaldash.uploads import UploadFolders, remove_stopped_servers, save_upload, server_folder
from evaldash.ui.annotation_panel import annotator_panel, export_panel
from evaldash.ui.links import active_slice, set_slice
from evaldash.ui.sources import SAMPLES, Source, _activate, app_args, data_roots, load, run_name, runs
from evaldash.ui.text import md

UPLOAD_DIR = Path(os.environ.get("EVALDASH_UPLOAD_DIR", Path(tempfile.gettempdir()) / "evaldash-uploads"))

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
        on_engine = app_args().engine != "memory"  # an engine also opens a folder of Parquet files or a glob
        # a file outside the roots is never opened, so never quoted
        real = (roots.resolve_set(path) if on_engine else roots.resolve(path)) if path else None
        images_root = roots.resolve_folder(images) if images else None  # nor are images read outside them
    except InputError as exc:
        st.session_state["load_error"] = str(exc)
        return
    positive = (st.session_state.get("positive_input") or "").strip() or None
    if real is None:  # an images root alone: the file open now, its images read from there
        source = replace(active, images_root=images_root, positive=positive or active.positive,
                         images_by_name=False)
    else:  # on the server's engine (--engine), as the start files
        args = app_args()
        source = Source(real, positive=positive, images_root=images_root, engine=args.engine,
                        memory_limit=args.memory_limit, spark_master=args.spark_master)
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
                   + (" · multi-label" if evaluation.task == "multilabel" else "")
                   + (f" · positive class: {md(d.classes[d.positive])}" if d.is_binary else ""))
        if source.engine != "memory":
            from evaldash.ui.engine_sources import engine_caption

            st.caption(engine_caption(source, evaluation))
        if source.images_root and getattr(d, "images_root", None):  # the root chosen, as it resolved
            st.caption(f"Images root: {md(d.images_root)}")
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
        _open_controls(showing)


def empty_panel() -> None:
    """Sidebar when no file is loaded (the start file did not load): the ways to open one."""
    with st.sidebar:
        st.markdown("**Data**  \nNo file loaded")
        showing = bool(st.session_state.get("_open_panel"))
        if "load_error" in st.session_state and not showing:
            st.error(md(st.session_state["load_error"]), icon=":material/warning:")
        _open_controls(showing)


def _open_controls(showing: bool) -> None:
    """The "Open another file…" button and, when open, the sample, path and upload it offers."""
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
                              help="A predictions file (on an engine, also a folder of Parquet files or a "
                                   "glob such as parts/*.parquet) inside one of these folders: "
                                   + ", ".join(md(f) for f in roots.folders))
                st.text_input("Positive class (binary, optional)", key="positive_input")
                st.text_input("Images root (optional)", key="images_root_input", placeholder="/data/images",
                              help="The folder the file's images are in, inside the same folders. Relative "
                                   "image paths are read from the file's folder, then from it. With no path "
                                   "above, it applies to the file open now.")
                st.button("Open path", key="open_path", on_click=_open_path)
            st.divider()
            st.file_uploader("Upload predictions (CSV, TSV, Parquet, JSONL)", key="upload",
                             type=["csv", "tsv", "gz", "parquet", "pq", "jsonl", "ndjson"])
            st.file_uploader("Images for the upload (zip, optional)", key="upload_images", type=["zip"])
            st.button("Open upload", key="open_upload", on_click=_open_upload)


def _toggle_open_panel() -> None:
    st.session_state["_open_panel"] = not st.session_state.get("_open_panel")
