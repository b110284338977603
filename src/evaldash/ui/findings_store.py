"""The annotation database of this server and the findings read from it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from evaldash.annotations import AnnotationStore, StoreError, database_url
from evaldash.evaluation import Evaluation
from evaldash.store_access import StoreOpener
from evaldash.ui.sources import app_args


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


def tagged_ids(found: pd.DataFrame, tags) -> list[str]:
    """The ids of the samples carrying any of ``tags``."""
    wanted = set(tags)
    return [str(sid) for sid, ts in found["tags"].items() if wanted & set(ts)] if len(found) else []


def tagged_mask(dataset, found: pd.DataFrame, tags) -> np.ndarray:
    """Boolean mask of shape (n_samples,): the samples carrying any of ``tags``."""
    return id_mask(dataset, tagged_ids(found, tags))


def tag_filter(evaluation: Evaluation, found: pd.DataFrame, label: str, key: str) -> tuple[list[str], np.ndarray | None]:
    """A tag picker for a gallery: the chosen tags and the mask of their samples (None: no filter)."""
    chosen = tag_picker(found, label, key)
    return chosen, (tagged_mask(evaluation.dataset, found, chosen) if chosen else None)


def tag_picker(found: pd.DataFrame, label: str, key: str) -> list[str]:
    """The tag picker of a gallery: the chosen tags (an engine's gallery joins their ids,
    :func:`tagged_ids`, in the engine: :mod:`evaldash.engines.id_sets`)."""
    options = tags_in(found)
    return st.multiselect(label, options, key=key, placeholder="any sample" if options else "no tags yet in this file")


def id_mask(dataset, sample_ids) -> np.ndarray:
    """Boolean mask of shape (n_samples,): the rows whose id is in ``sample_ids``."""
    import pyarrow as pa
    import pyarrow.compute as pc

    wanted = pa.array([str(s) for s in sample_ids], type=pa.string())
    return pc.is_in(pa.array(dataset.ids).cast(pa.string()), value_set=wanted).to_numpy(zero_copy_only=False)
