"""Confusion matrix: click a cell to see the images behind it."""

import numpy as np
import streamlit as st

from evaldash import ui

MODES = {
    "counts": "Counts",
    "true": "Normalised by true class (recall)",
    "pred": "Normalised by predicted class (precision)",
    "score": "Mean score",
}
MAX_SHOWN = 25

ev = ui.page_setup("Confusion matrix")
d = ev.dataset
k = d.n_classes

# the chosen cell lives in session state (the chart's own selection resets when the figure changes)
if "cell" not in st.session_state or st.session_state.get("cell_ds") != d.source:
    st.session_state["cell"] = None
    st.session_state["cell_ds"] = d.source
# a deep link /confusion?true=<class>&pred=<class> selects that cell when the page is entered
t, p = ui.deep_link("true"), ui.deep_link("pred")
if t in d.classes and p in d.classes:
    st.session_state["cell"] = (d.classes.index(t), d.classes.index(p))
    st.session_state["cell_gallery_page"] = 1

modes = [m for m in MODES if m != "score" or d.has_scores]
# the modes, then (above MAX_SHOWN classes) the class picker, each the whole width
top = [st.container(), st.container()]
ui.remember("cm_mode", "counts")
mode = top[0].segmented_control("Show", modes, format_func=MODES.get, key="cm_mode") or "counts"
ui.keep("cm_mode")

shown = list(range(k))
if k > MAX_SHOWN:
    errors = ev.confusion.sum(axis=0) + ev.confusion.sum(axis=1) - 2 * np.diag(ev.confusion)
    default = sorted(np.argsort(-errors, kind="stable")[:20].tolist())
    cell = st.session_state["cell"]
    if cell is not None:
        default = sorted(set(default) | set(cell))
    shown = top[1].multiselect(
        f"Classes shown ({k} in all; by default the 20 most confused)", list(range(k)),
        default=default, format_func=ui.class_label(ev), key="cm_classes",
    ) or default
    shown = sorted(shown)

values = ev.confusion_view(mode)[np.ix_(shown, shown)]
counts = ev.confusion[np.ix_(shown, shown)]


def _on_cell():
    # the click arrives before this run draws anything: one pass shows the new cell's images
    clicked = ui.clicked_cell()
    if clicked is not None:
        new = (shown[clicked[0]], shown[clicked[1]])
        if new != st.session_state["cell"]:
            st.session_state["cell"] = new
            st.session_state["cell_gallery_page"] = 1


cell = st.session_state["cell"]
selected = None
if cell is not None and cell[0] in shown and cell[1] in shown:
    selected = (shown.index(cell[0]), shown.index(cell[1]))
st.caption("Rows: true class · columns: predicted class · click a cell to see its images.")
ui.confusion_grid(values, counts, [d.classes[i] for i in shown], mode, selected,
                  ev.confusion.sum(axis=1)[shown], _on_cell)

cell = st.session_state["cell"]
if cell is None:
    st.info("Click any cell of the matrix to see the images behind it, most confident first.")
    ui.sync_query(true=None, pred=None)
else:
    i, j = cell
    ui.sync_query(true=d.classes[i], pred=d.classes[j])
    rows = ev.cell_samples(i, j)
    with st.container(key="cell_gallery"):
        kind = "correct" if i == j else "mistakes"
        st.subheader(f"True {ui.md(d.classes[i])} → predicted {ui.md(d.classes[j])}", anchor=False)
        found = ui.findings(ev)
        chosen, tagged = ui.tag_filter(ev, found, "Only samples tagged with", "cell_tags")
        if tagged is not None:
            rows = rows[tagged[rows]]
        st.caption(f"{len(rows)} images" + (" tagged " + ", ".join(ui.md(c) for c in chosen) if chosen else "")
                   + f" · {kind}, most confident first")
        if len(rows):
            page = ui.pager("cell_gallery", len(rows))
            start = page * ui.PAGE_SIZE
            ui.gallery(ev, rows[start:start + ui.PAGE_SIZE], len(rows), "cell", page, found)
        else:
            st.write("No sample falls in this cell.")
    if st.button("Clear selection", key="clear_cell"):
        st.session_state["cell"] = None
        st.rerun()
