"""Error analysis: confident mistakes, unsure correct predictions, cases near the threshold, suspected
label errors."""

import streamlit as st

from evaldash import ui
from evaldash.error_analysis import GALLERIES, filter_mask, gallery_rows, metadata_filters

ev = ui.page_setup("Error analysis")
if ev.task == "multilabel":  # a concept's FN / FP and the suspected label errors (cleanlab, multi-label)
    ui.concept_error_galleries(ev)
    ui.stop()
d = ev.dataset
classes = d.classes
engine = ui.on_engine(ev)  # on an engine: each gallery is ranked there, a page at a time

# deep link: /errors?true=<class>&pred=<class>&gallery=<kind>, applied when the page is entered
for key, default in (("err_gallery", "mistakes"), ("err_true", []), ("err_pred", [])):
    ui.remember(key, default)
link = {k: ui.deep_link(k) for k in ("true", "pred", "gallery")}
if any(v is not None for v in link.values()):
    st.session_state["err_true"] = [classes.index(link["true"])] if link["true"] in classes else []
    st.session_state["err_pred"] = [classes.index(link["pred"])] if link["pred"] in classes else []
    if link["gallery"] in GALLERIES:
        st.session_state["err_gallery"] = link["gallery"]

kinds = [k for k in GALLERIES if (k != "threshold" or d.has_scores)
         and (k != "label_issues" or (d.is_probability and not engine))]
if st.session_state["err_gallery"] not in kinds:
    st.session_state["err_gallery"] = "mistakes"
kind = st.segmented_control("Gallery", kinds, format_func=GALLERIES.get, key="err_gallery") or "mistakes"

with st.expander("Filters", expanded=True):
    f1, f2 = st.columns(2)
    true_sel = f1.multiselect("True class", list(range(len(classes))), format_func=ui.class_label(ev),
                              key="err_true", placeholder="all classes")
    pred_sel = f2.multiselect("Predicted class", list(range(len(classes))), format_func=ui.class_label(ev),
                              key="err_pred", placeholder="all classes")
    found = ui.findings(ev)
    if engine:  # the tags' ids joined to the gallery's rows in the engine
        tags = ui.tag_picker(found, "Tagged with (any of)", "err_tags")
        tagged, tag_ids = None, (ui.tagged_ids(found, tags) if tags else None)
    else:
        _, tagged = ui.tag_filter(ev, found, "Tagged with (any of)", "err_tags")
    meta_filters = {}
    options = ev.memo("metadata_filters", lambda e: e.metadata_filters() if engine else metadata_filters(e.dataset))
    if options:
        cols = st.columns(min(3, len(options)))
        for n, (column, how, payload) in enumerate(options):
            box = cols[n % len(cols)]
            if how == "range":
                lo, hi = payload
                chosen = box.slider(ui.md(column), lo, hi, (lo, hi), key=f"err_meta_{n}")
                if chosen != (lo, hi):
                    meta_filters[column] = chosen
            else:
                chosen = box.multiselect(ui.md(column), payload, key=f"err_meta_{n}", placeholder="all")
                if chosen:
                    meta_filters[column] = chosen

for key in ("err_gallery", "err_true", "err_pred"):
    ui.keep(key)
mask = filter_mask(d, true_sel, pred_sel, meta_filters) if not engine else None
if tagged is not None:
    mask &= tagged
cls = t = None
if kind == "threshold":
    cls = ui.kept("class_select", d.positive if d.positive is not None else 0)
    t = float(ui.kept("threshold_t", 0.5 if d.is_probability else 0.0))
    st.caption(f"Samples whose score for class {ui.md(classes[cls])} is nearest the threshold {t:.3f} "
               "(set both on the Curves & threshold page).")
elif kind == "label_issues":
    st.caption("Samples whose given label is probably wrong (confident learning, cleanlab): the model is "
               "confidently sure of another class. Most suspicious first; tag them in Details.")
elif kind == "mistakes":
    st.caption("Wrong predictions the model was most sure of: often label errors or systematic confusions.")
else:
    st.caption("Right answers the model was least sure of: the border of what it has learned.")

if engine:
    ui.engine_line(ev, "The suspected label errors (cleanlab) are", key="err_sample")
page_key = f"err_{kind}"
page = int(st.session_state.get(f"{page_key}_page", 1)) - 1
with st.spinner("Ranking suspected label errors…" if kind == "label_issues" else "…", show_time=False):
    if engine:  # lazy: its length is one count, a page one query
        ranked = ev.gallery_samples(kind, true_sel, pred_sel, meta_filters, cls, t)
        if tag_ids is not None:
            from evaldash.engines.id_sets import within

            ranked = within(ev, ranked, tag_ids)
        total = len(ranked)
    else:
        rows, total = gallery_rows(ev, kind, mask, (page + 1) * ui.PAGE_SIZE, cls, t)
with st.container(key="error_gallery"):
    ui.image_notice(ev)
    st.caption(ui.images(total))
    if total:
        page = ui.pager(page_key, total)
        start = page * ui.PAGE_SIZE
        if engine:
            ui.gallery(ev, ranked[start:start + ui.PAGE_SIZE], total, page_key, page)
        else:
            rows, _ = gallery_rows(ev, kind, mask, start + ui.PAGE_SIZE, cls, t)
            ui.gallery(ev, rows[start:], total, page_key, page)
    else:
        st.info("No sample matches these filters.")
ui.sync_query(true=classes[true_sel[0]] if len(true_sel) == 1 else None,
              pred=classes[pred_sel[0]] if len(pred_sel) == 1 else None, gallery=kind)
