"""The rally simulator: seeded, in ShuttleSet's layout, read back by the loader, faithful to its parameters."""

from __future__ import annotations

import gzip
import io

import numpy as np
import pandas as pd
import pytest

from strategist.data.demo import demo_dir, demo_path
from strategist.data.load import load_rallies
from strategist.simulate import (SimulationParameters, canonical_table, error_probability, shuttleset_frames,
                                 simulate_matches, winner_probability, write_shuttleset)
from strategist.simulate.__main__ import main as simulate_main
from strategist.simulate.model import SHOT_LABELS, area_cell
from strategist.sports import get_sport

SHUTTLESET_COLUMNS = [
    "source", "match_id", "set", "rally", "ball_round", "time", "frame_num", "roundscore_A", "roundscore_B",
    "player", "server", "type", "aroundhead", "backhand", "hit_height", "hit_area", "hit_x", "hit_y",
    "landing_height", "landing_area", "landing_x", "landing_y", "lose_reason", "win_reason", "getpoint_player",
    "flaw", "player_location_area", "player_location_x", "player_location_y", "opponent_location_area",
    "opponent_location_x", "opponent_location_y", "db",
]


@pytest.fixture(scope="module")
def frames(simulated):
    return shuttleset_frames(simulated)


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    a = write_shuttleset(simulate_matches(matches=3, seed=5), tmp_path / "a", seed=5)
    b = write_shuttleset(simulate_matches(matches=3, seed=5), tmp_path / "b", seed=5)
    c = write_shuttleset(simulate_matches(matches=3, seed=6), tmp_path / "c", seed=6)
    assert a[0].read_bytes() == b[0].read_bytes() and a[1].read_bytes() == b[1].read_bytes()
    assert a[0].read_bytes() != c[0].read_bytes()


def test_columns_are_shuttlesets(frames, shared_data_or_none):
    strokes, matches = frames
    assert list(strokes.columns) == SHUTTLESET_COLUMNS
    if shared_data_or_none is not None:
        with gzip.open(shared_data_or_none / "badminton_shuttleset" / "strokes.csv.gz", "rt",
                       encoding="utf-8") as fh:
            assert fh.readline().strip().split(",") == SHUTTLESET_COLUMNS
        upstream = pd.read_csv(shared_data_or_none / "badminton_shuttleset" / "matches_shuttleset.csv", nrows=1)
        assert list(matches.columns) == list(upstream.columns)
    sport = get_sport("badminton")
    assert set(strokes["type"]) <= set(sport.labels["shuttleset"]["shot"])


def test_layout_semantics(frames, simulated):
    strokes, matches = frames
    s = strokes.assign(set=strokes["set"].astype(int), rally=strokes["rally"].astype(int),
                       ball_round=strokes["ball_round"].astype(int), a=strokes["roundscore_A"].astype(int),
                       b=strokes["roundscore_B"].astype(int))
    rallies = s.groupby(["match_id", "set", "rally"], sort=False)
    last = rallies.tail(1)
    # the point goes to getpoint_player, recorded on the last stroke only; scores are after the rally
    assert (last["getpoint_player"].isin(["A", "B"])).all()
    assert (s.loc[~s.index.isin(last.index), "getpoint_player"] == "").all()
    first = rallies.head(1).set_index(["match_id", "set", "rally"])
    prev = first.groupby(level=[0, 1])[["a", "b"]].shift(fill_value=0)
    gained_a = first["a"] - prev["a"]
    gained_b = first["b"] - prev["b"]
    assert ((gained_a + gained_b) == 1).all()
    winner_a = last.set_index(["match_id", "set", "rally"])["getpoint_player"] == "A"
    assert (winner_a == (gained_a == 1)).all()
    # the rally's winner hit the last stroke iff it landed in
    won_by_last_hitter = last["getpoint_player"] == last["player"]
    assert (won_by_last_hitter == (last["win_reason"] == "落地致勝")).all()
    # stroke roles: 1 serve, 2 rally stroke, 3 last stroke (a one-stroke rally is 1); players alternate
    sizes = rallies["ball_round"].transform("size")
    expected_role = np.where(s["ball_round"] == 1, 1, np.where(s["ball_round"] == sizes, 3, 2))
    assert (s["server"].astype(int) == expected_role).all()
    alternate = rallies["player"].transform(lambda p: (p.to_numpy()[1:] != p.to_numpy()[:-1]).all())
    assert alternate.all()
    # A is the match winner: A won more games in every match
    games = s.groupby(["match_id", "set"]).tail(1)
    a_games = (games["a"] > games["b"]).groupby(games["match_id"]).sum()
    b_games = (games["a"] < games["b"]).groupby(games["match_id"]).sum()
    assert (a_games > b_games).all() and (a_games == 2).all()
    names = dict(zip(matches["video"], matches["winner"]))
    assert all(names[m.match_id] == m.winner for m in simulated)


