"""Practice sessions on a small rally game: the credits recomputed from the session's log, who serves, the stroke
cap, stopping, the refusals, and the report's distances and values against an independent evaluation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from strategist.errors import EstimationError
from strategist.rally.game import rally_game, restrict_to_trusted
from strategist.rally.policies import side_policy
from strategist.rally.practice import PracticeReport, policy_chooser, practise

from .pair import O, P, pair_table, values_of_play


@pytest.fixture(scope="module")
def game():
    return rally_game(pair_table(4, 2), P, O, min_action_count=1)



def _credits(log, decay):
    """(state, shot) -> the credits of the reward rule, recomputed from the session's log."""
    out = {}
    for entry in log:
        reward = 1.0 if entry["won"] else -1.0
        for back, choice in enumerate(reversed(entry["choices"])):
            out.setdefault(tuple(choice), []).append(reward * decay ** back)
    return out


@pytest.mark.parametrize("decay", [0.8, 0.5, 1.0, 0.0])
def test_each_shots_value_is_the_mean_of_its_decayed_credits(game, decay):
    """A won rally pays +1, a lost one -1; the last choice gets it whole, the one before times decay, and so on;
    a shot's value is the mean of its credits and its tries their number."""
    report = practise(game, policy_chooser(game, "uniform", np.random.default_rng(1)), 12, seed=5, decay=decay)
    credits = _credits(report.log, decay)
    assert report.rallies == 12 == len(report.log) and report.decay == decay
    assert report.wins == sum(entry["won"] for entry in report.log)
    assert 0 < report.wins < 12
    assert sorted(zip(report.values["state"], report.values["action"])) == sorted(credits)
    for row in report.values.itertuples():
        assert row.tries == len(credits[(row.state, row.action)])
        assert row.value == pytest.approx(np.mean(credits[(row.state, row.action)]), abs=1e-12)


def test_the_chooser_sees_the_running_values_of_the_state(game):
    """Each time the player hits, the chooser gets the state's label, its actions and, per action, (mean credit so
    far or None, tries so far)."""
    seen = []
    rng = np.random.default_rng(2)

    def chooser(state, actions, values):
        seen.append((state, actions, dict(values)))
        return int(rng.integers(len(actions)))
    report = practise(game, chooser, 10, seed=1, decay=0.5)
    sums, counts = {}, {}
    calls = iter(seen)
    for entry in report.log:
        for state, shot in entry["choices"]:
            label, actions, values = next(calls)
            g = game.index(state)
            assert label == state and actions == game.layout.row_labels[g] and set(values) == set(actions)
            for a in actions:
                n = counts.get((state, a), 0)
                assert values[a] == ((sums[(state, a)] / n if n else None), n)
        reward = 1.0 if entry["won"] else -1.0
        for back, (state, shot) in enumerate(reversed(entry["choices"])):
            sums[(state, shot)] = sums.get((state, shot), 0.0) + reward * 0.5 ** back
            counts[(state, shot)] = counts.get((state, shot), 0) + 1


@pytest.mark.parametrize("start, first", [("serve", ["player: serve"] * 6), ("receive", [None] * 6),
                                          ("alternate", ["player: serve", None] * 3)])
def test_who_serves_each_rally(game, start, first):
    """serve: the player serves every rally; receive: the opponent does; alternate: the player serves the odd
    rallies. The player's first choice is the serve exactly when the player serves."""
    report = practise(game, policy_chooser(game, "observed", np.random.default_rng(3)), 6, seed=2, start=start)
    assert report.start == start
    for entry, expected in zip(report.log, first):
        assert entry["choices"], entry
        if expected is None:
            assert entry["choices"][0][0] != "player: serve"
        else:
            assert entry["choices"][0][0] == expected
    assert [entry["rally"] for entry in report.log] == [1, 2, 3, 4, 5, 6]


def test_a_rally_stopped_at_the_stroke_cap_pays_nothing(game):
    """With a cap of one stroke per rally nothing ends: no win, every credit 0, yet every rally counts."""
    report = practise(game, lambda s, a, v: 0, 5, seed=0, max_strokes=1)
    assert report.rallies == 5 and report.wins == 0
    assert (report.values["value"] == 0).all() and report.values["tries"].sum() == 5
    assert all(not entry["won"] for entry in report.log)


