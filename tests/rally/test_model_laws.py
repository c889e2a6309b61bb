"""The outcome laws of every cell against a reference written here in plain loops, from the formulas of
strategist.rally.model's docstring: all players' laws down the situation hierarchy, then the hitter's toward
them and the pairing's toward the hitter's, each in three parts (win now; lose now given no winner; where it
goes given it goes on), with given prior strengths capped at the trials behind each centre (+1), the logit
shifts of the hitters and receivers found by scipy's root finder; the evidence shares, the posterior
concentrations kept for the intervals, the level shift of the laws and the counts of resampled units."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize, special, stats

from strategist.errors import EstimationError
from strategist.estimation.shrinkage import STRENGTH_BOUNDS
from strategist.rally.model import (PEOPLE_PRIOR_CAP, RallySettings, build_structure, estimate, logit_offset,
                                    shift_laws, strokes, structure_counts)

from .pair import O, P, pair_table, renamed

C = "Cara LINDQVIST"


@pytest.fixture(scope="module")
def st():
    import pandas as pd

    table = pd.concat([pair_table(2, 1), renamed(pair_table(1, 2), O, C, "x"),
                       renamed(renamed(pair_table(1, 3), O, C, "y"), P, O, "z")], ignore_index=True)
    return strokes(table, RallySettings())


@pytest.fixture(scope="module")
def pair(st):
    return build_structure(st, RallySettings(player=P, opponent=O))


@pytest.fixture(scope="module")
def population(st):
    return build_structure(st, RallySettings())


def _clip(x):
    return min(max(x, 1e-9), 1 - 1e-9)


def _offset(hits, trials, centre):
    """δ with Σ hits = Σ trials·σ(logit c + δ), by Brent's method (0 without trials, ±4 at most)."""
    hits, trials, centre = (np.asarray(x, float) for x in (hits, trials, centre))
    if trials.sum() == 0:
        return 0.0
    base = special.logit(np.clip(centre, 1e-12, 1 - 1e-12))

    def gap(d):
        return hits.sum() - (trials * special.expit(base + d)).sum()

    if gap(-4.0) < 0:
        return -4.0
    if gap(4.0) > 0:
        return 4.0
    return optimize.brentq(gap, -4.0, 4.0, xtol=1e-13)


def _cell_law(n, c, out, s, dw=0.0, dl=0.0):
    """One cell's posterior mean in three parts: n, c the cell's counts and centre by entry, out its outcomes
    (0 win, 1 lose, >= 2 goes on), s the three parts' strengths, dw/dl the logit shifts of the W/L centres."""
    win, lose, moves = np.flatnonzero(out == 0)[0], np.flatnonzero(out == 1)[0], np.flatnonzero(out >= 2)
    total = n.sum()
    cw = _clip(special.expit(special.logit(_clip(c[win])) + dw))
    clr = _clip(special.expit(special.logit(_clip(c[lose] / max(1 - c[win], 1e-12))) + dl))
    w = (n[win] + s[0] * cw) / (total + s[0])
    # where the rally cannot go on, a stroke without a winner is an error
    lr = (n[lose] + s[1] * clr) / (total - n[win] + s[1]) if len(moves) else 1.0
    law = np.empty(len(n))
    law[win], law[lose] = w, (1 - w) * lr
    if len(moves):
        cm = c[moves] / max(1 - c[win] - c[lose], 1e-12)
        goes = (n[moves] + s[2] * cm) / max(total - n[win] - n[lose] + s[2], 1e-12)
        law[moves] = (1 - w) * (1 - lr) * goes
    own = np.array([total, total - n[win], total - n[win] - n[lose]], float)
    return law, own


def _parts_strength(strength, name):
    """The (W, L, C) strengths of level ``name``: one given number, or the estimate's strengths by name."""
    if isinstance(strength, dict):
        return np.array([float(np.ravel(strength[f"{name} {part}"])[0]) for part in "WLC"])
    return np.full(3, float(strength))


def _population_reference(structure, strength):
    """All players' laws at every level (each level's own entries), with each cell's (own trials, strengths)."""
    laws, parts, parent_law, parent_total = [], [], None, None
    for level in structure.levels:
        n = np.asarray(level.counts.sum(axis=0)).ravel()
        law = np.zeros(len(n))
        own = np.zeros((level.cell.max() + 1, 3))
        used = np.zeros((level.cell.max() + 1, 3))
        cell_total = np.bincount(level.cell, weights=n)
        for cell in range(level.cell.max() + 1):
            e = np.flatnonzero(level.cell == cell)
            if parent_law is None:
                law[e] = (n[e] + 1.0 / len(e)) / (n[e].sum() + 1.0)
                own[cell], used[cell] = n[e].sum() + 1.0, 0.0
                continue
            cap = parent_total[level.parent[e[0]]] + 1.0
            s = np.minimum(_parts_strength(strength, level.name), cap)
            law[e], own[cell] = _cell_law(n[e], parent_law[level.parent[e]], level.outcome[e], s)
            used[cell] = s
        laws.append(law)
        parts.append((own, used))
        parent_law, parent_total = law, cell_total[level.cell]
    return laws, parts


