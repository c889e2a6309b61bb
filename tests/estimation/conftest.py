"""Fixtures of the estimation tests: simulated matches, canonical tables built by hand, the shared data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from strategist.data.schema import conform

@pytest.fixture(scope="session")
def simulated():
    from strategist.simulate import simulate_matches

    return simulate_matches(matches=20, seed=0)


@pytest.fixture(scope="session")
def simulated_table(simulated):
    from strategist.simulate import canonical_table

    return canonical_table(simulated)


def game_table(payoffs, row_mix, column_mix, rallies: int, *, seed: int = 0, matches: int = 40,
               match_shift: float = 0.0, rows=None, columns=None) -> pd.DataFrame:
    """One-stroke rallies of a known game: the hitter draws a shot from ``row_mix``, the receiver a position
    from ``column_mix``, and the hitter wins with probability ``payoffs[i, j]`` (plus a per-match shift
    drawn uniformly from ±``match_shift``, clipped to [0.01, 0.99])."""
    rng = np.random.default_rng(seed)
    a = np.asarray(payoffs, float)
    m, n = a.shape
    rows = rows or ["smash", "drop", "clear", "net shot", "lob", "push"][:m]
    columns = columns or [str(c) for c in (1, 7, 2, 5, 8, 6, 3, 9, 4)][:n]
    i = rng.choice(m, size=rallies, p=row_mix)
    j = rng.choice(n, size=rallies, p=column_mix)
    match = rng.integers(0, matches, size=rallies)
    shift = rng.uniform(-match_shift, match_shift, size=matches)
    p = np.clip(a[i, j] + shift[match], 0.01, 0.99)
    won = rng.random(rallies) < p
    players = np.array(["Ann", "Bea"])
    hitter = players[match % 2]
    opponent = players[1 - match % 2]
    match_id = np.char.add("m", match.astype(str))
    rally = np.arange(1, rallies + 1)
    frame = pd.DataFrame({
        "sport": "badminton", "source": "constructed", "match_id": match_id, "set": 1, "rally": rally,
        "rally_id": [f"{mm}|1|{r}" for mm, r in zip(match_id, rally)], "stroke": 1, "hitter": hitter,
        "opponent": opponent, "shot": np.array(rows)[i], "landing_area": "8",
        "opponent_area": np.array(columns)[j], "server": hitter,
        "winner": np.where(won, hitter, opponent), "hitter_won": won,
    })
    return conform(frame)

