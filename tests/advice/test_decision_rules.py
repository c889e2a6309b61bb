"""One decision of the player (strategist.advice.decision): the per-state arrays against the rally game's
stage, the next states' value vectors and the continuation against loops written from the module's formulas,
the safe mix against a linear program, and the options table against sums by hand."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import linprog

from strategist.advice.decision import (OPTION_COLUMNS, OPTION_NUMBERS, NextStates, StateArrays, combine_options,
                                        continuation, default_low, next_states, option_columns, safe_mix,
                                        state_arrays)
from strategist.data.states import annotate_states
from strategist.rally.game import KEPT_SHARE, rally_game
from tests.rally.pair import O, P, pair_table

Z = 1.6448536269514722                      # two-sided 90 %


@pytest.fixture(scope="module")
def table():
    return pair_table(4, 5)


@pytest.fixture(scope="module")
def game(table):
    return rally_game(table, P, O)


def _player_states(game):
    return [g for g, label in enumerate(game.labels) if label.startswith("player: ")]


def test_state_arrays_are_the_stage_of_the_state(game, table):
    """Rows, columns, the pessimistic stage game, the habits, the recommendation and its value, what may be
    advised and the evidence are the stage's; played counts the player's strokes there with pandas; sd is the
    half width of the stage's interval over z where it is not clipped; usual is the habit over the candidates."""
    ann = annotate_states(table, situation=True)
    mine = ann[ann["hitter"] == P]
    checked = 0
    for g in _player_states(game):
        sa = state_arrays(game, g)
        stage = game.stage(g)
        assert sa.g == g and sa.rows == tuple(stage.rows) and sa.columns == tuple(stage.columns)
        np.testing.assert_array_equal(sa.stage_low, stage.pessimistic)
        np.testing.assert_array_equal(sa.habit, stage.observed_row)
        np.testing.assert_array_equal(sa.positions, stage.observed_column)
        np.testing.assert_array_equal(sa.recommended, stage.recommended)
        np.testing.assert_array_equal(sa.opponent_eq, stage.opponent)
        np.testing.assert_array_equal(sa.advised, np.asarray(stage.advisable, bool))
        np.testing.assert_array_equal(sa.evidence, stage.evidence)
        assert sa.value_low == pytest.approx(stage.pessimistic_value) and sa.basis == stage.basis
        np.testing.assert_array_equal(sa.reward, game.rewards[g])
        np.testing.assert_array_equal(sa.transition, game.transitions[g])
        # the states the strokes reach: every other state has no mass from any cell, and step is the rest
        mass = np.asarray(game.transitions[g]).sum(axis=(0, 1))
        np.testing.assert_array_equal(sa.reach, np.flatnonzero(mass > 0))
        np.testing.assert_array_equal(sa.step, np.asarray(game.transitions[g])[..., sa.reach])
        assert 0 < len(sa.reach) < len(game.labels)
        inside = (stage.low > 0) & (stage.high < 1)
        np.testing.assert_allclose((stage.high - stage.low)[inside] / (2 * Z), sa.sd[inside], rtol=1e-9)
        label = game.labels[g].removeprefix("player: ")
        counts = mine.loc[mine["state"] == label, "shot"].value_counts()
        np.testing.assert_array_equal(sa.played, [counts.get(r, 0) for r in sa.rows])
        assert sa.played.dtype == np.int64
        kept = np.where(stage.candidate, stage.observed_row, 0.0)
        want = kept / kept.sum() if kept.sum() > 0 else np.asarray(stage.observed_row)
        np.testing.assert_allclose(sa.usual, want, rtol=1e-12)
        assert ((sa.share >= 0) & (sa.share <= 1)).all() and sa.share.shape == (len(sa.rows),)
        checked += 1
    assert checked >= 5


def test_population_shares_follow_how_often_all_players_choose_each_shot(game, table):
    """share: all players' share of each shot in the situation, shrunk toward coarser levels: in a state with
    many strokes it is near the raw share, and shots seen there more often get a larger share."""
    ann = annotate_states(table, situation=True)
    checked = 0
    for g in _player_states(game):
        label = game.labels[g].removeprefix("player: ")
        here = ann.loc[ann["state"] == label, "shot"].value_counts()
        if here.sum() < 90:
            continue
        checked += 1
        sa = state_arrays(game, g)
        raw = np.array([here.get(r, 0) for r in sa.rows]) / here.sum()
        np.testing.assert_allclose(sa.share, raw, atol=0.02)
        top, bottom = int(np.argmax(raw)), int(np.argmin(raw))
        assert sa.share[top] > sa.share[bottom]
    assert checked >= 4


