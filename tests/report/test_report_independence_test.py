"""The opponent profile's test of a changing shot mix, against scipy's chi2_contingency (the reference it
replaced: scipy.stats costs the report a third of a second to import)."""

import numpy as np
import pytest
from scipy import stats

from strategist.report.opponent import independence_test


@pytest.mark.parametrize("shape", [(2, 2), (2, 5), (4, 3), (6, 7)])
def test_pearsons_chi_square_equals_scipys_without_correction(shape):
    rng = np.random.default_rng(sum(shape))
    for _ in range(20):
        counts = rng.integers(1, 40, size=shape)
        counts[rng.random(shape) < 0.2] = 0
        counts[:, 0] += 1                      # every row and column total positive
        counts[0, :] += 1
        chi2, p, df, _ = stats.chi2_contingency(counts, correction=False)
        assert independence_test(counts) == (pytest.approx(chi2, rel=1e-12), df, pytest.approx(p, rel=1e-9,
                                                                                                 abs=1e-300))


def test_a_table_of_independent_proportions_has_chi_square_zero_and_p_one():
    assert independence_test(np.outer([1, 2, 3], [4, 5])) == (pytest.approx(0.0, abs=1e-12), 2,
                                                              pytest.approx(1.0))
