"""One concept's scores in a multi-label file: its threshold among the others' (with the sample-level
metrics they give and the thresholds file), and its calibration."""

from __future__ import annotations

import numpy as np
import streamlit as st

from evaldash.report import fmt
from evaldash.ui.concepts import sample_gallery
from evaldash.ui.text import md


SAMPLE_METRICS = {"subset_accuracy": "Subset accuracy", "samples_f1": "Samples F1", "hamming_loss": "Hamming loss"}


def _concept_thresholds(ev) -> dict:
    """This session's threshold of every concept of the active file (starting at the file's)."""
    key = f"_concept_thresholds_{ev.dataset.source}"
    if key not in st.session_state:
        st.session_state[key] = {c: float(t) for c, t in enumerate(ev.thresholds)}
    return st.session_state[key]


def concept_threshold_start(ev, cls: int) -> None:
    """On /threshold of a multi-label file: the slider (``threshold_t``) starts at concept ``cls``'s
    own threshold when the concept changes (a deep link's ``t`` wins and becomes that threshold)."""
    from evaldash.ui.links import deep_link

    chosen = _concept_thresholds(ev)
    if deep_link("t") is not None or st.session_state.get("_concept_shown") == (ev.dataset.source, cls):
        return
    st.session_state["_concept_shown"] = (ev.dataset.source, cls)
    lo, hi, _ = ev.slider_range(cls)
    st.session_state["threshold_t"] = min(max(chosen[cls], lo), hi)


def concept_thresholds_panel(ev, cls: int, t: float) -> None:
    """Concept ``cls`` at threshold ``t`` with every other concept at its own: the sample-level
    metrics this gives (against the file's thresholds), the per-concept thresholds table, and the
    thresholds file to download (the one /decision writes, read back by ``--thresholds``)."""
    from evaldash.decision import thresholds_json

    chosen = _concept_thresholds(ev)
    st.session_state["_concept_shown"] = (ev.dataset.source, cls)
    chosen[cls] = float(t)
    thresholds = np.array([chosen[c] for c in range(ev.dataset.n_classes)])
    # one column of per-sample counts updated per moved concept: milliseconds, not a re-evaluation
    after, before = ev.metrics_at_thresholds(thresholds), ev.headline()
    st.subheader("Every concept at its threshold", anchor=False)
    if not ev.predictions_thresholded:
        st.info("This file gives its predictions (predicted_labels or pred_<class>): they are used as given, so "
                "the thresholds below do not change the sample-level metrics.")
    st.caption("Each concept keeps its own threshold: releasing the slider sets the chosen concept's, and the "
               "sample-level metrics follow (the change is against the file's thresholds).")
    with st.container(horizontal=True, key="concept_sample_metrics"):
        for name, label in SAMPLE_METRICS.items():
            delta = after[name] - before[name]
            st.metric(label, fmt(after[name]), delta=f"{delta:+.3f}" if abs(delta) >= 5e-4 else None,
                      delta_color="inverse" if name == "hamming_loss" else "normal", border=True)
    table = after["table"]
    with st.container(key="concept_thresholds"):
        st.dataframe(table.rename(columns={"class": "concept"}), hide_index=True, width="stretch",
                     column_config={c: st.column_config.NumberColumn(format="%.3f")
                                    for c in ("threshold", "precision", "recall", "f1")})
    left, right = st.columns(2)
    left.download_button("Download the thresholds (JSON)", thresholds_json(ev.classes, thresholds),
                         "thresholds.json", "application/json", key="concept_thresholds_download",
                         help="The thresholds file of /decision: `evaldash report FILE --thresholds thresholds.json` "
                              "and `evaldash serve FILE --thresholds thresholds.json` read it back.")
    right.button("Back to the file's thresholds", key="concept_thresholds_reset", on_click=_reset_thresholds,
                 args=(ev, cls))


def _reset_thresholds(ev, cls: int) -> None:
    chosen = _concept_thresholds(ev)
    chosen.update({c: float(t) for c, t in enumerate(ev.thresholds)})
    lo, hi, _ = ev.slider_range(cls)
    st.session_state["threshold_t"] = min(max(chosen[cls], lo), hi)


def concept_calibration_view(ev) -> None:
    """/calibration for a multi-label file: one concept's reliability diagram (the share of samples
    carrying the concept per score bin; click a bar for its images), ECE, Brier score and log loss.
    Abstention on the top score does not apply: each concept is scored on its own."""
    from evaldash import figures
    from evaldash.ui.components import chart, picked
    from evaldash.ui.links import deep_link, keep, remember, sync_query

    d = ev.dataset
    st.caption("Abstention on the top score does not apply to a multi-label file (each concept is scored on its "
               "own); calibration is per concept.")
    remember("class_select", 0)
    if deep_link("class") in d.classes:
        st.session_state["class_select"] = d.classes.index(deep_link("class"))
    if st.session_state["class_select"] not in range(d.n_classes):
        st.session_state["class_select"] = 0
    c = st.selectbox("Concept", list(range(d.n_classes)), format_func=lambda i: d.classes[i], key="class_select")
    keep("class_select")
    sync_query(**{"class": d.classes[c]})
    cal = ev.memo(("concept calibration", c), lambda e: e.concept_calibration(c))
    if not cal["available"]:
        st.info(f"Calibration needs probabilities: {md(cal['reason'])}.")
        return
    bins = cal["bins"]
    st.caption(f"Does a score of 0.8 for {md(d.classes[c])} mean 80% of such samples carry it? Log loss "
               f"{fmt(cal['log_loss'], 4)}, Brier score {fmt(cal['brier'], 4)}. Click a bar to see its images.")
    if st.session_state.get("reliability_ds") != (d.source, c):
        st.session_state["reliability_bin"] = None
        st.session_state["reliability_ds"] = (d.source, c)

    def _on_bin():
        b = picked("reliability_chart")
        if b is not None and 0 <= b < len(bins["count"]):
            st.session_state["reliability_bin"] = b
            st.session_state["concept_bin_gallery_page"] = 1

    spec = figures.reliability_chart(bins, cal["ece"], selected=st.session_state.get("reliability_bin"))
    name = d.classes[c]
    spec.update({"x_label": f"score of {name}", "y_label": f"share labelled {name}"})
    spec["series"][0]["name"] = f"share labelled {name}"
    spec["series"][0]["hover"] = [h.replace("confidence (", "score (").replace("accuracy", f"share labelled {name}")
                                  .replace("mean confidence", "mean score") for h in spec["series"][0]["hover"]]
    chart(spec, key="reliability_chart", on_pick=_on_bin)
    b = st.session_state.get("reliability_bin")
    if b is not None and 0 <= b < len(bins["count"]) and bins["count"][b] > 0:
        lower, upper = float(bins["lower"][b]), float(bins["upper"][b])
        rows = ev.memo(("concept bin rows", c, b), lambda e: e.concept_bin_samples(c, lower, upper))
        sample_gallery(ev, rows, f"Score of {md(name)} in ({lower:.2f}, {upper:.2f}]",
                        f"share labelled {name} {bins['accuracy'][b]:.3f}, highest scores first",
                        key="concept_bin_gallery")
