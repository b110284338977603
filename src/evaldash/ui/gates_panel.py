"""The overview's quality gates: rules on the metrics, checked as ``evaldash check`` checks them
(any task: the gates' metric names come from the results object)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from evaldash.errors import InputError
from evaldash.gates import Gate, check_gates, load_gates, metric_names
from evaldash.report import fmt
from evaldash.ui.sources import app_args
from evaldash.ui.text import md


def quality_gates(ev) -> None:
    """The gates table (started from ``serve --gates FILE``), each gate's value and pass/fail."""
    st.subheader("Quality gates")
    st.caption("None until you add a row (or start with `evaldash serve --gates FILE`, the file `evaldash check "
               "--gates` reads); a gate passes when the metric is at least (min) or at most (max) the limit — the "
               "same rules as `evaldash check`. Per-class metrics are written like `recall[cat]`.")
    if "gates" not in st.session_state:
        gates_file = app_args().gates
        try:
            start_gates = load_gates(gates_file) if gates_file else []
        except InputError as exc:  # the file changed since `serve` checked it
            st.warning(md(exc))
            start_gates = []
        st.session_state["gates"] = pd.DataFrame({
            "metric": pd.Series([g.metric for g in start_gates], dtype="object"),
            "kind": pd.Series([g.kind for g in start_gates], dtype="object"),
            "limit": pd.Series([g.limit for g in start_gates], dtype="float64"),
        })
    names = [n for n in metric_names(ev) if "[CLASS]" not in n]
    edited = st.data_editor(
        st.session_state["gates"], key="gates_editor", num_rows="dynamic", hide_index=True,
        column_config={
            "metric": st.column_config.TextColumn("metric", help="one of: " + ", ".join(names), required=True),
            "kind": st.column_config.SelectboxColumn("kind", options=["min", "max"], required=True),
            "limit": st.column_config.NumberColumn("limit", format="%.4f", required=True),
        },
    )
    results = []
    for _, g in edited.dropna(subset=["metric", "kind", "limit"]).iterrows():
        try:
            results.extend(check_gates(ev, [Gate(str(g["metric"]).strip(), str(g["kind"]), float(g["limit"]))]))
        except InputError as exc:
            st.warning(md(exc))  # it may quote the typed metric and the class names
    if results:
        passed = sum(r.passed for r in results)
        st.dataframe(pd.DataFrame({
            "gate": [r.gate.metric for r in results],
            "value": [fmt(r.value, 4) for r in results],
            "limit": [f"{'≥' if r.gate.kind == 'min' else '≤'} {r.gate.limit:g}" for r in results],
            "result": ["pass" if r.passed else f"FAIL{' (' + r.note + ')' if r.note else ''}" for r in results],
        }), hide_index=True, width="stretch")
        (st.success if passed == len(results) else st.error)(f"{passed} of {len(results)} gates pass")
