"""One prediction off the CPU's folded path, the folded copy kept while the weights stay and renewed when new
weights are loaded, and the padding shot's embedding."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from strategist.opponent import NeuralModel
from strategist.opponent.neural import PAD, NeuralConfig, RallyNet
from strategist.sports import get_sport

AREAS = list(get_sport("badminton").areas)


class _Elsewhere(str):
    """A device that does not call itself the CPU (so a prediction takes the torch path) but that torch reads as
    the CPU: the accelerator path run on a machine without one."""

    type = "elsewhere"


def _model(seed: int = 0) -> NeuralModel:
    torch.manual_seed(seed)
    model = NeuralModel(hidden=6, d_shot=4, d_area=3, d_player=2, d_height=2)
    model.build(["A", "B", "C"], {"mean": [1.0, 2.0, 1.0, 2.0], "std": [2.0, 1.0, 2.0, 1.0]})
    model.net.eval()
    model.fitted_ = True
    return model


def _rally() -> pd.DataFrame:
    """Three strokes with every input recorded (areas, wings, heights, positions, a missing one among them)."""
    return pd.DataFrame({"stroke": [1, 2, 3], "shot": ["short service", "lob", "smash"], "hitter": ["A", "B", "A"],
                         "opponent": ["B", "A", "B"], "landing_area": [AREAS[0], AREAS[4], AREAS[2]],
                         "wing": ["forehand", "backhand", "forehand"], "landing_height": ["low", "high", "high"],
                         "hitter_x": [0.5, 1.0, np.nan], "hitter_y": [1.0, 2.5, 3.0],
                         "opponent_x": [2.0, 0.5, 1.5], "opponent_y": [3.0, 1.0, 0.5], "server": ["A"] * 3})


CONTEXT = {"player": "B", "opponent": "A", "server": "A", "score": (7, 12), "stroke": 4}


def test_a_prediction_off_the_cpu_runs_the_network_on_every_input_and_equals_the_folded_path():
    """Reference: the folded NumPy pass of the CPU path on the same rally and context; other contexts (another
    player, score, stroke number, rally) give other answers on both paths alike."""
    model = _model()
    rally = _rally()
    others = [({**CONTEXT, "player": "C"}, rally), ({**CONTEXT, "score": (0, 0)}, rally),
              ({**CONTEXT, "stroke": 9}, rally), ({**CONTEXT, "opponent": "C"}, rally),
              (CONTEXT, rally.assign(landing_height=["high", "low", "low"])),
              (CONTEXT, rally.assign(wing=["backhand"] * 3)), (CONTEXT, rally.assign(hitter_x=0.0))]
    folded = [model.predict(r, c).probabilities for c, r in [(CONTEXT, rally)] + others]
    model.device = _Elsewhere("cpu")
    try:
        assert model.device.type != "cpu"
        torch_path = [model.predict(r, c).probabilities for c, r in [(CONTEXT, rally)] + others]
    finally:
        model.device = torch.device("cpu")
    for got, want in zip(torch_path, folded):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)
    for got in torch_path[1:]:
        assert not np.allclose(got, torch_path[0], rtol=1e-4, atol=1e-6)


def test_the_folded_copy_is_kept_across_predictions_while_the_weights_stay():
    """The folded network (and the hidden states it keeps of the rallies asked about) serves every prediction
    until the weights change: a rally asked about again finds its state kept from the first time."""
    model = _model()
    rally = _rally()
    first = model.predict(rally, CONTEXT).probabilities
    folded = model._folded
    kept = dict(folded._states)
    assert kept
    again = model.predict(rally, {**CONTEXT, "score": (8, 12)}).probabilities
    assert model._folded is folded
    assert set(kept) <= set(folded._states)
    assert not np.allclose(first, again)
    model.net.weights_changed()
    model.predict(rally, CONTEXT)
    assert model._folded is not folded


def test_loading_other_weights_renews_the_folded_copy_of_one_prediction():
    """load_state_dict counts as a change of the weights: the next single prediction uses the loaded weights
    (reference: a model built with those weights from the start)."""
    model, other = _model(seed=0), _model(seed=1)
    rally = _rally()
    before = model.predict(rally, CONTEXT).probabilities
    want = other.predict(rally, CONTEXT).probabilities
    assert not np.allclose(before, want)
    version = model.net.version
    model.net.load_state_dict(other.net.state_dict())
    assert model.net.version == version + 1
    np.testing.assert_allclose(model.predict(rally, CONTEXT).probabilities, want, rtol=1e-6, atol=1e-9)


def test_the_padding_shot_embeds_to_zeros():
    """Shot id PAD (padding after a rally's end) is the embedding's padding index: a zero vector from the start,
    whatever the seed, and never trained."""
    for seed in (0, 1):
        torch.manual_seed(seed)
        net = RallyNet(5, 3, 2, NeuralConfig(d_shot=4, hidden=6))
        assert net.shot.padding_idx == PAD
        assert torch.equal(net.shot(torch.tensor([PAD])), torch.zeros(1, 4))
        assert net.shot.weight[PAD + 1:].abs().sum() > 0                     # the other shots are drawn
