"""The commands speak tennis on tennis data: a point is a point, not a rally (the words of
:func:`strategist.scout.text.rally_words`), in every line they print."""

from __future__ import annotations

import contextlib
import io
import re

import pytest

from strategist.cli.main import main
from tests.jargon import rally_talk

PAIR = ["--player", "Novak Djokovic", "--opponent", "Rafael Nadal"]
COMMANDS = {
    "data summary": lambda path: ["data", "summary", path],
    "payoff": lambda path: ["payoff", "--data", path, *PAIR],
    "rally": lambda path: ["rally", "--data", path, *PAIR],
    "simulate": lambda path: ["simulate", "--data", path, *PAIR, "--rallies", "2000"],
    "practice": lambda path: ["practice", "--data", path, *PAIR, "--auto", "equilibrium", "--rallies", "3"],
}
#: A state's label names its phase ("rally after forehand": the exchange after serve and return), as the
#: tennis grammar does; the sentences around it speak of points.
STATE_LABEL = re.compile(r"^\s*[PO]? ?rally after \w")


def _printed(argv: list[str]) -> list[str]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(argv) == 0
    return out.getvalue().splitlines()


@pytest.mark.realdata
@pytest.mark.parametrize("command", list(COMMANDS))
def test_tennis_output_calls_a_point_a_point(command, shared_data):
    path = str(shared_data / "tennis_mcp" / "sample-points-5matches-2015.csv")
    lines = _printed(COMMANDS[command](path))
    assert len(lines) > 3
    assert [line for line in rally_talk(lines) if not STATE_LABEL.match(line)] == []
    assert any(re.search(r"\bpoints?\b", line) for line in lines)


def test_badminton_output_still_speaks_of_rallies():
    """The demo (badminton) keeps its word: the substitution is the sport's, not a blanket rename."""
    lines = _printed(["rally"])
    assert any(re.search(r"\brallies\b", line) for line in lines)
    assert any("P wins the rally" in line for line in lines)
