"""The opponent model as a rally-game policy: averaged predictions per state, checked against a second path."""

from __future__ import annotations

import json
import numpy as np
import pandas as pd
import pytest

from strategist.data.states import annotate_states
from strategist.errors import EstimationError
from strategist.games.stochastic import evaluate_policies
from strategist.opponent import MarkovModel
from strategist.opponent.base import positions_in_rally, rally_frame
from strategist.rally.game import rally_game
from strategist.rally.model_policy import model_policy
from strategist.rally.playout import play_out
from strategist.rally.policies import resolve, side_policy

from .pair import O, P, pair_table


@pytest.fixture(scope="module")
def table():
    return pair_table(6, 11)


@pytest.fixture(scope="module")
def game(table):
    return rally_game(table, P, O)


@pytest.fixture(scope="module")
def markov(table):
    return MarkovModel(order=2).fit(table, tune=False)


class FixedModel:
    """Predicts the same distribution for every stroke: smash 0.5, clear 0.3, drop 0.2."""

    kind = "fixed"
    sport = "badminton"

    def __init__(self, vocabulary):
        self.vocabulary = vocabulary
        self.p = np.zeros(len(vocabulary.shots))
        for shot, w in (("smash", 0.5), ("clear", 0.3), ("drop", 0.2)):
            self.p[list(vocabulary.shots).index(shot)] = w

    def predict_table(self, frame):
        return np.tile(self.p, (len(frame), 1))


def test_a_constant_model_gives_its_distribution_renormalised_over_each_states_actions(game, table, markov):
    policy = model_policy(game, table, FixedModel(markov.vocabulary), "opponent")
    observed = side_policy(game, "observed", "opponent")
    want = {"smash": 0.5, "clear": 0.3, "drop": 0.2}
    for g, label in enumerate(game.labels):
        actions = game.layout.column_labels[g]
        if not label.startswith("opponent: ") or policy.strokes[g] == 0:
            np.testing.assert_allclose(policy[g], observed[g])          # receiving: observed positions
            continue
        raw = np.array([want.get(a, 0.0) for a in actions])
        if raw.sum() == 0:
            np.testing.assert_allclose(policy[g], observed[g])
            assert policy.outside[g] == pytest.approx(1.0)
        else:
            np.testing.assert_allclose(policy[g], raw / raw.sum(), rtol=1e-12)
            assert policy.outside[g] == pytest.approx(1.0 - raw.sum())
    assert str(policy) == "model (fixed)" and len(policy) == len(game.labels)


def test_group_actions_sum_the_shots_of_each_group(table, markov):
    from strategist.sports import get_sport

    game = rally_game(table, P, O, actions="group")
    policy = model_policy(game, table, FixedModel(markov.vocabulary), "opponent")
    groups = dict(get_sport("badminton").groupings["tactic"])
    want: dict = {}
    for shot, w in (("smash", 0.5), ("clear", 0.3), ("drop", 0.2)):
        want[groups[shot]] = want.get(groups[shot], 0.0) + w
    assert len(want) >= 2
    checked = 0
    for g, label in enumerate(game.labels):
        if label.startswith("opponent: ") and policy.strokes[g] > 0:
            raw = np.array([want.get(a, 0.0) for a in game.layout.column_labels[g]])
            if raw.sum() > 0:
                np.testing.assert_allclose(policy[g], raw / raw.sum(), rtol=1e-12)
                checked += 1
    assert checked >= 3


def test_mixes_are_the_mean_of_single_history_predictions_in_each_state(game, table, markov):
    """Second path: every stroke of the opponent against the player, predicted one history at a time."""
    policy = model_policy(game, table, markov, "opponent")
    frame = annotate_states(rally_frame(table), situation=True)
    pos = positions_in_rally(frame)
    sums: dict = {}
    for row in range(len(frame)):
        if frame["hitter"].iat[row] != O or frame["opponent"].iat[row] != P:
            continue
        label = f"opponent: {frame['state'].iat[row]}"
        if label not in game.labels:
            continue
        hist = frame.iloc[row - pos[row]:row]
        p = markov.predict_proba(hist, {"player": O, "opponent": P}).to_numpy()
        total, n = sums.get(label, (0.0, 0))
        sums[label] = (total + p, n + 1)
    assert len(sums) >= 5
    shots = list(markov.vocabulary.shots)
    for label, (total, n) in sums.items():
        g = game.index(label)
        assert policy.strokes[g] == n
        mean = total / n
        actions = game.layout.column_labels[g]
        raw = np.array([mean[shots.index(a)] for a in actions])
        np.testing.assert_allclose(policy[g], raw / raw.sum(), rtol=1e-9)


