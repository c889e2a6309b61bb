"""Inputs hidden in training as they go missing in use, on a batch with every field recorded: each field hidden
from a stroke on to the rally's end (all together or each on its own), single strokes hidden at random, the
"missing" codes and indicators, and the rallies' share that is masked."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from strategist.opponent import NeuralModel
from strategist.opponent.neural import MASKABLE, batch_of, encode_table, hide_all, mask_inputs, to_tensors
from strategist.sports import get_sport

AREAS = list(get_sport("badminton").areas)


@pytest.fixture(scope="module")
def batch():
    """200 rallies of 2 to 12 strokes, every field recorded (wing, height, score) but a tenth of the hitters' and,
    on other strokes, of the opponents' positions."""
    rng = np.random.default_rng(4)
    rows = []
    for r in range(200):
        for k in range(1, int(rng.integers(2, 13)) + 1):
            rows.append({"match_id": "m", "rally_id": f"r{r}", "stroke": k, "hitter": "AB"[k % 2],
                         "opponent": "BA"[k % 2], "shot": "short service" if k == 1 else "drive",
                         "landing_area": AREAS[int(rng.integers(0, len(AREAS)))],
                         "wing": ["forehand", "backhand"][int(rng.integers(0, 2))],
                         "landing_height": ["high", "low"][int(rng.integers(0, 2))],
                         "hitter_x": rng.normal(), "hitter_y": rng.normal(), "opponent_x": rng.normal(),
                         "opponent_y": rng.normal(), "hitter_score": float(rng.integers(0, 21)),
                         "opponent_score": float(rng.integers(0, 21)), "server": "A"})
    frame = pd.DataFrame(rows)
    gone = rng.random(len(frame))
    frame.loc[gone < 0.1, "hitter_x"] = np.nan
    frame.loc[gone > 0.9, "opponent_y"] = np.nan
    model = NeuralModel(hidden=4, d_shot=2, d_area=2, d_player=2, d_height=2)
    model.build(["A", "B"], {"mean": [0.0] * 4, "std": [1.0] * 4})
    data = to_tensors(encode_table(model._encoder, frame), "cpu")
    return batch_of(data, torch.arange(len(data["lengths"])))


def _hidden(b, m) -> dict[str, torch.Tensor]:
    """Per field of MASKABLE, where ``m`` hides what ``b`` holds."""
    return {"landing_area": (m["area"] == 0) & (b["area"] != 0), "wing": (m["wing"] == 0) & (b["wing"] != 0),
            "landing_height": (m["height"] == 0) & (b["height"] != 0),
            "hitter_position": (m["num"][..., 4] == 1) & (b["num"][..., 4] == 0),
            "opponent_position": (m["num"][..., 5] == 1) & (b["num"][..., 5] == 0),
            "score": (m["ctx"][..., 2] == 1) & (b["ctx"][..., 2] == 0)}


def _observable(b) -> dict[str, torch.Tensor]:
    """Per field, the steps whose hiding can be seen: the field was recorded there."""
    return {"landing_area": b["area"] != 0, "wing": b["wing"] != 0, "landing_height": b["height"] != 0,
            "hitter_position": b["num"][..., 4] == 0, "opponent_position": b["num"][..., 5] == 0,
            "score": b["ctx"][..., 2] == 0}


def _model():
    model = NeuralModel(hidden=4, d_shot=2, d_area=2, d_player=2, d_height=2)
    model.build(["A", "B"], {"mean": [0.0] * 4, "std": [1.0] * 4})
    return model


