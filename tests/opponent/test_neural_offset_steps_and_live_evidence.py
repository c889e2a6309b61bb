"""The in-match offset: four Newton steps by default (reference: Newton's method with autograd's gradient and
Hessian), a start of any numeric type read as float64; and the evidence of a prediction after ``update``:
the training strokes plus the player's strokes of the match in that context, counted by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from strategist.opponent import NeuralModel
from strategist.opponent.neural import fit_logit_offset


def _objective(z, y, l2):
    z, y = torch.as_tensor(z, dtype=torch.float64), torch.as_tensor(y)

    def f(b):
        return torch.nn.functional.cross_entropy(z + b, y, reduction="sum") + 0.5 * l2 * (b * b).sum()

    return f


def _newton(z, y, l2, steps, start=None):
    """``steps`` Newton steps on Σ CE(z_i + b, y_i) + l2/2 ‖b‖², gradient and Hessian by autograd."""
    f = _objective(z, y, l2)
    b = torch.zeros(z.shape[1], dtype=torch.float64) if start is None else torch.as_tensor(start, dtype=torch.float64)
    for _ in range(steps):
        b = b.detach().requires_grad_(True)
        (grad,) = torch.autograd.grad(f(b), b)
        b = b.detach()
        hess = torch.autograd.functional.hessian(f, b)
        b = b - torch.linalg.solve(hess, grad)
    return b.numpy()


def _data(seed=0, n=12, k=5):
    """Logits that disagree with the targets (one shot over and over), so that a weak penalty leaves the optimum
    far from zero and Newton's method needs more than four steps to reach it."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, k))
    y = np.where(rng.random(n) < 0.8, k - 1, rng.integers(0, k, n))
    z[:, k - 1] -= 2.0
    return z, y


def test_an_offset_takes_four_newton_steps_by_default():
    z, y = _data()
    l2 = 1e-3
    four, five = _newton(z, y, l2, 4), _newton(z, y, l2, 5)
    assert np.abs(four - five).max() > 1e-4            # not converged after four: the number of steps shows
    np.testing.assert_allclose(fit_logit_offset(z, y, l2), four, rtol=1e-9, atol=1e-12)
    start = np.linspace(-1.0, 1.0, z.shape[1])
    np.testing.assert_allclose(fit_logit_offset(z, y, l2, start=start), _newton(z, y, l2, 4, start=start),
                               rtol=1e-9, atol=1e-12)


def test_a_start_of_integers_or_float32_is_read_as_its_float64_value():
    """The offset is float64 whatever the start's type, and a start gives the offset of its value in float64:
    no step (the start itself, as floats) or one step (computed in float64, not in the start's precision)."""
    z, y = _data(seed=1)
    l2 = 3.0
    ints = [1, 0, -2, 0, 1]
    for steps in (0, 1):
        got = fit_logit_offset(z, y, l2, start=ints, steps=steps)
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, fit_logit_offset(z, y, l2, start=np.array(ints, float), steps=steps))
    thirds = np.array([1 / 3, -2 / 3, 0.1, 0.7, -0.3], np.float32)
    exact = thirds.astype(np.float64)
    for steps in (0, 1):
        got = fit_logit_offset(z, y, l2, start=thirds, steps=steps)
        assert got.dtype == np.float64
        np.testing.assert_array_equal(got, fit_logit_offset(z, y, l2, start=exact, steps=steps))
    np.testing.assert_allclose(fit_logit_offset(z, y, l2, start=thirds, steps=1),
                               _newton(z, y, l2, 1, start=exact), rtol=1e-12, atol=1e-14)


def _match() -> pd.DataFrame:
    """Rally 1: A serves, B lobs, A smashes, B lobs, A smashes; rally 2: B serves long, A drives."""
    shots = [["short service", "lob", "smash", "lob", "smash"], ["long service", "drive"]]
    rows = []
    for r, rally in enumerate(shots, start=1):
        first = "AB"[r - 1]
        for k, shot in enumerate(rally, start=1):
            hitter = first if k % 2 else "AB".replace(first, "")
            rows.append({"match_id": "m9", "rally_id": f"m9|1|{r}", "stroke": k, "hitter": hitter,
                         "opponent": "AB".replace(hitter, ""), "shot": shot, "server": first})
    return pd.DataFrame(rows)


def test_evidence_after_an_update_adds_the_players_strokes_of_the_match_in_that_context():
    """n = the training strokes of the player after the rally's last shot + the player's strokes of the match
    after that shot. A answered a lob twice and a long serve once in the match, and never a clear."""
    torch.manual_seed(0)
    model = NeuralModel(hidden=6, d_shot=4, d_area=3, d_player=2, d_height=2)
    model.build(["A", "B"], {"mean": [0.0] * 4, "std": [1.0] * 4})
    model.net.eval()
    model.fitted_ = True
    shots = list(model.vocabulary.shots)
    model.evidence_ = np.arange(model.evidence_.size, dtype=float).reshape(model.evidence_.shape)
    training = model.evidence_.copy()
    row_a = 1 + model.players.index("A")
    model.update(_match())

    def n(last_shot):
        history = pd.DataFrame({"shot": [last_shot], "hitter": ["B"], "opponent": ["A"]})
        return model.predict(history, {"player": "A", "opponent": "B"}).n

    def column(shot):
        return 1 + shots.index(shot)

    assert n("lob") == training[row_a, column("lob")] + 2
    assert n("long service") == training[row_a, column("long service")] + 1
    assert n("clear") == training[row_a, column("clear")] + 0
    assert n("smash") == training[row_a, column("smash")] + 0
    serve = model.predict(None, {"player": "A", "opponent": "B"}).n
    assert serve == training[row_a, 0] + 1                   # A served one rally of the match
