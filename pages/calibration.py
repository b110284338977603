"""Calibration and abstention: the reliability diagram (click a bin for its images), log loss and Brier
score, and the accuracy of the predictions kept above a confidence threshold."""

import numpy as np
import streamlit as st

from evaldash import figures, ui
from evaldash.report import fmt

ev = ui.page_setup("Calibration & abstention")
d = ev.dataset
ui.need_scores(ev, "there is no confidence to calibrate or to abstain on")
if ev.task == "multilabel":  # no top score to abstain on; each concept's own calibration
    ui.concept_calibration_view(ev)
    ui.stop()

if not d.is_binary:
    st.subheader("Abstain when unsure", anchor=False)
    st.caption("Keep only predictions whose confidence (score of the predicted class) is at least the "
               "threshold: fewer predictions, usually more accurate.")

    @st.fragment
    def selective_panel():
        with ui.engine_guard(ev, "selective_sample"):
            _selective()

    def _selective():
        clo, chi = (0.0, 1.0) if d.is_probability else (float(np.min(ev.confidence)), float(np.max(ev.confidence)))
        cstep = 0.001 if d.is_probability else float(f"{(chi - clo) / 1000:.2g}") or 1e-6
        ct = st.slider("Confidence threshold", clo, chi, clo, step=cstep, key="confidence_threshold")
        s = ev.selective.at(ct)
        # plain text, not st.metric: one kind of element fewer for a new browser session to load
        st.markdown(f"**Coverage** {fmt(s['coverage'])} · **accuracy of the kept** {fmt(s['accuracy'])} · "
                    f"**kept** {s['kept']:,} of {d.n:,}")
        curve = ev.selective_reduced
        ui.chart(figures.coverage_chart(curve["coverage"], curve["accuracy"], (s["coverage"], s["accuracy"])),
                 key="coverage_chart")

    selective_panel()

if ev.calibration["available"]:
    st.divider()
    st.subheader("Calibration", anchor=False)
    cal = ev.calibration
    bins = cal["bins"]
    st.caption(f"Confidence is the score of the predicted class. Log loss {fmt(cal['log_loss'], 4)}, "
               f"Brier score {fmt(cal['brier'], 4)}. Click a bar to see its images.")
    if st.session_state.get("reliability_ds") != d.source:  # a bin of other data means nothing here
        st.session_state["reliability_bin"] = None
        st.session_state["reliability_ds"] = d.source

    def _on_bin():
        b = ui.picked("reliability_chart")
        if b is not None and 0 <= b < len(bins["count"]) and b != st.session_state.get("reliability_bin"):
            st.session_state["reliability_bin"] = b
            st.session_state["reliability_gallery_page"] = 1

    b = st.session_state.get("reliability_bin")
    b = b if b is not None and 0 <= b < len(bins["count"]) and bins["count"][b] > 0 else None
    ui.chart(figures.reliability_chart(bins, cal["ece"], selected=b), key="reliability_chart", on_pick=_on_bin)
    b = st.session_state.get("reliability_bin")
    if b is not None and 0 <= b < len(bins["count"]) and bins["count"][b] > 0:
        lower, upper = float(bins["lower"][b]), float(bins["upper"][b])
        with ui.engine_guard(ev, "reliability_sample"), st.container(key="reliability_gallery"):
            rows = ev.memo(("reliability bin rows", b),  # on an engine: lazy, a page one query
                           lambda e: e.bin_samples(lower, upper) if ui.on_engine(e)
                           else figures.reliability_bin_rows(e.confidence, lower, upper))
            ui.image_notice(ev)
            st.markdown(f"**Confidence ({lower:.2f}, {upper:.2f}]**")
            st.caption(f"{ui.images(len(rows), thousands=True)} · mean confidence {bins['confidence'][b]:.3f} · "
                       f"accuracy {bins['accuracy'][b]:.3f} · most confident first")
            page = ui.pager("reliability_gallery", len(rows))
            start = page * ui.PAGE_SIZE
            ui.gallery(ev, rows[start:start + ui.PAGE_SIZE], len(rows), "reliability", page)
            st.button("Close", key="reliability_close", on_click=lambda: st.session_state.update(reliability_bin=None))
else:
    st.caption(f"Calibration is unavailable: {ev.calibration['reason']}.")
