"""Batched zero-sum solving agrees with the single-game LP on every game, in every shape."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from strategist import solve_zero_sum, solve_zero_sum_batch
from strategist.errors import InvalidGameError, StrategistError
from strategist.games.batch import MAX_KERNELS, kernel_count

from .conftest import EVERT_NAVRATILOVA, assert_optimal, tolerance

SHAPES = [(2, 2), (3, 3), (2, 5), (5, 3), (5, 5), (1, 4), (4, 1)]


def mixed_batch(shape, size=60, seed=0):
    """Continuous games, integer games with many ties and duplicate actions, scaled/shifted and constant games."""
    rng = np.random.default_rng(seed)
    m, n = shape
    parts = [
        rng.uniform(0, 1, size=(size, m, n)),                          # win probabilities
        rng.normal(size=(size, m, n)) * 100 - 30,                      # other units, negative values
        rng.integers(0, 3, size=(size, m, n)).astype(float),           # many ties
        rng.integers(-1, 2, size=(size // 2, m, n)).astype(float),
        np.repeat(rng.normal(size=(4, 1, 1)), m * n, axis=1).reshape(4, m, n),  # constant games
        np.broadcast_to(rng.uniform(size=(size // 4, m, 1)), (size // 4, m, n)).copy(),  # identical columns
    ]
    batch = np.concatenate(parts)
    return batch[rng.permutation(len(batch))]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_batch_agrees_with_the_single_game_lp(shape):
    payoffs = mixed_batch(shape, seed=sum(shape))
    result = solve_zero_sum_batch(payoffs)
    assert len(result) == len(payoffs)
    for b, a in enumerate(payoffs):
        single = solve_zero_sum(a)
        tol = tolerance(a)
        assert abs(result.value[b] - single.value) <= tol, (b, a, result.value[b], single.value)
        # the batch's strategies are optimal (any optimal pair is allowed where there are several)
        assert_optimal(a, result.row_strategy[b], result.column_strategy[b], single.value)
        assert 0.0 <= result.duality_gap[b] <= tol
        assert result.row_guarantee[b] == pytest.approx((result.row_strategy[b] @ a).min(), abs=tol)
        assert result.column_guarantee[b] == pytest.approx((a @ result.column_strategy[b]).max(), abs=tol)


def test_result_shapes_have_a_leading_batch_axis():
    payoffs = np.random.default_rng(1).uniform(size=(11, 3, 4))
    result = solve_zero_sum_batch(payoffs)
    assert result.value.shape == (11,)
    assert result.row_strategy.shape == (11, 3)
    assert result.column_strategy.shape == (11, 4)
    assert result.row_guarantee.shape == result.column_guarantee.shape == result.duality_gap.shape == (11,)
    np.testing.assert_allclose(result.row_strategy.sum(axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(result.column_strategy.sum(axis=1), 1.0, atol=1e-12)
    assert (result.row_strategy >= 0).all() and (result.column_strategy >= 0).all()


def test_hand_solved_games_in_one_batch():
    payoffs = np.array([
        EVERT_NAVRATILOVA,                    # value 62, mixes 0.7 / 0.6
        [[1, -1], [-1, 1]],                   # matching pennies: value 0, uniform
        [[3, 2], [1, 0]],                     # saddle point at (row 1, column 2): value 2
        [[0.5, 0.8], [0.9, 0.2]],             # win probabilities: value 0.62
    ], dtype=float)
    result = solve_zero_sum_batch(payoffs)
    np.testing.assert_allclose(result.value, [62.0, 0.0, 2.0, 0.62], atol=1e-9 * 70)
    np.testing.assert_allclose(result.row_strategy, [[0.7, 0.3], [0.5, 0.5], [1, 0], [0.7, 0.3]], atol=1e-9)
    np.testing.assert_allclose(result.column_strategy, [[0.6, 0.4], [0.5, 0.5], [0, 1], [0.6, 0.4]], atol=1e-9)
    assert result.lp_fallbacks == 0


def test_chunking_gives_identical_results():
    payoffs = mixed_batch((3, 3), size=25, seed=7)
    whole = solve_zero_sum_batch(payoffs)
    seen = []
    chunked = solve_zero_sum_batch(payoffs, chunk=7, progress=lambda done, total: seen.append((done, total)))
    for name in ("value", "row_strategy", "column_strategy", "row_guarantee", "column_guarantee", "duality_gap"):
        np.testing.assert_array_equal(getattr(chunked, name), getattr(whole, name), err_msg=name)
    total = len(payoffs)
    assert seen == [(min(k + 7, total), total) for k in range(0, total, 7)]


def test_too_many_kernels_takes_the_lp_fallback():
    assert kernel_count(12, 12) > MAX_KERNELS
    payoffs = np.random.default_rng(3).normal(size=(4, 12, 12))
    result = solve_zero_sum_batch(payoffs)
    assert result.lp_fallbacks == len(payoffs)
    for b, a in enumerate(payoffs):
        single = solve_zero_sum(a)
        assert abs(result.value[b] - single.value) <= tolerance(a)
        assert_optimal(a, result.row_strategy[b], result.column_strategy[b], single.value)


def test_kernel_count():
    # square sub-matrices: Σₖ C(m, k)·C(n, k)
    assert kernel_count(2, 2) == 4 + 1
    assert kernel_count(3, 3) == 9 + 9 + 1
    assert kernel_count(2, 5) == 10 + 10
    assert kernel_count(1, 7) == 7


def test_accepts_nested_lists_and_integer_arrays():
    result = solve_zero_sum_batch([[[50, 80], [90, 20]], [[2, 0], [0, 2]]])
    np.testing.assert_allclose(result.value, [62.0, 1.0], atol=1e-9 * 70)
    result = solve_zero_sum_batch(np.array([[[1, -1], [-1, 1]]], dtype=np.int64))
    assert result.value[0] == pytest.approx(0.0, abs=1e-12)


def test_empty_batch_gives_empty_results():
    result = solve_zero_sum_batch(np.zeros((0, 3, 2)))
    assert len(result) == 0
    assert result.row_strategy.shape == (0, 3) and result.column_strategy.shape == (0, 2)


@pytest.mark.parametrize("payoffs, fragments", [
    (np.array(EVERT_NAVRATILOVA), ["(B, m, n)", "(2, 2)"]),
    ([], ["(B, m, n)", "(0,)"]),
    (np.zeros((4,)), ["(B, m, n)"]),
    (np.zeros((2, 2, 2, 2)), ["(B, m, n)", "(2, 2, 2, 2)"]),
    (np.zeros((3, 0, 2)), ["empty", "(3, 0, 2)"]),
    (np.zeros((3, 2, 0)), ["empty"]),
    (np.array([[[1.0, 2.0], [3.0, 4.0]], [[1.0, np.nan], [0.0, 1.0]]]), ["game 1", "cell (0, 1)", "nan"]),
    (np.array([[[1.0, 2.0], [3.0, -np.inf]]]), ["game 0", "cell (1, 1)", "inf"]),
    ([[[1, 2], [3]]], ["numeric array"]),
    ([[["a", 1], [2, 3]]], ["numeric array"]),
], ids=["2d", "empty-list", "1d", "4d", "no-rows", "no-columns", "nan", "inf", "ragged", "text"])
def test_bad_batch_input(payoffs, fragments):
    with pytest.raises(InvalidGameError) as info:
        solve_zero_sum_batch(payoffs)
    assert isinstance(info.value, StrategistError)
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


@settings(max_examples=40, deadline=None)
@given(st.sampled_from(SHAPES[:5]).flatmap(lambda shape: arrays(
    np.float64, (5, *shape),
    elements=st.floats(-1e3, 1e3, allow_subnormal=False) | st.integers(-2, 2).map(float))))
def test_batch_agrees_on_generated_games(payoffs):
    result = solve_zero_sum_batch(payoffs)
    for b, a in enumerate(payoffs):
        single = solve_zero_sum(a)
        assert abs(result.value[b] - single.value) <= tolerance(a)
        assert_optimal(a, result.row_strategy[b], result.column_strategy[b], single.value)
