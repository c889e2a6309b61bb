"""Post-match: the analysis report of one match of the data in use, on the page and as downloads.

The report (:func:`strategist.report.build_report`) estimates everything from the *other* matches of the
data; the page shows its headline numbers and offers the HTML, PDF and JSON files.
"""

import streamlit as st

from strategist.app import common
from strategist.app.text import md, pct, situation
from strategist.scout.text import rally_words


def _report(key: tuple, match_id: str, player: str) -> dict:
    """The report of a match (numbers, HTML and JSON), once per data set, match and player; the PDF is drawn
    when it is downloaded."""
    def make():
        from strategist.report import build_report, render

        annotated = common.annotated(key)
        with st.spinner("Writing the report ..."):
            report = build_report(common.load(key).table, match_id=match_id, player=player,
                                  data_label=common.data_label(key), matches=common.match_info(key),
                                  annotated=annotated)
            return {"html": render(report, "html"), "json": render(report, "json"), "numbers": report.to_dict(),
                    "pdf": lambda: render(report, "pdf")}

    return common.derived(key, ("report", match_id, player), make)


def _given_up(cols, decisions: dict, words: tuple = ("rally", "rallies")) -> None:
    if not decisions.get("assessed") or decisions.get("given_up_mean") is None:
        return
    mean = 100 * decisions["given_up_mean"]
    one, many = words
    cols[1].metric("Given up per decision", f"{mean:.1f} points",
                   help=f"percentage points of the chance to win the {one}: on average each decision gave up "
                        f"{mean:.1f} % of a {one} "
                        f"against the recommended mix ({decisions['assessed']} of {decisions.get('decisions')} "
                        f"decisions could be assessed; {100 * decisions.get('given_up_total', 0):.0f} points in all, "
                        f"about {decisions.get('given_up_total', 0):.1f} {many}).")


def _sets(col, summary: dict, player: str, other: str) -> None:
    """The set scores as the data's running score says, and the rallies it counts that the data lack."""
    sets = summary.get("sets") or []
    if not sets:
        return
    scores = ", ".join("–" if x.get("player_points") is None else f"{x['player_points']}–{x['opponent_points']}"
                       for x in sets)
    unit = " in games" if sets[0].get("in") == "games" else ""
    text = f"Sets{unit} ({player} – {other}): {scores}, as the data's running score says"
    missing = sum(int(x.get("missing") or 0) for x in sets)
    if missing:
        named = "; ".join(f"set {x['set']}: rallies {', '.join(map(str, x['missing_rallies']))}"
                          for x in sets if x.get("missing_rallies"))
        text += f"; {missing} of the rallies it counts are not in the data" + (f" ({named})" if named else "")
    col.caption(md(text))


def _predictability(cols, opponent: dict, other: str) -> None:
    pred = opponent.get("predictability") or {}
    if pred.get("model_accuracy") is None:
        return
    cols[2].metric(f"Guessing {md(other)}'s next shot", pct(pred["model_accuracy"]),
                   help=f"the opponent model guesses {md(other)}'s next shot {pct(pred['model_accuracy'])} of the time "
                        f"({pct(pred.get('baseline_accuracy'))} for a typical player); "
                        f"{opponent.get('strokes_scored')} strokes scored")
    st.caption(f"The opponent model guesses {md(other)}'s next shot {pct(pred['model_accuracy'])} of the time "
               f"({pct(pred.get('baseline_accuracy'))} for a typical player), over "
               f"{opponent.get('strokes_scored')} strokes.")


def _headline(numbers: dict, meta: dict) -> None:
    """Score, what the decisions gave up, the opponent's predictability and the minimax verdicts, as metrics."""
    summary, decisions = numbers.get("summary") or {}, numbers.get("decisions") or {}
    opponent, minimax = numbers.get("opponent") or {}, numbers.get("minimax") or {}
    player, other = meta.get("player", "player"), meta.get("opponent", "opponent")
    cols = st.columns(4)
    words = rally_words(meta.get("sport", "badminton"))
    if summary.get("player_points") is not None:
        sets = summary.get("sets") or []
        # badminton's set scores are points (rallies the table lacks included); tennis's are games
        in_points = bool(sets) and all(x.get("in", "points") == "points" for x in sets)
        won = [sum(x["player_points"] for x in sets), sum(x["opponent_points"] for x in sets)] if in_points else \
            [summary["player_points"], summary["opponent_points"]]
        cols[0].metric("Points won", f"{won[0]} – {won[1]}",
                       help=f"{md(player)} – {md(other)}, "
                            + ("the sets' scores added up; " if in_points else f"{words[1]} with a recorded winner; ")
                            + f"{summary.get('rallies_with_winner')} of {summary.get('rallies')} {words[1]} kept "
                            "in the data have a recorded winner")
        _sets(cols[0], summary, player, other)
    _given_up(cols, decisions, words)
    _predictability(cols, opponent, other)
    verdicts = [f"{r['player']}: p = {r['p_value']:.2f}" for r in minimax.get("players") or []
                if r.get("p_value") is not None]
    said = md(f"Points won: {player} – {other}.")
    if decisions.get("assessed") and decisions.get("given_up_mean") is not None:
        said += (f" Given up: percentage points of the chance to win the {words[0]} that a decision gave up against "
                 "the recommendation, averaged over the decisions that could be assessed.")
    if verdicts:
        cols[3].metric("Mixes like the equilibrium?", "no" if any(
            r.get("rejected") for r in minimax["players"]) else "can't tell", help="; ".join(verdicts))
        said += (" Minimax check (Walker–Wooders χ² test): " + md("; ".join(verdicts)) +
                 f" (α = {minimax.get('alpha', 0.05)}): 'no' when a player's choices differ from an equilibrium "
                 "mix more than chance explains.")
    st.caption(said)


