"""The simulated pair the rally tests use: two demo players, their parameters, a table of their matches."""

from __future__ import annotations

from dataclasses import replace

from strategist.simulate import SimulationParameters, canonical_table, simulate_matches

P, O = "Astrid NORDVIK", "Hiro TAKEDA"
PARAMS = SimulationParameters()
PAIR = replace(PARAMS, players=(PARAMS.player(P), PARAMS.player(O)))


def pair_table(matches: int, seed: int):
    """``matches`` simulated matches of P against O (canonical table)."""
    return canonical_table(simulate_matches(PAIR, matches=matches, seed=seed))
