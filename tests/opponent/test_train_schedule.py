"""The training schedule: the learning-rate factor of each step (linear warm-up, cosine or warm-up-stable-decay),
the batches of an epoch (a seeded permutation cut into length-sorted batches), the data fingerprint a resumed
run is checked against, and the device a run asks for."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import torch

from strategist.errors import ConfigurationError
from strategist.opponent.train import data_fingerprint, epoch_batches, lr_multiplier, resolve_device


# -- the learning-rate factor --------------------------------------------------------------------------------------
@pytest.mark.parametrize("step, expected", [(1, 0.25), (2, 0.5), (3, 0.75), (4, 1.0)])
def test_the_warm_up_rises_linearly_to_one_over_its_share_of_the_steps(step, expected):
    """warmup 0.1 of 40 steps: 4 warm-up steps, the factor step / 4, the same for either schedule."""
    assert lr_multiplier(step, 40, 0.1, "cosine", 0.2) == pytest.approx(expected, abs=1e-15)
    assert lr_multiplier(step, 40, 0.1, "wsd", 0.2) == pytest.approx(expected, abs=1e-15)


def test_the_warm_up_length_is_rounded_and_at_least_one_step():
    """0.26 x 10 = 2.6 steps round to 3 (truncation would give 2); no warm-up still spends step 1 on it (factor
    1, not a division by zero) and 0.04 x 10 = 0.4 rounds to 0, so also one step."""
    assert lr_multiplier(2, 10, 0.26, "cosine", 0.0) == pytest.approx(2 / 3, abs=1e-15)
    assert lr_multiplier(3, 10, 0.26, "cosine", 0.0) == 1.0
    assert lr_multiplier(1, 10, 0.0, "cosine", 0.0) == 1.0
    assert lr_multiplier(1, 10, 0.04, "cosine", 0.0) == 1.0
    # step 2 after a one-step warm-up: progress 1/9 of the cosine
    assert lr_multiplier(2, 10, 0.0, "cosine", 0.0) == pytest.approx(0.5 * (1 + math.cos(math.pi / 9)), abs=1e-15)


@pytest.mark.parametrize("final", [0.0, 0.05, 0.3])
def test_the_cosine_falls_from_one_to_the_final_ratio_by_hand(final):
    """After 10 warm-up steps of 70 the factor is final + (1 - final)(1 + cos(pi p)) / 2 with p = (step - 10) / 60:
    1 at p = 0, final + 3/4 (1 - final) at p = 1/3, the mean of 1 and final at p = 1/2, final + (1 - final)/4 at
    p = 2/3, final at the last step and after it (p clipped to 1); falling all the way."""
    def f(step):
        return lr_multiplier(step, 70, 1 / 7, "cosine", final)
    assert f(10) == 1.0
    assert f(30) == pytest.approx(final + 0.75 * (1 - final), abs=1e-12)
    assert f(40) == pytest.approx((1 + final) / 2, abs=1e-12)
    assert f(50) == pytest.approx(final + 0.25 * (1 - final), abs=1e-12)
    assert f(70) == pytest.approx(final, abs=1e-15)
    assert f(500) == pytest.approx(final, abs=1e-15)
    factors = [f(s) for s in range(10, 71)]
    assert all(a > b for a, b in zip(factors, factors[1:]))


@pytest.mark.parametrize("final", [0.0, 0.1])
def test_warm_up_stable_decay_holds_one_then_falls_linearly_over_the_last_fifth(final):
    """wsd after 10 warm-up steps of 110: 1 up to 80 % of the remaining 100 steps (step 90 included), then a line
    to final at step 110: a quarter of the way at step 95, the mean of 1 and final at step 100."""
    assert [lr_multiplier(s, 110, 1 / 11, "wsd", final) for s in (11, 50, 89, 90)] == [1.0] * 4
    assert lr_multiplier(95, 110, 1 / 11, "wsd", final) == pytest.approx(1 - (1 - final) / 4, abs=1e-12)
    assert lr_multiplier(100, 110, 1 / 11, "wsd", final) == pytest.approx((1 + final) / 2, abs=1e-12)
    assert lr_multiplier(91, 110, 1 / 11, "wsd", final) == pytest.approx(1 - (1 - final) / 20, abs=1e-12)
    assert lr_multiplier(110, 110, 1 / 11, "wsd", final) == pytest.approx(final, abs=1e-12)
    assert lr_multiplier(400, 110, 1 / 11, "wsd", final) == pytest.approx(final, abs=1e-12)


def test_a_run_no_longer_than_its_warm_up_divides_by_at_least_one():
    """One step of one: the warm-up covers it (factor 1); a later step reads progress (step - 1) / 1, clipped."""
    assert lr_multiplier(1, 1, 0.05, "cosine", 0.1) == 1.0
    assert lr_multiplier(2, 1, 0.05, "cosine", 0.1) == pytest.approx(0.1, abs=1e-15)
    assert lr_multiplier(2, 1, 0.05, "wsd", 0.1) == pytest.approx(0.1, abs=1e-15)


def test_an_unknown_schedule_is_a_configuration_error_after_the_warm_up_only():
    assert lr_multiplier(1, 100, 0.1, "step", 0.0) == pytest.approx(0.1)
    with pytest.raises(ConfigurationError, match="schedule 'step'; expected 'cosine' or 'wsd'"):
        lr_multiplier(11, 100, 0.1, "step", 0.0)


# -- the batches of an epoch ---------------------------------------------------------------------------------------
LENGTHS = torch.tensor([5, 1, 9, 3, 7, 2, 8, 4, 6, 10, 11, 12, 3, 5, 1, 2, 7, 9, 4, 6, 8, 2, 3])   # 23 rallies


def test_an_epochs_batches_are_disjoint_full_and_drop_the_remainder():
    """23 rallies in batches of 4: five batches of four different rallies, three left out."""
    batches = epoch_batches(LENGTHS, 4, seed=0, epoch=0)
    assert len(batches) == 5 and all(len(b) == 4 for b in batches)
    used = torch.cat(batches).tolist()
    assert len(set(used)) == 20 and set(used) <= set(range(23))


def test_fewer_rallies_than_a_batch_make_one_batch_of_all():
    batches = epoch_batches(LENGTHS[:3], 8, seed=0, epoch=0)
    assert len(batches) == 1 and sorted(batches[0].tolist()) == [0, 1, 2]


def test_batches_of_one_chunk_cover_consecutive_lengths():
    """With every batch in one chunk of ``bucket`` batches, each batch holds rallies of neighbouring lengths:
    sorted within, and the batches' length ranges do not interleave."""
    batches = epoch_batches(LENGTHS, 4, seed=1, epoch=2)
    spans = []
    for b in batches:
        lengths = LENGTHS[b].tolist()
        assert lengths == sorted(lengths)
        spans.append((lengths[0], lengths[-1]))
    spans.sort()
    assert all(hi <= lo for (_, hi), (lo, _) in zip(spans, spans[1:]))


