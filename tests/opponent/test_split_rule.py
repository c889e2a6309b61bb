"""The held-out split rule: whole matches ranked by the SHA-1 of their id, the first round(fraction * n) held out."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from strategist.opponent.split import Split, held_out_matches, rank_matches, select, split_matches


def _sha(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


# Hand-checked digests: sha1("a") = 86f7e437..., sha1("b") = e9d71f5e..., sha1("c") = 84a51684...,
# sha1("d") = 3c363836..., sha1("e") = 58e6b3a4...: so the rank is d, e, c, a, b.
HAND_RANK = ["d", "e", "c", "a", "b"]


def test_the_rank_is_the_order_of_the_hex_sha1_digests():
    assert _sha("a").startswith("86f7e437") and _sha("d").startswith("3c363836")
    assert rank_matches(["a", "b", "c", "d", "e"]) == HAND_RANK
    assert rank_matches(["b", "a", "e", "d", "c", "a", "b"]) == HAND_RANK   # repeated ids counted once


def test_ids_are_ranked_as_text_and_non_ascii_ids_by_their_utf8_bytes():
    ids = [3, "3", 10, "é-match", "ü"]
    ranked = rank_matches(ids)
    assert ranked == sorted({"3", "10", "é-match", "ü"}, key=_sha)
    assert all(isinstance(m, str) for m in ranked)


def test_held_out_is_the_first_round_fraction_n_of_the_rank():
    ids = list("abcde")
    assert held_out_matches(ids) == {"d"}                    # default 0.2 of 5 = 1
    assert held_out_matches(ids, 0.4) == {"d", "e"}
    assert held_out_matches(ids, 0.5) == {"d", "e"}          # round(2.5) = 2 (to even)
    assert held_out_matches(ids, 0.7) == {"d", "e", "c", "a"}  # round(3.5) = 4
    assert held_out_matches(ids, 0.0) == set()
    assert held_out_matches(ids, 1.0) == set(ids)


def _table(ids) -> pd.DataFrame:
    rows = [{"match_id": m, "rally_id": f"{m}-{r}", "stroke": s} for m in ids for r in range(2) for s in range(2)]
    return pd.DataFrame(rows)


def test_split_matches_defaults_hold_out_a_fifth_then_a_tenth_of_the_rest():
    ids = [f"m{i:02d}" for i in range(20)]
    ranked = sorted(ids, key=_sha)
    split = split_matches(_table(ids))
    assert split.test == tuple(sorted(ranked[:4]))           # round(0.2 * 20)
    rest = ranked[4:]
    assert split.valid == tuple(sorted(rest[:2]))            # round(0.1 * 16) = 2, ranked among the rest
    assert split.train == tuple(sorted(rest[2:]))
    assert list(split.train) == sorted(split.train)


def test_split_matches_zero_fractions_and_a_single_remaining_match():
    ids = [f"m{i:02d}" for i in range(20)]
    none_tested = split_matches(_table(ids), test_fraction=0.0, valid_fraction=0.0)
    assert none_tested.test == () and none_tested.valid == () and none_tested.train == tuple(sorted(ids))
    ranked = sorted(ids, key=_sha)
    no_valid = split_matches(_table(ids), test_fraction=0.5, valid_fraction=0.0)
    assert no_valid.test == tuple(sorted(ranked[:10])) and no_valid.valid == ()
    # Two matches, half held out: one left, which stays for training even with valid_fraction = 1.
    two = split_matches(_table(["a", "b"]), test_fraction=0.5, valid_fraction=1.0)
    assert two.test == ("a",) and two.valid == () and two.train == ("b",)
    # A negative fraction holds out nothing (it is not read as "all but the last few", as a slice would).
    negative = split_matches(_table(ids), test_fraction=-0.2, valid_fraction=-0.1)
    assert negative.test == () and negative.valid == () and negative.train == tuple(sorted(ids))
    # Three matches, a third held out: two left, so one can go to validation.
    three = split_matches(_table(["a", "b", "c"]), test_fraction=1 / 3, valid_fraction=0.5)
    assert three.test == ("c",) and three.valid == ("a",) and three.train == ("b",)


def test_split_matches_skips_rows_without_a_match():
    table = _table(["a", "b", "c", "d", "e"])
    table.loc[0, "match_id"] = np.nan
    table = pd.concat([table, pd.DataFrame([{"match_id": None, "rally_id": "x", "stroke": 0}])])
    split = split_matches(table, test_fraction=0.2, valid_fraction=0.0)
    assert set(split.train) | set(split.test) == set("abcde")
    assert split.test == ("d",)


def test_split_json_round_trip_names_the_rule():
    split = Split(("a", "b"), ("c",), ("d",))
    data = split.to_json()
    assert data == {"rule": "sha1-rank by match_id", "train": ["a", "b"], "valid": ["c"], "test": ["d"]}
    assert Split.from_json(data) == split
    assert Split.from_json({"train": ["a"], "valid": [], "test": ["d"]}) == Split(("a",), (), ("d",))


def test_select_keeps_the_rows_of_the_matches_named_renumbered():
    table = _table(["a", "b", "c"])
    out = select(table, {"c", "a"})
    assert list(out.index) == list(range(8))
    assert list(out.columns) == list(table.columns)          # the old index is dropped, not kept as a column
    assert list(out["match_id"]) == ["a"] * 4 + ["c"] * 4
    assert select(table, iter(["b"]))["match_id"].tolist() == ["b"] * 4