def test_the_usual_mix_is_the_habit_when_no_candidate_is_played(monkeypatch):
    """usual: the habit over the candidate shots, renormalised; the whole habit where the player plays no
    candidate shot."""
    import strategist.rally.game as rg

    monkeypatch.setattr(rg, "per_cell", lambda lay, values: [np.asarray(values).reshape(2, 1)])
    sa = state_arrays(_fake_game(candidate=[False, True], habit=[1.0, 0.0]), 0)
    np.testing.assert_array_equal(sa.usual, [1.0, 0.0])
    sa = state_arrays(_fake_game(candidate=[False, True], habit=[0.25, 0.75]), 0)
    np.testing.assert_allclose(sa.usual, [0.0, 1.0])
    sa = state_arrays(_fake_game(candidate=[True, True], habit=[0.25, 0.75]), 0)
    np.testing.assert_allclose(sa.usual, [0.25, 0.75])
    np.testing.assert_allclose(sa.share, [0.3, 0.7])
    np.testing.assert_array_equal(sa.played, [4, 0])
    np.testing.assert_allclose(sa.evidence[:, 0], [[0.1, 0.2, 0.7], [0.3, 0.3, 0.4]])
    np.testing.assert_allclose(sa.sd[:, 0], [0.1, 0.2])


def _fake_game(candidate, habit):
    """A one-state game of two shots and one column, holding what state_arrays reads."""
    lay = SimpleNamespace(row_labels=[("lob", "drop")], column_labels=[("1",)], cell_index=np.array([0, 1]),
                          reward_offsets=np.array([0, 2]))
    feas = pd.DataFrame({"label": [3, 7, 7], "action": [0, 0, 1], "share": [0.9, 0.3, 0.7]})
    st = SimpleNamespace(trusted=[np.array([True, True])], candidate=[np.array(candidate)],
                         row_counts={"hitter": np.array([[4, 0], [0, 0]])}, row_offsets=np.array([0, 2]),
                         feasibility=SimpleNamespace(frame=feas), states=pd.DataFrame({"label": [7]}),
                         action_names=["lob", "drop"], cell_state=np.array([0, 0]))
    rec = SimpleNamespace(stage_games=[np.array([[0.4], [0.6]])], row_strategies=[np.array([0.0, 1.0])],
                          column_strategies=[np.array([1.0])], values=np.array([0.6]))
    return SimpleNamespace(layout=lay, cell_sd=np.array([0.1, 0.2]), structure=st, observed_row=[np.array(habit)],
                           observed_column=[np.array([1.0])], recommendation=rec,
                           states=pd.DataFrame({"basis": ["habit"]}), rewards=[np.zeros((2, 1))],
                           transitions=[np.zeros((2, 1, 1))],
                           estimate=SimpleNamespace(evidence=np.array([[[0.1, 0.2, 0.7], [0.3, 0.3, 0.4]]])))


def test_next_states_hold_each_opponent_states_values(game):
    """At every opponent state s: its columns as indices of the sport's shots, xᵀ(r + T V_obs) with the player's
    habit, the recommended row against the clipped lower bound r + T V_rec − z σ, and the opponent's two mixes;
    padded to the widest state with zeros and index −1; nothing at the player's states."""
    from strategist.rally.game import per_cell

    shots = tuple(game.structure.sport.shots)
    nxt = next_states(game, shots, Z)
    sd = per_cell(game.layout, game.cell_sd)
    opp = [g for g, label in enumerate(game.labels) if label.startswith("opponent: ")]
    width = max(len(game.layout.column_labels[s]) for s in opp)
    assert nxt.padded["shot_index"].shape == (len(game.labels), width)
    for s in range(len(game.labels)):
        if s not in opp:
            assert nxt.shot_index[s] is None and nxt.obs_value[s] is None and nxt.low_value[s] is None
            assert nxt.habit[s] is None and nxt.recommended[s] is None
            assert (nxt.padded["shot_index"][s] == -1).all() and (nxt.padded["obs_value"][s] == 0).all()
            continue
        cols = game.layout.column_labels[s]
        m, n = len(game.layout.row_labels[s]), len(cols)
        want_idx = [shots.index(c) if c in shots else -1 for c in cols]
        np.testing.assert_array_equal(nxt.shot_index[s], want_idx)
        obs, low = np.zeros(n), np.zeros(n)
        for b in range(n):
            for a in range(m):
                q_obs = game.rewards[s][a, b] + sum(game.transitions[s][a, b, t] * game.observed_values[t]
                                                    for t in range(len(game.labels)))
                q_rec = game.rewards[s][a, b] + sum(game.transitions[s][a, b, t] * game.recommendation.realized[t]
                                                    for t in range(len(game.labels)))
                obs[b] += game.observed_row[s][a] * q_obs
                low[b] += game.recommendation.row_strategies[s][a] * min(max(q_rec - Z * sd[s][a, b], 0.0), 1.0)
        np.testing.assert_allclose(nxt.obs_value[s], obs, atol=1e-12)
        np.testing.assert_allclose(nxt.low_value[s], low, atol=1e-12)
        np.testing.assert_array_equal(nxt.habit[s], game.observed_column[s])
        np.testing.assert_array_equal(nxt.recommended[s], game.recommendation.column_strategies[s])
        for key in ("obs_value", "low_value", "habit", "recommended"):
            np.testing.assert_array_equal(nxt.padded[key][s, :n], getattr(nxt, key)[s])
            assert (nxt.padded[key][s, n:] == 0).all()
        np.testing.assert_array_equal(nxt.padded["shot_index"][s, :n], want_idx)
        assert (nxt.padded["shot_index"][s, n:] == -1).all()
    assert any(len(game.layout.column_labels[s]) < width for s in opp)


