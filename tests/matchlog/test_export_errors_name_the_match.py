"""A match whose values the canonical table cannot hold is refused with an error that names the match and the
field (the log's reader never builds one; a state made by other code may)."""

import pytest

from strategist.errors import DataFormatError
from strategist.matchlog.export import export_table
from strategist.matchlog.state import MatchState, Rally, Stroke

A, B = "Ann", "Bea"


def _state(second_stroke_number):
    strokes = (Stroke(1, A, B, "short service", None), Stroke(second_stroke_number, B, A, "lob", None))
    return MatchState("club-07", "badminton", A, B, A, None, (Rally(1, 1, A, A, strokes),))


def test_a_stroke_number_that_is_not_whole_is_refused_naming_the_match_and_the_field():
    with pytest.raises(DataFormatError) as caught:
        export_table(_state(2.5))
    assert caught.value.path == "match club-07"
    assert caught.value.field == "stroke"
    assert str(caught.value).startswith("match club-07, field 'stroke': cannot convert to Int64")


def test_the_same_match_with_whole_numbers_exports():
    table = export_table(_state(2))
    assert table["stroke"].tolist() == [1, 2]
    assert table["hitter_won"].tolist() == [True, False]
