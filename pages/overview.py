"""Overview: headline numbers, the per-class table with links, quality gates."""

import numpy as np
import pandas as pd
import streamlit as st

from evaldash import bootstrap, ui
from evaldash.report import fmt

STYLED_CLASSES = 500  # the per-class table is highlighted up to this many classes
INTERVALS_NOW_CELLS = 20_000  # observed confusion cells up to which the intervals are computed before drawing

ev = ui.page_setup("Overview")
d = ev.dataset

corrections = st.session_state.get("corrections")
if corrections is not None:
    st.info(f"Using the annotators' corrected labels: {corrections['corrected']} label"
            f"{'s' if corrections['corrected'] != 1 else ''} changed, and "
            f"{corrections['mistakes_were_label_errors']} of the model's former mistakes were label errors "
            "(the model was right).", icon=":material/edit:")
if ev.task == "multilabel":  # concepts: their own cards (subset accuracy, samples F1), table and averages
    ui.concept_overview(ev)
    ui.quality_gates(ev)
    ui.stop()
ui.wait_for_ranking(ev)  # on an engine, every class's exact sweep: some may still be running after the first view
head = ev.headline()
cal = ev.calibration

# resamples × observed confusion cells: computed here for most files, else in the background (about
# 10 s at a million rows of 1,000 classes), the ± appearing when ready
engine = ui.on_engine(ev)  # None in memory; on an engine the intervals come from its confusion counts
ci = ev.intervals(wait=bool(engine) or ev.counts.count.size <= INTERVALS_NOW_CELLS)
half = lambda pair: (pair[1] - pair[0]) / 2  # noqa: E731 - the ± shown: half the 95% interval's width

# a row that wraps at narrow widths instead of cutting the numbers ("20,…" at 1024 px)
cards = st.container(horizontal=True, key="overview_cards")
cards.metric("Samples", f"{d.n:,}", width="content")
cards.metric("Classes", d.n_classes, width="content")
if ci is not None:
    st.caption(f"Accuracy {fmt(head['accuracy'])} ± {half(ci['accuracy']):.3f}, macro F1 {fmt(head['macro_f1'])} ± "
               f"{half(ci['macro_f1']):.3f} (95% bootstrap intervals, {ci['resamples']} resamples)")
cards.metric("Accuracy", fmt(head["accuracy"]), width="content", help=None if ci is None else
             f"95% bootstrap interval {ci['accuracy'][0]:.3f} to {ci['accuracy'][1]:.3f} ({ci['resamples']} resamples)")
cards.metric("Macro F1", fmt(head["macro_f1"]), width="content", help=None if ci is None else
             f"95% bootstrap interval {ci['macro_f1'][0]:.3f} to {ci['macro_f1'][1]:.3f} ({ci['resamples']} resamples)")
cards.metric("Macro ROC AUC", fmt(head["macro_roc_auc"]), width="content",
             help=None if d.has_scores else "needs per-class scores; this file has none")
cards.metric("ECE", fmt(head["ece"]) if cal["available"] else "n/a", width="content",
             help="expected calibration error over 15 confidence bins" if cal["available"] else cal["reason"])

# per-class ROC AUC intervals cost classes × distinct scores (at most bootstrap.MAX_AUC_BINS) × resamples:
# computed here for small files, else by the background precompute (3.7 s at 1M rows × 10 classes)
auc_ci = None
if d.has_scores and not engine:
    auc_ci = ev.auc_intervals(wait=d.n_classes * min(d.n, bootstrap.MAX_AUC_BINS) <= 10_000)

table = ev.per_class
ranking = ev.ranking
plus = lambda m: {f"{m} ±": [half(ci["per_class"][c][m.lower()]) for c in d.classes]} if ci else {}  # noqa: E731
frame = pd.DataFrame({
    "class": list(d.classes),
    "precision": table["precision"],
    **plus("precision"),
    "recall": table["recall"],
    **plus("recall"),
    "F1": table["f1"],
    **plus("F1"),
    "support": table["support"],
    "ROC AUC": ranking["roc_auc"],
    "AP": ranking["average_precision"],
})
if not d.has_scores:  # no ranking metrics without scores: columns of "n/a" would only hide the others
    frame = frame.drop(columns=["ROC AUC", "AP"])
if auc_ci is not None:
    frame.insert(frame.columns.get_loc("ROC AUC") + 1, "ROC AUC ±", [half(auc_ci[c]) for c in d.classes])
