"""Kronecker factors of K-FAC, captured by hooks on nn.Linear and nn.GRU.

A block is a weight W (out × in) with an optional bias b, preconditioned as one matrix [W | b]. Over the
positions where the weight is applied (rows of a batch, time steps of a sequence):

    A = mean over positions of ā āᵀ,  ā = [a; 1]  (the input, with a 1 for the bias)
    S = (1/N) Σ over positions of g gᵀ             (g: gradient of one example's negative log-likelihood
                                                   w.r.t. the block's pre-activation; N: number of examples)

so that the block's Fisher is ≈ A ⊗ S even when the weight is shared across positions (the "expand"
convention for shared weights).

nn.GRU does not expose its gate pre-activations. For layer k it computes, with gates ordered (r, z, n),

    a_i,t = W_ih x_t + b_ih,   a_h,t = W_hh h_{t−1} + b_hh                       (3H each)
    r = σ(a_i^r + a_h^r),  z = σ(a_i^z + a_h^z),  n = tanh(a_i^n + r ⊙ a_h^n),  h_t = (1 − z) ⊙ n + z ⊙ h_{t−1}

:class:`GRUReplay` re-runs this recurrence on the recorded input and initial state (detached, off the
user's graph) with zero-valued probes added to every a_i,t and a_h,t; the vector–Jacobian product of the
GRU's output gradients through the replay gives ∂ℓ/∂a_i,t and ∂ℓ/∂a_h,t. The blocks (weight_ih_l{k},
bias_ih_l{k}) with inputs x_t and (weight_hh_l{k}, bias_hh_l{k}) with inputs h_{t−1} then get full 3H × 3H
output factors (correlations across gates kept). The GRU's own (fused) forward and backward are untouched.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn.utils.rnn import PackedSequence


@dataclass
class CaptureContext:
    """Switches shared by all hooks of one optimizer."""

    recording: bool = False
    fisher_pass: bool = False

    def active(self) -> bool:
        return self.recording and torch.is_grad_enabled()


class KroneckerBlock:
    """Running sums of one block's statistics for the current batch (see the module docstring)."""

    def __init__(self, name: str, weight: nn.Parameter, bias: nn.Parameter | None,
                 factor_dtype: torch.dtype) -> None:
        self.name, self.weight, self.bias = name, weight, bias
        self.factor_dtype = factor_dtype
        self.out_dim, self.weight_in_dim = weight.shape
        self.in_dim = self.weight_in_dim + (bias is not None)
        self.reset()

    @property
    def params(self) -> list[nn.Parameter]:
        return [self.weight] if self.bias is None else [self.weight, self.bias]

    def reset(self) -> None:
        self.a_sum: torch.Tensor | None = None
        self.a_rows = 0
        self.s_sum: torch.Tensor | None = None
        self.s_passes = 0

    def add_inputs(self, inputs: torch.Tensor) -> None:
        x = inputs.detach().reshape(-1, self.weight_in_dim).to(self.factor_dtype)
        if self.bias is not None:
            x = torch.cat([x, x.new_ones(x.shape[0], 1)], dim=1)
        stat = x.T @ x
        self.a_sum = stat if self.a_sum is None else self.a_sum + stat
        self.a_rows += x.shape[0]

    def add_output_grads(self, grads: torch.Tensor) -> None:
        g = grads.detach().reshape(-1, self.out_dim).to(self.factor_dtype)
        stat = g.T @ g
        self.s_sum = stat if self.s_sum is None else self.s_sum + stat
        self.s_passes += 1

    def gradient_matrix(self) -> torch.Tensor | None:
        """[∇W | ∇b] (out × in), or None when no parameter of the block has a gradient."""
        grads = [p.grad for p in self.params]
        if all(g is None for g in grads):
            return None
        weight_grad = grads[0] if grads[0] is not None else torch.zeros_like(self.weight)
        if self.bias is None:
            return weight_grad
        bias_grad = grads[1] if grads[1] is not None else torch.zeros_like(self.bias)
        return torch.cat([weight_grad, bias_grad.unsqueeze(1)], dim=1)

    def split(self, matrix: torch.Tensor) -> list[torch.Tensor]:
        """Inverse of :meth:`gradient_matrix`'s layout: one tensor per parameter."""
        if self.bias is None:
            return [matrix]
        return [matrix[:, : self.weight_in_dim], matrix[:, self.weight_in_dim]]


