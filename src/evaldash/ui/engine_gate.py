"""What a page says where its view cannot run on the file's engine: one line, and a button that opens
a sample of the file's rows in memory (where every page works)."""

from __future__ import annotations

import hashlib
import os
import uuid
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import streamlit as st

from evaldash.errors import InputError
from evaldash.ui.engine_sources import SAMPLE_ROWS, file_version, on_engine
from evaldash.ui.sources import Source, run_name
from evaldash.ui.text import md

SAMPLE_LABEL = f"Open a sample of {SAMPLE_ROWS:,} rows in memory"


def engine_line(evaluation, what: str, key: str = "engine_sample", source: Source | None = None) -> None:
    """One line saying that ``what`` does not run on the file's engine, and the button opening a
    sample of ``source`` (default: the active run, whose evaluation is ``evaluation``)."""
    name = on_engine(evaluation) or "this"
    with st.container(key=f"{key}_line", horizontal=True, vertical_alignment="center"):
        st.caption(f"{md(what)} not available on the {md(name)} engine (this needs every row in memory).",
                   width="content")
        sample_button(evaluation, key, source)


def cell_table_line(evaluation) -> None:
    """One line while the cell galleries' sorted table is being built after the first view (DuckDB,
    :func:`evaldash.engines.cells.status`): how far it got, and that a page is read from the file
    meanwhile (slower); nothing once it is ready, or in memory."""
    if on_engine(evaluation) is None:
        return
    from evaldash.engines.cells import status

    text = status(evaluation)
    if text:
        st.caption(md(text), help="Built once for every session, on a second connection to the engine: "
                                  "the other pages answer meanwhile.")


def engine_error(evaluation, exc: InputError, key: str = "engine_sample") -> None:
    """An engine's :class:`InputError` as one line (never a traceback), with the sample button."""
    with st.container(key=f"{key}_error", horizontal=True, vertical_alignment="center"):
        st.caption(md(" ".join(str(exc).split())), width="content")
        if on_engine(evaluation):
            sample_button(evaluation, key)


def sample_button(evaluation, key: str = "engine_sample", source: Source | None = None) -> None:
    n = file_rows(evaluation)
    label = SAMPLE_LABEL if n > SAMPLE_ROWS else f"Open its {n:,} rows in memory"
    if n != evaluation.dataset.n:  # a view (a slice) of the file: the sample is of the whole file
        label = label.replace("Open its", "Open the file's") + " (the view applies to them)"
    st.button(label, key=key, on_click=open_sample, args=(source or st.session_state["source"], evaluation))


def file_rows(evaluation) -> int:
    """The rows of the file a sample is drawn from: the whole file's, also while a view of it (a
    slice) is shown (the slice then applies to the sample in memory)."""
    return getattr(evaluation.dataset, "rows_in_file", None) or evaluation.dataset.n


def sample_path(source: Source, folder: Path, rows: int = SAMPLE_ROWS) -> Path:
    """Where the sample of ``source``'s current version is written (one per file version)."""
    version = hashlib.sha1(repr((source.key, file_version(source.path), rows)).encode()).hexdigest()[:12]
    return folder / f"sample-{version}.parquet"


def write_sample(evaluation, path: Path, rows: int = SAMPLE_ROWS) -> Path:
    """The file's sample of ``rows`` rows (every column, file order kept) at ``path``, written once."""
    if path.is_file():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f"{path.stem}.{uuid.uuid4().hex}.partial")  # two sessions may write it at once
    writer = getattr(evaluation, "sample_to_parquet", None) or getattr(evaluation.dataset, "sample_to_parquet", None)
    if writer is None:
        raise InputError(f"{evaluation.dataset.source}: the {on_engine(evaluation)} engine cannot write a sample of "
                         f"rows yet")
    writer(min(rows, file_rows(evaluation)), str(partial), seed=0)
    os.replace(partial, path)
    return path


def sample_source(source: Source, evaluation, path: Path) -> Source:
    """The sample as a run of its own, in memory; its annotations are the whole file's (same ids)."""
    from evaldash.ui.findings_store import fingerprint

    n = min(SAMPLE_ROWS, file_rows(evaluation))
    return replace(source, path=str(path), label=f"{run_name(source)}: sample of {n:,} rows", engine="memory",
                   memory_limit=None, spark_master=None, images_by_name=False,
                   findings_of=fingerprint(evaluation) if hasattr(evaluation.dataset, "fingerprint") else None)


def open_sample(source: Source, evaluation) -> None:
    """The button's action: write the sample in the app's upload folder, add it as a run, show it."""
    from evaldash.ui.open_panel import UPLOAD_DIR, _open
    from evaldash.uploads import server_folder

    try:
        path = write_sample(evaluation, sample_path(source, server_folder(UPLOAD_DIR) / "samples"))
    except InputError as exc:
        st.session_state["load_error"] = str(exc)
        return
    _open(sample_source(source, evaluation, path))


@contextmanager
def engine_guard(evaluation, key: str):
    """Run a part of a page (a fragment: Streamlit would show its exception itself) and turn an
    engine's refusal into :func:`engine_error`'s one line."""
    try:
        yield
    except InputError as exc:
        if on_engine(evaluation) is None:
            raise
        engine_error(evaluation, exc, key=key)