worst = set(np.argsort(table["f1"], kind="stable")[: min(3, max(1, d.n_classes // 3))])

st.subheader("Per class")
st.caption("Sort by clicking a column header. "
           + ("The classes with the lowest F1 are highlighted. " if d.n_classes <= STYLED_CLASSES else "")
           + "Select a row to open that class's views. ± is half the width of the 95% bootstrap interval."
           + ("" if d.has_scores else " ROC AUC and average precision need per-class scores, which this file "
              "does not have."))
if engine and d.has_scores:  # each class's scores sorted once: report --ci does it, not a page view
    with st.container(key="auc_ci_engine_line", horizontal=True, vertical_alignment="center"):
        st.caption(f"ROC AUC ± is not computed by the dashboard on the {ui.md(engine)} engine (each class's scores "
                   f"would be sorted, a long query while other clicks wait); `evaldash report FILE --engine "
                   f"{ui.md(engine)} --ci` gives it.", width="content")
        ui.sample_button(ev)
elif engine:
    pass
elif ci is None:
    @st.fragment(run_every=2)
    def _wait_for_intervals():
        if ev.intervals(wait=False) is not None:
            st.rerun()  # the whole page: the cards and the table gain their ±
        st.caption("Bootstrap intervals are being computed in the background; the ± columns appear when "
                   "they are ready.")

    _wait_for_intervals()
elif d.has_scores and auc_ci is None:
    @st.fragment(run_every=2)
    def _wait_for_auc_intervals():
        if ev.auc_intervals(wait=False) is not None:
            st.rerun()  # the whole page: the table gains its ROC AUC ± column
        st.caption("ROC AUC intervals are being computed in the background; their ± column appears when "
                   "they are ready.")

    _wait_for_auc_intervals()
plus_minus = [c for c in frame.columns if c.endswith(" ±")]
# a Styler costs seconds at thousands of classes (and Streamlit refuses one of more than 262,144 cells):
# above STYLED_CLASSES, plain numbers formatted by the column settings, without the highlight
styled = frame if d.n_classes > STYLED_CLASSES else frame.style.apply(
    lambda row: ["background-color: #fde0dd" if row.name in worst else "" for _ in row], axis=1
).format({c: "{:.3f}" for c in ("precision", "recall", "F1", "ROC AUC", "AP") if c in frame} |
        {c: "±{:.3f}" for c in plus_minus},
         na_rep="n/a")
selection = st.dataframe(styled, key="class_table", hide_index=True, on_select="rerun",
                         selection_mode="single-row", width="stretch",
                         column_config=None if d.n_classes <= STYLED_CLASSES else
                         {c: st.column_config.NumberColumn(format="±%.3f" if c in plus_minus else "%.3f")
                          for c in ("precision", "recall", "F1", "ROC AUC", "AP", *plus_minus) if c in frame})
rows = selection.selection.rows if selection else []
if rows:
    c = int(rows[0])
    name = d.classes[c]
    st.text(f"Class {name}: precision {fmt(table['precision'][c])}, recall {fmt(table['recall'][c])}, "
            f"F1 {fmt(table['f1'][c])}, {table['support'][c]} samples")
    links = st.columns(4)
    links[0].page_link("pages/confusion.py", label="Its correct predictions", icon=":material/check_circle:",
                       query_params=ui.link_params(true=name, pred=name))
    links[1].page_link("pages/errors.py", label="Its mistakes", icon=":material/cancel:",
                       query_params=ui.link_params(true=name, gallery="mistakes"))
    if d.has_scores:
        links[2].page_link("pages/threshold.py", label="Its curves and threshold", icon=":material/tune:",
                           query_params=ui.link_params(**{"class": name}))
    confused = ev.counts.row(c)  # one row of the matrix, not the k² matrix
    confused[c] = -1
    j = int(np.argmax(confused))
    if confused[j] > 0:
        links[3].page_link("pages/confusion.py", label=f"Most confused with {ui.md(d.classes[j])} ({confused[j]})",
                           icon=":material/swap_horiz:", query_params=ui.link_params(true=name, pred=d.classes[j]))

st.subheader("Averages")
av = ev.averages
avg = pd.DataFrame({k: [av[k]["precision"], av[k]["recall"], av[k]["f1"]] for k in ("macro", "weighted", "micro")},
                   index=["precision", "recall", "F1"])
left, right = st.columns([1, 1])
left.dataframe(avg.style.format("{:.3f}"), width="stretch")
extra = {"error rate": head["error_rate"], **{k.replace("_", "-"): v for k, v in ev.top_k().items()},
         "micro ROC AUC": head["micro_roc_auc"], "macro average precision": head["macro_average_precision"]}
if cal["available"]:
    extra.update({"log loss": cal["log_loss"], "Brier score": cal["brier"]})
right.dataframe(pd.DataFrame({"metric": list(extra), "value": [fmt(v, 4) for v in extra.values()]}),
                hide_index=True, width="stretch")
if not cal["available"]:
    st.caption(f"Log loss and calibration are unavailable: {cal['reason']}.")

ui.quality_gates(ev)
