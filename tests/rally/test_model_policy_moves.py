"""An opponent model as a rally-game policy (strategist.rally.model_policy) with a model that predicts each
stroke's own shot: the mixes are then the side's shot frequencies per state, counted here with pandas, in
the pair's game, a player's game against everyone and the population game; what the summary says, which
strokes the model is shown, and what is refused."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from strategist.data.states import annotate_states
from strategist.errors import EstimationError, StrategistError
from strategist.opponent import MarkovModel
from strategist.rally.game import rally_game
from strategist.rally.model_policy import ModelPolicy, _action_map, model_policy
from strategist.rally.policies import side_policy
from strategist.sports import get_sport

from .pair import O, P, pair_table

SPORT = get_sport("badminton")
SHOTS = list(MarkovModel().vocabulary.shots)


class OwnShot:
    """Predicts, for every stroke of the table it is shown, that stroke's own shot (probability 1); keeps the
    tables it was shown. No ``kind`` and no ``sport``: the policy names it by its class and takes the game's
    sport."""

    def __init__(self, scale: float = 1.0, spill: float = 0.0):
        self.vocabulary = MarkovModel().vocabulary
        self.shown = []
        self.scale, self.spill = scale, spill

    def predict_table(self, frame):
        self.shown.append(frame)
        out = np.zeros((len(frame), len(SHOTS)))
        for row, shot in enumerate(frame["shot"].astype(str)):
            out[row, SHOTS.index(shot)] = self.scale
        out[:, SHOTS.index("unknown")] += self.spill          # never an action of a state
        return out


@pytest.fixture(scope="module")
def table():
    return pair_table(4, 5)


@pytest.fixture(scope="module")
def game(table):
    return rally_game(table, P, O)


@pytest.fixture(scope="module")
def demo():
    from strategist.data.demo import demo_path
    from strategist.data.load import load_rallies

    return load_rallies(demo_path()).table


def _reference(game, table, side, rows, actions="shot"):
    """Per state of the side: (shot frequencies over the state's actions, share of strokes outside them,
    strokes) from the side's strokes ``rows`` (a mask of the annotated table), counted with pandas."""
    ann = annotate_states(table, situation=True)
    mine = ann[rows(ann)]
    groups = dict(SPORT.groupings["tactic"])
    labels = game.layout.row_labels if side == "player" else game.layout.column_labels
    out = {}
    for state, shots in mine.groupby(mine["state"].astype(str))["shot"]:
        label = f"{side}: {state}"
        if label not in game.labels:
            continue
        g = game.index(label)
        acts = shots.astype(str) if actions == "shot" else shots.astype(str).map(groups)
        counts = acts.value_counts()
        raw = np.array([float(counts.get(a, 0)) for a in labels[g]])
        out[g] = (raw, 1.0 - raw.sum() / len(shots), len(shots))
    return out


def _check(policy, game, reference, side):
    observed = side_policy(game, "observed", side)
    assert len(reference) >= 3
    for g in range(len(game.labels)):
        if g not in reference:
            np.testing.assert_allclose(policy[g], observed[g])
            assert policy.outside[g] == 0.0
            continue
        raw, outside, n = reference[g]
        assert policy.strokes[g] == n
        assert policy.outside[g] == pytest.approx(outside, abs=1e-12)
        if raw.sum() > 0:
            np.testing.assert_allclose(policy[g], raw / raw.sum(), rtol=1e-12)
        else:
            np.testing.assert_allclose(policy[g], observed[g])


def test_the_opponents_mixes_are_their_shot_frequencies_against_the_player(game, table):
    """Opponent side of the pair's game: O's strokes against P, per state, over the state's actions."""
    policy = model_policy(game, table, OwnShot(), "opponent")
    ref = _reference(game, table, "opponent", lambda a: (a["hitter"] == O) & (a["opponent"] == P))
    _check(policy, game, ref, "opponent")
    assert str(policy) == "model (OwnShot)" and policy.model == "OwnShot" and policy.side == "opponent"


def test_the_players_mixes_are_their_shot_frequencies(game, table):
    policy = model_policy(game, table, OwnShot(), "player")
    ref = _reference(game, table, "player", lambda a: (a["hitter"] == P) & (a["opponent"] == O))
    _check(policy, game, ref, "player")
    np.testing.assert_array_equal(policy.hitting, [lab.startswith("player: ") for lab in game.labels])