def _people_reference(structure, centre, counts, cap, strength, name="hitter"):
    """One people level on the game's entries: every side's logit shifts of the W and L parts (Brent), then
    every cell's law; returns (law, (δ_W, δ_L) per side, own trials and strengths per cell)."""
    cell, out = structure.entry_cell, structure.entry_outcome
    side = (structure.states["who"] == "opponent").to_numpy()[structure.cell_state].astype(int)
    cells = range(len(structure.cell_state))
    win = np.array([np.flatnonzero((cell == c) & (out == 0))[0] for c in cells])
    lose = np.array([np.flatnonzero((cell == c) & (out == 1))[0] for c in cells])
    total = np.bincount(cell, weights=counts, minlength=len(win))
    c_lr = centre[lose] / np.maximum(1 - centre[win], 1e-12)
    dw = [_offset(counts[win][side == k], total[side == k], np.clip(centre[win], 1e-9, 1 - 1e-9)[side == k])
          for k in (0, 1)]
    dl = [_offset(counts[lose][side == k], (total - counts[win])[side == k], np.clip(c_lr, 1e-9, 1 - 1e-9)[side == k])
          for k in (0, 1)]
    law = np.zeros(len(counts))
    own, used = np.zeros((len(win), 3)), np.zeros((len(win), 3))
    for c in cells:
        e = np.flatnonzero(cell == c)
        s = np.minimum(_parts_strength(strength, name), cap[c])
        law[e], own[c] = _cell_law(counts[e], centre[e], out[e], s, dw[side[c]], dl[side[c]])
        used[c] = s
    return law, (np.array(dw), np.array(dl)), own, used


def _receiver_reference(structure, centre, counts):
    cell, out = structure.entry_cell, structure.entry_outcome
    side = (structure.states["who"] == "opponent").to_numpy()[structure.cell_state].astype(int)
    law = centre.copy()
    total = np.bincount(cell, weights=counts, minlength=len(structure.cell_state))
    win = np.array([np.flatnonzero((cell == c) & (out == 0))[0] for c in range(len(total))])
    lose = np.array([np.flatnonzero((cell == c) & (out == 1))[0] for c in range(len(total))])
    c_lr = centre[lose] / np.maximum(1 - centre[win], 1e-12)
    dw = [_offset(counts[win][side == k], total[side == k], centre[win][side == k]) for k in (0, 1)]
    dl = [_offset(counts[lose][side == k], (total - counts[win])[side == k], c_lr[side == k]) for k in (0, 1)]
    for c in range(len(total)):
        e = np.flatnonzero(cell == c)
        w = special.expit(special.logit(_clip(centre[win[c]])) + dw[side[c]])
        moves = e[out[e] >= 2]
        lr = special.expit(special.logit(_clip(c_lr[c])) + dl[side[c]]) if len(moves) else 1.0
        law[win[c]], law[lose[c]] = w, (1 - w) * lr
        law[moves] = centre[moves] * (1 - w) * (1 - lr) / max(1 - centre[win[c]] - centre[lose[c]], 1e-12)
    return law, np.array(dw), np.array(dl)


def _pairing_reference(structure, counts, strength):
    """The pairing's laws: everyone's, shifted by the receivers, the hitters' toward them, the pairing's toward
    the hitters'; with the offsets and each people level's (own trials, strengths) per cell."""
    laws, _ = _population_reference(structure, strength)
    pop = _game_entries(structure, laws)[-1]
    cell = structure.entry_cell
    shifted, r_w, r_l = _receiver_reference(structure, pop, counts["receiver"])
    pop_total = np.bincount(cell, weights=_total(structure.levels[-1].counts)[structure.entry_level])
    p1, offsets, own1, s1 = _people_reference(structure, shifted, counts["hitter"], pop_total + 1.0, strength)
    hit_total = np.bincount(cell, weights=counts["hitter"])
    p2, _, own2, s2 = _people_reference(structure, p1, counts["game"], hit_total + 1.0, strength, "pairing")
    return p2, p1, (r_w, r_l), offsets, (own1, s1), (own2, s2)


def _game_entries(structure, level_laws):
    """Each level's law on the game's entries (following the parents up from the cell level)."""
    idx = structure.entry_level
    out = [None] * len(level_laws)
    for k in range(len(level_laws) - 1, -1, -1):
        out[k] = level_laws[k][idx]
        idx = structure.levels[k].parent[idx]
    return out


