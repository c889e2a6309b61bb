"""Fixtures of the scouting tests: the shipped ShuttleSet and demo loaded once, and their reports."""

import pytest

from strategist.data.demo import demo_path
from strategist.data.load import load_rallies
from strategist.scout import scout
from strategist.scout.matchinfo import read_match_info

PLAYER, OPPONENT = "Kento MOMOTA", "CHOU Tien Chen"
DEMO_PLAYER, DEMO_OPPONENT = "Astrid NORDVIK", "Hiro TAKEDA"


@pytest.fixture(scope="session")
def shuttle(shuttleset_strokes):
    """The shipped ShuttleSet copy as a canonical table."""
    return load_rallies(shuttleset_strokes).table


@pytest.fixture(scope="session")
def demo():
    return load_rallies(demo_path()).table


@pytest.fixture(scope="session")
def shuttle_report(shuttle, shuttleset_strokes):
    return scout(shuttle, PLAYER, OPPONENT, matches=read_match_info(shuttleset_strokes))


@pytest.fixture(scope="session")
def demo_report(demo):
    return scout(demo, DEMO_PLAYER, DEMO_OPPONENT, matches=read_match_info(demo_path()))


@pytest.fixture(params=["shuttle", "demo"])
def case(request, shuttle, demo, shuttle_report, demo_report):
    """(table, report, opponent, player) on the real data and on the demo."""
    if request.param == "shuttle":
        return shuttle, shuttle_report, OPPONENT, PLAYER
    return demo, demo_report, DEMO_OPPONENT, DEMO_PLAYER
