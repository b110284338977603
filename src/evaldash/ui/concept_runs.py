"""Multi-label runs side by side: each slice's sample-level metrics, and two runs compared."""

from __future__ import annotations

import numpy as np
import pandas as pd
import streamlit as st

from evaldash.ui.text import images


def concept_slices(ev, column: str, chosen: tuple[str, str] | None = None, shown_n: int | None = None) -> None:
    """/slices for a multi-label file: each slice's subset accuracy, samples F1 and Hamming loss, worst
    samples F1 first (:func:`evaldash.multilabel_slices.multilabel_slice_table`); a selected row filters
    every page to that slice (``chosen``: the slice shown now, ``shown_n`` its samples)."""
    from evaldash.slices import MIN_RELIABLE
    from evaldash.ui.links import set_slice
    from evaldash.ui.text import md

    table = ev.memo(("slices", column), lambda e: e.slice_table(column))  # on an engine: GROUP BY slice there
    shown = table.assign(reliable=["yes" if r else f"no (n < {MIN_RELIABLE})" for r in table["reliable"]])
    st.caption("Worst samples F1 first. Select a row to show only that slice on every page.")
    with st.container(key="concept_slices"):
        event = st.dataframe(
            shown, key="slice_table", hide_index=True, width="stretch", on_select="rerun",
            selection_mode="single-row",
            column_config={"subset_accuracy": st.column_config.NumberColumn("subset accuracy", format="%.3f"),
                           "samples_f1": st.column_config.NumberColumn("samples F1", format="%.3f"),
                           "hamming_loss": st.column_config.NumberColumn("Hamming loss", format="%.3f")})
    picked = event.selection.rows if event else []
    if picked:
        value = str(table["slice"].iloc[picked[0]])
        if chosen != (column, value):
            set_slice(column, value)
            st.rerun()
    if chosen is not None:
        st.success(f"Every page now shows only **{md(chosen[0])} = {md(chosen[1])}** "
                   f"({shown_n:,} samples). 'Show all samples' in the sidebar undoes it.")


COMPARED = {"subset_accuracy": "subset accuracy", "samples_f1": "samples F1", "macro_f1": "macro F1",
            "micro_f1": "micro F1", "hamming_loss": "Hamming loss (lower is better)", "macro_roc_auc": "macro ROC AUC"}


def concept_compare(a, b, name_a: str, name_b: str, pair=None) -> None:
    """/compare of two multi-label runs: B − A of the sample-level metrics and each shared concept's F1,
    with 95% bootstrap intervals (paired when the ids and concepts match), and the samples fixed and
    broken (exact matches). Two runs of different tasks say so. ``pair``: two runs on one engine
    (:class:`~evaldash.engines.multilabel_paired.MultilabelEnginePair`), the memory path's numbers and rows."""
    from evaldash.multilabel_compare import compare_multilabel

    if a.task != b.task:
        st.info("A and B are of different tasks (one multi-label, one single-label): pick two runs of the same task.")
        return
    from evaldash.ui.findings_store import fingerprint

    if pair is None:
        result = a.memo(("compare", b.dataset.source, fingerprint(b)), lambda e: compare_multilabel(e, b))
    else:  # kept in A's evaluation (shared by every session) while B's stays open
        result = a.memo(("compare", b.dataset.source, id(b)), lambda e: pair.compare())
    delta, iv = result["delta"], result["intervals"]
    head_a, head_b = a.headline(), b.headline()
    st.subheader("Headline", anchor=False)
    heads = pd.DataFrame({
        "metric": list(COMPARED.values()),
        f"A: {name_a}": [head_a[m] for m in COMPARED], f"B: {name_b}": [head_b[m] for m in COMPARED],
        "B − A": [delta.get(m, np.nan) for m in COMPARED],
        "95% interval": [f"[{iv[m][0]:+.3f}, {iv[m][1]:+.3f}]" if m in iv else "n/a" for m in COMPARED]})
    with st.container(key="concept_compare_headline"):
        st.dataframe(heads.style.format({c: "{:.3f}" for c in heads.columns[1:3]} | {"B − A": "{:+.3f}"}, na_rep="n/a"),
                     hide_index=True)
    st.text(result["verdict"])
    st.caption(("Paired: the same samples in both runs, resampled together"
                + (f"; B fixes {result['fixed']:,} exact matches and breaks {result['broken']:,}"
                   if result["paired"] else "")) if result["paired"]
               else "Not paired (the ids or concepts differ): each run resampled on its own.")
    st.subheader("Per concept", anchor=False)
    shared = result["shared_classes"]
    per = pd.DataFrame({"concept": shared, "F1 B − A": [delta[f"f1[{c}]"] for c in shared],
                        "95% interval": [f"[{iv[f'f1[{c}]'][0]:+.3f}, {iv[f'f1[{c}]'][1]:+.3f}]" for c in shared]})
    with st.container(key="concept_compare_classes"):
        st.dataframe(per, hide_index=True, column_config={"F1 B − A": st.column_config.NumberColumn(format="%+.3f")})
    from evaldash.multilabel_compare import _aligned

    # B's row of each of A's samples, when the ids and concepts match
    rows_b = _aligned(a, b) if pair is None else pair.rows_b
    if a.dataset.classes == b.dataset.classes:
        _concept_difference(a, b, rows_b, pair)
    if rows_b is not None:
        _exact_match_galleries(a, b, rows_b, pair)