class LinearCapture:
    """Forward hook (inputs → A) and output-gradient hook (→ S, during the Fisher pass) of one nn.Linear."""

    def __init__(self, name: str, module: nn.Linear, context: CaptureContext, factor_dtype: torch.dtype) -> None:
        bias = module.bias if module.bias is not None and module.bias.requires_grad else None
        self.blocks = [KroneckerBlock(name, module.weight, bias, factor_dtype)]
        self.context = context
        self.handle = module.register_forward_hook(self._forward, with_kwargs=True)

    def _forward(self, module: nn.Module, args: tuple, kwargs: dict, output: torch.Tensor) -> None:
        if not self.context.active():
            return
        self.blocks[0].add_inputs(args[0] if args else kwargs["input"])
        if output.requires_grad:
            output.register_hook(self._output_grad)

    def _output_grad(self, grad: torch.Tensor) -> None:
        if self.context.fisher_pass:
            self.blocks[0].add_output_grads(grad)

    def end_pass(self) -> None:
        """Nothing to do: the output hook already added this pass's statistics."""

    def reset(self) -> None:
        for block in self.blocks:
            block.reset()


def _time_major(tensor: torch.Tensor, batch_first: bool, batched: bool) -> torch.Tensor:
    if not batched:
        return tensor.unsqueeze(1)
    return tensor.transpose(0, 1) if batch_first else tensor


