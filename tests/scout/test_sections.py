"""Serve and return, pressure, rally length, trends and court maps: each figure against a direct pandas
computation, on the shipped ShuttleSet and on the demo."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sp

from strategist.scout import maps as scout_maps
from tests.scout.reference import in_play, rally_rows, zone


def _same_test(result: dict, table: np.ndarray) -> None:
    """The section's test is scipy's Pearson χ² of the table (its p where no expected count is below 5)."""
    table = table[table.sum(1) > 0][:, table.sum(0) > 0]
    expected = sp.chi2_contingency(table, correction=False)
    assert result["statistic"] == pytest.approx(expected.statistic)
    assert result["min_expected"] == pytest.approx(expected.expected_freq.min())
    if result["min_expected"] >= 5:
        assert result["method"] == "chi-square" and result["p"] == pytest.approx(expected.pvalue)
    else:
        assert result["method"].startswith("permutation")


def _game_point(score, rival):
    return ((score >= 20) & (score > rival)) | ((score == 29) & (rival == 29))


def test_pressure_win_rates_equal_a_direct_computation(case):
    table, report, opponent, _ = case
    r = rally_rows(table)
    r = r[(r["player"] == opponent) & r["won"].notna()].sort_values(["match_id", "set", "rally"])
    s, o = r["score"].astype(float), r["rival_score"].astype(float)
    won_f = r["won"].astype(float)
    by_set = r.assign(won_f=won_f).groupby(["match_id", "set"])
    prev, prev2 = by_set["won_f"].shift(1), by_set["won_f"].shift(2)
    chain = (r["rally"] - by_set["rally"].shift(1) == 1) & (by_set["rally"].shift(1) - by_set["rally"].shift(2) == 1)
    masks = {"game point for them": _game_point(s, o), "game point against them": _game_point(o, s),
             "from 18-all": (s >= 18) & (o >= 18),
             "after losing two rallies in a row": chain & (prev == 0) & (prev2 == 0),
             "after winning two rallies in a row": chain & (prev == 1) & (prev2 == 1)}
    rows = {row["situation"]: row for row in report.section("pressure")["rows"]}
    assert rows and set(rows) <= set(masks)
    won = r["won"].astype(bool)
    for label, mask in masks.items():
        mask = mask.fillna(False).astype(bool)
        if label not in rows:
            assert mask.sum() == 0
            continue
        row = rows[label]
        assert (row["in"]["k"], row["in"]["n"]) == (int(won[mask].sum()), int(mask.sum())), label
        assert (row["rest"]["k"], row["rest"]["n"]) == (int(won[~mask].sum()), int((~mask).sum())), label
    q = sp.false_discovery_control([row["p"] for row in report.section("pressure")["rows"]])
    np.testing.assert_allclose([row["q"] for row in report.section("pressure")["rows"]], q)


def test_pressure_shot_mix_equals_a_crosstab(case):
    table, report, opponent, _ = case
    t = in_play(table)
    r = rally_rows(table)
    r = r[(r["player"] == opponent) & r["won"].notna()]
    s, o = r["score"].astype(float), r["rival_score"].astype(float)
    inside = set(r.loc[_game_point(o, s).fillna(False).astype(bool), "rally_id"])
    rest = set(r["rally_id"]) - inside
    row = next(x for x in report.section("pressure")["rows"] if x["situation"] == "game point against them")
    mine = t[(t["hitter"] == opponent)]
    from strategist.sports import get_sport

    group = mine["shot"].map(dict(get_sport("badminton").groupings["tactic"]))
    for name, ids in (("in", inside), ("rest", rest)):
        counts = group[mine["rally_id"].isin(ids)].value_counts()
        for category, share in row["mix"][name].items():
            assert share["k"] == counts.get(category, 0) and share["n"] == counts.sum()


def test_serve_mix_outcomes_and_returns_equal_direct_computations(case):
    table, report, opponent, _ = case
    t = in_play(table)
    first = t[t["k"] == 1].set_index("rally_id")
    serves = first[first["hitter"] == opponent]
    label = serves["shot"].where(serves["shot"].isin(["short service", "long service"]))
    section = report.section("serve_return")
    by_side = pd.crosstab(serves["court_side"], label)
    for side, group in section["serve_mix"]["by court side"]["groups"].items():
        for shot, share in group["shares"].items():
            assert share["k"] == by_side.loc[side, shot] and share["n"] == by_side.loc[side].sum()
    _same_test(section["serve_mix"]["by court side"]["test"], by_side.to_numpy())
    known = serves[serves["winner"].notna()]
    for row in section["serve_outcomes"]:
        part = known[known["shot"] == row["serve"]]
        assert (row["won"]["k"], row["won"]["n"]) == (int((part["winner"] == opponent).sum()), len(part))
    second = t[t["k"] == 2].set_index("rally_id")["shot"]
    faced = first[(first["opponent"] == opponent) & first["winner"].notna()]
    for row in section["return_mix"]:
        part = faced[faced["shot"] == row["serve"]]
        returns = second.reindex(part.index).dropna()
        assert row["won"]["n"] == len(part) and row["won"]["k"] == int((part["winner"] == opponent).sum())
        top = returns.value_counts()
        for item in row["returns"]:
            assert item["share"]["k"] == top[item["shot"]] and item["share"]["n"] == len(returns)
    third = t[t["k"] == 3].set_index("rally_id")["shot"]
    known = known.assign(ret=second.reindex(known.index), third=third.reindex(known.index))
    for row in section["first_three"]:
        part = known[(known["shot"] == row["serve"]) & (known["ret"] == row["return"])]
        assert row["won"]["n"] == len(part) >= 10
        assert row["won"]["k"] == int((part["winner"] == opponent).sum())
        assert row["within_three"]["k"] == int((part["L"] <= 3).sum())
        assert row["third"]["k"] == part["third"].value_counts().iloc[0]


def test_win_rate_by_rally_length_equals_a_direct_computation(case):
    table, report, opponent, _ = case
    r = rally_rows(table)
    r = r[r["ended"] & r["won"].notna()]
    bins = pd.cut(r["length"], [0, 3, 6, 10, 15, np.inf], labels=["1-3", "4-6", "7-10", "11-15", "16+"])
    mine = r["player"] == opponent
    section = report.section("rally_length")
    for row in section["by_length"]["rows"]:
        inside = bins == row["band"]
        for who, mask in (("opponent", mine & inside), ("others", ~mine & inside)):
            assert (row[who]["k"], row[who]["n"]) == (int(r.loc[mask, "won"].astype(bool).sum()), int(mask.sum()))
    mean = section["by_length"]["mean_length"]["opponent"]
    lengths = r.loc[mine, "length"].astype(float)
    assert mean["mean"] == pytest.approx(lengths.mean())
    assert mean["high"] - mean["mean"] == pytest.approx(1.959963984540054 * lengths.std() / np.sqrt(len(lengths)))


def test_shot_mix_by_phase_equals_a_direct_computation(case):
    table, report, opponent, _ = case
    t = in_play(table)
    mine = t[(t["hitter"] == opponent) & (t["k"] >= 2)]
    phase = pd.cut(mine["k"], [1, 4, 8, 14, np.inf], labels=["2-4", "5-8", "9-14", "15+"])
    from strategist.sports import get_sport

    group = mine["shot"].map(dict(get_sport("badminton").groupings["tactic"]))
    table_ = pd.crosstab(phase, group)
    shares = report.section("rally_length")["by_phase"]["groups"]["shares"]
    for p, row in shares.items():
        for g, share in row.items():
            assert share["k"] == table_.loc[p, g] and share["n"] == table_.loc[p].sum()
    _same_test(report.section("rally_length")["by_phase"]["groups"]["test"], table_.to_numpy())


def test_trend_rates_by_year_equal_a_direct_computation(case, shuttleset_strokes):
    table, report, opponent, _ = case
    section = report.section("trends")
    r = rally_rows(table)
    r = r[(r["player"] == opponent) & r["won"].notna()]
    from strategist.scout.matchinfo import read_match_info

    from strategist.data.demo import demo_path

    info = pd.concat([read_match_info(shuttleset_strokes), read_match_info(demo_path())])
    year = r["match_id"].map(info.set_index("match_id")["year"])
    if "year" not in section["groupings"]:
        assert year.nunique() == 1 and any("no change to test by year" in n for n in section["notes"])
        return
    row = next(x for x in section["groupings"]["year"]["rows"] if x["tendency"] == "rallies won")
    for y, rate in row["groups"].items():
        part = r[year.astype(str) == y]
        assert (rate["k"], rate["n"]) == (int(part["won"].astype(bool).sum()), len(part))
        assert rate["matches"] == part["match_id"].nunique()
    per_match = r.groupby("match_id")["won"].agg(["sum", "size"])
    pooled = per_match.groupby(year.groupby(r["match_id"]).first()).sum()
    statistic = sp.chi2_contingency(np.c_[pooled["sum"], pooled["size"] - pooled["sum"]], correction=False).statistic
    assert row["test"]["statistic"] == pytest.approx(statistic)


def test_court_maps_count_the_points_a_direct_selection_gives(case):
    table, report, opponent, player = case
    t = in_play(table)
    mine = t[t["hitter"] == opponent]
    maps = {m["key"]: m for m in report.section("court_maps")["maps"]}
    landed = mine[mine["landing_x_m"].notna()]
    assert maps["landing_all"]["n"] == len(landed)
    counts, _, _ = np.histogram2d(landed["landing_y_m"], -landed["landing_x_m"],
                                  bins=[maps["landing_all"]["y_edges"], maps["landing_all"]["x_edges"]])
    assert np.array_equal(np.array(maps["landing_all"]["counts"]), counts)
    counts = landed["shot"][landed["shot"] != "unknown"].value_counts()
    top = sorted(counts.index, key=lambda shot: (-counts[shot], shot))[:4]
    for shot in top:
        assert maps[f"landing_{shot.replace(' ', '_')}"]["n"] == int((landed["shot"] == shot).sum())
    where = zone(mine["hitter_x_m"], mine["hitter_y_m"])
    for z, rate in maps["hit_from"]["zones"].items():
        assert rate["k"] == int((where == z).sum()) and rate["n"] == int(mine["hitter_x_m"].notna().sum())
    errors = mine[(mine["k"] == mine["L"]) & (mine["end"] == "error") & mine["landing_x_m"].notna()]
    assert maps["errors"]["n"] == len(errors)
    won = t[(t["opponent"] == opponent) & t["won"] & t["landing_x_m"].notna()]
    h2h = won[won["hitter"] == player]
    assert maps["won_against"]["n"] == (len(h2h) if len(h2h) >= scout_maps.MIN_HEAD_TO_HEAD else len(won))
    assert maps["landing_all"]["title"].endswith(f"(n = {len(landed):,})")


def test_every_rate_of_the_report_carries_its_n_and_interval(case):
    _, report, _, _ = case
    found = []

    def walk(value):
        if isinstance(value, dict):
            if {"k", "n", "rate"} <= set(value):
                found.append(value)
                assert {"low", "high"} <= set(value)
                if value["n"]:
                    assert value["low"] <= value["rate"] <= value["high"]
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(report.to_dict())
    assert len(found) > 200


def test_fallbacks_say_so_in_the_report_and_warn(demo):
    from strategist.scout import scout
    from tests.scout.conftest import DEMO_OPPONENT

    with pytest.warns(UserWarning) as caught:
        report = scout(demo, None, DEMO_OPPONENT)
    messages = [str(w.message) for w in caught]
    assert any("year read from the match id" in m for m in messages)
    assert any("every rival" in m for m in messages)
    assert any("year read from the match id" in n for n in report.section("trends")["notes"])
    maps = report.section("court_maps")
    assert any("every rival" in n for n in maps["notes"]) and not maps["head_to_head"]
    assert next(m for m in maps["maps"] if m["key"] == "won_against")["hitter"] == "the rivals"


def test_pressure_and_tempo_sentences_carry_the_tables_numbers(case):
    import re

    _, report, opponent, _ = case
    for row in report.section("pressure")["rows"]:
        numbers = re.findall(r"(\d+) %", row["sentence"])
        assert numbers == [f"{100 * row['in']['rate']:.0f}", f"{100 * row['rest']['rate']:.0f}"]
        assert f"(n = {row['in']['n']:,})" in row["sentence"] and f"(n = {row['rest']['n']:,})" in row["sentence"]
        assert opponent in row["sentence"]
    section = report.section("rally_length")
    for sentence, shift in zip(section["sentences"], section["by_phase"]["shifts"]):
        numbers = re.findall(r"(\d+) %", sentence)
        assert numbers == [f"{100 * shift['from']['rate']:.0f}", f"{100 * shift['to']['rate']:.0f}"]
    assert len(section["sentences"]) == len(section["by_phase"]["shifts"]) > 0
