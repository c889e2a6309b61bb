"""Post-match: the analysis report of one match of the data in use, on the page and as downloads.

The report (:func:`strategist.report.build_report`) estimates everything from the *other* matches of the
data; the page shows its headline numbers and offers the HTML, PDF and JSON files.
"""

import streamlit as st

from strategist.app import common

st.title("Post-match report")


@st.cache_data(show_spinner="Writing the report ...", max_entries=8)
def _report(key: tuple, match_id: str, player: str) -> dict:
    from strategist.report import build_report, render

    table = common.load(key).table
    report = build_report(table, match_id=match_id, player=player, data_label=common.data_label(key))
    return {"html": render(report, "html"), "pdf": render(report, "pdf"), "json": render(report, "json"),
            "numbers": report.to_dict()}


with common.guard():
    result = common.loaded()
    table = result.table
    matches = [str(m) for m in table["match_id"].drop_duplicates()]
    match_id = st.selectbox("Match", matches, key="report_match")
    in_match = table[table["match_id"] == match_id]
    names = [str(p) for p in in_match["hitter"].value_counts().index]
    player = st.selectbox("Whose decisions to review", names, key="report_player")
    st.caption(f"Data: {common.data_label(common.data_key())}. Estimates use the other matches of the data, "
               "never this one.")
    if st.button("Write the report", type="primary", key="report_go"):
        st.session_state["report_for"] = (common.data_key(), match_id, player)
    wanted = st.session_state.get("report_for")
    if wanted == (common.data_key(), match_id, player):
        files = _report(*wanted)
        numbers = files["numbers"]
        meta = numbers.get("meta", {})
        st.subheader(meta.get("title", f"Match {match_id}"))
        for section in ("summary", "decisions", "opponent", "minimax", "win_probability"):
            part = numbers.get(section) or {}
            notes = part.get("notes") or []
            status = part.get("status", "")
            st.markdown(f"**{section.replace('_', ' ').capitalize()}** — {status}" if status else
                        f"**{section.replace('_', ' ').capitalize()}**")
            for note in notes[:3]:
                st.caption(str(note))
        stem = f"report-{match_id}".replace("/", "_").replace(" ", "_")[:80]
        cols = st.columns(3)
        cols[0].download_button("Download HTML", files["html"], file_name=f"{stem}.html", mime="text/html",
                                key="report_html")
        cols[1].download_button("Download PDF", files["pdf"], file_name=f"{stem}.pdf", mime="application/pdf",
                                key="report_pdf")
        cols[2].download_button("Download JSON", files["json"], file_name=f"{stem}.json",
                                mime="application/json", key="report_json")
