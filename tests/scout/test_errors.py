"""Bad input to scouting: one clear StrategistError, never a crash."""

import pandas as pd
import pytest

from strategist.errors import StrategistError
from strategist.scout import ScoutError, scout
from tests.scout.conftest import OPPONENT, PLAYER


def test_a_table_that_is_not_a_rally_table_is_refused_naming_the_missing_columns():
    with pytest.raises(ScoutError, match="missing column"):
        scout(pd.DataFrame({"a": [1]}), PLAYER, OPPONENT)
    assert issubclass(ScoutError, StrategistError)


def test_an_empty_table_and_a_mixed_sport_table_are_refused(shuttle):
    with pytest.raises(ScoutError, match="no stroke"):
        scout(shuttle.iloc[:0], PLAYER, OPPONENT)
    mixed = shuttle.head(20).copy()
    mixed.loc[mixed.index[:5], "sport"] = "tennis"
    with pytest.raises(ScoutError, match="mixes sports"):
        scout(mixed, PLAYER, OPPONENT)


def test_the_player_and_the_opponent_must_differ_and_the_opponent_be_in_the_data(shuttle):
    with pytest.raises(ScoutError, match="both"):
        scout(shuttle, OPPONENT, OPPONENT)
    with pytest.raises(ScoutError, match="did you mean 'CHOU Tien Chen'"):
        scout(shuttle, PLAYER, "Chou Tien Chen")


def test_a_player_absent_from_the_data_is_noted_not_refused(shuttle, shuttleset_strokes):
    from strategist.scout.matchinfo import read_match_info

    with pytest.warns(UserWarning, match="every rival"):
        report = scout(shuttle, "Someone ELSE", OPPONENT, matches=read_match_info(shuttleset_strokes))
    assert any("not in the data" in n for n in report.meta["notes"])
    assert report.meta["head_to_head"]["matches"] == 0