def test_stopping_ends_the_session_after_the_rallies_played(game):
    """A chooser's None ends the session: the rallies finished before it count, the one it stopped does not, and
    on_rally was told of each finished rally (its number, whether it was won, its choices)."""
    told, calls = [], []

    def chooser(state, actions, values):
        calls.append(state)
        return None if len(calls) > 6 else 0
    report = practise(game, chooser, 50, seed=0, on_rally=lambda k, won, choices: told.append((k, won, choices)))
    assert 1 <= report.rallies < 50
    assert told == [(e["rally"], e["won"], e["choices"]) for e in report.log]
    assert sum(len(e["choices"]) for e in report.log) < len(calls)


@pytest.mark.parametrize("kwargs, message", [
    (dict(rallies=0), "rallies must be a positive whole number, got 0"),
    (dict(rallies=2.5), "rallies must be a positive whole number, got 2.5"),
    (dict(rallies=True), "rallies must be a positive whole number, got True"),
    (dict(decay=-0.1), "decay must lie in [0, 1], got -0.1"),
    (dict(decay=1.01), "decay must lie in [0, 1], got 1.01"),
    (dict(start="volley"), "start 'volley': expected serve, receive or alternate"),
])
def test_bad_settings_are_refused(game, kwargs, message):
    """The number of rallies is a positive whole number, the decay in [0, 1], the start one of three."""
    args = dict(rallies=2) | kwargs
    with pytest.raises(EstimationError) as caught:
        practise(game, lambda s, a, v: 0, args.pop("rallies"), **args)
    assert str(caught.value) == message


def test_a_whole_float_number_of_rallies_is_accepted(game):
    """3.0 rallies are three rallies."""
    assert practise(game, lambda s, a, v: 0, 3.0, seed=0).rallies == 3


def test_a_choice_outside_the_actions_is_refused(game):
    """A chooser's index must be one of the state's actions (0 to m - 1)."""
    m = len(game.layout.row_labels[game.index("player: serve")])
    for bad in (m, -1):
        with pytest.raises(EstimationError, match=f"^choice {bad} is not one of the {m} actions of 'player: serve'$"):
            practise(game, lambda s, a, v, bad=bad: bad, 1)
    assert practise(game, lambda s, a, v: len(a) - 1, 1, seed=0).rallies == 1


def test_a_session_stopped_before_its_first_rally_is_refused(game):
    """No rally played: no report."""
    with pytest.raises(EstimationError, match="^the session ended before its first rally$"):
        practise(game, lambda s, a, v: None, 3)


def test_the_policy_chooser_samples_the_policy(game):
    """policy_chooser draws the player's shot from the named policy's mix of the state (a pure mix: always its
    shot); best-response is resolved against the opponent's observed mixes; another error is raised as is."""
    mixes = side_policy(game, "best-response", "player", side_policy(game, "observed", "opponent"))
    choose = policy_chooser(game, "best-response", np.random.default_rng(0))
    for g, label in enumerate(game.labels):
        if game.states["who"].iat[g] == "player":
            assert choose(label, game.layout.row_labels[g], {}) == int(np.argmax(mixes[g]))
    serve = game.index("player: serve")
    rng = np.random.default_rng(7)
    choose = policy_chooser(game, "uniform", rng)
    draws = [choose("player: serve", game.layout.row_labels[serve], {}) for _ in range(400)]
    assert set(draws) == set(range(len(game.layout.row_labels[serve])))
    with pytest.raises(EstimationError, match="not understood"):
        policy_chooser(game, "bogus", rng)


# -- the report -----------------------------------------------------------------------------------------------------
@pytest.fixture
def session(game):
    return practise(game, policy_chooser(game, "uniform", np.random.default_rng(4)), 30, seed=6)


def test_the_distance_is_the_total_variation_to_the_equilibrium_per_state(game, session):
    """Per state the player hit: visits and half the L1 distance between the choice frequencies and the
    equilibrium mix; the mean distance weighs states by visits."""
    counts = {}
    for entry in session.log:
        for state, shot in entry["choices"]:
            counts.setdefault(state, []).append(shot)
    rows = []
    for state, shots in counts.items():
        g = game.index(state)
        freq = np.array([shots.count(a) for a in game.layout.row_labels[g]]) / len(shots)
        rows.append((state, len(shots), 0.5 * np.abs(freq - game.recommendation.row_strategies[g]).sum()))
    got = sorted(zip(session.distance["state"], session.distance["visits"], session.distance["distance"]))
    assert [r[:2] for r in got] == sorted(r[:2] for r in rows)
    np.testing.assert_allclose([r[2] for r in got], [r[2] for r in sorted(rows)], atol=1e-12)
    visits = np.array([r[1] for r in rows])
    assert session.mean_distance == pytest.approx((visits * [r[2] for r in rows]).sum() / visits.sum(), abs=1e-12)


