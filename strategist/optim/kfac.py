"""K-FAC: natural-gradient steps with a Kronecker-factored Fisher per layer.

For each nn.Linear, and for the input and hidden weight stacks of each nn.GRU, the Fisher block of
[W | b] is approximated by A ⊗ S (A: input second moment, S: output-gradient second moment, see
:mod:`strategist.optim._kfac_blocks`). With eigendecompositions A = Q_A diag(d_A) Q_Aᵀ and
S = Q_S diag(d_S) Q_Sᵀ the damped natural-gradient direction is

    V = (A ⊗ S + λI)⁻¹ ∇ = Q_S [(Q_Sᵀ ∇ Q_A) / (d_S d_Aᵀ + λ)] Q_Aᵀ.

With momentum U ← μU + V (U = V when μ = 0), the step W ← W − lr·ν·U is KL-clipped:
ν = min(1, √(κ / (lr² Σ_blocks Uᵀ(A ⊗ S + λI)U))), which for μ = 0 is the usual
min(1, √(κ / (lr² Σ ⟨V, ∇⟩))) — the clip bounds the Fisher norm of the step actually taken.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Callable

import torch
import torch.distributed as dist
from torch import nn

from strategist.errors import ConfigurationError
from strategist.optim._common import (PreconditionedOptimizer, adam_direction, apply_update, evaluate_closure,
                                      update_moments)
from strategist.optim._kfac_blocks import (CaptureContext, GRUCapture, KroneckerBlock, LinearCapture,
                                           gru_is_supported)
from strategist.optim._linalg import EighFailure, robust_eigh

LOSS_TYPES = ("cross_entropy", "mse")
FISHER_ESTIMATORS = ("sampled", "exact", "empirical")
FALLBACKS = ("adamw", "sgd")
Eig = tuple[torch.Tensor, torch.Tensor]  # (eigenvalues, eigenvectors) of a factor

LOOP = """K-FAC needs its own training loop (the plain `loss.backward(); opt.step()` never shows it the model's
Fisher, which needs a backward pass of targets sampled from the model through the forward graph):

    opt = KFAC(model, lr=..., loss_type="cross_entropy")
    for x, y in batches:
        opt.zero_grad()
        with opt.capture():                  # record the hooked layers' inputs
            outputs = model(x)               # classes (or output coordinates) on the last axis
        loss = loss_fn(outputs, y)
        opt.backward(loss, outputs)          # Fisher pass on sampled targets, then loss.backward()
        opt.step()"""


def rotate(matrix: torch.Tensor, eig_a: Eig, eig_s: Eig) -> torch.Tensor:
    """Q_Sᵀ M Q_A: an (out × in) matrix in the eigenbasis of A ⊗ S."""
    return eig_s[1].T @ matrix @ eig_a[1]


def rotate_back(matrix: torch.Tensor, eig_a: Eig, eig_s: Eig) -> torch.Tensor:
    """Q_S M Q_Aᵀ: inverse of :func:`rotate`."""
    return eig_s[1] @ matrix @ eig_a[1].T


def eigenvalues(eig_a: Eig, eig_s: Eig, damping: float) -> torch.Tensor:
    """d_S d_Aᵀ + λ: the eigenvalues of A ⊗ S + λI laid out like the (out × in) matrix."""
    return eig_s[0].unsqueeze(1) * eig_a[0].unsqueeze(0) + damping


def precondition(grad: torch.Tensor, eig_a: Eig, eig_s: Eig, damping: float) -> torch.Tensor:
    """(A ⊗ S + λI)⁻¹ applied to the (out × in) gradient: Q_S[(Q_Sᵀ ∇ Q_A)/(d_S d_Aᵀ + λ)]Q_Aᵀ."""
    return rotate_back(rotate(grad, eig_a, eig_s) / eigenvalues(eig_a, eig_s, damping), eig_a, eig_s)


def fisher_quadratic(step: torch.Tensor, eig_a: Eig, eig_s: Eig, damping: float) -> torch.Tensor:
    """Uᵀ(A ⊗ S + λI)U for the (out × in) matrix U: Σ (Q_Sᵀ U Q_A)² ⊙ (d_S d_Aᵀ + λ)."""
    return (rotate(step, eig_a, eig_s).square() * eigenvalues(eig_a, eig_s, damping)).sum()


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


class KFAC(PreconditionedOptimizer):
    """K-FAC for the nn.Linear and nn.GRU layers of ``model``; a base optimizer for everything else.

    The output factor S is the model's Fisher: it is computed from a backward pass of targets drawn from
    the model's own predictive distribution (categorical over the last axis of the outputs for
    ``loss_type="cross_entropy"``, unit-variance Gaussian for ``"mse"``), not from the gradient of the
    loss on the true labels (the "empirical Fisher", which shrinks with the residual and stalls).
    That pass uses its own backward (``torch.autograd.grad``), so parameter ``.grad`` is untouched.

    Training loop::

        opt = KFAC(model, lr=0.1, loss_type="cross_entropy")
        for x, y in batches:
            opt.zero_grad()
            with opt.capture():                  # record layer inputs during this forward
                logits = model(x)                # (..., classes); every other position is one example
            loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
            opt.backward(loss, logits)           # Fisher pass on sampled targets, then loss.backward()
            opt.step()

    The plain ``loss.backward(); opt.step()`` loop is refused on the first ``step()`` with an error that
    shows this loop: the model's Fisher needs a backward pass of sampled targets through the forward
    graph, which ``loss.backward()`` frees, and the gradient of the loss alone would only give the
    empirical Fisher. ``KFAC(model.parameters())``, a cross-entropy loss whose classes are not the last
    axis of ``outputs`` (e.g. (N, C, T) logits) and ``add_param_group`` raise ``ConfigurationError`` too.

    Skipping ``capture()`` on a step keeps the current factors (cheaper steps). Scale convention: the
    Fisher is per example, so for a mean-reduced loss lr = 1 is a full natural-gradient step; for
    ``"mse"`` the matching loss is ``0.5 * ((f - y)**2).sum(-1).mean()`` (``F.mse_loss`` is 2/d of it).

    Args:
        model: the module whose layers are hooked (a DDP wrapper works too).
        lr: learning rate of the preconditioned step (default 0.1).
        loss_type: ``"cross_entropy"`` (logits) or ``"mse"`` (Gaussian mean).
        fisher: ``"sampled"`` (``fisher_samples`` Monte-Carlo targets per example, K-FAC's definition),
            ``"exact"`` (expectation over targets: one backward per class or output coordinate), or
            ``"empirical"`` (gradients of the true loss; for comparison only — it needs a mean-reduced
            loss over the examples of ``outputs``).
        momentum: μ of the momentum on the natural-gradient direction, applied before the KL clip
            (default 0).
        weight_decay: decoupled weight decay of the preconditioned parameters.
        damping: λ in (A ⊗ S + λI)⁻¹ (default 1e-3).
        factor_decay: EMA decay of A and S (default 0.8; 0 keeps only the latest captured batch). The
            first batch initialises the factors.
        inverse_every: eigendecompositions are refreshed every this many steps (default 1).
        kl_clip: κ of the KL clip; None disables it (default 3e-2).

    Defaults (a short factor EMA, an inverse every step, KL clip 3e-2, no momentum) come from a sweep of
    factor_decay × inverse_every × kl_clip × momentum on T1 and T2 (benchmarks/results/optim_kfac_defaults.md):
    with only the lr tuned they never diverged on the grid 0.01–1 and came within 1.5× of the best
    configuration's median steps over 5 seeds at every setting, at the limit on one low-noise T1 setting (9
    steps against 6, where per-batch factors solve each batch exactly). Long EMAs with stale
    inverses diverge without the clip; a clip of 1e-3 slows the first steps. Cheaper steps: skip
    ``capture()`` on some steps, or raise ``inverse_every`` together with ``factor_decay``.
        max_factor_dim: layers with a factor larger than this stay on the base optimizer (default 4096).
        factor_dtype: torch.float32 (default) or torch.float64 for A, S and their eigendecompositions.
        fallback: base optimizer of every parameter K-FAC does not precondition — ``"adamw"``
            (default; lr 1e-3, betas (0.9, 0.999), eps 1e-8) or ``"sgd"`` (SGD with ``momentum``;
            lr defaults to ``lr``), both with decoupled weight decay. It covers parameters outside
            nn.Linear/nn.GRU (embeddings, norms, convolutions), bidirectional GRUs and GRUs with
            inter-layer dropout, GRUs fed a PackedSequence (not captured), layers over
            ``max_factor_dim`` or sharing a weight with another module, modules named in
            ``skip_modules``, and, for a step, a layer that has no factors yet or no successful
            eigendecomposition yet. Linear/GRU layers left out warn at construction; a K-FAC layer
            stepped by the fallback warns once and is counted in ``health.fallback_updates``.
        fallback_lr, fallback_betas, fallback_eps, fallback_weight_decay: its hyper-parameters.
        skip_modules: names of modules (and their children) to leave to the base optimizer.

    Numerics: eigendecompositions go through :func:`strategist.optim._linalg.robust_eigh` (float64 retry);
    when that fails the last good eigenbasis is kept and the failure counted in ``self.health``; factor
    statistics, directions or fallback gradients that are not finite are skipped and counted
    (``health.skipped_updates``).

    Distributed: factors are statistics of the local batch; when torch.distributed is initialised their
    sums and counts are all-reduced, so every rank holds the factors of the global batch (with
    ``fisher="exact"`` or ``"empirical"`` the result equals one process on the global batch; ``"sampled"``
    draws different targets per rank). Gradients are assumed already reduced (DDP). The optimizer never
    initialises a process group.
    """

    def __init__(self, model: nn.Module, lr: float = 0.1, *, loss_type: str = "cross_entropy",
                 fisher: str = "sampled", fisher_samples: int = 1, momentum: float = 0.0,
                 weight_decay: float = 0.0, damping: float = 1e-3, factor_decay: float = 0.8,
                 inverse_every: int = 1, kl_clip: float | None = 3e-2, max_factor_dim: int = 4096,
                 factor_dtype: torch.dtype = torch.float32, fallback: str = "adamw",
                 fallback_lr: float | None = None, fallback_betas: tuple[float, float] = (0.9, 0.999),
                 fallback_eps: float = 1e-8, fallback_weight_decay: float = 0.0,
                 skip_modules: Iterable[str] = ()) -> None:
        if not isinstance(model, nn.Module):
            raise ConfigurationError(
                f"KFAC takes the model (an nn.Module, whose layers it hooks), not its parameters: "
                f"KFAC(model, lr=...); got {type(model).__name__}.\n\n{LOOP}")
        _check_options(lr, loss_type, fisher, fisher_samples, momentum, weight_decay, damping, factor_decay,
                       inverse_every, kl_clip, max_factor_dim, factor_dtype, fallback)
        self.model = model
        self.loss_type, self.fisher, self.fisher_samples = loss_type, fisher, int(fisher_samples)
        self.factor_dtype = factor_dtype
        self._context = CaptureContext()
        self._captures, left_out = _hook_layers(model, self._context, factor_dtype, max_factor_dim,
                                                tuple(skip_modules))
        if left_out:
            warnings.warn("K-FAC leaves these layers to the fallback optimizer: " + "; ".join(left_out),
                          stacklevel=2)
        self._blocks: list[KroneckerBlock] = [b for c in self._captures for b in c.blocks]
        self._captured = False     # a forward was recorded and its factors not yet updated
        self._loop_seen = False    # capture() or update_factors() was called at least once
        self._warned_fallback: set[str] = set()
        preconditioned = [p for b in self._blocks for p in b.params]
        chosen = {id(p) for p in preconditioned}
        others = [p for p in model.parameters() if p.requires_grad and id(p) not in chosen]
        if fallback_lr is None:
            fallback_lr = 1e-3 if fallback == "adamw" else lr
        groups = [
            dict(params=preconditioned, role="kfac", lr=lr, momentum=momentum, weight_decay=weight_decay,
                 damping=damping, factor_decay=factor_decay, inverse_every=int(inverse_every),
                 kl_clip=kl_clip, step=0),
            dict(params=others, role="fallback", algorithm=fallback, lr=fallback_lr, momentum=momentum,
                 betas=tuple(fallback_betas), eps=fallback_eps, weight_decay=fallback_weight_decay),
        ]
        if not preconditioned and not others:
            raise ConfigurationError("the model has no trainable parameters")
        super().__init__(groups, {})
        self._groups_fixed = True

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Refused after construction: KFAC has exactly one K-FAC group and one fallback group."""
        if getattr(self, "_groups_fixed", False):
            raise ConfigurationError(
                "KFAC's parameter groups are fixed when it is built (param_groups[0]: the K-FAC layers, "
                "param_groups[1]: the fallback optimizer). Build KFAC on the module that holds every "
                "parameter to train (skip_modules= leaves modules to the fallback), and change "
                "hyper-parameters in opt.param_groups[i] directly.")
        super().add_param_group(param_group)

    # ----------------------------------------------------------------------------------------------
    # Capturing the factors

    @property
    def preconditioned_layers(self) -> list[str]:
        """Names of the blocks K-FAC preconditions (e.g. ``"encoder.weight_ih_l0"``, ``"head"``)."""
        return [block.name for block in self._blocks]

    @contextmanager
    def capture(self, enabled: bool = True) -> Iterator[None]:
        """Record the inputs of the hooked layers during the forward pass inside the ``with`` block."""
        for capture in self._captures:
            capture.reset()
        self._loop_seen = True
        self._captured = bool(enabled)
        self._context.recording = bool(enabled)
        try:
            yield
        finally:
            self._context.recording = False

    def backward(self, loss: torch.Tensor, outputs: torch.Tensor) -> None:
        """:meth:`update_factors` from ``outputs`` (when a forward was captured), then ``loss.backward()``."""
        self.update_factors(outputs, loss)
        loss.backward()

    def update_factors(self, outputs: torch.Tensor, loss: torch.Tensor | None = None) -> bool:
        """Fold the captured batch into the EMA factors; True when factors were updated.

        ``outputs``: the model's logits (cross-entropy) or means (mse), classes/coordinates on the last
        axis. The Fisher pass back-propagates sampled-target gradients (or the exact expectation's square
        root, or the loss for ``fisher="empirical"``) through the retained graph.
        """
        self._loop_seen = True
        if not self._captured or not self._blocks:
            return False
        self._captured = False
        if not isinstance(outputs, torch.Tensor) or not outputs.requires_grad or outputs.ndim == 0:
            raise ConfigurationError("update_factors needs the model's output tensor (requiring grad, with "
                                     "classes or output coordinates on the last axis)")
        if loss is not None and self.loss_type == "cross_entropy" and outputs.ndim >= 3:
            _check_class_axis(outputs, loss)
        if not torch.isfinite(outputs.detach()).all():
            # A diverged forward pass: sampling targets from it is meaningless, keep the current factors.
            for capture in self._captures:
                capture.reset()
            self.health.skipped()
            return False
        examples = outputs.numel() // outputs.shape[-1]
        weights = [block.weight for block in self._blocks]
        passes = 0
        self._context.fisher_pass = True
        try:
            with torch.enable_grad():
                for cotangent in self._fisher_cotangents(outputs, loss, examples):
                    root = outputs if self.fisher != "empirical" else loss * examples
                    torch.autograd.grad(root, weights, cotangent, retain_graph=True, allow_unused=True)
                    for capture in self._captures:
                        capture.end_pass()
                    passes += 1
        finally:
            self._context.fisher_pass = False
        per_pass = passes if self.fisher == "sampled" else 1
        self._fold_statistics(examples, per_pass)
        for capture in self._captures:
            capture.reset()
        return True

    def _fisher_cotangents(self, outputs: torch.Tensor, loss: torch.Tensor | None,
                           examples: int) -> Iterator[torch.Tensor | None]:
        """Gradients w.r.t. ``outputs`` whose outer products average to the output-side Fisher."""
        if self.fisher == "empirical":
            if loss is None or loss.ndim != 0:
                raise ConfigurationError("fisher='empirical' needs the scalar (mean-reduced) loss")
            yield None
            return
        out = outputs.detach()
        width = out.shape[-1]
        if self.loss_type == "mse":
            if self.fisher == "sampled":
                for _ in range(self.fisher_samples):
                    yield torch.randn_like(out)
            else:
                for j in range(width):
                    basis = torch.zeros_like(out)
                    basis[..., j] = 1.0
                    yield basis
            return
        probs = torch.softmax(out.reshape(-1, width).to(torch.promote_types(out.dtype, torch.float32)), dim=-1)
        if self.fisher == "sampled":
            for _ in range(self.fisher_samples):
                drawn = torch.multinomial(probs, 1)
                yield (probs - torch.zeros_like(probs).scatter_(1, drawn, 1.0)).reshape(out.shape).to(out.dtype)
        else:
            for c in range(width):
                onehot = torch.zeros_like(probs)
                onehot[:, c] = 1.0
                cotangent = probs[:, c:c + 1].sqrt() * (probs - onehot)
                yield cotangent.reshape(out.shape).to(out.dtype)

    def _fold_statistics(self, examples: int, passes: int) -> None:
        """Normalise the batch sums (all-reduced across ranks when distributed) and update the EMAs."""
        blocks = self._blocks
        device = blocks[0].weight.device if blocks else torch.device("cpu")
        sums, counts = [], []
        for block in blocks:
            sums.append(block.a_sum if block.a_sum is not None
                        else torch.zeros(block.in_dim, block.in_dim, dtype=self.factor_dtype, device=device))
            sums.append(block.s_sum if block.s_sum is not None
                        else torch.zeros(block.out_dim, block.out_dim, dtype=self.factor_dtype, device=device))
            counts += [block.a_rows, block.s_passes]
        counts_t = torch.tensor(counts + [examples], dtype=torch.float64, device=device)
        if _distributed() and blocks:
            flat = torch.cat([s.reshape(-1).to(torch.float64) for s in sums] + [counts_t])
            dist.all_reduce(flat)
            offset = 0
            for i, s in enumerate(sums):
                sums[i] = flat[offset:offset + s.numel()].reshape(s.shape).to(self.factor_dtype)
                offset += s.numel()
            counts_t = flat[offset:]
        counts_list = counts_t.tolist()
        total_examples = counts_list[-1]
        decay = self.param_groups[0]["factor_decay"]
        updates = []
        for i, block in enumerate(blocks):
            rows, hits = counts_list[2 * i], counts_list[2 * i + 1]
            if rows and hits:
                updates.append((block, sums[2 * i] / rows, sums[2 * i + 1] / (total_examples * passes), rows))
        finite = torch.stack([torch.isfinite(a).all() & torch.isfinite(s).all()
                              for _, a, s, _ in updates]).tolist() if updates else []
        for (block, a_new, s_new, rows), ok in zip(updates, finite):
            if not ok:
                self.health.skipped()
                continue
            state = self.state[block.weight]
            if "A" not in state:
                state["A"], state["S"] = a_new, s_new
            else:
                self._average_factor(state["A"], a_new, decay, rows)
                self._average_factor(state["S"], s_new, decay, total_examples * passes)

    def _average_factor(self, factor: torch.Tensor, new: torch.Tensor, decay: float, samples: float) -> None:
        """factor ← decay·factor + (1 − decay)·new, in place; ``new`` averages ``samples`` outer products (a
        subclass may weigh the two by it)."""
        factor.mul_(decay).add_(new, alpha=1.0 - decay)

    # ----------------------------------------------------------------------------------------------
    # The step

    def _eigenbases(self, block: KroneckerBlock, refresh: bool) -> tuple[Eig, Eig] | None:
        """(eig of A, eig of S) with eigenvalues clamped at 0, refreshed when due; None if none exists.

        A refresh re-expresses the momentum (kept in the eigenbasis) in the new basis.
        """
        state = self.state[block.weight]
        if "A" not in state:
            return None
        if refresh or "A_eigvecs" not in state:
            try:
                a_vals, a_vecs = robust_eigh(state["A"])
                s_vals, s_vecs = robust_eigh(state["S"])
            except EighFailure:
                self.health.failure()
                state["refresh_failures"] = state.get("refresh_failures", 0) + 1
            else:
                self.health.success()
                new = (a_vals.clamp_min(0), a_vecs), (s_vals.clamp_min(0), s_vecs)
                if "kfac_momentum" in state and "A_eigvecs" in state:
                    old = _stored_bases(state)
                    state["kfac_momentum"] = rotate(rotate_back(state["kfac_momentum"], *old), *new)
                state.update(A_eigvals=new[0][0], A_eigvecs=a_vecs, S_eigvals=new[1][0], S_eigvecs=s_vecs)
        if "A_eigvecs" not in state:
            return None
        return _stored_bases(state)

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        """One K-FAC step on the preconditioned layers and one base-optimizer step on the rest.

        In the eigenbasis of A ⊗ S the direction is V̂ = (Q_Sᵀ ∇ Q_A) / (d_S d_Aᵀ + λ); the momentum
        Û ← μÛ + V̂ is kept there, so the KL clip's Uᵀ(A ⊗ S + λI)U = Σ Û² ⊙ (d_S d_Aᵀ + λ) costs no
        extra rotation; the step is −lr·ν·Q_S Û Q_Aᵀ. A gradient with NaN or Inf skips (and counts) its
        layer or parameter.
        """
        self._check_loop()
        loss = evaluate_closure(closure)
        group, base = self.param_groups
        group["step"] += 1
        refresh = (group["step"] - 1) % group["inverse_every"] == 0
        candidates: list[tuple[KroneckerBlock, tuple[Eig, Eig], torch.Tensor, torch.Tensor]] = []
        to_base = [p for p in base["params"] if p.grad is not None]
        for block in self._blocks:
            grad = block.gradient_matrix()
            if grad is None:
                continue
            bases = self._eigenbases(block, refresh)
            if bases is None:
                self._fall_back(block)
                to_base += [p for p in block.params if p.grad is not None]
                continue
            values = eigenvalues(*bases, group["damping"])
            candidates.append((block, bases, values, rotate(grad.to(self.factor_dtype), *bases) / values))
        flags = [torch.isfinite(direction).all() for *_, direction in candidates]
        flags += [torch.isfinite(torch.linalg.vector_norm(p.grad)) for p in to_base]
        finite = torch.stack(flags).tolist() if flags else []
        steps: list[tuple[KroneckerBlock, tuple[Eig, Eig], torch.Tensor]] = []
        quadratic = 0.0
        for (block, bases, values, direction), ok in zip(candidates, finite):
            if not ok:
                self.health.skipped()
                continue
            state = self.state[block.weight]
            if group["momentum"] > 0:
                if "kfac_momentum" not in state:
                    state["kfac_momentum"] = direction.clone()
                else:
                    state["kfac_momentum"].mul_(group["momentum"]).add_(direction)
                direction = state["kfac_momentum"]
            if group["kl_clip"] is not None:
                quadratic = quadratic + (direction.square() * values).sum().to(torch.float64)
            steps.append((block, bases, direction))
        scale = _kl_scale(float(quadratic), group["lr"], group["kl_clip"])
        for block, bases, direction in steps:
            for param, part in zip(block.params, block.split(rotate_back(direction, *bases) * scale)):
                apply_update(param, part, group["lr"], group["weight_decay"])
        for param, ok in zip(to_base, finite[len(candidates):]):
            if ok:
                self._base_step(param, base)
            else:
                self.health.skipped()
        return loss

    def _check_loop(self) -> None:
        """Refuse a step that K-FAC cannot take as K-FAC: the plain loop, or a capture never folded in."""
        if self._captured:
            raise ConfigurationError("a forward pass was captured but its factors were never updated: call "
                                     f"opt.backward(loss, outputs) instead of loss.backward().\n\n{LOOP}")
        if self._blocks and not self._loop_seen:
            raise ConfigurationError(f"KFAC.step() was called without opt.capture() ever being used.\n\n{LOOP}")

    def _fall_back(self, block: KroneckerBlock) -> None:
        """Count (and, once per layer, warn) that a K-FAC layer takes the base optimizer's step."""
        self.health.fell_back()
        if block.name not in self._warned_fallback:
            self._warned_fallback.add(block.name)
            warnings.warn(f"K-FAC layer {block.name!r} has no factors yet (no captured forward pass, or no "
                          f"successful eigendecomposition): it takes the "
                          f"{self.param_groups[1]['algorithm']} fallback step until it has; counted in "
                          f"health.fallback_updates", stacklevel=3)

    def _sgd_step(self, param: torch.Tensor, grad: torch.Tensor, group: dict) -> None:
        state = self.state[param]
        direction = grad
        if group["momentum"] > 0:
            if "momentum_buffer" not in state:
                state["momentum_buffer"] = grad.clone()
            else:
                state["momentum_buffer"].mul_(group["momentum"]).add_(grad)
            direction = state["momentum_buffer"]
        apply_update(param, direction, group["lr"], group["weight_decay"])

    def _base_step(self, param: torch.Tensor, base: dict) -> None:
        self._check_dense(param)
        state = self.state[param]
        grad = param.grad
        if base["algorithm"] == "sgd":
            self._sgd_step(param, grad, base)
            return
        if "adam_step" not in state:
            state["adam_step"] = 0
            state["exp_avg"] = torch.zeros_like(param)
            state["exp_avg_sq"] = torch.zeros_like(param)
        state["adam_step"] += 1
        update_moments(state["exp_avg"], state["exp_avg_sq"], grad, base["betas"])
        direction = adam_direction(state["exp_avg"], state["exp_avg_sq"], state["adam_step"], base["betas"],
                                   base["eps"])
        apply_update(param, direction, base["lr"], base["weight_decay"])

    def remove_hooks(self) -> None:
        """Detach the optimizer's hooks from the model (the optimizer then only uses its current factors)."""
        for capture in self._captures:
            capture.handle.remove()


