"""Decision: what a threshold means in deployment (prevalence, costs, volume), the cheapest threshold,
the samples that flip when it moves, per-class operating points, and a signed-off record."""

import math

import numpy as np
import pandas as pd
import streamlit as st

from evaldash import decision as dc
from evaldash import figures, ui
from evaldash.annotations import StoreError, file_stem
from evaldash.errors import InputError

MAX_SHOWN = 25  # classes of the per-class rule's confusion matrix shown whole

ev = ui.page_setup("Decision")
d = ev.dataset
ui.need_scores(ev, "there is no threshold to choose")

classes = d.classes
c, lo, hi, step = ui.threshold_choice(ev)  # shared with /threshold; ?class=&t= deep links
name = classes[c]
sweep = ev.sweep(c)
# the class picker and the deployment inputs go above the slider but are drawn after it (see
# pages/threshold.py): on a laptop the inputs are then in the first screen
picker = st.container()
deployment_box = st.container()


st.caption("Choose the class to act on, say what deployment looks like, then move the threshold: the "
           "test-set numbers follow the slider at once, the deployment figures when you let go.")
t = float(st.session_state["threshold_t"])
ui.live_threshold(ev, c, t, f"Threshold: an item is flagged as {name} when its score ≥ threshold")
picker.selectbox("Concept" if ev.task == "multilabel" else "Class of interest" if not d.is_binary else "Positive class", list(range(d.n_classes)),
                 format_func=ui.class_label(ev), key="class_select")
ui.keep("class_select")
ui.keep("threshold_t")
ui.sync_query(**{"class": name, "t": f"{t:.6g}"})

# --- deployment inputs ---------------------------------------------------------------------------
deployment_box.markdown("**Deployment**")
measured = dc.measured_prevalence(sweep)
prev_key = f"dec_prevalence_{c}"  # per class: each class has its own test-set share
default_share = round(measured * 100, 4)
# a link /decision?share=2&cost_fn=20&per_day=5000 gives the inputs it names when the page is entered
INPUT_KEYS = {"share": prev_key, "cost_fp": "dec_cost_fp", "cost_fn": "dec_cost_fn", "value_tp": "dec_value_tp",
              "per_day": "dec_volume"}
for param, value in dc.inputs_from_query({p: ui.deep_link(p) for p in INPUT_KEYS}).items():
    st.session_state[INPUT_KEYS[param]] = value
# short labels (the help says more) in a row that wraps: readable at 1024 px, one line at 1400
cols = [deployment_box.container(horizontal=True, key="dec_inputs")] * 5
prevalence_pct = cols[0].number_input(
    f"Share of {ui.md(name)} (%)", 0.0, 100.0, default_share, 0.1, width=165,
    format="%.4f", key=prev_key, help=f"The expected share of {ui.md(name)} in deployment, in percent. "
    f"The test set has {measured:.4%}. Precision, alerts and cost depend on it.")
cost_fp = cols[1].number_input("Cost of a FP", 0.0, None, 1.0, 0.5, key="dec_cost_fp", width=140,
                               help="What one false positive (a false alarm) costs (any unit: money, minutes of "
                                    "review).")
cost_fn = cols[2].number_input("Cost of a FN", 0.0, None, 1.0, 0.5, key="dec_cost_fn", width=140,
                               help="What one false negative (a missed positive) costs, in the same unit.")
value_tp = cols[3].number_input("Value of a TP", 0.0, None, 0.0, 0.5, key="dec_value_tp", width=140,
                                help="What one true positive (a caught positive) is worth (subtracted from the cost).")
volume = cols[4].number_input("Items per day", 0.0, None, None, 1000.0, key="dec_volume", width=150,
                              placeholder="e.g. 50000", help="Optional: the deployment figures per day too.")
try:
    inputs = dc.DeploymentInputs(prevalence_pct / 100, cost_fp, cost_fn, value_tp, volume)
except InputError as exc:
    st.error(ui.md(exc))
    ui.stop()
ui.sync_query(**dc.inputs_query(inputs, default_share))

fig = dc.deployment_figures(sweep, t, inputs)  # under a millisecond: two binomial draws per resample