# ------------------------------------------------------------------ a small synthetic decision, by loops
SHOTS = 6
S = 5          # states 0, 1, 2: the opponent's (state 2: no shot columns); 3, 4: the player's


def _synthetic(seed=0, columns=None, reach=0.9):
    rng = np.random.default_rng(seed)
    m, n = 3, 2
    t = rng.random((m, n, S))
    t[0, :, 1] = 0.0                     # row 0 never leads to state 1
    t *= reach / t.sum(axis=2, keepdims=True)
    columns = columns or {0: [2, 5, 1], 1: [4, -1], 2: [-1, -1]}
    width = 3
    shot_index = [np.array(columns[s]) if s in columns else None for s in range(S)]
    obs_value = [rng.random(width)[:len(columns[s])] if s in columns else None for s in range(S)]
    low_value = [rng.random(width)[:len(columns[s])] if s in columns else None for s in range(S)]
    habit = [_simplex(rng, len(columns[s])) if s in columns else None for s in range(S)]
    recommended = [_simplex(rng, len(columns[s])) if s in columns else None for s in range(S)]
    padded = {"shot_index": np.full((S, width), -1)}
    for key in ("obs_value", "low_value", "habit", "recommended"):
        padded[key] = np.zeros((S, width))
    for s, cols in columns.items():
        padded["shot_index"][s, :len(cols)] = cols
        for key, values in (("obs_value", obs_value), ("low_value", low_value), ("habit", habit),
                            ("recommended", recommended)):
            padded[key][s, :len(cols)] = values[s]
    nxt = NextStates(shot_index, obs_value, low_value, habit, recommended, padded)
    sa = _arrays(rng, m, n, t)
    v_obs, v_rec = rng.random(S), rng.random(S)
    return sa, nxt, v_obs, v_rec


def _simplex(rng, k):
    x = rng.random(k) + 0.1
    return x / x.sum()


def _arrays(rng, m, n, t, **changes):
    habit = _simplex(rng, m)
    fields = dict(g=0, rows=tuple(f"shot{i}" for i in range(m)), columns=tuple(str(j) for j in range(n)),
                  reward=rng.random((m, n)) * 0.1, transition=t, stage_low=rng.random((m, n)),
                  sd=rng.random((m, n)) * 0.1, habit=habit, usual=habit, positions=_simplex(rng, n),
                  recommended=_simplex(rng, m), opponent_eq=_simplex(rng, n), value_low=0.4,
                  advised=np.array([True] * (m - 1) + [False]), basis="pessimistic equilibrium",
                  played=np.arange(1, m + 1, dtype=np.int64) * 3, share=_simplex(rng, m),
                  evidence=rng.random((m, n, 3)))
    fields.update(changes)
    return StateArrays(**fields)


def test_default_low_takes_the_opponents_recommended_mix_at_their_states():
    """u(s) = low_value(s)ᵀ y_rec(s) at the opponent's states, V_rec elsewhere; V_rec itself is left as it was."""
    _, nxt, _, v_rec = _synthetic()
    before = v_rec.copy()
    u = default_low(nxt, v_rec)
    want = before.copy()
    for s in (0, 1, 2):
        want[s] = float(np.dot(nxt.low_value[s], nxt.recommended[s]))
    np.testing.assert_allclose(u, want, rtol=1e-12)
    np.testing.assert_array_equal(v_rec, before)


