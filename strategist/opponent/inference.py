"""One rally's prediction without torch: the trained :class:`~strategist.opponent.neural.RallyNet` as NumPy.

Live advice asks the neural model about one rally so far at a time, where torch's per-call overhead (module
dispatch, a dozen small tensors) costs more than the arithmetic. With the weights folded once:

    x_t  = relu(S[shot_t] + A[area_t] + W[wing_t] + H[height_t] + N num_t + b)   (each table = embedding · W_inp)
    r, z = σ(W_ir x_t + b_ir + W_hr h + b_hr),  σ(W_iz x_t + b_iz + W_hz h + b_hz)
    n    = tanh(W_in x_t + b_in + r ⊙ (W_hn h + b_hn)),   h ← (1 − z) ⊙ n + z ⊙ h     (PyTorch's GRU)
    out  = W_out relu(W_h h + P[player] + O[opponent] + K[stroke] + C ctx + b_mid) + b_out

the same logits as ``RallyNet.last`` in evaluation mode (dropout off), in float32. The folded weights are
rebuilt whenever the network's weights change (its ``version``, bumped by ``load_state_dict``, by the
training loop after each step and by ``RallyNet.weights_changed``) or the network is another.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.special import expit


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().to("cpu", torch.float32).numpy().copy()


class FoldedRallyNet:
    """The evaluation-mode forward pass of one rally (``RallyNet.last``) with its weights folded into tables."""

    def __init__(self, net):
        self.net = net
        self.version = net.version
        w = _np(net.inp.weight)
        d_shot, d_area = net.shot.embedding_dim, net.area.embedding_dim
        d_wing, d_height = net.wing.embedding_dim, net.height.embedding_dim
        cuts = np.cumsum([d_shot, d_area, d_wing, d_height])
        self.shot = _np(net.shot.weight) @ w[:, :cuts[0]].T
        self.area = _np(net.area.weight) @ w[:, cuts[0]:cuts[1]].T
        self.wing = _np(net.wing.weight) @ w[:, cuts[1]:cuts[2]].T
        self.height = _np(net.height.weight) @ w[:, cuts[2]:cuts[3]].T
        self.num = w[:, cuts[3]:].T.copy()
        self.bias = _np(net.inp.bias)
        self.layers = []
        for k in range(net.gru.num_layers):
            self.layers.append(tuple(_np(getattr(net.gru, f"{name}_l{k}"))
                                     for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")))
        mid = _np(net.mid.weight)
        hidden, d_player, d_stroke = net.gru.hidden_size, net.player.embedding_dim, net.stroke.embedding_dim
        cuts = np.cumsum([hidden, d_player, d_player, d_stroke])
        players = _np(net.player.weight)
        self.mid_h = mid[:, :cuts[0]].copy()
        self.player = players @ mid[:, cuts[0]:cuts[1]].T
        self.opponent = players @ mid[:, cuts[1]:cuts[2]].T
        self.stroke = _np(net.stroke.weight) @ mid[:, cuts[2]:cuts[3]].T
        self.ctx = mid[:, cuts[3]:].T.copy()
        self.mid_bias = _np(net.mid.bias)
        self.out = _np(net.out.weight)
        self.out_bias = _np(net.out.bias)

    def fresh(self, net) -> bool:
        """Whether ``net`` is the network folded, its weights unchanged since (its ``version`` is the one
        folded; see :class:`~strategist.opponent.neural.RallyNet`)."""
        return net is self.net and net.version == self.version

    def logits(self, shot, area, wing, height, num, player: int, opponent: int, stroke: int, ctx) -> np.ndarray:
        """Logits of the next shot after steps ``shot[0..T-1]`` (1-D index arrays; ``num`` (T, N_NUM))."""
        x = self.shot[shot] + self.area[area] + self.wing[wing] + self.height[height] + num @ self.num + self.bias
        np.maximum(x, 0.0, out=x)
        last = len(self.layers) - 1
        for k, (w_ih, w_hh, b_ih, b_hh) in enumerate(self.layers):
            size = w_hh.shape[1]
            gates = x @ w_ih.T + b_ih                    # (T, 3H): the input half of every step at once
            gates[:, :2 * size] += b_hh[:2 * size]       # r and z take both biases outside the recurrence
            b_hn = b_hh[2 * size:]
            h = np.zeros(size, np.float32)
            outputs = np.empty((len(gates), size), np.float32) if k < last else None
            for t, g in enumerate(gates):
                gh = w_hh @ h
                rz = expit(g[:2 * size] + gh[:2 * size])
                n = np.tanh(g[2 * size:] + rz[:size] * (gh[2 * size:] + b_hn))
                h = n + rz[size:] * (h - n)              # (1 − z) n + z h
                if outputs is not None:
                    outputs[t] = h
            x = outputs
        m = self.mid_h @ h + self.player[player] + self.opponent[opponent] + self.stroke[stroke] \
            + np.asarray(ctx, np.float32) @ self.ctx + self.mid_bias
        np.maximum(m, 0.0, out=m)
        return self.out @ m + self.out_bias

