"""evaldash: the dashboard's entry point (``streamlit run app.py [-- PATH]``)."""

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent / "src"))

from evaldash import ui  # noqa: E402 - after the path entry

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
ui.run_page(st.navigation(PAGES))
