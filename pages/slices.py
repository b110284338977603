"""Slices: metrics per group of a metadata column, worst first; pick a slice to filter every page to it."""

import math

import streamlit as st

from evaldash import ui
from evaldash.slices import MIN_RELIABLE, slice_table

ev = ui.page_setup("Slices")
chosen = ui.active_slice()
# the table groups the whole file, also while the dashboard shows one slice of it
base = ui.load(st.session_state["source"])
d = base.dataset
columns = [str(c) for c in d.metadata.columns]
if not columns:
    st.info("This file has no metadata columns to slice by: add columns such as source, device or date.")
    ui.stop()
ui.remember("slice_column", columns[0])
if chosen is not None and ui.deep_link("slice_by") == chosen[0]:  # a link to a slice groups by its column
    st.session_state["slice_column"] = chosen[0]
if st.session_state["slice_column"] not in columns:
    st.session_state["slice_column"] = columns[0]
column = st.selectbox("Group by", columns, key="slice_column",
                      help="Numeric columns with many values are cut into 4 quantile bins.")
ui.keep("slice_column")
if base.task == "multilabel":  # per-slice sample-level metrics; a selected row filters every page to it
    ui.concept_slices(base, column, chosen, ev.dataset.n)
    ui.stop()
engine = ui.on_engine(base)
if engine:  # GROUP BY slice in the engine; the macro ROC AUC's interval (rows resampled) is n/a there
    from evaldash.engines.slices import slice_table as engine_slice_table

    table = base.memo(("slices", column), lambda e: engine_slice_table(e, column))
else:
    table = base.memo(("slices", column), lambda e: slice_table(e.dataset, column))
shown = table.assign(
    accuracy_ci=[f"[{lo:.3f}, {hi:.3f}]" for lo, hi in zip(table["accuracy_low"], table["accuracy_high"])],
    macro_f1_ci=[f"[{lo:.3f}, {hi:.3f}]" for lo, hi in zip(table["macro_f1_low"], table["macro_f1_high"])],
    macro_roc_auc_ci=[f"[{lo:.3f}, {hi:.3f}]" if not math.isnan(lo) else "n/a"  # no scores, or no class defined
                      for lo, hi in zip(table["macro_roc_auc_low"], table["macro_roc_auc_high"])],
    reliable=["yes" if r else f"no (n < {MIN_RELIABLE})" for r in table["reliable"]],
)[["slice", "n", "accuracy", "accuracy_ci", "macro_f1", "macro_f1_ci", "macro_roc_auc", "macro_roc_auc_ci",
   "reliable"]]
st.caption("Worst macro F1 first; 95% bootstrap intervals. Select a row to show only that slice on every page.")
event = st.dataframe(
    shown, key="slice_table", hide_index=True, width="stretch", on_select="rerun",
    selection_mode="single-row",
    column_config={"accuracy": st.column_config.NumberColumn(format="%.3f"),
                   "macro_f1": st.column_config.NumberColumn("macro F1", format="%.3f"),
                   "macro_roc_auc": st.column_config.NumberColumn("macro ROC AUC", format="%.3f"),
                   "accuracy_ci": "accuracy 95%", "macro_f1_ci": "macro F1 95%",
                   "macro_roc_auc_ci": "macro ROC AUC 95%"},
)
picked = event.selection.rows if event else []
if picked:
    value = str(table["slice"].iloc[picked[0]])
    if chosen != (column, value):
        ui.set_slice(column, value)
        st.rerun()
if chosen is not None:
    st.success(f"Every page now shows only **{ui.md(chosen[0])} = {ui.md(chosen[1])}** "
               f"({ev.dataset.n:,} samples). 'Show all samples' in the sidebar undoes it.")