def _continuation_by_loops(sa, nxt, v_obs, v_rec, u_low0, predictions, confidence):
    m, n = sa.reward.shape
    obs = np.zeros((m, n))
    low = np.zeros((m, n))
    mass = weight_total = 0.0
    for i in range(m):
        u_obs, u_low = v_obs.copy(), u_low0.copy()
        if i in predictions:
            c, probs = confidence[i], predictions[i]
            for s in range(S):
                w = sum(sa.transition[i, b, s] for b in range(n))
                idx = nxt.shot_index[s]
                if w <= 0 or idx is None or all(k < 0 for k in idx):
                    continue
                p = np.array([probs[k] if k >= 0 else 0.0 for k in idx])
                mass += (1.0 - p.sum()) * w
                weight_total += w
                p = p / p.sum() if p.sum() > 0 else nxt.habit[s]
                u_obs[s] = sum(nxt.obs_value[s][b] * (c * p[b] + (1 - c) * nxt.habit[s][b]) for b in range(len(idx)))
                u_low[s] = sum(nxt.low_value[s][b] * (c * p[b] + (1 - c) * nxt.recommended[s][b])
                               for b in range(len(idx)))
        for b in range(n):
            obs[i, b] = sa.reward[i, b] + sum(sa.transition[i, b, s] * u_obs[s] for s in range(S))
            low[i, b] = sa.stage_low[i, b] + sum(sa.transition[i, b, s] * (u_low[s] - v_rec[s]) for s in range(S))
    return obs, low, (mass / weight_total if weight_total else 0.0)


@pytest.mark.parametrize("seed", [0, 1])
def test_continuation_replaces_the_opponents_play_after_predicted_rows(seed):
    """Rows with a prediction value the next opponent states with ŷ = c·p + (1 − c)·habit (point) and
    c·p + (1 − c)·recommended (lower bound), p the prediction over the state's shots renormalised; other rows
    keep the game's values. outside: the predicted mass off the next states' shots, weighted by reach."""
    sa, nxt, v_obs, v_rec = _synthetic(seed)
    u_low0 = default_low(nxt, v_rec)
    probs = np.array([0.05, 0.1, 0.3, 0.05, 0.2, 0.3])
    off = np.zeros(SHOTS)
    off[3] = 1.0                                    # no mass on any next state's shot: their habits stand
    predictions, confidence = {0: probs, 1: off}, {0: 0.7, 1: 0.4}
    got = continuation(sa, nxt, v_obs, v_rec, u_low0, predictions, confidence)
    obs, low, outside = _continuation_by_loops(sa, nxt, v_obs, v_rec, u_low0, predictions, confidence)
    np.testing.assert_allclose(got.obs, obs, atol=1e-12)
    np.testing.assert_allclose(got.low, low, atol=1e-12)
    assert got.outside == pytest.approx(outside, abs=1e-12) and 0 < got.outside < 1
    none = continuation(sa, nxt, v_obs, v_rec, u_low0, {}, {})
    np.testing.assert_allclose(none.obs, sa.reward + sa.transition @ v_obs, atol=1e-12)
    np.testing.assert_allclose(none.low, sa.stage_low + sa.transition @ (u_low0 - v_rec), atol=1e-12)
    assert none.outside == 0.0
    np.testing.assert_allclose(got.obs[2], none.obs[2]) and np.testing.assert_allclose(got.low[2], none.low[2])


def test_full_confidence_follows_the_prediction_and_none_keeps_the_habit():
    """c = 1: the prediction alone at the next states; c = 0: their habit (point) and recommendation (low)."""
    sa, nxt, v_obs, v_rec = _synthetic(2)
    u_low0 = default_low(nxt, v_rec)
    probs = np.array([0.0, 0.0, 1.0, 0.0, 1.0, 0.0])
    for c in (0.0, 1.0):
        got = continuation(sa, nxt, v_obs, v_rec, u_low0, {1: probs}, {1: c})
        obs, low, _ = _continuation_by_loops(sa, nxt, v_obs, v_rec, u_low0, {1: probs}, {1: c})
        np.testing.assert_allclose(got.obs, obs, atol=1e-12)
        np.testing.assert_allclose(got.low, low, atol=1e-12)


def _safe_by_lp(sa, c, floor, rows):
    """max xᵀc over mixes y of the candidate rows and the usual mix, every column of yᵀG ≥ floor (G the rows'
    pessimistic payoffs and the usual mix's)."""
    g = np.vstack([sa.stage_low[rows], sa.usual @ sa.stage_low])
    values = np.r_[c[rows], sa.usual @ c]
    k = len(values)
    res = linprog(-values, A_ub=-g.T, b_ub=-np.full(g.shape[1], floor), A_eq=np.ones((1, k)), b_eq=[1.0],
                  bounds=[(0, None)] * k, method="highs")
    assert res.status == 0
    x = res.x[-1] * sa.usual
    x[rows] += res.x[:-1]
    return x