def test_the_session_values_from_the_serve(game, session):
    """From the player's serve: the practised policy (choice frequencies where the player hit, the equilibrium
    elsewhere) against the opponent's observed mixes and against its best response (a value-iteration optimum
    over the opponent's trusted actions), the equilibrium's value and the equilibrium against the observed
    opponent."""
    rec = game.recommendation
    practised = [np.asarray(x, float) for x in rec.row_strategies]
    counts = {}
    for entry in session.log:
        for state, shot in entry["choices"]:
            g = game.index(state)
            counts.setdefault(g, np.zeros(len(game.layout.row_labels[g])))[game.layout.row_labels[g].index(shot)] += 1
    for g, c in counts.items():
        practised[g] = c / c.sum()
    s0 = game.index("player: serve")
    ys = game.observed_column
    assert session.practised_value == pytest.approx(values_of_play(game, practised, ys)[s0], abs=1e-10)
    assert session.model_value == pytest.approx(values_of_play(game, rec.row_strategies, ys)[s0], abs=1e-10)
    assert session.equilibrium_value == pytest.approx(rec.realized[s0], abs=1e-12)
    rewards, transitions, _ = restrict_to_trusted(game.structure, game.rewards, game.transitions,
                                                  (game.observed_row, game.observed_column), sides=("opponent",))
    v = np.zeros(len(rewards))
    for _ in range(3000):
        v = np.array([(x @ r + np.einsum("a,abt,t->b", x, t, v)).min()
                      for r, t, x in zip(rewards, transitions, practised)])
    assert session.practised_guarantee == pytest.approx(v[s0], abs=1e-8)
    assert session.practised_guarantee <= session.practised_value + 1e-12


def test_what_worked_and_what_did_not():
    """worked: the k best positive values among shots tried at least min_tries times; did_not: the k worst
    negative ones; both sorted, and to_dict carries them with the session's figures."""
    values = pd.DataFrame({"state": list("abcdefg"), "action": list("ABCDEFG"), "tries": [1, 2, 2, 3, 5, 2, 2],
                           "value": [0.9, 0.5, 0.7, -0.2, -0.6, 0.0, 0.1]})
    report = PracticeReport(7, 3, values, pd.DataFrame(columns=["state", "visits", "distance"]), 0.25, 0.4, 0.3, 0.5,
                            0.45, "serve", 0.8)
    assert list(report.worked()["action"]) == ["C", "B", "G"]
    assert list(report.worked(k=2)["action"]) == ["C", "B"]
    assert list(report.worked(min_tries=1)["action"]) == ["A", "C", "B"]
    assert list(report.worked(min_tries=3)["action"]) == []
    assert list(report.did_not()["action"]) == ["E", "D"]
    assert list(report.did_not(k=1)["action"]) == ["E"]
    assert list(report.did_not(min_tries=4)["action"]) == ["E"]
    d = report.to_dict()
    assert d == {"rallies": 7, "wins": 3, "start": "serve", "decay": 0.8, "values": values.to_dict(orient="records"),
                 "worked": report.worked().to_dict(orient="records"),
                 "did_not_work": report.did_not().to_dict(orient="records"), "distance": [], "mean_distance": 0.25,
                 "practised_value": 0.4, "practised_guarantee": 0.3, "equilibrium_value": 0.5, "model_value": 0.45}
    assert report.log == []


def test_only_positive_values_worked_and_only_negative_ones_did_not():
    """A shot whose mean credit is exactly 0 neither worked nor did not, however many shots are asked for."""
    values = pd.DataFrame({"state": list("abc"), "action": list("ABC"), "tries": [4, 4, 4], "value": [0.3, 0.0, -0.3]})
    report = PracticeReport(4, 2, values, pd.DataFrame(columns=["state", "visits", "distance"]), 0.0, 0.5, 0.5, 0.5,
                            0.5, "serve", 0.8)
    assert list(report.worked(k=5)["action"]) == ["A"]
    assert list(report.did_not(k=5)["action"]) == ["C"]


