"""Curves and threshold: ROC/PR curves, a live threshold and its confusion counts."""

import math

import numpy as np
import streamlit as st

from evaldash import figures, ui
from evaldash.report import fmt

ev = ui.page_setup("Curves & threshold")
d = ev.dataset
if not d.has_scores:
    st.warning("This file has predictions but no per-class scores, so there are no curves or thresholds "
               "to show. Add score columns (score_<class>) to use this page.")
    st.stop()

classes = d.classes
default_class = d.positive if d.positive is not None else 0

# deep link: /threshold?class=<name>&t=<value> sets both when the page is entered
ui.remember("class_select", default_class)
if st.session_state["class_select"] not in range(d.n_classes):
    st.session_state["class_select"] = default_class
link_class, link_t = ui.deep_link("class"), ui.deep_link("t")
if link_class in classes:
    st.session_state["class_select"] = classes.index(link_class)

c = st.selectbox("Class (one-vs-rest)" if not d.is_binary else "Positive class", list(range(d.n_classes)),
                 format_func=ui.class_label(ev), key="class_select")
ui.keep("class_select")
name = classes[c]
col = d.scores[:, c]
if d.is_probability:
    lo, hi, step = 0.0, 1.0, 0.001
else:
    lo, hi = float(col.min()), float(col.max())
    step = float(f"{(hi - lo) / 1000:.2g}") or 1e-6
    lo, hi = math.floor(lo / step) * step, math.ceil(hi / step) * step

default_t = 0.5 if d.is_probability else 0.0
t0 = ui.kept("threshold", default_t)
try:
    if link_t is not None and math.isfinite(float(link_t)):
        t0 = float(link_t)
except ValueError:
    pass
t0 = min(max(float(t0), lo), hi) if math.isfinite(float(t0)) else hi
st.session_state["threshold"] = t0
sweep = ev.sweep(c)


def _from_exact():
    # The box is only for typing: it is emptied after use and never follows the slider, since
    # pushing each slider value into it makes the browser echo stale values back while a
    # quick series of key presses is still being processed.
    typed = st.session_state.get("threshold_exact")
    if typed is not None:
        st.session_state["threshold"] = min(max(float(typed), lo), hi)
        st.session_state["threshold_exact"] = None


def _suggest(which: str):
    s = ev.suggestions(c, st.session_state["target_precision"], st.session_state["target_recall"],
                       st.session_state["cost_fp"], st.session_state["cost_fn"])
    value = s[which]
    if math.isnan(value):
        st.session_state["suggest_note"] = f"No threshold reaches that target for class {ui.md(name)}."
        return
    st.session_state["suggest_note"] = (
        "Predicting nothing as positive is cheapest at these costs: the slider goes to its top."
        if math.isinf(value) else "")
    st.session_state["threshold"] = min(max(value, lo), hi)


