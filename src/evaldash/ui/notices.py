"""Where a gallery is: what cannot be shown of its images and how to fix it."""

from __future__ import annotations

import os

import streamlit as st

from evaldash.evaluation import Evaluation
from evaldash.ui.sources import data_roots
from evaldash.ui.text import md


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
