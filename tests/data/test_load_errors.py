"""Bad input never crashes a load: strict mode names file, row and field; lenient mode skips whole rallies."""

from __future__ import annotations

import gzip

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from strategist.data.load import load_rallies
from strategist.errors import ConfigurationError, DataFormatError, NoUsableDataError, StrategistError

from .builders import HAND_MATCH, HAND_NAMES, SHUTTLESET_COLUMNS, hand_match_rows, write_csv, write_match_file

MCP_HEADER = "match_id,Pt,Set1,Set2,Gm1,Gm2,Pts,Gm#,TbSet,Svr,1st,2nd,Notes,PtWinner"
MCP_ROWS = [  # Ann serves game 1, Bea game 2; codes and winners consistent
    "20990101-M-Test-F-Ann_Ace-Bea_Break,1,0,0,0,0,0-0,1 (1),1,1,6f27b1*,,,1",
    "20990101-M-Test-F-Ann_Ace-Bea_Break,2,0,0,0,0,15-0,1 (2),1,1,4n,5b28f1n@,,2",
    "20990101-M-Test-F-Ann_Ace-Bea_Break,3,0,0,0,0,15-15,1 (3),1,1,5*,,,1",
    "20990101-M-Test-F-Ann_Ace-Bea_Break,4,0,0,0,0,30-15,1 (4),1,1,6d,4x,,2",
    "20990101-M-Test-F-Ann_Ace-Bea_Break,5,0,0,0,0,30-30,1 (5),1,1,4f37b2f1s3w@,,,2",
]


def _mcp_file(tmp_path, rows=MCP_ROWS, header=MCP_HEADER):
    path = tmp_path / "points.csv"
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


@pytest.fixture
def good_file(tmp_path):
    write_match_file(tmp_path / "matches.csv", HAND_NAMES)
    return write_csv(tmp_path / "strokes.csv", hand_match_rows())


@pytest.fixture
def clean(good_file):
    return load_rallies(good_file).table


def _with(rows, index, **values):
    rows = [dict(r) for r in rows]
    rows[index].update(values)
    return rows


def _line_of(rows, index):
    return index + 2  # header on line 1


# -- unreadable inputs: an error in both modes ------------------------------------------------------------------
@pytest.mark.parametrize("strict", [False, True])
def test_missing_file(tmp_path, strict):
    with pytest.raises(DataFormatError, match="no such file"):
        load_rallies(tmp_path / "absent.csv", strict=strict)


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    (b"   \n\n", "empty"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "binary"),
    (b"match_id,set\n\xff\xfe\xfa,1\n", "UTF-8"),
    (b'{"strokes": [1, 2, 3]}\n', "unrecognised layout"),
    (b"id,video,winner,loser\n1,m,a,b\n", "unrecognised layout"),
])
def test_unreadable_or_foreign_files(tmp_path, strict, content, message):
    path = tmp_path / "data.csv"
    path.write_bytes(content)
    with pytest.raises(DataFormatError, match=message) as caught:
        load_rallies(path, strict=strict)
    assert "data.csv" in str(caught.value)


@pytest.mark.parametrize("strict", [False, True])
def test_corrupt_gzip(tmp_path, strict):
    path = tmp_path / "strokes.csv.gz"
    path.write_bytes(b"this is not gzip at all")
    with pytest.raises(DataFormatError, match="cannot read"):
        load_rallies(path, strict=strict)
    truncated = tmp_path / "cut.csv.gz"
    truncated.write_bytes(gzip.compress(("\n".join(",".join(SHUTTLESET_COLUMNS) for _ in range(2000))).encode())[:300])
    with pytest.raises(DataFormatError):
        load_rallies(truncated, strict=strict)


@pytest.mark.parametrize("strict", [False, True])
@pytest.mark.parametrize("drop", ["type", "ball_round", "getpoint_player"])
def test_missing_required_column_shuttleset(tmp_path, strict, drop):
    path = write_csv(tmp_path / "s.csv", hand_match_rows(), [c for c in SHUTTLESET_COLUMNS if c != drop])
    with pytest.raises(DataFormatError, match=f"missing required column.*{drop}") as caught:
        load_rallies(path, strict=strict)
    assert caught.value.field == drop and "s.csv" in str(caught.value)