def test_mass_on_shots_that_are_no_action_is_dropped_and_reported(game, table):
    """Mixes are renormalised over the state's actions whatever the rows sum to; the mass on a shot that is no
    action (here 1 of every row's 4) is each model state's outside share."""
    one = model_policy(game, table, OwnShot(), "opponent")
    spilt = model_policy(game, table, OwnShot(3.0, spill=1.0), "opponent")
    used = one.hitting & (one.strokes > 0)
    assert used.sum() >= 3
    np.testing.assert_allclose(one.outside, 0.0, atol=1e-12)
    for g in range(len(game.labels)):
        np.testing.assert_allclose(spilt[g], one[g], rtol=1e-12)
    np.testing.assert_allclose(spilt.outside[used], 0.25, rtol=1e-12)
    assert (spilt.outside[~used] == 0).all()
    assert spilt.summary()["outside_share"] == pytest.approx(0.25)


def test_group_actions_sum_their_shots(table):
    game = rally_game(table, P, O, actions="group")
    policy = model_policy(game, table, OwnShot(), "opponent")
    ref = _reference(game, table, "opponent", lambda a: (a["hitter"] == O) & (a["opponent"] == P), "group")
    _check(policy, game, ref, "opponent")


def test_action_map_by_shot_by_group_and_by_a_named_grouping():
    shots = ["smash", "lob", "unknown"]
    assert _action_map(shots, "shot", SPORT) == {"smash": "smash", "lob": "lob", "unknown": "unknown"}
    tactic = dict(SPORT.groupings["tactic"])
    assert _action_map(shots, "group", SPORT) == {s: tactic.get(s) for s in shots}
    assert _action_map(shots, "group:tactic", SPORT) == _action_map(shots, "group", SPORT)
    track2 = dict(SPORT.groupings["track2"])
    assert _action_map(shots, "group:track2", SPORT) == {s: track2.get(s) for s in shots}
    assert _action_map(["lob"], "group:track2", SPORT)["lob"] == "lob" != tactic["lob"]


def test_a_players_game_against_everyone_counts_every_opponent(demo):
    """A player without an opponent: the player's strokes against anyone, and on the other side every
    stroke hit against the player; the model is shown whole rallies, those with a stroke of the side."""
    player = demo["hitter"].value_counts().index[0]
    game = rally_game(demo, player)
    for side, rows in (("player", lambda a: a["hitter"] == player), ("opponent", lambda a: a["opponent"] == player)):
        model = OwnShot()
        policy = model_policy(game, demo, model, side)
        _check(policy, game, _reference(game, demo, side, rows), side)
        [shown] = model.shown
        ann = annotate_states(demo, situation=True)
        rallies = set(ann.loc[rows(ann), "rally_id"].astype(str))
        assert set(shown["rally_id"].astype(str)) == rallies
        whole = demo[demo["rally_id"].astype(str).isin(rallies)]
        assert len(shown) == len(whole) and shown.index.equals(pd.RangeIndex(len(shown)))
        keys = list(zip(shown["rally_id"].astype(str), shown["stroke"]))
        assert keys == sorted(keys)


def test_the_population_game_counts_every_stroke_on_both_sides(table):
    """No player: both sides' mixes come from all strokes whose hitter and receiver are known."""
    t = table.copy()
    t.loc[t.index[5], "opponent"] = pd.NA                  # a stroke without its receiver is no one's
    game = rally_game(t, None, None)
    for side in ("player", "opponent"):
        policy = model_policy(game, t, OwnShot(), side)
        ref = _reference(game, t, side, lambda a: a["hitter"].notna() & a["opponent"].notna())
        _check(policy, game, ref, side)


