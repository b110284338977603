"""The smallest app with the dashboard's slider interaction: the floor Streamlit imposes.

One ``st.slider`` and one ``st.metric`` in a fragment, under the same stable keys as the
threshold page (``threshold``, ``threshold_metrics``), so ``bench_browser.py`` drives both
apps with the same code. Its numbers come from the server: ArrowRight → done here is the
server round trip Streamlit imposes on this machine (the threshold page's live component
shows its numbers in the browser before that round trip).

    python -m streamlit run benchmarks/tiny_app.py --server.headless true
"""

import streamlit as st

st.set_page_config(page_title="tiny", layout="wide")
st.title("Tiny app")


@st.fragment
def panel():
    st.slider("Threshold", 0.0, 1.0, 0.5, step=0.001, key="threshold", format="%.3f")
    with st.container(key="threshold_metrics"):
        st.metric("Precision", f"{st.session_state['threshold']:.3f}")


panel()
