"""One rally's prediction without torch: the trained :class:`~strategist.opponent.neural.RallyNet` as NumPy.

Live advice asks the neural model about one rally so far at a time, where torch's per-call overhead (module
dispatch, a dozen small tensors) costs more than the arithmetic. With the weights folded once:

    x_t  = relu(S[shot_t] + A[area_t] + W[wing_t] + H[height_t] + N num_t + b)   (each table = embedding · W_inp)
    r, z = σ(W_ir x_t + b_ir + W_hr h + b_hr),  σ(W_iz x_t + b_iz + W_hz h + b_hz)
    n    = tanh(W_in x_t + b_in + r ⊙ (W_hn h + b_hn)),   h ← (1 − z) ⊙ n + z ⊙ h     (PyTorch's GRU)
    out  = W_out relu(W_h h + P[player] + O[opponent] + K[stroke] + C ctx + b_mid) + b_out

the same logits as ``RallyNet.last`` in evaluation mode (dropout off), in float32. The folded weights are
rebuilt whenever the network's weights change (its ``version``, bumped by ``load_state_dict``, by the
training loop after each step and by ``RallyNet.weights_changed``) or the network is another. The hidden
states of recent rallies are kept with the folded weights (:meth:`FoldedRallyNet.state`), so a rally asked about
again with another last stroke, or one stroke longer, costs one step of the recurrence.
"""

from __future__ import annotations

import threading

import numpy as np
import torch
from scipy.special import expit


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().to("cpu", torch.float32).numpy().copy()


class FoldedRallyNet:
    """The evaluation-mode forward pass of one rally (``RallyNet.last``) with its weights folded into tables."""

    def __init__(self, net, cache_size: int = 4096):
        self.net = net
        self.cache_size = int(cache_size)
        self._states: dict[bytes, tuple] = {}     # hidden states by the steps that led to them
        self._lock = threading.Lock()
        self.version = net.version
        w = _np(net.inp.weight)
        d_shot, d_area = net.shot.embedding_dim, net.area.embedding_dim
        d_wing, d_height = net.wing.embedding_dim, net.height.embedding_dim
        cuts = np.cumsum([d_shot, d_area, d_wing, d_height])
        self.shot = _np(net.shot.weight) @ w[:, :cuts[0]].T
        self.area = _np(net.area.weight) @ w[:, cuts[0]:cuts[1]].T
        self.wing = _np(net.wing.weight) @ w[:, cuts[1]:cuts[2]].T
        self.height = _np(net.height.weight) @ w[:, cuts[2]:cuts[3]].T
        self.num = w[:, cuts[3]:].copy()              # (D, N_NUM): one step's numbers as a matrix-vector product
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
        h = self.state(shot, area, wing, height, num)[-1]
        m = self.mid_h @ h + self.player[player] + self.opponent[opponent] + self.stroke[stroke] \
            + np.asarray(ctx, np.float32) @ self.ctx + self.mid_bias
        np.maximum(m, 0.0, out=m)
        return self.out @ m + self.out_bias

    def state(self, shot, area, wing, height, num) -> tuple[np.ndarray, ...]:
        """Every GRU layer's hidden state after the steps. Kept for the rally and for the rally less its last
        step: asked again about the same rally with another last stroke (the replies to each shot the player
        may play) or one stroke longer, the recurrence runs one step instead of T."""
        steps = len(shot)
        key = _key(shot, area, wing, height, num, steps)
        found = self._states.get(key)
        if found is not None:
            return found
        start = self._states.get(_key(shot, area, wing, height, num, steps - 1)) if steps > 1 else None
        first = steps - 1 if start is not None else 0
        # one step at a time (matrix-vector products only), so a state reached through the kept states is the
        # very one a whole run reaches: the answer does not depend on which rallies were asked before
        x = [np.maximum(self.shot[shot[t]] + self.area[area[t]] + self.wing[wing[t]] + self.height[height[t]]
                        + self.num @ num[t] + self.bias, 0.0) for t in range(first, steps)]
        final, before = [], []
        for k, (w_ih, w_hh, b_ih, b_hh) in enumerate(self.layers):
            size = w_hh.shape[1]
            b_rz = b_ih[:2 * size] + b_hh[:2 * size]     # r and z take both biases outside the recurrence
            b_in, b_hn = b_ih[2 * size:], b_hh[2 * size:]
            h = start[k] if start is not None else np.zeros(size, np.float32)
            outputs = []
            for t, x_t in enumerate(x):
                if t == len(x) - 1:
                    before.append(h)
                g = w_ih @ x_t
                gh = w_hh @ h
                rz = expit(g[:2 * size] + gh[:2 * size] + b_rz)
                n = np.tanh(g[2 * size:] + b_in + rz[:size] * (gh[2 * size:] + b_hn))
                h = n + rz[size:] * (h - n)              # (1 − z) n + z h
                outputs.append(h)
            final.append(h)
            x = outputs
        final = tuple(final)
        self._keep(key, final)
        if start is None and steps > 1:
            self._keep(_key(shot, area, wing, height, num, steps - 1), tuple(before))
        return final

    def forget(self) -> None:
        """Drop the kept hidden states."""
        with self._lock:
            self._states.clear()

    def _keep(self, key, states: tuple) -> None:
        if self.cache_size <= 0:
            return
        with self._lock:
            if len(self._states) >= self.cache_size:
                self._states.pop(next(iter(self._states)))
            self._states[key] = states


def _key(shot, area, wing, height, num, steps: int) -> bytes:
    """The first ``steps`` steps' inputs as one key."""
    return b"|".join(np.ascontiguousarray(a[:steps]).tobytes() for a in (shot, area, wing, height, num))
