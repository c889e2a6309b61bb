"""T2, next-shot prediction on synthetic rallies from a known mixture of Markov chains: a rally picks a style
k ~ w, a first shot from π_k and further shots from P_k, whose last column is the end-of-rally token; rallies
are cut at ``max_len`` tokens. The Bayes-optimal predictor is the posterior mixture

    p(y_t | y_<t) = Σ_k p(k | y_<t) P_k(y_{t-1}, y_t),   p(k | y_<t) ∝ w_k π_k(y_0) Π_{i<t} P_k(y_{i-1}, y_i),

so the best next-shot cross-entropy is known: exactly on any evaluation set, and in expectation H(Y)/E[T],
bracketed exactly by H(Y|K)/E[T] and (H(Y|K) + H(K))/E[T]. Models: an MLP on a one-hot window of previous
shots, a GRU and a 2-layer causal transformer. Evaluation: eval-set loss (or its excess over the Bayes loss).
Also the opponent model's shape (:func:`sequence_classifier`), for timing."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from optim_harness.problems import Problem

IGNORE = -100  # target index of padding positions


@dataclass
class MarkovMixtureSource:
    """Tokens 0..n_shots-1 are shots, ``n_shots`` ends a rally (column n_shots of ``transition``)."""

    weights: np.ndarray  # (K,)
    initial: np.ndarray  # (K, S)
    transition: np.ndarray  # (K, S, S+1)
    max_len: int

    n_components = property(lambda self: self.weights.shape[0])
    n_shots = property(lambda self: self.initial.shape[1])
    end = property(lambda self: self.n_shots)
    n_classes = property(lambda self: self.n_shots + 1, doc="prediction targets: shots and the end token")
    bos = property(lambda self: self.n_shots + 1, doc="input token before the first shot (and padding)")
    n_inputs = property(lambda self: self.n_shots + 2)

    @classmethod
    def random(cls, n_shots: int = 12, n_components: int = 4, max_len: int = 16, seed: int = 0,
               concentration: float = 0.3, end_prob: tuple[float, float] = (0.08, 0.25)) -> MarkovMixtureSource:
        """Sparse Dirichlet(concentration) chains with per-shot end probabilities drawn from ``end_prob``."""
        rng = np.random.default_rng(seed)
        weights = rng.dirichlet(np.full(n_components, 2.0))
        initial = rng.dirichlet(np.full(n_shots, 0.5), size=n_components)
        cont = rng.dirichlet(np.full(n_shots, concentration), size=(n_components, n_shots))
        stop = rng.uniform(*end_prob, size=(n_components, n_shots, 1))
        return cls(weights, initial, np.concatenate([cont * (1.0 - stop), stop], axis=-1), max_len)

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

    def bayes_log_predictive(self, targets: np.ndarray) -> np.ndarray:
        """log p(y_t | y_<t) under the posterior over components, (N, T) float64, zero at padding: the chain
        rule log p(y_<=t) − log p(y_<t), with log p(y_<=t) = logsumexp_k(log w_k + Σ_i log P_k(y_i | y_{i-1}))."""
        valid = targets != IGNORE
        y = np.where(valid, targets, 0)
        with np.errstate(divide="ignore"):
            log_init, log_trans = np.log(self.initial), np.log(self.transition)
        terms = np.zeros((self.n_components,) + targets.shape)
        terms[:, :, 0] = log_init[:, y[:, 0]]
        if targets.shape[1] > 1:
            terms[:, :, 1:] = log_trans[:, np.minimum(y[:, :-1], self.n_shots - 1), y[:, 1:]]
        terms = np.where(valid[None], terms, 0.0)
        joint = np.log(self.weights)[:, None, None] + np.cumsum(terms, axis=2)
        top = joint.max(axis=0)
        marginal = top + np.log(np.exp(joint - top).sum(axis=0))
        prev = np.concatenate([np.zeros((targets.shape[0], 1)), marginal[:, :-1]], axis=1)
        return np.where(valid, marginal - prev, 0.0)

    def bayes_loss(self, targets: np.ndarray) -> float:
        """Per-token cross-entropy (nats) of the Bayes predictor on ``targets``."""
        return float(-self.bayes_log_predictive(targets).sum() / (targets != IGNORE).sum())

    def exact_entropy_terms(self) -> dict[str, float]:
        """H(Y|K), H(K) and E[T], exactly, by propagating each chain's state distribution over positions:
        H(Y|K) = Σ_k w_k [H(π_k) + Σ_{t≥1} Σ_s m_t(s) H(P_k[s])], m_t(s) = P(y_{t-1} = s shot, no end yet)."""
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
        se = math.sqrt((nll - ratio * tokens).var(ddof=1) / n) / tokens.mean()
        return float(ratio), float(se)


def inputs_from_targets(targets: torch.Tensor, bos: int) -> torch.Tensor:
    """The previous token at every position, ``bos`` first (positions after a rally's end are never scored)."""
    prev = torch.cat([torch.full_like(targets[:, :1], bos), targets[:, :-1]], dim=1)
    return torch.where(prev == IGNORE, torch.full_like(prev, bos), prev)


# Models: (B, T) input tokens -> (B, T, n_classes) logits, causal


class WindowMLP(nn.Module):
    """Two hidden layers on the one-hot encoding of the ``window`` previous tokens."""

    def __init__(self, n_inputs: int, n_classes: int, bos: int, window: int = 4, hidden: int = 128):
        super().__init__()
        self.n_inputs, self.bos, self.window = n_inputs, bos, window
        self.net = nn.Sequential(nn.Linear(window * n_inputs, hidden), nn.GELU(), nn.Linear(hidden, hidden),
                                 nn.GELU(), nn.Linear(hidden, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        windows = F.pad(x, (self.window - 1, 0), value=self.bos).unfold(1, self.window, 1)  # (B, T, window)
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


def scored(logits: torch.Tensor, targets: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The non-padding positions (K-FAC's examples)."""
    mask = targets != IGNORE
    return logits[mask], targets[mask]


@torch.no_grad()
def evaluate(model: nn.Module, chunks: list[tuple[torch.Tensor, torch.Tensor]]) -> float:
    """Per-token cross-entropy (nats) on (inputs, targets) chunks, summed in float64."""
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


def make_eval_set(source: MarkovMixtureSource, n: int, seed: int, device) -> tuple[list, float, int]:
    """Evaluation chunks, the Bayes loss on exactly these rallies, and their number of tokens."""
    targets = source.sample(n, np.random.default_rng(seed))
    chunks = length_chunks(torch.as_tensor(targets, device=device), source.bos)
    return chunks, source.bayes_loss(targets), int((targets != IGNORE).sum())


def train_stream(source: MarkovMixtureSource, steps: int, batch: int, seed: int, device) -> list:
    """The batches of one seed: fresh rallies every step, trimmed to the batch's longest rally."""
    targets = torch.as_tensor(source.sample(steps * batch, np.random.default_rng(10_000 + seed)))
    batches = []
    for i in range(steps):
        y = targets[i * batch:(i + 1) * batch]
        y = y[:, : int((y != IGNORE).sum(1).max())].to(device)
        batches.append((inputs_from_targets(y, source.bos), y))
    return batches


class T2Data:
    """The source, the evaluation set (``n_eval`` rallies drawn with ``eval_seed``) with its Bayes loss, and each
    seed's training batches (cached), shared by the problems of every model."""

    def __init__(self, n_shots: int = 12, n_components: int = 4, max_len: int = 16, source_seed: int = 0,
                 n_eval: int = 600, batch: int = 64, device: str = "cpu", eval_seed: int = 999):
        self.source = MarkovMixtureSource.random(n_shots, n_components, max_len, source_seed)
        self.eval_set, self.bayes, self.eval_tokens = make_eval_set(self.source, n_eval, eval_seed, device)
        self.n_eval, self.batch, self.device, self._streams = n_eval, batch, device, {}

    def batches(self, seed: int, steps: int) -> list:
        if (seed, steps) not in self._streams:
            self._streams[seed, steps] = train_stream(self.source, steps, self.batch, seed, self.device)
        return self._streams[seed, steps]

    def padding_fraction(self, seeds, steps: int) -> float:
        """The share of the training batches' positions that are padding (never scored)."""
        ys = [y for s in seeds for _, y in self.batches(s, steps)]
        return 1 - sum(int((y != IGNORE).sum()) for y in ys) / sum(y.numel() for y in ys)


def t2_problem(model: str = "gru", data: T2Data | None = None, target_excess: float = 0.15, excess: bool = True,
               eval_every: int = 10) -> Problem:
    """The ``model`` on ``data`` (default: the benchmark's source, 600 eval rallies, batch 64, CPU); evaluation
    = eval-set loss minus the Bayes loss (``excess``) or the eval-set loss, target ``target_excess`` above it."""
    data = data or T2Data()

    def make_model(seed: int):
        torch.manual_seed(seed)
        return build_model(model, data.source).to(data.device)

    offset = data.bayes if excess else 0.0
    return Problem(name=f"T2 {model}", make_model=make_model, batches=data.batches, loss=next_shot_loss,
                   evaluate=lambda m, seed: evaluate(m, data.eval_set) - offset,
                   target=target_excess if excess else data.bayes + target_excess,
                   loss_type="cross_entropy", examples=scored, eval_every=eval_every)


def sequence_classifier(vocab: int = 20, embed: int = 32, hidden: int = 128, steps_len: int = 32,
                        batch: int = 256, width: int | None = None) -> Problem:
    """The opponent model's shape, for timing: embedding (vocab 20, dim 32) -> GRU(128) -> 20 classes over
    sequences of 32 strokes, batch 256; with ``width``, a 2-layer MLP of that width on 128 features instead."""
    def make_model(seed: int):
        torch.manual_seed(seed)
        if width is None:
            return ShotGRU(vocab, vocab, embed, hidden)
        return nn.Sequential(nn.Linear(128, width), nn.GELU(), nn.Linear(width, width), nn.GELU(),
                             nn.Linear(width, vocab))

    def batches(seed: int, steps: int):
        gen = torch.Generator().manual_seed(seed)
        if width is None:
            xs = [torch.randint(0, vocab, (batch, steps_len), generator=gen) for _ in range(steps)]
            return [(x, x.roll(-1, 1)) for x in xs]
        return [(torch.randn(batch, 128, generator=gen), torch.randint(0, vocab, (batch,), generator=gen))
                for _ in range(steps)]

    name = f"GRU({hidden}) T={steps_len} batch {batch}" if width is None else f"MLP width {width} batch {batch}"
    return Problem(name=name, make_model=make_model, batches=batches, loss=next_shot_loss,
                   evaluate=lambda m, seed: float("nan"), target=0.0, loss_type="cross_entropy")

