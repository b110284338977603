"""The views of a multi-label (concept) file where a page's content differs from the single-label one:
the overview's cards, table and averages, the concept matrix, a concept's false negatives / false
positives, the suspected label errors, the review queue, a sample's label sets and corrected set.
Every number comes from :class:`~evaldash.multilabel_evaluation.MultilabelEvaluation`."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from evaldash.report import fmt
from evaldash.ui.engine_gate import engine_line
from evaldash.ui.engine_sources import on_engine
from evaldash.ui.links import link_params
from evaldash.ui.text import images, md

ERROR_KINDS = {"fn": "false negatives", "fp": "false positives"}
ERROR_HELP = {"fn": "labelled with the concept, not predicted", "fp": "predicted, not labelled"}


def concept_overview(ev) -> None:
    """The overview of a multi-label file: headline cards, the per-concept table (sortable, the
    worst F1 highlighted, a selected row linking to that concept's views) and the averages."""
    d = ev.dataset
    head = ev.headline()
    card = {"Samples": f"{d.n:,}", "Classes": d.n_classes, "Subset accuracy": fmt(head["subset_accuracy"]),
            "Samples F1": fmt(head["samples_f1"]), "Macro ROC AUC": fmt(head["macro_roc_auc"]),
            "Label cardinality": f"{head['label_cardinality']:.2f}"}
    helps = {"Subset accuracy": "share of samples whose predicted label set is exactly the true set",
             "Samples F1": "F1 of each sample's predicted set against its true set, averaged over samples",
             "Macro ROC AUC": None if d.has_scores else "needs per-class scores; this file has none",
             "Label cardinality": f"true labels per sample (predicted: {head['predicted_label_cardinality']:.2f})"}
    with st.container(horizontal=True, key="concept_cards"):  # wraps at narrow widths, no number cut
        for name, value in card.items():
            st.metric(name, value, help=helps.get(name), width="content")

    table = ev.per_class_table()
    frame = pd.DataFrame({"concept": table["class"], "precision": table["precision"], "recall": table["recall"],
                          "F1": table["f1"], "support": table["support"], "FP": table["fp"], "FN": table["fn"],
                          "ROC AUC": table["roc_auc"], "AP": table["average_precision"],
                          "threshold": table["threshold"]})
    if not d.has_scores:
        frame = frame.drop(columns=["ROC AUC", "AP"])
    if not ev.predictions_thresholded:
        frame = frame.drop(columns=["threshold"])
    worst = set(np.argsort(table["f1"].to_numpy(), kind="stable")[: min(3, max(1, d.n_classes // 3))].tolist())
    st.subheader("Per concept")
    st.caption("Each concept is scored on its own (one-vs-rest, at its threshold). Sort by clicking a column "
               "header. The concepts with the lowest F1 are highlighted. Select a row to open that concept's "
               "views.")
    styled = frame.style.apply(lambda row: ["background-color: #fde0dd" if row.name in worst else "" for _ in row],
                               axis=1).format(
        {c: "{:.3f}" for c in ("precision", "recall", "F1", "ROC AUC", "AP", "threshold") if c in frame}, na_rep="n/a")
    selection = st.dataframe(styled, key="class_table", hide_index=True, on_select="rerun",
                             selection_mode="single-row", width="stretch")
    rows = selection.selection.rows if selection else []
    if rows:
        c = int(rows[0])
        name = d.classes[c]
        st.text(f"Concept {name}: precision {fmt(table['precision'][c])}, recall {fmt(table['recall'][c])}, "
                f"F1 {fmt(table['f1'][c])}, {table['support'][c]} samples labelled, {table['fn'][c]} missed, "
                f"{table['fp'][c]} predicted wrongly")
        links = st.columns(4)
        links[0].page_link("pages/confusion.py", label="Its correct predictions", icon=":material/check_circle:",
                           query_params=link_params(true=name, pred=name))
        links[1].page_link("pages/confusion.py", label=f"Its false negatives ({table['fn'][c]})",
                           icon=":material/remove_circle:", query_params=link_params(concept=name, errors="fn"))
        links[2].page_link("pages/confusion.py", label=f"Its false positives ({table['fp'][c]})",
                           icon=":material/add_circle:", query_params=link_params(concept=name, errors="fp"))
        if d.has_scores:
            links[3].page_link("pages/threshold.py", label="Its curves and threshold", icon=":material/tune:",
                               query_params=link_params(**{"class": name}))

    st.subheader("Averages")
    av = ev.averages
    avg = pd.DataFrame({k: [av[k]["precision"], av[k]["recall"], av[k]["f1"]]
                        for k in ("micro", "macro", "weighted", "samples")}, index=["precision", "recall", "F1"])
    left, right = st.columns([1, 1])
    left.dataframe(avg.style.format("{:.3f}"), width="stretch")
    extra = {"Hamming loss": head["hamming_loss"], "Jaccard (samples)": head["jaccard_samples"],
             "Jaccard (macro)": head["jaccard_macro"], "Jaccard (micro)": head["jaccard_micro"],
             "micro ROC AUC": head["micro_roc_auc"], "macro average precision": head["macro_average_precision"],
             "micro average precision": head["micro_average_precision"],
             "label ranking average precision": head["label_ranking_average_precision"],
             "coverage error": head["coverage_error"], "label ranking loss": head["label_ranking_loss"],
             "predicted label cardinality": head["predicted_label_cardinality"]}
    right.dataframe(pd.DataFrame({"metric": list(extra), "value": [fmt(v, 4) for v in extra.values()]}),
                    hide_index=True, width="stretch")


def sample_label_sets(ev, row: int) -> tuple[str, str]:
    """A sample's true and predicted label sets as text ("∅" for none)."""
    sets = ev.label_sets(np.array([row]))
    return sets["true"].iloc[0] or "∅", sets["predicted"].iloc[0] or "∅"


def corrected_text(ev, value: str) -> str:
    """A stored corrected label as text: a multi-label file's corrected set as "{a, b}"."""
    if ev.task != "multilabel":
        return value
    from evaldash.multilabel_corrections import parse_label_set

    names = parse_label_set(value)
    return value if names is None else "{" + (", ".join(names) or "∅") + "}"


def corrected_set_value(ev, row: int, names: list[str]) -> str:
    """What to store for the chosen set ``names`` of sample ``row``: "" (no correction) when it is the
    file's own set, else the set (:func:`evaldash.multilabel_corrections.label_set_value`)."""
    from evaldash.multilabel_corrections import label_set_value

    d = ev.dataset
    given = [name for c, name in enumerate(d.classes) if d.y_true[row, c]]
    return "" if set(names) == set(given) else label_set_value(names, d.classes)


def error_links(ev, on_pick, key: str = "concept_errors", shown=None) -> None:
    """One button per concept and kind ("FN of C (n)", "FP of C (n)"): a concept's false negatives or
    false positives one click away. ``on_pick(cls, kind)`` is called on a click. ``shown``: only
    these concepts' buttons (those of the matrix drawn), default all."""
    table = ev.per_class
    st.caption("Each concept's mistakes: its false negatives (" + ERROR_HELP["fn"] + ") and false positives ("
               + ERROR_HELP["fp"] + ").")
    with st.container(horizontal=True, key=key):
        for c, name in enumerate(ev.classes):
            if shown is not None and c not in shown:
                continue
            for kind in ERROR_KINDS:
                n = int(table[kind][c])
                st.button(f"{kind.upper()} of {md(name)} ({n:,})", key=f"{key}_{kind}_{c}", on_click=on_pick,
                          args=(c, kind), help=f"{ERROR_KINDS[kind].capitalize()} of {md(name)}: {ERROR_HELP[kind]}")


def concept_matrix(ev) -> None:
    """/confusion for a multi-label file: the concept-by-concept matrix (rows: true concepts and
    "(no label)", columns: predicted concepts and "(no prediction)") in the confusion grid, each
    concept's false negatives and false positives a click away, and the gallery of what was picked
    (a cell or a concept's mistakes), most confident first, each sample with its label sets."""
    from evaldash import figures
    from evaldash.ui.components import clicked_cell, confusion_grid, scroll_into_view
    from evaldash.ui.links import deep_link, keep, remember, sync_query
    from evaldash.views import MATRIX_MODE_LABELS

    d = ev.dataset
    base = ev.matrix("counts")
    if st.session_state.get("concept_err_ds") != d.source:
        st.session_state["concept_err"] = None
        st.session_state["concept_err_ds"] = d.source
    # deep links: /confusion?true=<concept>&pred=<concept> (a cell; "(no label)"/"(no prediction)" too)
    # and /confusion?concept=<concept>&errors=fn|fp (a concept's mistakes), read on entering the page
    t, p = deep_link("true"), deep_link("pred")
    if t in base.rows and p in base.columns:
        _pick_cell((base.rows.index(t), base.columns.index(p)))
    concept, kind = deep_link("concept"), deep_link("errors")
    if concept in d.classes and kind in ERROR_KINDS:
        _pick_errors(d.classes.index(concept), kind)

    modes = list(ev.matrix_modes)
    remember("cm_mode", "counts")
    if deep_link("mode") in modes:
        st.session_state["cm_mode"] = deep_link("mode")
    if st.session_state["cm_mode"] not in modes:  # e.g. "pred", kept from a single-label file
        st.session_state["cm_mode"] = "counts"
    labels = {**MATRIX_MODE_LABELS, "true": "Normalised by true concept (recall on the diagonal)",
              "score": "Mean score of the column concept"}
    mode = st.segmented_control("Show", modes, format_func=labels.get, key="cm_mode") or "counts"
    keep("cm_mode")
    sync_query(mode=None if mode == "counts" else mode)
    view = ev.matrix(mode)
    row_totals = ev.row_totals
    # above MAX_SHOWN concepts: the MOST_CONFUSED concepts with the most off-diagonal counts (and the
    # picked cell's), with the "(no label)" row and "(no prediction)" column, and a picker for others
    rows_shown, cols_shown = _shown_concepts(ev, view)
    values = view.values[np.ix_(rows_shown, cols_shown)]
    counts = view.counts[np.ix_(rows_shown, cols_shown)]
    totals = row_totals[rows_shown]
    cells = figures.confusion_cells(values, counts, mode, totals)

    def _on_cell():
        clicked = clicked_cell()
        if clicked is not None:
            _pick_cell((rows_shown[clicked[0]], cols_shown[clicked[1]]))

    cell = st.session_state["cell"]
    selected = None
    if cell is not None and cell[0] in rows_shown and cell[1] in cols_shown:
        selected = (rows_shown.index(cell[0]), cols_shown.index(cell[1]))
    st.caption("Rows: true concepts · columns: predicted concepts · a sample with several labels and predictions "
               "counts in several cells · click a cell to see its images.")
    confusion_grid(values, counts, [view.rows[i] for i in rows_shown], mode, selected, totals, _on_cell,
                   cells=cells, columns=[view.columns[j] for j in cols_shown])
    error_links(ev, _pick_errors, shown=[i for i in rows_shown if i < d.n_classes])

    cell, err = st.session_state["cell"], st.session_state["concept_err"]
    if cell is None and err is None:
        st.info("Click any cell of the matrix to see the images behind it, most confident first; or a concept's "
                "FN / FP button for its mistakes.")
        sync_query(true=None, pred=None, concept=None, errors=None)
        return
    if cell is not None:
        i, j = cell
        sync_query(true=base.rows[i], pred=base.columns[j], concept=None, errors=None)
        rows = ev.cell_samples(i, j)
        title = f"True {md(base.rows[i])} → predicted {md(base.columns[j])}"
        order = "most confident first"
    else:
        c, kind = err
        sync_query(true=None, pred=None, concept=d.classes[c], errors=kind)
        rows = ev.concept_errors(c, kind)
        title = f"{ERROR_KINDS[kind].capitalize()} of {md(d.classes[c])}"
        order = f"{ERROR_HELP[kind]}, most confident mistakes first"
    sample_gallery(ev, rows, title, order)
    if st.button("Clear selection", key="clear_cell"):
        st.session_state["cell"] = st.session_state["concept_err"] = None
        st.rerun()
    scroll_into_view("cell_gallery")


MAX_SHOWN = 25  # above this many concepts, the matrix shows the MOST_CONFUSED by default (as /confusion's classes)
MOST_CONFUSED = 20


def _shown_concepts(ev, view) -> tuple[list[int], list[int]]:
    """The matrix rows and columns to draw (indices into ``view``, a :class:`~evaldash.views.MatrixView`): every one up to ``MAX_SHOWN``
    concepts; above it the concepts picked in ``cm_concepts`` (by default the ``MOST_CONFUSED``
    with the most off-diagonal counts, plus the picked cell's), then "(no label)" / "(no prediction)"."""
    from evaldash.multilabel_metrics import most_confused_concepts

    k = ev.dataset.n_classes
    rows, cols = list(range(len(view.rows))), list(range(len(view.columns)))
    if k <= MAX_SHOWN:
        return rows, cols
    default = set(ev.memo("most confused concepts",
                          lambda e: most_confused_concepts(e.concept_counts, MOST_CONFUSED)).tolist())
    cell = st.session_state.get("cell")
    if cell is not None:
        default |= {i for i in cell if i < k}
    if st.session_state.get("cm_concepts_ds") != ev.dataset.source or "cm_concepts" not in st.session_state:
        st.session_state["cm_concepts_ds"] = ev.dataset.source  # a new file: its own default
        st.session_state["cm_concepts"] = sorted(default)
    elif cell is not None:  # the picked (or deep-linked) cell is always shown
        st.session_state["cm_concepts"] = sorted(set(st.session_state["cm_concepts"]) | {i for i in cell if i < k})
    picked = st.multiselect(f"Concepts shown ({k} in all; by default the {MOST_CONFUSED} most confused)",
                            list(range(k)), format_func=lambda i: ev.classes[i], key="cm_concepts") or sorted(default)
    chosen = sorted(int(i) for i in picked)
    return chosen + [k], chosen + ([k] if len(view.columns) > k else [])


def _pick_cell(cell) -> None:
    from evaldash.ui.components import request_scroll

    cell = (int(cell[0]), int(cell[1]))
    request_scroll("cell_gallery")  # below the matrix, often below the fold: bring it into view
    if cell != st.session_state.get("cell") or st.session_state.get("concept_err") is not None:
        st.session_state["cell"] = cell
        st.session_state["concept_err"] = None
        st.session_state["cell_gallery_page"] = 1


def _pick_errors(cls: int, kind: str) -> None:
    from evaldash.ui.components import request_scroll

    request_scroll("cell_gallery")
    if (cls, kind) != st.session_state.get("concept_err"):
        st.session_state["concept_err"] = (int(cls), kind)
        st.session_state["cell"] = None
        st.session_state["cell_gallery_page"] = 1


def sample_gallery(ev, rows: np.ndarray, title: str, order: str, key: str = "cell_gallery") -> None:
    """A gallery of ``rows`` under ``title`` (already escaped), with the tag filter and a pager, in
    the container ``key``."""
    from evaldash.ui.findings_store import findings, tag_filter
    from evaldash.ui.galleries import PAGE_SIZE, gallery, pager
    from evaldash.ui.notices import image_notice

    with st.container(key=key):
        st.subheader(title, anchor=False)
        image_notice(ev)
        found = findings(ev)
        if on_engine(ev):  # the tags' ids joined to the gallery's rows in the engine (its order kept)
            from evaldash.engines.id_sets import within
            from evaldash.ui.findings_store import tag_picker, tagged_ids

            chosen, tagged = tag_picker(found, "Only samples tagged with", f"{key}_tags"), None
            if chosen:
                rows = within(ev, rows, tagged_ids(found, chosen))
        else:
            chosen, tagged = tag_filter(ev, found, "Only samples tagged with", f"{key}_tags")
        if tagged is not None:
            rows = rows[tagged[rows]]
        st.caption(images(len(rows)) + (" tagged " + ", ".join(md(c) for c in chosen) if chosen else "")
                   + f" · {order}")
        if len(rows):
            page = pager(key, len(rows))
            start = page * PAGE_SIZE
            gallery(ev, rows[start:start + PAGE_SIZE], len(rows), key, page)
        else:
            st.write("No sample falls here.")


def concept_error_galleries(ev) -> None:
    """/errors for a multi-label file: a concept's false negatives or false positives (most confident
    mistakes first), or the suspected label errors (cleanlab's multi-label mode: a concept missing
    from a sample's labels, or one it should not carry), most suspicious first."""
    from evaldash.ui.links import deep_link, keep, remember, sync_query

    d = ev.dataset
    engine = on_engine(ev)
    kinds = {"fn": "False negatives", "fp": "False positives"}
    if d.is_probability and not engine:  # cleanlab needs probabilities (and every row in memory)
        kinds["label_issues"] = "Suspected label errors"
    remember("err_ml_gallery", "fn")
    remember("err_concept", 0)
    concept, kind = deep_link("concept"), deep_link("gallery")
    if concept in d.classes:
        st.session_state["err_concept"] = d.classes.index(concept)
    if kind in kinds:
        st.session_state["err_ml_gallery"] = kind
    if st.session_state["err_ml_gallery"] not in kinds:
        st.session_state["err_ml_gallery"] = "fn"
    if st.session_state["err_concept"] not in range(d.n_classes):
        st.session_state["err_concept"] = 0
    kind = st.segmented_control("Gallery", list(kinds), format_func=kinds.get, key="err_ml_gallery") or "fn"
    keep("err_ml_gallery")
    if engine:
        engine_line(ev, "The suspected label errors (cleanlab) are", key="err_sample")
    if kind == "label_issues":
        with st.spinner("Ranking suspected label errors…", show_time=False):
            issues = ev.label_issues()
        if not issues["available"]:
            st.info(md(issues["reason"]))
            return
        table = issues["table"]
        st.caption("Samples whose label set is probably wrong (confident learning, cleanlab's multi-label mode): "
                   "a concept missing from the labels, or one the sample should not carry. Most suspicious first; "
                   "correct the label set in Details.")
        with st.container(key="label_issues_table"):
            st.dataframe(table[["id", "concept", "issue", "score"]].head(500), hide_index=True, width="stretch",
                         column_config={"score": st.column_config.NumberColumn(format="%.3f")})
        rows = pd.unique(table["row"].to_numpy())
        sync_query(concept=None, gallery=kind)
        sample_gallery(ev, rows, "Suspected label errors", "most suspicious first", key="error_gallery")
        return
    c = st.selectbox("Concept", list(range(d.n_classes)), format_func=lambda i: d.classes[i], key="err_concept")
    keep("err_concept")
    sync_query(concept=d.classes[c], gallery=kind)
    rows = ev.concept_errors(c, kind)
    st.caption(f"{ERROR_KINDS[kind].capitalize()} of {md(d.classes[c])}: {ERROR_HELP[kind]}; the most confident "
               "mistakes first.")
    sample_gallery(ev, rows, f"{ERROR_KINDS[kind].capitalize()} of {md(d.classes[c])}",
                    "most confident mistakes first", key="error_gallery")


REVIEW_SETS = {"label_issues": "Suspected label errors", "fn": "A concept's false negatives",
               "fp": "A concept's false positives", "cell": "A concept-matrix cell", "tagged": "Everything with a tag",
               "ids": "An uploaded id list"}


def concept_review(ev) -> None:
    """/review for a multi-label file: walk one sample at a time through a set (the suspected label
    errors, a concept's FN or FP, a concept-matrix cell, the tagged samples, an uploaded id list), each
    with its picture, label sets, scores and the findings form, where its label set is corrected (add
    or remove concepts). "Reviewed, next" marks the sample reviewed in the set, in the annotation
    database as the single-label queue does, and the progress bar counts the set's marks."""
    from evaldash.annotations import StoreError
    from evaldash.images import full_image
    from evaldash.ui.annotation_panel import NAME_FIRST, annotator_name
    from evaldash.ui.findings_store import annotation_store, findings, fingerprint, tagged_ids, tagged_mask, tags_in
    from evaldash.ui.links import keep, remember
    from evaldash.ui.review_sets import engine_uploaded_id_rows, review_progress, reviewed_ids, uploaded_id_rows
    from evaldash.ui.sample_details import findings_form, sample_scores

    d = ev.dataset
    engine = on_engine(ev)  # on an engine: a concept's FN / FP and a cell, ranked there and read a page at a time
    sets = {k: v for k, v in REVIEW_SETS.items() if (k != "label_issues" or d.is_probability)
            and (not engine or k != "label_issues")}
    remember("review_ml_set", next(iter(sets)))
    if st.session_state["review_ml_set"] not in sets:
        st.session_state["review_ml_set"] = next(iter(sets))
    kind = st.segmented_control("Review", list(sets), format_func=sets.get, key="review_ml_set") or next(iter(sets))
    keep("review_ml_set")
    if engine:
        engine_line(ev, "Reviewing suspected label errors is", key="review_sample")
    if kind in ERROR_KINDS:
        remember("review_concept", 0)
        c = st.selectbox("Concept", list(range(d.n_classes)), format_func=lambda i: d.classes[i], key="review_concept")
        keep("review_concept")
        rows = ev.concept_errors(c, kind)
        name = f"{kind} {d.classes[c]}"
    elif kind == "cell":
        view = ev.matrix("counts")
        off = np.array(view.counts, dtype=np.int64)
        np.fill_diagonal(off, -1)  # the largest off-diagonal cell first
        i0, j0 = np.unravel_index(int(np.argmax(off)), off.shape)
        remember("review_ml_true", int(i0))
        remember("review_ml_pred", int(j0))
        left, right = st.columns(2)
        i = left.selectbox("True concept", range(len(view.rows)), format_func=lambda r: view.rows[r],
                           key="review_ml_true")
        j = right.selectbox("Predicted concept", range(len(view.columns)), format_func=lambda r: view.columns[r],
                            key="review_ml_pred")
        keep("review_ml_true")
        keep("review_ml_pred")
        rows = ev.cell_samples(i, j)
        name = f"cell {view.rows[i]} → {view.columns[j]}"
    elif kind == "label_issues":
        issues = ev.label_issues()
        if not issues["available"]:
            st.info(md(issues["reason"]))
            return
        rows = pd.unique(issues["table"]["row"].to_numpy())
        name = kind
    elif kind == "ids" and engine:  # the ids joined to the rows in the engine, in the list's order
        rows, name = engine_uploaded_id_rows(ev, "review_ml_ids")
    elif kind == "ids":
        rows, name = uploaded_id_rows(d, "review_ml_ids")
    else:
        found = findings(ev)
        tags = tags_in(found)
        if engine:  # the tagged ids joined to the rows in the engine, in file order
            from evaldash.engines.id_sets import id_rows

            rows = id_rows(ev, tagged_ids(found, tags))
        else:
            rows = np.flatnonzero(tagged_mask(d, found, tags)) if tags else np.array([], dtype=np.int64)
        name = "tagged"
    if not len(rows):
        st.info("Nothing to review in this set.")
        return
    fp = fingerprint(ev)
    reviewed = reviewed_ids(fp, name)
    where = (name, tuple(rows[:3].tolist()), len(rows))
    if engine:  # counted in the engine; the set is read a page at a time
        from evaldash.engines.review import first_not_reviewed, reviewed_count

        done = reviewed_count(ev, rows, reviewed)
        first = lambda: first_not_reviewed(ev, rows, reviewed, done)  # noqa: E731
    else:
        ids_in_set = [str(s) for s in np.asarray(d.ids.take(rows) if hasattr(d.ids, "take") else d.ids[rows],
                                                 dtype=object)]
        done = sum(1 for s in ids_in_set if s in reviewed)
        first = lambda: next((n for n, s in enumerate(ids_in_set) if s not in reviewed), 0)  # noqa: E731
    if st.session_state.get("_review_ml_where") != where:  # another set: from its first sample nobody reviewed
        st.session_state["_review_ml_where"] = where
        st.session_state["review_ml_pos"] = first()
    pos = min(max(int(st.session_state.get("review_ml_pos", 0)), 0), len(rows) - 1)
    sid = str(d.ids[int(rows[pos])])
    with st.container(key="review_ml_progress"):
        review_progress(done, len(rows), pos)

    def _reviewed_next() -> None:  # the "reviewed" event of the single-label queue: value = the set's name
        who, store = annotator_name(), annotation_store()
        if not who:
            st.session_state["review_ml_msg"] = NAME_FIRST
            return
        if store is None:
            st.session_state["review_ml_msg"] = "Findings cannot be saved: the dashboard is read-only."
            return
        try:
            store.record(fp, sid, who, "reviewed", name)
        except StoreError as exc:
            st.session_state["review_ml_msg"] = str(exc)
            return
        st.session_state["review_ml_pos"] = min(pos + 1, len(rows) - 1)

    prev_col, where_col, mark_col, next_col = st.columns([1, 2, 1.4, 1], vertical_alignment="center")
    prev_col.button("Previous", key="review_ml_prev", disabled=pos == 0, width="stretch",
                    on_click=lambda: st.session_state.update(review_ml_pos=pos - 1))
    where_col.caption(f"Sample {pos + 1} of {len(rows):,}")
    mark_col.button("Reviewed, next ▸", key="review_ml_reviewed", type="primary", width="stretch",
                    on_click=_reviewed_next)
    next_col.button("Next", key="review_ml_next", disabled=pos == len(rows) - 1, width="stretch",
                    on_click=lambda: st.session_state.update(review_ml_pos=pos + 1))
    if "review_ml_msg" in st.session_state:
        st.warning(md(st.session_state.pop("review_ml_msg")))
    row = int(rows[pos])
    true, predicted = sample_label_sets(ev, row)
    from evaldash.ui.notices import image_notice, rows_image_notice

    image_notice(ev)  # why the image below may not show, as on the single-label queue
    rows_image_notice(ev, [row])
    left, right = st.columns([1, 2])
    left.image(full_image(d.image_paths[row] if d.image_paths is not None else None, 256, root=d.images_root),
               width="stretch", output_format="PNG")
    with right, st.container(key="review_ml_facts"):
        st.dataframe(pd.DataFrame({"field": ["id", "true labels", "predicted labels"],
                                   "value": [str(d.ids[row]), true, predicted]}), hide_index=True, width="stretch")
        if d.has_scores:
            st.dataframe(sample_scores(ev, row), hide_index=True, width="stretch")
    findings_form(ev, row)