def test_safe_mix_solves_the_guaranteed_exploitation_lp():
    """Against scipy's LP: the mix of candidate rows and the usual mix that wins most against c while every
    column keeps the floor; the table is made once per set of candidates."""
    rng = np.random.default_rng(5)
    m, n = 4, 3
    sa = _arrays(rng, m, n, np.zeros((m, n, 1)), stage_low=rng.random((m, n)),
                 usual=np.array([0.1, 0.2, 0.3, 0.4]))
    c = rng.random(m)
    rows = np.array([0, 2])
    usual_guarantee = float((sa.usual @ sa.stage_low).min())
    for floor in (usual_guarantee - 0.2, usual_guarantee - 0.05, usual_guarantee):
        x = safe_mix(sa, c, floor, rows)
        want = _safe_by_lp(sa, c, floor, rows)
        assert x @ c == pytest.approx(want @ c, abs=1e-9)
        assert (x @ sa.stage_low).min() >= floor - 1e-9
        assert x.sum() == pytest.approx(1.0) and (x >= -1e-12).all()
        assert x[1] * 0.4 == pytest.approx(x[3] * 0.2, abs=1e-12)   # other rows only through the usual mix
    assert list(sa.tables) == [(0, 2)]
    safe_mix(sa, c, usual_guarantee, [1])
    assert set(sa.tables) == {(0, 2), (1,)}


def test_a_floor_nothing_can_lose_exploits_fully():
    """With a floor below every payoff the safe mix is the best single candidate (or the usual mix)."""
    rng = np.random.default_rng(6)
    m, n = 3, 2
    sa = _arrays(rng, m, n, np.zeros((m, n, 1)))
    c = np.array([0.2, 0.9, 0.5])
    x = safe_mix(sa, c, -1.0, [0, 1])
    np.testing.assert_allclose(x, [0.0, 1.0, 0.0], atol=1e-12)


class _Game:
    def __init__(self, candidate, min_action_count=5):
        self.structure = SimpleNamespace(candidate={0: np.array(candidate)},
                                         settings=SimpleNamespace(min_action_count=min_action_count))


def test_option_columns_by_hand():
    """win = M_obs q, its interval ± z·sqrt(Σ σ² q²) clipped to [0, 1], the lower bound M_low q, the evidence
    shares weighted by q, and why a shot is not advised."""
    rng = np.random.default_rng(3)
    m, n = 3, 2
    sa = _arrays(rng, m, n, np.zeros((m, n, 1)), sd=np.array([[0.1, 0.2], [0.3, 0.0], [0.05, 0.05]]),
                 advised=np.array([True, False, False]))
    obs = np.array([[0.5, 0.7], [0.95, 0.99], [0.1, 0.0]])
    low = rng.random((m, n))
    cont = SimpleNamespace(obs=obs, low=low, outside=0.0)
    q = np.array([0.25, 0.75])
    cols = option_columns(sa, cont, q, 2.0, _Game([True, True, False], min_action_count=7))
    win = np.array([0.5 * 0.25 + 0.7 * 0.75, 0.95 * 0.25 + 0.99 * 0.75, 0.1 * 0.25])
    sd = np.sqrt(np.array([0.01 * 0.0625 + 0.04 * 0.5625, 0.09 * 0.0625, 0.0025 * 0.0625 + 0.0025 * 0.5625]))
    np.testing.assert_allclose(cols["win_probability"], win, rtol=1e-12)
    np.testing.assert_allclose(cols["sd"], sd, rtol=1e-12)            # unclipped, where the interval is clipped
    np.testing.assert_allclose(cols["low"], np.clip(win - 2.0 * sd, 0, 1), rtol=1e-12)
    np.testing.assert_allclose(cols["high"], np.clip(win + 2.0 * sd, 0, 1), rtol=1e-12)
    assert cols["high"][1] == 1.0 and cols["low"][2] == 0.0          # clipped at both ends
    np.testing.assert_allclose(cols["pessimistic"], low @ q, rtol=1e-12)
    for k, name in enumerate(("pairing", "player", "all players")):
        np.testing.assert_allclose(cols[name], sa.evidence[:, 0, k] * 0.25 + sa.evidence[:, 1, k] * 0.75)
    kept = "played fewer than 7 times there: kept at the habit's own rate, never raised"
    assert list(cols["reason"]) == ["", kept if sa.recommended[1] >= 0.005 else "played fewer than 7 times there",
                                    "rarely or never played there by any player"]
    # a rarely played shot the recommendation (a kept habit) gives a share is said to keep it; without one, not
    for share, why in ((0.3, kept), (KEPT_SHARE, kept), (0.0, "played fewer than 7 times there")):
        sa.recommended[:] = [1.0 - share, share, 0.0]
        assert option_columns(sa, cont, q, 2.0, _Game([True, True, False], min_action_count=7))["reason"][1] == why
    assert cols["advised"].dtype == bool and list(cols["advised"]) == [True, False, False]
    assert cols["played"] is sa.played and cols["habit"] is sa.habit and cols["recommended"] is sa.recommended
    assert cols["population_share"] is sa.share


def _cols(rows, **values):
    k = len(rows)
    out = {c: np.full(k, 0.0) for c in OPTION_NUMBERS}
    out.update(played=np.zeros(k, dtype=np.int64), advised=np.zeros(k, bool), reason=np.array([""] * k))
    for key, v in values.items():
        out[key] = np.asarray(v)
    return rows, out