def test_what_did_not_work_defaults_to_three_shots_tried_at_least_twice():
    """did_not() with no arguments: the three worst negative values among shots tried two or more times."""
    values = pd.DataFrame({"state": list("abcdef"), "action": list("ABCDEF"), "tries": [2, 2, 2, 2, 1, 5],
                           "value": [-0.9, -0.5, -0.7, -0.3, -1.0, 0.2]})
    report = PracticeReport(6, 1, values, pd.DataFrame(columns=["state", "visits", "distance"]), 0.0, 0.5, 0.5, 0.5,
                            0.5, "serve", 0.8)
    assert list(report.did_not()["action"]) == ["A", "C", "B"]
    assert list(report.did_not(min_tries=3)["action"]) == []


def test_the_policy_chooser_renormalises_a_given_mix(game):
    """A given policy whose mixes sum to 1 only within the 1e-6 side_policy allows is drawn from after dividing by
    its sum: the draws follow the mix."""
    serve = game.index("player: serve")
    mixes = [np.full(len(lab), 1.0 / len(lab)) for lab in game.layout.row_labels]
    m = len(mixes[serve])
    target = np.zeros(m)
    target[0], target[-1] = 0.25, 0.75
    mixes[serve] = target * (1 + 9e-7)
    choose = policy_chooser(game, mixes, np.random.default_rng(11))
    draws = np.array([choose("player: serve", game.layout.row_labels[serve], {}) for _ in range(4000)])
    assert set(draws) == {0, m - 1}
    assert abs((draws == m - 1).mean() - 0.75) < 0.03


def test_a_session_in_which_the_player_never_hits(game):
    """Rallies stopped at the opponent's serve: no shot tried, no distance (0 on average), the report's tables keep
    their columns, and the practised policy is the equilibrium."""
    report = practise(game, lambda s, a, v: 0, 3, seed=0, start="receive", max_strokes=1)
    assert report.rallies == 3 and report.wins == 0 and all(entry["choices"] == [] for entry in report.log)
    assert list(report.values.columns) == ["state", "action", "tries", "value"] and report.values.empty
    assert list(report.distance.columns) == ["state", "visits", "distance"] and report.distance.empty
    assert report.mean_distance == 0.0
    assert report.worked().empty and report.did_not().empty
    assert report.practised_value == pytest.approx(report.model_value, abs=1e-12)
    assert report.to_dict()["values"] == [] and report.to_dict()["distance"] == []


def test_the_guarantee_is_against_the_opponents_trusted_actions():
    """In the default game the opponent's rarely chosen actions are never part of its best response: the
    practised policy's guarantee is the value-iteration optimum over the opponent's trusted actions, above the
    optimum over all of them."""
    advised = rally_game(pair_table(4, 2), P, O)
    report = practise(advised, policy_chooser(advised, "uniform", np.random.default_rng(4)), 30, seed=6)
    practised = [np.asarray(x, float) for x in advised.recommendation.row_strategies]
    counts = {}
    for entry in report.log:
        for state, shot in entry["choices"]:
            g = advised.index(state)
            labels = advised.layout.row_labels[g]
            counts.setdefault(g, np.zeros(len(labels)))[labels.index(shot)] += 1
    for g, c in counts.items():
        practised[g] = c / c.sum()

    def optimum(rewards, transitions):
        v = np.zeros(len(rewards))
        for _ in range(3000):
            v = np.array([(x @ r + np.einsum("a,abt,t->b", x, t, v)).min()
                          for r, t, x in zip(rewards, transitions, practised)])
        return v

    s0 = advised.index("player: serve")
    trusted = restrict_to_trusted(advised.structure, advised.rewards, advised.transitions,
                                  (advised.observed_row, advised.observed_column), sides=("opponent",))
    assert report.practised_guarantee == pytest.approx(optimum(*trusted[:2])[s0], abs=1e-8)
    assert report.practised_guarantee > optimum(advised.rewards, advised.transitions)[s0] + 1e-6


def _endless(game, end=1e-4):
    """``game`` with every stroke ending the rally with probability ``end`` only (won or lost alike)."""
    import dataclasses

    rewards = [np.full_like(np.asarray(r, float), end / 2) for r in game.rewards]
    transitions = [np.asarray(t, float) / np.asarray(t, float).sum(axis=2, keepdims=True) * (1 - end)
                   for t in game.transitions]
    return dataclasses.replace(game, rewards=rewards, transitions=transitions)