def _stored_bases(state: dict[str, Any]) -> tuple[Eig, Eig]:
    return (state["A_eigvals"], state["A_eigvecs"]), (state["S_eigvals"], state["S_eigvecs"])


def _kl_scale(quadratic: float, lr: float, kl_clip: float | None) -> float:
    """ν = min(1, √(κ / (lr² Uᵀ(A ⊗ S + λI)U))); 1 without a clip."""
    if kl_clip is None or quadratic * lr**2 <= kl_clip:
        return 1.0
    return math.sqrt(kl_clip / (quadratic * lr**2))


def _check_class_axis(outputs: torch.Tensor, loss: torch.Tensor) -> None:
    """Raise when the loss does not treat the last axis of ``outputs`` as the classes.

    A softmax cross-entropy over the last axis has ∂loss/∂logits = w·(p − y) per position, which sums to
    zero over that axis; logits laid out as (N, C, T) for ``F.cross_entropy`` give sums of order one.
    """
    (grad,) = torch.autograd.grad(loss, outputs, retain_graph=True)
    total = grad.abs().sum()
    if total > 0 and grad.sum(-1).abs().sum() > 1e-2 * total:
        raise ConfigurationError(
            f"the loss does not take the last axis of the outputs {tuple(outputs.shape)} as the classes "
            "(its gradient does not sum to zero over that axis). K-FAC samples targets over the last axis: "
            "pass outputs with classes last, e.g. logits.movedim(1, -1) for (N, C, T) logits, and compute the "
            "loss from that tensor: F.cross_entropy(out.reshape(-1, C), y.reshape(-1)).")