def test_combine_options_averages_numbers_sums_counts_and_advises_where_any_situation_does():
    """Numbers: weighted means over the situations that have the shot; played: summed; advised: any; reason:
    the first given, blank where advised; the columns in order, indexed by shot."""
    a = _cols(("lob", "drop"), win_probability=[0.4, 0.6], low=[0.3, 0.5], sd=[0.01, 0.02], played=[3, 4],
              advised=[False, True],
              reason=["played fewer than 5 times there", ""], habit=[0.2, 0.8])
    b = _cols(("drop", "smash"), win_probability=[0.9, 0.5], low=[0.7, 0.4], sd=[0.04, 0.03], played=[10, 2],
              advised=[False, False], reason=["rarely or never played there by any player", "x"],
              habit=[1.0, 0.0])
    frame = combine_options([a, b], [0.25, 0.75], ["lob", "drop", "smash", "clear"])
    assert list(frame.columns) == list(OPTION_COLUMNS) and frame.index.name == "shot"
    assert list(frame.index) == ["lob", "drop", "smash", "clear"]
    np.testing.assert_allclose(frame["win_probability"], [0.4, 0.25 * 0.6 + 0.75 * 0.9, 0.5, 0.0])
    np.testing.assert_allclose(frame["low"], [0.3, 0.25 * 0.5 + 0.75 * 0.7, 0.4, 0.0])
    np.testing.assert_allclose(frame["sd"], [0.01, 0.25 * 0.02 + 0.75 * 0.04, 0.03, 0.0])
    np.testing.assert_allclose(frame["habit"], [0.2, 0.25 * 0.8 + 0.75 * 1.0, 0.0, 0.0])
    assert list(frame["played"]) == [3, 14, 2, 0]
    assert list(frame["advised"]) == [False, True, False, False]
    assert list(frame["reason"]) == ["played fewer than 5 times there", "", "x", ""]


def test_option_column_order():
    """The options table's columns: the win probability, its interval and sd, the lower bound, the habit,
    played, the population share, advised, the recommendation, the reason, then the evidence shares; the
    numbers are every column but the counts, the flags and the reasons."""
    assert OPTION_COLUMNS == ("win_probability", "low", "high", "sd", "pessimistic", "habit", "played",
                              "population_share", "advised", "recommended", "reason", "pairing", "player",
                              "all players")
    assert OPTION_NUMBERS == ("win_probability", "low", "high", "sd", "pessimistic", "habit", "population_share",
                              "recommended", "pairing", "player", "all players")


# ------------------------------------------------------------------ edges of the next states and the decision
def test_a_column_that_is_no_shot_of_the_vocabulary_gets_index_minus_one(game):
    """A column label missing from the shots asked for is indexed −1 (not a shot), in the list and padded."""
    from collections import Counter

    opp = [s for s, label in enumerate(game.labels) if label.startswith("opponent: ")]
    seen = Counter(c for s in opp for c in game.layout.column_labels[s])
    gone = seen.most_common(1)[0][0]
    shots = tuple(s for s in game.structure.sport.shots if s != gone)
    nxt = next_states(game, shots, Z)
    checked = 0
    for s in opp:
        cols = game.layout.column_labels[s]
        want = [shots.index(c) if c in shots else -1 for c in cols]
        np.testing.assert_array_equal(nxt.shot_index[s], want)
        np.testing.assert_array_equal(nxt.padded["shot_index"][s, :len(cols)], want)
        checked += gone in cols
    assert checked >= 1


def _one_step_game(who, rewards, transitions, realized, column_labels):
    """A game of len(who) states holding what next_states reads; every cell's sd is 0 and every player's
    row mix is pure on its first row."""
    size = len(who)
    observed_row = [np.eye(len(r))[0] for r in rewards]
    rec = SimpleNamespace(realized=np.asarray(realized, dtype=float), row_strategies=observed_row,
                          column_strategies=[np.full(len(c), 1.0 / max(len(c), 1)) for c in column_labels])
    return SimpleNamespace(observed_values=np.asarray(realized, dtype=float), recommendation=rec,
                           layout=SimpleNamespace(column_labels=column_labels), cell_sd=[np.zeros_like(r) for r in rewards],
                           structure=SimpleNamespace(size=size), states=pd.DataFrame({"who": who}), rewards=rewards,
                           transitions=transitions, observed_row=observed_row, observed_column=rec.column_strategies)


