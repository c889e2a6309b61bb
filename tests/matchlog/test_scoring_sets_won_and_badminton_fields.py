"""Sets counted as they are won (a second set won is two, not one), a badminton score's tennis-only fields at
their fixed values, and tennis calls of a count past 40 before deuce; scored by hand."""

from strategist.matchlog.scoring import replay, tennis_call

A, B = "Ann", "Bea"


def test_a_badminton_score_has_no_games_no_tiebreak_and_one_game_per_set():
    """Rally-point scoring has no games within a set: every score before a rally (and after the last) says
    games (0, 0), no tiebreak, game 1, across a set won and into the next."""
    winners = [A] * 21 + [B, A, B, B]
    scores = replay("badminton", winners, B, A, B)
    assert len(scores) == len(winners) + 1
    assert scores[21].set_no == 2 and scores[21].sets == (1, 0)
    for s in scores:
        assert s.games == (0, 0)
        assert s.tiebreak is False
        assert s.game_no == 1
    # the count is the server's points: Ann serves 0-0 after taking the set, Bea at 0-1 with her 1 point
    assert (scores[21].server, scores[21].count) == (A, 0)
    assert (scores[22].server, scores[22].count, scores[22].points) == (B, 1, (0, 1))


def test_badminton_sets_won_are_counted_one_by_one():
    """Ann takes the first two games 21-0: two sets to none, the third set next; split games are one all."""
    s = replay("badminton", [A] * 42, A, A, B)[-1]
    assert s.sets == (2, 0) and s.set_no == 3 and s.points == (0, 0)
    s = replay("badminton", [B] * 21 + [A] * 21 + [B] * 21, A, A, B)[-1]
    assert s.sets == (1, 2) and s.set_no == 4
    s = replay("badminton", [B] * 21 + [B] * 21, A, A, B)[-1]
    assert s.sets == (0, 2)


def test_tennis_sets_won_are_counted_one_by_one():
    """Ann wins every point: 6-0 in 24 points, twice: two sets to none, the third set at 0-0 next."""
    scores = replay("tennis", [A] * 48, A, A, B)
    assert scores[24].sets == (1, 0) and scores[24].set_no == 2 and scores[24].games == (0, 0)
    last = scores[-1]
    assert last.sets == (2, 0) and last.set_no == 3 and last.games == (0, 0) and last.game_no == 1
    last = replay("tennis", [B] * 96, A, A, B)[-1]
    assert last.sets == (0, 4) and last.set_no == 5


def test_a_count_past_forty_before_deuce_is_called_forty():
    """Only both sides at three points or more make deuce and advantage; a side past three against fewer is
    still called 40 (the call has no word beyond it)."""
    assert [tennis_call(a, 0) for a in range(6)] == ["0", "15", "30", "40", "40", "40"]
    assert tennis_call(4, 2) == "40" and tennis_call(2, 4) == "30"
    assert (tennis_call(3, 3), tennis_call(3, 4), tennis_call(4, 3), tennis_call(5, 5)) == ("40", "40", "AD", "40")
