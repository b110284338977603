"""Review queue: walk one sample at a time through a chosen set, tag it, note it, correct its label."""

import numpy as np
import pandas as pd
import streamlit as st

from evaldash import figures, ui
from evaldash.annotations import BUILTIN_TAGS, StoreError
from evaldash.error_analysis import gallery_rows
from evaldash.images import full_image
from evaldash.metadata import row_text

SETS = {
    "mistakes": "Confident mistakes",
    "label_issues": "Suspected label errors",
    "cell": "A confusion-matrix cell",
    "tagged": "Everything with a tag",
    "ids": "An uploaded id list",
}

NOTE_KEY = "review_note_{}"  # the note and corrected-label boxes of one sample (its id)
LABEL_KEY = "review_label_{}"
NO_CORRECTION = "(no correction)"


def _typed_changes(shown: dict) -> list[dict]:
    """The note and label typed in the shown sample's boxes that differ from what is saved."""
    note = st.session_state.get(NOTE_KEY.format(shown["sid"]), shown["note"])
    label = st.session_state.get(LABEL_KEY.format(shown["sid"]), shown["label"] or NO_CORRECTION)
    label = "" if label == NO_CORRECTION else label
    return ([{"kind": "note", "value": note}] if note != shown["note"] else []) + \
           ([{"kind": "label", "value": label}] if label != shown["label"] else [])


def _save(shown: dict, rows_: list[dict]) -> bool:
    """Record ``rows_`` for the shown sample; False (and a message) when nothing could be written."""
    if not rows_:
        return True
    who = ui.annotator_name()
    if not who:
        st.session_state["review_note_msg"] = ("warning", ui.NAME_FIRST)
        return False
    store_ = ui.annotation_store()
    if store_ is None:
        st.session_state["review_note_msg"] = ("error", "Findings cannot be saved: the dashboard is read-only.")
        return False
    try:
        store_.record_many([{"dataset": shown["fp"], "sample_id": shown["sid"], "annotator": who, **r} for r in rows_])
        return True
    except StoreError as exc:
        st.session_state["review_note_msg"] = ("error", str(exc))
        return False


def _draft_key(shown: dict) -> str:
    return f"_review_draft::{shown['fp']}::{shown['sid']}"


def _keep_draft() -> None:
    """Keep what was typed in a plain session key: widget state is dropped on another page, a
    draft is not, so leaving the queue (the sidebar's pages) and coming back finds it in its box."""
    shown = st.session_state.get("_review_shown")
    if shown and _typed_changes(shown):
        st.session_state[_draft_key(shown)] = {"note": st.session_state.get(NOTE_KEY.format(shown["sid"])),
                                               "label": st.session_state.get(LABEL_KEY.format(shown["sid"]))}
    elif shown:  # typed back to what is saved
        st.session_state.pop(_draft_key(shown), None)


def _save_typed(extra: list[dict] | None = None) -> bool:
    """Save what was typed for the sample shown last (with ``extra`` records for it, in one go)
    before the queue moves on: True when nothing typed is left unsaved. A note that could not be
    saved stays in its box, and comes back when its sample is shown again."""
    shown = st.session_state.get("_review_shown")
    if not shown:
        return True
    changes = _typed_changes(shown)
    if not _save(shown, changes + (extra or [])):
        if changes:  # kept for when the sample is shown again (also after the set changed)
            _keep_draft()
        return False
    st.session_state.pop(_draft_key(shown), None)
    if changes:
        n = len(changes)
        st.session_state["review_note_msg"] = (
            "success", f"Saved {n} change{'s' if n != 1 else ''} of {shown['sid']} "
                       f"({' and '.join(c['kind'] for c in changes)}).")
    return True


ev = ui.page_setup("Review queue")
if ev.task == "multilabel":  # its own sets (a concept's FN / FP), corrected label SETS in the findings form
    ui.concept_review(ev)
    ui.stop()
engine = ui.on_engine(ev)  # on an engine: the mistakes and a cell, ranked there and read a page at a time
d = ev.dataset
store = ui.annotation_store()
fp = ui.fingerprint(ev)
classes = d.classes

kinds = [k for k in SETS if (k != "label_issues" or (d.is_probability and not engine))]
ui.remember("review_set", "mistakes")
kind = st.segmented_control("Review set", kinds, format_func=SETS.get, key="review_set",
                            on_change=_save_typed) or "mistakes"