def test_a_sure_win_whose_sum_rounds_above_one_has_a_lower_bound_of_one(monkeypatch):
    """0.1 + 0.34·1 + 0.56·1 is 1 + 2⁻⁵² in floating point; the lower bound of that cell (sd 0) is a
    probability: 1, not above."""
    import strategist.rally.game as rg

    monkeypatch.setattr(rg, "per_cell", lambda lay, values: values)
    rewards = [np.array([[0.1]]), np.zeros((1, 1)), np.zeros((1, 1))]
    transitions = [np.array([[[0.0, 0.34, 0.56]]]), np.zeros((1, 1, 3)), np.zeros((1, 1, 3))]
    game = _one_step_game(["opponent", "player", "player"], rewards, transitions, [0.5, 1.0, 1.0],
                          [("smash",), ("1",), ("1",)])
    q_rec = rewards[0] + transitions[0] @ np.array([0.5, 1.0, 1.0])
    assert q_rec[0, 0] > 1.0                              # the rounding this test is about
    nxt = next_states(game, ("smash",), Z)
    assert nxt.low_value[0][0] == 1.0 and nxt.padded["low_value"][0, 0] == 1.0


def test_a_game_without_opponent_states_has_empty_next_states(monkeypatch):
    """No state of the opponent: every entry empty, the padded rows all −1 (index) and 0 (values), and a
    prediction changes nothing."""
    import strategist.rally.game as rg

    monkeypatch.setattr(rg, "per_cell", lambda lay, values: values)
    game = _one_step_game(["player", "player"], [np.zeros((1, 1))] * 2, [np.zeros((1, 1, 2))] * 2, [0.3, 0.6],
                          [("1",), ("1",)])
    nxt = next_states(game, ("smash",), Z)
    assert all(x is None for key in ("shot_index", "obs_value", "low_value", "habit", "recommended")
               for x in getattr(nxt, key))
    assert (nxt.padded["shot_index"] == -1).all() and len(nxt.padded["shot_index"]) == 2
    assert all((nxt.padded[k] == 0).all() for k in ("obs_value", "low_value", "habit", "recommended"))


def test_the_first_shot_of_the_vocabulary_is_predicted_like_any_other():
    """A next state whose first column is the sport's shot 0 is reached and takes the prediction on shot 0
    (against loops over the formula)."""
    sa, nxt, v_obs, v_rec = _synthetic(4, columns={0: [0, 5, 1], 1: [1, 0], 2: [-1, -1]})
    u_low0 = default_low(nxt, v_rec)
    probs = np.array([0.6, 0.1, 0.1, 0.0, 0.1, 0.1])
    predictions, confidence = {0: probs, 2: probs}, {0: 0.8, 2: 0.5}
    got = continuation(sa, nxt, v_obs, v_rec, u_low0, predictions, confidence)
    obs, low, outside = _continuation_by_loops(sa, nxt, v_obs, v_rec, u_low0, predictions, confidence)
    np.testing.assert_allclose(got.obs, obs, atol=1e-12)
    np.testing.assert_allclose(got.low, low, atol=1e-12)
    assert got.outside == pytest.approx(outside, abs=1e-12)
    none = continuation(sa, nxt, v_obs, v_rec, u_low0, {}, {})
    assert not np.allclose(got.obs[0], none.obs[0])


def test_the_outside_share_of_one_predicted_row_that_reaches_little():
    """outside = Σ (1 − predicted mass on the state's shots)·reach / Σ reach, also when the row reaches the
    opponent's states with total weight below 1."""
    sa, nxt, v_obs, v_rec = _synthetic(7, reach=0.3)
    u_low0 = default_low(nxt, v_rec)
    probs = np.array([0.05, 0.1, 0.3, 0.15, 0.2, 0.2])
    got = continuation(sa, nxt, v_obs, v_rec, u_low0, {1: probs}, {1: 0.5})
    weight = sa.transition[1].sum(axis=0)
    assert 0 < weight[0] + weight[1] < 1
    mass = (1 - (probs[2] + probs[5] + probs[1])) * weight[0] + (1 - probs[4]) * weight[1]
    assert got.outside == pytest.approx(mass / (weight[0] + weight[1]), abs=1e-12) and got.outside > 0


def test_the_lower_bound_continuation_is_kept_in_zero_one():
    """M_low is a probability's lower bound: rows that the formula takes below 0 or above 1 are clipped there;
    M_obs is not touched."""
    sa, nxt, v_obs, v_rec = _synthetic(8)
    u_low0 = default_low(nxt, v_rec)
    stage = sa.stage_low.copy()
    stage[0] = -0.5
    stage[1] = 1.5
    sa = StateArrays(**{**sa.__dict__, "stage_low": stage})
    predictions, confidence = {1: np.full(SHOTS, 1 / SHOTS)}, {1: 0.6}
    got = continuation(sa, nxt, v_obs, v_rec, u_low0, predictions, confidence)
    obs, low, _ = _continuation_by_loops(sa, nxt, v_obs, v_rec, u_low0, predictions, confidence)
    assert (low[0] < 0).all() and (low[1] > 1).all()
    np.testing.assert_allclose(got.low, np.clip(low, 0.0, 1.0), atol=1e-12)
    np.testing.assert_allclose(got.obs, obs, atol=1e-12)


