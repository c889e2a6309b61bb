"""Match preparation (strategist.advice.prep) on small tables built by hand and on a simulated pair's rally
game: stroke buckets, the opponent's tendencies and replies with their scope, the habits table, the keys'
thresholds and the rally values, each against counts or sums worked out here."""

from __future__ import annotations

import dataclasses
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from strategist.advice import prep
from strategist.advice.decision import state_arrays
from strategist.data.schema import conform
from strategist.data.states import describe_situation
from strategist.rally.game import rally_game
from strategist.sports import get_sport
from tests.rally.pair import O, P, pair_table

SPORT = get_sport("badminton")


def _table(rallies):
    """A canonical table from rallies given as (first hitter, other, [shots]); hitters alternate; the first
    hitter wins."""
    rows = []
    for number, (a, b, shots) in enumerate(rallies, start=1):
        for k, shot in enumerate(shots, start=1):
            hitter, opponent = (a, b) if k % 2 else (b, a)
            rows.append({"sport": "badminton", "source": "constructed", "match_id": "m", "set": 1, "rally": number,
                         "rally_id": f"m|1|{number}", "stroke": k, "hitter": hitter, "opponent": opponent,
                         "shot": shot, "landing_area": "8", "opponent_area": "8", "server": a, "winner": a,
                         "hitter_won": hitter == a})
    return conform(pd.DataFrame(rows))


def _advisor(table, player="Ann", opponent="Bea", game=None):
    adv = SimpleNamespace(table=table, player=player, opponent=opponent, sport=SPORT, game=game)
    if game is not None:
        adv._arrays_of = lambda g: state_arrays(game, g)
    return adv


def test_strokes_fall_in_buckets_up_to_six_and_more():
    got = prep._bucket(pd.Series([1, 2, 3, 4, 5, 6, 7, 12, None], dtype="Int64"))
    assert got.tolist()[:8] == ["1 (serve)", "2 (return)", "3", "4", "5", "6+", "6+", "6+"]
    assert pd.isna(got.iat[8]) and str(got.dtype) == "string"


def test_tendencies_against_this_player_from_thirty_strokes_on():
    """30 strokes of the opponent against the player: their own shares; 29: the opponent against everyone.
    Shares and n per stroke bucket, groups from the tactic grouping, a serve after stroke 1 flagged as serve,
    an unrecorded shot named and grouped as other; buckets in rally order, shots by count."""
    against = [("Ann", "Bea", ["short service", "lob", "smash", "lob"])] * 10 + \
              [("Bea", "Ann", ["long service", "clear", "drop", "net shot", "push", "lob", "short service"])] * 5
    against.append(("Bea", "Ann", ["long service", "clear"]))
    others = [("Cleo", "Bea", ["short service", "net shot", "lob", "smash"])] * 4
    # Bea hits against Ann: 10 * 2 (lob, lob) + 5 * 4 + 1 = 41 strokes
    table = _table(against + others)
    t = prep.tendencies_by_stroke(_advisor(table))
    assert set(t["scope"]) == {"against this player"}
    assert list(t.columns) == ["stroke", "shot", "strokes", "share", "n", "group", "scope"]
    rows = {(s, shot): r for s, shot, r in zip(t["stroke"], t["shot"], t.itertuples())}
    assert rows[("1 (serve)", "long service")].strokes == 6 and rows[("1 (serve)", "long service")].share == 1.0
    assert rows[("2 (return)", "lob")].strokes == 10 and rows[("2 (return)", "lob")].n == 10
    assert rows[("3", "drop")].strokes == 5 and rows[("3", "drop")].group == "attack"
    assert rows[("4", "lob")].strokes == 10 and rows[("4", "lob")].share == 1.0
    assert rows[("5", "push")].group == "attack"
    assert rows[("1 (serve)", "long service")].group == "neutral"
    assert ("6+", "lob") not in rows and rows[("6+", "short service")].group == "serve"   # Ann's 6th: not Bea's
    assert list(t["stroke"]) == sorted(t["stroke"], key=[b for _, b in prep.STROKE_BUCKETS].index)
    # 29 strokes against Ann: the scope widens to everyone Bea met
    few = _table([("Ann", "Bea", ["short service", "lob"])] * 29 + others)
    t = prep.tendencies_by_stroke(_advisor(few))
    assert set(t["scope"]) == {"against everyone"}
    assert t.loc[(t["stroke"] == "2 (return)") & (t["shot"] == "net shot"), "strokes"].item() == 4
    assert t.loc[(t["stroke"] == "2 (return)") & (t["shot"] == "lob"), "share"].item() == pytest.approx(29 / 33)
    exact = _table([("Ann", "Bea", ["short service", "lob"])] * 30 + others)
    assert set(prep.tendencies_by_stroke(_advisor(exact))["scope"]) == {"against this player"}


