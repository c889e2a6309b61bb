"""The held-out split: whole matches, ranked by the SHA-1 of their id (the rule of the ShuttleSet README).

With few matches a hash-modulo rule gives lumpy splits, so matches are sorted by the hex digest of
``sha1(match_id)`` and the first ``round(fraction * n)`` are held out. The same rule, applied to the
training matches alone, gives the validation matches used for early stopping and tuning.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pandas as pd


def rank_matches(match_ids) -> list[str]:
    """Distinct match ids sorted by the hex SHA-1 of their UTF-8 text."""
    return sorted({str(m) for m in match_ids}, key=lambda m: hashlib.sha1(m.encode("utf-8")).hexdigest())


def held_out_matches(match_ids, fraction: float = 0.2) -> set[str]:
    """The ``round(fraction * n)`` matches that come first in :func:`rank_matches`."""
    ranked = rank_matches(match_ids)
    return set(ranked[:round(fraction * len(ranked))])


@dataclass(frozen=True)
class Split:
    """Match ids of the training, validation (early stopping) and evaluation parts."""

    train: tuple[str, ...]
    valid: tuple[str, ...]
    test: tuple[str, ...]

    def to_json(self) -> dict:
        return {"rule": "sha1-rank by match_id", "train": list(self.train), "valid": list(self.valid),
                "test": list(self.test)}

    @classmethod
    def from_json(cls, data: dict) -> "Split":
        return cls(tuple(data["train"]), tuple(data["valid"]), tuple(data["test"]))


def split_matches(table: pd.DataFrame, test_fraction: float = 0.2, valid_fraction: float = 0.1) -> Split:
    """Test = the README rule on all matches; valid = the same rule on the remaining matches."""
    ids = rank_matches(table["match_id"].dropna().unique())
    test = held_out_matches(ids, test_fraction) if test_fraction > 0 else set()
    rest = [m for m in ids if m not in test]
    valid = held_out_matches(rest, valid_fraction) if valid_fraction > 0 and len(rest) > 1 else set()
    train = [m for m in rest if m not in valid]
    return Split(tuple(sorted(train)), tuple(sorted(valid)), tuple(sorted(test)))


def select(table: pd.DataFrame, matches) -> pd.DataFrame:
    """Rows of ``table`` whose match is in ``matches``."""
    return table[table["match_id"].isin(list(matches))].reset_index(drop=True)
