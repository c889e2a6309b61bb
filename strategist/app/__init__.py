"""The Streamlit app (``streamlit run app.py``): data, match preparation, live rally advice, practice, model.

Page bodies live in :mod:`strategist.app.pages`; what they share (loading, caching, the chosen players,
the match log, errors shown as one line) in :mod:`strategist.app.common`.
"""