def test_loader_reads_the_layout_back_exactly(tmp_path, simulated):
    write_shuttleset(simulated, tmp_path)
    result = load_rallies(tmp_path / "strokes.csv.gz")
    assert result.rejections.rallies_rejected == 0 and result.rejections.rows_rejected == 0
    key = ["rally_id", "stroke"]
    loaded = result.table.sort_values(key).reset_index(drop=True)
    direct = canonical_table(simulated).sort_values(key).reset_index(drop=True)
    columns = ["match_id", "set", "rally", "rally_id", "stroke", "hitter", "opponent", "shot", "landing_area",
               "hitter_area", "opponent_area", "server", "serve_number", "court_side", "hitter_score",
               "opponent_score", "winner", "hitter_won", "error", "end"]
    pd.testing.assert_frame_equal(loaded[columns], direct[columns])


def test_outcomes_match_the_model_probabilities(simulated_table):
    """Errors and winners per shot type agree with the sums of the model's probabilities (z within 4)."""
    params = SimulationParameters()
    t = simulated_table[simulated_table["stroke"] < params.max_strokes]
    players = {p.name: p for p in params.players}
    p_err = np.array([error_probability(params, s, players[h]) for s, h in zip(t["shot"], t["hitter"])])
    is_error = t["error"].notna().to_numpy()
    clean = ~is_error
    p_win = np.array([winner_probability(params, s, int(l), int(r), players[h], players[o])
                      for s, l, r, h, o in zip(t["shot"][clean], t["landing_area"][clean], t["opponent_area"][clean],
                                               t["hitter"][clean], t["opponent"][clean])])
    is_winner = (t["end"] == "winner").to_numpy(dtype=bool, na_value=False)[clean]
    shots = t["shot"].to_numpy()
    for shot in SHOT_LABELS:
        mask = shots == shot
        expected, var = p_err[mask].sum(), (p_err[mask] * (1 - p_err[mask])).sum()
        assert abs(is_error[mask].sum() - expected) < 4 * np.sqrt(var) + 1, shot
        m = shots[clean] == shot
        expected, var = p_win[m].sum(), (p_win[m] * (1 - p_win[m])).sum()
        assert abs(is_winner[m].sum() - expected) < 4 * np.sqrt(var) + 1, shot
    # the depth-mismatch effect is visible: smashes win outright more often against a receiver out of place
    smash = clean & (shots == "smash")
    landing = np.array([area_cell(int(a))[0] for a in t["landing_area"][smash]])
    position = np.array([area_cell(int(a))[0] for a in t["opponent_area"][smash]])
    won = (t["end"] == "winner").to_numpy(dtype=bool, na_value=False)[smash]
    assert won[landing != position].mean() > 2 * won[landing == position].mean()


def test_shipped_demo_is_the_documented_simulation(tmp_path):
    path = demo_path()
    assert path.name == "strokes.csv.gz" and (demo_dir() / "matches.csv").is_file()
    assert path.stat().st_size < 1_000_000
    assert simulate_main(["--seed", "0", "--matches", "20", "--out", str(tmp_path)]) == 0
    for name in ("strokes.csv.gz", "matches.csv", "parameters.json"):
        assert (tmp_path / name).read_bytes() == (demo_dir() / name).read_bytes(), name
    readme = (demo_dir() / "README.md").read_text(encoding="utf-8")
    assert "python -m strategist.simulate --seed 0 --matches 20 --out data/demo" in readme
    strokes = pd.read_csv(io.BytesIO((demo_dir() / "strokes.csv.gz").read_bytes()), compression="gzip")
    assert strokes["match_id"].nunique() == 20
    assert f"{len(strokes):,} strokes" in readme


def test_bad_simulation_requests():
    with pytest.raises(ValueError):
        simulate_matches(matches=0)
    with pytest.raises(SystemExit):
        simulate_main(["--matches", "0", "--out", "unused"])
