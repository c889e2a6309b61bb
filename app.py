"""strategist's app: ``streamlit run app.py`` opens it on the built-in demo data.

Pages: Data, Match prep, Live rally, Practice, Model, Post-match report (:mod:`strategist.app.pages`).
"""

import streamlit as st

st.set_page_config(page_title="strategist", page_icon="🏸", layout="wide")

PAGES = [
    st.Page("strategist/app/pages/data.py", title="Data", default=True),
    st.Page("strategist/app/pages/prep.py", title="Match prep", url_path="prep"),
    st.Page("strategist/app/pages/live.py", title="Live rally", url_path="live"),
    st.Page("strategist/app/pages/practice.py", title="Practice", url_path="practice"),
    st.Page("strategist/app/pages/model.py", title="Model", url_path="model"),
    st.Page("strategist/app/pages/report.py", title="Post-match report", url_path="report"),
]

st.navigation(PAGES).run()