ui.keep("review_set")
if engine:
    ui.engine_line(ev, "Reviewing suspected label errors is", key="review_sample")

everything = np.ones(d.n, dtype=bool) if not engine else None
if engine and kind == "mistakes":
    rows = ev.gallery_samples(kind)
    name = kind
elif kind in ("mistakes", "label_issues"):
    rows, _ = gallery_rows(ev, kind, everything, d.n)
    name = kind
elif kind == "cell":
    top = ev.counts.top_confusions(1)  # the largest off-diagonal cell, without the k x k matrix
    i0, j0 = top[0][:2] if top else (0, 0)
    a, b = st.columns(2)
    ui.remember("review_true", int(i0))
    ui.remember("review_pred", int(j0))
    i = a.selectbox("True class", range(len(classes)), format_func=ui.class_label(ev), key="review_true",
                     on_change=_save_typed)
    j = b.selectbox("Predicted class", range(len(classes)), format_func=ui.class_label(ev), key="review_pred",
                     on_change=_save_typed)
    ui.keep("review_true")
    ui.keep("review_pred")
    ui.cell_table_line(ev)  # as on /confusion: the cell's samples are read from the file until the table is built
    rows = ev.cell_samples(i, j)
    name = f"cell {classes[i]} → {classes[j]}"
elif kind == "tagged":
    found = ui.findings(ev)
    tags = ui.tags_in(found)
    tag = st.selectbox("Tag", tags, key="review_tag", placeholder="no tags yet in this file", index=None if not tags else 0,
                       on_change=_save_typed)
    if engine:  # the tag's ids joined to the rows in the engine, in file order
        from evaldash.engines.id_sets import id_rows

        rows = id_rows(ev, ui.tagged_ids(found, [tag]) if tag else [])
    else:
        rows = np.flatnonzero(ui.tagged_mask(d, found, [tag])) if tag else np.array([], dtype=np.int64)
    name = f"tag {tag}"
elif engine:
    rows, name = ui.engine_uploaded_id_rows(ev, "review_ids", _save_typed)
else:
    rows, name = ui.uploaded_id_rows(d, "review_ids", _save_typed)

rows = np.asarray(rows, dtype=np.int64) if not engine else rows
total = len(rows)
if total == 0:
    st.info("This set is empty: choose another set above.")
    ui.stop()

reviewed = ui.reviewed_ids(fp, name)
pos_key = f"review_pos::{name}"
if engine:  # counted in the engine; the set is read a page at a time
    from evaldash.engines.review import first_not_reviewed, reviewed_count

    done = reviewed_count(ev, rows, reviewed)
    if pos_key not in st.session_state:
        st.session_state[pos_key] = first_not_reviewed(ev, rows, reviewed, done)
else:
    ids_in_set = [str(d.ids[r]) for r in rows]
    done = sum(1 for s in ids_in_set if s in reviewed)
    if pos_key not in st.session_state:  # start at the first sample nobody has reviewed yet
        st.session_state[pos_key] = next((n for n, s in enumerate(ids_in_set) if s not in reviewed), 0)
pos = min(max(int(st.session_state[pos_key]), 0), total - 1)
row = int(rows[pos])
sid = str(d.ids[row]) if engine else ids_in_set[pos]

with st.container(key="review_progress"):
    ui.review_progress(done, total, pos)


def _move(step: int, mark: bool):
    # what was typed is saved with the "reviewed" mark, in one go; if it cannot be, the queue stays
    if not _save_typed([{"kind": "reviewed", "value": name}] if mark else None):
        return
    st.session_state[pos_key] = min(max(pos + step, 0), total - 1)


def _save_now():
    _save_typed()
    st.session_state["review_save_msg"] = st.session_state.pop("review_note_msg", ("success", "Nothing changed."))


def _toggle(tag: str, on: bool):
    _save(st.session_state["_review_shown"], [{"kind": "untag" if on else "tag", "value": tag}])


mine = ui.findings(ev, [sid])
current = mine.loc[sid] if sid in mine.index else None
tags = set(current["tags"]) if current is not None else set()
note = current["note"] if current is not None else ""
label = current["corrected_label"] if current is not None else ""
st.session_state["_review_shown"] = {"fp": fp, "sid": sid, "note": note, "label": label}