def test_by_default_a_session_is_twenty_rallies_each_capped_at_200_strokes(game):
    """Without settings: 20 rallies; a rally that goes on is stopped after 200 strokes (the serving player hit 100
    of them) and pays nothing."""
    assert practise(game, lambda s, a, v: 0).rallies == 20
    report = practise(_endless(game), lambda s, a, v: 0, 2, seed=0)
    assert [len(entry["choices"]) for entry in report.log] == [100, 100]
    assert report.wins == 0 and (report.values["value"] == 0).all()
    longer = practise(_endless(game), lambda s, a, v: 0, 2, seed=0, max_strokes=201)
    assert [len(entry["choices"]) for entry in longer.log] == [101, 101]


def test_a_best_responding_opponent_answers_the_equilibrium(game):
    """opponent_policy='best-response': the opponent plays its best response to the player's equilibrium, so the
    equilibrium's value against the opponent's model is the value-iteration minimum over the opponent's trusted
    actions."""
    report = practise(game, lambda s, a, v: 0, 2, seed=0, opponent_policy="best-response")
    xs = [np.asarray(x, float) for x in game.recommendation.row_strategies]
    rewards, transitions, _ = restrict_to_trusted(game.structure, game.rewards, game.transitions,
                                                  (game.observed_row, game.observed_column), sides=("opponent",))
    v = np.zeros(len(rewards))
    for _ in range(3000):
        v = np.array([(x @ r + np.einsum("a,abt,t->b", x, t, v)).min() for r, t, x in zip(rewards, transitions, xs)])
    assert report.model_value == pytest.approx(v[game.index("player: serve")], abs=1e-8)


def test_the_cover_may_be_a_best_response_to_the_opponent(game):
    """cover='best-response' is resolved against the opponent's model (it needs the other side)."""
    report = practise(game, lambda s, a, v: 0, 3, seed=0, cover="best-response")
    assert report.rallies == 3


def _with_stage(game, state, rewards, transitions):
    """``game`` with the stage of ``state`` replaced."""
    import dataclasses

    g = game.index(state)
    return dataclasses.replace(game, rewards=[rewards if k == g else r for k, r in enumerate(game.rewards)],
                               transitions=[transitions if k == g else t for k, t in enumerate(game.transitions)])


def test_the_cover_and_the_opponent_play_their_mixes(game):
    """Where the opponent serves, the player's position is drawn from the cover's mix and the opponent's serve from
    its model (each divided by its sum): a serve that the player wins only at position 0 against serve 0 is won in
    every rally when both mixes are pure there, even summing to 1 only within 1e-6."""
    serve = game.serve_state("opponent")
    g = game.index(serve)
    m, n = game.rewards[g].shape
    assert m > 1 and n > 1
    rewards = np.zeros((m, n))
    rewards[0, 0] = 1.0
    rigged = _with_stage(game, serve, rewards, np.zeros_like(game.transitions[g]))
    cover = [np.full(len(lab), 1.0 / len(lab)) for lab in game.layout.row_labels]
    model = [np.full(len(lab), 1.0 / len(lab)) for lab in game.layout.column_labels]
    for mixes in (cover, model):
        mixes[g] = np.zeros(len(mixes[g]))
        mixes[g][0] = 1 + 9e-7
    report = practise(rigged, lambda s, a, v: 0, 20, seed=3, start="receive", cover=cover, opponent_policy=model)
    assert report.rallies == 20 and report.wins == 20


def test_the_outcome_of_a_stroke_is_drawn_from_the_stage_law(game):
    """A serve that is lost half the time and otherwise reaches each of the player's states alike: about half the
    rallies end at the serve and every one of those states is reached."""
    serve = game.serve_state("opponent")
    g = game.index(serve)
    m, n = game.rewards[g].shape
    targets = [k for k, who in enumerate(game.states["who"]) if who == "player"]
    transitions = np.zeros_like(game.transitions[g])
    transitions[:, :, targets] = 0.5 / len(targets)
    rigged = _with_stage(game, serve, np.zeros((m, n)), transitions)
    report = practise(rigged, lambda s, a, v: 0, 800, seed=4, start="receive", max_strokes=2)
    reached = [entry["choices"][0][0] for entry in report.log if entry["choices"]]
    assert 0.4 < 1 - len(reached) / 800 < 0.6
    assert set(reached) == {game.labels[k] for k in targets}