def test_playout_with_the_model_policy_agrees_with_its_exact_value(game, table, markov):
    policy = model_policy(game, table, markov, "opponent")
    xs, ys = resolve(game, "equilibrium", policy)
    exact = evaluate_policies(game.rewards, game.transitions, xs, ys)
    out = play_out(game, "equilibrium", policy, 60_000, seed=4)
    s0 = game.index("player: serve")
    assert out.exact == pytest.approx(exact[s0], abs=1e-12)
    assert abs(out.win_probability - out.exact) < 4 * np.sqrt(out.exact * (1 - out.exact) / out.rallies)
    assert out.opponent_policy == "model (markov)"
    # a best response to the model's policy does at least as well as the equilibrium against it
    xs_br, _ = resolve(game, "best-response", policy)
    br = evaluate_policies(game.rewards, game.transitions, xs_br, ys)
    assert br[s0] >= exact[s0] - 1e-9


def test_the_players_side_and_refusals(game, table, markov):
    mine = model_policy(game, table, markov, "player")
    assert mine.side == "player" and mine.hitting.sum() == sum(lab.startswith("player: ") for lab in game.labels)
    for g in np.flatnonzero(mine.hitting & (mine.strokes > 0)):
        assert abs(mine[g].sum() - 1) < 1e-12 and (mine[g] >= 0).all()
    with pytest.raises(EstimationError, match="side"):
        model_policy(game, table, markov, "umpire")
    with pytest.raises(EstimationError, match="fitted opponent model"):
        model_policy(game, table, object(), "opponent")
    with pytest.raises(EstimationError, match="rally table"):
        model_policy(game, pd.DataFrame(), markov, "opponent")
    tennis = MarkovModel("tennis")
    with pytest.raises(EstimationError, match="tennis"):
        model_policy(game, table, tennis, "opponent")
    with pytest.raises(EstimationError, match="model_policy"):
        side_policy(game, "model", "opponent")


def test_cli_simulate_against_the_model(capsys):
    from strategist.cli.main import main

    code = main(["simulate", "--player", P, "--opponent-policy", "model", "--rallies", "3000", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["opponent_policy"] == "model (markov)"
    summary = data["model_policy"]["opponent"]
    assert summary["states_from_model"] > 0 and summary["strokes"] > 0 and 0 <= summary["outside_share"] < 1
    code = main(["simulate", "--player", P, "--opponent-policy", "model", "--model", "frequency", "--rallies", "1000"])
    out = capsys.readouterr().out
    assert code == 0 and "O follows model (frequency)" in out and max(map(len, out.splitlines())) <= 100
    code = main(["simulate", "--opponent-policy", "model", "--model", "bogus"])
    err = capsys.readouterr().err
    assert code == 2 and "--model 'bogus'" in err and len(err.strip().splitlines()) == 1


def test_only_the_pairs_strokes_count_in_a_table_of_many_players():
    from strategist.data.demo import demo_path
    from strategist.data.load import load_rallies

    demo = load_rallies(demo_path()).table
    player = demo["hitter"].value_counts().index[0]
    opponent = demo.loc[demo["hitter"] == player, "opponent"].value_counts().index[0]
    assert demo["hitter"].nunique() > 2
    for who, other, side in ((opponent, player, "opponent"), (player, opponent, "player")):
        game = rally_game(demo, player, opponent)
        policy = model_policy(game, demo, FixedModel(MarkovModel().vocabulary), side)
        ann = annotate_states(demo, situation=True)
        pair = ann[(ann["hitter"] == who) & (ann["opponent"] == other)]
        labels = (f"{side}: " + pair["state"].astype(str)).tolist()
        assert int(policy.strokes.sum()) == sum(label in game.labels for label in labels)