def test_integer_values_of_the_recommended_play_are_kept_as_numbers():
    """default_low of 0/1 state values given as integers: the opponent's states still get their fractional
    lower bounds."""
    _, nxt, _, _ = _synthetic()
    u = default_low(nxt, np.array([1, 0, 1, 1, 0]))
    np.testing.assert_allclose(u[:3], [float(np.dot(nxt.low_value[s], nxt.recommended[s])) for s in range(3)])
    np.testing.assert_array_equal(u[3:], [1.0, 0.0])


def test_a_floor_between_the_candidates_and_the_usual_mix_mixes_them():
    """A candidate that wins most but guarantees nothing in one column, the usual mix safe there: at floor
    0.3 the LP keeps 0.6 of the usual mix and 0.4 of the candidate (by hand, and against scipy)."""
    rng = np.random.default_rng(9)
    stage = np.array([[0.5, 0.5], [0.5, 0.5], [1.0, 0.0]])
    sa = _arrays(rng, 3, 2, np.zeros((3, 2, 1)), stage_low=stage, usual=np.array([0.5, 0.5, 0.0]))
    c = np.array([0.2, 0.2, 0.9])
    x = safe_mix(sa, c, 0.3, [2])
    np.testing.assert_allclose(x, [0.3, 0.3, 0.4], atol=1e-9)
    np.testing.assert_allclose(x, _safe_by_lp(sa, c, 0.3, np.array([2])), atol=1e-9)


def test_no_candidate_leaves_the_usual_mix():
    """An empty list of candidates: the safe mix is the usual mix, whatever the floor."""
    rng = np.random.default_rng(10)
    sa = _arrays(rng, 3, 2, np.zeros((3, 2, 1)), usual=np.array([0.2, 0.3, 0.5]))
    np.testing.assert_allclose(safe_mix(sa, rng.random(3), 0.0, []), [0.2, 0.3, 0.5], atol=1e-12)


def test_a_sure_win_rounding_above_one_shows_an_interval_within_one():
    """A shot whose win probability sums to 1 + 2⁻⁵² with sd 0 is shown as low = high = 1."""
    rng = np.random.default_rng(11)
    sa = _arrays(rng, 1, 1, np.zeros((1, 1, 1)), sd=np.zeros((1, 1)), advised=np.array([True]))
    win = np.array([[0.1]]) + np.array([[[0.34, 0.56]]]) @ np.ones(2)
    assert win[0, 0] > 1.0
    cols = option_columns(sa, SimpleNamespace(obs=win, low=np.zeros((1, 1)), outside=0.0), np.array([1.0]), Z,
                          _Game([True]))
    assert cols["low"][0] == 1.0 and cols["high"][0] == 1.0


def test_played_counts_stay_whole_numbers_when_combined():
    """Summed over situations, played is a count: an integer column."""
    a = _cols(("lob",), played=[3])
    b = _cols(("lob", "drop"), played=[4, 1])
    frame = combine_options([a, b], [0.5, 0.5], ["lob", "drop"])
    assert frame["played"].dtype.kind == "i" and list(frame["played"]) == [7, 1]


def test_a_shot_without_a_population_share_gets_zero(monkeypatch):
    """A row the feasibility table has no share for (not among all players' choices there) gets share 0."""
    import strategist.rally.game as rg

    monkeypatch.setattr(rg, "per_cell", lambda lay, values: [np.asarray(values).reshape(2, 1)])
    game = _fake_game(candidate=[True, True], habit=[0.5, 0.5])
    feas = game.structure.feasibility.frame
    game.structure.feasibility = SimpleNamespace(frame=feas[feas["action"] != 1])
    np.testing.assert_array_equal(state_arrays(game, 0).share, [0.3, 0.0])


def test_evidence_is_placed_at_its_cells_and_cells_without_it_keep_zero(monkeypatch):
    """The estimate's evidence goes to each cell's own place in the state (cell_index − the state's offset);
    a cell the estimate does not hold keeps zero evidence."""
    import strategist.rally.game as rg

    monkeypatch.setattr(rg, "per_cell", lambda lay, values: [np.asarray(values).reshape(2, 1)])
    game = _fake_game(candidate=[True, True], habit=[0.5, 0.5])
    game.layout.cell_index = np.array([1, 0])
    game.structure.cell_state = np.array([0, 1])                 # only the first cell is the state's
    sa = state_arrays(game, 0)
    np.testing.assert_allclose(sa.evidence[:, 0], [[0.0, 0.0, 0.0], [0.1, 0.2, 0.7]])
