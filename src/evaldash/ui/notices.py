"""Where a gallery is: what cannot be shown of its images and how to fix it."""

from __future__ import annotations

import os
import threading

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
    elif _checked_as_shown(check):  # the same line for every gallery of the page: said once, above the first
        shown = _this_run.__dict__.setdefault("engine_lines", set())
        if check.matched() not in shown:
            shown.add(check.matched())
            st.caption(md(check.matched()))
    elif check.by_name:
        st.caption(md(check.matched()))


def rows_image_notice(evaluation: Evaluation, rows) -> None:
    """Above a gallery page (or one sample) of a file on an engine, whose image paths are checked
    only as they are shown: what cannot be shown of these ``rows``' images and how to show them
    (the memory path says it for the whole file, in :func:`image_notice`)."""
    d = evaluation.dataset
    if not _checked_as_shown(d.image_check):
        return
    from evaldash.engines.row_images import rows_image_check

    check = rows_image_check(d, rows)
    if check is not None and check.not_shown:
        st.warning(md(f"{check.problem()} {check.fix(_images_root_ways(check))}"))


def new_page_run() -> None:
    """A page run starts (:func:`evaldash.ui.page.run_page`): its one-line notices are said again."""
    _this_run.__dict__.pop("engine_lines", None)


_this_run = threading.local()  # each session's script runs in its own thread


def _checked_as_shown(check) -> bool:
    """Whether ``check`` is an engine's, whose paths are checked only when their images are shown."""
    from evaldash.engines.rows import EngineImageCheck

    return isinstance(check, EngineImageCheck)


def _images_root_ways(check) -> str:
    """Where this server lets the images root be set, for :meth:`ImageCheck.fix`."""
    roots = data_roots()
    if roots is None:
        return "--images-root DIR at start"
    if check.suggested_root is not None and not roots.contains(os.path.realpath(check.suggested_root)):
        return "--images-root DIR at start (the sidebar's Images root takes only folders in the data roots)"
    return "Images root under Open another file… in the sidebar, or --images-root DIR"
