"""The rally game's structure against direct counts of the strokes: its states and their order, the rows and
columns of every state, the outcomes a cell can have, and every count it keeps (the pairing's, each side's
hitter against anyone, each side's receiver, all players' at every level of the situation hierarchy, per match),
each counted again here by pandas from the annotated table, by name."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest

from strategist.data.states import annotate_states
from strategist.errors import EstimationError
from strategist.rally.model import (RallySettings, build_structure, feasibility, match_spread, strokes,
                                     structure_counts)

from .pair import O, P, pair_table, renamed

C = "Cara LINDQVIST"
ZONE = {"1": "front", "7": "front", "2": "front", "5": "middle", "8": "middle", "6": "middle", "3": "back",
        "9": "back", "4": "back"}
PHASE_RANK = {"serve": 0, "return": 1, "rally": 2}


@pytest.fixture(scope="module")
def table():
    """Two matches of P against O and one of P against a third player C."""
    return pd.concat([pair_table(2, 1), renamed(pair_table(1, 2), O, C, "x")], ignore_index=True)


@pytest.fixture(scope="module")
def st(table):
    return strokes(table, RallySettings())


@pytest.fixture(scope="module")
def ann(table):
    return _annotated(table)


def _annotated(table):
    """The annotated table with, per stroke, its receiver's zone and what followed it by name: ``WIN``,
    ``LOSE`` or (the next stroke's situation, whether the same player hits it)."""
    a = annotate_states(table, situation=True).copy()
    rally = a["rally_id"].astype(str)
    last = (rally.shift(-1) != rally).to_numpy(bool)
    won = a["hitter_won"].astype(bool).to_numpy()
    nxt_label = a["state"].astype(str).shift(-1).to_numpy(object)
    hitter = a["hitter"].astype(str)
    nxt_same = (hitter.shift(-1) == hitter).to_numpy(bool)
    a["zone"] = a["opponent_area"].astype(str).map(ZONE)
    a["next"] = [("WIN" if w else "LOSE") if end else (lab, bool(s))
                 for end, w, lab, s in zip(last, won, nxt_label, nxt_same)]
    a["label"] = a["state"].astype(str)
    return a


@pytest.fixture(scope="module")
def pair(st):
    return build_structure(st, RallySettings(player=P, opponent=O))


def _relative(structure, e):
    """A game entry's outcome by name: WIN, LOSE, or (next situation, the same side hits next)."""
    out = structure.entry_outcome[e]
    if out < 2:
        return "WIN" if out == 0 else "LOSE"
    g = structure.cell_state[structure.entry_cell[e]]
    nxt = structure.states.iloc[out - 2]
    return nxt["decision_state"], bool(nxt["who"] == structure.states["who"].iat[g])


def _by_name(structure, matrix, per_unit=False):
    """{(state, shot, zone, outcome[, unit]): count} of the count matrix ``matrix`` (units × entries)."""
    m = matrix.toarray()
    got = {}
    for e in range(m.shape[1]):
        c = structure.entry_cell[e]
        g = structure.cell_state[c]
        key = (structure.labels[g], structure.rows[g][structure.cell_a[c]], structure.columns[g][structure.cell_b[c]],
               _relative(structure, e))
        if per_unit:
            for u in np.flatnonzero(m[:, e]):
                got[key + (structure.matches[u],)] = m[u, e]
        elif m[:, e].sum():
            got[key] = m[:, e].sum()
    return got


def _expected(ann, rows, side, per_unit=False):
    """The same count from the strokes ``rows`` (bool) of the table, each in side ``side`` (0 player)."""
    sel = ann[rows].copy()
    sel["state"] = np.where(np.asarray(side)[rows] == 0, "player: ", "opponent: ") + sel["label"]
    keys = ["state", "shot", "zone", "next"] + (["match_id"] if per_unit else [])
    out = Counter(tuple(r) for r in sel[keys].astype(object).itertuples(index=False))
    return {k: float(v) for k, v in out.items()}


def test_the_pairings_counts_are_its_strokes_per_match(pair, ann):
    game = ann["hitter"].isin([P, O]) & ann["opponent"].isin([P, O])
    side = np.where(ann["hitter"] == P, 0, 1)
    assert _by_name(pair, pair.n, per_unit=True) == _expected(ann, game.to_numpy(), side, per_unit=True)
    assert pair.n.shape[0] == len(pair.matches) == 3 and pair.cluster == "match"
    assert sorted(pair.matches) == sorted(ann["match_id"].astype(str).unique())
    assert pair.pair_matches.tolist() == [not str(m).startswith("x") for m in pair.matches]
    assert pair.strokes_used == game.sum() and pair.game_matches == 2
    assert pair.rallies == ann.loc[game, "rally_id"].nunique()
    counts = structure_counts(pair)
    np.testing.assert_array_equal(counts["game"], np.asarray(pair.n.sum(axis=0)).ravel())


def test_each_sides_hitter_and_receiver_counts_take_every_opponent(pair, ann):
    """``n_hitter``: P's strokes against anyone in the player's states, O's in the opponent's; ``n_receiver``:
    the strokes P faced (hit by anyone) in the opponent's states, those O faced in the player's."""
    hitter = ann["hitter"].astype(str).to_numpy()
    receiver = ann["opponent"].astype(str).to_numpy()
    for matrix, people in ((pair.n_hitter, hitter), (pair.n_receiver, receiver)):
        expected = {}
        for side, person in ((0, P if people is hitter else O), (1, O if people is hitter else P)):
            rows = people == person
            for k, v in _expected(ann, rows, np.full(len(ann), side)).items():
                expected[k] = expected.get(k, 0.0) + v
        got = _by_name(pair, matrix)
        # strokes against C may fall in a zone no stroke of the pair's states offers: those have no cell
        cells = {(pair.labels[g], a, b) for g in range(pair.size) for a in pair.rows[g] for b in pair.columns[g]}
        kept = {k: v for k, v in expected.items() if k[:3] in cells}
        assert got == kept
        assert sum(kept.values()) >= 0.95 * sum(expected.values())


def test_the_player_against_everyone_and_against_a_newcomer(st, ann):
    anyone = build_structure(st, RallySettings(player=P))
    involved = (ann["hitter"] == P) | (ann["opponent"] == P)
    side = np.where(ann["hitter"] == P, 0, 1)
    assert _by_name(anyone, anyone.n) == _expected(ann, involved.to_numpy(), side)
    assert anyone.strokes_used == involved.sum() and anyone.game_matches == 3
    # the opponents' side: every opponent of P as they played against P
    assert _by_name(anyone, anyone.n_hitter) == {**_expected(ann, (ann["hitter"] == P).to_numpy(), side),
                                                 **_expected(ann, (ann["opponent"] == P).to_numpy(), side)}
    assert anyone.n_receiver.sum() == (ann["opponent"] == P).sum()    # no one receives for "anyone"
    new = build_structure(st, RallySettings(player=O, opponent="Zed NEWCOMER"))
    assert new.strokes_used == 0 and new.n.sum() == 0 and new.rallies == 0
    # the newcomer hits as everyone but O hits
    rows = (ann["hitter"] != O).to_numpy()
    got = _by_name(new, new.n_hitter)
    exp = _expected(ann, rows, np.ones(len(ann), int))
    assert {k: v for k, v in got.items() if k[0].startswith("opponent")} == {
        k: v for k, v in exp.items() if k[:3] in {(new.labels[g], a, b) for g in range(new.size)
                                                  for a in new.rows[g] for b in new.columns[g]}}


def test_against_everyone_the_other_side_is_the_opponents_as_they_played_the_player(table):
    """With a match the player did not play (D against O) in the data, the opponents' side of the player
    against everyone still counts only the strokes hit against the player, not everyone else's."""
    d = "Dana QUIST"
    wider = pd.concat([table, renamed(pair_table(1, 4), P, d, "y")], ignore_index=True)
    ann = _annotated(wider)
    anyone = build_structure(strokes(wider, RallySettings()), RallySettings(player=P))
    side = np.where(ann["hitter"] == P, 0, 1)
    assert (ann["hitter"] == d).any()
    assert _by_name(anyone, anyone.n_hitter) == {**_expected(ann, (ann["hitter"] == P).to_numpy(), side),
                                                 **_expected(ann, (ann["opponent"] == P).to_numpy(), side)}


def test_a_pairing_of_one_match_resamples_rallies(st, ann):
    one = build_structure(st, RallySettings(player=P, opponent=C))
    assert one.cluster == "rally"
    game = ((ann["hitter"] == C) | (ann["opponent"] == C)).to_numpy()
    assert set(one.matches) == set(ann["rally_id"].astype(str))
    assert one.pair_matches.sum() == ann.loc[game, "rally_id"].nunique() == one.rallies
    per_rally = np.asarray(one.n.sum(axis=1)).ravel()
    expected = ann.loc[game].groupby(ann["rally_id"].astype(str)).size()
    assert dict(zip(one.matches, per_rally)) == {m: float(expected.get(m, 0)) for m in one.matches}


def test_states_are_every_situation_for_both_sides_in_order(pair, ann):
    """Serves, returns, rallies; the player's before the opponent's; the commonest situations first."""
    labels = ann["label"].unique()
    assert sorted(pair.labels) == sorted(f"{w}: {lab}" for w in ("player", "opponent") for lab in labels)
    n_all = ann["label"].value_counts()
    s = pair.states
    key = [(PHASE_RANK[p], w == "opponent", -n_all[d]) for p, w, d in zip(s["phase"], s["who"], s["decision_state"])]
    assert key == sorted(key)
    assert (s["state"] == s["who"] + ": " + s["decision_state"]).all()
    phase = ann.groupby("label")["phase"].first()
    assert (s["phase"].to_numpy() == phase[s["decision_state"]].to_numpy()).all()
    game = ann[ann["hitter"].isin([P, O]) & ann["opponent"].isin([P, O])]
    visits = game.groupby([np.where(game["hitter"] == P, "player", "opponent"), "label"]).size()
    for _, row in s.iterrows():
        assert row["visits"] == visits.get((row["who"], row["decision_state"]), 0)
    assert pair.size == len(s) == len(pair.rows) == len(pair.columns)


def test_rows_are_the_candidates_and_what_the_hitter_played(pair, st, ann):
    feas = feasibility(st)
    fr = feas.frame[feas.frame["feasible"]]
    cand = {(st.names["label"][l], st.names["action"][a]) for l, a in zip(fr["label"], fr["action"])}
    order = list(st.sport.shots)
    for g, (state, who, label) in enumerate(zip(pair.labels, pair.states["who"], pair.states["decision_state"])):
        hitter = P if who == "player" else O
        played = ann.loc[(ann["hitter"] == hitter) & (ann["label"] == label), "shot"].value_counts()
        expected = {a for (lab, a) in cand if lab == label} | set(played.index)
        assert set(pair.rows[g]) == expected
        assert list(pair.rows[g]) == sorted(expected, key=order.index)
        assert pair.candidate[g].tolist() == [(label, a) in cand for a in pair.rows[g]]
        assert pair.trusted[g].tolist() == [(label, a) in cand and played.get(a, 0) >= 5 for a in pair.rows[g]]
        flagged = {(a, n, why) for s_, a, n, why in pair.flagged if s_ == state}
        want = set()
        for a in pair.rows[g]:
            n = int(played.get(a, 0))
            if n and not ((label, a) in cand and n >= 5):
                want.add((a, n, "rarely or never played there by any player" if (label, a) not in cand else
                          "played fewer than 5 times there by this hitter"))
        assert flagged == want


def _expected_columns(structure, ann, min_share=0.02, min_count=10, pair=(P, O), fallbacks=None) -> list:
    """Per state: the zones all players stand in there at least ``min_count`` times and ``min_share`` of the
    time, with those of the pair's strokes; every zone seen there when that leaves none (those states are
    appended to ``fallbacks``)."""
    game = ann["hitter"].isin(pair) & ann["opponent"].isin(pair)
    out = []
    for label in structure.states["decision_state"]:
        zones = ann.loc[ann["label"] == label, "zone"].value_counts()
        common = {z for z, n in zones.items() if n >= min_count and n / zones.sum() >= min_share}
        mine = set(ann.loc[game & (ann["label"] == label), "zone"])
        expected = common | mine
        if not expected:
            expected = set(zones.index)
            if fallbacks is not None:
                fallbacks.append(label)
        out.append(tuple(z for z in ("front", "middle", "back") if z in expected))
    return out


def test_columns_are_the_common_zones_and_those_of_the_pairs_strokes(pair, ann):
    assert list(pair.columns) == _expected_columns(pair, ann)


def _zone_outside_the_pair(ann):
    """A (situation, zone) only the third player's match has, its count and its share of the situation."""
    game = ann["hitter"].isin([P, O]) & ann["opponent"].isin([P, O])
    for label, zones in ann.groupby("label")["zone"]:
        mine = set(ann.loc[game & (ann["label"] == label), "zone"])
        counts = zones.value_counts()
        for zone, n in counts.items():
            if zone not in mine and n < counts.sum():
                return label, zone, int(n), n / counts.sum()
    raise AssertionError("the table has no zone outside the pair's strokes")


def test_columns_under_other_thresholds_count_shares_within_the_situation_and_keep_both_bounds(st, ann):
    """Thresholds that make every branch matter: a zone the pair never faced, kept exactly at both bounds and
    dropped just above either; a rare zone with enough strokes dropped by its share; and no common zone at all,
    where a situation the pair never met keeps every zone seen there (P against C: one match, so some
    situations of the other two are not theirs)."""
    label, zone, n, share = _zone_outside_the_pair(ann)
    for min_share, min_count, kept in ((share, n, True), (np.nextafter(share, 1.0), n, False),
                                       (share, n + 1, False), (0.45, 1, None), (0.0, 10 ** 6, None)):
        structure = build_structure(st, RallySettings(player=P, opponent=O, min_share=min_share,
                                                      min_count=min_count))
        assert list(structure.columns) == _expected_columns(structure, ann, min_share, min_count)
        if kept is not None:
            g = list(structure.states["decision_state"]).index(label)
            assert (zone in structure.columns[g]) is kept
    fallbacks = []
    structure = build_structure(st, RallySettings(player=P, opponent=C, min_count=10 ** 6))
    assert list(structure.columns) == _expected_columns(structure, ann, 0.02, 10 ** 6, (P, C), fallbacks)
    assert fallbacks


def test_a_cell_can_end_or_go_on_as_its_shot_ever_went_on(pair, ann):
    """The outcomes of a cell: winning, losing, and every (situation, same hitter) seen after its shot."""
    after = ann.groupby("shot")["next"].agg(lambda s: {x for x in s if x not in ("WIN", "LOSE")})
    for c in range(len(pair.cell_state)):
        e = np.flatnonzero(pair.entry_cell == c)
        g = pair.cell_state[c]
        a = pair.rows[g][pair.cell_a[c]]
        got = [_relative(pair, k) for k in e]
        assert set(got) == {"WIN", "LOSE"} | after.get(a, set()) and len(got) == len(set(got))
        assert (pair.entry_kinds[e] == len(e)).all()
        assert (np.diff(pair.entry_outcome[e]) > 0).all()
    # cells: every state's rows × columns, row-major
    for g in range(pair.size):
        cells = np.flatnonzero(pair.cell_state == g)
        pairs = [(pair.cell_a[c], pair.cell_b[c]) for c in cells]
        assert pairs == [(i, j) for i in range(len(pair.rows[g])) for j in range(len(pair.columns[g]))]


def test_all_players_counts_at_every_level_follow_the_entries_parents(pair, ann):
    """Each game entry's all-players count at the cell level, and its parents' at the situation, incoming shot,
    incoming group and phase levels, are the strokes of everyone with that key, shot (zone) and outcome."""
    levels = pair.levels
    assert [lv.name for lv in levels] == ["phase", "incoming group", "incoming shot", "situation", "cell"]
    totals = [np.asarray(lv.counts.sum(axis=0)).ravel() for lv in levels]
    rally = (ann["phase"] == "rally").to_numpy()
    keys = {  # each stroke's key at every level, by name
        "phase": list(ann["phase"]),
        "incoming group": list(zip(ann["phase"], np.where(rally, ann["incoming_group"].astype(str), ""))),
        "incoming shot": list(zip(ann["phase"], np.where(rally, ann["incoming_shot"].astype(str),
                                                         ann["incoming"].astype(str)))),
        "situation": list(ann["label"]),
    }
    label_key = {name: dict(zip(ann["label"], k)) for name, k in keys.items()}
    counts = {name: Counter(zip(k, ann["shot"], ann["next"])) for name, k in keys.items()}
    cell = Counter(zip(ann["label"], ann["shot"], ann["zone"], ann["next"]))
    per_match = Counter(zip(ann["match_id"].astype(str), ann["label"], ann["shot"], ann["zone"], ann["next"]))
    cell_counts = levels[4].counts.toarray()
    g_of = pair.cell_state[pair.entry_cell]
    for e in range(len(pair.entry_cell)):
        c, g = pair.entry_cell[e], g_of[e]
        label, a, b = pair.states["decision_state"].iat[g], pair.rows[g][pair.cell_a[c]], pair.columns[g][pair.cell_b[c]]
        r = _relative(pair, e)
        idx = pair.entry_level[e]
        assert totals[4][idx] == cell[(label, a, b, r)]
        assert cell_counts[:, idx].tolist() == [per_match[(m, label, a, b, r)] for m in pair.matches]
        for k, name in ((3, "situation"), (2, "incoming shot"), (1, "incoming group"), (0, "phase")):
            idx = levels[k + 1].parent[idx]
            assert totals[k][idx] == counts[name][(label_key[name][label], a, r)], name
            assert levels[k].kinds[idx] == pair.entry_kinds[e]
            out = levels[k].outcome[idx]
            assert (out if out < 2 else 2) == min(pair.entry_outcome[e], 2)
        assert levels[0].parent[idx] == -1
    assert levels[4].kinds[pair.entry_level].tolist() == pair.entry_kinds.tolist()


def test_choice_counts_are_the_actions_and_zones_per_state(pair, ann):
    """Per match and state: the pairing's shots and zones (``game``), the side's hitter's against anyone
    (``hitter``), everyone's (``all``, the situation's strokes in both sides' states)."""
    game = (ann["hitter"].isin([P, O]) & ann["opponent"].isin([P, O])).to_numpy()
    side = np.where(ann["hitter"] == P, "player", "opponent")
    match = ann["match_id"].astype(str)
    selections = {"game": {w: game & (side == w) for w in ("player", "opponent")},
                  "hitter": {"player": (ann["hitter"] == P).to_numpy(), "opponent": (ann["hitter"] == O).to_numpy()},
                  "all": {w: np.ones(len(ann), bool) for w in ("player", "opponent")}}
    for kind, sel in selections.items():
        shots = {w: Counter(zip(match[s], ann["label"][s], ann["shot"][s])) for w, s in sel.items()}
        zones = {w: Counter(zip(match[s], ann["label"][s], ann["zone"][s])) for w, s in sel.items()}
        rows = pair.row_counts[kind].toarray()
        cols = pair.column_counts[kind].toarray()
        assert rows.shape == (3, pair.row_offsets[-1]) and cols.shape == (3, pair.column_offsets[-1])
        for g in range(pair.size):
            who, label = pair.states["who"].iat[g], pair.states["decision_state"].iat[g]
            for u, m in enumerate(pair.matches):
                r = rows[u, pair.row_offsets[g]:pair.row_offsets[g + 1]]
                z = cols[u, pair.column_offsets[g]:pair.column_offsets[g + 1]]
                assert r.tolist() == [shots[who][(m, label, a)] for a in pair.rows[g]]
                assert z.tolist() == [zones[who][(m, label, b)] for b in pair.columns[g]]


def test_the_population_game_counts_every_stroke_for_both_sides(st, ann):
    pop = build_structure(st, RallySettings())
    assert pop.population and pop.n_hitter is None and pop.n_receiver is None and pop.record_win is None
    assert pop.strokes_used == len(ann) and pop.game_matches == 3
    every = np.ones(len(ann), bool)
    got = _by_name(pop, pop.n)
    both = {}
    for side in (0, 1):
        for k, v in _expected(ann, every, np.full(len(ann), side)).items():
            if k[:3] in {(pop.labels[g], a, b) for g in range(pop.size) for a in pop.rows[g] for b in pop.columns[g]}:
                both[k] = v
    assert got == both
    assert (pop.states["visits"].to_numpy() == ann["label"].value_counts()[pop.states["decision_state"]].to_numpy()).all()
    for kind in ("game", "hitter"):
        assert (pop.row_counts[kind] != pop.row_counts["all"]).nnz == 0
        assert (pop.column_counts[kind] != pop.column_counts["all"]).nnz == 0


def test_the_record_win_is_the_ratings_probability(pair, st):
    from strategist.rally.model import ratings

    people = list(st.names["person"])
    assert pair.record_win == pytest.approx(ratings(st).win_probability(people.index(P), people.index(O)))
    assert 0.0 < pair.record_win < 1.0


@pytest.mark.parametrize("player, opponent, match", [
    (None, O, "needs a player"), (P, P, "two different players")])
def test_names_that_cannot_make_a_game_are_refused(st, player, opponent, match):
    with pytest.raises(EstimationError, match=match):
        build_structure(st, RallySettings(player=player, opponent=opponent))


@pytest.mark.parametrize("player, opponent, message", [
    ("Astrid NORDVIC", O, "player 'Astrid NORDVIC' hits no usable stroke in the data; did you mean "
                          "'Astrid NORDVIK'?"),
    ("Nobody At All", None, "player 'Nobody At All' hits no usable stroke in the data"),
    (P, "Hiro TAKEDO", "opponent 'Hiro TAKEDO' hits no usable stroke in the data; did you mean 'Hiro TAKEDA'?")])
def test_an_unknown_name_is_refused_naming_its_side_and_the_names_close_to_it(st, player, opponent, message):
    """A misspelt player or opponent: the message says which side, the name as given and the close names
    (none for a name close to nobody, whose message ends there); an opponent close to nobody is a newcomer."""
    with pytest.raises(EstimationError) as caught:
        build_structure(st, RallySettings(player=player, opponent=opponent))
    assert str(caught.value) == message


def test_at_most_three_close_names_are_offered():
    """Four players named Ann A … Ann D, equally close to 'Ann Q': it gets three of them, in difflib's order
    (equal scores: the later name first)."""
    four = pd.concat([renamed(renamed(pair_table(1, k), P, f"Ann {c}", c), O, f"Bo {c}", c)
                      for k, c in enumerate("ABCD")], ignore_index=True)
    with pytest.raises(EstimationError) as caught:
        build_structure(strokes(four, RallySettings()), RallySettings(player="Ann Q"))
    assert str(caught.value) == ("player 'Ann Q' hits no usable stroke in the data; did you mean 'Ann D', "
                                 "'Ann C', 'Ann B'?")


def test_the_structure_carries_what_it_was_built_from(table, st, pair):
    """The settings the strokes were read with (not the ones asked of the structure), the sport, the
    feasibility it chose candidates by, the actions' names, the strokes left out and the match spread."""
    coarse = strokes(table, RallySettings(states="group:tactic", zones=False, heights=False))
    built = build_structure(coarse, RallySettings(player=P, opponent=O))
    assert (built.settings.columns, built.settings.zones, built.settings.heights) == \
        (coarse.columns, False, False)
    assert (pair.settings.columns, pair.settings.zones, pair.settings.heights) == (st.columns, st.zones, st.heights)
    assert pair.sport is st.sport and pair.sport.name == "badminton"
    assert pair.action_names == tuple(st.names["action"])
    unknown = table.copy()
    unknown.loc[5, "shot"] = pd.NA                              # one stroke whose shot was not recorded
    st_unknown = strokes(unknown, RallySettings())
    with_dropped = build_structure(st_unknown, RallySettings(player=P, opponent=O))
    assert st_unknown.dropped and with_dropped.dropped == st_unknown.dropped
    assert with_dropped.dropped is not st_unknown.dropped
    pd.testing.assert_frame_equal(pair.feasibility.frame, feasibility(st, 0.02, 10).frame)
    strict = build_structure(st, RallySettings(player=P, opponent=O, min_share=0.05, min_count=3))
    assert (strict.feasibility.min_share, strict.feasibility.min_count) == (0.05, 3)
    pd.testing.assert_frame_equal(strict.feasibility.frame, feasibility(st, 0.05, 3).frame)
    assert type(pair.match_sd) is float and pair.match_sd == match_spread(st)
