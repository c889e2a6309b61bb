"""The match lists beside the data read into one date format that sorts in time, however the file writes its
numbers (ShuttleSet's 2022 list writes 2022.0, 3.0, 12.0)."""

import pandas as pd

from strategist.scout.matchinfo import read_match_info

HEADER = "id,video,tournament,round,year,month,day\n"


def test_parts_written_as_decimals_give_the_same_date_as_integers(tmp_path):
    (tmp_path / "matches_a.csv").write_text(HEADER + "1,m1,Open A,Final,2019,11,10\n"
                                                     "2,m2,Open B,Final,2022,1,16\n")
    (tmp_path / "matches_b.csv").write_text(HEADER + "1,m3,Open C,Final,2022.0,3.0,12.0\n"
                                                     "2,m4,Open D,Final,2022.0,10.0,30.0\n"
                                                     "3,m5,Open E,Final,2021.0,,\n"
                                                     "4,m6,Open F,Final,2020,7,x\n")
    info = read_match_info(tmp_path).set_index("match_id")
    assert info["date"].to_dict() == {"m1": "2019-11-10", "m2": "2022-01-16", "m3": "2022-03-12",
                                      "m4": "2022-10-30", "m5": "2021", "m6": "2020-07"}
    assert info["year"].tolist() == [2019, 2022, 2022, 2022, 2021, 2020]
    # sorted as text, the dates are in time: October after March, whichever list wrote them
    assert info.sort_values("date").index.tolist() == ["m1", "m6", "m5", "m2", "m3", "m4"]


def test_a_list_without_month_and_day_gives_the_year(tmp_path):
    (tmp_path / "matches.csv").write_text("video,tournament,year\nm1,Open A,2018\nm2,Open B,\n")
    info = read_match_info(tmp_path).set_index("match_id")
    assert info["date"].to_dict() == {"m1": "2018", "m2": ""}
    assert info.at["m1", "year"] == 2018 and pd.isna(info.at["m2", "year"])


def test_every_shipped_shuttleset_match_has_a_full_date(shuttleset_strokes):
    info = read_match_info(shuttleset_strokes)
    assert len(info) == 94
    assert info["date"].str.fullmatch(r"20\d\d-[01]\d-[0-3]\d").all(), info["date"].tolist()
    assert (info["year"].astype(str) == info["date"].str[:4]).all()