@pytest.mark.parametrize("strict", [False, True])
def test_missing_required_column_tennis(tmp_path, strict):
    path = _mcp_file(tmp_path, [r.rsplit(",", 1)[0] for r in MCP_ROWS], MCP_HEADER.rsplit(",", 1)[0])
    with pytest.raises(DataFormatError, match="PtWinner"):
        load_rallies(path, strict=strict)
    pbp = tmp_path / "x-points.csv"
    pbp.write_text("match_id,SetNo,GameNo,PointNumber,PointServer,Serve_Direction,P1FirstSrvIn\nm,1,1,1,1,1,1\n")
    with pytest.raises(DataFormatError, match="PointWinner"):
        load_rallies(pbp, strict=strict)


@pytest.mark.parametrize("strict", [False, True])
def test_header_only_file_has_no_usable_rally(tmp_path, strict):
    path = write_csv(tmp_path / "s.csv", [], SHUTTLESET_COLUMNS)
    with pytest.raises(NoUsableDataError, match="no usable rally: the file has a header row but no data rows") \
            as caught:
        load_rallies(path, strict=strict)
    assert caught.value.path == path


def test_every_rally_rejected_is_an_error_with_the_counts(tmp_path):
    rows = [dict(r, type="bogus") if r["rally"] != "6" else dict(r, player="C") for r in hand_match_rows()]
    path = write_csv(tmp_path / "s.csv", rows)
    with pytest.raises(NoUsableDataError) as caught:
        load_rallies(path)
    message = str(caught.value)
    assert "no usable rally: all 17 of 17 rows rejected (6 rallies; unknown shot type: 5, bad player label: 1)" \
        in message and "Track-2" not in message
    # one good rally is enough to load
    rows[0:3] = hand_match_rows()[0:3]
    assert load_rallies(write_csv(tmp_path / "s.csv", rows)).rejections.rallies_rejected == 5


TRACK2_HEADER = ("rally,ball_round,time,frame_num,roundscore_A,roundscore_B,player,type,aroundhead,backhand,"
                 "landing_height,landing_area,landing_x,landing_y,lose_reason,getpoint_player,player_location_area,"
                 "player_location_x,player_location_y,opponent_location_area,opponent_location_x,"
                 "opponent_location_y,set,match_id,rally_id,rally_length")


def test_coachai_track2_files_are_named_as_such(tmp_path):
    given = tmp_path / "train.csv"
    given.write_text(TRACK2_HEADER + "\n"
                     "1,1,00:06:00,10827,1,0,0,short service,0.0,1,2.0,7,0.77,0.51,,,8,170.8,308.9,8,236.7,675.2,1,1,0,2\n"
                     "1,2,00:06:01,10849,1,0,1,net shot,0.0,0,2.0,7,0.08,-0.23,out,0.0,8,208.7,594.3,8,176.8,318.4,1,1,0,2\n")
    with pytest.raises(NoUsableDataError, match=r"all 2 of 2 rows rejected .*bad player label: 1.*CoachAI Track-2 "
                                                r"layout .* which strategist does not read"):
        load_rallies(given)
    gt = tmp_path / "val_gt.csv"
    gt.write_text("rally_id,ball_round,type,landing_x,landing_y\n0,5,net shot,0.1,0.2\n")
    with pytest.raises(DataFormatError, match="unrecognised layout: this is the CoachAI Track-2 layout"):
        load_rallies(gt)


def test_wrong_sport_or_layout(good_file, tmp_path):
    with pytest.raises(ConfigurationError, match="badminton data"):
        load_rallies(good_file, sport="tennis")
    with pytest.raises(DataFormatError, match="missing required column"):
        load_rallies(good_file, layout="mcp")
    with pytest.raises(DataFormatError, match="unknown layout"):
        load_rallies(good_file, layout="excel")
    with pytest.raises(ConfigurationError, match="unknown sport"):
        load_rallies(good_file, sport="chess")


# -- bad values: lenient skips the whole rally, strict names file, row and field -------------------------------
BAD_VALUES = [  # (row index in hand_match_rows, column, value, reason)
    (4, "ball_round", "x", "bad stroke number"),
    (4, "type", "殺", "unknown shot type"),
    (4, "player", "C", "bad player label"),
    (4, "roundscore_A", "one", "bad score"),
    (4, "landing_area", "17", "bad court area"),
    (4, "player_location_x", "left", "bad coordinate"),
    (4, "backhand", "yes", "bad flag"),
    (4, "type", "", "missing value"),
    (6, "lose_reason", "rain", "unknown lose reason"),
    (6, "getpoint_player", "Z", "bad rally-winner label"),
    (5, "roundscore_B", "7", "score changes within the rally"),
    (3, "getpoint_player", "A", "two different rally winners"),
    (5, "ball_round", "1.0", "duplicate stroke number"),
]