class GRUReplay:
    """An nn.GRU's recurrence re-run on recorded inputs, with probes on every gate pre-activation.

    ``layer_inputs[k]`` and ``layer_hidden[k]`` are x_t and h_{t−1} of layer k as (T·B, ·) matrices;
    :meth:`gate_gradients` maps gradients w.r.t. the GRU's (output, h_n) to ∂/∂a_i,t and ∂/∂a_h,t.
    """

    def __init__(self, gru: nn.GRU, inputs: torch.Tensor, hx: torch.Tensor | None) -> None:
        self.gru = gru
        self.batched = inputs.ndim == 3
        dtype = gru.weight_ih_l0.dtype
        x = _time_major(inputs.detach().to(dtype), gru.batch_first, self.batched)
        steps, batch = x.shape[:2]
        hidden = gru.hidden_size
        if hx is None:
            h0 = x.new_zeros(gru.num_layers, batch, hidden)
        else:
            h0 = (hx if self.batched else hx.unsqueeze(1)).detach().to(dtype)
        self.layer_inputs: list[torch.Tensor] = []
        self.layer_hidden: list[torch.Tensor] = []
        self.probes: list[tuple[torch.Tensor, list[torch.Tensor]]] = []  # per layer: input-side, hidden-side
        finals = []
        with torch.enable_grad():
            layer_in = x
            for k in range(gru.num_layers):
                w_ih, w_hh = getattr(gru, f"weight_ih_l{k}").detach(), getattr(gru, f"weight_hh_l{k}").detach()
                b_ih = getattr(gru, f"bias_ih_l{k}").detach() if gru.bias else None
                b_hh = getattr(gru, f"bias_hh_l{k}").detach() if gru.bias else None
                probe_i = x.new_zeros(steps, batch, 3 * hidden, requires_grad=True)
                # One probe per step: slicing a (T, B, 3H) probe would make every step's backward write a
                # full-size gradient, T² work in all.
                probe_h = [x.new_zeros(batch, 3 * hidden, requires_grad=True) for _ in range(steps)]
                pre_i = nn.functional.linear(layer_in, w_ih, b_ih) + probe_i
                h = h0[k]
                outputs, previous = [], []
                for t in range(steps):
                    previous.append(h)
                    pre_h = nn.functional.linear(h, w_hh, b_hh) + probe_h[t]
                    i_r, i_z, i_n = pre_i[t].chunk(3, dim=-1)
                    h_r, h_z, h_n = pre_h.chunk(3, dim=-1)
                    r = torch.sigmoid(i_r + h_r)
                    z = torch.sigmoid(i_z + h_z)
                    n = torch.tanh(i_n + r * h_n)
                    h = (1 - z) * n + z * h
                    outputs.append(h)
                self.layer_inputs.append(layer_in.detach().reshape(steps * batch, -1))
                self.layer_hidden.append(torch.stack(previous).detach().reshape(steps * batch, hidden))
                self.probes.append((probe_i, probe_h))
                layer_in = torch.stack(outputs)
                finals.append(h)
        self.output = layer_in           # (T, B, H), time-major
        self.h_n = torch.stack(finals)  # (L, B, H)

    def gate_gradients(self, grad_output: torch.Tensor | None,
                       grad_h_n: torch.Tensor | None) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Per layer, (∂ℓ/∂a_i, ∂ℓ/∂a_h) as (T·B, 3H) matrices, for the given gradients of the GRU's
        output (in the module's layout) and final hidden state."""
        roots, cotangents = [], []
        if grad_output is not None:
            roots.append(self.output)
            cotangents.append(_time_major(grad_output.to(self.output.dtype), self.gru.batch_first, self.batched))
        if grad_h_n is not None:
            roots.append(self.h_n)
            cotangents.append((grad_h_n if self.batched else grad_h_n.unsqueeze(1)).to(self.h_n.dtype))
        inputs = [p for probe_i, probe_h in self.probes for p in [probe_i, *probe_h]]
        with torch.enable_grad():
            grads = torch.autograd.grad(roots, inputs, cotangents, retain_graph=True, allow_unused=True)
        grads = [torch.zeros_like(p) if g is None else g for g, p in zip(grads, inputs)]
        out, i = [], 0
        for probe_i, probe_h in self.probes:
            grad_i = grads[i].reshape(-1, grads[i].shape[-1])
            grad_h = torch.cat(grads[i + 1:i + 1 + len(probe_h)])
            out.append((grad_i, grad_h))
            i += 1 + len(probe_h)
        return out


def gru_gate_gradients(gru: nn.GRU, inputs: torch.Tensor, hx: torch.Tensor | None,
                       grad_output: torch.Tensor | None, grad_h_n: torch.Tensor | None):
    """Per layer: (x_t rows, h_{t−1} rows, ∂ℓ/∂a_i,t rows, ∂ℓ/∂a_h,t rows), each (T·B, ·)."""
    replay = GRUReplay(gru, inputs, hx)
    grads = replay.gate_gradients(grad_output, grad_h_n)
    return [(replay.layer_inputs[k], replay.layer_hidden[k], gi, gh) for k, (gi, gh) in enumerate(grads)]


def gru_is_supported(gru: nn.Module) -> bool:
    """Unidirectional nn.GRU without inter-layer dropout (the replay has no dropout masks)."""
    return (type(gru) is nn.GRU and not gru.bidirectional
            and (gru.dropout == 0 or gru.num_layers == 1))


@dataclass
class _GRUCall:
    inputs: torch.Tensor
    hx: torch.Tensor | None
    grad_output: torch.Tensor | None = None
    grad_h_n: torch.Tensor | None = None
    replay: GRUReplay | None = field(default=None, repr=False)


class GRUCapture:
    """Hooks of one nn.GRU: two blocks per layer, statistics from :class:`GRUReplay`."""

    def __init__(self, name: str, module: nn.GRU, context: CaptureContext, factor_dtype: torch.dtype) -> None:
        self.module, self.context = module, context
        self.blocks: list[KroneckerBlock] = []
        for k in range(module.num_layers):
            for side in ("ih", "hh"):
                bias = getattr(module, f"bias_{side}_l{k}") if module.bias else None
                bias = bias if bias is not None and bias.requires_grad else None
                self.blocks.append(KroneckerBlock(f"{name}.weight_{side}_l{k}",
                                                  getattr(module, f"weight_{side}_l{k}"), bias, factor_dtype))
        self.calls: list[_GRUCall] = []
        self.handle = module.register_forward_hook(self._forward, with_kwargs=True)

    def _forward(self, module: nn.Module, args: tuple, kwargs: dict, output: tuple) -> None:
        if not self.context.active():
            return
        inputs = args[0] if args else kwargs["input"]
        hx = args[1] if len(args) > 1 else kwargs.get("hx")
        if isinstance(inputs, PackedSequence):
            return  # not captured: the layer keeps its previous factors (or the base optimizer)
        call = _GRUCall(inputs.detach(), None if hx is None else hx.detach())
        self.calls.append(call)
        out, h_n = output
        if out.requires_grad:
            out.register_hook(lambda g, call=call: self._store(call, "grad_output", g))
        if h_n.requires_grad:
            h_n.register_hook(lambda g, call=call: self._store(call, "grad_h_n", g))

    def _store(self, call: _GRUCall, key: str, grad: torch.Tensor | None) -> None:
        # cuDNN's GRU backward hands the hook None for an output the loss does not use (CPU gives zeros).
        if self.context.fisher_pass and grad is not None:
            setattr(call, key, grad.detach())

    def end_pass(self) -> None:
        """Turn this pass's gradients of the GRU's outputs into gate pre-activation statistics."""
        for call in self.calls:
            if call.grad_output is None and call.grad_h_n is None:
                continue
            if call.replay is None:
                call.replay = GRUReplay(self.module, call.inputs, call.hx)
                for k in range(self.module.num_layers):
                    self.blocks[2 * k].add_inputs(call.replay.layer_inputs[k])
                    self.blocks[2 * k + 1].add_inputs(call.replay.layer_hidden[k])
            for k, (grad_i, grad_h) in enumerate(call.replay.gate_gradients(call.grad_output, call.grad_h_n)):
                self.blocks[2 * k].add_output_grads(grad_i)
                self.blocks[2 * k + 1].add_output_grads(grad_h)
            call.grad_output = call.grad_h_n = None

    def reset(self) -> None:
        self.calls.clear()
        for block in self.blocks:
            block.reset()
