"""One sample: the Details dialog, its scores, and the findings form."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from evaldash.annotations import BUILTIN_TAGS, StoreError
from evaldash.evaluation import Evaluation
from evaldash.images import full_image
from evaldash.metadata import row_text
from evaldash.ui.annotation_panel import NAME_FIRST, annotator_name
from evaldash.ui.concepts import corrected_set_value, sample_label_sets
from evaldash.ui.findings_store import annotation_store, findings, fingerprint, tags_in
from evaldash.ui.notices import image_notice, rows_image_notice
from evaldash.ui.text import md


def _dialog_closed() -> None:
    # closing reruns the gallery behind the dialog (its captions show what was saved); after a save
    # the whole page, whose tag filters and corrected labels read the findings too
    if st.session_state.pop("_detail_saved", False):
        st.rerun()


# Saving reruns only the dialog; closing it reruns the gallery (or the page, see _dialog_closed)
@st.dialog("Sample details", width="large", on_dismiss=_dialog_closed)
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
    rows_image_notice(evaluation, [row])
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
        # as the filters and slices write it: "(missing)", not "nan"
        facts.update(row_text(d.metadata, row))
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


PILLS_MAX = 40  # concepts up to which a corrected label set is picked with toggles (a list above)
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
    """Tags, note and corrected label of one sample, saved as new records; its history below.

    A new tag is typed in its own text field (Enter saves): the tags list only picks. A tag typed
    into the list itself could vanish when the list's menu opened below the visible part of the
    dialog (the dialog scrolls, the menu closes and drops the typed text). The save runs in the
    button's callback, before the form is drawn again: the form then shows what was saved."""
    d = evaluation.dataset
    sid = str(d.ids[row])
    store = annotation_store()
    st.markdown("**Findings**")
    if store is None:
        st.info("Findings cannot be saved: " + md(st.session_state.get("store_error", "")))
        return
    tags, note, label = _stored_findings(evaluation, sid)
    labels = ["(no correction)", *d.classes]
    keys = _form_keys(row)
    # what was typed when a save failed: shown again, also after the dialog was closed meanwhile
    draft = st.session_state.get(f"_findings_draft_{sid}")
    shown = (draft["tags"], draft["note"], draft["label"]) if draft else (tags, note, label)
    if keys["tags"] not in st.session_state:  # the form opens on this sample: its findings (or the draft)
        _fill_form(keys, shown[0], shown[1], _label_shown(evaluation, row, shown[2], labels))
    known = [t for t in tags_in(findings(evaluation)) if t not in BUILTIN_TAGS]
    with st.form(key=f"findings_{row}", border=False):
        options = list(dict.fromkeys([*BUILTIN_TAGS, *known, *tags, *st.session_state[keys["tags"]]]))
        st.multiselect("Tags", options, key=keys["tags"], placeholder="choose tags")
        st.text_input("New tag", key=keys["new_tag"], placeholder="type a tag; Enter saves it")
        st.text_area("Note", key=keys["note"])
        if evaluation.task == "multilabel":  # a corrected label SET: add or remove concepts
            # toggles, not a drop-down list: at the foot of the dialog a list's menu opens below what is
            # shown, the dialog scrolls to it and the menu closes again (as the tags list did)
            help_text = "The concepts this sample really carries; saved as a correction when it differs from the file's labels."
            if len(d.classes) <= PILLS_MAX:
                st.pills("Corrected label set (click a concept to add or remove it)", list(d.classes),
                         selection_mode="multi", key=keys["label"], help=help_text, format_func=md)  # names as text
            else:
                st.multiselect("Corrected label set (add or remove concepts)", list(d.classes), key=keys["label"],
                               placeholder="no label", help=help_text)
        else:
            st.selectbox("Corrected label", labels, key=keys["label"])
        st.form_submit_button("Save findings", key=f"findings_save_{row}", type="primary",
                              on_click=_save_findings, args=(evaluation, row, labels))
    said = st.session_state.pop(f"_findings_said_{sid}", None)
    if said is not None:
        {"success": st.success, "warning": st.warning, "error": st.error}[said[0]](said[1])
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


