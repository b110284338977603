"""Confusion matrix: click a cell to see the images behind it."""

import numpy as np
import streamlit as st

from evaldash import figures, matrix, ui

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
if ev.task == "multilabel":  # the concept matrix: a "no label" row, a "no prediction" column, FN/FP per concept
    ui.concept_matrix(ev)
    ui.stop()
# a deep link /confusion?true=<class>&pred=<class> selects that cell when the page is entered
t, p = ui.deep_link("true"), ui.deep_link("pred")
if t in d.classes and p in d.classes:
    st.session_state["cell"] = (d.classes.index(t), d.classes.index(p))
    st.session_state["cell_gallery_page"] = 1
    ui.request_scroll("cell_gallery")  # the link (e.g. the overview's "Most confused with") opens the images

modes = [m for m in MODES if m != "score" or d.has_scores]
# the modes, the order and the diagonal switch, then (above MAX_SHOWN classes) the class picker
top = [st.container(), st.container()]
ui.remember("cm_mode", "counts")
ui.remember("cm_order", "file")
# a link /confusion?mode=true&order=errors shows that mode and order when the page is entered
if ui.deep_link("mode") in modes:
    st.session_state["cm_mode"] = ui.deep_link("mode")
if ui.deep_link("order") in matrix.ORDERS:
    st.session_state["cm_order"] = ui.deep_link("order")
mode = top[0].segmented_control("Show", modes, format_func=MODES.get, key="cm_mode") or "counts"
ui.keep("cm_mode")
ui.remember("cm_hide_diag", False)
# one row that wraps: the order's buttons and the switch keep their whole labels on a laptop
left = right = top[0].container(horizontal=True, vertical_alignment="bottom", gap="medium")
order_by = left.segmented_control(
    "Class order", list(matrix.ORDERS), format_func=matrix.ORDERS.get, key="cm_order",
    help="By error count: most errors (off-diagonal row and column sums) first. Cluster: classes often "
         "confused with each other side by side (average-linkage clustering of the symmetrised "
         "off-diagonal confusion rates).") or "file"
hide_diagonal = right.toggle("Hide diagonal", key="cm_hide_diag", width="content",
                             help="Grey out the correct predictions so the errors use the whole colour scale.")
ui.keep("cm_order")
ui.keep("cm_hide_diag")
ui.sync_query(mode=None if mode == "counts" else mode, order=None if order_by == "file" else order_by)
shown = list(range(k))
if k > MAX_SHOWN:
    errors = ev.counts.errors()
    default = sorted(np.argsort(-errors, kind="stable")[:20].tolist())
    cell = st.session_state["cell"]
    if cell is not None:
        default = sorted(set(default) | set(cell))
    shown = top[1].multiselect(
        f"Classes shown ({k} in all; by default the 20 most confused)", list(range(k)),
        default=default, format_func=ui.class_label(ev), key="cm_classes",
    ) or default
chosen = sorted(set(int(i) for i in shown))
# nothing here is of size k²: the order, the block and its intervals are of the shown classes (a
# file of thousands of classes has millions of cells); up to matrix.MAX_CLUSTERED classes the
# order is that of the whole matrix, above it that of the shown classes
if k <= matrix.MAX_CLUSTERED:
    order = ev.memo(("class order", order_by), lambda e: matrix.class_order(e.counts, order_by))
    picked = set(chosen)
    shown = [int(i) for i in order if i in picked]  # the rows and columns in the chosen order
else:
    shown = [int(i) for i in ev.memo(("class order", order_by, tuple(chosen)),
                                     lambda e: matrix.class_order(e.counts, order_by, chosen))]

values, counts = ev.confusion_block(mode, shown)
row_totals = ev.counts.support[shown]
# per-cell 95% bootstrap intervals: computed on the classes in file order, so reordering keeps them
by_index = tuple(sorted(shown))
intervals = ev.memo(("cell intervals", mode, by_index),
                    lambda e: matrix.cell_intervals(e.counts, mode, list(by_index)))
where = [by_index.index(i) for i in shown]
intervals = {name: v[np.ix_(where, where)] for name, v in intervals.items()}
labels = [d.classes[i] for i in shown]
cells = figures.confusion_cells(values, counts, mode, row_totals, hide_diagonal=bool(hide_diagonal))
cells["hover"] = figures.confusion_hover(labels, values, counts, mode, intervals, row_totals, matrix.SMALL_SAMPLE)


def _on_cell():
    # the click arrives before this run draws anything: one pass shows the new cell's images
    clicked = ui.clicked_cell()
    if clicked is not None:
        ui.request_scroll("cell_gallery")  # below the matrix, often below the fold: bring it into view
        new = (shown[clicked[0]], shown[clicked[1]])
        if new != st.session_state["cell"]:
            st.session_state["cell"] = new
            st.session_state["cell_gallery_page"] = 1


cell = st.session_state["cell"]
selected = None
if cell is not None and cell[0] in shown and cell[1] in shown:
    selected = (shown.index(cell[0]), shown.index(cell[1]))
st.caption("Rows: true class · columns: predicted class · click a cell to see its images · hover a cell for "
           "its 95% bootstrap interval (1,000 resamples; ⚠ marks fewer than 30 samples).")
ui.confusion_grid(values, counts, labels, mode, selected, row_totals, _on_cell, cells=cells)

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
        ui.image_notice(ev)
        found = ui.findings(ev)
        if ui.on_engine(ev):  # the tags' ids joined to the cell's rows in the engine
            from evaldash.engines.id_sets import within

            chosen, tagged = ui.tag_picker(found, "Only samples tagged with", "cell_tags"), None
            if chosen:
                rows = within(ev, rows, ui.tagged_ids(found, chosen))
        else:
            chosen, tagged = ui.tag_filter(ev, found, "Only samples tagged with", "cell_tags")
        if tagged is not None:
            rows = rows[tagged[rows]]
        st.caption(ui.images(len(rows)) + (" tagged " + ", ".join(ui.md(c) for c in chosen) if chosen else "")
                   + f" · {kind}, most confident first")
        ui.cell_table_line(ev)  # drawn before the page's query, which it explains
        if len(rows):
            page = ui.pager("cell_gallery", len(rows))
            start = page * ui.PAGE_SIZE
            ui.gallery(ev, rows[start:start + ui.PAGE_SIZE], len(rows), "cell", page, rerun_alone=True)
        else:
            st.write("No sample falls in this cell.")
        ui.scroll_into_view("cell_gallery")
    if st.button("Clear selection", key="clear_cell"):
        st.session_state["cell"] = None
        st.rerun()
