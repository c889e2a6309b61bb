"""Who plays in a canonical rally table, and a player's name as the table spells it."""

from __future__ import annotations

import difflib

from strategist.errors import EstimationError


def table_players(table) -> list[str]:
    """Everyone who hits or receives a stroke in a canonical table, by name, sorted."""
    return sorted({str(p) for column in ("hitter", "opponent") for p in table[column].dropna().unique()})


def resolve_player(name: str, known, role: str) -> str:
    """The player in ``known`` called ``name`` (exact, else case-insensitive); a clear error otherwise."""
    known = sorted(set(map(str, known)))
    if name in known:
        return name
    folded = [k for k in known if k.casefold() == str(name).strip().casefold()]
    if len(folded) == 1:
        return folded[0]
    folded_names = {k.casefold(): k for k in known}
    close = [folded_names[c] for c in difflib.get_close_matches(str(name).strip().casefold(), list(folded_names),
                                                                 n=3, cutoff=0.6)]
    hint = f"; did you mean {', '.join(map(repr, close))}?" if close else f"; players: {', '.join(known[:12])}" + (
        " ..." if len(known) > 12 else "")
    raise EstimationError(f"unknown {role} {name!r}: no such player in the data{hint}")
