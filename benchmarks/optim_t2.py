"""T2: next-shot prediction on synthetic rallies from a known mixture of Markov chains.

A rally is drawn by picking a playing style k ~ w, a first shot from pi_k and further shots from the
transition matrix P_k, whose last column is the end-of-rally token; rallies are cut at ``max_len`` tokens.
The Bayes-optimal predictor is the posterior mixture

    p(y_t | y_<t) = sum_k p(k | y_<t) P_k(y_{t-1}, y_t),   p(k | y_<t) ∝ w_k pi_k(y_0) prod_{i<t} P_k(y_{i-1}, y_i),

so the best possible next-shot cross-entropy is known: exactly on any evaluation set, and in expectation
H(Y) / E[T] (joint entropy over expected length), bracketed exactly by H(Y|K)/E[T] and (H(Y|K)+H(K))/E[T].

Models: an MLP on a one-hot window of previous shots, a GRU and a 2-layer causal transformer. Methods: AdamW
and the optimizers of ``strategist.optim`` (Shampoo, SOAP, Muon through its routing helper, K-FAC), on the
same warm-up + cosine schedule, an lr grid of the same size per method, tuned on seed 0 and run on 3 seeds.

Reports excess loss over the Bayes loss, steps and wall-clock to AdamW's final loss, per-step time ratio to
AdamW (interleaved in one process, medians) and optimizer-state bytes. Writes benchmarks/results/optim_t2.{json,md,png}.

    python benchmarks/optim_t2.py                 # CPU, about 10 minutes on one core
    python benchmarks/optim_t2.py --quick         # smoke run
    python benchmarks/optim_t2.py --device cuda --out benchmarks/results/optim_t2_gpu.json
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))
RESULTS = REPO / "benchmarks" / "results"

IGNORE = -100  # target index of padding positions


# ----------------------------------------------------------------------------------------------------------
# The source: a mixture of Markov chains over shots, with its exact Bayes predictor
# ----------------------------------------------------------------------------------------------------------


@dataclass
class MarkovMixtureSource:
    """Rallies from a mixture of Markov chains: k ~ weights, y_0 ~ initial[k], y_t ~ transition[k, y_{t-1}].

    Tokens 0..n_shots-1 are shots, ``n_shots`` is the end-of-rally token (column n_shots of ``transition``).
    A rally stops after its end token or after ``max_len`` tokens, whichever comes first.
    """

    weights: np.ndarray  # (K,)
    initial: np.ndarray  # (K, S)
    transition: np.ndarray  # (K, S, S+1)
    max_len: int

    @property
    def n_components(self) -> int:
        return self.weights.shape[0]

    @property
    def n_shots(self) -> int:
        return self.initial.shape[1]

    @property
    def end(self) -> int:
        return self.n_shots

    @property
    def n_classes(self) -> int:
        """Size of the prediction target: shots plus the end token."""
        return self.n_shots + 1

    @property
    def bos(self) -> int:
        """Input token that stands before the first shot (and pads inputs)."""
        return self.n_shots + 1

    @property
    def n_inputs(self) -> int:
        return self.n_shots + 2

    @classmethod
    def random(cls, n_shots: int = 12, n_components: int = 4, max_len: int = 16, seed: int = 0,
               concentration: float = 0.3, end_prob: tuple[float, float] = (0.08, 0.25)) -> MarkovMixtureSource:
        """Sparse Dirichlet(concentration) chains with per-shot end probabilities drawn from ``end_prob``."""
        rng = np.random.default_rng(seed)
        weights = rng.dirichlet(np.full(n_components, 2.0))
        initial = rng.dirichlet(np.full(n_shots, 0.5), size=n_components)
        cont = rng.dirichlet(np.full(n_shots, concentration), size=(n_components, n_shots))
        stop = rng.uniform(*end_prob, size=(n_components, n_shots, 1))
        transition = np.concatenate([cont * (1.0 - stop), stop], axis=-1)
        return cls(weights, initial, transition, max_len)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """``n`` rallies as an (n, max_len) int64 array of targets, IGNORE after a rally's end."""
        comp = rng.choice(self.n_components, size=n, p=self.weights)
        out = np.full((n, self.max_len), IGNORE, dtype=np.int64)
        alive = np.ones(n, dtype=bool)
        prev = None
        for t in range(self.max_len):
            rows = self.initial[comp] if t == 0 else self.transition[comp, prev]
            cdf = np.cumsum(rows, axis=1)
            u = rng.random(n)[:, None] * cdf[:, -1:]
            tok = np.minimum((u >= cdf).sum(axis=1), rows.shape[1] - 1)
            out[alive, t] = tok[alive]
            alive &= tok != self.end
            if not alive.any():
                break
            prev = np.minimum(tok, self.n_shots - 1)  # ended rows carry a dummy state, never used
        return out

    def _log_terms(self, targets: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """log P_k(y_t | y_{t-1}) per component, (K, N, T), zero at padding; and the validity mask (N, T)."""
        valid = targets != IGNORE
        y = np.where(valid, targets, 0)
        with np.errstate(divide="ignore"):
            log_init = np.log(self.initial)
            log_trans = np.log(self.transition)
        terms = np.zeros((self.n_components,) + targets.shape)
        terms[:, :, 0] = log_init[:, y[:, 0]]
        if targets.shape[1] > 1:
            prev = np.minimum(y[:, :-1], self.n_shots - 1)
            terms[:, :, 1:] = log_trans[:, prev, y[:, 1:]]
        terms = np.where(valid[None], terms, 0.0)
        return terms, valid

    def bayes_log_predictive(self, targets: np.ndarray) -> np.ndarray:
        """log p(y_t | y_<t) under the posterior over components, (N, T) float64, zero at padding.

        Chain rule: log p(y_<=t) - log p(y_<t), with log p(y_<=t) = logsumexp_k(log w_k + sum_i terms).
        """
        terms, valid = self._log_terms(targets)
        joint = np.log(self.weights)[:, None, None] + np.cumsum(terms, axis=2)
        top = joint.max(axis=0)
        marginal = top + np.log(np.exp(joint - top).sum(axis=0))  # log p(y_<=t), (N, T)
        prev = np.concatenate([np.zeros((targets.shape[0], 1)), marginal[:, :-1]], axis=1)
        return np.where(valid, marginal - prev, 0.0)

    def bayes_loss(self, targets: np.ndarray) -> float:
        """Per-token cross-entropy (nats) of the Bayes predictor on ``targets``."""
        lp = self.bayes_log_predictive(targets)
        return float(-lp.sum() / (targets != IGNORE).sum())

    def exact_entropy_terms(self) -> dict[str, float]:
        """H(Y|K), H(K) and E[T], exactly, by propagating each chain's state distribution over positions.

        H(Y|K) = sum_k w_k [H(pi_k) + sum_{t>=1} sum_s m_t(s) H(P_k[s])], m_t(s) = P(y_{t-1} = s shot, no end yet).
        """
        def ent(p):
            p = p[p > 0]
            return float(-(p * np.log(p)).sum())

        h_cond, length = 0.0, 0.0
        for k in range(self.n_components):
            row_ent = np.array([ent(self.transition[k, s]) for s in range(self.n_shots)])
            mass = self.initial[k].copy()
            h_k, len_k = ent(self.initial[k]), 1.0
            for _ in range(1, self.max_len):
                h_k += float(mass @ row_ent)
                len_k += float(mass.sum())
                mass = mass @ self.transition[k, :, : self.n_shots]
            h_cond += self.weights[k] * h_k
            length += self.weights[k] * len_k
        return {"H_Y_given_K": h_cond, "H_K": ent(self.weights), "expected_tokens": length}

    def best_loss_bounds(self) -> tuple[float, float]:
        """Exact bounds H(Y|K)/E[T] <= best per-token loss <= (H(Y|K) + H(K))/E[T]."""
        e = self.exact_entropy_terms()
        return e["H_Y_given_K"] / e["expected_tokens"], (e["H_Y_given_K"] + e["H_K"]) / e["expected_tokens"]

    def monte_carlo_best_loss(self, n: int, seed: int) -> tuple[float, float]:
        """Monte-Carlo estimate of H(Y)/E[T] from ``n`` rallies and its standard error (ratio estimator)."""
        targets = self.sample(n, np.random.default_rng(seed))
        nll = -self.bayes_log_predictive(targets).sum(axis=1)
        tokens = (targets != IGNORE).sum(axis=1).astype(float)
        ratio = nll.sum() / tokens.sum()
        resid = nll - ratio * tokens
        se = math.sqrt(resid.var(ddof=1) / n) / tokens.mean()
        return float(ratio), float(se)


def inputs_from_targets(targets: torch.Tensor, bos: int) -> torch.Tensor:
    """Model inputs: the previous token at every position, ``bos`` first. Positions after a rally's end
    (holding the end token, then ``bos``) are never scored."""
    prev = torch.cat([torch.full_like(targets[:, :1], bos), targets[:, :-1]], dim=1)
    return torch.where(prev == IGNORE, torch.full_like(prev, bos), prev)


# ----------------------------------------------------------------------------------------------------------
# Models: (B, T) input tokens -> (B, T, n_classes) logits, causal
# ----------------------------------------------------------------------------------------------------------


class WindowMLP(nn.Module):
    """Two hidden layers on the one-hot encoding of the ``window`` previous tokens."""

    def __init__(self, n_inputs: int, n_classes: int, bos: int, window: int = 4, hidden: int = 128):
        super().__init__()
        self.n_inputs, self.bos, self.window = n_inputs, bos, window
        self.net = nn.Sequential(nn.Linear(window * n_inputs, hidden), nn.GELU(), nn.Linear(hidden, hidden),
                                 nn.GELU(), nn.Linear(hidden, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        padded = F.pad(x, (self.window - 1, 0), value=self.bos)
        windows = padded.unfold(1, self.window, 1)  # (B, T, window)
        return self.net(F.one_hot(windows, self.n_inputs).to(torch.get_default_dtype()).flatten(-2))


class ShotGRU(nn.Module):
    """Embedding -> one-layer GRU -> linear head."""

    def __init__(self, n_inputs: int, n_classes: int, embed: int = 32, hidden: int = 64):
        super().__init__()
        self.embed = nn.Embedding(n_inputs, embed)
        self.gru = nn.GRU(embed, hidden, batch_first=True)
        self.head = nn.Linear(hidden, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.gru(self.embed(x))[0])


class CausalBlock(nn.Module):
    """Pre-LayerNorm block: x + Attn(LN x), then x + MLP(LN x); attention projections are nn.Linear."""

    def __init__(self, dim: int, heads: int, ff: int):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.fc1, self.fc2 = nn.Linear(dim, ff), nn.Linear(ff, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, t, d = x.shape
        q, k, v = self.qkv(self.ln1(x)).view(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        att = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.proj(att.transpose(1, 2).reshape(b, t, d))
        return x + self.fc2(F.gelu(self.fc1(self.ln2(x))))


class ShotTransformer(nn.Module):
    """Token + learned position embeddings, causal pre-LN blocks, final LayerNorm, linear head."""

    def __init__(self, n_inputs: int, n_classes: int, max_len: int, dim: int = 64, heads: int = 4,
                 ff: int = 128, layers: int = 2):
        super().__init__()
        self.embed = nn.Embedding(n_inputs, dim)
        self.pos = nn.Embedding(max_len, dim)
        self.blocks = nn.ModuleList(CausalBlock(dim, heads, ff) for _ in range(layers))
        self.ln = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, n_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.embed(x) + self.pos(torch.arange(x.shape[1], device=x.device))
        for block in self.blocks:
            h = block(h)
        return self.head(self.ln(h))


MODELS = ("mlp", "gru", "transformer")


def build_model(name: str, source: MarkovMixtureSource) -> nn.Module:
    if name == "mlp":
        return WindowMLP(source.n_inputs, source.n_classes, source.bos)
    if name == "gru":
        return ShotGRU(source.n_inputs, source.n_classes)
    if name == "transformer":
        return ShotTransformer(source.n_inputs, source.n_classes, source.max_len)
    raise ValueError(f"unknown model {name!r}; expected one of {MODELS}")


def next_shot_loss(logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean cross-entropy over the non-padding positions."""
    return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), ignore_index=IGNORE)


@torch.no_grad()
def evaluate(model: nn.Module, chunks: list[tuple[torch.Tensor, torch.Tensor]]) -> float:
    """Per-token cross-entropy (nats) of ``model`` on an evaluation set given as (inputs, targets) chunks,
    summed in float64."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for x, y in chunks:
        logits = model(x)
        total += float(F.cross_entropy(logits.reshape(-1, logits.shape[-1]).double(), y.reshape(-1),
                                       ignore_index=IGNORE, reduction="sum"))
        count += int((y != IGNORE).sum())
    model.train(was_training)
    return total / count


def length_chunks(targets: torch.Tensor, bos: int, size: int = 256) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Rallies sorted by length, in chunks of ``size`` trimmed to their longest rally (exact for causal models)."""
    lengths = (targets != IGNORE).sum(1)
    order = torch.argsort(lengths, stable=True)
    chunks = []
    for i in range(0, len(order), size):
        idx = order[i:i + size]
        y = targets[idx, : int(lengths[idx].max())]
        chunks.append((inputs_from_targets(y, bos), y))
    return chunks


# ----------------------------------------------------------------------------------------------------------
# Schedule: linear warm-up then cosine to zero
# ----------------------------------------------------------------------------------------------------------

try:  # the schedule shared with the T1 benchmark
    from benchmarks._optim_common import warmup_cosine
except ImportError:  # pragma: no cover - the benchmark also runs from a copy of this file alone
    def warmup_cosine(step: int, total_steps: int, warmup_steps: int, final_ratio: float = 0.0) -> float:
        """lr multiplier at 0-based ``step``: (step+1)/warmup during warm-up, then cosine to ``final_ratio``."""
        if step < warmup_steps:
            return (step + 1) / warmup_steps
        p = min(1.0, (step - warmup_steps) / max(1, total_steps - warmup_steps))
        return final_ratio + (1.0 - final_ratio) * 0.5 * (1.0 + math.cos(math.pi * p))


class Schedule:
    """Sets every param group's lr to its initial lr times :func:`warmup_cosine` before each step."""

    def __init__(self, optimizer, total: int, warmup: int):
        self.optimizer, self.total, self.warmup = optimizer, total, warmup
        self.base = [g["lr"] for g in optimizer.param_groups]

    def apply(self, step: int) -> float:
        mult = warmup_cosine(step, self.total, self.warmup)
        for group, base in zip(self.optimizer.param_groups, self.base):
            group["lr"] = base * mult
        return mult


# ----------------------------------------------------------------------------------------------------------
# Methods
# ----------------------------------------------------------------------------------------------------------


class OptimizerPair:
    """Two optimizers stepped together (e.g. Muon on hidden matrices, AdamW on the rest)."""

    def __init__(self, *optimizers):
        self.optimizers = [o for o in optimizers if o is not None]

    @property
    def param_groups(self):
        return [g for o in self.optimizers for g in o.param_groups]

    @property
    def state(self):
        merged = {}
        for o in self.optimizers:
            merged.update(o.state)
        return merged

    def step(self, closure=None):
        for o in self.optimizers:
            o.step()

    def zero_grad(self, set_to_none: bool = True):
        for o in self.optimizers:
            o.zero_grad(set_to_none=set_to_none)

    def state_dict(self):
        return {str(i): o.state_dict() for i, o in enumerate(self.optimizers)}


def hidden_matrix_split(model: nn.Module) -> tuple[list[nn.Parameter], list[nn.Parameter]]:
    """(hidden 2-D weights, everything else): embeddings, the output head, biases and gains go to the rest.

    Used only for the external Muon implementations, so that they precondition the same tensors as ours.
    GRU weight stacks (3H x in) count as hidden matrices.
    """
    head = getattr(model, "head", None)
    if head is None and isinstance(getattr(model, "net", None), nn.Sequential):
        head = model.net[-1]
    skip = {id(p) for m in model.modules() if isinstance(m, nn.Embedding) for p in m.parameters()}
    if head is not None:
        skip |= {id(p) for p in head.parameters()}
    hidden = [p for p in model.parameters() if p.ndim == 2 and id(p) not in skip]
    rest = [p for p in model.parameters() if p.ndim != 2 or id(p) in skip]
    return hidden, rest


@dataclass
class Method:
    """An optimizer under test: ``build(model, lr)`` returns an optimizer-like object (step, zero_grad,
    param_groups, state_dict). ``lr`` is the grid value; ``lr_center`` the middle of its grid."""

    name: str
    family: str
    impl: str
    lr_center: float
    build: Callable[[nn.Module, float], Any]
    needs_model_samples: bool = False  # K-FAC: backward of targets sampled from the model's predictive
    capture_every: int = 1  # K-FAC: refresh the factors (capture + Fisher pass) every this many steps
    notes: str = ""
    config: dict = field(default_factory=dict)


ADAMW_CONFIG = {"betas": (0.9, 0.999), "eps": 1e-8, "weight_decay": 0.01}
SHAMPOO_CONFIG = {"betas": (0.9, 0.999), "eps": 1e-12, "precondition_frequency": 10,
                  "start_preconditioning_step": 10, "weight_decay": 0.0, "graft_eps": 1e-8}
SOAP_CONFIG = {"betas": (0.95, 0.95), "eps": 1e-8, "weight_decay": 0.01, "precondition_frequency": 10}
# Muon on hidden matrices; the AdamW part runs at adamw_lr_ratio x the Muon lr, with the AdamW baseline's betas/wd.
MUON_CONFIG = {"momentum": 0.95, "ns_steps": 5, "weight_decay": 0.0, "adamw_lr_ratio": 0.5,
               "adamw_betas": (0.9, 0.999), "adamw_weight_decay": 0.01}
# K-FAC on Linear/GRU layers; embeddings and LayerNorms on its AdamW fallback at fallback_lr_ratio x lr.
# kl_clip off: with its default 1e-3 the clip binds at every lr >= 0.01 here, so the lr grid stops mattering.
KFAC_CONFIG = {"momentum": 0.9, "damping": 1e-2, "factor_decay": 0.95, "inverse_every": 10, "kl_clip": None,
               "fallback": "adamw", "fallback_lr_ratio": 1.0, "fallback_weight_decay": 0.01}
# Centres of the lr grids (grid = centre x T2Config.lr_multipliers), set by a coarse pilot scan on this problem;
# the MLP (one-hot inputs, no normalisation) wants half a decade more for every Adam-scaled method.
LR_CENTERS = {"AdamW": 1e-2, "Shampoo": 1e-2, "SOAP": 1e-2, "Muon": 0.03, "KFAC": 0.02}
MODEL_LR_SCALE = {"mlp": 10 ** 0.5}
UNSCALED_FAMILIES = {"kfac"}  # natural-gradient lr: the same centre on every model


def lr_center(method: "Method", model_name: str) -> float:
    scale = 1.0 if method.family in UNSCALED_FAMILIES else MODEL_LR_SCALE.get(model_name, 1.0)
    return method.lr_center * scale


def _adamw(model, lr):
    return torch.optim.AdamW(model.parameters(), lr=lr, **ADAMW_CONFIG)


def _import_ours(name: str):
    import importlib
    import strategist.optim as so
    if hasattr(so, name):
        return getattr(so, name)
    module = {"Shampoo": "shampoo", "SOAP": "soap", "KFAC": "kfac", "build_muon_optimizer": "routing"}[name]
    return getattr(importlib.import_module(f"strategist.optim.{module}"), name)


def _our_shampoo(model, lr):
    return _import_ours("Shampoo")(model.parameters(), lr=lr, **SHAMPOO_CONFIG)


def _our_soap(model, lr):
    return _import_ours("SOAP")(model.parameters(), lr=lr, **SOAP_CONFIG)


def _our_muon(model, lr):
    c = dict(MUON_CONFIG)
    ratio = c.pop("adamw_lr_ratio")
    return _import_ours("build_muon_optimizer")(model, lr=lr, adamw_lr=ratio * lr, **c)


def _our_kfac(model, lr):
    c = dict(KFAC_CONFIG)
    ratio = c.pop("fallback_lr_ratio")
    return _import_ours("KFAC")(model, lr=lr, loss_type="cross_entropy", fallback_lr=ratio * lr, **c)


def our_methods() -> tuple[list[Method], dict[str, str]]:
    """AdamW and the optimizers of strategist.optim that import; the second value says why any is missing."""
    methods = [Method("AdamW", "adamw", "torch", LR_CENTERS["AdamW"], _adamw, config=dict(ADAMW_CONFIG))]
    missing: dict[str, str] = {}
    candidates = [
        ("Shampoo", "shampoo", "Shampoo", _our_shampoo, SHAMPOO_CONFIG, False, ""),
        ("SOAP", "soap", "SOAP", _our_soap, SOAP_CONFIG, False, ""),
        ("Muon", "muon", "build_muon_optimizer", _our_muon, MUON_CONFIG, False,
         "hidden 2-D weights (GRU stacks split per gate) on Muon, embeddings/head/biases/gains on AdamW, "
         "via strategist.optim.routing.build_muon_optimizer"),
        ("KFAC", "kfac", "KFAC", _our_kfac, KFAC_CONFIG, True,
         "Linear and GRU layers preconditioned (attention projections are plain nn.Linear layers here); "
         "embeddings and LayerNorms on the AdamW fallback"),
    ]
    for name, family, symbol, build, config, samples, notes in candidates:
        try:
            _import_ours(symbol)
        except Exception as exc:  # noqa: BLE001 - a missing optimizer is reported, not fatal
            missing[name] = f"cannot import {symbol} from strategist.optim: {exc!r}"
            continue
        methods.append(Method(name, family, "ours", LR_CENTERS[name], build, needs_model_samples=samples,
                              notes=notes, config=dict(config)))
        if name == "KFAC":  # the documented cheaper loop: factors (capture + Fisher pass) every 5th step
            methods.append(Method("KFAC/5", family, "ours", LR_CENTERS[name], build, needs_model_samples=True,
                                  capture_every=5, notes=notes + "; factors refreshed every 5th step",
                                  config=dict(config, capture_every=5)))
    return methods, missing


# ----------------------------------------------------------------------------------------------------------
# Training
# ----------------------------------------------------------------------------------------------------------


@dataclass
class T2Config:
    steps: int = 200
    batch: int = 64
    warmup_frac: float = 0.05
    eval_every: int = 10
    n_eval: int = 600
    lr_multipliers: tuple[float, ...] = (10 ** -0.5, 1.0, 10 ** 0.5)
    seeds: tuple[int, ...] = (0, 1, 2)
    source_seed: int = 0
    n_shots: int = 12
    n_components: int = 4
    max_len: int = 16
    timing_rounds: int = 21
    timing_block: int = 10
    timing_warmup: int = 20
    device: str = "cpu"
    fixed_lrs: dict = field(default_factory=dict)  # {model: {method: lr}}: a one-point grid instead of tuning


def make_eval_set(source: MarkovMixtureSource, n: int, seed: int, device) -> tuple[list, float, int]:
    """Evaluation chunks, the Bayes loss on exactly these rallies, and their number of tokens."""
    targets = source.sample(n, np.random.default_rng(seed))
    bayes = source.bayes_loss(targets)
    return length_chunks(torch.as_tensor(targets, device=device), source.bos), bayes, int((targets != IGNORE).sum())


def train_stream(source: MarkovMixtureSource, cfg: T2Config, seed: int, device) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The batches of one seed: fresh rallies every step, trimmed to the batch's longest rally."""
    targets = torch.as_tensor(source.sample(cfg.steps * cfg.batch, np.random.default_rng(10_000 + seed)))
    batches = []
    for i in range(cfg.steps):
        y = targets[i * cfg.batch:(i + 1) * cfg.batch]
        length = int((y != IGNORE).sum(1).max())
        y = y[:, :length].to(device)
        batches.append((inputs_from_targets(y, source.bos), y))
    return batches


def make_step(method: Method, model: nn.Module, opt, opt_timer: list[float] | None = None,
              device: str = "cpu") -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """One training step (forward, backward, optimizer step); returns the batch loss. With ``opt_timer``,
    the seconds spent in ``opt.step()`` are added to ``opt_timer[0]``."""
    if method.needs_model_samples:
        return kfac_step(model, opt, method.capture_every)

    def step(x, y):
        loss = next_shot_loss(model(x), y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        if opt_timer is None:
            opt.step()
        else:
            sync(device)
            t0 = time.perf_counter()
            opt.step()
            sync(device)
            opt_timer[0] += time.perf_counter() - t0
        return loss
    return step


def kfac_step(model: nn.Module, opt, capture_every: int = 1):
    """K-FAC's loop: capture layer inputs, Fisher pass on targets sampled from the model, then the loss backward.
    Only the non-padding positions are examples. The factors are refreshed every ``capture_every`` steps
    (in between, ``opt.backward`` is the plain loss backward)."""
    count = [0]

    def step(x, y):
        opt.zero_grad(set_to_none=True)
        with opt.capture(enabled=count[0] % capture_every == 0):
            logits = model(x)
        count[0] += 1
        mask = y != IGNORE
        valid = logits[mask]
        loss = F.cross_entropy(valid, y[mask])
        opt.backward(loss, valid)
        opt.step()
        return loss
    return step


def optimizer_state_bytes(opt) -> int:
    """Bytes of the distinct tensor storages reachable from ``opt.state_dict()`` (inside dicts, lists and
    plain objects such as preconditioner holders); parameters themselves are not in it."""
    storages: dict[int, int] = {}
    seen: set[int] = set()

    def walk(obj):
        if id(obj) in seen:
            return
        seen.add(id(obj))
        if isinstance(obj, torch.Tensor):
            if obj.numel():
                storage = obj.untyped_storage()
                storages[storage.data_ptr()] = storage.nbytes()
        elif isinstance(obj, dict):
            for k, v in obj.items():
                if k != "params":
                    walk(v)
        elif isinstance(obj, (list, tuple, set)):
            for v in obj:
                walk(v)
        elif hasattr(obj, "__dict__") and not isinstance(obj, (nn.Module, type)):
            walk(vars(obj))

    walk(opt.state_dict())
    return sum(storages.values())


def sync(device: str):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def train_run(method: Method, model_name: str, lr: float, seed: int, source: MarkovMixtureSource,
              cfg: T2Config, batches, eval_set) -> dict:
    """Train one (method, model, lr, seed); eval-set loss every ``eval_every`` steps."""
    torch.manual_seed(seed)
    model = build_model(model_name, source).to(cfg.device)
    opt = method.build(model, lr)
    sched = Schedule(opt, cfg.steps, max(1, int(cfg.warmup_frac * cfg.steps)))
    step_fn = make_step(method, model, opt)
    curve_steps, curve_loss = [0], [evaluate(model, eval_set)]
    elapsed, time_at = 0.0, [0.0]
    diverged = False
    for i, (x, y) in enumerate(batches):
        sched.apply(i)
        sync(cfg.device)
        t0 = time.perf_counter()
        loss = step_fn(x, y)
        sync(cfg.device)
        elapsed += time.perf_counter() - t0
        if (i + 1) % cfg.eval_every == 0 or i + 1 == cfg.steps:
            ev = evaluate(model, eval_set)
            if not math.isfinite(ev) or not math.isfinite(float(loss.detach())):
                diverged = True
                ev = float("nan")
            curve_steps.append(i + 1)
            curve_loss.append(ev)
            time_at.append(elapsed)
            if diverged:
                break
    return {"method": method.name, "model": model_name, "lr": lr, "seed": seed,
            "final_loss": curve_loss[-1] if not diverged else float("nan"), "diverged": diverged,
            "curve_steps": curve_steps, "curve_loss": curve_loss, "curve_time_s": time_at,
            "train_time_s": elapsed, "state_bytes": optimizer_state_bytes(opt)}


def steps_to_reach(run: dict, target: float) -> tuple[float | None, float | None]:
    """Step (and training seconds) at which the eval loss first gets to ``target``, interpolated linearly
    between the two evaluations around the crossing; None when it never does."""
    pts = list(zip(run["curve_steps"], run["curve_loss"], run["curve_time_s"]))
    for i, (s, loss, t) in enumerate(pts):
        if not math.isfinite(loss):
            return None, None
        if loss <= target:
            if i == 0:
                return float(s), float(t)
            s0, l0, t0 = pts[i - 1]
            frac = (l0 - target) / (l0 - loss) if l0 > loss else 1.0
            return s0 + frac * (s - s0), t0 + frac * (t - t0)
    return None, None


def interleaved_step_times(methods: list[Method], lrs: dict[str, float], model_name: str,
                           source: MarkovMixtureSource, cfg: T2Config, batches) -> dict[str, dict]:
    """Per-step seconds of each method, measured in blocks of ``timing_block`` steps with the methods
    interleaved (rotating order) in one process; the median over rounds, and the median over rounds of the
    per-round ratio to AdamW. Blocks are long enough to include the periodic preconditioner refreshes.
    ``opt_step_s``: the part spent in ``optimizer.step()`` (not for K-FAC, whose Fisher pass is in backward)."""
    runners, opt_timers = {}, {}
    for m in methods:
        torch.manual_seed(0)
        model = build_model(model_name, source).to(cfg.device)
        opt = m.build(model, lrs[m.name])
        sched = Schedule(opt, cfg.steps, max(1, int(cfg.warmup_frac * cfg.steps)))
        opt_timers[m.name] = [0.0]
        runners[m.name] = [make_step(m, model, opt, opt_timers[m.name], cfg.device), sched, 0]
    opt_per = {m.name: [] for m in methods}

    def run_block(name, n):
        step_fn, sched, pos = runners[name]
        opt_timers[name][0] = 0.0
        sync(cfg.device)
        t0 = time.perf_counter()
        for _ in range(n):
            x, y = batches[pos % len(batches)]
            sched.apply(pos % cfg.steps)
            step_fn(x, y)
            pos += 1
        sync(cfg.device)
        runners[name][2] = pos
        opt_per[name].append(opt_timers[name][0] / n)
        return (time.perf_counter() - t0) / n

    names = [m.name for m in methods]
    for name in names:
        run_block(name, cfg.timing_warmup)
        opt_per[name].clear()
    per = {n: [] for n in names}
    for r in range(cfg.timing_rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            per[name].append(run_block(name, cfg.timing_block))
    out = {}
    for name in names:
        out[name] = {"median_step_s": statistics.median(per[name]), "step_s": per[name]}
        if not any(m.name == name and m.needs_model_samples for m in methods):
            out[name].update(opt_step_s=opt_per[name], median_opt_step_s=statistics.median(opt_per[name]))
        if "AdamW" in per:
            out[name].update(round_ratio(per[name], per["AdamW"]))
    return out


def round_ratio(times: list[float], reference: list[float]) -> dict:
    """Median and quartiles over rounds of times[i] / reference[i] (same rounds of one interleaved run)."""
    ratios = [a / b for a, b in zip(times, reference)]
    q25, q50, q75 = np.quantile(ratios, [0.25, 0.5, 0.75])
    return {"median_ratio_to_adamw": float(q50), "ratio_q25_q75": [float(q25), float(q75)]}


def summarize(values: list[float]) -> dict:
    vals = [v for v in values if v is not None and math.isfinite(v)]
    if not vals:
        return {"median": None, "min": None, "max": None, "n": 0}
    return {"median": statistics.median(vals), "min": min(vals), "max": max(vals), "n": len(vals)}


def _failed_run(method: Method, model_name: str, lr: float, seed: int, exc: Exception) -> dict:
    return {"method": method.name, "model": model_name, "lr": lr, "seed": seed, "final_loss": float("nan"),
            "diverged": True, "error": repr(exc), "curve_steps": [], "curve_loss": [], "curve_time_s": [],
            "train_time_s": None, "state_bytes": None}


class _Counter:
    def __init__(self, total: int, log):
        self.total, self.done, self.log, self.start = total, 0, log, time.perf_counter()

    def tick(self, run: dict):
        self.done += 1
        elapsed = time.perf_counter() - self.start
        eta = elapsed / self.done * (self.total - self.done)
        self.log(f"[{self.done}/{self.total} {elapsed:5.0f}s, ~{eta:4.0f}s left] {run['model']:11s} {run['method']:22s} "
                 f"lr={run['lr']:.2e} seed={run['seed']} final={run['final_loss']:.4f}"
                 + (f" error={run['error'][:100]}" if run.get("error") else ""))


def tune_and_run(method: Method, model_name: str, source, cfg: T2Config, streams, eval_set, counter) -> dict:
    """Seed 0 on every lr of the method's grid; the lowest final loss picks the lr run on the other seeds."""
    fixed = cfg.fixed_lrs.get(model_name, {}).get(method.name)
    grid = [fixed] if fixed else [lr_center(method, model_name) * k for k in cfg.lr_multipliers]
    tune = []
    for lr in grid:
        try:
            run = train_run(method, model_name, lr, cfg.seeds[0], source, cfg, streams[cfg.seeds[0]], eval_set)
        except Exception as exc:  # noqa: BLE001 - an optimizer that fails on a model is reported
            run = _failed_run(method, model_name, lr, cfg.seeds[0], exc)
        tune.append(run)
        counter.tick(run)
    md = {"impl": method.impl, "family": method.family, "grid": grid, "config": _jsonable(method.config),
          "notes": method.notes, "tuning": [{k: r[k] for k in ("lr", "final_loss", "error") if k in r} for r in tune]}
    finite = [r for r in tune if math.isfinite(r["final_loss"])]
    if not finite:
        md.update(runs=[], failed=True)
        counter.done += len(cfg.seeds) - 1
        return md
    best = min(finite, key=lambda r: r["final_loss"])
    runs = [best]
    for s in cfg.seeds[1:]:
        try:
            run = train_run(method, model_name, best["lr"], s, source, cfg, streams[s], eval_set)
        except Exception as exc:  # noqa: BLE001
            run = _failed_run(method, model_name, best["lr"], s, exc)
        runs.append(run)
        counter.tick(run)
    md.update(best_lr=best["lr"], best_lr_at_grid_edge=len(grid) > 1 and best["lr"] in (grid[0], grid[-1]), runs=runs)
    return md


def relative_to_adamw(mres: dict, bayes_eval: float) -> None:
    """Final/excess loss summaries and steps/seconds to AdamW's median final loss, in place."""
    adam = mres["methods"].get("AdamW")
    adam_final = statistics.median([r["final_loss"] for r in adam["runs"]]) if adam and adam.get("runs") else None
    mres["adamw_final_loss"] = adam_final
    timing = mres.get("timing", {})
    for name, md in mres["methods"].items():
        if not md.get("runs"):
            continue
        finals = [r["final_loss"] for r in md["runs"]]
        md["final_loss"] = summarize(finals)
        md["excess_loss"] = summarize([f - bayes_eval for f in finals])
        md["state_bytes"] = md["runs"][0]["state_bytes"]
        md["train_step_s_median"] = statistics.median(
            [r["train_time_s"] / r["curve_steps"][-1] for r in md["runs"] if r["train_time_s"] and r["curve_steps"]] or [math.nan])
        if adam_final is None:
            continue
        reach = [steps_to_reach(r, adam_final) for r in md["runs"]]
        md["steps_to_adamw_final"] = [s for s, _ in reach]
        md["seconds_to_adamw_final"] = [t for _, t in reach]
        md["n_seeds_reaching_adamw_final"] = sum(s is not None for s, _ in reach)
        # median over seeds with "never" counted as infinity
        srt = sorted(s if s is not None else math.inf for s, _ in reach)
        med = srt[(len(srt) - 1) // 2] if len(srt) % 2 else 0.5 * (srt[len(srt) // 2 - 1] + srt[len(srt) // 2])
        md["steps_to_adamw_final_median"] = med if math.isfinite(med) else None
        tsrt = sorted(t if t is not None else math.inf for _, t in reach)
        tmed = tsrt[(len(tsrt) - 1) // 2] if len(tsrt) % 2 else 0.5 * (tsrt[len(tsrt) // 2 - 1] + tsrt[len(tsrt) // 2])
        md["seconds_to_adamw_final_median"] = tmed if math.isfinite(tmed) else None
    adam_steps = adam.get("steps_to_adamw_final_median") if adam else None
    adam_step_s = timing.get("AdamW", {}).get("median_step_s")
    for name, md in mres["methods"].items():
        steps = md.get("steps_to_adamw_final_median")
        md["steps_ratio_to_adamw"] = steps / adam_steps if steps is not None and adam_steps else None
        step_s = timing.get(name, {}).get("median_step_s")
        md["est_seconds_to_adamw_final"] = steps * step_s if steps is not None and step_s else None
        md["est_time_ratio_to_adamw"] = (md["est_seconds_to_adamw_final"] / (adam_steps * adam_step_s)
                                         if md["est_seconds_to_adamw_final"] and adam_steps and adam_step_s else None)


def prepare(cfg: T2Config, log=print):
    """The source, the evaluation set with its Bayes loss, the training streams and the source summary."""
    source = MarkovMixtureSource.random(cfg.n_shots, cfg.n_components, cfg.max_len, cfg.source_seed)
    eval_set, bayes_eval, eval_tokens = make_eval_set(source, cfg.n_eval, 999, cfg.device)
    mc, mc_se = source.monte_carlo_best_loss(100_000, seed=12345)
    low, high = source.best_loss_bounds()
    log(f"source: {cfg.n_components} chains over {cfg.n_shots} shots + end; Bayes loss on eval set {bayes_eval:.4f} "
        f"nats; population best {mc:.4f} ± {mc_se:.4f} (exact bounds [{low:.4f}, {high:.4f}])")
    streams = {s: train_stream(source, cfg, s, cfg.device) for s in cfg.seeds}
    positions = sum(y.numel() for y_s in streams.values() for _, y in y_s)
    scored = sum(int((y != IGNORE).sum()) for y_s in streams.values() for _, y in y_s)
    summary = {"train_padding_fraction": 1 - scored / positions,"bayes_loss_eval": bayes_eval, "best_loss_mc": mc, "best_loss_mc_se": mc_se,
               "best_loss_exact_bounds": [low, high], **source.exact_entropy_terms(),
               "n_eval_rallies": cfg.n_eval, "eval_tokens": eval_tokens}
    return source, eval_set, bayes_eval, streams, summary


def run_benchmark(methods: list[Method], models: list[str], cfg: T2Config, log=print,
                  reuse: dict | None = None) -> dict:
    """Tune and run every method on every model, then time them interleaved per model.

    ``reuse[model][method]`` holds finished results (same config) of methods not to train again; they are
    still timed with the others."""
    reuse = reuse or {}
    source, eval_set, bayes_eval, streams, summary = prepare(cfg, log)
    start = time.perf_counter()
    n_grid = len(cfg.lr_multipliers)
    counter = _Counter(sum((1 if cfg.fixed_lrs.get(mn, {}).get(m.name) else n_grid) + len(cfg.seeds) - 1
                           for mn in models for m in methods if m.name not in reuse.get(mn, {})), log)
    results: dict[str, Any] = {"source": summary, "models": {}}
    for model_name in models:
        torch.manual_seed(0)
        mres: dict[str, Any] = {"n_params": sum(p.numel() for p in build_model(model_name, source).parameters()),
                                "methods": {}}
        for m in methods:
            if m.name in reuse.get(model_name, {}):
                mres["methods"][m.name] = dict(reuse[model_name][m.name], reused=True)
            else:
                mres["methods"][m.name] = tune_and_run(m, model_name, source, cfg, streams, eval_set, counter)
        timed = [m for m in methods if mres["methods"][m.name].get("runs")]
        log(f"timing {model_name}: {len(timed)} methods interleaved, {cfg.timing_rounds} rounds x "
            f"{cfg.timing_block} steps")
        try:
            mres["timing"] = interleaved_step_times(timed, {m.name: mres["methods"][m.name]["best_lr"] for m in timed},
                                                    model_name, source, cfg, streams[cfg.seeds[0]])
        except Exception as exc:  # noqa: BLE001
            mres["timing_error"] = repr(exc)
            log(f"timing failed: {exc!r}")
        relative_to_adamw(mres, bayes_eval)
        results["models"][model_name] = mres
    results["elapsed_s"] = time.perf_counter() - start
    return results


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if isinstance(obj, (int, float, str, bool)) or obj is None:
        return obj
    return repr(obj)


def machine_info(device: str) -> dict:
    try:
        from benchmarks._optim_common import machine_info as common_info
        info = common_info(device)
    except ImportError:  # pragma: no cover
        info = {"python": platform.python_version(), "torch": torch.__version__, "platform": platform.platform(),
                "processor": platform.processor(), "cpu_count": os.cpu_count(),
                "torch_threads": torch.get_num_threads(), "device": device,
                "device_name": torch.cuda.get_device_name() if device.startswith("cuda") else "cpu"}
    for pkg in ("heavyball", "pytorch_optimizer"):
        info[pkg] = _dist_version(pkg)
    return info


def _dist_version(pkg: str):
    from importlib import metadata
    for name in (pkg, pkg.replace("_", "-")):
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return None


# ----------------------------------------------------------------------------------------------------------
# Report
# ----------------------------------------------------------------------------------------------------------


def fmt(v, spec=".4f"):
    return "—" if v is None or (isinstance(v, float) and not math.isfinite(v)) else format(v, spec)


def results_table(results: dict, model_name: str, names: list[str] | None = None) -> list[str]:
    mres = results["models"][model_name]
    rows = ["| method | impl | best lr | final loss, median [min, max] | excess over Bayes | steps to AdamW's final "
            "(ratio; seeds) | time to AdamW's final, s (ratio) | step ms | step time / AdamW [q25, q75] | state KiB |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    timing = mres.get("timing", {})
    for name, md in mres["methods"].items():
        if names is not None and name not in names:
            continue
        if not md.get("runs"):
            err = next((t.get("error") for t in md.get("tuning", []) if t.get("error")), "diverged")
            rows.append(f"| {name} | {md['impl']} | — | failed on every lr: {err[:60]} | | | | | | |")
            continue
        fl, ex = md["final_loss"], md["excess_loss"]
        t = timing.get(name, {})
        steps = md.get("steps_to_adamw_final_median")
        edge = "*" if md.get("best_lr_at_grid_edge") else ""
        q = t.get("ratio_q25_q75")
        rows.append(
            f"| {name} | {md['impl']} | {md['best_lr']:.3g}{edge} | {fmt(fl['median'])} [{fmt(fl['min'])}, "
            f"{fmt(fl['max'])}] | {fmt(ex['median'])} | {'not reached' if steps is None else f'{steps:.0f}'} "
            f"({fmt(md.get('steps_ratio_to_adamw'), '.2f')}; {md.get('n_seeds_reaching_adamw_final', 0)}/{len(md['runs'])}) "
            f"| {fmt(md.get('est_seconds_to_adamw_final'), '.2f')} ({fmt(md.get('est_time_ratio_to_adamw'), '.2f')}) "
            f"| {fmt(t['median_step_s'] * 1e3 if t else None, '.2f')} "
            f"| {fmt(t.get('median_ratio_to_adamw'), '.2f')} [{fmt(q[0] if q else None, '.2f')}, {fmt(q[1] if q else None, '.2f')}] "
            f"| {fmt(md['state_bytes'] / 1024 if md.get('state_bytes') is not None else None, '.1f')} |")
    return rows


def plot_curves(results: dict, path: Path, title: str, methods: list[str] | None = None):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    models = list(results["models"])
    fig, axes = plt.subplots(1, len(models), figsize=(5.2 * len(models), 4.2), squeeze=False)
    bayes = results["source"]["bayes_loss_eval"]
    for ax, model_name in zip(axes[0], models):
        mres = results["models"][model_name]
        for name, md in mres["methods"].items():
            if methods is not None and name not in methods:
                continue
            runs = [r for r in md.get("runs", []) if r["curve_loss"]]
            if not runs:
                continue
            n = min(len(r["curve_loss"]) for r in runs)
            steps = runs[0]["curve_steps"][:n]
            curves = np.array([[v - bayes for v in r["curve_loss"][:n]] for r in runs])
            med = np.nanmedian(curves, axis=0)
            line, = ax.plot(steps, med, label=f"{name} (lr {md['best_lr']:.1e})")
            ax.fill_between(steps, np.nanmin(curves, 0), np.nanmax(curves, 0), color=line.get_color(), alpha=0.15)
        if "adamw_final_loss" in mres:
            ax.axhline(mres["adamw_final_loss"] - bayes, color="k", ls=":", lw=1, label="AdamW final")
        ax.set_yscale("log")
        ax.set_xlabel("step")
        ax.set_ylabel("eval loss − Bayes loss (nats)")
        ax.set_title(f"{model_name} ({mres['n_params']} params)")
        ax.legend(fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


OURS = ("Shampoo", "SOAP", "Muon", "KFAC", "KFAC/5")


def t2_targets(results: dict, profile: dict | None = None) -> list[str]:
    """The issue's two T2 targets, met or missed, with the measured figures (and, for a missed time target,
    what the profile says the time goes to)."""
    lines = []
    per_model, hits = [], []
    for model_name, mres in results["models"].items():
        ratios = {n: mres["methods"][n]["steps_ratio_to_adamw"] for n in OURS
                  if n in mres["methods"] and mres["methods"][n].get("steps_ratio_to_adamw") is not None}
        hits += [(model_name, n, r) for n, r in ratios.items() if r <= 0.7]
        per_model.append(f"{model_name}: " + (", ".join(f"{n} {r:.2f}×" for n, r in sorted(ratios.items(), key=lambda kv: kv[1]))
                                             or "none of ours reached AdamW's final loss"))
    lines.append(f"- **Steps to AdamW's final loss ≤ 0.7× AdamW's** (at least one optimizer of ours): "
                 f"**{'met' if hits else 'missed'}**"
                 + (f" by {', '.join(f'{n} on the {m} ({r:.2f}×)' for m, n, r in hits)}" if hits else "")
                 + f". Ratios of the optimizers that got there, per model: {'; '.join(per_model)}.")
    worst: dict[str, tuple[float, str]] = {}
    for model_name, mres in results["models"].items():
        for n, t in mres.get("timing", {}).items():
            if n in OURS and t.get("median_ratio_to_adamw") is not None:
                if n not in worst or t["median_ratio_to_adamw"] > worst[n][0]:
                    worst[n] = (t["median_ratio_to_adamw"], model_name)
    ok = [n for n, (r, _) in worst.items() if r <= 1.5]
    bad = [n for n, (r, _) in worst.items() if r > 1.5]
    lines.append(f"- **Per-step time ≤ 1.5× AdamW's on {results['machine']['device']}** (medians of interleaved "
                 f"per-round ratios; worst model shown): **{'met' if not bad else 'missed'}** — "
                 + "; ".join(f"{n} {'≤' if n in ok else '>'} 1.5 (worst {r:.2f}× on the {m})" for n, (r, m) in worst.items())
                 + ".")
    if bad and profile:
        prof = {(p["model"], p["method"]): p for p in profile.get("profiles", [])}
        for n in bad:
            m = worst[n][1]
            p, a = prof.get((m, n)), prof.get((m, "AdamW"))
            if not p or not a:
                continue
            ours_hot = [h for h in p["hot"] if "strategist/optim" in h["where"]]
            lines.append(f"  - Why {n} is slow on the {m} (cProfile): {p['backward_passes_per_step']:.1f} backward "
                         f"passes per step vs {a['backward_passes_per_step']:.0f} for AdamW; optimizer part "
                         f"{p['optimizer_ms_per_step']:.1f} ms/step vs {a['optimizer_ms_per_step']:.1f}"
                         + ("; heaviest own code: " + ", ".join(f"`{h['where']}` {h['ms_per_step']:.1f} ms"
                                                                 for h in ours_hot[:3]) if ours_hot else "") + ".")
    return lines


def write_report(results: dict, md_path: Path, png_name: str, missing: dict[str, str], profile: dict | None = None,
                 profile_name: str = "optim_t2_profile"):
    src = results["source"]
    cfg = results["config"]
    lines = ["# T2: optimizers on next-shot prediction (synthetic mixture of Markov chains)", "",
             f"Machine: {results['machine'].get('device_name')} / {results['machine']['processor'] or results['machine']['platform']}, "
             f"device `{results['machine']['device']}`, torch {results['machine']['torch']}, "
             f"{results['machine']['torch_threads']} thread(s). Run time {results['elapsed_s']:.0f} s. "
             f"Command: `{results['command']}`.", "",
             "## Problem",
             f"- {cfg['n_components']} Markov chains over {cfg['n_shots']} shots + end-of-rally token, rallies cut at "
             f"{cfg['max_len']} tokens; mean {src['expected_tokens']:.2f} tokens per rally.",
             f"- Bayes-optimal loss (posterior over chains) on the {src['n_eval_rallies']}-rally eval set "
             f"({src['eval_tokens']} tokens): **{src['bayes_loss_eval']:.4f} nats**; population value "
             f"{src['best_loss_mc']:.4f} ± {src['best_loss_mc_se']:.4f} (Monte Carlo, 100k rallies), inside the exact "
             f"bounds [{src['best_loss_exact_bounds'][0]:.4f}, {src['best_loss_exact_bounds'][1]:.4f}].",
             f"- {cfg['steps']} steps of {cfg['batch']} fresh rallies, linear warm-up {cfg['warmup_frac']:.0%} then cosine "
             + (f"to 0; lr grid {len(cfg['lr_multipliers'])} values per method (centre × "
                f"{', '.join(f'{k:.3g}' for k in cfg['lr_multipliers'])}) tuned on seed {cfg['seeds'][0]}, then seeds "
                if not cfg.get("fixed_lrs") else
                f"to 0; one lr per method, the one tuned in `{results.get('lrs_from')}` (same one-point grid for all), seeds ")
             + f"{', '.join(map(str, cfg['seeds']))}. Grid centres (from a pilot scan): "
             + ", ".join(f"{k} {v:g}" for k, v in LR_CENTERS.items())
             + f"; × {MODEL_LR_SCALE.get('mlp', 1):.3g} on the MLP except K-FAC. Excess loss = eval loss − Bayes loss. "
             "`*` marks a best lr at the grid edge.",
             "- Steps to AdamW's final loss: the step at which the eval loss (evaluated every "
             f"{cfg['eval_every']} steps, interpolated linearly in between) first reaches the median final loss of "
             "AdamW; median over seeds (a seed that never gets there counts as infinite); ratio to AdamW's own "
             "figure. Time to it: those steps × the method's interleaved median step time (ratio to AdamW's).",
             f"- Step time: methods interleaved in one process, {cfg['timing_rounds']} rounds of {cfg['timing_block']} "
             "steps after a warm-up, median per-step time and median per-round ratio to AdamW. State: bytes of the "
             "tensors in `optimizer.state_dict()`.", ""]
    if missing:
        lines += ["Not run: " + "; ".join(f"{k} ({v})" for k, v in missing.items()), ""]
    lines += ["## Targets", *t2_targets(results, profile), ""]
    for model_name in results["models"]:
        lines += [f"## {model_name}", *results_table(results, model_name), ""]
    lines += [f"![loss curves]({png_name})", ""]
    if profile:
        lines += ["## Where the step time goes", f"cProfile, 40 steps per method ([{profile_name}.md]({profile_name}.md) "
                  "lists the heaviest functions). ms/step under the profiler (inflated), the optimizer's share, and "
                  "backward passes per step.", "",
                  "| model | " + " | ".join(sorted({p['method'] for p in profile['profiles']}, key=_method_order)) + " |",
                  "|---|" + "---|" * len({p['method'] for p in profile['profiles']})]
        names = sorted({p['method'] for p in profile['profiles']}, key=_method_order)
        for model_name in dict.fromkeys(p["model"] for p in profile["profiles"]):
            cells = []
            for n in names:
                p = next((q for q in profile["profiles"] if q["model"] == model_name and q["method"] == n), None)
                cells.append("—" if p is None else f"{p['ms_per_step']:.1f} ({p['optimizer_ms_per_step']:.1f} opt; "
                                                   f"{p['backward_passes_per_step']:.0f} bwd)")
            lines.append(f"| {model_name} | " + " | ".join(cells) + " |")
        lines.append("")
    notes = results.get("notes", [])
    if notes:
        lines += ["## Notes", *[f"- {n}" for n in notes], ""]
    md_path.write_text("\n".join(lines))


PROFILE_NAME = "optim_t2_profile"


def _method_order(name: str) -> int:
    order = ("AdamW",) + OURS
    return order.index(name) if name in order else len(order)


def print_tables(results: dict):
    for model_name in results["models"]:
        print(f"\n== {model_name} ==")
        for row in results_table(results, model_name):
            print(row)


# ----------------------------------------------------------------------------------------------------------
# Profile: where each optimizer's step time goes
# ----------------------------------------------------------------------------------------------------------


def _is_optimizer_frame(filename: str) -> bool:
    return "strategist/optim" in filename or "torch/optim" in filename


def profile_method(method: Method, model_name: str, source, cfg: T2Config, batches, steps: int = 40,
                   warmup: int = 20, top: int = 8, optimizer_only: bool = False) -> dict:
    """cProfile of ``steps`` training steps: ms per step overall, in the optimizer (``optimizer.step()``, plus
    K-FAC's ``update_factors``, its Fisher pass), backward passes per step, and the heaviest functions by own
    time. ``optimizer_only``: profile only inside ``optimizer.step()`` (not for K-FAC)."""
    import cProfile
    import pstats
    torch.manual_seed(0)
    model = build_model(model_name, source).to(cfg.device)
    opt = method.build(model, lr_center(method, model_name))
    opt_timer = [0.0]
    step_fn = make_step(method, model, opt, opt_timer, cfg.device)
    for i in range(warmup):
        step_fn(*batches[i])
    prof = cProfile.Profile()
    opt_timer[0] = 0.0
    t0 = time.perf_counter()
    if optimizer_only and not method.needs_model_samples:
        for i in range(warmup, warmup + steps):
            x, y = batches[i % len(batches)]
            loss = next_shot_loss(model(x), y)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            prof.enable()
            opt.step()
            prof.disable()
    else:
        prof.enable()
        for i in range(warmup, warmup + steps):
            step_fn(*batches[i % len(batches)])
        prof.disable()
    wall = time.perf_counter() - t0
    stats = pstats.Stats(prof).stats  # (file, line, func) -> (cc, nc, tottime, cumtime, callers)
    if method.needs_model_samples:
        in_opt = sum(ct for (f, _, fn), (_, _, _, ct, _) in stats.items()
                     if _is_optimizer_frame(f) and fn in ("step", "update_factors"))
    elif optimizer_only:
        in_opt = sum(v[2] for v in stats.values())  # every function's own time: all of it is inside step()
    else:
        in_opt = opt_timer[0]
    backward_calls = sum(nc for (f, _, fn), (_, nc, _, _, _) in stats.items() if "'run_backward'" in fn)
    rows = sorted(((tt, nc, f, line, fn) for (f, line, fn), (_, nc, tt, _, _) in stats.items()), reverse=True)
    hot = []
    for tt, nc, f, line, fn in rows[:top]:
        where = (os.path.relpath(f, REPO) if f.startswith(str(REPO)) else
                 f.split("site-packages/")[-1] if "site-packages" in f else f)
        hot.append({"where": f"{where}:{line}({fn})" if line else fn, "ms_per_step": 1e3 * tt / steps,
                    "calls_per_step": nc / steps, "share": tt / max(in_opt if optimizer_only else wall, 1e-12)})
    return {"method": method.name, "model": model_name, "ms_per_step": 1e3 * wall / steps,
            "optimizer_ms_per_step": 1e3 * in_opt / steps, "backward_passes_per_step": backward_calls / steps,
            "hot": hot}


def run_profile(methods: list[Method], models: list[str], cfg: T2Config, out: Path, log=print) -> dict:
    source = MarkovMixtureSource.random(cfg.n_shots, cfg.n_components, cfg.max_len, cfg.source_seed)
    batches = train_stream(source, cfg, 0, cfg.device)
    result = {"machine": machine_info(cfg.device), "profiles": []}
    lines = ["# T2: where the step time goes (cProfile)", "",
             f"{len(methods)} methods × {len(models)} models, 40 profiled steps after 20 warm-up steps, one thread. "
             "'optimizer ms' is the cumulative time of the optimizer's `step` (and K-FAC's `update_factors`, its "
             "Fisher pass); the rest of a step is forward, loss backward and K-FAC's capture hooks. cProfile adds "
             "overhead per Python call, so absolute figures are inflated; shares are what matter.", ""]
    for model_name in models:
        lines += [f"## {model_name}", "", "| method | ms/step | optimizer ms/step | backward passes/step | heaviest "
                  "functions (own ms/step, calls/step) |", "|---|---|---|---|---|"]
        for m in methods:
            p = profile_method(m, model_name, source, cfg, batches)
            result["profiles"].append(p)
            hot = "<br>".join(f"`{h['where']}` {h['ms_per_step']:.2f} ({h['calls_per_step']:.0f})" for h in p["hot"])
            lines.append(f"| {m.name} | {p['ms_per_step']:.2f} | {p['optimizer_ms_per_step']:.2f} | "
                         f"{p['backward_passes_per_step']:.0f} | {hot} |")
            log(f"profile {model_name:11s} {m.name:10s} {p['ms_per_step']:7.2f} ms/step, optimizer "
                f"{p['optimizer_ms_per_step']:6.2f} ms, {p['backward_passes_per_step']:.0f} backward passes")
        lines.append("")
    out.write_text(json.dumps(_jsonable(result), indent=1))
    out.with_suffix(".md").write_text("\n".join(lines))
    return result


def base_parser(desc: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=desc)
    p.add_argument("--device", default="cpu")
    p.add_argument("--models", default=",".join(MODELS))
    p.add_argument("--steps", type=int, default=None)
    p.add_argument("--seeds", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="tiny smoke run")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=None, help="JSON path (Markdown and PNG next to it)")
    p.add_argument("--profile", action="store_true", help="only cProfile each optimizer's steps (optim_t2_profile.*)")
    p.add_argument("--no-profile", action="store_true", help="skip the cProfile pass after the benchmark")
    p.add_argument("--report-only", action="store_true", help="rebuild the Markdown and plot from the saved JSON")
    p.add_argument("--lrs-from", default=None,
                   help="results JSON whose tuned lrs replace the grid (a one-point grid for every method)")
    return p


def config_from_args(args) -> T2Config:
    cfg = T2Config(device=args.device, seeds=tuple(range(args.seeds)))
    if args.quick:
        cfg.steps, cfg.eval_every, cfg.n_eval, cfg.timing_rounds, cfg.timing_block, cfg.timing_warmup = 40, 10, 300, 2, 5, 5
    if args.steps:
        cfg.steps = args.steps
    if args.lrs_from:
        prev = json.loads(Path(args.lrs_from).read_text())
        cfg.fixed_lrs = {mn: {n: md["best_lr"] for n, md in mres["methods"].items() if md.get("best_lr")}
                         for mn, mres in prev["models"].items()}
    return cfg


def main(argv=None):
    args = base_parser(__doc__.splitlines()[0]).parse_args(argv)
    torch.set_num_threads(args.threads)
    cfg = config_from_args(args)
    methods, missing = our_methods()
    models = args.models.split(",")
    if args.report_only:  # rebuild Markdown and plot from the saved JSON (after a change to the report code)
        out = Path(args.out) if args.out else RESULTS / "optim_t2.json"
        results = json.loads(out.read_text())
        if "train_padding_fraction" not in results["source"]:
            cfg2 = T2Config(**{k: v for k, v in results["config"].items() if k in ("steps", "batch", "max_len",
                                                                                   "n_shots", "n_components", "source_seed")})
            src = MarkovMixtureSource.random(cfg2.n_shots, cfg2.n_components, cfg2.max_len, cfg2.source_seed)
            ys = [y for s in results["config"]["seeds"] for _, y in train_stream(src, cfg2, s, "cpu")]
            results["source"]["train_padding_fraction"] = 1 - sum(int((y != IGNORE).sum()) for y in ys) / sum(y.numel() for y in ys)
        results["notes"] = t2_notes(results)
        out.write_text(json.dumps(_jsonable(results), indent=1))
        profile_path = out.parent / f"{PROFILE_NAME}{out.stem[len('optim_t2'):]}.json"
        profile = json.loads(profile_path.read_text()) if profile_path.exists() else None
        plot_curves(results, out.with_suffix(".png"), "T2: eval loss − Bayes loss (median and range over seeds)")
        write_report(results, out.with_suffix(".md"), out.with_suffix(".png").name, results.get("missing", {}),
                     profile, profile_path.stem)
        print(f"rewrote {out.with_suffix('.md')}")
        return
    if args.profile:
        run_profile(methods, models, cfg, Path(args.out) if args.out else RESULTS / "optim_t2_profile.json",
                    log=lambda s: print(s, flush=True))
        return
    out = Path(args.out) if args.out else RESULTS / ("optim_t2_quick.json" if args.quick else "optim_t2.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    print(f"T2 methods: {[m.name for m in methods]}; missing: {missing or 'none'}", flush=True)
    results = run_benchmark(methods, models, cfg, log=lambda s: print(s, flush=True))
    results["machine"] = machine_info(cfg.device)
    results["config"] = _jsonable(cfg.__dict__)
    results["command"] = "python " + " ".join([os.path.relpath(__file__, REPO)] + (argv if argv is not None else sys.argv[1:]))
    results["missing"] = missing
    results["lrs_from"] = args.lrs_from
    results["notes"] = t2_notes(results)
    out.write_text(json.dumps(_jsonable(results), indent=1))
    profile = None
    profile_path = out.parent / f"{PROFILE_NAME}{out.stem[len('optim_t2'):]}.json"
    if not args.no_profile:
        profile = run_profile(methods, models, cfg, profile_path, log=lambda s: print(s, flush=True))
    png = out.with_suffix(".png")
    plot_curves(results, png, "T2: eval loss − Bayes loss (median and range over seeds)")
    write_report(results, out.with_suffix(".md"), png.name, missing, profile, profile_path.stem)
    print_tables(results)
    print("\nTargets:\n" + "\n".join(t2_targets(results, profile)))
    print(f"\nwrote {out}, {out.with_suffix('.md')}, {png} in {results['elapsed_s']:.0f} s")


def t2_notes(results: dict) -> list[str]:
    notes = []
    seen = set()
    for mres in results["models"].values():
        for name, md in mres["methods"].items():
            if md.get("notes") and name not in seen:
                seen.add(name)
                notes.append(f"{name}: {md['notes']}.")
    if any("KFAC" in mres["methods"] for mres in results["models"].values()):
        notes.append("K-FAC settings: damping 1e-2 and no KL clip (pilot scan on the GRU: with the default clip "
                     "κ = 1e-3 the clip binds at every lr ≥ 0.01, so the step no longer depends on lr and the excess "
                     "loss stayed at 0.21–0.23 nats; with damping 1e-3 and no clip it diverged at lr ≥ 0.01). A run "
                     "whose loss turns non-finite is recorded as diverged (final loss '—' in the tuning list of the "
                     "JSON).")
    pad = results["source"].get("train_padding_fraction")
    if pad is not None:
        notes.append(f"Training batches are padded to their longest rally: {pad:.0%} of the positions are padding "
                     "(never scored). K-FAC's input factors A average over every position its hooks see, padding "
                     "included (the capture has no mask), while its output factors only get gradient from scored "
                     "positions.")
    for model_name, mres in results["models"].items():
        for name, md in mres["methods"].items():
            errs = [r.get("error") for r in md.get("tuning", []) + md.get("runs", []) if isinstance(r, dict) and r.get("error")]
            if errs:
                notes.append(f"{name} on {model_name}: {errs[0][:200]}")
    return notes


if __name__ == "__main__":
    main()
