"""Scoring a recorded match, sport by sport, against sequences scored by hand."""

import pytest

import strategist
from strategist.matchlog import MatchLog, OrderOfPlayError
from strategist.matchlog.scoring import points_label, replay

A, B = "Ann", "Bea"


def _tennis(winners, first=A):
    return replay("tennis", winners, first, A, B)


def test_a_tennis_game_deuce_and_advantage():
    seq = [A, B, A, B, A, B]                               # 40-40
    s = _tennis(seq)[-1]
    assert s.points == (3, 3) and points_label("tennis", s, 0) == "40" and points_label("tennis", s, 1) == "40"
    s = _tennis(seq + [A])[-1]
    assert points_label("tennis", s, 0) == "AD" and points_label("tennis", s, 1) == "40"
    s = _tennis(seq + [A, B])[-1]
    assert s.points == (4, 4) and points_label("tennis", s, 0) == "40"     # deuce again
    s = _tennis(seq + [A, B, B, B])[-1]                    # Bea breaks: game to Bea
    assert s.games == (0, 1) and s.points == (0, 0) and s.server == B and s.game_no == 2
    assert [x.server for x in _tennis(seq + [A, B, B])] == [A] * 10       # Ann serves the whole game
    assert [points_label("tennis", x, 0) for x in _tennis([A, A, B])] == ["0", "15", "30", "30"]


def test_court_sides_alternate_within_a_game():
    tennis = strategist.get_sport("tennis")
    sides = [tennis.court_side(x.count) for x in _tennis([A, A, B, A, A])]
    assert sides == ["deuce", "ad", "deuce", "ad", "deuce", "deuce"]        # the 6th is a new game's first point


def test_a_set_by_two_games_and_the_serve_alternates_by_game():
    # Ann holds, Bea holds, ... : 5-5, then Ann breaks and holds: 7-5
    seq = []
    for g in range(10):
        seq += [A if g % 2 == 0 else B] * 4
    seq += [A] * 8
    scores = _tennis(seq)
    assert scores[-1].sets == (1, 0) and scores[-1].games == (0, 0) and scores[-1].set_no == 2
    servers = [scores[4 * g].server for g in range(12)]
    assert servers == [A, B] * 6
    assert scores[4 * 10].games == (5, 5) and scores[4 * 11].games == (6, 5)      # 6-5 is not a set yet


def test_the_tiebreak_serve_order_and_the_next_set():
    seq = []
    for g in range(12):                    # holds to 6-6: Ann serves the 13th game, i.e. the tiebreak first
        seq += [A if g % 2 == 0 else B] * 4
    before = _tennis(seq)[-1]
    assert before.games == (6, 6) and before.tiebreak and before.server == A
    tb = [A, B, A, B, A, B, A, B, A, B, A, B, A, A]        # 6-6 in points, then Ann 8-6
    scores = _tennis(seq + tb)
    servers = [s.server for s in scores[len(seq):len(seq) + len(tb)]]
    assert servers == [A, B, B, A, A, B, B, A, A, B, B, A, A, B]
    assert [s.points for s in scores[len(seq):len(seq) + 3]] == [(0, 0), (1, 0), (1, 1)]
    after = scores[-1]
    assert after.sets == (1, 0) and after.set_no == 2 and after.games == (0, 0) and not after.tiebreak
    assert after.server == B                                # the tiebreak's first receiver serves next
    assert points_label("tennis", scores[len(seq) + 9], 0) == "5"    # tiebreak points as counted
    four = _tennis(seq + [A] * 4)[-1]
    assert four.tiebreak and four.points == (4, 0)          # a tiebreak goes to seven, not four
    six = _tennis(seq + [A] * 6)[-1]
    assert six.tiebreak and six.points == (6, 0) and six.sets == (0, 0)
    seven = _tennis(seq + [A] * 7)[-1]
    assert seven.sets == (1, 0) and not seven.tiebreak


def test_rally_point_scoring_by_two_and_the_cap():
    seq = [A, B] * 20                                       # 20-20
    s = replay("badminton", seq + [A], A, A, B)[-1]
    assert s.points == (21, 20) and s.sets == (0, 0) and s.server == A
    s = replay("badminton", seq + [A, A], A, A, B)[-1]
    assert s.sets == (1, 0) and s.points == (0, 0) and s.set_no == 2 and s.server == A
    s = replay("badminton", [A, B] * 29 + [B], A, A, B)[-1]     # 29-30: the cap ends the game
    assert s.sets == (0, 1) and s.server == B


