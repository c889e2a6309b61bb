"""The ground truth of the decision model: the simulator's height mode, its exact game (checked against the
simulator stroke by stroke and rally by rally, a hand-solved case and the six-state linear system of the
mode without heights), exact policy evaluation against a best response, and rally games' recommendations
evaluated in it — the coarse states fail on height data."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from strategist.data.load import load_rallies
from strategist.data.states import annotate_states
from strategist.errors import EstimationError
from strategist.rally.game import rally_game
from strategist.rally.truth import cell_errors, evaluate_recommendation, recommended_policy, true_state_values
from strategist.simulate import (HEIGHT_PARAMETERS, HeightLaws, Player, SimulationParameters, canonical_table,
                                 simulate_matches, simulate_rally, write_shuttleset)
from strategist.simulate.exact import policy_value, true_game
from strategist.simulate.model import DEPTHS, area_cell

P, O = "Astrid NORDVIK", "Hiro TAKEDA"
HEIGHT_PAIR = replace(HEIGHT_PARAMETERS, players=(HEIGHT_PARAMETERS.player(P), HEIGHT_PARAMETERS.player(O)))
FAILING_AT_LOW = ("rush", "smash", "wrist smash")      # shots whose error logit rises by >= 2 when taken low


@pytest.fixture(scope="module")
def truth():
    return true_game(HEIGHT_PAIR, P, O)


@pytest.fixture(scope="module")
def rallies():
    """1,500 rallies served by each player under the height mode (seeded)."""
    rng = np.random.default_rng(11)
    people = {"player": HEIGHT_PAIR.player(P), "opponent": HEIGHT_PAIR.player(O)}
    return {who: [simulate_rally(HEIGHT_PAIR, people[who], people[other], rng) for _ in range(1500)]
            for who, other in (("player", "opponent"), ("opponent", "player"))}


@pytest.fixture(scope="module")
def height_table():
    """20 simulated matches of the pair in the height mode (seed 0, fixed in advance)."""
    return canonical_table(simulate_matches(HEIGHT_PAIR, matches=20, seed=0))


@pytest.fixture(scope="module")
def games(height_table):
    situational = rally_game(height_table, P, O)
    coarse = rally_game(height_table, P, O, states="group:tactic", zones=False, heights=False)
    return situational, coarse


# ------------------------------------------------------------------------------------------ the simulator
def test_height_mode_writes_heights_to_both_layouts(tmp_path):
    matches = simulate_matches(HEIGHT_PAIR, matches=2, seed=3)
    table = canonical_table(matches)
    landed = table["error"].isna()
    assert set(table.loc[landed, "landing_height"]) == {"high", "low"}
    assert table.loc[~landed, "landing_height"].isna().all()
    write_shuttleset(matches, tmp_path)
    raw = pd.read_csv(tmp_path / "strokes.csv.gz", dtype=str, keep_default_na=False)
    assert set(raw["landing_height"]) == {"1", "2", ""}
    loaded = load_rallies(tmp_path / "strokes.csv.gz").table.sort_values(["rally_id", "stroke"])
    direct = table.sort_values(["rally_id", "stroke"])
    assert loaded["landing_height"].tolist() == direct["landing_height"].tolist()
    # without heights the canonical table records none (the demo's layout keeps its front-is-low rule)
    assert canonical_table(simulate_matches(matches=1, seed=3))["landing_height"].isna().all()


def test_heights_make_the_coarse_state_confuse_rushes(height_table):
    """After a net shot a rush is mostly played on a loose (high) one and wins there; taken low it errs most
    of the time: the coarse state "rally after neutral" sees only the mixture."""
    ann = annotate_states(height_table, situation=True)
    rush = ann[(ann["shot"] == "rush") & (ann["incoming_shot"] == "net shot")]
    high = (rush["incoming_height"] == "high").to_numpy(bool)
    errs = (rush["end"] == "error").fillna(False).to_numpy(bool)
    wins = (rush["end"] == "winner").fillna(False).to_numpy(bool)
    assert high.mean() > 0.6 and (~high).sum() >= 20
    assert errs[~high].mean() > 0.45 and errs[high].mean() < 0.15
    assert wins[high].mean() > 0.2 and wins.mean() > 0.15


# -------------------------------------------------------------------------------------------- the truth
def test_without_heights_the_true_game_is_the_six_state_chain():
    """Both habits evaluated in the game equal the linear system of :func:`true_state_values` (a second,
    independent computation of the simulator's laws) in every state."""
    params = replace(SimulationParameters(), players=(HEIGHT_PAIR.player(P), HEIGHT_PAIR.player(O)))
    game = true_game(params, P, O)
    values = game.habit_values()
    chain = true_state_values(params, P, O)
    for g, (who, shot, depth, height) in enumerate(game.keys):
        assert height is None
        key = (who, "serve", None) if shot is None else (who, "stroke", DEPTHS[depth])
        assert values[g] == pytest.approx(chain[key], abs=1e-12), game.labels[g]


def _outcome(truth, state: int, shot: str, depth: int) -> np.ndarray:
    """(P(hitter wins now), P(hitter loses now), P(next state) ...) of one stroke in the true game."""
    player = truth.keys[state][0] == "player"
    if player:
        a, b = truth.row_labels[state].index(shot), depth
        now, nxt = truth.rewards[state][a, b], truth.transitions[state][a, b]
        return np.r_[now, 1.0 - now - nxt.sum(), nxt]
    a, b = truth.column_labels[state].index(shot), depth
    now, nxt = truth.rewards[state][b, a], truth.transitions[state][b, a]
    return np.r_[1.0 - now - nxt.sum(), now, nxt]


def _count(tally: dict, key, probabilities: np.ndarray, seen: np.ndarray) -> None:
    e, v, o = tally.get(key, (0.0, 0.0, 0.0))
    tally[key] = (e + probabilities, v + probabilities * (1 - probabilities), o + seen)


def test_strokes_follow_the_true_game(truth, rallies):
    """Every simulated stroke agrees with the true game, counted over the strokes (within 4 sd + 2): the
    hitter's shot and the receiver's depth with the habits of the state's (depth, height), and the outcome
    (winner, error, or the next state's landing depth and height) per shot with the game's probabilities."""
    index = {k: g for g, k in enumerate(truth.keys)}
    who_of = {P: "player", O: "opponent"}
    kinds = ["win", "lose"] + [f"{d} {h}" for d in DEPTHS for h in ("high", "low")]
    kind_of_state = [f"{DEPTHS[k[2]]} {k[3]}" if k[1] is not None else "serve" for k in truth.keys]
    expected, variance, observed = {}, {}, {}
    choices: dict = {}
    for strokes in rallies["player"] + rallies["opponent"]:
        state = (who_of[strokes[0].hitter], None, None, None)
        for s in strokes:
            if s.number == HEIGHT_PAIR.max_strokes:
                break
            g = index[state]
            if state[0] == "player":
                names, mix, stand = truth.row_labels[g], truth.row_habits[g], truth.column_habits[g]
            else:
                names, mix, stand = truth.column_labels[g], truth.column_habits[g], truth.row_habits[g]
            where = (state[0], kind_of_state[g])
            _count(choices, where + ("shot",), mix, np.array(names) == s.shot)
            _count(choices, where + ("stand",), stand, np.arange(3) == area_cell(s.position)[0])
            p = _outcome(truth, g, s.shot, area_cell(s.position)[0])
            by_kind = np.zeros(len(kinds))
            by_kind[:2] = p[:2]
            for t, q in enumerate(p[2:]):
                if q > 0:
                    by_kind[kinds.index(kind_of_state[t])] += q
            key = s.shot
            expected[key] = expected.get(key, 0.0) + by_kind
            variance[key] = variance.get(key, 0.0) + by_kind * (1 - by_kind)
            seen = np.zeros(len(kinds))
            if s.end is not None:
                seen[0 if s.end == "winner" else 1] = 1
            else:
                seen[kinds.index(f"{DEPTHS[area_cell(s.landing)[0]]} {s.height}")] = 1
            observed[key] = observed.get(key, 0.0) + seen
            if s.end is None:
                state = (who_of[s.receiver], s.shot, area_cell(s.landing)[0], s.height)
    assert len(observed) == 14 and len(choices) == 2 * 2 * 7
    for key, (e, v, o) in choices.items():
        assert (np.abs(o - e) <= 4 * np.sqrt(v) + 2).all(), (key, o, e.round(1))
    for shot in observed:
        gap = np.abs(observed[shot] - expected[shot])
        assert (gap <= 4 * np.sqrt(variance[shot]) + 2).all(), (shot, observed[shot], expected[shot].round(1))


def test_habit_values_agree_with_simulated_rallies(truth, rallies):
    """Both players' habits: the exact value from each serve against the share of simulated rallies the
    player won (1,500 each, within 4 standard errors)."""
    values = truth.habit_values()
    for who in ("player", "opponent"):
        won = np.mean([(r[-1].hitter == P) == (r[-1].end == "winner") for r in rallies[who]])
        v = values[truth.index(f"{who}: serve")]
        assert abs(won - v) < 4 * np.sqrt(v * (1 - v) / len(rallies[who])), who


def _tiny_params(long_serve: float = 0.1) -> SimulationParameters:
    """No rally shot ever wins and each errs with probability 0.2; serves never err and win outright with
    σ(−2) against a receiver at their landing depth, σ(0) elsewhere (no side effect)."""
    base = SimulationParameters()
    rally_err = float(np.log(0.2 / 0.8))
    return replace(
        base, players=(Player("A", long_serve=long_serve), Player("B", long_serve=long_serve)),
        depth_mismatch=2.0, side_mismatch=0.0,
        error_logit={s: (-60.0 if s.endswith("service") else rally_err) for s in base.error_logit},
        winner_logit={s: (-2.0 if s.endswith("service") else -60.0) for s in base.winner_logit},
        heights=HeightLaws(effect={"high": {}, "low": {}}))


def test_hand_solved_game():
    """Rally strokes: the hitter errs w.p. e = 0.2, never wins, so V(A hits) = (1 − e)/(2 − e) = 4/9 and V(B
    hits) = 5/9. A's serve: short (lands front) or long (back) against B standing front, middle or back;
    Q = W + (1 − W)·5/9 with W = σ(−2) = m at the right depth, σ(0) = ½ elsewhere. Middle is dominated; the
    2×2 game gives A ½–½ and the value (m' + x')/2, m' = m + (1 − m)5/9, x' = ½ + ½·5/9. A's habit (long w.p.
    0.1) guarantees only 0.9 m' + 0.1 x' (B stands front); B's serve is the mirror image."""
    game = true_game(_tiny_params(), "A", "B")
    m = 1.0 / (1.0 + np.exp(2.0))
    m1, x1 = m + (1 - m) * 5 / 9, 0.5 + 0.5 * 5 / 9
    serve = game.index("player: serve")
    assert game.values[serve] == pytest.approx((m1 + x1) / 2, abs=1e-9)
    assert game.values[game.index("opponent: serve")] == pytest.approx(1 - (m1 + x1) / 2, abs=1e-9)
    np.testing.assert_allclose(game.solution.row_strategies[serve], [0.5, 0.5], atol=1e-6)
    np.testing.assert_allclose(game.solution.column_strategies[serve], [0.5, 0.0, 0.5], atol=1e-6)
    for g, (who, shot, _, _) in enumerate(game.keys):
        if shot is not None:
            assert game.values[g] == pytest.approx(4 / 9 if who == "player" else 5 / 9, abs=1e-9)
    habit = policy_value(game, game.row_habits)
    assert habit[serve] == pytest.approx(0.9 * m1 + 0.1 * x1, abs=1e-9)
    assert habit[game.index("player: rally after net shot (low, front)")] == pytest.approx(4 / 9, abs=1e-9)


def _best_response_by_value_iteration(truth, policy) -> np.ndarray:
    """V ← min_b (x R + x T V)_b until it stops moving: the opponent's best response, a second algorithm."""
    r = [x @ R for x, R in zip(policy, truth.rewards)]
    t = [np.einsum("a,abt->bt", x, T) for x, T in zip(policy, truth.transitions)]
    v = np.zeros(len(r))
    for _ in range(5000):
        new = np.array([(rg + tg @ v).min() for rg, tg in zip(r, t)])
        if np.abs(new - v).max() < 1e-13:
            break
        v = new
    return new


def test_policy_value_is_the_best_response_value(truth):
    habit = policy_value(truth, truth.row_habits)
    np.testing.assert_allclose(habit, _best_response_by_value_iteration(truth, truth.row_habits), atol=1e-9)
    # the optimum's own mixes guarantee the optimum; the habits are far from it (more than any noise)
    optimum = policy_value(truth, truth.solution.row_strategies)
    np.testing.assert_allclose(optimum, truth.values, atol=1e-8)
    serves = [truth.index(s) for s in truth.serve_states]
    assert (truth.values[serves] - habit[serves] > 0.1).all()
    # the optimum never plays a shot that fails at the height it is taken
    for g, (who, shot, _, height) in enumerate(truth.keys):
        if who == "player" and height == "low":
            mix = dict(zip(truth.row_labels[g], truth.solution.row_strategies[g]))
            assert sum(mix.get(s, 0.0) for s in FAILING_AT_LOW) < 1e-6, truth.labels[g]


def test_policy_value_refuses_bad_policies(truth):
    with pytest.raises(EstimationError, match="one mix per state"):
        policy_value(truth, truth.row_habits[:-1])
    bad = list(truth.row_habits)
    bad[0] = {"smash": 1.0}
    with pytest.raises(EstimationError, match="not actions there"):
        policy_value(truth, bad)
    bad[0] = np.array([0.7, 0.7])
    with pytest.raises(EstimationError, match="probability mix"):
        policy_value(truth, bad)
    with pytest.raises(EstimationError, match="not one of the simulator's players"):
        true_game(HEIGHT_PAIR, P, "Nobody")


# ---------------------------------------------------------------------------- recommendations in the truth
def test_situations_map_onto_the_true_game(games, truth):
    """The situational game names the true states exactly: its observed mixes, mapped, are the player's habits
    (their guarantee within 0.03 of the habits'); the recommendation is taken state by state as recommended.
    The coarse game's "rally after neutral" stands for a net shot taken low at the front."""
    situational, coarse = games
    policy, how = recommended_policy(situational, truth, situational.observed_row)
    assert how["habit"] == 0 and how["mapped"] == len(truth.labels)
    serves = [truth.index(s) for s in truth.serve_states]
    habit = policy_value(truth, truth.row_habits)[serves]
    np.testing.assert_allclose(policy_value(truth, policy)[serves], habit, atol=0.03)
    for game, label, states in (
            (situational, "player: rally after net shot (low, front)", ["player: rally after net shot (low, front)"]),
            (situational, "opponent: rally after lob (high, back)", ["opponent: rally after lob (high, back)"]),
            (coarse, "player: rally after neutral", [f"player: rally after {s} ({h}, {d})" for s, d in
                                                     (("net shot", "front"), ("clear", "back"), ("clear", "middle"))
                                                     for h in ("high", "low")])):
        policy, _ = recommended_policy(game, truth)
        k = game.index(label)
        mix = dict(zip(game.layout.row_labels[k], game.recommendation.row_strategies[k]))
        for state in states:
            g = truth.index(state)
            expected = np.array([mix.get(a, 0.0) for a in truth.row_labels[g]])
            # the recommended mix over what the state offers; the habit where it offers none of it
            expected = expected / expected.sum() if expected.sum() > 1e-12 else truth.row_habits[g]
            np.testing.assert_allclose(policy[g], expected, atol=1e-12, err_msg=state)


def test_coarse_states_fail_on_height_data(games, truth):
    """The coarse model (incoming shot's tactical group only) fitted on height data recommends shots that fail
    at the height they are taken (rush, smash, wrist smash from a low shuttle, which the optimum never plays)
    and its recommendation, evaluated exactly, is far from the optimum: gap > 0.03 from a serve."""
    situational, coarse = games
    report = evaluate_recommendation(situational, HEIGHT_PAIR, coarse=coarse, truth=truth)
    assert report["coarse"]["max_gap"] > 0.03
    assert report["coarse"]["model"] == {"states": "group:tactic", "zones": False, "heights": False,
                                         "strokes": int(coarse.structure.strokes_used), "matches": 20}
    for key in ("optimum", "habit"):
        assert set(report[key] if key == "optimum" else report[key]["guaranteed"]) == set(truth.serve_states)
    for model in ("recommendation", "coarse"):
        r = report[model]
        assert r["gap"] == {s: pytest.approx(report["optimum"][s] - r["value"][s]) for s in truth.serve_states}
        # against the opponent's optimal strategy a policy gets at most the optimum, at least its guarantee
        for s in truth.serve_states:
            assert r["value"][s] - 1e-9 <= r["against_optimal_opponent"][s] <= report["optimum"][s] + 1e-9
    policy, _ = recommended_policy(coarse, truth)
    failing = [truth.labels[g] for g, (who, _, _, height) in enumerate(truth.keys)
               if who == "player" and height == "low"
               and sum(x for a, x in zip(truth.row_labels[g], policy[g]) if a in FAILING_AT_LOW) >= 0.3]
    assert len(failing) >= 3, failing


def test_evaluate_recommendation_refuses_other_pairs(games, truth):
    situational, coarse = games
    with pytest.raises(EstimationError, match="not one of the simulator's players"):
        evaluate_recommendation(situational, replace(HEIGHT_PAIR, players=(HEIGHT_PAIR.player(P),)))
    with pytest.raises(EstimationError, match="two named simulated players"):
        evaluate_recommendation(replace(situational, opponent=None), HEIGHT_PAIR, truth=truth)
    with pytest.raises(EstimationError, match="same pair"):
        evaluate_recommendation(situational, HEIGHT_PAIR, coarse=replace(coarse, player=O, opponent=P), truth=truth)
    other = true_game(HEIGHT_PAIR, O, P)
    with pytest.raises(EstimationError, match="the true game is"):
        evaluate_recommendation(situational, HEIGHT_PAIR, truth=other)


def test_the_cells_posterior_sds_are_as_wide_as_the_estimates_real_errors(games, truth):
    """The pessimistic recommendation subtracts z·σ per cell; on 20 simulated matches the cells' σ match the
    estimates' real errors against the true stage games (same continuation in both): z has rms near 1 and
    about 10 % of cells fall outside ±1.645σ (half or double the σ would give rms 2 or 0.5)."""
    situational, _ = games
    cells = cell_errors(situational, truth)
    assert len(cells) > 500
    rms = float(np.sqrt(np.mean(cells["z"] ** 2)))
    outside = float(np.mean(cells["z"].abs() > 1.645))
    assert 0.8 < rms < 1.25, rms
    assert 0.05 < outside < 0.16, outside
    np.testing.assert_allclose(cells["z"], (cells["estimate"] - cells["truth"]) / cells["sd"])


def test_a_cells_truth_is_the_true_stroke_law_with_the_games_own_continuation(games, truth):
    """One cell by hand: the true immediate reward and transitions of the state, with the rally game's own
    values of the states (both playing as recommended) as what follows; the estimate is the game's Q there."""
    situational, _ = games
    cells = cell_errors(situational, truth).set_index(["state", "row", "column"])
    label = "player: rally after net shot (low, front)"
    k, g = truth.index(label), situational.index(label)
    stage = situational.stage(g)
    i = int(np.argmax(stage.counts.sum(axis=1)))
    j = int(np.argmax(stage.counts[i]))
    row, column = stage.rows[i], stage.columns[j]
    follow = np.array([situational.value(s) for s in truth.labels])    # every true state is named by the game
    a, b = truth.row_labels[k].index(row), truth.column_labels[k].index(column)
    expected = truth.rewards[k][a, b] + sum(truth.transitions[k][a, b, s] * follow[s] for s in range(len(follow)))
    cell = cells.loc[(label, row, column)]
    assert cell["truth"] == pytest.approx(expected, abs=1e-12)
    assert cell["estimate"] == pytest.approx(stage.mean[i, j], abs=1e-15)
    assert cell["count"] == stage.counts[i, j] > 0


def test_cells_leading_to_states_the_game_does_not_name_are_left_out(games, truth):
    """The coarse game names its states by group ("rally after neutral"), which the true game does not: of
    the states both name (the serves) every cell leads to a return the coarse game names otherwise, so its
    continuation is not the game's and nothing is compared."""
    _, coarse = games
    assert set(coarse.labels) & set(truth.labels) == {"player: serve", "opponent: serve"}
    cells = cell_errors(coarse, truth)
    assert cells.empty and list(cells.columns) == ["state", "row", "column", "count", "estimate", "truth", "sd", "z"]
