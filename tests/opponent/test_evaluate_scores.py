"""Held-out scores of an opponent model, worked by hand: log-loss, top-1 / top-3, the reliability bins and the
expected calibration error, the seen / unseen split by hitter, the held-out matches, the reliability diagram."""

from __future__ import annotations

import math
import struct

import numpy as np
import pandas as pd
import pytest

from strategist.errors import OpponentModelError
from strategist.opponent.base import Vocabulary
from strategist.opponent.evaluate import ece, evaluate, held_out, reliability, reliability_plot, scores

SHOTS = ("a", "b", "c", "d")
SERVE = [0.25, 0.25, 0.25, 0.25]
SECOND = [0.1, 0.62, 0.2, 0.08]
THIRD = [0.5, 0.25, 0.15, 0.1]
LEARNT = [0.05, 0.05, 0.05, 0.85]


class StandIn:
    """Predicts by stroke number (SERVE, SECOND, THIRD); after an in-match update, LEARNT for every stroke."""

    kind = "stand-in"

    def __init__(self, split=None):
        self.vocabulary = Vocabulary("x", SHOTS, ())
        self.players_ = {"P"}
        self.split_ = split
        self.updates = 0

    def predict_table(self, frame):
        if self.updates:
            return np.tile(LEARNT, (len(frame), 1))
        return np.array([{1: SERVE, 2: SECOND, 3: THIRD}[s] for s in frame["stroke"]], dtype=float)

    def update(self, rally):
        self.updates += 1
        return self

    def reset(self):
        self.updates = 0
        return self


def _table() -> pd.DataFrame:
    rows = [("m3", "m3-1", 1, "R", "a"), ("m3", "m3-1", 2, "Q", "b"), ("m3", "m3-1", 3, "P", "c"),
            ("m3", "m3-2", 1, "Q", "a"), ("m3", "m3-2", 2, "P", "d"),
            ("m1", "m1-1", 1, "Z", "a"), ("m1", "m1-1", 2, "Z", "a"), ("m2", "m2-1", 1, "Y", "b"),
            ("m2", "m2-1", 2, "Y", "b")]
    table = pd.DataFrame(rows, columns=["match_id", "rally_id", "stroke", "hitter", "shot"])
    table["opponent"] = "P"
    table["set"] = 1
    table["rally"] = table["rally_id"].str[-1].astype(int)
    return table.iloc[::-1].reset_index(drop=True)


SPLIT = {"train": ["m1"], "valid": ["m2"], "test": ["m3"]}


def test_scores_of_probability_rows_by_hand():
    probs = np.array([[0.1, 0.5, 0.3, 0.1, 0.0], [0.4, 0.3, 0.2, 0.06, 0.04], [0.0, 0.8, 0.1, 0.06, 0.04]])
    targets = np.array([1, 3, 0])
    s = scores(probs, targets, bins=2)
    assert s["n"] == 3
    assert s["log_loss"] == pytest.approx(-(math.log(0.5) + math.log(0.06) + math.log(1e-12)) / 3)  # 0 clipped
    assert s["top1"] == pytest.approx(1 / 3)
    assert s["top3"] == pytest.approx(1 / 3)                  # 0.06 is 4th in row 2, 0.0 last in row 3
    # bins of width 1/2: confidences 0.5 (upper bin), 0.4 (lower), 0.8 (upper); correct: yes, no, no
    assert s["ece"] == pytest.approx(1 / 3 * abs(0 - 0.4) + 2 / 3 * abs(0.5 - 0.65))
    assert scores(probs[:0], targets[:0]) == {"log_loss": None, "top1": None, "top3": None, "ece": None, "n": 0}


def test_scores_top3_counts_the_third_most_likely_shot():
    probs = np.array([[0.4, 0.3, 0.2, 0.1], [0.4, 0.3, 0.2, 0.1]])
    s = scores(probs, np.array([2, 3]))
    assert s["top3"] == 0.5 and s["top1"] == 0.0


def test_reliability_bins_their_edges_and_empty_bins_left_out():
    conf = np.array([0.0, 0.1, 0.5, 0.55, 0.99, 1.0])
    correct = np.array([True, False, True, True, False, True])
    rows = reliability(conf, correct, bins=4)
    assert rows == [
        {"low": 0.0, "high": 0.25, "n": 2, "confidence": pytest.approx(0.05), "accuracy": 0.5},
        {"low": 0.5, "high": 0.75, "n": 2, "confidence": pytest.approx(0.525), "accuracy": 1.0},  # 0.5 goes up
        {"low": 0.75, "high": 1.0, "n": 2, "confidence": pytest.approx(0.995), "accuracy": 0.5},  # 1.0 in the last
    ]
    assert all(type(r["n"]) is int and type(r["low"]) is float for r in rows)
    default = reliability(np.array([0.5]), np.array([True]))
    assert default == [{"low": pytest.approx(7 / 15), "high": pytest.approx(8 / 15), "n": 1, "confidence": 0.5,
                        "accuracy": 1.0}]


