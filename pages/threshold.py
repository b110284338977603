"""Curves and threshold: a live threshold, its confusion counts and operating points on the ROC, PR,
threshold and DET curves (drawn in the browser), and suggested thresholds. Abstention and calibration
are on their own page (pages/calibration.py), which keeps this page's first view light."""

import math

import streamlit as st

from evaldash import ui

ev = ui.page_setup("Curves & threshold")
d = ev.dataset
ui.need_scores(ev, "there are no curves or thresholds to show")

classes = d.classes
# deep link: /threshold?class=<name>&t=<value> sets both when the page is entered
c, _, _, step = ui.threshold_choice(ev)
if ev.task == "multilabel":  # each concept has its own threshold: the slider starts at the chosen concept's
    ui.concept_threshold_start(ev, c)
name = classes[c]
# The class picker is drawn after the live threshold, in this place: a new browser session loads
# each kind of element's code when it first meets one, and the threshold's numbers come first.
picker = st.container()


def _from_exact():
    # The box is only for typing: it is emptied after use and never follows the slider, since
    # pushing each slider value into it makes the browser echo stale values back while a
    # quick series of key presses is still being processed.
    typed = st.session_state.get("threshold_exact")
    if typed is not None:
        ui.set_threshold(ev, c, typed)
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
    ui.set_threshold(ev, c, value)


@st.fragment
def threshold_panel():
    with ui.engine_guard(ev, "threshold_sample"):
        _threshold_panel()


def _threshold_panel():
    t = float(st.session_state["threshold_t"])
    left, right = st.columns([5, 2], vertical_alignment="bottom")
    ui.live_threshold(ev, c, t, f"Threshold: a sample counts as {name} when its score ≥ threshold",
                      slider_box=left)
    right.number_input("Exact threshold", value=None, key="threshold_exact", on_change=_from_exact,
                       format="%.6f", step=step, placeholder=f"{t:.6f}",
                       help="Type a threshold (any value, not only the slider's steps) and press Enter.")
    st.caption("Drag the slider or use the arrow keys: the numbers and the points on the curves follow at "
               "once. Click a point of a curve to move the threshold there. Abstention (keep only confident "
               "predictions) and calibration (do the scores mean what they say?) are on the **Calibration & "
               "abstention** page (sidebar).")

    with st.expander("Suggested thresholds", expanded=True):
        # rows of flexible containers, not columns: a column is one more element for the browser
        # to draw (a new session's first view draws every element before the threshold's numbers)
        with st.container(horizontal=True):
            st.number_input("Target precision", 0.0, 1.0, 0.9, 0.01, key="target_precision", width=200)
            st.number_input("Target recall", 0.0, 1.0, 0.9, 0.01, key="target_recall", width=200)
            st.number_input("Cost of a false positive", 0.0, None, 1.0, 0.5, key="cost_fp", width=200)
            st.number_input("Cost of a false negative", 0.0, None, 1.0, 0.5, key="cost_fn", width=200)
        with st.container(horizontal=True):
            for key, label, which in [("suggest_f1", "Max F1", "max_f1"), ("suggest_youden", "Max Youden J", "max_youden"),
                                      ("suggest_precision", "Reach target precision", "target_precision"),
                                      ("suggest_recall", "Keep target recall", "target_recall"),
                                      ("suggest_cost", "Min cost (FP:FN)", "min_cost")]:
                st.button(label, key=key, on_click=_suggest, args=(which,))
        if st.session_state.get("suggest_note"):
            st.info(st.session_state["suggest_note"])
    if ev.task == "multilabel":  # on release: the sample-level metrics, every concept's threshold
        ui.concept_thresholds_panel(ev, c, t)
    ui.keep("threshold_t")
    ui.sync_query(**{"class": name, "t": f"{t:.6g}"})
    ui.note_threshold(ev, c, t)  # evaldash.show's handle lists it in .thresholds()


threshold_panel()
picker.selectbox("Concept" if ev.task == "multilabel" else "Class (one-vs-rest)" if not d.is_binary else "Positive class", list(range(d.n_classes)),
                 format_func=ui.class_label(ev), key="class_select")
ui.keep("class_select")