def test_a_tennis_match_in_the_log_second_serves_scores_and_export(tmp_path):
    log = MatchLog(tmp_path / "m.sqlite")
    m = log.new_match("tennis", A, B, server=A)
    assert log.add_stroke(m, "serve", landing_area="T").hitter == A            # fault
    assert log.add_stroke(m, "serve", landing_area="wide").hitter == A         # second serve: the server again
    assert log.add_stroke(m, "forehand").hitter == B
    log.finish_rally(m, A)
    assert log.add_stroke(m, "serve").hitter == A
    assert log.add_stroke(m, "backhand").hitter == B                           # a return, not a serve
    with pytest.raises(OrderOfPlayError, match="a serve only opens a rally"):   # a serve mid-rally
        log.add_stroke(m, "serve")
    assert log.add_stroke(m, "forehand").hitter == A
    log.finish_rally(m, B)
    for _ in range(5):                                          # Ann takes the game 4-1, then leads the next 30-0
        log.add_stroke(m, "serve")
        log.finish_rally(m, A)
    score = log.state(m).score()
    assert (score["player_games"], score["opponent_games"]) == (1, 0) and score["player_call"] == "30"
    assert log.state(m).next_server() == B
    table = log.export_table(m)
    first = table[table["rally"] == 1]
    assert first["serve_number"].tolist() == [1, 2, 2] and first["court_side"].eq("deuce").all()
    assert table[table["rally"] == 2]["court_side"].eq("ad").all()
    assert table["game"].tolist()[-1] == 2 and table["server"].tolist()[-1] == B
    assert table[table["rally"] == 3][["hitter_score", "opponent_score"]].values.tolist() == [[1, 1]]
    path = tmp_path / "tennis.csv"
    log.export_csv(m, path)
    loaded, rejections = strategist.load_rallies(path)
    assert rejections.ok and len(loaded) == len(table) and loaded["sport"].eq("tennis").all()


def test_stored_tennis_points_mark_the_advantage(tmp_path):
    log = MatchLog(tmp_path / "m.sqlite")
    m = log.new_match("tennis", A, B, server=A)
    for w in [A, B, A, B, A, B, A, B, A]:                  # deuce twice, then advantage Ann
        log.add_stroke(m, "serve")
        log.finish_rally(m, w)
    log.add_stroke(m, "serve")
    table = log.export_table(m)
    last = table.iloc[-1]
    assert (last["hitter_score"], last["opponent_score"]) == (4, 3)
    deuce = table[table["rally"] == 9].iloc[0]
    assert (deuce["hitter_score"], deuce["opponent_score"]) == (3, 3)


@pytest.mark.parametrize("sport", ["badminton", "tennis"])
def test_the_score_of_the_state_equals_a_replay_of_its_winners(tmp_path, sport):
    log = MatchLog(tmp_path / "m.sqlite")
    m = log.new_match(sport, A, B, server=B)
    winners = [A, A, B, A, B, B, B, A, A, A, A, B, A]
    for w in winners:
        log.add_stroke(m, "serve" if sport == "tennis" else "short service")
        log.finish_rally(m, w)
    want = replay(sport, winners, B, A, B)
    state = log.state(m)
    assert [r.server for r in state.rallies] == [s.server for s in want[:-1]]
    assert state.next_server() == want[-1].server and state.score()["set"] == want[-1].set_no


def _tennis_csv(tmp_path, name="t.csv"):
    log = MatchLog(tmp_path / f"{name}.sqlite")
    m = log.new_match("tennis", A, B, server=A)
    for shots, w in ((["serve", "forehand", "backhand"], A), (["serve", "serve", "backhand"], B)):
        for shot in shots:
            log.add_stroke(m, shot)
        log.finish_rally(m, w)
    path = tmp_path / name
    log.export_csv(m, path)
    return path


def test_the_canonical_layout_reads_the_sport_from_the_file(tmp_path):
    from strategist.errors import ConfigurationError, DataFormatError

    path = _tennis_csv(tmp_path)
    loaded = strategist.load_rallies(path)
    assert loaded.sport.name == "tennis" and loaded.layout == "canonical"
    with pytest.raises(ConfigurationError, match="holds tennis data"):
        strategist.load_rallies(path, sport="badminton")
    text = path.read_text().splitlines()
    header, rows = text[0], text[1:]
    col = header.split(",").index("shot")
    bad = rows[0].split(",")
    bad[col] = "net shot"                                   # a badminton shot in a tennis file: rally skipped
    (tmp_path / "bad.csv").write_text("\n".join([header, ",".join(bad)] + rows[1:]) + "\n")
    loaded = strategist.load_rallies(tmp_path / "bad.csv")
    assert loaded.rejections.counts.get("shot not in the vocabulary") == 1 and loaded.table["rally"].nunique() == 1
    sport_col = header.split(",").index("sport")
    mixed = rows[0].split(",")
    mixed[sport_col] = "badminton"
    (tmp_path / "mixed.csv").write_text("\n".join([header, ",".join(mixed)] + rows[1:]) + "\n")
    with pytest.raises(DataFormatError, match="load one sport at a time"):
        strategist.load_rallies(tmp_path / "mixed.csv")
    squash = [r.split(",") for r in rows]
    for r in squash:
        r[sport_col] = "squash"
    (tmp_path / "squash.csv").write_text("\n".join([header] + [",".join(r) for r in squash]) + "\n")
    with pytest.raises(DataFormatError, match="sport"):
        strategist.load_rallies(tmp_path / "squash.csv")


