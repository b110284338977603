"""Galleries of samples: thumbnails in a grid with captions and Details buttons, and a pager."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pandas as pd
import streamlit as st

from evaldash.evaluation import Evaluation
from evaldash.images import thumbnail
from evaldash.ui.concepts import corrected_text, sample_label_sets
from evaldash.ui.findings_store import findings
from evaldash.ui.notices import rows_image_notice
from evaldash.ui.sample_details import detail_dialog
from evaldash.ui.text import md

PAGE_SIZE = 24

GRID_COLUMNS = 6


def _caption(evaluation: Evaluation, row: int, findings: pd.DataFrame | None = None) -> str:
    d = evaluation.dataset
    if evaluation.task == "multilabel":  # a sample's label sets: what it carries, what the model gave it
        true, predicted = sample_label_sets(evaluation, row)
        text = f"{d.ids[row]} · true {{{true}}} → {{{predicted}}}"
    else:
        conf = evaluation.confidence[row]
        conf_text = f" · {conf:.3f}" if np.isfinite(conf) else ""
        text = f"{d.ids[row]} · true {d.classes[d.y_true[row]]} → {d.classes[d.y_pred[row]]}{conf_text}"
    sid = str(d.ids[row])
    if findings is not None and sid in findings.index:
        f = findings.loc[sid]
        if f["tags"]:
            text += " · tags: " + ", ".join(f["tags"])
        if f["corrected_label"]:
            text += f" · label → {corrected_text(evaluation, f['corrected_label'])}"
        if f["note"]:
            text += " · note"
    return md(text)  # st.image renders its caption as Markdown: ids, classes and tags show as typed


def gallery(evaluation: Evaluation, rows: np.ndarray, total: int, key: str, page: int,
            rerun_alone: bool = False) -> None:
    """Thumbnails of ``rows`` (already the current page) in a grid, each with a details button.

    With ``rerun_alone`` the grid is a fragment: a Details click reruns the grid and its dialog,
    not the page (the matrix, the sidebar) behind it. The captions read the findings of the grid's
    own rows, so that its own reruns (closing the dialog) show what was just saved."""
    caption_style()
    (_thumbnails_alone if rerun_alone else _thumbnails)(evaluation, np.asarray(rows), key)


@functools.lru_cache(maxsize=1)
def _caption_css() -> str:
    return f"<style>{(Path(__file__).resolve().parents[1] / 'web' / 'gallery_captions.css').read_text()}</style>"


def caption_style() -> None:
    """The galleries' captions wrap between words, a name too wide for its column shortened with an
    ellipsis (a laptop's six narrow columns; style only: it takes no space on the page)."""
    st.html(_caption_css())


def _thumbnails(evaluation: Evaluation, rows: np.ndarray, key: str) -> None:
    d = evaluation.dataset
    paths = d.image_paths
    found = findings(evaluation, [str(d.ids[int(r)]) for r in rows])
    rows_image_notice(evaluation, rows)  # on an engine: what this page's images lack (checked as shown)
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


# only /confusion's cell gallery so far: as a fragment on /decision, a reload there sometimes showed
# the deployment inputs' defaults instead of the link's values (tests/e2e/test_links.py)
_thumbnails_alone = st.fragment(_thumbnails)


def pair_gallery(a: Evaluation, b: Evaluation, rows: np.ndarray, rows_b: np.ndarray, key: str) -> None:
    """Thumbnails of A's ``rows`` with both models' answers; ``rows_b[row]`` is the same sample in B."""
    d, db = a.dataset, b.dataset
    paths = d.image_paths
    rows_image_notice(a, rows)
    caption_style()
    for start in range(0, len(rows), GRID_COLUMNS):
        cols = st.columns(GRID_COLUMNS)
        for col, row in zip(cols, rows[start:start + GRID_COLUMNS]):
            row, rb = int(row), int(rows_b[int(row)])
            if a.task == "multilabel":  # label sets: the true one, A's and B's predicted ones
                (true, set_a), (_, set_b) = sample_label_sets(a, row), sample_label_sets(b, rb)
                caption = f"{d.ids[row]} · true {{{true}}} · A {{{set_a}}} · B {{{set_b}}}"
            else:
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