def _cost(e):
    # kept per (class, inputs): what is drawn and the minimum, not the full curve (a value per score)
    curve = dc.cost_curve(e.sweep(c), inputs)
    return curve.drawn(), curve.best_index is not None, curve.best_threshold


drawn, has_best, best = ev.memo(("cost", c, inputs), _cost)
v, iv = fig.values, fig.intervals


def num(x: float, digits: int = 0) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:,.{digits}f}"


def rng(key: str, digits: int = 0) -> str:
    low, high = iv[key]
    return "" if not (math.isfinite(low) and math.isfinite(high)) else f" [{num(low, digits)}, {num(high, digits)}]"


with st.container(key="dec_summary", border=True):
    st.markdown(f"**At threshold {t:.4g}, with {inputs.prevalence:.2%} {ui.md(name)} in deployment** "
                f"(95% intervals in brackets):")
    lines = [
        f"- Of every 10,000 items, **{num(v['alerts_per_10k'])}**{rng('alerts_per_10k')} are flagged as "
        f"{ui.md(name)}.",
        f"- Of the flagged, a share of **{num(v['precision'], 3)}**{rng('precision', 3)} really are "
        f"{ui.md(name)} (precision corrected to the deployment share; on the test set it is "
        f"{num(fig.tp / (fig.tp + fig.fp), 3) if fig.tp + fig.fp else 'n/a'}).",
        f"- **{num(v['missed_per_10k'])}**{rng('missed_per_10k')} {ui.md(name)} items per 10,000 are missed "
        f"(recall {num(v['recall'], 3)}{rng('recall', 3)}).",
        f"- Expected cost: **{num(v['cost_per_10k'], 1)}**{rng('cost_per_10k', 1)} per 10,000 items.",
    ]
    if inputs.volume_per_day is not None:
        lines.append(f"- Per day at {inputs.volume_per_day:,.0f} items: **{num(v['alerts_per_day'])}**"
                     f"{rng('alerts_per_day')} alerts, **{num(v['missed_per_day'])}**{rng('missed_per_day')} "
                     f"missed, cost **{num(v['cost_per_day'], 1)}**{rng('cost_per_day', 1)}.")
    st.markdown("\n".join(lines))
    if fig.precision_undefined_share > 0.01:
        st.caption(f"In {fig.precision_undefined_share:.0%} of the resamples nothing was flagged; the precision "
                   "interval is over the others.")

# --- the cheapest threshold ------------------------------------------------------------------------
# no minimum when every cost is undefined (e.g. a class without positives at a prevalence above 0)
best_fig = dc.deployment_figures(sweep, best, inputs) if has_best else None
left, right = st.columns([3, 1], vertical_alignment="center")
if not has_best:
    left.info("The expected cost is undefined here (the test set lacks positives or negatives of this class).")
else:
    where = ("flag nothing" if math.isinf(best) else f"threshold **{best:.4g}**")
    left.markdown(f"Cheapest under these inputs: {where}, expected cost "
                  f"**{num(best_fig.values['cost_per_10k'], 1)}** per 10,000 items "
                  f"({num(best_fig.values['alerts_per_10k'])} alerts, {num(best_fig.values['missed_per_10k'])} "
                  "missed).")
    right.button("Use this threshold", key="dec_take_best", on_click=ui.set_threshold, args=(ev, c, best),
                 width="stretch", disabled=math.isfinite(best) and min(max(best, lo), hi) == t)



def cheapest(x: str, y: str) -> tuple[float, float] | None:
    """The cheapest threshold's point on a chart of figure ``y`` against ``x``."""
    return None if best_fig is None else (best_fig.values[x], best_fig.values[y])


roc = ev.class_curves(c)
cur_cost = (t, v["cost_per_10k"])
best_cost = (best, best_fig.values["cost_per_10k"]) if best_fig is not None and math.isfinite(best) else None
charts = [st.container(), *st.columns(2)]  # the cost chart at full width, ROC and PR beside each other
x_range = (lo, hi)
with charts[0]:
    ui.chart(figures.cost_chart(drawn, cur_cost, best_cost, x_range), key="dec_cost_chart")
with charts[1]:
    ui.chart(figures.operating_chart("ROC", "false-positive rate", "true-positive rate (recall)", roc["roc_fpr"],
                                     roc["roc_tpr"], (v["fpr"], v["recall"]),
                                     cheapest("fpr", "recall")), key="dec_roc_chart")