@pytest.mark.parametrize("index, column, value, reason", BAD_VALUES)
def test_bad_value_skips_its_whole_rally(tmp_path, clean, index, column, value, reason):
    rows = hand_match_rows()
    if reason == "two different rally winners":  # rally 2 records B on its last stroke; say A on stroke 1 too
        rows = _with(rows, index, getpoint_player="A", lose_reason="出界")
    else:
        rows = _with(rows, index, **{column: value})
    write_match_file(tmp_path / "matches.csv", HAND_NAMES)
    path = write_csv(tmp_path / "strokes.csv", rows)
    bad_rally = f"{rows[index]['match_id']}|{rows[index]['set']}|{rows[index]['rally']}"
    table, report = load_rallies(path)
    assert bad_rally not in set(table["rally_id"])
    assert set(table["rally_id"]) == set(clean["rally_id"]) - {bad_rally}
    assert len(table) == len(clean) - (clean["rally_id"] == bad_rally).sum()
    assert report.counts == {reason: 1} and report.rallies_rejected == 1
    example = report.examples[reason][0]
    assert example.path == str(path) and example.rally == bad_rally and example.row is not None
    # strict: the first bad row, by file, row and field
    with pytest.raises(DataFormatError) as caught:
        load_rallies(path, strict=True)
    error = caught.value
    assert error.path == str(path) and error.field is not None and error.row is not None
    assert reason in str(error) and "expected" in str(error)
    if reason not in ("score changes within the rally", "two different rally winners", "duplicate stroke number"):
        assert error.row == _line_of(rows, index) and error.field == column


def test_a_stroke_lost_to_a_bad_key_rejects_its_rally(tmp_path, clean):
    """A serve whose set number is junk cannot be tied to its rally; the rest of that rally must go too,
    or its second stroke would pass for the serve."""
    rows = _with(hand_match_rows(), 0, set="zz?")
    write_match_file(tmp_path / "matches.csv", HAND_NAMES)
    table, report = load_rallies(write_csv(tmp_path / "strokes.csv", rows))
    first_rally = f"{rows[1]['match_id']}|1|1"
    assert set(table["rally_id"]) == set(clean["rally_id"]) - {first_rally}
    assert report.counts == {"bad set number": 1, "strokes missing from the rally": 1}


def test_row_numbers_count_blank_lines_and_long_rows(tmp_path, clean):
    rows = _with(hand_match_rows(), 9, type="bogus")
    path = write_csv(tmp_path / "strokes.csv", rows)
    write_match_file(tmp_path / "matches.csv", HAND_NAMES)
    lines = path.read_text().splitlines()
    lines.insert(3, "")  # a blank line before data row 2 shifts every later row by one
    lines[6] = lines[6] + ",surplus,fields"  # data row 5 (now on line 7) has too many fields
    path.write_text("\n".join(lines) + "\n")
    table, report = load_rallies(path)
    assert report.examples["unknown shot type"][0].row == _line_of(rows, 9) + 1
    long_row = report.examples["wrong number of fields"][0]
    assert long_row.row == 7 and long_row.rally == f"{rows[4]['match_id']}|1|2"
    assert report.rallies_rejected == 2
    assert set(table["rally_id"]) == set(clean["rally_id"]) - {long_row.rally, f"{rows[9]['match_id']}|1|5"}
    with pytest.raises(DataFormatError, match=r"line 7\b.*line 7 has 35 fields, expected 33"):
        load_rallies(path, strict=True)


