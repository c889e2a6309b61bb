"""ShuttleSet loader: a hand-built match with known answers, and the real 81,939 strokes against the README."""

from __future__ import annotations

import pandas as pd
import pytest

from strategist.data.load import load_rallies
from strategist.data.schema import COLUMNS, validate
from strategist.errors import DataFormatError

from .builders import HAND_MATCH, HAND_NAMES, hand_match_rows, shuttleset_rally, write_csv, write_match_file

# (set, rally) -> (server, A's score before, B's score before, server's court side, winner)
HAND_EXPECTED = {
    (1, 1): ("Ann ALPHA", 0, 0, "right", "Ann ALPHA"),
    (1, 2): ("Ann ALPHA", 1, 0, "left", "Bea BRAVO"),
    (1, 3): ("Bea BRAVO", 1, 1, "left", None),
    (1, 5): ("Ann ALPHA", 3, 1, "left", "Bea BRAVO"),   # rally 4 is missing: 3-2 after less B's point
    (1, 6): ("Bea BRAVO", 3, 2, "right", None),
    (2, 1): ("Bea BRAVO", 0, 0, "right", "Bea BRAVO"),
}


@pytest.fixture
def hand_file(tmp_path):
    path = write_csv(tmp_path / "strokes.csv", hand_match_rows())
    write_match_file(tmp_path / "matches.csv", HAND_NAMES)
    return path


def _per_rally(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["stroke"] == 1].set_index(["set", "rally"])


def test_hand_built_match(hand_file):
    result = load_rallies(hand_file)
    table, report = result  # unpacks as a tuple
    assert result.layout == "shuttleset" and result.sport.name == "badminton"
    assert list(table.columns) == list(COLUMNS)
    validate(table)
    assert report.rallies_rejected == 0 and report.rows_read == len(table) == 17
    first = _per_rally(table)
    for (set_no, rally), (server, a, b, side, winner) in HAND_EXPECTED.items():
        row = first.loc[(set_no, rally)]
        assert row["server"] == server
        assert row["court_side"] == side
        assert (row["winner"] if pd.notna(row["winner"]) else None) == winner
        hitter_is_a = row["hitter"] == "Ann ALPHA"
        assert (row["hitter_score"], row["opponent_score"]) == ((a, b) if hitter_is_a else (b, a))
    # every stroke of a rally carries the rally's score, server and winner; hitters alternate
    rally = table[(table["set"] == 1) & (table["rally"] == 2)]
    assert rally["hitter"].tolist() == ["Ann ALPHA", "Bea BRAVO"] * 2
    assert rally["opponent"].tolist() == ["Bea BRAVO", "Ann ALPHA"] * 2
    assert rally["hitter_won"].tolist() == [False, True, False, True]
    assert rally["end"].iloc[:3].isna().all() and rally["end"].iloc[3] == "winner" and rally["error"].isna().all()
    rally = table[(table["set"] == 1) & (table["rally"] == 5)]  # A hits last, B wins: A's shot was out
    assert rally["end"].iloc[-1] == "error" and rally["error"].iloc[-1] == "out"
    assert rally["hitter_won"].tolist() == [False, True, False, True, False]
    assert table.loc[table["winner"].isna(), "hitter_won"].isna().all()
    assert table["shot"].iloc[0] == "short service" and table["shot"].iloc[1] == "clear"
    assert table["wing"].tolist()[:3] == ["forehand", "forehand", "backhand"]
    assert table["flagged"].eq(False).all() and table["serve_number"].eq(1).all()
    assert table["rally_id"].iloc[0] == f"{HAND_MATCH}|1|1"
    assert any("no recorded winner" in note for note in report.notes)


def test_names_fall_back_to_player_a_and_b_with_a_note(tmp_path):
    path = write_csv(tmp_path / "one_match.csv", hand_match_rows())
    table, report = load_rallies(path)
    assert set(table["hitter"]) == {"player A", "player B"}
    assert any("player A" in note and "must not be used as features" in note for note in report.notes)


def test_names_from_winner_loser_columns_of_the_file(tmp_path):
    rows = [dict(r, winner="Ann ALPHA", loser="Bea BRAVO") for r in hand_match_rows()]
    table, _ = load_rallies(write_csv(tmp_path / "s.csv", rows))
    assert set(table["hitter"]) == {"Ann ALPHA", "Bea BRAVO"}