with charts[2]:
    ui.chart(figures.operating_chart(f"Precision at {inputs.prevalence:.2%} prevalence against recall", "recall",
                                     "precision (deployment)", drawn["recall"], drawn["precision"],
                                     (v["recall"], v["precision"]),
                                     cheapest("recall", "precision")),
             key="dec_pr_chart")

# --- flips --------------------------------------------------------------------------------------------
st.subheader("What changes if the threshold moves", anchor=False)
ui.remember("dec_from", round(t, 6))
a_col, b_col, btn_col = st.columns([2, 2, 1], vertical_alignment="bottom")
a = a_col.number_input("From threshold A", format="%.6f", step=step, key="dec_from")
b_col.markdown(f"to **B = {t:.6g}** (the slider)")
btn_col.button("A = current threshold", key="dec_set_from",
               on_click=lambda: st.session_state.__setitem__("dec_from", t), width="stretch")
ui.keep("dec_from")
if ui.on_engine(ev):  # counted and ranked in the engine, a page at a time
    from evaldash.engines.flips import engine_flips

    flip = engine_flips(ev, c, float(a), t)
else:
    positives = d.y_true[:, c] if ev.task == "multilabel" else d.y_true == c  # a concept's own labels
    flip = dc.flips(d.scores[:, c], positives, float(a), t)  # a few ms at a million rows
counts = flip.counts
KINDS = {"new_tp": "new true positives", "new_fp": "new false positives", "new_fn": "new false negatives",
         "new_tn": "newly correct negatives"}
st.markdown(" · ".join(f"**{counts[k]:,}** {label}" for k, label in KINDS.items()))
# until the user picks a kind, show the first one that has samples (not an empty tab under non-zero counts)
first = next((k for k in KINDS if counts[k]), "new_tp")
if not st.session_state.get("dec_flip_picked") and st.session_state.get("dec_flip_kind") != first:
    st.session_state["dec_flip_kind"] = first
kind = st.segmented_control("Show", list(KINDS), format_func=lambda k: f"{KINDS[k]} ({counts[k]:,})",
                            key="dec_flip_kind",
                            on_change=lambda: st.session_state.__setitem__("dec_flip_picked", True)) or first
rows = getattr(flip, kind)
if len(rows):
    if not ui.on_engine(ev):  # the engine's come highest score first
        order = np.argsort(-d.scores[rows, c], kind="stable")  # the highest scores first
        rows = rows[order]
    ui.image_notice(ev)
    page = ui.pager("dec_flips", len(rows))
    start = page * ui.PAGE_SIZE
    ui.gallery(ev, rows[start:start + ui.PAGE_SIZE], len(rows), "dec_flip", page)
else:
    st.caption("No sample changes this way between A and B." if a != t else
               "A equals B: move the slider (or type A) to see what changes.")

# --- the record -------------------------------------------------------------------------------------
st.subheader("Record the decision", anchor=False)
store = ui.annotation_store()
source = st.session_state["source"]
approver = ui.approver_input()
rationale = st.text_area("Rationale", key="dec_rationale",
                         placeholder="Why this threshold: who is affected, what the costs stand for, what was weighed.")
record = dc.decision_record(fig, fingerprint=ui.fingerprint(ev), model_file=str(source.path), class_name=name,
                            rationale=rationale, approver=approver)
buttons = st.columns(3)


# Saved here, in the run the click starts, not in the button's callback: a value typed just before
# the click (a rationale not yet committed, a changed prevalence) reaches this run's record only.
if st.session_state.pop("dec_save_requested", False) and store is not None:
    if not record.approver:
        st.session_state["dec_note"] = ("error", "Name the approver before saving.")
    else:
        try:
            store.save_decision(record)
            st.session_state["dec_note"] = ("success", f"Saved: class {name} at threshold {t:.6g}, approved by "
                                                       f"{record.approver}.")
        except StoreError as exc:
            st.session_state["dec_note"] = ("error", str(exc))

buttons[0].button("Save to the database", key="dec_save", disabled=store is None,
                  on_click=lambda: st.session_state.__setitem__("dec_save_requested", True),
                  type="primary", width="stretch",
                  help=None if store is not None else "The annotation database is unavailable (see the sidebar).")
