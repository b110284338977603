"""The custom components drawn in the browser: charts, the confusion grid, scrolling into view."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import streamlit as st

from evaldash import figures

_WEB = Path(__file__).resolve().parents[1] / "web"


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
                   key: str = "confusion_matrix", cells: dict | None = None, cell_px: int | None = None,
                   columns: list[str] | None = None) -> None:
    """A clickable confusion matrix (default key ``confusion_matrix``): a grid drawn in the browser
    without a charting library. A click calls ``on_cell``; :func:`clicked_cell` tells which cell.
    ``cells`` replaces the cell texts and colours (e.g. :func:`figures.difference_cells`); ``columns``
    names the columns when they are not ``labels`` (a multi-label concept matrix)."""
    cells = cells or figures.confusion_cells(values, counts, mode, row_totals)
    k = len(labels)
    _component("evaldash_confusion_matrix", "confusion_matrix")(
        key=key, on_cell_change=on_cell,
        data={"labels": [str(c) for c in labels], "counts": counts.tolist(), "mode": mode,
              **({"columns": [str(c) for c in columns]} if columns is not None else {}),
              "selected": list(selected) if selected is not None else None, "show_text": k <= 25,
              "cell_px": cell_px or (64 if k <= 6 else 48 if k <= 12 else 36 if k <= 25 else 16), **cells})


def clicked_cell(key: str = "confusion_matrix") -> tuple[int, int] | None:
    """The (row, column) of the grid cell just clicked (in ``on_cell``), else None."""
    state = st.session_state.get(key)
    value = state.get("cell") if isinstance(state, dict) else None
    return (int(value[0]), int(value[1])) if value is not None else None