def test_english_labels_are_accepted(tmp_path):
    rows = shuttleset_rally("M", 1, 1, "A", 3, "A", (1, 0), first_shot="long service")
    rows[1]["type"] = "wrist smash"
    table, report = load_rallies(write_csv(tmp_path / "s.csv", rows))
    assert report.ok and table["shot"].tolist()[:2] == ["long service", "wrist smash"]


def test_per_set_layout(tmp_path):
    rows = pd.DataFrame(hand_match_rows())
    root = tmp_path / "set"
    for set_no, part in rows.groupby("set"):
        write_csv(root / HAND_MATCH / f"set{set_no}.csv", part.drop(columns=["source", "match_id", "set"])
                  .to_dict("records"))
    write_match_file(root / "match.csv", HAND_NAMES)
    combined = load_rallies(write_csv(tmp_path / "strokes.csv", hand_match_rows()))
    write_match_file(tmp_path / "matches.csv", HAND_NAMES)
    combined = load_rallies(tmp_path / "strokes.csv")
    for path in (root, root / HAND_MATCH, root / HAND_MATCH / "set1.csv"):
        result = load_rallies(path)
        assert result.layout == "shuttleset-sets"
        expected = combined.table if path != root / HAND_MATCH / "set1.csv" else \
            combined.table[combined.table["set"] == 1]
        pd.testing.assert_frame_equal(result.table.drop(columns="source"),
                                      expected.drop(columns="source").reset_index(drop=True))


# -- the real data ---------------------------------------------------------------------------------------------
def test_real_counts_match_the_readme(shuttleset):
    table, report = shuttleset
    validate(table)
    assert report.rows_read == 81_939
    assert len(table) + report.rows_rejected == 81_939
    assert table["rally_id"].nunique() + report.rallies_rejected == 7_888
    assert table["match_id"].nunique() == 94
    assert len(set(table["hitter"]) | set(table["opponent"])) == 43
    # the README's pitfalls: one verbatim repeated row (dropped) and one rally with a stroke number used twice,
    # a stray "stroke 1" row after its 14 strokes (dropped, the rally kept); the only rallies rejected are those
    # that break the order of play (measured: 20 open with a rally shot, 4 have one player hitting twice)
    assert report.counts == {"rally does not open with a serve": 20, "same player hits twice in a row": 4}
    assert report.rallies_rejected == 24 and table["rally_id"].nunique() == 7_888 - 24
    assert report.rows_rejected == 2 + 310
    assert any("repeating an earlier row" in note and "line 20695" in note for note in report.notes)
    stray = "Anthony_Sinisuka_Ginting_Rasmus_Gemke_YONEX_Thailand_Open_2021_QuarterFinals|3|25"
    assert any(note.startswith("1 stray row(s)") and f"line 7800 ({stray})" in note for note in report.notes)
    assert sorted(table.loc[table["rally_id"] == stray, "stroke"]) == list(range(1, 15))
    # rallies whose getpoint_player contradicts the score change (measured: 15), and one odd score jump
    assert any(note.startswith("15 rallies whose getpoint_player contradicts the change of score")
               and "CHOU_Tien_Chen_Anders_ANTONSEN_Fuzhou_Open_2019_Semi-finals|2|9 (4-4 -> 5-4, getpoint_player B)"
               in note for note in report.notes)
    assert any(note.startswith("1 rallies whose score does not change by exactly one point") for note in report.notes)


def test_real_rallies_that_break_the_order_of_play_are_the_ones_rejected(shuttleset, shuttleset_raw):
    """Told apart from the raw strings with pandas alone: a rally whose first stroke is a rally shot (not a serve,
    not 未知球種), or in which one player hits two strokes in a row, is rejected; every other rally is kept."""
    table, _ = shuttleset
    raw = shuttleset_raw.assign(stroke=pd.to_numeric(shuttleset_raw["ball_round"]))
    raw["rally_id"] = raw["match_id"] + "|" + raw["set"] + "|" + raw["rally"]
    raw = raw.drop_duplicates(["rally_id", "stroke"]).sort_values(["rally_id", "stroke"])  # the repeated and stray rows
    first = raw.groupby("rally_id").head(1)
    opens_badly = set(first.loc[~first["type"].isin(["發短球", "發長球", "未知球種"]), "rally_id"])
    twice = (raw["rally_id"] == raw["rally_id"].shift()) & (raw["player"] == raw["player"].shift())
    hits_twice = set(raw.loc[twice, "rally_id"])
    assert (len(opens_badly), len(hits_twice)) == (20, 4)
    kept = set(table["rally_id"])
    assert not (opens_badly | hits_twice) & kept
    assert kept | opens_badly | hits_twice == set(raw["rally_id"])


