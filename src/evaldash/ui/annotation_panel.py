"""Who annotates (a log-in or a typed name the browser remembers), and the sidebar's findings panel and exports."""

from __future__ import annotations

import streamlit as st

from evaldash.evaluation import Evaluation
from evaldash.ui.components import _WEB
from evaldash.ui.findings_store import annotation_store, fingerprint
from evaldash.ui.sources import Source, app_args, load, run_name
from evaldash.ui.text import md

NAME_FIRST = "Type your name under Annotations in the sidebar first: every finding records who made it."


def signed_in_user() -> str | None:
    """The logged-in user when the server has a log-in (``--users``, ``--trust-user-header``), else
    None. Only the server's guard sets this header (it strips any a browser sends)."""
    from evaldash.auth import IDENTITY_HEADER, identity_from_header

    return identity_from_header(st.context.headers.get(IDENTITY_HEADER))


def annotator_name() -> str:
    """The logged-in user, else the annotator named in the sidebar ("" when none yet)."""
    who = signed_in_user()
    if who is not None:
        return who
    _remember_annotator()
    return str(st.session_state.get("_annotator") or "").strip()


def approver_input() -> str:
    """The approver of a decision record: the logged-in user, else a text field (typed name)."""
    who = signed_in_user()
    if who is not None:
        st.text(f"Approver: {who}")
        return who
    return st.text_input("Approver", value=annotator_name(), key="dec_approver", placeholder="your name")


def _keep_annotator() -> None:
    st.session_state["_annotator"] = str(st.session_state.get("annotator") or "").strip()


def _remember_annotator() -> None:
    """A new session (a reload, a new tab) starts with the name this browser remembers."""
    from evaldash.annotator_cookie import COOKIE, name_from_cookie

    if "_annotator" not in st.session_state:
        st.session_state["_annotator"] = name_from_cookie(st.context.cookies.get(COOKIE))


def _annotator_cookie(name: str) -> None:
    """Have the browser remember ``name`` (forget it when empty): see :mod:`evaldash.annotator_cookie`."""
    from evaldash.annotator_cookie import COOKIE, MAX_AGE

    st.components.v2.component("evaldash_annotator_cookie", js=(_WEB / "annotator_cookie.js").read_text())(
        key="annotator_cookie", data={"name": name, "cookie": COOKIE, "path": _base_path() or "/", "max_age": MAX_AGE})


def _base_path() -> str:
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}" if base else ""


def annotator_panel() -> None:
    """Sidebar: who is annotating (kept for the session) and where findings are saved."""
    st.markdown("**Annotations**")
    who = signed_in_user()
    if who is not None:  # a log-in names the annotator: no name to type
        st.text(f"Signed in as {who}")
        if app_args().users:  # the server's own log-in (a proxy's is left through the proxy)
            # HTML for target="_self" (a full page load); the only text in it is the operator's base path
            import html

            st.markdown(f'<a href="{html.escape(_base_path())}/_evaldash/logout" target="_self">Log out</a>',
                        unsafe_allow_html=True)
    else:
        # Each page's sidebar has its own widget, which starts empty: the name lives in a plain
        # session key, copied there when typed and given to the widget on every run; the browser
        # remembers it for its next sessions
        _remember_annotator()
        st.session_state["annotator"] = st.session_state.get("_annotator", "")
        st.text_input("Your name (saved with each finding)", key="annotator", placeholder="e.g. Ana",
                      on_change=_keep_annotator)
        _annotator_cookie(st.session_state["_annotator"])
    st.toggle("Use corrected labels", key="use_corrected",
              help="Every metric, the confusion matrix and the curves use the annotators' corrected labels.")
    info = st.session_state.get("corrections")
    if info is not None:
        st.caption(f"{info['corrected']} label{'s' if info['corrected'] != 1 else ''} corrected; "
                   f"{info['mistakes_were_label_errors']} former mistake"
                   f"{'s were' if info['mistakes_were_label_errors'] != 1 else ' was'} label errors"
                   + (f"; {info['unknown']} correction(s) name no class of this file, ignored" if info["unknown"] else ""))
    store = annotation_store()
    if store is None or st.session_state.get("store_error"):
        st.error("Findings cannot be saved, the dashboard is read-only: "
                 + md(st.session_state.get("store_error", "")), icon=":material/warning:")
    else:
        st.caption(f"Saved in {md(store.name)}")


def export_panel(evaluation: Evaluation) -> None:
    """Sidebar: download the findings (CSV, JSON) and the predictions file with ``label_corrected``."""
    from evaldash import annotations as an

    store = annotation_store()
    if store is None:
        return
    source: Source = st.session_state["source"]
    fp = fingerprint(evaluation)
    base = load(source).dataset  # the labels as given, also while corrected labels are in use
    stem = an.file_stem(run_name(source))
    with st.expander("Export findings"):
        # made when asked (reading the predictions file again can take seconds at a million rows),
        # then offered as plain downloads of what was made
        if st.button("Prepare the files", key="export_prepare", width="stretch"):
            state = store.state(fp)
            st.session_state["_exports"] = {
                "fp": fp, "csv": an.export_bytes(state, "csv", fp), "json": an.export_bytes(state, "json", fp),
                "predictions": an.predictions_export_bytes(source.path, base, state), "samples": len(an.export_table(state)),
            }
        made = st.session_state.get("_exports")
        if made and made["fp"] == fp:
            st.caption(f"Findings of {made['samples']} samples, as of when prepared.")
            st.download_button("Annotations (CSV)", made["csv"], file_name=f"{stem}.annotations.csv", mime="text/csv",
                               key="export_csv", width="stretch")
            st.download_button("Annotations (JSON)", made["json"], file_name=f"{stem}.annotations.json",
                               mime="application/json", key="export_json", width="stretch")
            column = "labels_corrected" if base.task == "multilabel" else "label_corrected"
            st.download_button(f"Predictions with {column} (CSV)", made["predictions"],
                               file_name=f"{stem}.predictions.csv", mime="text/csv", key="export_predictions",
                               width="stretch")
