"""One sample: the Details dialog, its scores, and the findings form."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from evaldash.annotations import BUILTIN_TAGS, StoreError
from evaldash.evaluation import Evaluation
from evaldash.images import full_image
from evaldash.metadata import value_text
from evaldash.ui.annotation_panel import NAME_FIRST, annotator_name
from evaldash.ui.concepts import corrected_set_input, corrected_set_value, sample_label_sets
from evaldash.ui.findings_store import annotation_store, findings, fingerprint, tags_in
from evaldash.ui.notices import image_notice
from evaldash.ui.text import md


# Saving reruns only the dialog: closing it reruns the page, so the gallery under it shows what
# was saved (the sample's tags and note in its caption) at once
@st.dialog("Sample details", width="large", on_dismiss="rerun")
def detail_dialog(evaluation: Evaluation, row: int, rows=None) -> None:
    """One sample: its picture, facts, scores and findings; with ``rows`` (the gallery's rows, in
    its order), Previous / Next move through them inside the dialog.

    Opened from a gallery, the dialog reruns alone (a fragment) on Previous / Next, with the
    arguments it was opened with: the sample shown is kept in ``_detail_nav`` (opened, shown).
    Everything here is of one sample (O(1) in the file's size): no whole-file reads.
    """
    rows = [int(r) for r in rows] if rows is not None else [int(row)]
    nav = st.session_state.get("_detail_nav")
    if not nav or nav[0] != row or nav[1] not in rows:
        nav = st.session_state["_detail_nav"] = [row, row]
    row = nav[1]
    at = rows.index(row)
    if len(rows) > 1:
        prev_col, where_col, next_col = st.columns([1, 2, 1], vertical_alignment="center")
        prev_col.button("Previous", key="detail_prev", icon=":material/chevron_left:", width="stretch",
                        disabled=at == 0, on_click=_detail_step, args=(rows, -1))
        where_col.caption(f"Sample {at + 1} of {len(rows)} on this page of the gallery")
        next_col.button("Next", key="detail_next", icon=":material/chevron_right:", width="stretch",
                        disabled=at == len(rows) - 1, on_click=_detail_step, args=(rows, 1))
    d = evaluation.dataset
    image_notice(evaluation)
    left, right = st.columns([1, 2])
    with left:
        st.image(full_image(d.image_paths[row] if d.image_paths is not None else None, 256, root=d.images_root),
                 width="stretch", output_format="PNG")
    with right:
        if evaluation.task == "multilabel":
            true, predicted = sample_label_sets(evaluation, row)
            facts = {"id": str(d.ids[row]), "true labels": true, "predicted labels": predicted}
        else:
            conf = evaluation.confidence[row]
            facts = {
                "id": str(d.ids[row]),
                "true class": d.classes[d.y_true[row]],
                "predicted class": d.classes[d.y_pred[row]],
                "confidence": f"{conf:.4f}" if np.isfinite(conf) else "n/a",
            }
        if len(d.metadata.columns):  # one row, as the filters and slices write it: "(missing)", not "nan"
            one = d.metadata.iloc[[row]]
            for name in one.columns:
                facts[str(name)] = value_text(one[name]).iloc[0]
        with st.container(key=f"detail_facts_{row}"):
            st.dataframe(pd.DataFrame({"field": list(facts), "value": list(facts.values())}),
                         hide_index=True, width="stretch")
    if d.has_scores:
        with st.container(key=f"detail_scores_{row}"):
            st.dataframe(sample_scores(evaluation, row), hide_index=True, width="stretch",
                         column_config={"score": st.column_config.ProgressColumn(
                             "score", format="%.4f", min_value=float(min(0.0, d.scores[row].min())),
                             max_value=float(max(1.0, d.scores[row].max())))})
    findings_form(evaluation, row)


def _detail_step(rows: list[int], step: int) -> None:
    nav = st.session_state.get("_detail_nav")
    if nav and nav[1] in rows:
        nav[1] = rows[min(max(rows.index(nav[1]) + step, 0), len(rows) - 1)]


SCORES_SHOWN = 10  # classes in a sample's scores table (the highest; the true class always)


def sample_scores(evaluation: Evaluation, row: int) -> pd.DataFrame:
    """One sample's highest scores (at most :data:`SCORES_SHOWN` classes, and its true class; a
    multi-label sample: and every concept it carries or is predicted), highest first, with what
    each class is to the sample ("true", "predicted")."""
    d = evaluation.dataset
    scores = np.asarray(d.scores[row], dtype=np.float64)
    top = np.argsort(-scores, kind="stable")[:SCORES_SHOWN].tolist()
    if evaluation.task == "multilabel":  # each concept's own score, with whether it is labelled / predicted
        true, pred = d.y_true[row], evaluation.y_pred[row]
        shown = [*top, *(c for c in np.flatnonzero(true | pred).tolist() if c not in top)]  # its labels always
        roles = [", ".join(w for w, on in (("true", true[c]), ("predicted", pred[c])) if on) for c in shown]
        return pd.DataFrame({"class": [d.classes[c] for c in shown], "score": scores[shown], "is": roles})
    true, pred = int(d.y_true[row]), int(d.y_pred[row])
    shown = top if true in top else [*top[:SCORES_SHOWN - 1], true]
    role = {true: "true", pred: "predicted"} if true != pred else {true: "true, predicted"}
    return pd.DataFrame({"class": [d.classes[c] for c in shown], "score": scores[shown],
                         "is": [role.get(c, "") for c in shown]})


def findings_form(evaluation: Evaluation, row: int) -> None:
    """Tags, note and corrected label of one sample, saved as new records; its history below."""
    d = evaluation.dataset
    sid = str(d.ids[row])
    store = annotation_store()
    st.markdown("**Findings**")
    if store is None:
        st.info("Findings cannot be saved: " + md(st.session_state.get("store_error", "")))
        return
    mine = findings(evaluation, [sid])
    current = mine.loc[sid] if sid in mine.index else None
    tags = list(current["tags"]) if current is not None else []
    note = current["note"] if current is not None else ""
    label = current["corrected_label"] if current is not None else ""
    known = [t for t in tags_in(findings(evaluation)) if t not in BUILTIN_TAGS]
    labels = ["(no correction)", *d.classes]
    # what was typed when a save failed: shown again, also after the dialog was closed meanwhile
    draft = st.session_state.get(f"_findings_draft_{sid}")
    shown_tags, shown_note, shown_label = (draft["tags"], draft["note"], draft["label"]) if draft else (tags, note, label)
    with st.form(key=f"findings_{row}", border=False):
        options = list(dict.fromkeys([*BUILTIN_TAGS, *known, *shown_tags]))
        new_tags = st.multiselect("Tags (type to add your own)", options, default=shown_tags,
                                  accept_new_options=True, key=f"findings_tags_{row}")
        new_note = st.text_area("Note", value=shown_note, key=f"findings_note_{row}")
        if evaluation.task == "multilabel":  # a corrected label SET: add or remove concepts
            new_label = corrected_set_value(evaluation, row, corrected_set_input(
                evaluation, row, shown_label, f"findings_label_{row}"))
        else:
            new_label = st.selectbox("Corrected label", labels,
                                     index=labels.index(shown_label) if shown_label in labels else 0,
                                     key=f"findings_label_{row}")
        saved = st.form_submit_button("Save findings", key=f"findings_save_{row}", type="primary")
    if saved:
        who = annotator_name()
        if not who:
            st.warning(NAME_FIRST)
        else:
            new_label = "" if new_label == labels[0] else new_label
            rows = [{"kind": "tag", "value": t} for t in new_tags if t not in tags]
            rows += [{"kind": "untag", "value": t} for t in tags if t not in new_tags]
            if new_note != note:
                rows.append({"kind": "note", "value": new_note})
            if new_label != label:
                rows.append({"kind": "label", "value": new_label})
            try:
                store.record_many([{"dataset": fingerprint(evaluation), "sample_id": sid, "annotator": who, **r}
                                   for r in rows])
                st.session_state.pop(f"_findings_draft_{sid}", None)
                st.success(f"Saved {len(rows)} change{'s' if len(rows) != 1 else ''}." if rows else "Nothing changed.")
            except StoreError as exc:
                # nothing was written: keep what was typed, to save again with one click
                st.session_state[f"_findings_draft_{sid}"] = {"tags": list(new_tags), "note": new_note,
                                                              "label": new_label}
                st.error(md(exc))
    try:
        history = store.history(fingerprint(evaluation), sid)
    except StoreError as exc:
        st.caption("History unavailable: " + md(exc))
        return
    if len(history):
        with st.expander(f"History ({len(history)} record{'s' if len(history) != 1 else ''})"):
            history = history.assign(created_at=[str(t)[:19] for t in history["created_at"]])
            if not (history["original_annotator"] != "").any():
                history = history.drop(columns="original_annotator")  # nothing imported
            st.dataframe(history.rename(columns={"created_at": "when", "annotator": "who", "kind": "what",
                                                 "original_annotator": "original author (imported)"}),
                         hide_index=True, width="stretch")