def _rows(scores, sport):
    rules = strategist.get_sport(sport)
    return [(s.points, s.server, rules.court_side(s.count)) for s in scores]


def test_badminton_points_serve_and_court_side_worked_by_hand():
    # Ann serves from the right at 0; the rally's winner serves next, from the right on an even score of theirs
    scores = replay("badminton", [A, A, B, B, B, A], A, A, B)
    assert _rows(scores, "badminton") == [
        ((0, 0), A, "right"), ((1, 0), A, "left"), ((2, 0), A, "right"), ((2, 1), B, "left"),
        ((2, 2), B, "right"), ((2, 3), B, "left"), ((3, 3), A, "left")]


def test_badminton_game_ends_at_21_by_two_and_at_30():
    to_19 = [A, B] * 19                                       # 19-19
    assert replay("badminton", to_19 + [A, A], A, A, B)[-1].sets == (1, 0)       # 21-19
    open_game = replay("badminton", to_19 + [A, B, A], A, A, B)[-1]               # 21-20: not yet
    assert open_game.points == (21, 20) and open_game.sets == (0, 0)
    to_28 = [A, B] * 28
    s = replay("badminton", to_28 + [B], A, A, B)[-1]                             # 28-29
    assert s.points == (28, 29) and s.sets == (0, 0)
    s = replay("badminton", to_28 + [B, A], A, A, B)[-1]                          # 29-29
    assert s.points == (29, 29) and s.sets == (0, 0)
    s = replay("badminton", to_28 + [B, A, B], A, A, B)[-1]                       # 29-30: the cap, by one
    assert s.sets == (0, 1) and s.points == (0, 0) and s.set_no == 2 and s.server == B
    two = replay("badminton", [A] * 21 + [B] * 21, B, A, B)                       # 21-0, 0-21: one set each
    assert two[-1].sets == (1, 1) and two[-1].set_no == 3 and two[-1].server == B
    assert [two[k].server for k in (0, 1, 21, 22)] == [B, A, A, B]


def test_a_tennis_set_6_4_by_a_break_worked_by_hand():
    # Ann serves the odd games; everyone holds until Ann breaks Bea in game 10: 6-4
    games = [A, B, A, B, A, B, A, B, A, A]
    seq = [w for w in games for _ in range(4)]                # every game to love
    scores = _tennis(seq)
    assert [scores[4 * g].server for g in range(10)] == [A, B] * 5
    assert [scores[4 * g].games for g in (4, 9)] == [(2, 2), (5, 4)]
    end = scores[-1]
    assert end.sets == (1, 0) and end.games == (0, 0) and end.set_no == 2 and end.game_no == 1
    assert end.server == A                                    # the server of the would-be 11th game
    early = _tennis([w for w in (A, A, A, B, A, B, A, B) for _ in range(4)])[-1]      # an early break: 5-3
    assert early.games == (5, 3) and early.sets == (0, 0)                            # is not a set yet
    calls = [(points_label("tennis", s, 0), points_label("tennis", s, 1)) for s in _tennis([A, A, A, B])]
    assert calls == [("0", "0"), ("15", "0"), ("30", "0"), ("40", "0"), ("40", "15")]


def test_a_long_tiebreak_needs_two_clear_points():
    seq = []
    for g in range(12):
        seq += [A if g % 2 == 0 else B] * 4
    tb = [A, B] * 10                                          # 10-10 in the tiebreak
    s = _tennis(seq + tb)[-1]
    assert s.tiebreak and s.points == (10, 10) and s.games == (6, 6)
    s = _tennis(seq + tb + [B])[-1]
    assert s.tiebreak and points_label("tennis", s, 1) == "11"
    s = _tennis(seq + tb + [B, B])[-1]                        # 10-12
    assert s.sets == (0, 1) and not s.tiebreak and s.server == B    # Ann served the tiebreak's first point
