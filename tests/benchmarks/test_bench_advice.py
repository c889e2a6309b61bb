"""The advice benchmark's own arithmetic: its folds hold every match out once (the first being the README's
split), its scores of a decision follow the training counts, and the ECE a calibrated predictor would show
matches its closed form."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import bench_advice  # noqa: E402


def _table(matches: int) -> pd.DataFrame:
    return pd.DataFrame({"match_id": np.repeat([f"m{k}" for k in range(matches)], 3),
                         "stroke": np.tile([1, 2, 3], matches)})


def test_the_first_of_five_folds_is_the_readme_split_and_every_match_is_held_out_once():
    table = _table(94)
    folds = bench_advice.folds_of(table, 5)
    train, held = bench_advice.split(table)
    assert set(folds[0][1]["match_id"]) == set(held["match_id"]) and len(set(held["match_id"])) == 19
    out = [m for _, h in folds for m in set(h["match_id"])]
    assert sorted(out) == sorted(set(table["match_id"])) and len(out) == 94
    for tr, h in folds:
        assert not set(tr["match_id"]) & set(h["match_id"])
        assert len(tr) + len(h) == len(table)
    assert [len(set(h["match_id"])) for _, h in folds] == [19, 19, 19, 19, 18]
    single = bench_advice.folds_of(table, 1)
    assert len(single) == 1 and set(single[0][1]["match_id"]) == set(held["match_id"])


def test_a_decision_is_scored_against_its_own_training_counts():
    everyone = pd.Series({("after a lob", "clear"): 90, ("after a lob", "smash"): 9, ("after a lob", "rush"): 1})
    per_player = pd.Series({("A", "after a lob", "clear"): 18, ("A", "after a lob", "smash"): 1,
                            ("A", "after a lob", "rush"): 1, ("B", "after a lob", "clear"): 5})
    rows = [{"player": "A", "state": "after a lob", "equilibrium": {"clear": 0.4, "rush": 0.6},
             "safe": {"clear": 0.7, "smash": 0.3}},
            {"player": "B", "state": "after a lob", "equilibrium": {"clear": 1.0}, "safe": {"clear": 1.0}},
            {"player": "A", "state": "unseen", "equilibrium": {"clear": 1.0}, "safe": {"clear": 1.0}}]
    bench_advice.measure_decisions(rows, everyone, per_player)
    # rush is 1 % of all players' strokes there (< 2 %), smash 9 %
    assert rows[0]["infeasible"] == pytest.approx({"equilibrium": 0.6, "safe": 0.0})
    # A plays rush 1 time in 20 (< 10 %) and the equilibrium puts 60 % on it; smash 1 in 20 but 30 % < 50 %
    assert rows[0]["far"] == {"equilibrium": "rush", "safe": None}
    assert rows[0]["far_example"]["played"] == 1 and rows[0]["far_example"]["of"] == 20
    assert rows[1].get("thin") and "far" not in rows[1]        # 5 strokes of B there: fewer than 10
    assert "infeasible" not in rows[2]


def test_the_calibrated_ece_of_independent_decisions_matches_its_closed_form():
    # one decision per rally, no form: each bin's error is normal with variance Σ p(1 − p) / n_b², so
    # E[ECE] = Σ_b (n_b / n) · sqrt(2/π) · sqrt(Σ_b p(1 − p)) / n_b
    rng = np.random.default_rng(3)
    p = np.sort(rng.uniform(0.3, 0.7, 5000))
    keys = [(0, k) for k in range(len(p))]
    got = bench_advice.calibrated_ece(p, [0] * len(p), keys, [0.0] * len(p), draws=400)
    bins = np.array_split(np.arange(len(p)), 10)
    expected = sum(len(b) / len(p) * math.sqrt(2 / math.pi) * math.sqrt(np.sum(p[b] * (1 - p[b]))) / len(b)
                   for b in bins)
    # the median of a sum of folded normals sits a little below its mean
    assert 0.85 * expected < got["median"] < 1.02 * expected
    assert got["p95"] > got["median"] and got["draws"] == 400


def test_shared_rallies_and_match_form_make_a_calibrated_predictor_look_worse():
    rng = np.random.default_rng(4)
    p = np.sort(rng.uniform(0.35, 0.65, 3000))        # a rally's six decisions fall in one bin
    players = [k // 150 for k in range(len(p))]      # 20 players, each in half a bin (as strength sorts them)
    independent = bench_advice.calibrated_ece(p, players, list(range(len(p))), [0.0] * len(p))
    shared = bench_advice.calibrated_ece(p, players, [k // 6 for k in range(len(p))], [0.0] * len(p))
    form = bench_advice.calibrated_ece(p, players, list(range(len(p))), [0.08] * len(p))
    assert shared["median"] > 1.5 * independent["median"]       # six decisions to an outcome: ~√6 as noisy
    assert form["median"] > 1.5 * independent["median"]
    again = bench_advice.calibrated_ece(p, players, list(range(len(p))), [0.08] * len(p))
    assert again == form                                          # seeded


def test_the_calibrated_ece_of_no_decision_is_not_a_number():
    out = bench_advice.calibrated_ece(np.array([]), [], [], [])
    assert math.isnan(out["median"]) and out["draws"] == 0