def test_summary_of_a_policy_by_hand():
    """summary(): hitting states with strokes come from the model, the rest from observed play; the outside
    share is the stroke-weighted mean over the model's states."""
    policy = ModelPolicy("opponent", "fixed", (np.ones(1),) * 4, strokes=np.array([3, 0, 1, 0]),
                         outside=np.array([0.2, 0.0, 0.6, 0.0]), hitting=np.array([True, True, True, False]),
                         observed_states=("opponent: b",))
    assert len(policy) == 4 and list(policy) == list(policy.mixes) and policy[2] is policy.mixes[2]
    assert policy.summary() == {"policy": "model (fixed)", "side": "opponent", "states_from_model": 2,
                                "states_observed": 2, "strokes": 4, "hitting_states_without_data": ["opponent: b"],
                                "outside_share": pytest.approx((3 * 0.2 + 1 * 0.6) / 4)}
    empty = ModelPolicy("player", "fixed", (np.ones(1),), strokes=np.array([0]), outside=np.array([0.0]),
                        hitting=np.array([True]), observed_states=("player: a",))
    assert empty.summary()["outside_share"] == 0.0 and empty.summary()["states_from_model"] == 0


def test_a_hitting_state_without_strokes_is_listed_and_observed(game, table):
    """Strokes of the side in a state the model never sees leave that state to observed play, and it is
    listed; with OwnShot every hitting state the pair reached has strokes."""
    policy = model_policy(game, table, OwnShot(), "opponent")
    unseen = [lab for g, lab in enumerate(game.labels) if policy.hitting[g] and policy.strokes[g] == 0]
    assert list(policy.observed_states) == unseen
    assert policy.summary()["hitting_states_without_data"] == unseen
    assert (policy.strokes[~policy.hitting] == 0).all()


class Failing(OwnShot):
    def predict_table(self, frame):
        raise StrategistError("no history")


class Short(OwnShot):
    def predict_table(self, frame):
        return super().predict_table(frame)[:-1]


def test_a_model_that_fails_or_answers_the_wrong_shape_is_refused(game, table):
    with pytest.raises(EstimationError, match="could not predict the game's strokes: no history"):
        model_policy(game, table, Failing(), "opponent")
    with pytest.raises(EstimationError, match="returned"):
        model_policy(game, table, Short(), "opponent")


def test_a_table_without_the_sides_strokes_is_refused(game, table):
    other = table.assign(hitter=table["hitter"].replace({O: "Someone"}),
                         opponent=table["opponent"].replace({O: "Someone"}))
    with pytest.raises(EstimationError, match="no stroke of the opponent"):
        model_policy(game, other, OwnShot(), "opponent")
    with pytest.raises(EstimationError, match="no stroke of the player"):
        model_policy(game, other, OwnShot(), "player")


def test_without_a_side_the_policy_is_the_opponents(game, table):
    """side defaults to the opponent: the same mixes and strokes as side='opponent'."""
    default = model_policy(game, table, OwnShot())
    asked = model_policy(game, table, OwnShot(), "opponent")
    assert default.side == "opponent"
    np.testing.assert_array_equal(default.strokes, asked.strokes)
    for g in range(len(game.labels)):
        np.testing.assert_array_equal(default[g], asked[g])


class PredictsOnly:
    def predict_table(self, frame):
        return np.ones((len(frame), 1))


class VocabularyOnly:
    vocabulary = MarkovModel().vocabulary


def test_a_model_needs_both_predict_table_and_a_vocabulary(game, table):
    """A model with predict_table but no vocabulary, or a vocabulary but no predict_table, is refused."""
    for model in (PredictsOnly(), VocabularyOnly()):
        with pytest.raises(EstimationError, match="fitted opponent model"):
            model_policy(game, table, model, "opponent")


def test_a_stroke_whose_receiver_or_hitter_is_unknown_is_no_sides_stroke(game, table):
    """In the pair's game a stroke of the opponent with its receiver unknown, or of the player with its hitter
    unknown, is not counted on either side."""
    t = table.copy()
    theirs = t.index[(t["hitter"] == O) & (t["opponent"] == P)][3]
    mine = t.index[(t["hitter"] == P) & (t["opponent"] == O)][5]
    t.loc[theirs, "opponent"] = pd.NA
    t.loc[mine, "hitter"] = pd.NA
    for side, who, other in (("opponent", O, P), ("player", P, O)):
        policy = model_policy(game, t, OwnShot(), side)
        whole = model_policy(game, table, OwnShot(), side)
        assert policy.strokes.sum() == whole.strokes.sum() - 1
        ref = _reference(game, t, side, lambda a: (a["hitter"] == who) & (a["opponent"] == other))
        for g, (_, _, n) in ref.items():
            assert policy.strokes[g] == n