def _prefetch(a, b, rows, rows_b) -> None:
    """On an engine: the records of a gallery page of A's ``rows`` and of B's, one query each."""
    for e, page in ((a, rows), (b, [int(rows_b[int(r)]) for r in rows])):
        cache = getattr(e.dataset, "row_cache", None)
        if cache is not None and len(page):
            cache.fetch(np.asarray(page, dtype=np.int64))


def _concept_difference(a, b, rows_b, pair=None) -> None:
    """The concept-matrix difference (B − A counts) in the confusion grid; a clicked cell shows the
    samples that moved into or out of it (when the ids match)."""
    from evaldash import figures
    from evaldash.multilabel_compare import concept_cell_moves
    from evaldash.ui.components import clicked_cell, confusion_grid, request_scroll, scroll_into_view
    from evaldash.ui.galleries import PAGE_SIZE, pair_gallery
    from evaldash.ui.notices import image_notice
    from evaldash.ui.text import md

    view = a.matrix("counts")
    diff = b.concept_counts - a.concept_counts
    k1 = diff.shape[0]

    def _on_diff():
        cell = clicked_cell("cml_diff")
        if cell is not None:
            st.session_state["cml_cell"] = cell
            request_scroll("cml_moved")

    st.subheader("Concept matrix, B − A", anchor=False)
    st.caption("Rows: true concepts · columns: predicted concepts · each cell: B's count minus A's · click a cell to "
               "see the samples that moved into or out of it.")
    picked = st.session_state.get("cml_cell")
    picked = tuple(picked) if picked is not None and max(picked) < k1 else None
    confusion_grid(diff, diff, list(view.rows), "diff", picked, None, _on_diff, key="cml_diff",
                   cells=figures.difference_cells(diff), columns=list(view.columns))
    if picked is None:
        return
    if rows_b is None:
        st.info("The files hold different samples, so samples cannot be followed from A to B.")
        return
    i, j = picked
    moves = concept_cell_moves(a, b, rows_b, i, j) if pair is None else pair.moved(i, j)
    with st.container(key="cml_moved"):
        st.markdown(f"**True {md(view.rows[i])} → predicted {md(view.columns[j])}**: "
                    f"{len(moves['moved_in'])} moved in with B, {len(moves['moved_out'])} moved out")
        image_notice(a)  # the thumbnails below are A's images
        for kind, title in (("moved_in", "moved in (B puts them here, A did not)"),
                            ("moved_out", "moved out (A put them here, B does not)")):
            rows = moves[kind]
            st.caption(f"{title}: {images(len(rows))}")
            _prefetch(a, b, rows[:PAGE_SIZE], rows_b)
            pair_gallery(a, b, rows[:PAGE_SIZE], rows_b, key=f"cml_{kind}")
        scroll_into_view("cml_moved")


def _exact_match_galleries(a, b, rows_b, pair=None) -> None:
    """Galleries of the samples B fixed (its predicted set is the true set, A's is not) and broke."""
    from evaldash.multilabel_compare import exact_match_changes
    from evaldash.ui.galleries import PAGE_SIZE, pager, pair_gallery
    from evaldash.ui.notices import image_notice

    groups = exact_match_changes(a, b, rows_b) if pair is None else pair.fixed_broken()
    st.subheader("Samples that changed", anchor=False)
    which = st.segmented_control("Show", ["fixed", "broken", "both_wrong"], key="cml_group",
                                 format_func={"fixed": f"B fixed ({len(groups['fixed'])})",
                                              "broken": f"B broke ({len(groups['broken'])})",
                                              "both_wrong": f"both wrong ({len(groups['both_wrong'])})"}.get,
                                 default="fixed") or "fixed"
    rows = groups[which]
    with st.container(key="cml_changed"):
        image_notice(a)
        st.caption(f"{images(len(rows))} · an exact match is a predicted set equal to the true set · each caption "
                   "shows both models' sets")
        if len(rows):
            page = pager("cml_changed", len(rows))
            _prefetch(a, b, rows[page * PAGE_SIZE:(page + 1) * PAGE_SIZE], rows_b)
            pair_gallery(a, b, rows[page * PAGE_SIZE:(page + 1) * PAGE_SIZE], rows_b, key=f"cml_{which}")
