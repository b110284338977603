"""What both review queues share: a set from an uploaded id list, the samples marked "reviewed" in a
set (the annotation database's ``reviewed`` events) and the progress through it."""

from __future__ import annotations

import numpy as np
import streamlit as st

from evaldash.annotations import StoreError, parse_id_list
from evaldash.errors import InputError
from evaldash.ui.findings_store import annotation_store, id_mask
from evaldash.ui.text import md


def uploaded_id_rows(dataset, key: str, on_change=None) -> tuple[np.ndarray, str]:
    """The uploader of an id list (widget ``key``) and the rows of its ids in the file, in the list's
    order (ids not in the file are left out, with a warning); and the review set's name."""
    ids, upload = _uploaded_ids(key, on_change)
    if upload is not None:
        _warn_missing(upload, ids, int(id_mask(dataset, ids).sum()))
    order = {sid: n for n, sid in enumerate(ids)}
    rows = np.flatnonzero(id_mask(dataset, ids))
    rows = rows[np.argsort([order[str(dataset.ids[r])] for r in rows], kind="stable")] if len(rows) else rows
    return rows, f"ids {upload.name}" if upload is not None else "ids"


def engine_uploaded_id_rows(evaluation, key: str, on_change=None):
    """:func:`uploaded_id_rows` on an engine: the ids registered there and joined to the rows, a
    page at a time in the list's order (:func:`evaldash.engines.id_sets.id_rows`)."""
    from evaldash.engines.id_sets import id_rows

    ids, upload = _uploaded_ids(key, on_change)
    rows = id_rows(evaluation, ids, ordered=True, what="listed samples")
    if upload is not None:
        _warn_missing(upload, ids, len(rows))
    return rows, f"ids {upload.name}" if upload is not None else "ids"


def _uploaded_ids(key: str, on_change=None) -> tuple[list[str], object]:
    upload = st.file_uploader("Ids to review: a text file with one id per line, or a CSV with an 'id' column",
                              type=["txt", "csv"], key=key, on_change=on_change)
    ids = []
    if upload is not None:
        try:
            ids = parse_id_list(upload.name, upload.getvalue())
        except InputError as exc:
            st.error(md(exc))
    return ids, upload


def _warn_missing(upload, ids: list[str], found: int) -> None:
    missing = len(ids) - found
    if missing:
        st.warning(f"{md(upload.name)}: {missing} of the {len(ids)} ids are not in this file; they are left out.")


def reviewed_ids(fingerprint: str, review_set: str) -> set[str]:
    """Ids marked reviewed in ``review_set`` of the file ``fingerprint`` (by anyone); none while the
    database cannot be read (the sidebar says why)."""
    store = annotation_store()
    try:
        return store.reviewed(fingerprint, review_set) if store is not None else set()
    except StoreError as exc:
        st.session_state["store_error"] = str(exc)
        return set()


def review_progress(done: int, total: int, pos: int) -> None:
    """The progress bar of a review set: "37 / 120 reviewed · sample 5 of 120"."""
    st.progress(done / total, text=f"{done} / {total} reviewed · sample {pos + 1} of {total}")
