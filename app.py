"""strategist's app: ``streamlit run app.py`` opens it on the built-in demo data.

Pages: Data, Match prep, Live rally, Practice, Model, Post-match report (:mod:`strategist.app.pages`).
The server listens on 127.0.0.1 (``.streamlit/config.toml``); exposed beyond it, it asks for a login or serves
nothing (:mod:`strategist.app.access`).
"""

import streamlit as st

from strategist.app import access
from strategist.app.common import server_setup

st.set_page_config(page_title="strategist", page_icon="🏸", layout="wide")

PAGES = [
    st.Page("strategist/app/pages/data.py", title="Data", default=True),
    st.Page("strategist/app/pages/prep.py", title="Match prep", url_path="prep"),
    st.Page("strategist/app/pages/live.py", title="Live rally", url_path="live"),
    st.Page("strategist/app/pages/practice.py", title="Practice", url_path="practice"),
    st.Page("strategist/app/pages/model.py", title="Model", url_path="model"),
    st.Page("strategist/app/pages/report.py", title="Post-match report", url_path="report"),
]

server_setup()
if access.gate():
    st.navigation(PAGES).run()