def test_tendencies_order_shots_by_count_and_name_unrecorded_shots():
    """A missing shot and the data's own unrecorded type (``unknown``, which the tactic grouping puts in no
    group) are one row, "not recorded", grouped "not recorded": never two rows of one name, never no group."""
    table = _table([("Ann", "Bea", ["short service", "lob"])] * 3 + [("Ann", "Bea", ["short service", "clear"])] * 5
                   + [("Ann", "Bea", ["short service", None])] * 2 + [("Ann", "Bea", ["short service", "unknown"])])
    t = prep.tendencies_by_stroke(_advisor(table))
    ret = t[t["stroke"] == "2 (return)"]
    assert list(ret["shot"]) == ["clear", "lob", "not recorded"]
    assert list(ret["strokes"]) == [5, 3, 3] and list(ret["n"]) == [11] * 3
    np.testing.assert_allclose(ret["share"], [5 / 11, 3 / 11, 3 / 11])
    assert list(ret["group"]) == ["neutral", "defence", "not recorded"]
    assert t["group"].notna().all() and set(t["scope"]) == {"against everyone"}


def test_shot_groups_name_the_unrecorded_type_and_shots_outside_the_grouping():
    tactic = dict(SPORT.groupings["tactic"])
    assert tactic["unknown"] is None                 # the sport's own rule: the unrecorded type has no group
    assert prep.shot_group(tactic, "smash") == "attack" and prep.shot_group(tactic, "unknown") == "not recorded"
    assert prep.shot_group(tactic, "not recorded") == "not recorded" and prep.shot_group(tactic, "tweener") == "other"
    assert prep.shot_group({}, "smash") == "other"


def test_replies_count_an_unrecorded_reply_under_its_own_group():
    """After the player's serve: 3 lobs, 2 replies of the data's unrecorded type; n counts all 5. After the
    player's unrecorded shots (missing or ``unknown``: one row), the commonest reply is named, never ``unknown``."""
    table = _table([("Ann", "Bea", ["short service", "lob"])] * 3 + [("Ann", "Bea", ["short service", "unknown"])] * 2
                   + [("Bea", "Ann", ["short service", "unknown", "unknown"])] * 2
                   + [("Bea", "Ann", ["short service", None, "clear"])])
    rep = prep.replies_after(_advisor(table))
    assert rep.at["short service", "n"] == 5
    assert rep.at["short service", "defence"] == pytest.approx(0.6)
    assert rep.at["short service", "not recorded"] == pytest.approx(0.4)
    assert rep.at["short service", "commonest reply"] == "lob"
    assert rep.at["not recorded", "n"] == 3 and "unknown" not in rep.index
    assert rep.at["not recorded", "commonest reply"] == "not recorded"
    assert rep.at["not recorded", "not recorded"] == pytest.approx(2 / 3)


def test_an_opponent_without_strokes_has_no_tendencies():
    table = _table([("Ann", "Cleo", ["short service", "lob"])])
    t = prep.tendencies_by_stroke(_advisor(table))
    assert t.empty and list(t.columns) == ["stroke", "shot", "strokes", "share", "n", "group", "scope"]


