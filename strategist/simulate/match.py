"""Simulate matches: rally scoring to 21 (win by two, capped at 30), best of three games.

The rally winner serves the next rally; the winner of a game serves first in the next one; a coin toss
picks the first server of the match.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from strategist.simulate.model import Player, SimulationParameters
from strategist.simulate.rally import Stroke, simulate_rally


@dataclass(frozen=True)
class Rally:
    """A simulated rally with the game score *before* it (``score`` maps player name to points)."""

    game: int
    number: int
    server: str
    score: dict
    strokes: list[Stroke]

    @property
    def winner(self) -> str:
        last = self.strokes[-1]
        return last.hitter if last.end == "winner" else last.receiver


@dataclass(frozen=True)
class Match:
    """A simulated match between ``players`` (in draw order); ``winner`` won the most games; ``heights``:
    simulated in the height mode (every stroke that lands has a height)."""

    match_id: str
    number: int
    players: tuple[str, str]
    rallies: list[Rally]
    games_won: dict
    heights: bool = False

    @property
    def winner(self) -> str:
        return max(self.players, key=lambda p: self.games_won[p])

    @property
    def loser(self) -> str:
        return min(self.players, key=lambda p: self.games_won[p])

    @property
    def games(self) -> int:
        return sum(self.games_won.values())


def game_over(a: int, b: int, params: SimulationParameters) -> bool:
    """A game ends at ``points_to_win`` with a two-point lead, or at ``point_cap``."""
    top = max(a, b)
    return (top >= params.points_to_win and abs(a - b) >= 2) or top >= params.point_cap


def simulate_match(params: SimulationParameters, first: Player, second: Player, rng: np.random.Generator,
                   *, match_id: str, number: int = 1) -> Match:
    """One match between ``first`` and ``second``."""
    by_name = {first.name: first, second.name: second}
    games_won = {first.name: 0, second.name: 0}
    server = first.name if rng.random() < 0.5 else second.name
    rallies: list[Rally] = []
    game = 1
    while max(games_won.values()) < params.games_to_win:
        score = {first.name: 0, second.name: 0}
        number_in_game = 0
        while not game_over(score[first.name], score[second.name], params):
            number_in_game += 1
            receiver = second.name if server == first.name else first.name
            strokes = simulate_rally(params, by_name[server], by_name[receiver], rng)
            rally = Rally(game, number_in_game, server, dict(score), strokes)
            rallies.append(rally)
            score[rally.winner] += 1
            server = rally.winner
        game_winner = max(score, key=score.get)
        games_won[game_winner] += 1
        server = game_winner
        game += 1
    return Match(match_id, number, (first.name, second.name), rallies, games_won, params.heights is not None)


def schedule(players: tuple[Player, ...], matches: int, rng: np.random.Generator) -> list[tuple[Player, Player]]:
    """``matches`` pairings: every pair once in a seeded order, then again, until enough."""
    pairs = list(itertools.combinations(players, 2))
    out: list[tuple[Player, Player]] = []
    while len(out) < matches:
        order = rng.permutation(len(pairs))
        out.extend(pairs[i] if rng.random() < 0.5 else pairs[i][::-1] for i in order)
    return out[:matches]


def simulate_matches(params: SimulationParameters | None = None, *, matches: int = 20, seed: int = 0,
                     tournament: str = "Strategist Demo Open") -> list[Match]:
    """``matches`` seeded matches between the parameters' players."""
    params = params or SimulationParameters()
    if matches < 1:
        raise ValueError("matches must be at least 1")
    rng = np.random.default_rng(seed)
    out = []
    for k, (a, b) in enumerate(schedule(params.players, matches, rng), start=1):
        match_id = f"{_slug(a.name)}_{_slug(b.name)}_{_slug(tournament)}_Match_{k:02d}"
        out.append(simulate_match(params, a, b, rng, match_id=match_id, number=k))
    return out


def _slug(text: str) -> str:
    return "_".join(text.split())