def test_a_bad_set_mid_rally_is_blamed_on_its_own_line_and_field(tmp_path, clean):
    """Rally 2 of set 1 is data rows 3-6 (lines 5-8); its stroke 3 (line 7) gets a junk ``set``."""
    rows = _with(hand_match_rows(), 5, set="2x")
    write_match_file(tmp_path / "matches.csv", HAND_NAMES)
    path = write_csv(tmp_path / "strokes.csv", rows)
    table, report = load_rallies(path)
    assert report.counts == {"bad set number": 1, "strokes missing from the rally": 1}
    assert (report.examples["bad set number"][0].row, report.examples["bad set number"][0].field) == (7, "set")
    gap = report.examples["strokes missing from the rally"][0]  # the stroke after the gap, not the serve
    assert (gap.row, gap.value) == (8, "4.0")
    with pytest.raises(DataFormatError, match=r"strokes\.csv, line 7, field 'set': bad set number: got '2x'"):
        load_rallies(path, strict=True)
    # with the rally's last stroke moved before the bad row, the gap lies earlier in the file than the bad
    # value; strict mode still names the bad value, the cause
    moved = rows[:3] + [rows[6]] + rows[3:6] + rows[7:]
    path = write_csv(tmp_path / "strokes.csv", moved)
    with pytest.raises(DataFormatError, match=r"line 8, field 'set': bad set number"):
        load_rallies(path, strict=True)


def test_a_short_row_is_a_wrong_number_of_fields_not_a_missing_value(tmp_path, clean):
    rows = hand_match_rows()
    write_match_file(tmp_path / "matches.csv", HAND_NAMES)
    path = write_csv(tmp_path / "strokes.csv", rows)
    lines = path.read_text().splitlines()
    lines[4] = ",".join(lines[4].split(",")[:20])  # data row 4 (line 5, rally 2's serve) cut to 20 fields
    path.write_text("\n".join(lines) + "\n")
    table, report = load_rallies(path)
    assert report.counts == {"wrong number of fields": 1} and report.rallies_rejected == 1
    example = report.examples["wrong number of fields"][0]
    assert (example.row, example.value, example.rally) == (5, "20 fields", f"{rows[3]['match_id']}|1|2")
    assert "line 5: got '20 fields', expected 33 fields, as in the header" in str(example)
    assert set(table["rally_id"]) == set(clean["rally_id"]) - {example.rally}
    with pytest.raises(DataFormatError, match=r"line 5: wrong number of fields: line 5 has 20 fields, expected 33"):
        load_rallies(path, strict=True)


def test_line_numbers_count_line_breaks_inside_quoted_cells(tmp_path):
    rows = _with(hand_match_rows(), 2, win_reason="landed\nin")  # data row 2 spans lines 4-5
    rows = _with(rows, 9, type="bogus")  # data row 9: line 11 without the quoted break, 12 with it
    write_match_file(tmp_path / "matches.csv", HAND_NAMES)
    path = write_csv(tmp_path / "strokes.csv", rows)
    assert path.read_text().count("\n") == len(rows) + 2
    _, report = load_rallies(path)
    assert report.examples["unknown shot type"][0].row == 12
    lines = path.read_text().split("\n")
    lines[13] += ",surplus"  # data row 11 (line 14) has a field too many
    path.write_text("\n".join(lines))
    _, report = load_rallies(path)
    assert report.examples["wrong number of fields"][0].row == 14
    assert report.examples["unknown shot type"][0].row == 12


def _rally_2_with(tmp_path, extra_at, stroke="1.0"):
    """The hand match with one more row in rally 2 of set 1 (strokes at data rows 3-6), copied from its serve
    with another frame and ``ball_round`` = ``stroke``, inserted before data row ``extra_at``."""
    rows = hand_match_rows()
    stray = dict(rows[3], ball_round=stroke, frame_num="99999", type="未知球種")
    rows.insert(extra_at, stray)
    write_match_file(tmp_path / "matches.csv", HAND_NAMES)
    return rows, write_csv(tmp_path / "strokes.csv", rows)


def test_a_stray_stroke_1_after_the_rally_is_dropped_and_the_rally_kept(tmp_path, clean):
    rows, path = _rally_2_with(tmp_path, 7)  # after stroke 4, the rally's last: line 9
    table, report = load_rallies(path)
    assert report.ok is False and report.rallies_rejected == 0 and report.counts == {}
    assert report.rows_rejected == 1 and report.rows_read == 18
    assert len(table) == len(clean) and set(table["rally_id"]) == set(clean["rally_id"])
    rally = f"{HAND_MATCH}|1|2"
    assert sorted(table.loc[table["rally_id"] == rally, "stroke"]) == [1, 2, 3, 4]
    assert table.loc[(table["rally_id"] == rally) & (table["stroke"] == 1), "shot"].tolist() == ["short service"]
    assert any(note.startswith("1 stray row(s) numbered stroke 1") and f"line 9 ({rally})" in note
               for note in report.notes)


