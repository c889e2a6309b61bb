"""A match row whose sport is not text (a BLOB: the column is NOT NULL and stores numbers as text) is damaged,
whatever sports a user has registered, even ones named "" or like the value's text form."""

from __future__ import annotations

import dataclasses
import sqlite3

import pytest

from strategist.errors import MatchLogError
from strategist.matchlog import MatchLog
from strategist.sports import get_sport, registry

P, O = "Astrid NORDVIK", "Dev MALHOTRA"


@pytest.fixture()
def user_sports(monkeypatch):
    """User sports (badminton's rules) under names a non-text sport could be mistaken for."""
    monkeypatch.setattr(registry, "_USER", dict(registry._USER))
    for name in ("", "b'ba'"):
        registry.register_sport(dataclasses.replace(get_sport("badminton"), name=name, extends="badminton"))


def test_a_blob_sport_is_a_damaged_match_row_beside_any_user_sport(tmp_path, user_sports):
    log = MatchLog(tmp_path / "m.sqlite")
    m = log.new_match("badminton", P, O)
    log.add_stroke(m, "short service")
    con = sqlite3.connect(log.path)
    with con:
        con.execute("UPDATE matches SET sport = X'6261'")        # the bytes b'ba'
    con.close()
    with pytest.raises(MatchLogError) as info:
        log.state(m)
    message = str(info.value)
    assert message.startswith(f"{log.path}: match {m!r}: its row is damaged (sport b'ba' is not one strategist "
                              "knows)"), message
    assert message.endswith("the match cannot be read, the other matches can")
