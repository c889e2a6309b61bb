"""The scouting report as plain text: the sentences first, then one block per section."""

from __future__ import annotations

from strategist.scout.text import counted, percent, rally_words, year_span


def _rate(r: dict) -> str:
    if r["rate"] is None:
        return "– (n = 0)"
    return f"{percent(r['rate'])} [{percent(r['low'])}, {percent(r['high'])}] (n = {r['n']:,})"


def summary_text(report) -> str:
    m = report.meta
    h2h = m["head_to_head"]
    many = rally_words(m["sport"])[1]
    lines = [f"Scouting {m['opponent']} for {m['player'] or 'an unnamed player'} ({m['sport']}): "
             f"{m['opponent_rallies']:,} {many} in {counted(m['opponent_matches'], 'match', 'matches')}"
             + (f", {year_span(m['opponent_years'])}" if m["opponent_years"] else "")
             + (f"; head to head: {counted(h2h['matches'], 'match', 'matches')}, {m['opponent']} won "
                f"{_rate(h2h['rallies_won_by_opponent'])} of {many}" if h2h["matches"] else "")]
    lines += [f"  note: {n}" for n in m["notes"]]
    for key, section in report.sections.items():
        # a section the data fill has its title alone; one they cannot fill says so, with why, and nothing else
        available = section["status"] == "assessed"
        lines.append(f"{section['title']}:" + ("" if available else f" {section['status']}"))
        lines += [f"  note: {n}" for n in section.get("notes", [])]
        if key == "weaknesses" and available:
            for title, items in (("Weaknesses", report.weaknesses), ("Strengths", report.strengths)):
                lines.append(f"  {title}:")
                lines += [f"    - {s}" for s in items] or ["    (none significant)"]
        lines += _details(key, section, many)
    return "\n".join(lines)


def _details(key: str, section: dict, many: str) -> list[str]:
    if section["status"] != "assessed":
        return []
    if key == "pressure":
        return [f"  - {r['sentence']} (q = {r['q']:.2f})" for r in section["rows"]]
    if key == "rally_length":
        rows = section["by_length"]["rows"]
        out = [f"  - {many} of {r['band']} strokes: won {_rate(r['opponent'])}, others {percent(r['others']['rate'])}"
               for r in rows]
        return out + [f"  - {s}" for s in section["sentences"]]
    if key == "serve_return":
        return [f"  - serving {r['serve']}: won {_rate(r['won'])}" for r in section["serve_outcomes"]] + \
               [f"  - returning {r['serve']}: won {_rate(r['won'])}" for r in section["return_outcomes"]]
    if key == "court_maps":
        return [f"  - {m['title']}" for m in section["maps"]]
    if key == "trends":
        return [f"  - {s}" for s in section["sentences"]] or ["  (no significant change)"]
    return []
