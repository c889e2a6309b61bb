"""The T2 benchmark's problem (benchmarks/optim_harness/t2.py): the mixture-of-Markov-chains source, its
Bayes-optimal loss, the models, and the harness's K-FAC loop on it.

Exact references: every rally of a small source enumerated with its probability, the Bayes predictor
recomputed by an explicit posterior-vector recursion, and an oracle model that outputs the true predictive.
"""

from __future__ import annotations

import itertools
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import optim_t2  # noqa: E402
from optim_harness import t2  # noqa: E402
from optim_harness.runner import optimizer_state_bytes, train  # noqa: E402

IGNORE = t2.IGNORE


def small_source():
    """2 shots + end, 2 chains, rallies cut at 5 tokens: few enough rallies to list them all."""
    weights = np.array([0.3, 0.7])
    initial = np.array([[0.8, 0.2], [0.25, 0.75]])
    transition = np.array([[[0.1, 0.6, 0.3], [0.5, 0.3, 0.2]],
                           [[0.7, 0.2, 0.1], [0.05, 0.55, 0.4]]])
    return t2.MarkovMixtureSource(weights, initial, transition, max_len=5)


def all_rallies(src):
    """Every possible rally: at least one shot then the end token, or max_len shots (cut)."""
    out = []
    for length in range(2, src.max_len + 1):
        for shots in itertools.product(range(src.n_shots), repeat=length - 1):
            out.append(list(shots) + [src.end])
        if length == src.max_len:
            out.extend(list(s) for s in itertools.product(range(src.n_shots), repeat=length))
    return out


def component_probs(src, rally):
    """p(rally | k) for every chain k, by the product of the chain's probabilities."""
    probs = []
    for k in range(src.n_components):
        p = src.initial[k, rally[0]]
        for a, b in zip(rally, rally[1:]):
            p *= src.transition[k, a, b]
        probs.append(p)
    return np.array(probs)


def posterior_predictive_nll(src, rally):
    """-log p(y_t | y_<t) summed over t, by carrying the normalised posterior over chains step by step."""
    post = src.weights.copy()
    nll = 0.0
    for t, y in enumerate(rally):
        lik = src.initial[:, y] if t == 0 else src.transition[:, rally[t - 1], y]
        pred = float(post @ lik)
        nll -= math.log(pred)
        post = post * lik / pred
    return nll


def to_targets(rallies, max_len):
    arr = np.full((len(rallies), max_len), IGNORE, dtype=np.int64)
    for i, r in enumerate(rallies):
        arr[i, : len(r)] = r
    return arr


def test_small_source_exact_best_loss_matches_monte_carlo():
    src = small_source()
    rallies = all_rallies(src)
    comp = np.array([component_probs(src, r) for r in rallies])  # (n, K)
    p = comp @ src.weights
    assert p.sum() == pytest.approx(1.0, abs=1e-12)
    lengths = np.array([len(r) for r in rallies], dtype=float)
    nll = np.array([posterior_predictive_nll(src, r) for r in rallies])
    # chain rule: the sequential Bayes losses of a rally add up to -log p(rally)
    np.testing.assert_allclose(nll, -np.log(p), rtol=1e-12)
    exact_best = float((p * nll).sum() / (p * lengths).sum())  # H(Y) / E[T]

    # the module's vectorised predictor on the same rallies
    module_nll = -src.bayes_log_predictive(to_targets(rallies, src.max_len)).sum(axis=1)
    np.testing.assert_allclose(module_nll, nll, rtol=1e-12)

    # H(Y|K), H(K), E[T] from the enumeration equal the module's exact propagation
    terms = src.exact_entropy_terms()
    h_y_given_k = -sum(src.weights[k] * (comp[:, k] * np.log(np.where(comp[:, k] > 0, comp[:, k], 1))).sum()
                       for k in range(src.n_components))
    assert terms["H_Y_given_K"] == pytest.approx(h_y_given_k, rel=1e-12)
    assert terms["expected_tokens"] == pytest.approx(float((p * lengths).sum()), rel=1e-12)
    low, high = src.best_loss_bounds()
    assert low < exact_best < high

    mc, se = src.monte_carlo_best_loss(40_000, seed=3)
    assert 0 < se < 0.01
    assert abs(mc - exact_best) < 4 * se, (mc, se, exact_best)


def test_sampler_frequencies_match_enumerated_probabilities():
    src = small_source()
    rallies = all_rallies(src)
    p = np.array([component_probs(src, r) for r in rallies]) @ src.weights
    n = 40_000
    sample = src.sample(n, np.random.default_rng(7))
    index = {tuple(r): i for i, r in enumerate(rallies)}
    counts = np.zeros(len(rallies))
    for row in sample:
        counts[index[tuple(int(v) for v in row if v != IGNORE)]] += 1
    sd = np.sqrt(n * p * (1 - p))
    assert np.all(np.abs(counts - n * p) < 5 * sd + 1)


