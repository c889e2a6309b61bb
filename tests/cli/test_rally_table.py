"""`strategist rally`'s table and summary lines against the game built directly: every state named in full (a
name is what `--state` takes), and the habits kept again counted as the game holds them."""

from __future__ import annotations

import warnings

import pytest

import strategist
from strategist.cli.main import main
from strategist.data.demo import demo_path
from strategist.rally.game import rally_game


@pytest.fixture(scope="module")
def printed_and_game():
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert main(["rally", "--state", "serve"]) == 0
        game = rally_game(strategist.load_rallies(demo_path()).table)
    return out.getvalue(), game


def test_every_state_shown_is_named_in_full(printed_and_game):
    printed, game = printed_and_game
    shown = game.states[game.states["visits"] > 0].sort_values("visits", ascending=False, kind="stable").head(30)
    longest = max(shown["state"], key=len)
    assert len(longest) > 46                                   # the table used to cut names at 44 characters
    for label in shown["state"]:
        who, _, rest = label.partition(": ")
        name = ("P " if who == "player" else "O ") + rest
        assert any(line.startswith(name + " ") for line in printed.splitlines()), name


def test_the_habits_kept_again_are_counted(printed_and_game):
    printed, game = printed_and_game
    again = game.recommendation.kept_again
    assert again                                               # the demo's population game has some
    assert (f"{len(again)} kept habits (of either side, hitting or receiving) were freed by a judgement at the "
            "settled values and kept again") in " ".join(printed.split())
