"""Where a point starts: the serve states no stroke leads to (``RallyGame.openings``) — in tennis the deuce
court, then the ad court, never a second serve; badminton's one serve — and every value "from the serve" as
their mean weighted by how often each opened a point, the same on every page and command."""

from __future__ import annotations

import pytest

import strategist
from strategist.data.demo import demo_path
from strategist.data.states import annotate_states
from strategist.rally.game import rally_game
from strategist.rally.practice import practise

PAIR = ("Novak Djokovic", "Rafael Nadal")


@pytest.fixture(scope="module")
def tennis(shared_data):
    table = strategist.load_rallies(shared_data / "tennis_mcp" / "sample-points-5matches-2015.csv").table
    return table, rally_game(table, *PAIR)


def _first_strokes_by(table, server: str) -> set[str]:
    """The decision states the data's points of ``server`` start in (an independent reading of the data)."""
    ann = annotate_states(table)
    first = ann[(ann["stroke"] == 1) & (ann["hitter"] == server)]
    return set(first["state"].astype(str))


@pytest.mark.realdata
def test_tennis_points_open_in_the_deuce_and_ad_courts_on_a_first_serve(tennis):
    table, game = tennis
    labels = [game.labels[g] for g in game.openings("player")[0]]
    assert labels == ["player: serve (deuce, 1st serve)", "player: serve (ad, 1st serve)"]
    assert {label.split(": ", 1)[1] for label in labels} == _first_strokes_by(table, PAIR[0])
    assert [game.labels[g] for g in game.openings("opponent")[0]] == [
        "opponent: serve (deuce, 1st serve)", "opponent: serve (ad, 1st serve)"]


@pytest.mark.realdata
def test_a_practice_session_serves_from_each_court_in_turn(tennis):
    _, game = tennis
    report = practise(game, lambda state, actions, values: 0, rallies=6, seed=3)
    firsts = [rally["choices"][0][0] for rally in report.log]
    assert firsts == ["player: serve (deuce, 1st serve)", "player: serve (ad, 1st serve)"] * 3
    # 'from the serve' is the two courts' mean weighted by their visits: Match prep's number
    from strategist.advice.prep import rally_values
    from strategist.games.stochastic import evaluate_policies

    values = evaluate_policies(game.rewards, game.transitions, game.recommendation.row_strategies,
                               game.recommendation.column_strategies)
    rows = game.states.set_index("state")
    both = ["player: serve (deuce, 1st serve)", "player: serve (ad, 1st serve)"]
    visits = rows.loc[both, "visits"].to_numpy(float)
    by_hand = float(values[[game.index(b) for b in both]] @ visits / visits.sum())
    assert report.equilibrium_value == pytest.approx(by_hand, abs=1e-9)
    assert report.equilibrium_value == pytest.approx(rally_values(None, game)["serve"], abs=1e-12)


@pytest.mark.realdata
def test_alternate_serving_still_goes_round_each_sides_courts(tennis):
    """With ``start="alternate"`` the player serves the odd points, and its own serves still go deuce, ad,
    deuce, ad (the receiving points between them do not use up a court)."""
    _, game = tennis
    report = practise(game, lambda state, actions, values: 0, rallies=8, seed=5, start="alternate")
    firsts = [rally["choices"][0][0] for rally in report.log]
    assert [f.startswith("player: serve") for f in firsts] == [True, False] * 4
    assert firsts[::2] == ["player: serve (deuce, 1st serve)", "player: serve (ad, 1st serve)"] * 2


def test_badminton_has_one_opening_serve_per_side():
    table = strategist.load_rallies(demo_path()).table
    player, opponent = table["hitter"].iloc[0], table["opponent"].iloc[0]
    game = rally_game(table, player, opponent)
    assert [game.labels[g] for g in game.openings("player")[0]] == [game.serve_state("player")]
    assert [game.labels[g] for g in game.openings("opponent")[0]] == [game.serve_state("opponent")]


@pytest.mark.realdata
def test_a_simulation_from_the_serve_starts_in_each_court_by_its_share(tennis):
    """``play_out`` from a serve starts its rallies in the server's opening states in proportion to their
    visits; its exact value is then Match prep's (``rally_values``) to within one rally's share, and the
    simulated rate lies within its interval of it."""
    from strategist.advice.prep import rally_values
    from strategist.rally.playout import play_out

    _, game = tennis
    v = rally_values(None, game)
    rows = game.states.set_index("state")
    for start, who, key in (("serve", "player", "serve"), ("receive", "opponent", "return")):
        out = play_out(game, "equilibrium", "equilibrium", 40_000, seed=1, start=start)
        firsts = [f"{who}: serve (deuce, 1st serve)", f"{who}: serve (ad, 1st serve)"]
        assert list(out.starts) == firsts and out.starts[0] == out.start
        assert out.to_dict()["starts"] == firsts
        assert out.exact == pytest.approx(v[key], abs=1.0 / 40_000)
        assert out.ci_low <= out.exact <= out.ci_high
        shares = rows.loc[firsts, "visits"].to_numpy(float)
        assert shares[0] != shares[1]                       # the two courts' shares differ: weights matter
    one = play_out(game, "equilibrium", "observed", 1000, seed=1, start="player: serve (ad, 1st serve)")
    assert one.starts == ("player: serve (ad, 1st serve)",)


@pytest.mark.realdata
def test_the_rally_command_and_match_prep_give_one_value_of_serving(tennis, shared_data, capsys):
    """``strategist rally`` prints the same serving and receiving values as Match prep (``prep.rally_values``),
    both over the two courts."""
    from strategist.advice.prep import rally_values
    from strategist.cli.main import main

    _, game = tennis
    v = rally_values(None, game)
    assert main(["rally", "--data", str(shared_data / "tennis_mcp" / "sample-points-5matches-2015.csv"),
                 "--player", PAIR[0], "--opponent", PAIR[1]]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert (f"P serving wins {v['serve_observed']:.3f} as played, {v['serve']:.3f} as recommended; receiving "
            f"{v['return_observed']:.3f} and {v['return']:.3f} (first serves from both courts") in out
    assert (f"P alone as recommended (O keeping their habits): serving wins {v['serve_switch']:.3f}, receiving "
            f"{v['return_switch']:.3f}") in out