def _total(m):
    return np.asarray(m.sum(axis=0)).ravel()


def test_all_players_laws_come_down_the_hierarchy(population):
    strength = 6.0
    got = estimate(population, structure_counts(population), prior=strength, keep_chain=True)
    laws, parts = _population_reference(population, strength)
    on_game = _game_entries(population, laws)
    np.testing.assert_allclose(got.probability[0], on_game[-1], rtol=1e-9, atol=1e-12)
    assert [law.name for law in got.chain] == [lv.name for lv in population.levels]
    first = np.array([np.flatnonzero(population.entry_cell == c)[0] for c in range(len(population.cell_state))])
    idx = population.entry_level
    for k in range(len(laws) - 1, -1, -1):
        level = got.chain[k]
        np.testing.assert_allclose(level.law[0], on_game[k], rtol=1e-9, atol=1e-12)
        own, used = parts[k]
        level_cell = population.levels[k].cell[idx[first]]
        np.testing.assert_allclose(level.concentration[0], (own + used)[level_cell], rtol=1e-12)
        np.testing.assert_allclose(level.parent_weight[0], (used / (own + used))[level_cell], rtol=1e-12)
        idx = population.levels[k].parent[idx]
    assert set(got.strengths) == {f"{lv} {p}" for lv in ("incoming group", "incoming shot", "situation", "cell")
                                  for p in "WLC"}
    assert all(v.tolist() == [strength] for v in got.strengths.values())
    assert got.population_strength.tolist() == [strength] and np.isnan(got.pair_strength).all()
    assert (got.evidence[0] == [0.0, 0.0, 1.0]).all()
    for offset in (got.win_offset, got.lose_offset):          # no hitter, no shift: zero for both sides
        assert offset.tolist() == [[0.0, 0.0]]
    assert got.receiver_win_offset is None and got.receiver_lose_offset is None
    np.testing.assert_array_equal(got.counts[0], structure_counts(population)["game"])
    np.testing.assert_allclose(np.bincount(population.entry_cell, weights=got.probability[0]), 1.0)


