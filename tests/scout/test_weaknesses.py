"""Weaknesses and strengths: every rate against a direct pandas computation, the q-values against scipy,
the sentences' numbers against the table."""

import re

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sp

from tests.scout.reference import in_play, rally_rows, zone


def _direct_situation(t: pd.DataFrame, kind: str, key: str) -> pd.Series:
    if kind == "shot":
        return t["shot"] == key
    if kind == "wing":
        return t["wing"] == key
    if kind == "zone":
        return zone(t["hitter_x_m"], t["hitter_y_m"]) == key
    if kind == "wing_zone":
        wing, where = key.split("|")
        return (t["wing"] == wing) & (zone(t["hitter_x_m"], t["hitter_y_m"]) == where)
    if kind == "incoming":
        return t["prev"] == key
    raise AssertionError(kind)


def test_every_shot_situation_rate_equals_a_direct_pandas_computation(case):
    table, report, opponent, _ = case
    t = in_play(table)
    t = t[t["ended"]]
    rows = [r for r in report.section("weaknesses")["rows"] if r["unit"] == "strokes"]
    assert len(rows) > 20 and {r["kind"] for r in rows} >= {"shot", "wing", "zone", "wing_zone", "incoming"}
    mine = (t["hitter"] == opponent).fillna(False)
    for row in rows:
        inside = _direct_situation(t, row["kind"], row["key"]).fillna(False)
        flag = t[row["outcome"]]
        for who, mask in (("opponent", mine & inside), ("others", ~mine & inside)):
            assert row[who]["n"] == int(mask.sum()), row
            assert row[who]["k"] == int((flag & mask).sum()), row
        mine_k, mine_n, other_k, other_n = (row["opponent"]["k"], row["opponent"]["n"], row["others"]["k"],
                                            row["others"]["n"])
        expected = sp.fisher_exact([[mine_k, mine_n - mine_k], [other_k, other_n - other_k]]).pvalue
        assert row["p"] == pytest.approx(expected, rel=1e-6)


def test_every_ending_rate_equals_a_direct_pandas_computation(case):
    table, report, opponent, _ = case
    r = rally_rows(table)
    r = r[r["ended"] & r["winner"].notna()]
    own_last = r["last_hitter"] == r["player"]
    ending = np.select([own_last & r["won"].astype(bool), own_last & ~r["won"].astype(bool),
                        ~own_last & ~r["won"].astype(bool)], ["their winner", "their error", "rival's winner"],
                       "rival's error")
    mine = r["player"] == opponent
    rows = [x for x in report.section("weaknesses")["rows"] if x["unit"] == "rallies"]
    assert {x["key"] for x in rows if x["kind"] == "ending"} == {"their winner", "their error", "rival's winner",
                                                                 "rival's error"}
    t = in_play(table)
    last = t[t["k"] == t["L"]].set_index("rally_id")
    last_zone = zone(last["hitter_x_m"], last["hitter_y_m"])
    for x in rows:
        if x["kind"] == "ending":
            hit = pd.Series(ending == x["key"], index=r.index)
        elif x["kind"] == "error_kind":
            hit = pd.Series(ending == "their error", index=r.index) & (r["error"] == x["key"])
        else:
            hit = pd.Series(ending == "their error", index=r.index) & (r["rally_id"].map(last_zone) == x["key"])
        hit = hit.fillna(False)
        assert (x["opponent"]["k"], x["opponent"]["n"]) == (int((hit & mine).sum()), int(mine.sum())), x
        assert (x["others"]["k"], x["others"]["n"]) == (int((hit & ~mine).sum()), int((~mine).sum())), x


def test_q_values_are_scipys_benjamini_hochberg_and_the_picks_are_the_largest_significant(case):
    _, report, _, _ = case
    section = report.section("weaknesses")
    rows = section["rows"]
    q = sp.false_discovery_control([r["p"] for r in rows], method="bh")
    np.testing.assert_allclose([r["q"] for r in rows], q, rtol=1e-10)
    harm = [(r["difference"] if r["outcome"] == "lost" else -r["difference"]) for r in rows]
    for picks, sign in ((section["weakness_rows"], 1), (section["strength_rows"], -1)):
        candidates = [i for i, r in enumerate(rows) if r["q"] < 0.05 and harm[i] * sign > 0]
        best = sorted(candidates, key=lambda i: (-abs(rows[i]["difference"]), -rows[i]["opponent"]["n"]))[:3]
        assert picks == best


def test_the_sentences_numbers_are_the_tables(case):
    _, report, opponent, _ = case
    section = report.section("weaknesses")
    picked = [section["rows"][i] for i in section["weakness_rows"] + section["strength_rows"]]
    assert [r["sentence"] for r in picked] == report.weaknesses + report.strengths
    assert picked, "the data give at least one significant finding"
    for row in picked:
        numbers = re.findall(r"(\d+) %", row["sentence"])
        assert numbers == [f"{100 * row['opponent']['rate']:.0f}", f"{100 * row['others']['rate']:.0f}"]
        assert f"(n = {row['opponent']['n']:,} " in row["sentence"] and row["sentence"].startswith(opponent)
        assert not re.search(r"\b(he|she|his|her|him)\b", row["sentence"], flags=re.I)


def test_the_shuttleset_weaknesses_of_chou_tien_chen(shuttle_report):
    """The real data: CHOU Tien Chen's pushes win and lose fewer rallies than the other players' (q < 0.05)."""
    rows = {(r["kind"], r["key"], r["outcome"]): r for r in shuttle_report.section("weaknesses")["rows"]}
    push = rows[("shot", "push", "won")]
    assert push["significant"] and push["opponent"]["rate"] < push["others"]["rate"]
    assert "pushes" in shuttle_report.weaknesses[0]
