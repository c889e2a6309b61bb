"""Which shots are candidates in a situation, against a reference written here: the shares shrunk down the
situation hierarchy (phase → incoming group → incoming shot → situation) with every level's strength the
maximiser of scipy's Dirichlet–multinomial likelihood, and the count that decides taken at the finest level
with enough strokes, by pandas."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from strategist.estimation.shrinkage import STRENGTH_BOUNDS
from strategist.rally.model import RallySettings, feasibility, strokes

from .pair import pair_table

LEVELS = ("l0", "l1", "l2", "label")


@pytest.fixture(scope="module")
def st():
    return strokes(pair_table(2, 1), RallySettings())


def _strength(n: np.ndarray, centre: np.ndarray) -> float:
    """argmax over s of Σ_keys log DirMult(n_key | s·centre_key), scipy's bounded search on log s."""
    used = n.sum(1) > 0

    def minus(log_s):
        s = np.exp(log_s)
        return -sum(stats.dirichlet_multinomial.logpmf(n[k], s * np.clip(centre[k], 1e-12, None), int(n[k].sum()))
                    for k in np.flatnonzero(used))

    res = optimize.minimize_scalar(minus, bounds=np.log(STRENGTH_BOUNDS), method="bounded", options={"xatol": 1e-8})
    return float(np.exp(res.x))


def _reference(st, min_share, min_count):
    f = st.frame
    n_actions = len(st.names["action"])
    counts = {lv: pd.crosstab(f[lv], f["action"]).reindex(columns=range(n_actions), fill_value=0) for lv in LEVELS}
    parent_of = {lv: f.groupby(lv)[LEVELS[k - 1]].first() for k, lv in enumerate(LEVELS) if k}
    share = {"l0": (counts["l0"] + 1.0 / n_actions).div(counts["l0"].sum(axis=1) + 1.0, axis=0)}
    strengths = {}
    for k, lv in enumerate(LEVELS[1:], 1):
        n = counts[lv].to_numpy(float)
        centre = share[LEVELS[k - 1]].loc[parent_of[lv].loc[counts[lv].index]].to_numpy()
        s = _strength(n, centre)
        strengths[lv] = s
        share[lv] = pd.DataFrame((n + s * centre) / (n.sum(1, keepdims=True) + s), index=counts[lv].index)
    need = min_count / min_share if min_share > 0 else 0.0
    rows = []
    for label in counts["label"].index:
        keys = {lv: f.loc[f["label"] == label, lv].iat[0] for lv in LEVELS}
        decide = None
        for lv in reversed(LEVELS):                         # the finest level with enough strokes
            if counts[lv].loc[keys[lv]].sum() >= need:
                decide = counts[lv].loc[keys[lv]]
                break
        if decide is None:
            decide = counts["l0"].loc[keys["l0"]]
        for a in range(n_actions):
            rows.append((label, a, int(counts["label"].loc[label, a]), float(share["label"].loc[label, a]),
                         int(decide[a])))
    ref = pd.DataFrame(rows, columns=["label", "action", "count", "share", "level_count"])
    ref["feasible"] = (ref["share"] >= min_share) & (ref["level_count"] >= min_count)
    for label, group in ref.groupby("label"):
        if not group["feasible"].any():
            ref.loc[group["share"].idxmax(), "feasible"] = True
    return ref[(ref["count"] > 0) | ref["feasible"]].reset_index(drop=True), strengths


@pytest.mark.parametrize("min_share, min_count", [(0.02, 10), (0.05, 3), (0.3, 40), (0.0, 0)])
def test_candidates_are_the_shrunk_shares_and_counts_of_a_reference(st, min_share, min_count):
    got = feasibility(st, min_share, min_count)
    ref, strengths = _reference(st, min_share, min_count)
    frame = got.frame.sort_values(["label", "action"]).reset_index(drop=True)
    ref = ref.sort_values(["label", "action"]).reset_index(drop=True)
    assert frame[["label", "action", "count", "level_count"]].to_numpy().tolist() == \
        ref[["label", "action", "count", "level_count"]].to_numpy().tolist()
    np.testing.assert_allclose(frame["share"], ref["share"], rtol=2e-3, atol=1e-6)
    assert frame["feasible"].tolist() == ref["feasible"].tolist()
    assert np.log(got.strength) == pytest.approx(np.log(strengths["label"]), abs=2e-3)
    assert (got.min_share, got.min_count) == (min_share, min_count)
    for label in frame["label"].unique():
        expected = frame.loc[(frame["label"] == label) & frame["feasible"], "action"].to_numpy()
        assert got.candidates(label).tolist() == sorted(expected.tolist())


def test_the_count_that_decides_moves_up_to_a_level_with_enough_strokes(st):
    """With a bar of 10 strokes at a share of 0.3 (34 strokes), rare situations decide by a coarser level,
    common ones by themselves."""
    got = feasibility(st, 0.3, 10).frame
    per_label = st.frame["label"].value_counts()
    rare = per_label[per_label < 10 / 0.3].index
    common = per_label[per_label >= 10 / 0.3].index
    assert len(rare) and len(common)
    mine = got[got["label"].isin(common)]
    assert (mine["level_count"] == mine["count"]).all()
    theirs = got[got["label"].isin(rare)]
    assert (theirs["level_count"] >= theirs["count"]).all() and (theirs["level_count"] > theirs["count"]).any()


def test_a_situation_where_nothing_passes_keeps_its_commonest_shot(st):
    got = feasibility(st, 0.9, 10_000).frame
    for label, group in got.groupby("label"):
        assert group["feasible"].sum() == 1
        assert group.loc[group["feasible"], "share"].iat[0] == group["share"].max()


def test_both_bars_are_inclusive(st):
    """A shot whose shrunk share is exactly ``min_share`` is a candidate; a situation with exactly
    ``min_count / min_share`` strokes decides by its own counts, not its incoming shot's (here N strokes, a
    bar of N/2 at a share of 0.5, checked against the reference)."""
    frame = feasibility(st, 0.02, 10).frame
    share_max = frame.groupby("label")["share"].transform("max")
    row = frame[(frame["level_count"] >= 10) & (frame["share"] < share_max) & frame["feasible"]].iloc[0]
    at_bar = feasibility(st, float(row["share"]), 10).frame.set_index(["label", "action"])
    assert at_bar.loc[(row["label"], row["action"]), "share"] == row["share"]
    assert at_bar.loc[(row["label"], row["action"]), "feasible"]

    f = st.frame
    per_label = f["label"].value_counts()
    parent = f.groupby("label")["l2"].first().map(f["l2"].value_counts())      # its incoming shot's strokes
    n = int(per_label[(per_label % 2 == 0) & (per_label >= 20) & (parent[per_label.index] > per_label)].iat[0])
    got = feasibility(st, 0.5, n // 2).frame.sort_values(["label", "action"]).reset_index(drop=True)
    ref, _ = _reference(st, 0.5, n // 2)
    ref = ref.sort_values(["label", "action"]).reset_index(drop=True)
    assert got[["label", "action", "level_count", "feasible"]].to_numpy().tolist() == \
        ref[["label", "action", "level_count", "feasible"]].to_numpy().tolist()
    own = got[got["label"].isin(per_label[per_label == n].index)]
    assert len(own) and (own["level_count"] == own["count"]).all()