def test_summary_counts_the_states_from_observed_play_apart():
    """states_observed: every state not from the model (three here), states_from_model the one hitting state
    with strokes."""
    policy = ModelPolicy("player", "fixed", (np.ones(1),) * 4, strokes=np.array([5, 0, 0, 0]),
                         outside=np.array([0.1, 0.0, 0.0, 0.0]), hitting=np.array([True, True, False, False]),
                         observed_states=("player: b",))
    summary = policy.summary()
    assert summary["states_from_model"] == 1 and summary["states_observed"] == 3 and summary["strokes"] == 5
    assert summary["outside_share"] == pytest.approx(0.1)


def test_the_games_sport_reads_the_table_even_without_its_sport_label(game, table):
    """The strokes are annotated with the game's sport: a table without its sport column gives the same policy."""
    labelled = model_policy(game, table, OwnShot(), "opponent")
    bare = model_policy(game, table.drop(columns="sport"), OwnShot(), "opponent")
    np.testing.assert_array_equal(bare.strokes, labelled.strokes)
    for g in range(len(game.labels)):
        np.testing.assert_array_equal(bare[g], labelled[g])


def test_the_model_is_shown_the_annotated_strokes_and_no_stray_column(game, table):
    """The frame the model predicts holds the annotated table's columns, no column added for the old index."""
    model = OwnShot()
    model_policy(game, table, model, "opponent")
    [shown] = model.shown
    ann = annotate_states(table, SPORT, rally=game.structure.settings.states or SPORT.decisions.situation[0],
                          zones=bool(game.structure.settings.zones), heights=bool(game.structure.settings.heights))
    assert list(shown.columns) == list(ann.columns)


def _rare_opponent_state(table):
    """The opponent's least visited situation against the player (not the serve), and the table without the
    rallies in which the opponent hits there."""
    ann = annotate_states(table, situation=True)
    theirs = ann[(ann["hitter"] == O) & (ann["opponent"] == P) & (ann["phase"] != "serve")]
    state = theirs["state"].astype(str).value_counts().index[-1]
    rallies = set(theirs.loc[theirs["state"].astype(str) == state, "rally_id"].astype(str))
    return state, table[~table["rally_id"].astype(str).isin(rallies)]


def test_a_hitting_state_the_table_does_not_reach_follows_observed_play_and_is_listed(game, table):
    """Given fewer rallies than the game was made from, a state of the opponent that none of them reaches gets
    the observed mix and is listed as without data; the others still come from the model."""
    state, fewer = _rare_opponent_state(table)
    g = game.index(f"opponent: {state}")
    policy = model_policy(game, fewer, OwnShot(), "opponent")
    observed = side_policy(game, "observed", "opponent")
    assert f"opponent: {state}" in policy.observed_states and None not in policy.observed_states
    assert policy.strokes[g] == 0 and policy.outside[g] == 0.0
    np.testing.assert_allclose(policy[g], observed[g])
    assert all(np.isfinite(mix).all() and abs(mix.sum() - 1) < 1e-9 for mix in policy)
    _check(policy, game, _reference(game, fewer, "opponent", lambda a: (a["hitter"] == O) & (a["opponent"] == P)),
           "opponent")


def test_strokes_in_states_the_game_does_not_have_are_left_out(table):
    """A game made without the rallies in which a rare situation comes up: the opponent's strokes in that
    situation match no state of the game and are counted nowhere."""
    state, _ = _rare_opponent_state(table)
    ann = annotate_states(table, situation=True)
    fewer = table[~table["rally_id"].astype(str).isin(set(ann.loc[ann["state"].astype(str) == state, "rally_id"]
                                                           .astype(str)))]
    small = rally_game(fewer, P, O)
    assert f"opponent: {state}" not in small.labels
    policy = model_policy(small, table, OwnShot(), "opponent")
    ref = _reference(small, table, "opponent", lambda a: (a["hitter"] == O) & (a["opponent"] == P))
    _check(policy, small, ref, "opponent")
    assert policy.strokes.sum() == sum(n for _, _, n in ref.values())