def _form_keys(row: int) -> dict[str, str]:
    return {"tags": f"findings_tags_{row}", "new_tag": f"findings_new_tag_{row}",
            "note": f"findings_note_{row}", "label": f"findings_label_{row}"}


def _stored_findings(evaluation: Evaluation, sid: str) -> tuple[list[str], str, str]:
    """(tags, note, corrected label) of one sample as the database holds them now."""
    mine = findings(evaluation, [sid])
    current = mine.loc[sid] if sid in mine.index else None
    if current is None:
        return [], "", ""
    return list(current["tags"]), current["note"], current["corrected_label"]


def _fill_form(keys: dict[str, str], tags: list[str], note: str, label_shown) -> None:
    st.session_state[keys["tags"]] = list(tags)
    st.session_state[keys["new_tag"]] = ""
    st.session_state[keys["note"]] = note
    st.session_state[keys["label"]] = label_shown


def _label_shown(evaluation: Evaluation, row: int, label: str, labels: list[str]):
    """The corrected-label widget's value for a stored correction ``label`` ("" for none): a class
    of ``labels``; for a multi-label file, the list of concepts (the file's own set when none)."""
    if evaluation.task != "multilabel":
        return label if label in labels else labels[0]
    from evaldash.multilabel_corrections import parse_label_set

    names = parse_label_set(label)
    d = evaluation.dataset
    return names if names is not None else [name for c, name in enumerate(d.classes) if d.y_true[row, c]]


def _label_typed(evaluation: Evaluation, row: int, value, labels: list[str]) -> str:
    """What to store for the corrected-label widget's ``value``: "" for no correction."""
    if evaluation.task != "multilabel":
        return "" if value == labels[0] else value
    return corrected_set_value(evaluation, row, list(value or []))


def _save_findings(evaluation: Evaluation, row: int, labels: list[str]) -> None:
    """The Save button's callback: records what changed, then fills the form with what was saved."""
    sid = str(evaluation.dataset.ids[row])
    keys = _form_keys(row)
    store = annotation_store()
    who = annotator_name()
    if store is None or not who:
        st.session_state[f"_findings_said_{sid}"] = ("warning", NAME_FIRST if store is not None
                                                     else "Findings cannot be saved: "
                                                     + md(st.session_state.get("store_error", "")))
        return
    tags, note, label = _stored_findings(evaluation, sid)
    typed = str(st.session_state.get(keys["new_tag"]) or "").strip()
    new_tags = list(dict.fromkeys([*st.session_state.get(keys["tags"], []), *([typed] if typed else [])]))
    new_note = st.session_state.get(keys["note"], "")
    new_label = _label_typed(evaluation, row, st.session_state.get(keys["label"], labels[0]), labels)
    rows = [{"kind": "tag", "value": t} for t in new_tags if t not in tags]
    rows += [{"kind": "untag", "value": t} for t in tags if t not in new_tags]
    if new_note != note:
        rows.append({"kind": "note", "value": new_note})
    if new_label != label:
        rows.append({"kind": "label", "value": new_label})
    try:
        store.record_many([{"dataset": fingerprint(evaluation), "sample_id": sid, "annotator": who, **r}
                           for r in rows])
    except StoreError as exc:
        # nothing was written: keep what was typed, to save again with one click
        st.session_state[f"_findings_draft_{sid}"] = {"tags": new_tags, "note": new_note, "label": new_label}
        st.session_state[keys["tags"]] = new_tags
        st.session_state[keys["new_tag"]] = ""
        st.session_state[f"_findings_said_{sid}"] = ("error", md(exc))
        return
    st.session_state.pop(f"_findings_draft_{sid}", None)
    st.session_state["_detail_saved"] = bool(rows) or st.session_state.get("_detail_saved", False)
    _fill_form(keys, new_tags, new_note, _label_shown(evaluation, row, new_label, labels))
    st.session_state[f"_findings_said_{sid}"] = (
        "success", f"Saved {len(rows)} change{'s' if len(rows) != 1 else ''}." if rows else "Nothing changed.")