@pytest.mark.parametrize("extra_at, stroke", [
    (5, "1.0"),  # stroke 1 again in the middle of the rally
    (4, "1.0"),  # right after the serve
    (7, "2.0"),  # a repeated stroke 2 at the end
    (7, "3.0"),  # a repeated stroke 3 at the end
])
def test_other_repeated_stroke_numbers_still_reject_the_rally(tmp_path, clean, extra_at, stroke):
    _, path = _rally_2_with(tmp_path, extra_at, stroke)
    table, report = load_rallies(path)
    assert report.counts == {"duplicate stroke number": 1} and report.rallies_rejected == 1
    assert f"{HAND_MATCH}|1|2" not in set(table["rally_id"])
    assert not any("stray" in note for note in report.notes)


def test_a_winner_that_contradicts_the_score_is_noted(tmp_path, clean):
    rows = hand_match_rows()  # rally 2 of set 1: 1-0 -> 1-1, so B won it; record A instead (last stroke, row 6)
    rows = _with(rows, 6, getpoint_player="A", lose_reason="出界")
    write_match_file(tmp_path / "matches.csv", HAND_NAMES)
    table, report = load_rallies(write_csv(tmp_path / "strokes.csv", rows))
    assert report.ok and len(table) == len(clean)
    notes = [n for n in report.notes if "contradicts the change of score" in n]
    assert notes == [f"1 rallies whose getpoint_player contradicts the change of score from the rally before (kept; "
                     f"the winner is taken from getpoint_player): e.g. {HAND_MATCH}|1|2 (1-0 -> 1-1, "
                     f"getpoint_player A)"]
    assert not any("contradicts" in n for n in load_rallies(write_csv(tmp_path / "ok.csv", hand_match_rows())).rejections.notes)
    # a jump of two points is noted apart
    rows = [dict(r, roundscore_A="3") if r["set"] == "1" and r["rally"] == "3" else r for r in hand_match_rows()]
    _, report = load_rallies(write_csv(tmp_path / "jump.csv", rows))
    assert any(n.startswith("1 rallies whose score does not change by exactly one point") and "|1|3 (1-1 -> 3-1" in n
               for n in report.notes)


def test_mcp_bad_code_and_bad_values(tmp_path):
    table, report = load_rallies(_mcp_file(tmp_path))
    assert report.ok and table["rally_id"].nunique() == 5
    assert table.drop_duplicates("rally_id")["winner"].tolist() == ["Ann Ace", "Bea Break", "Ann Ace", "Bea Break",
                                                                     "Bea Break"]
    rows = list(MCP_ROWS)
    rows[1] = rows[1].replace("5b28f1n@", "5b28f1n@x")
    rows[3] = rows[3].replace(",1,1,6d,", ",1,3,6d,")  # Svr 3
    path = _mcp_file(tmp_path, rows)
    table, report = load_rallies(path)
    assert sorted(table["rally"].unique()) == [1, 3, 5]
    assert report.counts == {"malformed shot code": 1, "bad Svr": 1}
    assert report.examples["malformed shot code"][0].field == "2nd"
    with pytest.raises(DataFormatError, match=r"points\.csv, line 3, field '2nd'"):
        load_rallies(path, strict=True)
    # a winner that contradicts the codes
    rows = list(MCP_ROWS)
    rows[2] = rows[2][:-1] + "2"
    table, report = load_rallies(_mcp_file(tmp_path, rows))
    assert report.counts == {"decoded winner differs from PtWinner": 1}
    assert 3 not in set(table["rally"])