def test_chunks_of_one_batch_are_sorted_only_within():
    """bucket=1: each batch is sorted by length but the batches are random samples, so some length ranges overlap
    (23 rallies: the long ones are not all together)."""
    batches = epoch_batches(LENGTHS, 4, seed=0, epoch=0, bucket=1)
    for b in batches:
        assert LENGTHS[b].tolist() == sorted(LENGTHS[b].tolist())
    spans = sorted((LENGTHS[b].min().item(), LENGTHS[b].max().item()) for b in batches)
    assert any(hi > lo for (_, hi), (lo, _) in zip(spans, spans[1:]))


def test_the_order_is_fixed_by_seed_and_epoch_and_changes_with_either():
    def order(seed, epoch):
        return [b.tolist() for b in epoch_batches(LENGTHS, 4, seed=seed, epoch=epoch)]
    assert order(3, 5) == order(3, 5)
    assert order(3, 5) != order(3, 6) and order(3, 5) != order(4, 5)
    # the batches are shuffled after sorting: over a few epochs the first batch is not always the shortest
    firsts = {tuple(order(0, e)[0]) for e in range(6)}
    assert len(firsts) > 1


def test_a_chunk_of_several_batches_is_sorted_before_it_is_cut():
    """With 8 rallies of lengths 0..7 in batches of 2 and one chunk, the batches are the pairs of neighbouring
    lengths {0,1}, {2,3}, {4,5}, {6,7} in some order."""
    lengths = torch.tensor([7, 3, 0, 5, 1, 6, 2, 4])
    for seed in range(3):
        pairs = sorted(sorted(lengths[b].tolist()) for b in epoch_batches(lengths, 2, seed=seed, epoch=0))
        assert pairs == [[0, 1], [2, 3], [4, 5], [6, 7]]


def test_two_chunks_are_sorted_each_on_its_own():
    """bucket=2 with 8 rallies in batches of 2: two chunks of 4 rallies, each sorted on its own, so the
    batches pair neighbours within a chunk but not across the whole epoch (seen over a few seeds)."""
    lengths = torch.tensor([7, 3, 0, 5, 1, 6, 2, 4])
    across = set()
    for seed in range(6):
        for b in epoch_batches(lengths, 2, seed=seed, epoch=0, bucket=2):
            pair = sorted(lengths[b].tolist())
            assert pair == sorted(pair)
            across.add(tuple(pair))
    assert not across <= {(0, 1), (2, 3), (4, 5), (6, 7)}


# -- the data fingerprint ------------------------------------------------------------------------------------------
def _frame(matches, rows):
    return pd.DataFrame({"match_id": [matches[i % len(matches)] for i in range(rows)]})


def test_the_data_fingerprint_names_the_matches_and_the_sizes_of_both_parts():
    """16 hex digits, the same for the same matches in another order, different when a part's matches or its
    number of strokes change, or when the parts swap."""
    a, b = _frame(["m1", "m2"], 10), _frame(["m3"], 4)
    fp = data_fingerprint(a, b)
    assert len(fp) == 16 and int(fp, 16) >= 0
    assert data_fingerprint(_frame(["m2", "m1"], 10), b) == fp
    others = [data_fingerprint(_frame(["m1", "m4"], 10), b), data_fingerprint(_frame(["m1", "m2"], 11), b),
              data_fingerprint(a, _frame(["m4"], 4)), data_fingerprint(a, _frame(["m3"], 5)),
              data_fingerprint(b, a)]
    assert len({fp, *others}) == 6
    assert data_fingerprint(_frame([1, 2], 10), b) == data_fingerprint(_frame(["1", "2"], 10), b)


# -- the device ----------------------------------------------------------------------------------------------------
def test_the_device_named_or_the_best_there_is():
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device(None) == torch.device("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("") == resolve_device(None)
    with pytest.raises(ConfigurationError, match="unknown device 'abacus'"):
        resolve_device("abacus")
    if not torch.cuda.is_available():
        with pytest.raises(ConfigurationError, match="device 'cuda:0' asked for, but CUDA is not available here"):
            resolve_device("cuda:0")
