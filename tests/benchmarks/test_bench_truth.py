"""The ground-truth benchmark's data: each size's table is the canonical table of that many first matches of
one simulation, as if built from them alone."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import pandas as pd

from strategist.simulate import HEIGHT_PARAMETERS, canonical_table, simulate_matches

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import bench_truth  # noqa: E402


def test_each_size_is_the_table_of_its_first_matches():
    player, opponent = bench_truth.PAIRS[0]
    params = replace(HEIGHT_PARAMETERS, players=(HEIGHT_PARAMETERS.player(player),
                                                 HEIGHT_PARAMETERS.player(opponent)))
    matches = simulate_matches(params, matches=5, seed=3)
    tables = bench_truth.prefix_tables(matches, [5, 2, 1])
    assert [n for n, _ in tables] == [1, 2, 5]
    for n, table in tables:
        pd.testing.assert_frame_equal(table, canonical_table(matches[:n]))
        assert table["match_id"].nunique() == n