stem = f"decision-{file_stem(ui.run_name(source))}-{file_stem(name)}"
buttons[1].download_button("Download Markdown", record.to_markdown(), f"{stem}.md", "text/markdown",
                           key="dec_md", width="stretch")
buttons[2].download_button("Download JSON", record.to_json(), f"{stem}.json", "application/json",
                           key="dec_json", width="stretch")
note = st.session_state.pop("dec_note", None)
if note:
    (st.success if note[0] == "success" else st.error)(ui.md(note[1]))


def _open_record(record: dc.DecisionRecord) -> None:
    """Show a saved record on the page: its class, threshold and inputs (the URL follows)."""
    if record.class_name not in classes:
        st.session_state["dec_note"] = ("error", f"The record's class {record.class_name} is not a class of this file.")
        return
    k = classes.index(record.class_name)
    st.session_state["class_select"] = k
    ui.set_threshold(ev, k, record.threshold)
    i = record.inputs
    for key, value in ((f"dec_prevalence_{k}", i.prevalence * 100), ("dec_cost_fp", i.cost_fp),
                       ("dec_cost_fn", i.cost_fn), ("dec_value_tp", i.value_tp), ("dec_volume", i.volume_per_day)):
        st.session_state[key] = value
    st.session_state["dec_note"] = ("success", f"Opened the record {record.title()}.")


if store is not None:
    try:
        saved = store.decisions(ui.fingerprint(ev))
    except StoreError as exc:
        saved = []
        st.error(ui.md(exc))
    if saved:
        st.markdown(f"**Decisions recorded for this dataset** ({len(saved)}, newest first)")
        st.container(key="dec_records").dataframe(pd.DataFrame([r.summary() for r in saved]), hide_index=True,
                     column_config={"created_at": st.column_config.DatetimeColumn("date (UTC)"),
                                    "precision": st.column_config.NumberColumn(format="%.3f"),
                                    "recall": st.column_config.NumberColumn(format="%.3f"),
                                    "alerts_per_10k": st.column_config.NumberColumn(format="%.0f"),
                                    "cost_per_10k": st.column_config.NumberColumn(format="%.1f")})
        pick, open_col = st.columns([3, 1], vertical_alignment="bottom")
        shown = pick.selectbox("Record", range(len(saved)), format_func=lambda i: saved[i].title(),
                               key="dec_record_pick")
        open_col.button("Open this record", key="dec_open_record", width="stretch",
                        on_click=_open_record, args=(saved[shown or 0],))
    else:
        st.caption("No decision has been recorded for this dataset yet.")

# --- multi-class: one threshold per class (multi-label: each concept's own, on /threshold) ---------
if ev.task == "multilabel":
    st.caption("Each concept has its own threshold: set them all on Curves & threshold, which saves them as a "
               "thresholds file.")