nav = st.columns([1.3, 1.7, 3])
nav[0].button("◂ Previous", key="review_prev", shortcut="P", on_click=_move, args=(-1, False),
              disabled=pos == 0, width="stretch")
nav[1].button("Reviewed, next ▸", key="review_next", shortcut="N", on_click=_move, args=(1, True),
              type="primary", width="stretch")
nav[2].caption(f"Set: {ui.md(SETS[kind])}{'' if kind in ('mistakes', 'label_issues') else ' · ' + ui.md(name)}. "
               "Keys: N reviewed and next, P previous (each saves the note first), 1–5 tags, "
               "Ctrl+Enter (⌘+Enter) saves, also while typing.")
if "review_note_msg" in st.session_state:
    level, text = st.session_state.pop("review_note_msg")
    {"warning": st.warning, "success": st.success}.get(level, st.error)(ui.md(text))

with st.container(key="review_tags"):
    # a row that wraps, each button as wide as its label (and key): whole labels on a laptop
    buttons = [st.container(horizontal=True)] * len(BUILTIN_TAGS)
    for n, (box, tag) in enumerate(zip(buttons, BUILTIN_TAGS), start=1):
        on = tag in tags
        # the button shows its key (n); a tag that is set is highlighted and ticked
        box.button(tag + (" ✓" if on else ""), key=f"review_tag_{n}", shortcut=str(n), on_click=_toggle,
                   args=(tag, on), type="primary" if on else "secondary", width="content")
    other = sorted(tags - set(BUILTIN_TAGS))
    if other:
        st.caption("Other tags: " + ", ".join(ui.md(t) for t in other))

ui.image_notice(ev)
ui.rows_image_notice(ev, [row])
left, right = st.columns([1, 2])
with left:
    st.image(full_image(d.image_paths[row] if d.image_paths is not None else None, 320, root=d.images_root),
             width="stretch", output_format="PNG")
with right:
    conf = ev.confidence[row]
    st.subheader(f"{ui.md(sid)}: true {ui.md(classes[d.y_true[row]])} → predicted {ui.md(classes[d.y_pred[row]])}",
                 anchor=False)
    st.caption(f"confidence {conf:.3f}" if np.isfinite(conf) else "no confidence")
    if d.has_scores:
        st.plotly_chart(figures.scores_bar(list(classes), d.scores[row], int(d.y_true[row]), int(d.y_pred[row])),
                        key="review_scores")
    meta = row_text(d.metadata, row)  # '(missing)', not 'nan'; a one-row slice, which an engine reads too
    if meta:
        st.dataframe(pd.DataFrame({"field": list(meta), "value": list(meta.values())}), hide_index=True,
                     width="stretch")
    # No form: a form sends what was typed only when submitted, so N and P (outside it) never saw
    # it. The boxes send their text when left (or on Ctrl+Enter); N, P, the save button and every
    # change of the set save it. Their state is seeded here, not by value=, so a draft (typed, not
    # saved: see _keep_draft) comes back.
    labels = [NO_CORRECTION, *classes]
    draft = st.session_state.get(_draft_key(st.session_state["_review_shown"])) or {}
    if NOTE_KEY.format(sid) not in st.session_state:
        st.session_state[NOTE_KEY.format(sid)] = draft.get("note") if draft.get("note") is not None else note
    if LABEL_KEY.format(sid) not in st.session_state:
        kept_label = draft.get("label") or label or NO_CORRECTION
        st.session_state[LABEL_KEY.format(sid)] = kept_label if kept_label in labels else NO_CORRECTION
    st.text_area("Note", key=NOTE_KEY.format(sid), on_change=_keep_draft)
    st.selectbox("Corrected label", labels, key=LABEL_KEY.format(sid), on_change=_keep_draft)
    unsaved = _typed_changes(st.session_state["_review_shown"])
    st.button("Save note and label", key="review_save", shortcut="Ctrl+Enter", on_click=_save_now,
              type="primary" if unsaved else "secondary")
    if unsaved:
        with st.container(key="review_unsaved"):
            st.caption(f"Not saved yet: the {' and '.join(c['kind'] for c in unsaved)}. "
                       "Ctrl+Enter saves; N and P save it too.")
    if "review_save_msg" in st.session_state:  # said here, where the eyes are after saving
        level, text = st.session_state.pop("review_save_msg")
        {"warning": st.warning, "success": st.success}.get(level, st.error)(ui.md(text))