def test_replies_against_this_opponent_from_thirty_on_else_everyone():
    """The opponent's reply group after each of the player's shots, with n, the commonest reply and the scope;
    rows by n, most first."""
    pair = [("Ann", "Bea", ["short service", "lob", "smash", "lob"])] * 12 + \
           [("Ann", "Bea", ["short service", "net shot", "drop"])] * 6
    others = [("Ann", "Cleo", ["long service", "smash"])] * 7
    # Ann's shots with a reply against Bea: 18 serves + 12 smashes = 30
    got = prep.replies_after(_advisor(_table(pair + others)))
    assert set(got["scope"]) == {"against this opponent"}
    assert list(got.index) == ["short service", "smash"] and list(got["n"]) == [18, 12]
    assert got.at["short service", "defence"] == pytest.approx(12 / 18)
    assert got.at["short service", "neutral"] == pytest.approx(6 / 18)
    assert got.at["short service", "commonest reply"] == "lob" and got.at["smash", "commonest reply"] == "lob"
    fewer = prep.replies_after(_advisor(_table(pair[:-1] + others)))          # 29 against Bea
    assert set(fewer["scope"]) == {"against everyone"}
    assert list(fewer.index) == ["short service", "smash", "long service"]
    assert list(fewer["n"]) == [17, 12, 7] and fewer.at["long service", "attack"] == 1.0
    assert fewer.at["long service", "commonest reply"] == "smash"


@pytest.fixture(scope="module")
def pair_advisor():
    table = pair_table(4, 5)
    return _advisor(table, P, O, rally_game(table, P, O))


def test_habits_report_the_games_values_and_how_far_the_habit_can_be_exploited(pair_advisor):
    """Per situation with strokes: the values as played and as recommended are the game's; the habit is
    exploitable by the recommendation's guarantee minus the habit's worst column (never below 0); rows by
    strokes, most first."""
    game = pair_advisor.game
    table = prep.habits(pair_advisor)
    met = [g for g, label in enumerate(game.labels) if label.startswith("player: ") and game.states["visits"].iat[g] > 0]
    assert len(table) == len(met) >= 5
    assert list(table["strokes against this opponent"]) == sorted(table["strokes against this opponent"],
                                                                  reverse=True)
    exploitable = []
    for _, row in table.iterrows():
        g = game.index(f"player: {row['state']}")
        stage = game.stage(g)
        assert row["situation"] == describe_situation(row["state"])
        assert row["strokes against this opponent"] == game.states["visits"].iat[g]
        assert row["as played"] == pytest.approx(float(game.observed_values[g]))
        assert row["as recommended"] == pytest.approx(float(game.recommendation.realized[g]))
        assert row["basis"] == stage.basis
        worst = min(sum(stage.observed_row[a] * stage.pessimistic[a, b] for a in range(len(stage.rows)))
                    for b in range(len(stage.columns)))
        assert row["habit exploitable by"] == pytest.approx(max(stage.pessimistic_value - worst, 0.0), abs=1e-12)
        exploitable.append(row["habit exploitable by"])
    assert min(exploitable) >= 0 and max(exploitable) > 0


def test_no_situation_met_gives_an_empty_habits_table(pair_advisor):
    states = pair_advisor.game.states.assign(visits=0)
    game = SimpleNamespace(states=states)
    assert prep.habits(SimpleNamespace(game=game)).empty


def test_mix_text_names_the_top_shots_with_shares_and_strokes():
    labels = ("lob", "drop", "smash", "clear", "net shot")
    mix = np.array([0.2, 0.004, 0.5, 0.226, 0.07])
    counts = np.array([4, 1, 10, 5, 2])
    assert prep._mix_text(labels, mix, counts) == "smash 50 % (n=10), clear 23 % (n=5), lob 20 % (n=4)"
    assert prep._mix_text(labels, mix, counts, top=5) == \
        "smash 50 % (n=10), clear 23 % (n=5), lob 20 % (n=4), net shot 7 % (n=2)"
    assert prep._mix_text(("a", "b"), np.array([0.995, 0.005]), np.array([3.0, 1.0])) == "a 100 % (n=3), b 0 % (n=1)"


