"""The Dirichlet prior's empirical-Bayes strength against scipy's Dirichlet–multinomial likelihood, maximised by
scipy's bounded scalar search: several outcomes per cell, empty entries and cells, replicates fitted at once."""

import numpy as np
import pytest
from scipy import optimize, stats

from strategist.estimation.shrinkage import STRENGTH_BOUNDS
from strategist.rally.model import fit_dirichlet_strength


def _reference(counts, center, cell):
    """argmax over s of Σ_cells log DirMult(n_cell | s·c_cell), by scipy (independent of the package's code)."""
    groups = [np.flatnonzero(cell == c) for c in np.unique(cell)]
    groups = [g for g in groups if counts[g].sum() > 0]

    def minus_loglik(log_s):
        s = np.exp(log_s)
        return -sum(stats.dirichlet_multinomial.logpmf(counts[g], s * center[g], int(counts[g].sum()))
                    for g in groups)

    res = optimize.minimize_scalar(minus_loglik, bounds=np.log(STRENGTH_BOUNDS), method="bounded",
                                   options={"xatol": 1e-7})
    return float(np.exp(res.x))


def _cells(rng, n_cells, outcomes):
    """Cells of 2..outcomes entries with a shared centre per outcome, Dirichlet-drawn laws and counts; some
    entries never seen, some cells empty."""
    sizes = rng.integers(2, outcomes + 1, size=n_cells)
    cell = np.repeat(np.arange(n_cells), sizes)
    center = np.concatenate([rng.dirichlet(np.full(k, 2.0)) for k in sizes])
    laws = np.concatenate([rng.dirichlet(8.0 * center[cell == c]) for c in range(n_cells)])
    trials = rng.integers(0, 30, size=n_cells)
    trials[rng.random(n_cells) < 0.2] = 0
    counts = np.concatenate([rng.multinomial(trials[c], laws[cell == c] / laws[cell == c].sum())
                             for c in range(n_cells)]).astype(float)
    return counts, center, cell


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_strength_maximises_scipys_dirichlet_multinomial_likelihood(seed):
    """One replicate with up to five outcomes per cell: the fitted strength is scipy's maximiser."""
    rng = np.random.default_rng(seed)
    counts, center, cell = _cells(rng, 60, 5)
    got = fit_dirichlet_strength(counts, center, cell, 60)
    assert got.shape == (1,)
    assert np.log(got[0]) == pytest.approx(np.log(_reference(counts, center, cell)), abs=1e-3)


def test_replicates_are_fitted_each_on_their_own_counts_in_blocks():
    """Forty replicates of 1,600 entries (the grid is then evaluated in several blocks): each replicate's
    strength is the one its own counts give alone."""
    rng = np.random.default_rng(5)
    base, center, cell = _cells(rng, 400, 6)
    reps = np.stack([rng.poisson(base * rng.uniform(0.2, 3.0)) for _ in range(40)]).astype(float)
    assert reps.size > 2_000_000 // 41            # more than one block of grid points
    got = fit_dirichlet_strength(reps, center, cell, 400)
    for b in (0, 17, 39):
        alone = fit_dirichlet_strength(reps[b], center, cell, 400)[0]
        assert got[b] == pytest.approx(alone, rel=1e-9)
        assert np.log(got[b]) == pytest.approx(np.log(_reference(reps[b], center, cell)), abs=1e-3)


def test_no_counts_means_complete_pooling():
    """Without a single count the data show no spread: the upper bound (complete pooling)."""
    center = np.array([0.5, 0.5, 0.2, 0.8])
    got = fit_dirichlet_strength(np.zeros((3, 4)), center, np.array([0, 0, 1, 1]), 2)
    assert got.tolist() == [STRENGTH_BOUNDS[1]] * 3