def test_real_rally_winners(shuttleset, shuttleset_raw, shuttleset_dir):
    table, report = shuttleset
    raw = shuttleset_raw
    key = ["match_id", "set", "rally"]
    recorded = (raw["getpoint_player"] != "").groupby([raw[k] for k in key]).sum()
    assert (recorded == 1).sum() == 7_621 and (recorded == 0).sum() == 266 and (recorded == 2).sum() == 1
    names = pd.concat([pd.read_csv(shuttleset_dir / f) for f in ("matches_shuttleset.csv",
                                                                  "matches_shuttleset22.csv")])
    names = names.drop_duplicates("video").set_index("video")
    gp = raw[raw["getpoint_player"] != ""].drop_duplicates(key)
    expected = {f"{m}|{s}|{r}": names.loc[m, "winner" if p == "A" else "loser"]
                for m, s, r, p in zip(gp["match_id"], gp["set"], gp["rally"], gp["getpoint_player"])}
    rallies = table.drop_duplicates("rally_id").set_index("rally_id")
    known = rallies["winner"].dropna()
    # the README: 7,621 rallies with one getpoint_player row + 1 with two; 266 with none (the 24 rallies that
    # break the order of play are rejected: counted here by whether they record a winner)
    rejected = {f"{m}|{s}|{r}" for m, s, r in zip(raw["match_id"], raw["set"], raw["rally"])} - set(rallies.index)
    assert len(rejected) == 24
    assert len(known) + len(rejected & set(expected)) == 7_622
    assert rallies["winner"].isna().sum() + len(rejected - set(expected)) == 266
    assert all(expected[rid] == winner for rid, winner in known.items())
    # the README: the server wins 50.1 % of the rallies with a known winner
    assert round((known == rallies.loc[known.index, "server"]).mean(), 3) == 0.501


def test_real_lagged_scores(shuttleset, shuttleset_raw, shuttleset_dir):
    table, _ = shuttleset
    raw = shuttleset_raw
    names = pd.concat([pd.read_csv(shuttleset_dir / f) for f in ("matches_shuttleset.csv",
                                                                  "matches_shuttleset22.csv")])
    a_name = names.drop_duplicates("video").set_index("video")["winner"]
    after = raw.drop_duplicates(["match_id", "set", "rally"]).assign(rally=lambda f: f["rally"].astype(int),
                                                                      set=lambda f: f["set"].astype(int))
    after = after.set_index(["match_id", "set", "rally"])[["roundscore_A", "roundscore_B"]].astype(int)
    first = table[table["stroke"] == 1]
    hitter_is_a = (first["hitter"] == first["match_id"].map(a_name)).to_numpy()
    before_a = first["hitter_score"].where(hitter_is_a, first["opponent_score"]).to_numpy()
    before_b = first["opponent_score"].where(hitter_is_a, first["hitter_score"]).to_numpy()
    before = pd.DataFrame({"match_id": first["match_id"].to_numpy(), "set": first["set"].to_numpy(dtype=int),
                           "rally": first["rally"].to_numpy(dtype=int), "a": before_a, "b": before_b})
    opening = before[before["rally"] == 1]
    assert (opening["a"] == 0).all() and (opening["b"] == 0).all()
    previous = after.reset_index().assign(rally=lambda f: f["rally"] + 1)  # after rally r, keyed as rally r+1
    joined = before.merge(previous, on=["match_id", "set", "rally"], how="inner")
    assert len(joined) > 7_500
    assert (joined["a"] == joined["roundscore_A"]).all() and (joined["b"] == joined["roundscore_B"]).all()
    # the score's parity gives the court the server serves from
    server_score = first["hitter_score"]
    assert ((server_score % 2 == 0) == (first["court_side"] == "right")).all()


