"""Compare two runs: headline deltas with bootstrap intervals, per-class deltas, confusion matrices and
their difference, the samples B fixed and broke, and both models' curves."""

import numpy as np
import pandas as pd
import streamlit as st

from evaldash import figures, ui
from evaldash.compare import aligned_rows, compare, fixed_broken, supported_sign
from evaldash.confusion_counts import column_changes
from evaldash.errors import InputError

ui.page_setup("Compare")
open_runs = ui.runs()
if len(open_runs) < 2:
    st.info("Compare needs two open files: open another one in the sidebar ('Open another file…'), or start "
            "with `evaldash serve A.csv B.csv`.")
    ui.stop()

keys = [r.key for r in open_runs]
by_key = {r.key: r for r in open_runs}
for name, default in (("a", keys[0]), ("b", keys[1])):
    link = ui.deep_link(name)
    if link in by_key:
        st.session_state[f"cmp_{name}"] = link
    elif st.session_state.get(f"cmp_{name}") not in by_key:
        st.session_state[f"cmp_{name}"] = default
left, right = st.columns(2)
run_names = {k: ui.run_name(r) for k, r in by_key.items()}  # runs that share a file name are told apart
a_key = left.selectbox("A (e.g. the current model)", keys, format_func=run_names.get, key="cmp_a")
b_key = right.selectbox("B (e.g. the new model)", keys, format_func=run_names.get, key="cmp_b")
ui.sync_query(a=a_key, b=b_key)
if a_key == b_key:
    st.info("Pick two different runs.")
    ui.stop()
try:
    a, b = ui.load(by_key[a_key]), ui.load(by_key[b_key])
except InputError as exc:
    st.error(ui.md(exc))
    ui.stop()
name_a, name_b = ui.run_name(by_key[a_key]), ui.run_name(by_key[b_key])
pair = None
if ui.same_engine(a, b) and "multilabel" not in (a.task, b.task):  # paired by a JOIN on id in the engine
    try:
        pair, result = ui.engine_comparison(by_key[a_key], by_key[b_key], a, b)
    except InputError as exc:
        st.error(ui.md(exc))
        ui.stop()
elif ui.same_engine(a, b) and a.task == b.task == "multilabel" and ui.multilabel_pair(a, b) is not None:
    ui.concept_compare(a, b, name_a, name_b, pair=ui.multilabel_pair(a, b))  # the memory path's numbers and rows
    ui.stop()
elif ui.on_engine(a) or ui.on_engine(b):  # one in memory: each run's own numbers; pairing needs both in one place
    on = a_key if ui.on_engine(a) else b_key
    if a.task != b.task and "multilabel" in (a.task, b.task):
        st.info("A and B are of different tasks (one multi-label, one single-label): pick two runs of the same task.")
        ui.stop()
    head_a, head_b = a.headline(), b.headline()
    metrics = ui.CONCEPT_COMPARED if a.task == "multilabel" else {
        "accuracy": "accuracy", "macro_f1": "macro F1", "macro_roc_auc": "macro ROC AUC", "ece": "ECE (lower is better)"}
    shared = [c for c in a.dataset.classes if c in b.dataset.classes]
    f1 = lambda e, c: float(e.per_class["f1"][e.dataset.classes.index(c)])  # noqa: E731
    rows = [(label, head_a[m], head_b[m]) for m, label in metrics.items()] + [
        (f"F1 of {c}", f1(a, c), f1(b, c)) for c in shared]
    table = pd.DataFrame({"metric": [r[0] for r in rows], f"A: {name_a}": [r[1] for r in rows],
                          f"B: {name_b}": [r[2] for r in rows], "B − A": [r[2] - r[1] for r in rows]})
    st.subheader("Headline and per-class F1", anchor=False)
    st.dataframe(table.style.format({c: "{:.3f}" for c in table.columns[1:3]} | {"B − A": "{:+.3f}"}, na_rep="n/a"),
                 hide_index=True, key="cmp_engine_headline")
    engine_run = a if on == a_key else b
    where = {k: f"on the {ui.on_engine(e)} engine" if ui.on_engine(e) else "in memory"
             for k, e in ((a_key, a), (b_key, b))}
    line = (f"A is {ui.md(where[a_key])}, B is {ui.md(where[b_key])}: the differences' bootstrap intervals, "
            "the samples B fixed and broke and the paired matrices need both runs on one engine or both in memory.")
    if ui.same_engine(a, b):  # two multi-label runs too large to read back for the row bootstrap
        from evaldash.engines import multilabel_paired

        line = (f"A and B are both on the {ui.on_engine(a)} engine but too large to read back: the multi-label "
                "bootstrap draws rows, so the differences' intervals, the concept-matrix difference and the samples "
                f"B fixed and broke are shown up to {multilabel_paired.IN_MEMORY_MAX_CELLS:,} rows × concepts per "
                "file.")
    with st.container(key="cmp_engine_line", horizontal=True, vertical_alignment="center"):
        st.caption(line, width="content")
        ui.sample_button(engine_run, source=by_key[on])
    ui.stop()
