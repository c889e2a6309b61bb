"""A tennis report's set scores are games, as the matches ended: checked against the published results of the
matches in ``../shared/data`` and against hand-made last points (deuce, tiebreak, a retirement)."""

from __future__ import annotations

import pytest

import strategist
from strategist.report import summary
from strategist.report.match import select_match

#: Published results (ATP): the first-named player's games first.
MCP_RESULTS = {
    "20151121-M-Tour_Finals-SF-Novak_Djokovic-Rafael_Nadal": [(6, 3), (6, 3)],
    "20151121-M-Tour_Finals-SF-Roger_Federer-Stanislas_Wawrinka": [(7, 5), (6, 3)],
    "20151122-M-Tour_Finals-F-Roger_Federer-Novak_Djokovic": [(3, 6), (4, 6)],
}


@pytest.mark.realdata
def test_mcp_set_scores_are_the_published_results(shared_data):
    table = strategist.load_rallies(shared_data / "tennis_mcp" / "sample-points-5matches-2015.csv").table
    for match_id, result in MCP_RESULTS.items():
        first = match_id.split("-")[-2].replace("_", " ")
        s = summary.summarize(select_match(table, match_id, first))
        assert [(x["player_points"], x["opponent_points"]) for x in s["sets"]] == result, match_id
        assert all(x["in"] == "games" for x in s["sets"])
        assert [x["set_winner"] for x in s["sets"]] == [first if a > b else _other(match_id, first)
                                                        for a, b in result]


def _other(match_id: str, first: str) -> str:
    names = [n.replace("_", " ") for n in match_id.split("-")[-2:]]
    return names[1] if names[0] == first else names[0]


@pytest.mark.realdata
def test_a_retirement_leaves_the_last_set_without_a_winner(shared_data):
    """US Open 2011, first round: Djokovic led Niland 6-0, 5-1 when Niland retired."""
    table = strategist.load_rallies(shared_data / "tennis_slam_pbp").table
    s = summary.summarize(select_match(table, "2011-usopen-1101", "Novak Djokovic"))
    assert [(x["player_points"], x["opponent_points"], x["set_winner"]) for x in s["sets"]] == [
        (6, 0, "Novak Djokovic"), (5, 1, None)]
    # the points won are points, not the games added up
    assert (s["player_points"], s["opponent_points"]) == (46, 14)


@pytest.mark.parametrize("before, first_won, games, won", [
    ((3, 2), True, (5, 3), True),       # 40-30 won: the game
    ((3, 3), True, (5, 3), False),      # deuce won: advantage only
    ((4, 3), True, (5, 4), True),       # advantage won
    ((2, 3), True, (5, 4), False),      # 30-40 saved
    ((6, 5), True, (6, 6), True),       # tiebreak 6-5 won: 7-5
    ((5, 5), True, (6, 6), False),      # tiebreak 5-5 won: 6-5, not over
    ((3, 1), True, (6, 6), False),      # a tiebreak at 4-1 is not won at 4
    ((1, 3), False, (2, 2), True),      # the second side holds at 15-40
])
def test_a_point_wins_the_game_by_the_rules(before, first_won, games, won):
    assert summary._game_won(before, first_won, games) is won


@pytest.mark.parametrize("games, over", [((6, 4), True), ((6, 5), False), ((7, 5), True), ((7, 6), True),
                                         ((6, 7), True), ((5, 1), False), ((8, 6), True), ((6, 6), False)])
def test_a_set_ends_at_six_with_two_clear_or_seven_six(games, over):
    assert summary._set_over(games) is over


@pytest.mark.parametrize("row, said", [
    ({"hitter": "A", "hitter_score": 3, "opponent_score": 2, "hitter_games": 4, "opponent_games": 3}, "4-3, 40-30"),
    ({"hitter": "B", "hitter_score": 3, "opponent_score": 2, "hitter_games": 4, "opponent_games": 3}, "3-4, 30-40"),
    ({"hitter": "A", "hitter_score": 4, "opponent_score": 3, "hitter_games": 5, "opponent_games": 5}, "5-5, AD-40"),
    ({"hitter": "A", "hitter_score": 3, "opponent_score": 3, "hitter_games": 0, "opponent_games": 0}, "0-0, 40-40"),
    ({"hitter": "A", "hitter_score": 0, "opponent_score": 1, "hitter_games": 2, "opponent_games": 0}, "2-0, 0-15"),
    ({"hitter": "A", "hitter_score": 5, "opponent_score": 4, "hitter_games": 6, "opponent_games": 6}, "6-6, 5-4"),
    ({"hitter": "B", "hitter_score": 14, "opponent_score": 12, "hitter_games": None, "opponent_games": None},
     "12-14"),                                                   # badminton: the points, the player first
])
def test_the_score_before_a_decision_is_said_as_the_sport_calls_it(row, said):
    from strategist.report.decisions import _score

    assert _score(row, "A") == said
