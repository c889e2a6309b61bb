"""The kept-habits benchmark counts exactly the kept habits whose departure the rule supports at the settled
values, checked state by state with departure_supported."""

from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

import strategist
from strategist.data.demo import demo_path
from strategist.rally import game as rg

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import bench_kept_habits  # noqa: E402


@pytest.fixture(scope="module")
def everyone():
    table = strategist.load_rallies(demo_path()).table
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return rg.rally_game(table)


def test_the_serve_kept_in_the_all_players_game_is_counted_with_its_guarantees(everyone):
    got = bench_kept_habits.judged_again(everyone)
    st, rec = everyone.structure, everyone.recommendation
    serve = everyone.index("player: serve")
    assert rec.row_habit[serve] and got["largest"]["state"] == "player: serve"
    # by hand: the player's habit and its lower-bound equilibrium at the settled values, judged by the rule
    q = everyone.rewards[serve] + everyone.transitions[serve] @ rec.realized
    sd = rg.per_cell(everyone.layout, np.sqrt(rg.cell_variance(st, everyone.estimate, everyone.solution.values)))
    habit = np.asarray(everyone.observed_row[serve], float)
    low = q - np.minimum(rg.two_sided_z(everyone.level) * sd[serve], q)
    x = np.zeros(len(habit))
    x[int(np.argmax(low.min(axis=1)))] = 1.0             # one shot dominates here: the lower-bound maximin is pure
    assert rg.departure_supported(q, sd[serve], rg.two_sided_z(everyone.level), x, habit, np.ones(q.shape[1], bool))
    assert got["largest"]["habit_guarantee"] == pytest.approx((habit @ q).min())
    assert got["largest"]["departure_guarantee"] == pytest.approx((x @ q).min(), abs=1e-6)
    assert 0 < got["rows_freed"] <= got["kept_rows"] and got["departing_rows_unsupported"] == 0


def test_a_pair_whose_habits_all_stand_frees_none():
    table = strategist.load_rallies(demo_path()).table
    got = bench_kept_habits.judged_again(rg.rally_game(table, "Astrid NORDVIK", "Hiro TAKEDA"))
    assert (got["rows_freed"], got["columns_freed"], got["visits_freed"]) == (0, 0, 0) and "largest" not in got