elif not d.is_binary:
    st.divider()
    st.subheader("One threshold per class", anchor=False)
    st.caption("Each class gets its own threshold (one-vs-rest). A sample goes to the highest-scoring class "
               "whose score passes that class's threshold; when none passes, it is set aside (abstain) or "
               "given the highest-scoring class anyway. The table, matrix and coverage below follow the "
               "thresholds you type.")
    if "dec_thresholds" not in st.session_state or len(st.session_state["dec_thresholds"]) != d.n_classes:
        st.session_state["dec_thresholds"] = [0.5 if d.is_probability else 0.0] * d.n_classes
        st.session_state["dec_thresholds_version"] = 0

    def _suggest_all(objective: str):
        sweeps = [ev.sweep(k) for k in range(d.n_classes)]
        values = dc.suggest_thresholds(sweeps, objective, st.session_state["dec_cost_fp"],
                                       st.session_state["dec_cost_fn"], st.session_state["dec_value_tp"])
        st.session_state["dec_thresholds"] = [float(x) for x in values]
        st.session_state["dec_thresholds_version"] += 1  # a fresh table, without the old edits

    fallback = st.radio("When no class passes its threshold", dc.FALLBACKS, horizontal=True, key="dec_fallback",
                        format_func={"abstain": "abstain (set the sample aside)",
                                     "argmax": "fall back to the highest score"}.get)
    sug = st.columns(3)
    sug[0].button("Suggest: best F1 for each class", key="dec_suggest_f1", on_click=_suggest_all, args=("f1",),
                  width="stretch")
    sug[1].button("Suggest: lowest cost for each class", key="dec_suggest_cost",
                  on_click=_suggest_all, args=("cost",), width="stretch")
    st.caption("Suggestions are chosen class by class; as classes compete for a sample, the combined result "
               "can differ a little from each class's own optimum. An empty cell means the class is never "
               "predicted by its threshold.")
    base = pd.DataFrame({"class": list(classes),
                         "threshold": [None if not math.isfinite(x) else x for x in st.session_state["dec_thresholds"]]})
    ed_col, res_col = st.columns([1, 2])
    with ed_col.container(key="dec_class_thresholds"):
        edited = st.data_editor(base, key=f"dec_thresholds_table_{st.session_state['dec_thresholds_version']}",
                                hide_index=True, disabled=["class"],
                                column_config={"threshold": st.column_config.NumberColumn(format="%.4f")})
    thresholds = np.array([np.inf if pd.isna(x) else float(x) for x in edited["threshold"]])
    # applied again only when the rule changes (~70 ms at a million rows; on an engine one query that
    # counts the (true class, decision) cells), not on every slider release
    rule = (ui.fingerprint(ev), tuple(thresholds.tolist()), fallback)
    if st.session_state.get("_dec_rule") != rule:
        st.session_state["_dec_rule"] = rule
        st.session_state["_dec_op"] = ev.operating_points(thresholds, fallback)
    op = st.session_state["_dec_op"]
    m = op.macro
    res_col.markdown(f"**Coverage** {op.coverage:.3f} ({op.abstained:,} of {op.n:,} set aside) · **accuracy** "
                     f"{op.accuracy:.3f} over all samples, {op.accuracy_covered:.3f} over those given a class · "
                     f"**macro F1** {m['f1']:.3f}")
    pc = op.per_class
    with res_col.container(key="dec_class_metrics"):
        st.dataframe(pd.DataFrame({"class": list(classes), "threshold": thresholds, "precision": pc["precision"],
                                   "recall": pc["recall"], "F1": pc["f1"], "support": pc["support"],
                                   "predicted": pc["predicted"], "set aside": pc["abstained"]}),
                     hide_index=True,
                     column_config={k: st.column_config.NumberColumn(format="%.3f")
                                    for k in ("precision", "recall", "F1")} |
                     {"threshold": st.column_config.NumberColumn(format="%.4f")})
    # at most MAX_SHOWN classes: the full matrix of thousands of classes is millions of cells (and
    # above Streamlit's 262,144 styled cells it fails); beyond that, the classes with the most errors
    cells = op.cells
    if d.n_classes <= MAX_SHOWN:
        st.markdown("**Confusion matrix** (rows: true class; the last column: set aside)")
        shown = np.arange(d.n_classes)
        block = cells.sub(shown, np.append(shown, d.n_classes))
        columns = [classes[i] for i in shown] + ["(set aside)"]
    else:
        st.markdown(f"**Confusion matrix of the 20 classes with the most errors** (of {d.n_classes}; rows: true "
                    "class; then the samples predicted as any other class, and those set aside)")
        shown = np.sort(np.argsort(-cells.errors(), kind="stable")[:20])
        inner = cells.sub(shown)
        aside = pc["abstained"][shown]
        block = np.column_stack([inner, cells.support[shown] - inner.sum(axis=1) - aside, aside])
        columns = [classes[i] for i in shown] + ["(other classes)", "(set aside)"]
    cm = pd.DataFrame(block, index=[classes[i] for i in shown], columns=columns)
    peak = max(1, int(block.max()))
    shade = lambda v: f"background-color: rgba(31, 119, 180, {0.08 + 0.6 * v / peak:.2f})" if v else ""  # noqa: E731
    st.container(key="dec_class_confusion").dataframe(cm.style.map(shade))
    st.download_button("Download the thresholds (JSON)", dc.thresholds_json(classes, thresholds, fallback),
                       "thresholds.json", "application/json", key="dec_thresholds_json")
    st.caption("The same rule from the command line: `evaldash report FILE --thresholds thresholds.json`.")