if "multilabel" in (a.task, b.task):  # the multi-label metrics, paired when the ids match
    ui.concept_compare(a, b, name_a, name_b)
    ui.stop()
if pair is None:
    result = a.memo(("compare", b_key, ui.fingerprint(b)), lambda _: compare(a, b))
iv = result["intervals"]
# B's row of each of A's samples (None unless the ids match): once per run; on an engine, of the rows shown
rows_b = aligned_rows(a, b) if pair is None else pair.rows_b if result["paired"] else None

st.subheader("Headline", anchor=False)
HEADLINE = {"accuracy": "accuracy", "macro_f1": "macro F1", "macro_roc_auc": "macro ROC AUC",
            "ece": "ECE (lower is better)"}
head_a, head_b = a.headline(), b.headline()
delta = result["delta"]
heads = pd.DataFrame({
    "metric": list(HEADLINE.values()),
    f"A: {name_a}": [head_a[m] for m in HEADLINE],
    f"B: {name_b}": [head_b[m] for m in HEADLINE],
    "B − A": [delta.get(m, np.nan) for m in HEADLINE],
    "95% interval": [f"[{iv[m][0]:+.3f}, {iv[m][1]:+.3f}]" if m in iv else "n/a" for m in HEADLINE],
})
st.dataframe(heads.style.format({c: "{:.3f}" for c in heads.columns[1:3]} | {"B − A": "{:+.3f}"}, na_rep="n/a"),
             hide_index=True, key="cmp_headline")
for m, why in result["unavailable"].items():
    st.info(f"No {HEADLINE[m].split(' (')[0]} difference: {ui.md(why)}.", icon=":material/info:")


def _say(text: str) -> None:
    (st.success if text.startswith("B is better") else st.warning if text.startswith("B is worse") else st.info)(
        ui.md(text))


_say(result["verdict"])
if "verdict_auc" in result:
    _say(result["verdict_auc"])
st.caption(("Paired: both files hold the same samples, so each bootstrap resample keeps both models' answers "
            "together." if result["paired"] else "Unpaired: the files hold different samples; each is resampled "
            "on its own.") + f" {result['resamples']} resamples, seed {result['seed']}.")
for side, name in (("a", name_a), ("b", name_b)):
    if result[f"only_in_{side}"]:
        st.warning(f"Classes only in {ui.md(name)}: {', '.join(ui.md(c) for c in result[f'only_in_{side}'])}; "
                   "per-class numbers cover the shared classes.")

st.subheader("Per class", anchor=False)
shared = result["shared_classes"]
per = pd.DataFrame({
    "class": shared,
    "F1 A": [a.per_class["f1"][a.dataset.classes.index(c)] for c in shared],
    "F1 B": [b.per_class["f1"][b.dataset.classes.index(c)] for c in shared],
    "B − A": [result["delta"][f"f1[{c}]"] for c in shared],
    "95% interval": [f"[{iv[f'f1[{c}]'][0]:+.3f}, {iv[f'f1[{c}]'][1]:+.3f}]" for c in shared],
})


signs = [supported_sign(iv[f"f1[{c}]"]) for c in shared]


def _shade(column):  # only the differences whose 95% interval excludes 0
    return [{1: "color: #1a7f37; font-weight: 600", -1: "color: #cf222e; font-weight: 600"}.get(s, "") for s in signs]


st.dataframe(per.style.format({"F1 A": "{:.3f}", "F1 B": "{:.3f}", "B − A": "{:+.3f}"}).apply(_shade, subset=["B − A"]),
             hide_index=True, key="cmp_per_class")
st.caption("Green or red: B is better or worse on that class, its 95% interval above or below 0; uncoloured: the "
           "interval includes 0, no clear difference.")