def _costliest(decisions: dict, one: str = "rally") -> None:
    rows = decisions.get("costliest") or []
    if not rows:
        return
    import pandas as pd

    st.markdown(f"**Costliest decisions** (percentage points of the {one} given up, with the 90 % interval)")
    frame = pd.DataFrame([{
        "set": r.get("set"), one: r.get("rally"), "score": r.get("score"), "stroke": r.get("stroke"),
        "situation": situation(r.get("state") or ""), "played": r.get("played"),
        "recommended": r.get("recommended") + (" (the habit: no change supported)"
                                               if str(r.get("basis", "")).startswith("habit") else ""),
        "given up": f"{100 * r['given_up']:.1f} points [{100 * r['lower']:.1f}, {100 * r['upper']:.1f}]",
        f"{one} so far": r.get("context", "")} for r in rows[:10]])
    st.dataframe(frame, hide_index=True, width="stretch")


def _sections(numbers: dict) -> None:
    """Each section's notes under the report's heading for it; a heading only where there is something under it."""
    from strategist.report.build import title

    sport = (numbers.get("meta") or {}).get("sport", "badminton")
    for section in ("summary", "decisions", "opponent", "minimax", "win_probability"):
        part = numbers.get(section) or {}
        notes = [str(n).strip() for n in part.get("notes") or [] if str(n).strip()]
        if not notes:
            continue
        st.markdown(f"**{title(section, sport)}**")
        for note in notes[:3]:
            st.caption(md(note[:1].upper() + note[1:]))


def _downloads(files: dict, match_id: str) -> None:
    stem = f"report-{match_id}".replace("/", "_").replace(" ", "_")[:80]
    cols = st.columns(3)
    cols[0].download_button("Download HTML", files["html"], file_name=f"{stem}.html", mime="text/html",
                            key="report_html")
    cols[1].download_button("Download PDF", files["pdf"], file_name=f"{stem}.pdf", mime="application/pdf",
                            key="report_pdf")
    cols[2].download_button("Download JSON", files["json"], file_name=f"{stem}.json", mime="application/json",
                            key="report_json")


def _reviewable(table, match_id: str) -> tuple[list[str], set[str]]:
    """The match's players, those who play another match of the data first (their decisions can be reviewed
    against an Advisor built without this match), each group by strokes in the match; and those who do not."""
    here = table["match_id"] == match_id
    counts = table.loc[here, "hitter"].value_counts()
    elsewhere = set(map(str, table.loc[~here, "hitter"].dropna().unique()))
    names = [str(p) for p in counts.index]
    alone = {p for p in names if p not in elsewhere}
    return sorted(names, key=lambda p: p in alone), alone      # a stable sort: by strokes within each group


def render() -> None:
    st.title("Post-match report")
    with common.guard():
        table = common.loaded().table
        matches = [str(m) for m in table["match_id"].drop_duplicates()]
        match_id = st.selectbox("Match", matches, key="report_match")
        names, alone = _reviewable(table, match_id)
        player = st.selectbox("Whose decisions to review", names, key="report_player",
                              format_func=lambda p: f"{p} (no other match in the data: no decision review)"
                              if p in alone else p)
        st.caption(f"Data: {md(common.data_label(common.data_key()))}. Estimates use the other matches of the data, "
                   "never this one.")
        if st.button("Write the report", type="primary", key="report_go"):
            st.session_state["report_for"] = (common.data_key(), match_id, player)
        wanted = st.session_state.get("report_for")
        if wanted != (common.data_key(), match_id, player):
            return
        files = _report(*wanted)
        numbers = files["numbers"]
        meta = numbers.get("meta", {})
        st.subheader(md(meta.get("title", f"Match {match_id}")))
        _downloads(files, match_id)
        _headline(numbers, meta)
        _sections(numbers)
        _costliest(numbers.get("decisions") or {}, rally_words(meta.get("sport", "badminton"))[0])
        with st.expander("The whole report (as in the HTML file)"):
            html = files["html"]
            st.iframe(html.decode("utf-8") if isinstance(html, bytes) else html, height=900)  # texts escaped


render()
