"""Where the rallies whose fields are all hidden together start hiding them: from the rally's start in half of
them, else from a stroke drawn uniformly in the rally (mask_inputs' docstring)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from strategist.opponent import NeuralModel
from strategist.opponent.neural import MASKABLE, batch_of, encode_table, mask_inputs, to_tensors

STROKES = 8


def _batch(rallies: int = 400):
    """Rallies of eight strokes, every field recorded at every stroke."""
    rows = []
    for r in range(rallies):
        for k in range(1, STROKES + 1):
            rows.append({"match_id": "m", "rally_id": f"r{r:04d}", "stroke": k, "hitter": "AB"[k % 2],
                         "opponent": "BA"[k % 2], "shot": "short service" if k == 1 else "drive",
                         "landing_area": "1", "wing": "forehand", "landing_height": "high", "hitter_x": 0.5,
                         "hitter_y": 1.0, "opponent_x": 1.5, "opponent_y": 2.0, "hitter_score": 3.0,
                         "opponent_score": 4.0, "server": "A"})
    model = NeuralModel(hidden=4, d_shot=2, d_area=2, d_player=2, d_height=2)
    model.build(["A", "B"], {"mean": [0.0] * 4, "std": [1.0] * 4})
    data = to_tensors(encode_table(model._encoder, pd.DataFrame(rows)), "cpu")
    return batch_of(data, torch.arange(len(data["lengths"])))


def _first_hidden(b, m) -> dict[str, torch.Tensor]:
    """Per field, the first step where ``m`` hides it (a large number where it is never hidden)."""
    hidden = {"landing_area": m["area"] == 0, "wing": m["wing"] == 0, "landing_height": m["height"] == 0,
              "hitter_position": m["num"][..., 4] == 1, "opponent_position": m["num"][..., 5] == 1,
              "score": m["ctx"][..., 2] == 1}
    steps = torch.arange(b["target"].shape[1])[None, :]
    out = {}
    for name, h in hidden.items():
        if name != "score":
            h = h & (steps >= 1)                     # step 0 holds no stroke input: nothing there to hide
        out[name] = torch.where(h, steps, 10 ** 6).min(1).values
    return out


def test_rallies_hidden_all_together_start_from_the_first_stroke_or_from_one_drawn_in_the_rally():
    """Of the rallies with every field hidden from one step on (the score from the same step, or from the start
    step 0 when the rest go from step 1), about half start at the rally's start; the rest start at a step drawn
    uniformly among the eight: the score first hidden after step 0 in 1/2 · 7/8 of them, every later step
    occurring."""
    b = _batch()
    generator = torch.Generator().manual_seed(11)
    first = _first_hidden(b, mask_inputs(b, 1.0, 0.0, generator=generator))
    fields = torch.stack([first[name] for name in MASKABLE if name != "score"])
    score = first["score"]
    together = (fields == fields[0]).all(0) & (fields[0] < STROKES) \
        & ((score == fields[0]) | ((score == 0) & (fields[0] == 1)))
    assert together.sum() > 120                                             # about half of 400
    later = score[together] >= 1
    share = float(later.float().mean())
    assert 0.3 < share < 0.58, share                                        # 7/16 = 0.4375
    assert set(score[together][later].tolist()) == set(range(1, STROKES))
    np.testing.assert_array_equal(fields[0][together][later], score[together][later])
