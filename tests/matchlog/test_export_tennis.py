"""A tennis match exported as the canonical table, worked out by hand: points through deuce and advantage as
the table stores them (advantage 4-3), the game and games of each row from its hitter's side, the court side
each point is served from, and the columns only tennis fills; a CSV of a table with only some columns."""

from __future__ import annotations

import pandas as pd
import pytest

from strategist.matchlog.export import to_csv
from strategist.matchlog.store import MatchLog

P, O = "Ann ALPHA", "Bea BETA"


@pytest.fixture
def exported(tmp_path):
    """Built for each test (a tenth of a second), so that a test run per changed function reaches it."""
    log = MatchLog(tmp_path / "t.sqlite")
    m = log.new_match("tennis", P, O, server=P)
    # game 1, Ann serving: 40-40 after six points, advantage Ann, deuce, advantage Bea, game Bea
    for winner in (P, P, P, O, O, O, P, O, O, O):
        log.add_stroke(m, "serve")
        log.add_stroke(m, "forehand")
        log.finish_rally(m, winner)
    log.add_stroke(m, "serve")                                  # game 2, Bea serving, first point in play
    return log.export_table(m).groupby("rally", sort=True).first()


def test_points_through_deuce_and_advantage_are_stored_as_the_table_counts_them(exported):
    # before rallies 7..10: deuce, advantage Ann, deuce again, advantage Bea; the server (Ann) hits first
    assert exported.loc[7, ["hitter", "hitter_score", "opponent_score"]].tolist() == [P, 3, 3]
    assert exported.loc[8, ["hitter_score", "opponent_score"]].tolist() == [4, 3]
    assert exported.loc[9, ["hitter_score", "opponent_score"]].tolist() == [3, 3]
    assert exported.loc[10, ["hitter_score", "opponent_score"]].tolist() == [3, 4]


def test_games_and_court_sides_of_each_point(exported):
    assert exported.loc[1:10, "game"].tolist() == [1] * 10
    assert exported.loc[1:10, ["hitter_games", "opponent_games"]].drop_duplicates().values.tolist() == [[0, 0]]
    # points played in the game: even from the deuce court, odd from the ad court
    assert exported.loc[1:10, "court_side"].tolist() == ["deuce", "ad"] * 5
    # game 2: Bea serves, the games 1-0 from her side, from the deuce court
    assert exported.loc[11, ["game", "hitter", "server", "hitter_games", "opponent_games", "court_side"]].tolist() \
        == [2, O, O, 1, 0, "deuce"]
    assert set(exported["source"]) == {"canonical"} and set(exported["sport"]) == {"tennis"}


def test_the_result_of_each_stroke_is_a_nullable_boolean(tmp_path):
    log = MatchLog(tmp_path / "t.sqlite")
    m = log.new_match("tennis", P, O, server=P)
    log.add_stroke(m, "serve")
    log.add_stroke(m, "forehand")
    log.finish_rally(m, O)
    log.add_stroke(m, "serve")
    table = log.export_table(m)
    assert str(table["hitter_won"].dtype) == "boolean"
    assert table["hitter_won"].tolist()[:2] == [False, True] and table["hitter_won"].isna().tolist()[2]


def test_badminton_rows_leave_the_tennis_columns_empty(tmp_path):
    log = MatchLog(tmp_path / "b.sqlite")
    m = log.new_match("badminton", P, O, server=P)
    for _ in range(6):
        log.add_stroke(m, "short service")
        log.finish_rally(m, P)
    table = log.export_table(m)
    assert table[["game", "hitter_games", "opponent_games"]].isna().all().all()
    # badminton points are stored as counted, beyond 3 too; the server's even score serves from the right
    assert table["hitter_score"].tolist() == [0, 1, 2, 3, 4, 5]
    assert table["court_side"].tolist() == ["right", "left"] * 3


def test_a_table_of_some_columns_is_written_with_its_text_neutralised():
    text = to_csv(pd.DataFrame({"hitter": ["=HYPERLINK(1)", "Ann"], "stroke": [1, 2]}))
    assert text.splitlines() == ["hitter,stroke", "'=HYPERLINK(1),1", "Ann,2"]