if a.dataset.classes == b.dataset.classes:
    st.subheader("Confusion matrices", anchor=False)
    labels = list(a.dataset.classes)
    k = len(labels)
    # from the observed cells: two k x k matrices are 400 MB at 5,000 classes
    shown = list(range(k)) if k <= 25 else sorted(np.argsort(-column_changes(a.counts, b.counts))[:20])
    ca, cb = a.counts.sub(shown), b.counts.sub(shown)
    g1, g2 = st.columns(2)
    with g1:
        st.caption(f"A: {ui.md(name_a)}")
        ui.confusion_grid(ca, ca, [labels[i] for i in shown], "counts", None, a.counts.support[shown],
                          lambda: None, key="cmp_cm_a", cell_px=28,
                          cells=figures.confusion_cells(ca, ca, "counts", a.counts.support[shown], shares=False))
    with g2:
        st.caption(f"B: {ui.md(name_b)}")
        ui.confusion_grid(cb, cb, [labels[i] for i in shown], "counts", None, b.counts.support[shown],
                          lambda: None, key="cmp_cm_b", cell_px=28,
                          cells=figures.confusion_cells(cb, cb, "counts", b.counts.support[shown], shares=False))

    def _on_diff():
        cell = ui.clicked_cell("cmp_diff")
        if cell is not None:
            st.session_state["cmp_cell"] = (shown[cell[0]], shown[cell[1]])
            ui.request_scroll("cmp_moved")  # the samples that moved open below the matrices

    st.markdown("**Difference (B − A)**: click a cell to see the samples that moved into or out of it")
    picked = st.session_state.get("cmp_cell")
    sel = (shown.index(picked[0]), shown.index(picked[1])) if picked and picked[0] in shown and picked[1] in shown \
        else None
    ui.confusion_grid(cb - ca, cb - ca, [labels[i] for i in shown], "diff", sel, None, _on_diff, key="cmp_diff",
                      cells=figures.difference_cells(cb - ca))
    if picked and rows_b is not None:
        i, j = picked
        if pair is None:
            da, db = a.dataset, b.dataset
            in_a = (da.y_true == i) & (da.y_pred == j)
            in_b = (db.y_true[rows_b] == i) & (db.y_pred[rows_b] == j)
            moved = np.flatnonzero(~in_a & in_b), np.flatnonzero(in_a & ~in_b)
        else:  # each a page at a time from the engine, counted from the paired cells
            moved = pair.moved(i, j)
        with st.container(key="cmp_moved"):
            st.markdown(f"**True {ui.md(labels[i])} → predicted {ui.md(labels[j])}**: "
                        f"{len(moved[0])} moved in with B, {len(moved[1])} moved out")
            ui.image_notice(a)  # the thumbnails below are A's images
            for title, rows in (("moved in (B puts them here, A did not)", moved[0]),
                                ("moved out (A put them here, B does not)", moved[1])):
                st.caption(f"{title}: {ui.images(len(rows))}")
                ui.pair_gallery(a, b, rows[:ui.PAGE_SIZE], rows_b, key=f"cmp_moved_{title[:9]}")
            ui.scroll_into_view("cmp_moved")
    elif picked:
        st.info("The files hold different samples, so samples cannot be followed from A to B.")

groups = None if rows_b is None else fixed_broken(a, b, rows_b) if pair is None else pair.fixed_broken(result)
if groups is not None:
    st.subheader("Samples that changed", anchor=False)
    which = st.segmented_control("Show", ["fixed", "broken", "both_wrong"], key="cmp_group",
                                 format_func={"fixed": f"B fixed ({len(groups['fixed'])})",
                                              "broken": f"B broke ({len(groups['broken'])})",
                                              "both_wrong": f"both wrong ({len(groups['both_wrong'])})"}.get,
                                 default="fixed") or "fixed"
    rows = groups[which]
    with st.container(key="cmp_changed"):
        ui.image_notice(a)
        st.caption(f"{ui.images(len(rows))} · B's most confident first · each caption shows both models' answers")
        if len(rows):
            page = ui.pager("cmp_changed", len(rows))
            ui.pair_gallery(a, b, rows[page * ui.PAGE_SIZE:(page + 1) * ui.PAGE_SIZE], rows_b,
                            key=f"cmp_{which}")

if a.dataset.has_scores and b.dataset.has_scores and shared:
    st.subheader("Curves of both models", anchor=False)
    c_name = st.selectbox("Class (one-vs-rest)", shared, key="cmp_class")
    ia, ib = a.dataset.classes.index(c_name), b.dataset.classes.index(c_name)
    t_cols = st.columns(2)
    default = lambda e: 0.5 if e.dataset.is_probability else 0.0  # noqa: E731
    ta = t_cols[0].number_input(f"Threshold of A ({ui.md(name_a)})", value=default(a), format="%.4f", step=0.01,
                                key="cmp_t_a")
    tb = t_cols[1].number_input(f"Threshold of B ({ui.md(name_b)})", value=default(b), format="%.4f", step=0.01,
                                key="cmp_t_b")
    ma, mb = a.sweep(ia).at(ta), b.sweep(ib).at(tb)
    cva, cvb = a.class_curves(ia), b.class_curves(ib)
    t_cols[0].caption(f"A: precision {ma['precision']:.3f} · recall {ma['recall']:.3f} · F1 {ma['f1']:.3f}")
    t_cols[1].caption(f"B: precision {mb['precision']:.3f} · recall {mb['recall']:.3f} · F1 {mb['f1']:.3f}")
    r1, r2 = st.columns(2)
    with r1:
        ui.chart(figures.curves_chart(f"ROC, class {c_name}", "false positive rate", "true positive rate",
                                      {f"A: {name_a}": (cva["roc_fpr"], cva["roc_tpr"]),
                                       f"B: {name_b}": (cvb["roc_fpr"], cvb["roc_tpr"])},
                                      {f"A: {name_a}": (ma["fpr"], ma["recall"]), f"B: {name_b}": (mb["fpr"], mb["recall"])},
                                      diagonal=True), key="cmp_roc")
    with r2:
        ui.chart(figures.curves_chart(f"Precision-recall, class {c_name}", "recall", "precision",
                                      {f"A: {name_a}": (cva["pr_recall"], cva["pr_precision"]),
                                       f"B: {name_b}": (cvb["pr_recall"], cvb["pr_precision"])},
                                      {f"A: {name_a}": (ma["recall"], ma["precision"]),
                                       f"B: {name_b}": (mb["recall"], mb["precision"])}), key="cmp_pr")