def _check_options(lr, loss_type, fisher, fisher_samples, momentum, weight_decay, damping, factor_decay,
                   inverse_every, kl_clip, max_factor_dim, factor_dtype, fallback) -> None:
    checks = [
        (lr >= 0, f"lr must be >= 0, got {lr}"),
        (loss_type in LOSS_TYPES, f"loss_type must be one of {LOSS_TYPES}, got {loss_type!r}"),
        (fisher in FISHER_ESTIMATORS, f"fisher must be one of {FISHER_ESTIMATORS}, got {fisher!r}"),
        (int(fisher_samples) == fisher_samples and fisher_samples >= 1,
         f"fisher_samples must be a positive integer, got {fisher_samples}"),
        (0 <= momentum < 1, f"momentum must be in [0, 1), got {momentum}"),
        (weight_decay >= 0, f"weight_decay must be >= 0, got {weight_decay}"),
        (damping > 0, f"damping must be > 0, got {damping}"),
        (0 <= factor_decay < 1, f"factor_decay must be in [0, 1), got {factor_decay}"),
        (int(inverse_every) == inverse_every and inverse_every >= 1,
         f"inverse_every must be a positive integer, got {inverse_every}"),
        (kl_clip is None or kl_clip > 0, f"kl_clip must be > 0 or None, got {kl_clip}"),
        (int(max_factor_dim) == max_factor_dim and max_factor_dim >= 1,
         f"max_factor_dim must be a positive integer, got {max_factor_dim}"),
        (factor_dtype in (torch.float32, torch.float64),
         f"factor_dtype must be torch.float32 or torch.float64, got {factor_dtype}"),
        (fallback in FALLBACKS, f"fallback must be one of {FALLBACKS}, got {fallback!r}"),
    ]
    for ok, message in checks:
        if not ok:
            raise ConfigurationError(message)