@st.fragment
def threshold_panel():
    left, right = st.columns([3, 1])
    left.slider(f"Threshold: a sample counts as {ui.md(name)} when its score ≥ threshold", lo, hi, step=step,
                key="threshold", format="%.3f" if d.is_probability else "%.4g")
    t = float(st.session_state["threshold"])
    right.number_input("Type an exact threshold", value=None, key="threshold_exact", on_change=_from_exact,
                       format="%.6f", step=step, placeholder=f"{t:.6f}")
    m = sweep.at(t)
    with st.container(key="threshold_metrics"):
        cols = st.columns(5)
        cols[0].metric("Precision", fmt(m["precision"]))
        cols[1].metric("Recall", fmt(m["recall"]))
        cols[2].metric("F1", fmt(m["f1"]))
        cols[3].metric("FPR", fmt(m["fpr"]))
        cols[4].metric("Specificity", fmt(m["specificity"]))
        counts = st.columns(4)
        for box, label in zip(counts, ("tp", "fp", "fn", "tn")):
            box.metric(label.upper(), f"{m[label]:,}")
        st.caption(f"Exact threshold: {t:.6g}")
    if math.isnan(m["precision"]):
        st.caption("Precision is undefined here: no sample scores at or above the threshold.")

    with st.expander("Suggested thresholds", expanded=True):
        a, b, cc, dd = st.columns(4)
        a.number_input("Target precision", 0.0, 1.0, 0.9, 0.01, key="target_precision")
        b.number_input("Target recall", 0.0, 1.0, 0.9, 0.01, key="target_recall")
        cc.number_input("Cost of a false positive", 0.0, None, 1.0, 0.5, key="cost_fp")
        dd.number_input("Cost of a false negative", 0.0, None, 1.0, 0.5, key="cost_fn")
        buttons = st.columns(5)
        buttons[0].button("Max F1", key="suggest_f1", on_click=_suggest, args=("max_f1",), width="stretch")
        buttons[1].button("Max Youden J", key="suggest_youden", on_click=_suggest, args=("max_youden",),
                          width="stretch")
        buttons[2].button("Reach target precision", key="suggest_precision", on_click=_suggest,
                          args=("target_precision",), width="stretch")
        buttons[3].button("Keep target recall", key="suggest_recall", on_click=_suggest,
                          args=("target_recall",), width="stretch")
        buttons[4].button("Min cost (FP:FN)", key="suggest_cost", on_click=_suggest, args=("min_cost",),
                          width="stretch")
        if st.session_state.get("suggest_note"):
            st.info(st.session_state["suggest_note"])

    curves = ev.class_curves(c)
    avg = ev.average_curves
    roc = {f"class {name}": (curves["roc_fpr"], curves["roc_tpr"])}
    pr = {f"class {name}": (curves["pr_recall"], curves["pr_precision"])}
    if not d.is_binary:
        roc.update({k[4:]: v for k, v in avg.items() if k.startswith("roc")})
        pr.update({k[3:]: v for k, v in avg.items() if k.startswith("pr")})
    g1, g2 = st.columns(2)
    with g1:
        st.plotly_chart(figures.roc_figure(roc, (m["fpr"], m["recall"]),
                                           f"ROC curve, AUC {fmt(ev.ranking['roc_auc'][c])}"), key="roc_chart")
    with g2:
        st.plotly_chart(figures.pr_figure(pr, (m["recall"], m["precision"]),
                                          f"Precision-recall, AP {fmt(ev.ranking['average_precision'][c])}"),
                        key="pr_chart")
    g3, g4 = st.columns([2, 1])
    with g3:
        st.plotly_chart(figures.threshold_figure(
            curves["threshold"], {"precision": curves["precision"], "recall": curves["recall"],
                                  "F1": curves["f1"]}, t), key="threshold_chart")
    with g4:
        st.markdown(f"**Confusion at this threshold**")
        st.plotly_chart(figures.confusion_2x2(m["tp"], m["fp"], m["fn"], m["tn"], name), key="cm2x2")
    ui.keep("threshold")
    ui.sync_query(**{"class": name, "t": f"{t:.6g}"})


threshold_panel()

if not d.is_binary:
    st.divider()
    st.subheader("Abstain when unsure", anchor=False)
    st.caption("Keep only predictions whose confidence (score of the predicted class) is at least the "
               "threshold: fewer predictions, usually more accurate.")

    @st.fragment
    def selective_panel():
        conf = ev.confidence
        clo, chi = (0.0, 1.0) if d.is_probability else (float(np.min(conf)), float(np.max(conf)))
        cstep = 0.001 if d.is_probability else float(f"{(chi - clo) / 1000:.2g}") or 1e-6
        ct = st.slider("Confidence threshold", clo, chi, clo, step=cstep, key="confidence_threshold")
        s = ev.selective.at(ct)
        cols = st.columns(3)
        cols[0].metric("Coverage", fmt(s["coverage"]))
        cols[1].metric("Accuracy of kept", fmt(s["accuracy"]))
        cols[2].metric("Kept", f"{s['kept']:,} of {d.n:,}")
        curve = ev.selective_reduced
        st.plotly_chart(figures.coverage_figure(curve["coverage"], curve["accuracy"],
                                                (s["coverage"], s["accuracy"])), key="coverage_chart")

    selective_panel()

if ev.calibration["available"]:
    st.divider()
    st.subheader("Calibration", anchor=False)
    cal = ev.calibration
    st.caption(f"Confidence is the score of the predicted class. Log loss {fmt(cal['log_loss'], 4)}, "
               f"Brier score {fmt(cal['brier'], 4)}.")
    st.plotly_chart(figures.reliability_figure(cal["bins"], cal["ece"]), key="reliability_chart")
else:
    st.caption(f"Calibration is unavailable: {ev.calibration['reason']}.")