def test_pbp_bad_values(tmp_path):
    header = ("match_id,SetNo,GameNo,PointNumber,PointWinner,PointServer,P1Score,P2Score,P1GamesWon,P2GamesWon,"
              "P1FirstSrvIn,P2FirstSrvIn,Serve_Direction,P1Ace,P2Ace,P1DoubleFault,P2DoubleFault")
    good = ["m,1,1,1,1,1,15,0,0,0,1,0,3,0,0,0,0", "m,1,1,2,1,1,30,0,0,0,1,0,1,0,0,0,0"]
    for bad, reason, field in [("m,1,1,3,1,1,40,0,0,0,1,0,7,0,0,0,0", "bad serve direction", "Serve_Direction"),
                               ("m,1,1,3,3,1,40,0,0,0,1,0,1,0,0,0,0", "bad PointWinner", "PointWinner"),
                               ("m,1,1,3,1,1,45,0,0,0,1,0,1,0,0,0,0", "bad game score", "P1Score"),
                               ("m,1,1,3,1,1,40,0,0,0,2,0,1,0,0,0,0", "bad flag", "P1FirstSrvIn"),
                               ("m,1,1,2,1,1,40,0,0,0,1,0,1,0,0,0,0", "duplicate point number", "PointNumber")]:
        path = tmp_path / "t-points.csv"
        path.write_text("\n".join([header, *good, bad]) + "\n")
        table, report = load_rallies(path)
        assert reason in report.counts, reason
        with pytest.raises(DataFormatError, match=f"field '{field}'"):
            load_rallies(path, strict=True)


# -- property: whatever single cell is spoiled, a load returns, and keeps only true values ------------------------
_CELLS = st.tuples(st.integers(0, 16), st.sampled_from([c for c in SHUTTLESET_COLUMNS if c != "match_id"]),
                   st.sampled_from(["zz?", "", "½", "A;B", "1e999", "NaN", "  "]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cell=_CELLS)
def test_spoiled_cell_never_corrupts(tmp_path_factory, clean, cell):
    index, column, value = cell
    # a blank 0/1 flag is a true value (ShuttleSet leaves "no" blank), not a spoiled cell
    assume(not (column in ("backhand", "aroundhead", "flaw") and not value.strip()))
    folder = tmp_path_factory.mktemp("spoiled")
    write_match_file(folder / "matches.csv", HAND_NAMES)
    rows = _with(hand_match_rows(), index, **{column: value})
    table, report = load_rallies(write_csv(folder / "strokes.csv", rows))
    assert set(table["rally_id"]) <= set(clean["rally_id"])
    merged = table.merge(clean, on=["rally_id", "stroke"], suffixes=("", "_clean"), validate="one_to_one")
    assert len(merged) == len(table)
    for name in table.columns:
        if name in ("rally_id", "stroke"):
            continue
        got, want = merged[name], merged[f"{name}_clean"]
        same = (got == want).to_numpy(dtype=bool, na_value=False) | got.isna().to_numpy()
        if got.dtype == "float64":
            same |= np.isclose(got.to_numpy(), want.to_numpy(), equal_nan=True)
        assert same.all(), (column, value, name)


_CODE_CHARS = st.sampled_from(list("fbrsvzopuylmhijktq0123456789nwdxeg!*#@C+-=;^cSRPQV ") + ["", "zz"])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(point=st.integers(0, len(MCP_ROWS) - 1), where=st.integers(0, 12), char=_CODE_CHARS,
       cell=st.sampled_from([10, 11]))
def test_spoiled_code_never_crashes_or_misattributes(tmp_path_factory, point, where, char, cell):
    rows = [r.split(",") for r in MCP_ROWS]
    code = rows[point][cell]
    rows[point][cell] = code[:where] + char + code[where:]
    path = _mcp_file(tmp_path_factory.mktemp("mcp"), [",".join(r) for r in rows])
    try:
        table, report = load_rallies(path)
    except StrategistError as exc:  # only a whole-file problem may raise
        assert isinstance(exc, DataFormatError)
        return
    recorded = {int(r[1]): ("Ann Ace" if r[13] == "1" else "Bea Break") for r in rows}
    points = table.drop_duplicates("rally_id")
    assert all(recorded[int(p)] == w for p, w in zip(points["rally"], points["winner"]))
    assert len(points) + report.rallies_rejected == len(MCP_ROWS)


def test_report_reads_as_text_and_as_a_dict(tmp_path):
    rows = _with(hand_match_rows(), 4, type="bogus")
    write_match_file(tmp_path / "matches.csv", HAND_NAMES)
    _, report = load_rallies(write_csv(tmp_path / "strokes.csv", rows))
    text = str(report).splitlines()
    assert text[0] == "rejected: 1 rallies (4 of 17 rows)"
    assert text[1].split() == ["1", "unknown", "shot", "type"]
    assert "line 6, field 'type': got 'bogus', expected" in text[2]
    as_dict = report.to_dict()
    assert as_dict["counts"] == {"unknown shot type": 1} and as_dict["examples"]["unknown shot type"][0]["row"] == 6
