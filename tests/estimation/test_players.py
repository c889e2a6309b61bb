"""The players of a table: everyone who hits or receives, once, by name."""

import pandas as pd

from strategist.estimation.payoff import table_players


def test_players_are_hitters_and_receivers_once_sorted():
    table = pd.DataFrame({"hitter": ["B", "A", None, "B"], "opponent": ["A", "C", "B", pd.NA]},
                         dtype="string")
    assert table_players(table) == ["A", "B", "C"]
    assert table_players(table.astype(object)) == ["A", "B", "C"]