def test_hidden_fields_take_their_missing_codes_and_the_rest_stays(batch):
    torch.manual_seed(0)
    m = mask_inputs(batch, 1.0, 0.0)
    h = _hidden(batch, m)
    for k, name in enumerate(("hitter_position", "opponent_position")):
        cols = slice(2 * k, 2 * k + 2)
        assert torch.all(m["num"][..., cols][h[name]] == 0)
        assert torch.equal(m["num"][..., cols][~h[name]], batch["num"][..., cols][~h[name]])
        # each indicator its own: set where hidden, as recorded elsewhere (some were missing to begin with)
        assert torch.all(m["num"][..., 4 + k][h[name]] == 1)
        assert torch.equal(m["num"][..., 4 + k][~h[name]], batch["num"][..., 4 + k][~h[name]])
    assert torch.all(m["ctx"][..., :2][h["score"]] == 0)
    assert torch.equal(m["ctx"][..., :2][~h["score"]], batch["ctx"][..., :2][~h["score"]])
    for name, key in (("landing_area", "area"), ("wing", "wing"), ("landing_height", "height")):
        assert torch.equal(m[key][~h[name]], batch[key][~h[name]])
    for key in ("shot", "player", "opponent", "stroke", "target", "rows", "lengths"):
        assert torch.equal(m[key], batch[key])
    assert torch.equal(m["num"][..., 6], batch["num"][..., 6]) and torch.equal(m["ctx"][..., 3], batch["ctx"][..., 3])
    valid = batch["target"] >= 0
    assert batch["ctx"][..., 2].sum() == 0                                            # every score recorded
    recorded_missing = batch["num"][..., 4:6][valid[:, :]]
    assert recorded_missing[:, 0].any() and recorded_missing[:, 1].any()
    assert not (recorded_missing[:, 0].bool() & recorded_missing[:, 1].bool()).all()


def test_every_masked_rally_hides_suffixes_together_or_one_field_at_a_time(batch):
    """mask_rallies 1: in every rally each hidden field is hidden from one step to the rally's end (the start
    step only for the score); in about half the rallies every field is hidden from the same step (from the start
    in about half of those); in the others each field is hidden on its own with probability 1/2."""
    torch.manual_seed(1)
    m = mask_inputs(batch, 1.0, 0.0)
    h = _hidden(batch, m)
    valid = batch["target"] >= 0
    seen = _observable(batch)
    steps = torch.arange(valid.shape[1])[None, :].expand_as(valid)
    starts = {}
    for name in MASKABLE:
        obs = valid & seen[name]
        first = torch.where(h[name] & obs, steps, 10 ** 6).min(1).values
        # a suffix: hidden at every step from the first hidden one on (where it was recorded)
        assert torch.equal(h[name] & obs, obs & (steps >= first[:, None])), name
        if name != "score":
            assert not h[name][:, 0].any()
        starts[name] = first
    stacked = torch.stack([starts[n] for n in MASKABLE if n != "score"])
    together = (stacked == stacked[0]).all(0) & (stacked[0] < 10 ** 6)
    everything = together & (starts["score"] <= starts["landing_area"])
    assert 0.3 < float(everything.float().mean()) < 0.75
    # rallies where some field is kept whole: only the one-field-at-a-time branch does that
    some_kept = (stacked == 10 ** 6).any(0)
    assert 0.25 < float(some_kept.float().mean()) < 0.6
    # from the rally's start: the score hidden at step 0 together with all the rest from step 1
    from_start = (starts["score"] == 0) & (stacked == 1).all(0)
    assert 0.12 < float(from_start.float().mean()) < 0.45


def test_the_share_of_masked_rallies_follows_mask_rallies(batch):
    assert mask_inputs(batch, 0.0, 0.0) is batch                 # nothing asked: the batch itself, not a copy
    assert mask_inputs(batch, -1.0, 0.0) is batch and mask_inputs(batch, 0.0, -1.0) is batch
    torch.manual_seed(2)
    none = mask_inputs(batch, 0.0, 1e-12)
    assert not any(v.any() for v in _hidden(batch, none).values())
    some = mask_inputs(batch, 0.4, 0.0)
    touched = torch.stack([v.any(1) for v in _hidden(batch, some).values()]).any(0)
    assert 0.25 < float(touched.float().mean()) < 0.5          # 0.4, less the rallies where nothing was drawn