def _hook_layers(model: nn.Module, context: CaptureContext, factor_dtype: torch.dtype, max_dim: int,
                 skip: tuple[str, ...]) -> tuple[list[LinearCapture | GRUCapture], list[str]]:
    """Hook every nn.Linear and supported nn.GRU whose weights are trainable, unshared and not too large.

    Returns the captures and, for every nn.Linear or nn.GRU left out other than through ``skip``, its name
    and the reason.
    """
    owners: dict[int, int] = {}
    for module in model.modules():
        for param in module.parameters(recurse=False):
            owners[id(param)] = owners.get(id(param), 0) + 1
    captures: list[LinearCapture | GRUCapture] = []
    left_out: list[str] = []
    for name, module in model.named_modules():
        if any(name == s or name.startswith(s + ".") for s in skip):
            continue
        label = name or type(module).__name__
        if isinstance(module, nn.Linear):
            weights = [module.weight]
            dims = [module.in_features + 1, module.out_features]
            make = LinearCapture
        elif isinstance(module, nn.GRU):
            if not gru_is_supported(module):
                left_out.append(f"{label} (bidirectional, or dropout between layers)")
                continue
            weights = [getattr(module, f"weight_{s}_l{k}") for k in range(module.num_layers) for s in ("ih", "hh")]
            dims = [module.input_size + 1, module.hidden_size + 1, 3 * module.hidden_size]
            make = GRUCapture
        else:
            continue
        params = list(module.parameters(recurse=False))
        if not all(w.requires_grad for w in weights):
            continue  # frozen: nothing to precondition
        if max(dims) > max_dim:
            left_out.append(f"{label} (a factor of size {max(dims)} > max_factor_dim={max_dim})")
            continue
        if any(owners[id(p)] > 1 for p in params):
            left_out.append(f"{label} (a weight shared with another module)")
            continue
        captures.append(make(label, module, context, factor_dtype))
    return captures, left_out