def test_ece_weighs_each_bin_by_its_share_of_strokes():
    conf = np.array([0.1, 0.2, 0.9, 0.8, 0.7])
    correct = np.array([False, True, True, True, False])
    assert ece(conf, correct, bins=2) == pytest.approx(2 / 5 * abs(0.5 - 0.15) + 3 / 5 * abs(2 / 3 - 0.8))
    assert ece(conf, correct) == pytest.approx(sum(abs(c - k) for c, k in zip(conf, correct)) / 5)  # one each


def test_held_out_leaves_out_the_training_and_validation_matches():
    table = _table()
    assert sorted(held_out(StandIn(SPLIT), table)["match_id"].unique()) == ["m3"]
    assert sorted(held_out(StandIn({"train": ["m1"]}), table)["match_id"].unique()) == ["m2", "m3"]
    assert sorted(held_out(StandIn({"valid": ["m2"]}), table)["match_id"].unique()) == ["m1", "m3"]
    assert len(held_out(StandIn(None), table)) == len(table)
    assert len(held_out(StandIn({}), table)) == len(table)
    numbered = table.assign(match_id=table["match_id"].str[1].astype(int))      # ids compared as text
    assert sorted(held_out(StandIn({"train": ["1"], "valid": ["2"]}), numbered)["match_id"].unique()) == [3]
    with pytest.raises(OpponentModelError, match="nothing is held out"):
        held_out(StandIn({"train": ["m1", "m3"], "valid": ["m2"]}), table)


def test_evaluate_by_hand_with_seen_and_unseen_hitters():
    result = evaluate(StandIn(SPLIT), _table())
    # scored strokes of m3: m3-1 stroke 2 (Q, b: 0.62, right), stroke 3 (P, c: 0.15, wrong),
    # m3-2 stroke 2 (P, d: 0.08, wrong and outside the top 3)
    assert result["n"] == 3 and result["matches"] == 1
    assert result["log_loss"] == pytest.approx(-(math.log(0.62) + math.log(0.15) + math.log(0.08)) / 3)
    assert result["top1"] == pytest.approx(1 / 3) and result["top3"] == pytest.approx(2 / 3)
    assert result["ece"] == pytest.approx(2 / 3 * abs(0.5 - 0.62) + 1 / 3 * abs(0 - 0.5))
    assert result["reliability"] == [
        {"low": pytest.approx(7 / 15), "high": pytest.approx(8 / 15), "n": 1, "confidence": 0.5, "accuracy": 0.0},
        {"low": pytest.approx(9 / 15), "high": pytest.approx(10 / 15), "n": 2, "confidence": pytest.approx(0.62),
         "accuracy": 0.5}]
    seen, unseen = result["seen"], result["unseen"]
    assert seen["n"] == 2 and seen["log_loss"] == pytest.approx(-(math.log(0.15) + math.log(0.08)) / 2)
    assert seen["top1"] == 0.0
    assert unseen["n"] == 1 and unseen["log_loss"] == pytest.approx(-math.log(0.62)) and unseen["top1"] == 1.0
    assert result["unseen_players"] == ["Q", "R"]             # R only serves: listed though never scored
    assert result["adapt"] is False and result["model"] == "stand-in"


def test_evaluate_with_in_match_updates_and_on_every_match():
    model = StandIn(SPLIT)
    result = evaluate(model, _table(), adapt=True, bins=2)
    # m3-2 comes after m3-1 in the match: its stroke 2 (d) is predicted with LEARNT, 0.85
    assert result["log_loss"] == pytest.approx(-(math.log(0.62) + math.log(0.15) + math.log(0.85)) / 3)
    assert result["top1"] == pytest.approx(2 / 3) and result["adapt"] is True
    assert result["ece"] == pytest.approx(abs(2 / 3 - (0.62 + 0.5 + 0.85) / 3))    # all in the upper bin
    assert len(result["reliability"]) == 1 and result["reliability"][0]["low"] == 0.5
    assert model.updates == 0
    everything = evaluate(StandIn(SPLIT), _table(), only_held_out=False)
    assert everything["matches"] == 3 and everything["n"] == 5
    assert everything["unseen_players"] == ["Q", "R", "Y", "Z"]
    assert everything["seen"]["n"] == 2 and everything["unseen"]["n"] == 3


def test_evaluate_with_no_scored_stroke_of_a_group():
    table = _table()
    table.loc[table["hitter"] == "Q", "hitter"] = "P"
    result = evaluate(StandIn(SPLIT), table)
    assert result["unseen"] == {"log_loss": None, "top1": None, "top3": None, "ece": None, "n": 0}
    assert result["seen"]["n"] == 3 and result["unseen_players"] == ["R"]