@pytest.mark.parametrize("strength", [0.5, 3.0, 60.0])
def test_the_pairings_laws_shrink_toward_the_hitters_and_theirs_toward_everyones(pair, strength):
    counts = structure_counts(pair)
    got = estimate(pair, counts, prior=strength, keep_chain=True)
    p2, p1, (r_w, r_l), (d_w, d_l), (own1, s1), (own2, s2) = _pairing_reference(pair, counts, strength)
    cell = pair.entry_cell
    np.testing.assert_allclose(got.receiver_win_offset[0], r_w, atol=1e-7)
    np.testing.assert_allclose(got.receiver_lose_offset[0], r_l, atol=1e-7)
    np.testing.assert_allclose(got.win_offset[0], d_w, atol=1e-7)
    np.testing.assert_allclose(got.lose_offset[0], d_l, atol=1e-7)
    np.testing.assert_allclose(got.probability[0], p2, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(np.bincount(cell, weights=got.probability[0]), 1.0)
    np.testing.assert_array_equal(got.counts[0], counts["game"])
    # the evidence: the pairing's share of the winners' part, then the hitter's, then everyone's
    mine = own2[:, 0] / (own2[:, 0] + s2[:, 0])
    hers = own1[:, 0] / (own1[:, 0] + s1[:, 0])
    np.testing.assert_allclose(got.evidence[0], np.column_stack([mine, (1 - mine) * hers, (1 - mine) * (1 - hers)]),
                               rtol=1e-12)
    # the people levels kept for the intervals: the prior worth at most PEOPLE_PRIOR_CAP own strokes
    assert [level.name for level in got.chain] == [lv.name for lv in pair.levels] + ["hitter", "pairing"]
    hitter, pairing = got.chain[-2:]
    np.testing.assert_allclose(hitter.law[0], p1, rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(pairing.law[0], got.probability[0], rtol=1e-12)
    for level, own, s in ((hitter, own1, s1), (pairing, own2, s2)):
        prior = np.minimum(s, PEOPLE_PRIOR_CAP)
        np.testing.assert_allclose(level.concentration[0], own + prior, rtol=1e-12)
        np.testing.assert_allclose(level.parent_weight[0], prior / (own + prior), rtol=1e-12)
    assert (s1 > PEOPLE_PRIOR_CAP).any() == (strength > PEOPLE_PRIOR_CAP)
    assert {k: v.tolist() for k, v in got.strengths.items() if k.split()[0] in ("hitter", "pairing")} == {
        f"{who} {p}": [strength] for who in ("hitter", "pairing") for p in "WLC"}
    assert got.pair_strength.tolist() == [strength]


def test_replicates_are_estimated_each_on_their_own_counts(pair):
    rng = np.random.default_rng(4)
    weights = rng.poisson(1.0, size=(3, pair.n.shape[0])).astype(float)
    counts = structure_counts(pair, weights)
    dense = {k: pair_matrix.toarray() for k, pair_matrix in (("game", pair.n), ("hitter", pair.n_hitter),
                                                               ("receiver", pair.n_receiver))}
    for key, m in dense.items():
        np.testing.assert_allclose(counts[key], weights @ m)
    for k, level in enumerate(pair.levels):
        np.testing.assert_allclose(counts["levels"][k], weights @ level.counts.toarray())
    both = estimate(pair, counts, prior=5.0)
    for b in (0, 2):
        alone = estimate(pair, {k: (v[b] if not isinstance(v, list) else [x[b] for x in v]) for k, v in counts.items()},
                         prior=5.0)
        np.testing.assert_allclose(both.probability[b], alone.probability[0], rtol=1e-10)
        np.testing.assert_allclose(both.win_offset[b], alone.win_offset[0], rtol=1e-10)
    assert both.probability.shape == (3, len(pair.entry_cell)) and both.chain == ()


def test_without_a_receiver_or_hitter_count_the_game_counts_stand_in(pair):
    counts = structure_counts(pair)
    plain = estimate(pair, {**counts, "receiver": None, "hitter": None}, prior=5.0)
    same = estimate(pair, {**counts, "receiver": np.zeros_like(counts["game"]), "hitter": counts["game"]}, prior=5.0)
    np.testing.assert_allclose(plain.probability, same.probability, rtol=1e-12)
    assert (plain.receiver_win_offset == 0).all()


def test_the_fitted_strength_of_the_hitters_winners_is_the_beta_binomial_maximum(pair):
    """With the empirical-Bayes prior, the hitter level's W strength maximises the beta-binomial likelihood of
    the hitters' winners around everyone's (receiver- and hitter-shifted) rates, by scipy."""
    counts = structure_counts(pair)
    got = estimate(pair, counts, prior="marginal")
    free = estimate(pair, counts, prior="marginal", keep_chain=True)
    pop = free.chain[len(pair.levels) - 1].law[0]
    shifted, _, _ = _receiver_reference(pair, pop, counts["receiver"])
    cell, out = pair.entry_cell, pair.entry_outcome
    side = (pair.states["who"] == "opponent").to_numpy()[pair.cell_state].astype(int)
    win = np.array([np.flatnonzero((cell == c) & (out == 0))[0] for c in range(len(pair.cell_state))])
    trials = np.bincount(cell, weights=counts["hitter"])
    hits = counts["hitter"][win]
    centre = np.clip(shifted[win], 1e-9, 1 - 1e-9)
    d = [_offset(hits[side == k], trials[side == k], centre[side == k]) for k in (0, 1)]
    centre = np.clip(special.expit(special.logit(centre) + np.array(d)[side]), 1e-9, 1 - 1e-9)
    used = trials > 0

    def minus(log_s):
        s = np.exp(log_s)
        return -stats.betabinom.logpmf(hits[used], trials[used], s * centre[used], s * (1 - centre[used])).sum()

    res = optimize.minimize_scalar(minus, bounds=np.log(STRENGTH_BOUNDS), method="bounded", options={"xatol": 1e-8})
    best = min(res.fun, *(minus(x) for x in np.log(STRENGTH_BOUNDS)))        # the maximum may sit at a bound
    # the maximum's height, not its place: here it lies at the upper bound, and the likelihood is so flat below
    # it that scipy's bounded search stops 0.01-0.02 short of it in log s (a step of 0.1 costs 5e-6)
    assert minus(np.log(got.strengths["hitter W"][0])) <= best + 1e-6
    # the method of moments: the spread of the rates around the centres beyond binomial noise, ρ = 1/(1 + s)
    moments = estimate(pair, counts, prior="moments")
    rate = hits[used] / trials[used]
    var = centre[used] * (1 - centre[used])
    rho = ((rate - centre[used]) ** 2 - var / trials[used]).sum() / (var * (trials[used] - 1) / trials[used]).sum()
    expected = 1 / rho - 1 if rho > 0 else STRENGTH_BOUNDS[1]
    assert moments.strengths["hitter W"][0] == pytest.approx(np.clip(expected, *STRENGTH_BOUNDS), rel=1e-9)
    assert got.strengths["situation W"][0] == free.strengths["situation W"][0]


def test_the_level_shift_moves_winners_and_errors_and_keeps_where_the_rally_goes(pair):
    law = estimate(pair, structure_counts(pair), prior=5.0).probability[0]
    delta = 0.4
    got = shift_laws(pair, law, delta)
    assert got.shape == law.shape
    cell, out = pair.entry_cell, pair.entry_outcome
    for c in range(len(pair.cell_state)):
        e = np.flatnonzero(cell == c)
        sign = 1.0 if pair.states["who"].iat[pair.cell_state[c]] == "player" else -1.0
        w, lose = law[e][out[e] == 0][0], law[e][out[e] == 1][0]
        w2 = special.expit(special.logit(w) + sign * delta)
        lr2 = special.expit(special.logit(lose / (1 - w)) - sign * delta) if (out[e] >= 2).any() else 1.0
        assert got[e][out[e] == 0][0] == pytest.approx(w2, rel=1e-9, abs=1e-8)
        assert got[e][out[e] == 1][0] == pytest.approx((1 - w2) * lr2, rel=1e-9, abs=1e-8)
        moves = out[e] >= 2
        np.testing.assert_allclose(got[e][moves], law[e][moves] * (1 - w2) * (1 - lr2) / (1 - w - lose), rtol=1e-9,
                                   atol=1e-8)
    np.testing.assert_allclose(np.bincount(cell, weights=got), 1.0)
    np.testing.assert_allclose(shift_laws(pair, law, 0.0), law, rtol=1e-12, atol=1e-8)
    two = shift_laws(pair, np.stack([law, law]), -delta)
    assert two.shape == (2, len(law))
    np.testing.assert_allclose(two[1], shift_laws(pair, law, -delta), rtol=1e-12)


def test_logit_offsets_solve_each_sides_equation():
    rng = np.random.default_rng(2)
    trials = rng.integers(0, 40, size=(2, 30)).astype(float)
    centre = rng.uniform(0.05, 0.6, size=(2, 30))
    hits = rng.binomial(trials.astype(int), np.clip(centre * 1.4, 0, 1)).astype(float)
    side = np.arange(30) % 2
    got = logit_offset(hits, trials, centre, side)
    assert got.shape == (2, 2)
    for b in range(2):
        for k in range(2):
            assert got[b, k] == pytest.approx(_offset(hits[b, side == k], trials[b, side == k],
                                                      centre[b, side == k]), abs=1e-8)
    # a side that always wins runs to the bound; one without trials keeps 0
    assert logit_offset(np.array([5.0, 0.0]), np.array([5.0, 0.0]), np.array([0.5, 0.5]), np.array([0, 1])
                        ).tolist() == [[4.0, 0.0]]
    assert logit_offset(np.array([0.0]), np.array([9.0]), np.array([0.5]), np.array([0]), bound=2.5)[0, 0] == -2.5
    # centres of exactly 0 (1) that the side's hits contradict: read as 1e-12 from certainty, they pull the
    # shift to the bound; whole-number counts and centres give the same shifts as floats
    got = logit_offset(np.array([[2, 3]]), np.array([[10, 5]]), np.array([[0, 1]]), np.array([0, 1]))
    assert got.tolist() == [[4.0, -4.0]]
    mixed = logit_offset(np.array([2.0, 7.0]), np.array([10.0, 10.0]), np.array([0.0, 0.5]), np.array([0, 0]))
    assert mixed[0, 0] == pytest.approx(_offset([2.0, 7.0], [10.0, 10.0], [1e-12, 0.5]), abs=1e-9)


def test_an_unknown_level_is_refused(pair):
    from strategist.rally.model import _level_index

    assert (_level_index(pair, "cell") == pair.entry_level).all()
    np.testing.assert_array_equal(_level_index(pair, "situation"), pair.levels[-1].parent[pair.entry_level])
    with pytest.raises(EstimationError, match="no level"):
        _level_index(pair, "stroke")


def test_a_certain_winner_or_error_is_shifted_as_one_a_billion_times_less_certain(pair):
    """A law that makes a winner (or an error) certain or impossible is shifted as if it were 1e-9 away from
    certainty: the shift then moves it by the odds factor e^±Δ instead of leaving it at 0 or 1."""
    law = estimate(pair, structure_counts(pair), prior=5.0).probability[0].copy()
    cell, out = pair.entry_cell, pair.entry_outcome
    player = np.flatnonzero(pair.states["who"].to_numpy()[pair.cell_state] == "player")
    extremes = [(0.0, 0.3), (1.0, 0.0), (0.2, 0.8), (0.4, 0.0)]        # (win, lose) of four player's cells
    for c, (w, lose) in zip(player, extremes):
        e = np.flatnonzero(cell == c)
        moves = out[e] >= 2
        law[e[out[e] == 0]], law[e[out[e] == 1]] = w, lose
        law[e[moves]] = (1 - w - lose) / moves.sum()
    delta = 0.5
    got = shift_laws(pair, law, delta)
    floor = 1e-9
    for c, (w, lose) in zip(player, extremes):
        e = np.flatnonzero(cell == c)
        lr = lose / max(1 - w, 1e-12)
        w_odds = np.clip(w, floor, 1 - floor) / (1 - np.clip(w, floor, 1 - floor)) * np.exp(delta)
        lr_odds = np.clip(lr, floor, 1 - floor) / (1 - np.clip(lr, floor, 1 - floor)) * np.exp(-delta)
        w2, lr2 = w_odds / (1 + w_odds), lr_odds / (1 + lr_odds)
        got_w, got_l = got[e[out[e] == 0]][0], got[e[out[e] == 1]][0]
        assert got_w == pytest.approx(w2, rel=1e-6) and 1 - got_w == pytest.approx(1 - w2, rel=1e-6)
        assert got_l == pytest.approx((1 - w2) * lr2, rel=1e-6)
        assert (1 - w2) - got_l == pytest.approx((1 - w2) * (1 - lr2), rel=1e-6)


def test_the_receivers_shift_of_a_certain_or_impossible_winner_or_error(pair):
    """All players' laws with winners or errors certain or impossible in some cells: the receiver's shift moves
    them as if they were 1e-9 away from certainty (the reference's clip), every cell's law still summing to 1."""
    from strategist.rally.model import _parts, _receiver_shift

    counts = structure_counts(pair)
    law = estimate(pair, counts, prior=5.0).probability[0].copy()
    cell, out = pair.entry_cell, pair.entry_outcome
    extremes = [(0.0, 0.3), (1.0, 0.0), (0.2, 0.8), (0.4, 0.0)]
    for who in ("player", "opponent"):
        chosen = np.flatnonzero(pair.states["who"].to_numpy()[pair.cell_state] == who)[:4]
        for c, (w, lose) in zip(chosen, extremes):
            e = np.flatnonzero(cell == c)
            moves = out[e] >= 2
            law[e[out[e] == 0]], law[e[out[e] == 1]] = w, lose
            law[e[moves]] = (1 - w - lose) / moves.sum()
    side = (pair.states["who"] == "opponent").to_numpy().astype(np.int64)[pair.cell_state]
    got, d_w, d_l = _receiver_shift(np.atleast_2d(counts["receiver"]), law[None, :], _parts(cell, out), side)
    expected, r_w, r_l = _receiver_reference(pair, law, counts["receiver"])
    np.testing.assert_allclose(d_w[0], r_w, atol=1e-7)
    np.testing.assert_allclose(d_l[0], r_l, atol=1e-7)
    np.testing.assert_allclose(got[0], expected, rtol=1e-6, atol=1e-15)
    np.testing.assert_allclose(1 - got[0], 1 - expected, rtol=1e-6, atol=1e-15)
    np.testing.assert_allclose(np.bincount(cell, weights=got[0]), 1.0)
    # what neither winner nor error takes: (1 − W)(1 − L), however close to 0
    win, lose = out == 0, out == 1
    left = 1 - np.bincount(cell[win], weights=got[0][win], minlength=len(pair.cell_state)) \
        - np.bincount(cell[lose], weights=got[0][lose], minlength=len(pair.cell_state))
    ref_left = 1 - np.bincount(cell[win], weights=expected[win], minlength=len(pair.cell_state)) \
        - np.bincount(cell[lose], weights=expected[lose], minlength=len(pair.cell_state))
    np.testing.assert_allclose(left, ref_left, rtol=1e-6, atol=1e-15)


def test_a_part_whose_centre_is_certain_keeps_a_trace_of_the_other_outcome():
    """One two-outcome part, given strength 5 (cap 100): a centre of exactly 0 or 1, and a centre the side's
    shift pushes beyond 1e-9 of certainty, are read as 1e-9 from it, so a part never seen keeps a posterior
    mean of 5·1e-9/(N + 5) away from certainty, as the hand formula says."""
    from strategist.estimation.shrinkage import parse_prior
    from strategist.rally.model import _beta_part

    hits = np.array([[0.0, 0.0, 10.0, 10.0]])
    trials = np.array([[10.0, 10.0, 10.0, 10.0]])
    centre = np.array([[0.0, 0.5, 1.0, 0.5]])
    side = np.array([0, 0, 1, 1])
    cap = np.full((1, 4), 100.0)
    spec = parse_prior(5.0)
    floor = 1e-9
    mean, s, delta, cell_s = _beta_part(hits, trials, centre, spec, cap)
    clipped = np.clip(centre, floor, 1 - floor)
    np.testing.assert_allclose(mean, (hits + 5 * clipped) / (trials + 5), rtol=1e-9)
    np.testing.assert_allclose(1 - mean, 1 - (hits + 5 * clipped) / (trials + 5), rtol=1e-6)
    assert s.tolist() == [5.0] and cell_s.tolist() == [[5.0] * 4] and (delta == 0).all()
    # with the sides' shifts: side 0 never wins (δ → −4), side 1 always does (δ → +4)
    mean, s, delta, _ = _beta_part(hits, trials, centre, spec, cap, side)
    assert delta[0].tolist() == [-4.0, 4.0]
    shifted = np.clip(special.expit(special.logit(clipped) + delta[0][side]), floor, 1 - floor)
    assert shifted[0, 0] == floor and shifted[0, 2] == 1 - floor
    np.testing.assert_allclose(mean, (hits + 5 * shifted) / (trials + 5), rtol=1e-9)
    np.testing.assert_allclose(1 - mean, 1 - (hits + 5 * shifted) / (trials + 5), rtol=1e-6)
    # a cap below the strength takes its place, cell by cell
    mean, _, _, cell_s = _beta_part(hits, trials, centre, spec, np.array([[1.0, 100.0, 2.0, 100.0]]))
    assert cell_s.tolist() == [[1.0, 5.0, 2.0, 5.0]]
    np.testing.assert_allclose(mean, (hits + cell_s * clipped) / (trials + cell_s), rtol=1e-9)


def test_a_pairing_that_never_met_plays_as_its_hitters(st):
    """No stroke of the pairing: its fitted strengths are the upper bound (nothing to fit) and its laws are the
    hitters' laws, all of each cell's evidence resting on the hitters and everyone."""
    new = build_structure(st, RallySettings(player=P, opponent="Zed NEWCOMER"))
    got = estimate(new, structure_counts(new), prior="marginal", keep_chain=True)
    for part in "WLC":
        assert got.strengths[f"pairing {part}"].tolist() == [STRENGTH_BOUNDS[1]]
    np.testing.assert_allclose(got.probability[0], got.chain[-2].law[0], rtol=1e-9, atol=1e-12)
    assert (got.evidence[0][:, 0] == 0).all()
    np.testing.assert_allclose(got.evidence[0].sum(axis=1), 1.0)


def test_a_second_serve_is_a_way_the_rally_goes_on():
    """A hand-made table where the player serves twice in a rally: the serve's cells can go on into the
    player's own serve state, and every cell's law, that outcome included, sums to 1."""
    from .test_model_strokes import BASE, _table

    table = _table(*BASE)
    settings = RallySettings(player="A", opponent="B", min_count=1, min_share=0.0, min_action_count=1)
    structure = build_structure(strokes(table, settings), settings)
    serve = structure.labels.index("player: serve")
    again = (structure.entry_outcome == 2 + serve) & (structure.cell_state[structure.entry_cell] == serve)
    assert serve == 0 and again.any()
    from strategist.rally.model import _parts, _receiver_shift

    cell, out = structure.entry_cell, structure.entry_outcome
    ends = np.array([not (out[cell == c] >= 2).any() for c in range(len(structure.cell_state))])
    assert ends.any()                                   # the last shots of the rallies never went on
    counts = structure_counts(structure)
    for prior in (2.0, "marginal"):
        got = estimate(structure, counts, prior=prior)
        np.testing.assert_allclose(np.bincount(cell, weights=got.probability[0]), 1.0)
        assert (got.probability[0][again] > 0).all() and (got.probability[0] >= 0).all()
        # shifted by a level, or by each side's receiver, a cell that cannot go on still ends for sure
        for delta in (0.7, -0.7):
            shifted = shift_laws(structure, got.probability[0], delta)
            np.testing.assert_allclose(np.bincount(cell, weights=shifted), 1.0)
            np.testing.assert_allclose(np.bincount(cell, weights=shifted)[ends], 1.0, rtol=1e-12)
        side = (structure.states["who"] == "opponent").to_numpy().astype(np.int64)[structure.cell_state]
        receiver = np.where(out >= 2, 5.0, np.where(out == 0, 1.0, 0.0))[None, :]   # receivers never forced errors
        moved, d_w, d_l = _receiver_shift(receiver, got.probability, _parts(cell, out), side)
        assert d_l.tolist() == [[-4.0, -4.0]]
        np.testing.assert_allclose(np.bincount(cell, weights=moved[0]), 1.0)
        np.testing.assert_allclose(np.bincount(cell, weights=moved[0])[ends], 1.0, rtol=1e-12)


def test_a_cell_without_own_strokes_rests_wholly_on_its_prior(pair):
    """With the fitted (often weak) strengths, a part with no own trials at the hitter or pairing level has all
    its weight on the level above (parent weight exactly 1), one with trials less; the intervals' concentration
    is then the prior alone."""
    got = estimate(pair, structure_counts(pair), prior="marginal", keep_chain=True)
    for level in got.chain[-2:]:
        own = level.concentration[0] * (1 - level.parent_weight[0])
        none = own < 1e-9
        assert none.any() and (~none).any()
        assert (level.parent_weight[0][none] == 1.0).all()
        assert (level.parent_weight[0][~none] < 1.0).all()
        assert (level.concentration[0] <= own + PEOPLE_PRIOR_CAP + 1e-9).all()


def test_with_the_fitted_strengths_the_laws_are_the_three_part_posterior_means(pair):
    """Empirical-Bayes strengths: given them, every level's laws are the reference's; the hitters' C strength
    maximises scipy's Dirichlet–multinomial likelihood of where the hitters' rallies went around everyone's
    (shifted) laws."""
    counts = structure_counts(pair)
    got = estimate(pair, counts, prior="marginal")
    strengths = {k: v[0] for k, v in got.strengths.items()}
    p2, p1, _, (d_w, d_l), _, _ = _pairing_reference(pair, counts, strengths)
    np.testing.assert_allclose(got.probability[0], p2, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(got.win_offset[0], d_w, atol=1e-7)
    # the hitters' C strength
    laws, _ = _population_reference(pair, strengths)
    shifted, _, _ = _receiver_reference(pair, _game_entries(pair, laws)[-1], counts["receiver"])
    cell, out = pair.entry_cell, pair.entry_outcome
    n = counts["hitter"]
    groups = []
    for c in range(len(pair.cell_state)):
        e = np.flatnonzero(cell == c)
        moves = e[out[e] >= 2]
        if len(moves) and n[moves].sum() > 0:
            groups.append((n[moves], shifted[moves] / shifted[moves].sum()))

    def minus(log_s):
        s = np.exp(log_s)
        return -sum(stats.dirichlet_multinomial.logpmf(k, s * np.clip(m, 1e-12, None), int(k.sum())) for k, m in groups)

    res = optimize.minimize_scalar(minus, bounds=np.log(STRENGTH_BOUNDS), method="bounded", options={"xatol": 1e-8})
    # (the likelihood is flat near complete pooling: compare its values, not the arguments)
    assert minus(np.log(strengths["hitter C"])) <= res.fun + 1e-6


def test_the_settings_prior_is_the_default_and_whole_number_counts_are_counts():
    from .test_model_strokes import BASE, _table

    table = _table(*BASE)
    settings = RallySettings(player="A", opponent="B", min_count=1, min_share=0.0, prior="4")
    structure = build_structure(strokes(table, settings), settings)
    counts = structure_counts(structure)
    default = estimate(structure, counts)
    assert all(v.tolist() == [4.0] for v in default.strengths.values())
    np.testing.assert_allclose(default.probability, estimate(structure, counts, prior=4.0).probability, rtol=1e-12)
    whole = {k: (None if v is None else [x.astype(int) for x in v] if isinstance(v, list) else v.astype(int))
             for k, v in counts.items()}
    got = estimate(structure, whole)
    assert got.counts.dtype == np.float64
    np.testing.assert_allclose(got.probability, default.probability, rtol=1e-12)


def test_a_shot_that_only_ever_led_to_a_second_serve_can_still_go_on():
    """A long service always followed by the server's second serve: its only way on leads to the player's
    serve state (the game's first state), and the laws keep that way on, as the reference does."""
    from .test_model_strokes import BASE, _rally, _table

    table = _table(*BASE, _rally("m3", "m3|1", [("long service", "A"), ("short service", "A"), ("net shot", "B"),
                                                ("lob", "A")], "A"))
    settings = RallySettings(player="A", opponent="B", min_count=1, min_share=0.0, min_action_count=1)
    structure = build_structure(strokes(table, settings), settings)
    g = structure.labels.index("player: serve")
    a = structure.rows[g].index("long service")
    cells = np.flatnonzero((structure.cell_state == g) & (structure.cell_a == a))
    goes_on = [structure.entry_outcome[structure.entry_cell == c] for c in cells]
    assert g == 0 and all(set(o) == {0, 1, 2} for o in goes_on)
    counts = structure_counts(structure)
    for prior in (2.0, "marginal"):
        got = estimate(structure, counts, prior=prior)
        strength = prior if prior == 2.0 else {k: v[0] for k, v in got.strengths.items()}
        p2 = _pairing_reference(structure, counts, strength)[0]
        np.testing.assert_allclose(got.probability[0], p2, rtol=1e-6, atol=1e-12)
        assert (got.probability[0][np.isin(structure.entry_cell, cells) & (structure.entry_outcome == 2)] > 0).all()