def test_benchmark_source_predictor_agrees_with_posterior_recursion_and_bounds():
    src = t2.MarkovMixtureSource.random()
    targets = src.sample(300, np.random.default_rng(1))
    module_nll = -src.bayes_log_predictive(targets).sum(axis=1)
    ref = [posterior_predictive_nll(src, [int(v) for v in row if v != IGNORE]) for row in targets]
    np.testing.assert_allclose(module_nll, ref, rtol=1e-10)
    assert np.all(src.transition.sum(-1) == pytest.approx(1.0)) and src.transition.shape[-1] == src.n_shots + 1
    mc, se = src.monte_carlo_best_loss(20_000, seed=2)
    low, high = src.best_loss_bounds()
    assert low - 4 * se < mc < high + 4 * se


class PredictiveModel(torch.nn.Module):
    """Outputs log p(next | history) of the source; ``use_history=False`` ignores which chain is playing
    (prior weights instead of the posterior)."""

    def __init__(self, src, use_history: bool = True):
        super().__init__()
        self.src, self.use_history = src, use_history

    def forward(self, x):
        src = self.src
        b, t = x.shape
        out = torch.empty(b, t, src.n_classes, dtype=torch.float64)
        for i in range(b):
            post = src.weights.copy()
            for j in range(t):
                prev = int(x[i, j])
                if j == 0:
                    pred = post @ np.concatenate([src.initial, np.zeros((src.n_components, 1))], axis=1)
                elif prev in (src.bos, src.end):  # after the rally's end: not scored, any distribution will do
                    pred = np.full(src.n_classes, 1.0 / src.n_classes)
                else:
                    if self.use_history and j >= 2:
                        before = int(x[i, j - 1])
                        lik = src.transition[:, before, prev]
                        post = post * lik / (post @ lik)
                    elif self.use_history and j == 1:
                        lik = src.initial[:, prev]
                        post = post * lik / (post @ lik)
                    pred = post @ src.transition[:, prev]
                with np.errstate(divide="ignore"):
                    out[i, j] = torch.from_numpy(np.log(pred))
        return out


def test_model_given_true_predictive_attains_bayes_loss_through_the_harness():
    src = t2.MarkovMixtureSource.random()
    chunks, bayes, tokens = t2.make_eval_set(src, 200, seed=5, device="cpu")
    assert tokens == sum(int((y != IGNORE).sum()) for _, y in chunks)
    oracle = t2.evaluate(PredictiveModel(src), chunks)
    assert oracle == pytest.approx(bayes, abs=1e-9)
    prior_only = t2.evaluate(PredictiveModel(src, use_history=False), chunks)
    assert prior_only > bayes + 0.01  # Gibbs: any other predictor pays


@pytest.mark.parametrize("name", t2.MODELS)
def test_models_are_causal_and_shaped(name):
    src = t2.MarkovMixtureSource.random()
    torch.manual_seed(0)
    model = t2.build_model(name, src)
    y = torch.as_tensor(src.sample(4, np.random.default_rng(0)))[:, :10]
    x = t2.inputs_from_targets(y, src.bos)
    out = model(x)
    assert out.shape == (4, 10, src.n_classes)
    x2 = x.clone()
    x2[:, 6:] = (x2[:, 6:] + 1) % src.n_shots
    torch.testing.assert_close(model(x2)[:, :6], out[:, :6])
    assert not torch.allclose(model(x2)[:, 6:], out[:, 6:])


def test_optimizer_state_bytes_counts_adamw_moments():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(5, 7), torch.nn.Linear(7, 3))
    opt = torch.optim.AdamW(model.parameters())
    model(torch.randn(2, 5)).sum().backward()
    opt.step()
    params = list(model.parameters())
    moments = 2 * sum(p.numel() * p.element_size() for p in params)
    steps = sum(opt.state[p]["step"].numel() * opt.state[p]["step"].element_size() for p in params)
    assert optimizer_state_bytes(opt) == moments + steps


def test_harness_kfac_loop_lowers_the_loss():
    """The K-FAC loop of the harness runs when strategist.optim provides K-FAC and lowers the loss."""
    methods, missing = optim_t2.our_methods()
    kfac = [m for m in methods if m.name == "KFAC"]
    if not kfac:
        pytest.skip(f"K-FAC not available: {missing.get('KFAC')}")
    problem = t2.t2_problem("mlp", t2.T2Data(n_eval=200, batch=32, eval_seed=5), excess=False, eval_every=30)
    run = train(problem, kfac[0], 0.01, 0, 30, warmup_frac=0.05)
    assert run.curve_steps == [0, 30] and not run.diverged
    assert run.curve[-1] < run.curve[0] - 0.1
    assert run.state_bytes > 0


def test_training_batches_are_trimmed_to_their_longest_rally_and_inputs_shift_the_targets():
    data = t2.T2Data(n_eval=50, batch=16)
    batches = data.batches(0, 5)
    assert len(batches) == 5 and batches is data.batches(0, 5)          # one stream per (seed, steps)
    for x, y in batches:
        lengths = (y != IGNORE).sum(1)
        assert y.shape == (16, int(lengths.max())) and bool((y[:, 0] != IGNORE).all())
        assert torch.equal(x[:, 0], torch.full((16,), data.source.bos))
        assert torch.equal(x[:, 1:][y[:, :-1] != IGNORE], y[:, :-1][y[:, :-1] != IGNORE])