def test_real_labels_and_players(shuttleset, shuttleset_raw, shuttleset_dir):
    table, _ = shuttleset
    raw = shuttleset_raw.assign(set=lambda f: f["set"].astype(int), rally=lambda f: f["rally"].astype(int),
                                stroke=lambda f: f["ball_round"].astype(float).astype(int))
    raw = raw.drop_duplicates(["match_id", "set", "rally", "stroke"], keep=False)
    translations = pd.read_csv(shuttleset_dir / "translations.csv")
    to_en = dict(zip(translations["value_zh"], translations["value_en"])) | {"未知球種": "unknown"}
    merged = table.merge(raw, on=["match_id", "set", "rally", "stroke"], how="inner")
    # without a unique partner: the kept original of the repeated row, and the real stroke 1 of the rally with
    # the stray stroke-1 row
    assert len(merged) == len(table) - 2
    assert (merged["shot"] == merged["type"].map(to_en)).all()
    names = pd.concat([pd.read_csv(shuttleset_dir / f) for f in ("matches_shuttleset.csv",
                                                                  "matches_shuttleset22.csv")])
    names = names.drop_duplicates("video").set_index("video")
    expected = merged["match_id"].map(names["winner"]).where(merged["player"] == "A",
                                                              merged["match_id"].map(names["loser"]))
    assert (merged["hitter"] == expected).all()
    # the server is the hitter of the rally's first stroke
    firsts = table[table["stroke"] == table.groupby("rally_id")["stroke"].transform("min")]
    assert (firsts["hitter"] == firsts["server"]).all()
    # landing heights: 1 (also written 1.0) high, 2 low, blank missing
    raw_height = merged["landing_height_y"].astype("string").str.replace(".0", "", regex=False)
    want = raw_height.map({"1": "high", "2": "low"})
    got = merged["landing_height_x"]
    assert ((got == want) | (got.isna() & want.isna())).all() and got.notna().sum() > 70_000


def test_landing_heights_and_a_bad_one(tmp_path):
    rows = [dict(r) for r in hand_match_rows()]
    for k, r in enumerate(rows):
        r["landing_height"] = ("1.0", "2", "", "1")[k % 4]
    table, report = load_rallies(write_csv(tmp_path / "s.csv", rows))
    assert [None if pd.isna(v) else v for v in table["landing_height"].tolist()[:4]] == ["high", "low", None, "high"]
    rows[5]["landing_height"] = "3"
    table, report = load_rallies(write_csv(tmp_path / "s.csv", rows))
    assert report.counts.get("bad landing height") == 1
    with pytest.raises(DataFormatError, match="landing_height"):
        load_rallies(write_csv(tmp_path / "s.csv", rows), strict=True)


def test_real_strict_mode_names_the_problem(shuttleset_dir):
    with pytest.raises(DataFormatError, match=r"strokes\.csv\.gz, line \d+, field"):
        load_rallies(shuttleset_dir / "strokes.csv.gz", strict=True)


def test_real_folder_detects_the_strokes_file(shuttleset_dir):
    from strategist.data.detect import detect

    layout, files = detect(shuttleset_dir)
    assert layout == "shuttleset" and [f.name for f in files] == ["strokes.csv.gz"]


def test_real_matches_rewritten_in_the_upstream_set_layout(tmp_path, shuttleset, shuttleset_raw, shuttleset_dir):
    """Two real matches split back into set/<match>/set<k>.csv + set/match.csv load to the same table."""
    chosen = sorted(shuttleset_raw["match_id"].unique())[:2]
    root = tmp_path / "set"
    for match_id in chosen:
        part = shuttleset_raw[shuttleset_raw["match_id"] == match_id]
        for set_no, rows in part.groupby("set"):
            folder = root / match_id
            folder.mkdir(parents=True, exist_ok=True)
            rows.drop(columns=["source", "match_id", "set"]).to_csv(folder / f"set{set_no}.csv", index=False)
    matches = pd.read_csv(shuttleset_dir / "matches_shuttleset.csv", dtype=str)
    matches = pd.concat([matches, pd.read_csv(shuttleset_dir / "matches_shuttleset22.csv", dtype=str)])
    matches[matches["video"].isin(chosen)].drop_duplicates("video").to_csv(root / "match.csv", index=False)
    homographies = pd.concat([pd.read_csv(f, dtype=str) for f in sorted(shuttleset_dir.glob("homography_*.csv"))])
    homographies[homographies["video"].isin(chosen)].to_csv(root / "homography.csv", index=False)  # as upstream
    result = load_rallies(root)
    assert result.layout == "shuttleset-sets" and result.rejections.ok
    expected = shuttleset.table[shuttleset.table["match_id"].isin(chosen)].reset_index(drop=True)
    pd.testing.assert_frame_equal(result.table.drop(columns="source"), expected.drop(columns="source"))