def test_single_strokes_are_hidden_field_by_field_with_mask_strokes(batch):
    """mask_rallies 0: each field of each stroke is hidden with probability mask_strokes, independently (the
    stroke fields never at the start step)."""
    torch.manual_seed(3)
    m = mask_inputs(batch, 0.0, 0.3)
    h = _hidden(batch, m)
    valid = batch["target"] >= 0
    for name in MASKABLE:
        at = valid.clone()
        if name != "score":
            at[:, 0] = False
            assert not h[name][:, 0].any()
        share = float(h[name][at].float().mean())
        assert 0.25 < share < 0.35, (name, share)
    assert float((h["wing"] & h["landing_area"])[valid].float().mean()) < 0.15      # not together


def test_hide_all_hides_every_field_at_every_step(batch):
    h = _hidden(batch, hide_all(batch))
    valid = batch["target"] >= 0
    seen = _observable(batch)
    for name in MASKABLE:
        want = valid.clone()
        if name != "score":
            want[:, 0] = False
        assert torch.equal(h[name] & valid & seen[name], want & seen[name]), name


def test_a_field_hidden_on_its_own_starts_anywhere_in_the_rally(batch):
    """A field hidden on its own (not with the others) starts at a step drawn uniformly in the rally: over many
    rallies every step from the first to the last stroke's occurs, the last included."""
    torch.manual_seed(5)
    m = mask_inputs(batch, 1.0, 0.0)
    h = _hidden(batch, m)
    valid = batch["target"] >= 0
    steps = torch.arange(valid.shape[1])[None, :].expand_as(valid)
    lengths = valid.sum(1)
    first = torch.where(h["wing"] & valid, steps, 10 ** 6).min(1).values
    alone = (first < 10 ** 6) & (first != torch.where(h["landing_area"] & valid, steps, 10 ** 6).min(1).values)
    assert alone.sum() > 20
    last_only = (lengths - first == 1) & (first >= 2)           # the last step only, in a rally of 3 or more
    assert last_only[alone].any()
    assert (first[alone] >= 3).any() and (first[alone] == 1).any()


def test_a_one_stroke_rally_has_only_its_score_to_hide(batch):
    """One-stroke rallies: no stroke input before the prediction, so only the score can go: hidden in every
    rally masked as a whole and in half of the others (3/4 of them)."""
    frame = pd.DataFrame({"match_id": "m", "rally_id": [f"r{i}" for i in range(800)], "stroke": 1, "hitter": "A",
                          "opponent": "B", "shot": "short service", "hitter_score": 3.0, "opponent_score": 4.0})
    model = _model()
    data = to_tensors(encode_table(model._encoder, frame), "cpu")
    b = batch_of(data, torch.arange(len(data["lengths"])))
    torch.manual_seed(6)
    m = mask_inputs(b, 1.0, 0.0)
    share = float((m["ctx"][:, 0, 2] == 1).float().mean())
    assert 0.7 < share < 0.8


def test_a_generator_makes_the_masks_reproducible_whatever_the_global_state(batch):
    torch.manual_seed(7)
    a = mask_inputs(batch, 0.5, 0.1, generator=torch.Generator().manual_seed(11))
    torch.manual_seed(8)
    b = mask_inputs(batch, 0.5, 0.1, generator=torch.Generator().manual_seed(11))
    c = mask_inputs(batch, 0.5, 0.1, generator=torch.Generator().manual_seed(12))
    for key in ("area", "wing", "height", "num", "ctx"):
        assert torch.equal(a[key], b[key]), key
    assert not all(torch.equal(a[key], c[key]) for key in ("area", "wing", "height", "num", "ctx"))


def test_masks_stay_on_the_batchs_device_whatever_the_default_device(batch):
    """The random draws and step numbers are made on the batch's device, not on torch's default device (here
    'meta', where nothing is computed: any tensor made there would show)."""
    torch.manual_seed(9)
    want = mask_inputs(batch, 1.0, 0.2)
    every = hide_all(batch)
    with torch.device("meta"):
        torch.manual_seed(9)
        got = mask_inputs(batch, 1.0, 0.2)
        all_hidden = hide_all(batch)
    for key in ("area", "wing", "height", "num", "ctx"):
        assert got[key].device.type == "cpu" and all_hidden[key].device.type == "cpu"
        assert torch.equal(got[key], want[key]) and torch.equal(all_hidden[key], every[key])