def _png_size(path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_reliability_plot_draws_the_bins_and_the_diagonal(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    figures = []
    real_close = plt.close
    monkeypatch.setattr(plt, "close", lambda fig=None: (figures.append(fig), real_close(fig)))
    result = evaluate(StandIn(SPLIT), _table())
    path = reliability_plot(result, tmp_path / "deep" / "er" / "plot.png")
    assert path == tmp_path / "deep" / "er" / "plot.png" and path.is_file()
    assert _png_size(path) == (576, 528)                        # 4.8 x 4.4 inches at 120 dpi
    (fig,) = figures
    (ax,) = fig.axes
    assert ax.get_title() == f"stand-in: ECE {result['ece']:.3f}, n = 3"
    assert ax.title.get_fontsize() == 9
    assert ax.get_xlabel() == "top-1 probability" and ax.get_ylabel() == "top-1 accuracy"
    assert ax.get_xlim() == (0.0, 1.0) and ax.get_ylim() == (0.0, 1.0)
    diagonal, points = ax.lines
    assert list(diagonal.get_xdata()) == [0, 1] and list(diagonal.get_ydata()) == [0, 1]
    assert diagonal.get_linestyle() == "--" and diagonal.get_linewidth() == 1 and diagonal.get_color() == "grey"
    assert list(points.get_xdata()) == pytest.approx([0.5, 0.62]) and list(points.get_ydata()) == [0.0, 0.5]
    assert points.get_marker() == "o" and points.get_markersize() == 3 and points.get_color() == "C1"
    bars = ax.patches
    assert [b.get_x() for b in bars] == pytest.approx([7 / 15, 9 / 15])
    assert [b.get_width() for b in bars] == pytest.approx([1 / 15, 1 / 15])
    assert [b.get_height() for b in bars] == [0.0, 0.5]
    assert all(b.get_alpha() == 0.6 and tuple(b.get_edgecolor()) == (0, 0, 0, 0.6) for b in bars)
    legend = ax.get_legend()
    assert [t.get_text() for t in legend.get_texts()] == ["perfect calibration", "(mean confidence, accuracy)",
                                                          "accuracy in bin"]
    assert legend.get_texts()[0].get_fontsize() == 7 and legend._loc == 2           # upper left
    named = reliability_plot(result, tmp_path / "named.png", title="my title")
    assert named.is_file() and figures[-1].axes[0].get_title() == "my title"


def test_fifteen_bins_by_default():
    # 0.46 and 0.48 lie in different fifteenths (6/15 < 0.46 < 7/15 < 0.48) but in one sixteenth
    conf, correct = np.array([0.46, 0.48]), np.array([True, False])
    assert ece(conf, correct) == pytest.approx((0.54 + 0.48) / 2)
    assert len(reliability(conf, correct)) == 2
    probs = np.array([[0.46, 0.3, 0.24], [0.48, 0.04, 0.48]])   # row 2: argmax 0 (first of the tie), target 1
    assert scores(probs, np.array([0, 1]))["ece"] == pytest.approx((0.54 + 0.48) / 2)


def test_log_loss_is_never_negative_when_rounding_lifts_a_probability_above_one():
    probs = np.array([[1.0000000000000004, 0.0], [0.5, 0.5]])
    assert scores(probs[:1], np.array([0]))["log_loss"] == 0.0
    assert scores(probs, np.array([0, 1]))["log_loss"] == pytest.approx(math.log(2) / 2)


def test_evaluate_names_the_data_for_a_shot_outside_the_vocabulary():
    table = _table()
    table.loc[table["rally_id"] == "m3-2", "shot"] = "zzz"
    with pytest.raises(OpponentModelError, match=r"^data: shot 'zzz'"):
        evaluate(StandIn(SPLIT), table)


@pytest.mark.parametrize("players", [{"P"}, {"Q", "R"}])
def test_the_seen_and_unseen_groups_use_the_bins_asked_for(players):
    model = StandIn(SPLIT)
    model.players_ = players
    result = evaluate(model, _table(), adapt=True, bins=2)
    # P's strokes: c at confidence 0.5 (wrong), d at 0.85 (right, LEARNT): one bin of width 1/2
    p_group = result["seen"] if players == {"P"} else result["unseen"]
    assert p_group["n"] == 2 and p_group["ece"] == pytest.approx(abs(0.5 - (0.5 + 0.85) / 2))
    assert result["reliability"] == [{"low": 0.5, "high": 1.0, "n": 3, "confidence": pytest.approx(1.97 / 3),
                                      "accuracy": pytest.approx(2 / 3)}]


def test_a_plot_of_no_bins_keeps_both_axes_from_zero_to_one(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    figures = []
    real_close = plt.close
    monkeypatch.setattr(plt, "close", lambda fig=None: (figures.append(fig), real_close(fig)))
    reliability_plot({"reliability": [], "model": "none"}, tmp_path / "empty.png", title="nothing scored")
    ax = figures[0].axes[0]
    assert ax.get_xlim() == (0.0, 1.0) and ax.get_ylim() == (0.0, 1.0) and len(ax.patches) == 0
