"""The parts of the rally game's estimate, each against an independent reference: candidate shots against a
count by hand, the Bradley–Terry ratings against a general optimizer, the pair's level against the rally
record, the posterior variance of a cell against Monte Carlo draws, the evidence shares."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from strategist.rally.game import cell_variance, rally_game
from strategist.rally.model import (Estimate, LawLevel, RallySettings, build_structure, feasibility, ratings,
                                    rally_record, strokes)
from strategist.rally.strength import choose_precision, fit_ratings

from .pair import O, P, pair_table


@pytest.fixture(scope="module")
def table():
    return pair_table(6, 5)


def _situation_table(counts: dict, incoming: str = "lob") -> pd.DataFrame:
    """Rallies of two strokes: a serve by A, then ``incoming`` by B, then B's opponent A's reply ``shot`` —
    ``counts[shot]`` rallies each — the reply ending the rally (won by A half the time)."""
    rows = []
    k = 0
    for shot, n in counts.items():
        for _ in range(n):
            k += 1
            rid = f"m{k % 3}|1|{k}"
            for stroke, (s, h, o) in enumerate((("short service", "A", "B"), (incoming, "B", "A"), (shot, "A", "B")), 1):
                rows.append({"sport": "badminton", "match_id": f"m{k % 3}", "rally_id": rid, "stroke": stroke,
                             "hitter": h, "opponent": o, "shot": s, "landing_area": "9", "landing_height": "high",
                             "opponent_area": "8", "winner": "A" if k % 2 else "B"})
    frame = pd.DataFrame(rows)
    frame["hitter_won"] = frame["winner"] == frame["hitter"]
    return frame


def test_candidates_need_a_meaningful_share_and_count():
    """After a lob taken high at the back (400 strokes), a shot played 3 times (0.75 %) is no candidate, one
    played 12 times (3 %) is, one played 385 times is; min_count raises the bar."""
    table = _situation_table({"clear": 385, "smash": 12, "drop": 3})
    st = strokes(table, RallySettings())
    label = list(st.names["label"]).index("rally after lob (high, back)")
    f = feasibility(st)
    rows = f.frame[f.frame["label"] == label].set_index("action")
    names = dict(enumerate(st.names["action"]))
    verdict = {names[a]: bool(ok) for a, ok in rows["feasible"].items()}
    assert verdict == {"clear": True, "smash": True, "drop": False}
    counts = {names[a]: int(n) for a, n in rows["count"].items()}
    assert counts == {"clear": 385, "smash": 12, "drop": 3}
    strict = feasibility(st, min_share=0.02, min_count=20)
    assert not strict.frame.loc[(strict.frame["label"] == label) & (strict.frame["action"] ==
                                                                    list(names.values()).index("smash")), "feasible"].any()


def test_ratings_are_the_maximum_a_posteriori_of_a_general_optimizer():
    rng = np.random.default_rng(0)
    theta = rng.normal(0, 0.5, 6)
    a, b = rng.integers(0, 6, 3000), rng.integers(0, 6, 3000)
    keep = a != b
    a, b = a[keep], b[keep]
    a_won = rng.random(len(a)) < 1 / (1 + np.exp(-(theta[a] - theta[b])))
    winners, losers = np.where(a_won, a, b), np.where(a_won, b, a)

    def objective(t):
        return np.logaddexp(0.0, -(t[winners] - t[losers])).sum() + 3.0 * t @ t / 2

    reference = optimize.minimize(objective, np.zeros(6), method="BFGS", options={"gtol": 1e-10}).x
    np.testing.assert_allclose(fit_ratings(winners, losers, 6, 3.0).theta, reference, atol=1e-5)
    assert fit_ratings(winners, losers, 6, 3.0).win_probability(0, -1) == pytest.approx(
        1 / (1 + np.exp(-reference[0])), abs=1e-5)

def test_the_ratings_prior_is_chosen_by_held_out_matches():
    """Players of clearly different strength (ratings sd 1) keep a weak prior; players alike (all 0) get a
    strong one."""
    rng = np.random.default_rng(3)

    def record(theta, rallies=4000):
        a, b = rng.integers(0, len(theta), rallies), rng.integers(0, len(theta), rallies)
        keep = a != b
        a, b = a[keep], b[keep]
        won = rng.random(len(a)) < 1 / (1 + np.exp(-(theta[a] - theta[b])))
        return np.where(won, a, b), np.where(won, b, a), np.arange(len(a)) // 80

    spread = rng.normal(0, 1.0, 12)
    assert choose_precision(*record(spread), 12) <= 3.0
    assert choose_precision(*record(np.zeros(12)), 12) >= 30.0


def test_the_pairs_level_is_its_rally_record(table):
    """The mean of the two serve states' values as both play now equals the Bradley–Terry probability that
    the player wins a rally against the opponent."""
    game = rally_game(table, P, O)
    st = strokes(table, RallySettings())
    people = list(st.names["person"])
    expected = ratings(st).win_probability(people.index(P), people.index(O))
    serves = game.states[game.states["phase"] == "serve"]
    visits = serves["visits"].to_numpy(float) + 1
    values = game.observed_values[serves.index]
    mean = np.mean([np.average(values[(serves["who"] == w).to_numpy()], weights=visits[(serves["who"] == w).to_numpy()])
                    for w in ("player", "opponent")])
    assert mean == pytest.approx(expected, abs=1e-5)
    winners, losers, _ = rally_record(st)
    assert len(winners) == table["rally_id"].nunique()


def test_cell_variance_is_the_delta_method_of_independent_parts():
    """One level, parts W ~ Beta, L ~ Beta, C ~ Dirichlet with the level's concentrations: the variance of
    Q = W·u_win + (1 − W)(L·u_lose + (1 − L)·C·u) computed by cell_variance matches Monte Carlo draws."""
    table = _situation_table({"clear": 60, "smash": 40})
    game = rally_game(table, "A", "B", min_action_count=1)
    st = game.structure
    rng = np.random.default_rng(1)
    law = game.estimate.probability
    conc = np.full((1, len(st.cell_state), 3), 400.0)
    one = Estimate(law, {}, np.zeros((1, 2)), np.zeros((1, 2)), law, np.zeros((1, len(st.cell_state), 3)),
                   (LawLevel("only", law, conc, np.zeros_like(conc)),))
    values = game.observed_values
    var = cell_variance(st, one, values)
    from strategist.rally.game import _entry_values

    u = _entry_values(st, values)
    p = law[0]
    for c in range(len(st.cell_state)):
        e = np.flatnonzero(st.entry_cell == c)
        out = st.entry_outcome[e]
        w, lose = p[e][out == 0][0], p[e][out == 1][0]
        lr = lose / (1 - w)
        moves = out >= 2
        cm = p[e][moves] / p[e][moves].sum()
        draws_w = rng.beta(w * 400, (1 - w) * 400, 20000)
        # a cell where the rally cannot go on: without a winner an error is certain (L = 1, no spread)
        draws_l = rng.beta(lr * 400, (1 - lr) * 400, 20000) if lr < 1 else np.ones(20000)
        if moves.sum() > 1:
            goes_on = rng.dirichlet(np.maximum(cm * 400, 1e-6), 20000) @ u[e][moves]
        else:
            goes_on = np.full(20000, u[e][moves][0] if moves.any() else 0.0)
        q = draws_w * u[e][out == 0][0] + (1 - draws_w) * (draws_l * u[e][out == 1][0] + (1 - draws_l) * goes_on)
        assert var[c] == pytest.approx(q.var(), rel=0.1, abs=1e-7)


def test_evidence_shares_sum_to_one_and_a_new_pairing_has_none(table):
    game = rally_game(table, P, O)
    ev = game.estimate.evidence[0]
    np.testing.assert_allclose(ev.sum(axis=1), 1.0)
    assert (ev >= -1e-12).all()
    new = rally_game(table, P, "Zed NEWCOMER")
    assert np.allclose(new.estimate.evidence[0][:, 0], 0.0)
    structure = build_structure(strokes(table, RallySettings()), RallySettings(player=P, opponent="Zed NEWCOMER"))
    assert structure.strokes_used == 0


@pytest.mark.parametrize("value_at, target", [
    (np.tanh, 0.3), (lambda d: d ** 3, -0.5), (lambda d: 1.0 / (1.0 + np.exp(-5.0 * d)), 0.999),
    (lambda d: np.sign(d) * abs(d) ** 0.2, 0.9), (lambda d: 0.5 + 0.1 * d, 0.5)],
    ids=["tanh", "cubic", "steep-logistic", "root-at-a-kink", "linear"])
def test_the_level_shift_finds_the_root_scipy_finds(value_at, target):
    """Against scipy's Brent method to 1e-12: within the 1e-6 asked, bracketing from ±2, in few evaluations."""
    from strategist.rally.strength import level_shift

    calls = []
    got = level_shift(lambda d: calls.append(d) or value_at(d), target)
    reference = optimize.brentq(lambda d: value_at(d) - target, -2.0, 2.0, xtol=1e-12)
    assert got == pytest.approx(reference, abs=1e-6)
    assert all(-2.0 <= d <= 2.0 for d in calls) and len(calls) <= 25


def test_a_level_out_of_reach_takes_the_nearer_end():
    from strategist.rally.strength import level_shift

    assert level_shift(np.tanh, 0.99) == 2.0              # tanh(2) = 0.964 < 0.99
    assert level_shift(np.tanh, -0.99) == -2.0
    assert level_shift(lambda d: d, 3.0, bound=1.5) == 1.5
