"""Runs: every prediction file open in this session, side by side; rename them, pick two to compare."""

import datetime as dt

import pandas as pd
import streamlit as st

from evaldash import ui
from evaldash.errors import InputError

ui.page_setup("Runs")
open_runs = ui.runs()

rows = []
for source in open_runs:
    try:
        ev = ui.load(source)
    except InputError as exc:
        st.error(ui.md(exc))
        continue
    ui.wait_for_ranking(ev)
    head = ev.headline()
    stat = ui.source_stat(source.path)
    # a multi-label run's accuracy is its subset (exact-match) accuracy; samples F1 is its own
    rows.append({"key": source.key, "name": ui.run_name(source), "task": ev.task, "n": ev.dataset.n,
                 "classes": ev.dataset.n_classes, "accuracy": head.get("accuracy", head.get("subset_accuracy")),
                 "macro F1": head["macro_f1"], "samples F1": head.get("samples_f1", float("nan")),
                 "macro AUC": head["macro_roc_auc"], "ECE": head.get("ece", float("nan")),
                 "modified": dt.datetime.fromtimestamp(stat.st_mtime).strftime("%Y-%m-%d %H:%M"),
                 "size MB": round(stat.st_size / 1e6, 2), "file": source.path})
table = pd.DataFrame(rows)
st.caption("One row per open file (the sidebar's 'Open another file…' adds more; `evaldash serve A B ...` opens "
           "several). Click a column to sort; edit a name to rename a run. A multi-label run's accuracy is its "
           "subset (exact-match) accuracy.")
edited = st.data_editor(
    table.drop(columns=["key"]), key="runs_table", hide_index=True, width="stretch",
    disabled=[c for c in table.columns if c != "name"],
    column_config={c: st.column_config.NumberColumn(format="%.3f")
                   for c in ("accuracy", "macro F1", "samples F1", "macro AUC", "ECE")},
)
names = st.session_state.setdefault("run_names", {})
for key, shown, name in zip(table["key"], table["name"], edited["name"]):
    if str(name).strip() and str(name).strip() != shown:  # a default name stays a default, told apart anew
        names[key] = str(name).strip()

if len(table) >= 2:
    st.subheader("Compare two", anchor=False)
    keys = list(table["key"])
    label = {r.key: ui.run_name(r) for r in open_runs}.get  # the names as renamed above
    a_col, b_col = st.columns(2)
    a = a_col.selectbox("A (e.g. the current model)", keys, index=0, format_func=label, key="runs_a")
    b = b_col.selectbox("B (e.g. the new model)", keys, index=1, format_func=label, key="runs_b")
    st.page_link("pages/compare.py", label=f"Compare {ui.md(label(a))} with {ui.md(label(b))} →",
                 query_params={"a": a, "b": b})
else:
    st.info("Open a second file (sidebar, 'Open another file…') to compare two runs.")