def test_best_responses_report_the_lower_bound_and_the_habits_win(pair_advisor):
    """Against where the opponent usually stands: the best advised shot's lower bound (pessimistic Q) and the
    habit's win probability, by sums over the stage."""
    game = pair_advisor.game
    table = prep.best_responses(pair_advisor)
    assert len(table) >= 5
    # every situation met with an advised shot, those after one without any included (the pair has such)
    advised = [bool(state_arrays(game, g).advised.any()) for g in prep._player_states(pair_advisor)]
    assert set(table["state"]) == {game.states["decision_state"].iat[g]
                                   for g, a in zip(prep._player_states(pair_advisor), advised) if a}
    assert False in advised and any(advised[advised.index(False) + 1:])
    for _, row in table.iterrows():
        stage = game.stage(f"player: {row['state']}")
        q = np.asarray(stage.observed_column)
        i = list(stage.rows).index(row["best shot"])
        advised = np.flatnonzero(stage.advisable)
        win = stage.mean @ q
        assert i in advised and win[i] == pytest.approx(win[advised].max())
        assert row["lower bound"] == pytest.approx(sum(stage.pessimistic[i, b] * q[b] for b in range(len(q))))
        assert row["habit wins"] == pytest.approx(sum(stage.observed_row[a] * win[a] for a in range(len(win))))
        assert row["situation"] == describe_situation(row["state"])


