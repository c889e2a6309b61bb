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


def _headline(numbers: dict, meta: dict) -> None:
    """Score, decisions' cost, the opponent's predictability and the minimax verdicts, as metrics."""
    summary, decisions = numbers.get("summary") or {}, numbers.get("decisions") or {}
    opponent, minimax = numbers.get("opponent") or {}, numbers.get("minimax") or {}
    player, other = meta.get("player", "player"), meta.get("opponent", "opponent")
    cols = st.columns(4)
    if summary.get("player_points") is not None:
        cols[0].metric("Points won", f"{summary['player_points']} – {summary['opponent_points']}",
                       help=f"{player} – {other}; {summary.get('rallies_with_winner')} of {summary.get('rallies')} "
                            "rallies have a recorded winner")
    if decisions.get("assessed"):
        cols[1].metric("Given up per decision", f"{decisions['given_up_mean']:+.3f}",
                       help=f"{decisions['assessed']} of {decisions['decisions']} decisions assessed; total "
                            f"{decisions['given_up_total']:.1f}. {decisions.get('definition', '')}")
    pred = opponent.get("predictability") or {}
    if pred:
        cols[2].metric("Opponent's log-loss", f"{pred['model_log_loss']:.2f} nats",
                       delta=f"{-pred['gain']:.2f} vs population baseline", delta_color="inverse",
                       help=f"{other}'s next shot under the opponent model: top-1 {pred['model_accuracy']:.0%} "
                            f"(baseline {pred['baseline_accuracy']:.0%}); "
                            f"{opponent.get('strokes_scored')} strokes scored")
    verdicts = [f"{r['player']}: p = {r['p_value']:.2f}" for r in minimax.get("players") or []
                if r.get("p_value") is not None]
    if verdicts:
        cols[3].metric("Minimax (χ²)", "rejected" if any(
            r.get("rejected") for r in minimax["players"]) else "not rejected", help="; ".join(verdicts))
        st.caption("Points won: " + f"{player} – {other}. Given up: the estimated win probability a decision gave up "
                   "against the recommendation, averaged over the assessed decisions. Minimax check (Walker–Wooders "
                   "χ²): " + "; ".join(verdicts) + f" (α = {minimax.get('alpha', 0.05)}).")


def _costliest(decisions: dict) -> None:
    rows = decisions.get("costliest") or []
    if not rows:
        return
    import pandas as pd

    st.markdown("**Costliest decisions** (win probability given up, with its 95 % interval)")
    frame = pd.DataFrame([{
        "set": r["set"], "rally": r["rally"], "score": r.get("score"), "stroke": r["stroke"],
        "state": r["state"], "played": r["played"], "recommended": r["recommended"],
        "given up": f"{r['given_up']:+.3f} [{r['lower']:+.3f}, {r['upper']:+.3f}]",
        "rally so far": r.get("context", "")} for r in rows[:10]])
    st.dataframe(frame, hide_index=True, width="stretch")


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
        stem = f"report-{match_id}".replace("/", "_").replace(" ", "_")[:80]
        cols = st.columns(3)
        cols[0].download_button("Download HTML", files["html"], file_name=f"{stem}.html", mime="text/html",
                                key="report_html")
        cols[1].download_button("Download PDF", files["pdf"], file_name=f"{stem}.pdf", mime="application/pdf",
                                key="report_pdf")
        cols[2].download_button("Download JSON", files["json"], file_name=f"{stem}.json",
                                mime="application/json", key="report_json")
        _headline(numbers, meta)
        for section in ("summary", "decisions", "opponent", "minimax", "win_probability"):
            part = numbers.get(section) or {}
            notes = part.get("notes") or []
            status = part.get("status", "")
            st.markdown(f"**{section.replace('_', ' ').capitalize()}** — {status}" if status else
                        f"**{section.replace('_', ' ').capitalize()}**")
            for note in notes[:3]:
                st.caption(str(note))
        _costliest(numbers.get("decisions") or {})
        with st.expander("The whole report (as in the HTML file)"):
            html = files["html"]
            st.iframe(html.decode("utf-8") if isinstance(html, bytes) else html, height=900)  # texts escaped
