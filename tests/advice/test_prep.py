"""Match prep's best responses and keys to the match on the demo, against a direct computation from the rally
game's stages (win probability of each shot against the opponent's usual positions) and the player's strokes
counted with pandas."""

import numpy as np
import pandas as pd
import pytest

from strategist.advice import prep
from strategist.advice.advisor import Advisor
from strategist.data.states import annotate_states

P, O = "Astrid NORDVIK", "Dev MALHOTRA"


@pytest.fixture(scope="module")
def adv():
    return Advisor(player=P, opponent=O, model="markov2")


@pytest.fixture(scope="module")
def reference(adv):
    """Per situation the player met this opponent in: every shot's win probability (point, low, high) against
    the opponent's habitual positions, which shots may be advised, and the player's strokes there."""
    ann = annotate_states(adv.table, situation=True)
    mine = ann[ann["hitter"] == P]
    states = adv.game.states
    out = {}
    for label, who, visits in zip(states["decision_state"], states["who"], states["visits"]):
        if who != "player" or visits <= 0:
            continue
        stage = adv.game.stage(f"player: {label}")
        q = np.asarray(stage.observed_column, dtype=np.float64)
        played = mine.loc[mine["state"] == label, "shot"].value_counts()
        out[label] = {"rows": list(stage.rows), "win": stage.mean @ q, "low": stage.low @ q,
                      "high": stage.high @ q, "advised": np.asarray(stage.advisable, bool),
                      "played": np.array([int(played.get(s, 0)) for s in stage.rows]),
                      "habit": np.asarray(stage.observed_row, dtype=np.float64), "visits": int(visits)}
    return out


def test_best_responses_pick_the_advised_shot_that_wins_most(adv, reference):
    table = prep.best_responses(adv).set_index("state")
    with_advised = {s for s, r in reference.items() if r["advised"].any()}
    assert set(table.index) == with_advised and len(with_advised) > 5
    for state, row in table.iterrows():
        r = reference[state]
        wins = np.where(r["advised"], r["win"], -np.inf)
        i = int(np.argmax(wins))
        assert row["best shot"] == r["rows"][i], state
        assert (row["wins"], row["low"], row["high"]) == pytest.approx((r["win"][i], r["low"][i], r["high"][i]))
        assert row["times played"] == r["played"][i] and row["decisions"] == r["played"].sum()
        assert row["low"] <= row["wins"] <= row["high"]


def test_keys_are_the_supported_changes_ranked_by_weighted_effect(adv, reference):
    """A key is a shot played at least 10 times whose interval lies wholly above ("more") or below ("less")
    what the usual mix wins; the k keys are the largest |effect| x sqrt(share of visits)."""
    total = sum(r["visits"] for r in reference.values())
    expected = []
    for state, r in reference.items():
        usual = float(r["habit"] @ r["win"])
        for i, shot in enumerate(r["rows"]):
            if r["played"][i] < 10 or not r["advised"][i]:
                continue
            if r["low"][i] > usual or r["high"][i] < usual:
                effect = r["win"][i] - usual
                expected.append((abs(effect) * (r["visits"] / total) ** 0.5, state, shot, effect))
    expected.sort(key=lambda e: -e[0])
    assert expected, "the demo pair has supported changes"
    keys = prep.keys_to_the_match(adv, k=3)
    assert [(k["state"], k["shot"]) for k in keys] == [(e[1], e[2]) for e in expected[:3]]
    for key, (_, _, _, effect) in zip(keys, expected):
        assert key["effect"] == pytest.approx(effect)
        assert key["advice"] == ("play it more" if effect > 0 else "play it less")
        assert key["shot"] in key["text"] and f"{key['strokes']} times" in key["text"]
    assert len(prep.keys_to_the_match(adv, k=len(expected) + 5)) == len(expected)


def test_replies_after_each_shot_are_counted_from_the_rallies(adv):
    """The opponent's reply group after each of the player's shots, from the player's rallies alone, equals
    the count over the whole table's annotation (pandas crosstab), with the commonest reply and the scope."""
    from strategist.data.states import annotate_states

    got = prep.replies_after(adv)
    a = annotate_states(adv.table, adv.sport)
    mine = a[(a["hitter"] == P) & (a["opponent"] == O) & a["reply_shot"].notna()]
    groups = dict(adv.sport.groupings["tactic"])
    want = pd.crosstab(mine["shot"].astype(str), mine["reply_shot"].astype(str).map(groups).fillna("other"))
    assert set(got["scope"]) == {"against this opponent"}
    assert dict(got["n"]) == dict(want.sum(axis=1)) and len(got) > 5
    for shot, row in want.iterrows():
        for group, count in row.items():
            assert got.at[shot, group] == pytest.approx(count / row.sum()), (shot, group)
        replies = mine.loc[mine["shot"].astype(str) == shot, "reply_shot"].astype(str).value_counts()
        assert replies[got.at[shot, "commonest reply"]] == replies.max()


def test_habits_show_each_mix_with_the_strokes_behind_it(adv):
    """The habit and the recommendation name their shots with shares and the player's strokes there against
    this opponent (the stage's counts), so no share stands without its count."""
    table = prep.habits(adv)
    assert len(table) > 5
    for _, row in table.iterrows():
        stage = adv.game.stage(f"player: {row['state']}")
        played = dict(zip(stage.rows, stage.counts.sum(axis=1).astype(int)))
        for column in ("habit", "recommended"):
            for part in filter(None, row[column].split(", ")):
                name = part[:part.index(" (n=")].rsplit(" ", 2)[0]
                assert part.endswith(f"(n={played[name]})"), (column, part)
