"""evaldash: the dashboard's entry point (``streamlit run app.py [-- PATH]``).

Streamlit runs this file as the app's script (``__name__ == "__main__"``). ``streamlit run`` first
imports it as a module: it finds ``app`` (an ``st.App``) and serves the dashboard through it,
with the middleware of :mod:`evaldash.auth` (loopback only unless a log-in is configured; Host,
Origin and log-in checks on every request) and :mod:`evaldash.asgi` (deep links connect without
Streamlit's 404 probes).
"""

import os
import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

if __name__ != "__main__":  # imported by `streamlit run` (or an ASGI server): the server
    from starlette.middleware import Middleware

    from evaldash.app_config import script_argv
    from evaldash.asgi import BackendBaseURL
    from evaldash.auth import Guard, settings_from_args
    from evaldash.errors import InputError

    try:  # beyond loopback only with a log-in (or --no-auth): else the server stops before serving
        settings = settings_from_args(script_argv(sys.argv), st.get_option("server.address"))
    except InputError as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr, flush=True)
        raise SystemExit(2) from None
    if settings.trust_user_header and os.environ.get("FORWARDED_ALLOW_IPS") != "":
        print("warning: --trust-user-header: uvicorn puts a local proxy's X-Forwarded-For client in place of "
              "its address, so those requests are refused; start with `evaldash serve`, or set "
              "FORWARDED_ALLOW_IPS= (empty)", file=sys.stderr, flush=True)
    base_path = lambda: st.get_option("server.baseUrlPath")  # noqa: E731
    app = st.App(__file__, middleware=[Middleware(Guard, settings=settings, base_path=base_path),
                                       Middleware(BackendBaseURL, base_path=base_path)])
else:  # the script of every session
    from evaldash import ui

    st.set_page_config(page_title="evaldash", page_icon="📊", layout="wide")

    PAGES = [
        st.Page("pages/overview.py", title="Overview", icon=":material/dashboard:", default=True),
        st.Page("pages/confusion.py", title="Confusion matrix", icon=":material/grid_on:", url_path="confusion"),
        st.Page("pages/threshold.py", title="Curves & threshold", icon=":material/tune:", url_path="threshold"),
        st.Page("pages/decision.py", title="Decision", icon=":material/gavel:", url_path="decision"),
        st.Page("pages/calibration.py", title="Calibration & abstention", icon=":material/verified:", url_path="calibration"),
        st.Page("pages/errors.py", title="Error analysis", icon=":material/image_search:", url_path="errors"),
        st.Page("pages/review.py", title="Review queue", icon=":material/checklist:", url_path="review"),
        st.Page("pages/slices.py", title="Slices", icon=":material/category:", url_path="slices"),
        st.Page("pages/runs.py", title="Runs", icon=":material/list:", url_path="runs"),
        st.Page("pages/compare.py", title="Compare", icon=":material/compare_arrows:", url_path="compare"),
    ]
    from evaldash.notebook_runs import add_notebook_runs

    add_notebook_runs(ui)  # the runs evaldash.show() added to a running server
    ui.run_page(st.navigation(PAGES))