def test_keys_need_min_count_strokes_and_an_interval_clear_of_the_usual_mix(pair_advisor):
    """A shot counts from exactly min_count strokes on; the k best are kept, each with its numbers and advice;
    a shot whose interval holds the usual mix's value is no key."""
    everything = prep.keys_to_the_match(pair_advisor, k=1000, min_count=0)
    assert everything, "the pair has supported changes"
    for key in everything:
        assert key["low"] > key["usual"] or key["high"] < key["usual"]
        assert key["advice"] == ("play it more" if key["effect"] > 0 else "play it less")
        assert key["effect"] == pytest.approx(key["wins"] - key["usual"])
        more = "more" if key["effect"] > 0 else "less"
        assert f"{abs(key['effect']) * 100:.0f} points {more} than {P}'s usual mix" in key["text"]
        assert key["text"].startswith(describe_situation(key["state"])[0].upper())
        assert f"against {O}'s usual positions" in key["text"]
        assert f"played it {key['strokes']} times in {key['decisions']} strokes there" in key["text"]
    scores = [key["score"] for key in everything]
    assert scores == sorted(scores, reverse=True)
    n = sorted(key["strokes"] for key in everything)[len(everything) // 2]
    at_n = prep.keys_to_the_match(pair_advisor, k=1000, min_count=n)
    assert {(k["state"], k["shot"]) for k in at_n} == {(k["state"], k["shot"]) for k in everything
                                                      if k["strokes"] >= n}
    assert any(k["strokes"] == n for k in at_n)
    assert [k["shot"] for k in prep.keys_to_the_match(pair_advisor, k=2, min_count=0)] == \
        [k["shot"] for k in everything[:2]]
    total = sum(pair_advisor.game.states["visits"].iat[g] for g in prep._player_states(pair_advisor))
    for key in everything:
        assert key["score"] == pytest.approx(abs(key["effect"]) * (key["visits"] / total) ** 0.5)


def test_rally_values_are_the_serve_and_return_states_values(pair_advisor):
    """Badminton opens every rally in one serve state per side: the values are those states' own."""
    game = pair_advisor.game
    got = prep.rally_values(pair_advisor)
    serve, receive = game.serve_state("player"), game.serve_state("opponent")
    assert got == {"source": "rally game", "label": "the whole rally as a stochastic game (strategist.rally)",
                   "serve": game.value(serve), "serve_observed": game.observed_value(serve),
                   "return": game.value(receive), "return_observed": game.observed_value(receive),
                   "serve_switch": float(game.states.set_index("state").at[serve, "switch_value"]),
                   "return_switch": float(game.states.set_index("state").at[receive, "switch_value"]),
                   "serve_state": serve, "return_state": receive,
                   "serve_states": {serve: int(game.states.set_index("state").at[serve, "visits"])},
                   "return_states": {receive: int(game.states.set_index("state").at[receive, "visits"])}}
    assert serve.startswith("player: ") and receive.startswith("opponent: ")


@pytest.mark.realdata
def test_tennis_rally_values_average_the_deuce_and_ad_first_serves_by_visits(pair_advisor, shared_data):
    """A tennis point opens on a first serve from either court: the value of serving is their visit-weighted
    mean (second serves follow a fault and are not openings); a game given in place of the Advisor's is read."""
    import strategist
    from strategist.rally.game import rally_game

    table = strategist.load_rallies(shared_data / "tennis_slam_pbp").table
    game = rally_game(table, "Novak Djokovic", "Rafael Nadal")
    got = prep.rally_values(pair_advisor, game)
    rows = game.states.set_index("state")
    for key, who in (("serve", "player"), ("return", "opponent")):
        first = [f"{who}: serve (deuce, 1st serve)", f"{who}: serve ({'ad'}, 1st serve)"]
        visits = rows.loc[first, "visits"].to_numpy(float)
        assert got[f"{key}_states"] == dict(zip(first, visits.astype(int).tolist()))
        assert list(got[f"{key}_states"]) == first          # the courts in the sport's order, deuce first
        assert got[key] == pytest.approx(float(visits @ rows.loc[first, "value"].to_numpy() / visits.sum()))
        assert got[f"{key}_observed"] == pytest.approx(
            float(visits @ rows.loc[first, "observed_value"].to_numpy() / visits.sum()))
        assert got[f"{key}_switch"] == pytest.approx(
            float(visits @ rows.loc[first, "switch_value"].to_numpy() / visits.sum()))
        assert got[f"{key}_state"] == first[int(visits.argmax())]


def test_best_responses_report_the_best_shots_interval_and_the_strokes_behind_it(pair_advisor):
    """wins, low and high: the best shot's point estimate and interval against the usual positions (sums over
    the stage); times played: the player's strokes with it there; decisions: all the player's strokes there."""
    game = pair_advisor.game
    table = prep.best_responses(pair_advisor)
    assert list(table.columns) == ["situation", "state", "best shot", "wins", "low", "high", "lower bound",
                                   "habit wins", "times played", "decisions"]
    for _, row in table.iterrows():
        g = game.index(f"player: {row['state']}")
        stage, sa = game.stage(g), state_arrays(game, g)
        q = np.asarray(stage.observed_column)
        i = list(stage.rows).index(row["best shot"])
        for name, matrix in (("wins", stage.mean), ("low", stage.low), ("high", stage.high)):
            assert row[name] == pytest.approx(sum(matrix[i, b] * q[b] for b in range(len(q)))), name
        assert row["low"] <= row["wins"] <= row["high"]
        assert row["times played"] == sa.played[i] and row["decisions"] == int(sum(sa.played))


def test_habits_show_the_habit_and_the_recommendation_as_mixes_with_their_strokes(pair_advisor):
    """The habit and recommended columns are the stage's observed and recommended mixes in words, each shot with
    the player's strokes there; the table has exactly its named columns (no stray index)."""
    game = pair_advisor.game
    table = prep.habits(pair_advisor)
    assert list(table.columns) == ["situation", "state", "strokes against this opponent", "habit", "as played",
                                   "recommended", "as recommended", "basis", "habit exploitable by"]
    assert list(table.index) == list(range(len(table)))
    differ = 0
    for _, row in table.iterrows():
        stage = game.stage(f"player: {row['state']}")
        counts = stage.counts.sum(axis=1)
        assert row["habit"] == prep._mix_text(stage.rows, stage.observed_row, counts)
        assert row["recommended"] == prep._mix_text(stage.rows, stage.recommended, counts)
        top = int(np.argmax(stage.observed_row))
        assert row["habit"].startswith(f"{stage.rows[top]} {100 * stage.observed_row[top]:.0f} % "
                                       f"(n={int(counts[top])})")
        differ += row["habit"] != row["recommended"]
    assert differ >= 1


def _keys_advisor(label):
    """One situation met 20 times whose habit is the shot 'base' (wins 0.5); every other shot's (win, low, high,
    strokes, advised) is set here against the opponent's one position."""
    shots = {"base": (0.5, 0.4, 0.6, 40, True),
             "a": (0.8, 0.6, 0.9, 10, True),       # more, from exactly 10 strokes
             "b": (0.62, 0.55, 0.7, 30, True),     # more
             "c": (0.25, 0.1, 0.3, 30, True),      # less
             "d": (0.45, 0.35, 0.48, 30, True),    # less, the smallest effect
             "e": (0.9, 0.7, 1.0, 30, False),      # not advised
             "f": (0.6, 0.5, 0.7, 30, True),       # low equals the usual mix: not clear of it
             "g": (0.4, 0.3, 0.5, 30, True)}       # high equals the usual mix: not clear of it
    rows = tuple(shots)
    col = {k: np.array([[shots[r][k]] for r in rows]) for k in range(3)}
    sa = SimpleNamespace(rows=rows, positions=np.array([1.0]), habit=np.eye(len(rows))[0],
                         played=np.array([shots[r][3] for r in rows]), advised=np.array([shots[r][4] for r in rows]))
    game = SimpleNamespace(states=pd.DataFrame({"who": ["player"], "visits": [20], "decision_state": [label]}),
                           stage=lambda g: SimpleNamespace(mean=col[0], low=col[1], high=col[2]))
    return SimpleNamespace(game=game, player="Ann", opponent="Bea", _arrays_of=lambda g: sa)


def test_keys_by_default_are_three_from_ten_strokes_clear_of_the_usual_mix(pair_advisor):
    """Defaults k=3, min_count=10: of the advised shots whose interval lies wholly above or below the usual mix
    (0.5), the three with the largest effect; a shot from exactly 10 strokes counts; a bound equal to the
    usual mix, or a shot not advised, is no key. The text says it all in words."""
    label = pair_advisor.game.states.loc[pair_advisor.game.states["who"] == "player", "decision_state"].iat[0]
    adv = _keys_advisor(label)
    keys = prep.keys_to_the_match(adv)
    assert [k["shot"] for k in keys] == ["a", "c", "b"]
    assert [k["advice"] for k in keys] == ["play it more", "play it less", "play it more"]
    assert [k["shot"] for k in prep.keys_to_the_match(adv, k=10)] == ["a", "c", "b", "d"]
    assert [k["shot"] for k in prep.keys_to_the_match(adv, k=10, min_count=11)] == ["c", "b", "d"]
    situation = describe_situation(label)
    assert keys[0]["text"] == (f"{situation[0].upper()}{situation[1:]}: a wins 80 % (60 %–90 %) against Bea's usual "
                               "positions, 30 points more than Ann's usual mix (50 %); Ann played it 10 times in "
                               "230 strokes there")
    assert keys[1]["text"].endswith("25 points less than Ann's usual mix (50 %); Ann played it 30 times in 230 "
                                    "strokes there")


UNGROUPED = dataclasses.replace(SPORT, name="badminton-ungrouped", groupings={"track2": SPORT.groupings["track2"]},
                                decisions=dataclasses.replace(SPORT.decisions, rally="shot"))


def test_without_a_tactic_grouping_every_shot_is_in_the_group_other(monkeypatch):
    """A sport with no tactic grouping: the opponent's shots are grouped as other (a serve after stroke 1 still
    as serve) and every reply counts under other."""
    from strategist.sports import registry

    monkeypatch.setattr(registry, "_USER", {})
    table = _table([("Ann", "Bea", ["short service", "lob", "smash", "lob"])] * 3 +
                   [("Bea", "Ann", ["long service", "clear", "short service"])] * 2)
    adv = SimpleNamespace(table=table, player="Ann", opponent="Bea", sport=UNGROUPED)
    t = prep.tendencies_by_stroke(adv)
    assert set(t.loc[t["stroke"] == "1 (serve)", "group"]) == {"other"}
    later = t[t["stroke"] != "1 (serve)"]
    assert set(later.loc[later["shot"] != "short service", "group"]) == {"other"}
    assert list(later.loc[later["shot"] == "short service", "group"]) == ["serve"]   # Bea's 3rd stroke
    got = prep.replies_after(adv)
    assert list(got.columns[:1]) == ["other"] and (got["other"] == 1.0).all()
    assert got.at["short service", "n"] == 3 and got.at["smash", "n"] == 3
    assert got.at["short service", "commonest reply"] == "lob"


def test_replies_are_read_with_the_advisors_sport_not_the_tables_label():
    """The advisor's sport says how strokes pair with replies: a table without its sport column gives the same
    replies."""
    table = _table([("Ann", "Bea", ["short service", "lob", "smash", "lob"])] * 4)
    want = prep.replies_after(_advisor(table))
    got = prep.replies_after(_advisor(table.drop(columns="sport")))
    pd.testing.assert_frame_equal(got, want)
    assert list(got.index) == ["short service", "smash"] and list(got["n"]) == [4, 4]


def test_strokes_are_counted_from_the_serve_a_second_serve_being_still_the_serve():
    """Tennis records a fault and the second serve as two strokes of the server: both are the serve (1), the
    receiver's next stroke the return (2). A badminton rally counts as recorded; a rally not opening with a
    recorded serve keeps the data's numbers; a 'serve' by the receiver is not one of the leading serves."""
    rows = [("t", 1, "S", "first serve"), ("t", 2, "S", "second serve"), ("t", 3, "R", "forehand"),
            ("t", 4, "S", "backhand"),
            ("b", 1, "A", "short service"), ("b", 2, "B", "net shot"), ("b", 3, "A", "lob"),
            ("u", 1, "A", None), ("u", 2, "B", "clear"), ("u", 3, "A", "smash"),
            ("m", 1, "A", "short service"), ("m", 2, "B", "short service"), ("m", 3, "A", "lob")]
    table = pd.DataFrame(rows, columns=["rally_id", "stroke", "hitter", "shot"]).sample(frac=1, random_state=1)
    serves = {"first serve", "second serve", "short service", "long service"}
    got = prep.stroke_of_rally(table, serves)
    assert got.index.equals(table.index)
    expected = {("t", 1): 1, ("t", 2): 1, ("t", 3): 2, ("t", 4): 3, ("b", 1): 1, ("b", 2): 2, ("b", 3): 3,
                ("u", 1): 1, ("u", 2): 2, ("u", 3): 3, ("m", 1): 1, ("m", 2): 2, ("m", 3): 3}
    assert {(r, int(k)): int(v) for r, k, v in zip(table["rally_id"], table["stroke"], got)} == expected
    assert str(got.dtype) == "Int64"


def test_a_serve_by_an_unrecorded_hitter_ends_the_leading_serves():
    """A stroke whose hitter is missing is not known to be the server's: the leading serves stop before it,
    so it is numbered from the serve before it (2), not taken for a second serve (1)."""
    table = pd.DataFrame({"rally_id": ["t"] * 3, "stroke": [1, 2, 3],
                          "hitter": pd.array(["S", None, "R"], dtype="string"),
                          "shot": ["first serve", "second serve", "forehand"]})
    got = prep.stroke_of_rally(table, {"first serve", "second serve"})
    assert got.tolist() == [1, 2, 3] and str(got.dtype) == "Int64"


@pytest.mark.realdata
def test_tennis_tendencies_list_second_serves_as_the_serve_not_the_return(shared_data):
    """On the Slam files (serves only) Nadal's second serves are stroke 1 with his first serves; no 'return'
    holds a serve."""
    from strategist.data.load import load_rallies

    table = load_rallies(shared_data / "tennis_slam_pbp" / "2011-wimbledon-points.csv.gz").table
    adv = SimpleNamespace(table=table, player="Novak Djokovic", opponent="Rafael Nadal", sport=get_sport("tennis"))
    t = prep.tendencies_by_stroke(adv)
    serves = set(get_sport("tennis").serves)
    assert t[(t["stroke"] != "1 (serve)") & t["shot"].isin(serves)].empty
    mine = table[(table["hitter"] == "Rafael Nadal") & table["shot"].isin(serves)]
    scope = t["scope"].iat[0]
    if scope == "against this player":
        mine = mine[mine["opponent"] == "Novak Djokovic"]
    assert t.loc[t["stroke"] == "1 (serve)", "strokes"].sum() == len(mine)
