"""The tests and intervals of the scouting report against scipy."""

import itertools

import numpy as np
import pytest
from scipy import stats as sp

from strategist.scout import stats


def test_wilson_intervals_equal_scipys():
    for k, n in [(0, 1), (0, 10), (3, 10), (10, 10), (31, 140), (5000, 60000)]:
        ci = sp.binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        low, high = stats.wilson(k, n)
        assert low == pytest.approx(ci.low, abs=1e-12) and high == pytest.approx(ci.high, abs=1e-12)
    r = stats.rate(31, 140)
    assert r["rate"] == 31 / 140 and r["k"] == 31 and r["n"] == 140
    assert stats.rate(0, 0)["rate"] is None


def test_fisher_p_equals_scipys_fisher_exact_on_small_and_large_tables():
    rng = np.random.default_rng(0)
    cases = [(0, 1, 0, 1), (3, 10, 1, 12), (31, 140, 13_000, 60_000), (0, 30, 500, 60_000), (30, 30, 2, 5)]
    for _ in range(200):
        n1, n2 = int(rng.integers(1, 500)), int(rng.integers(1, 70_000))
        cases.append((int(rng.integers(0, n1 + 1)), n1, int(rng.binomial(n2, rng.uniform())), n2))
    for k1, n1, k2, n2 in cases:
        expected = sp.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]]).pvalue
        assert stats.fisher_p(k1, n1, k2, n2) == pytest.approx(expected, rel=1e-6, abs=1e-300)
    assert stats.fisher_p(1, 0, 3, 10) == 1.0


def test_benjamini_hochberg_equals_scipys_false_discovery_control():
    rng = np.random.default_rng(1)
    for m in (1, 2, 7, 130):
        p = np.r_[rng.uniform(size=m - m // 3), rng.uniform(0, 0.01, size=m // 3)]
        np.testing.assert_allclose(stats.bh_adjust(p), sp.false_discovery_control(p, method="bh"), rtol=1e-12)
    q = stats.bh_adjust([0.01, np.nan, 0.04])
    assert np.isnan(q[1]) and q[0] == pytest.approx(0.02) and q[2] == pytest.approx(0.04)


def test_chi2_test_equals_scipys_chi2_contingency_without_correction():
    table = np.array([[12, 30, 5], [20, 18, 9], [0, 0, 0]])
    result = stats.chi2_test(table)
    expected = sp.chi2_contingency(table[:2], correction=False)
    assert result["statistic"] == pytest.approx(expected.statistic)
    assert result["p"] == pytest.approx(expected.pvalue) and result["df"] == expected.dof
    assert stats.chi2_test([[5, 0], [7, 0]])["p"] is None


def test_cluster_permutation_p_is_near_the_exact_enumeration():
    """Six clusters in two groups of three: 20 equally likely splits; the Monte-Carlo p approaches the exact one."""
    counts = np.array([[9, 1], [8, 2], [7, 3], [3, 7], [2, 8], [4, 6]])
    groups = ["a", "a", "a", "b", "b", "b"]
    observed = sp.chi2_contingency(np.array([counts[:3].sum(0), counts[3:].sum(0)]), correction=False).statistic
    splits = list(itertools.combinations(range(6), 3))
    null = [sp.chi2_contingency(np.array([counts[list(s)].sum(0), counts[[i for i in range(6) if i not in s]].sum(0)]),
                                correction=False).statistic for s in splits]
    exact = np.mean(np.array(null) >= observed - 1e-9)
    result = stats.cluster_permutation_test(counts, groups, permutations=20_000, seed=3)
    assert result["statistic"] == pytest.approx(observed)
    assert result["p"] == pytest.approx(exact, abs=0.01) and exact == pytest.approx(0.1)
    assert stats.cluster_permutation_test(counts, ["a"] * 6)["p"] is None


def test_chi2_survival_equals_scipys():
    for df in (1, 2, 3, 4, 7, 10, 51, 68):
        for x in (0.0, 0.01, 0.5, 1.0, 3.84, 10.0, 60.0, 300.0, 5000.0):
            assert stats.chi2_sf(x, df) == pytest.approx(sp.chi2.sf(x, df), rel=1e-9, abs=1e-300), (x, df)


def test_a_sparse_table_is_tested_by_permutation_near_fishers_exact_p():
    """2 x 2 with expected counts below 5: the permutation p of Pearson's statistic approaches the exact
    p of the same ordering (Fisher's two-sided p orders tables by probability; for 2 x 2 with these margins the
    two orderings agree)."""
    table = np.array([[1, 9], [6, 4]])
    result = stats.chi2_test(table, permutations=20_000, seed=1)
    assert result["method"] == "permutation (20000)" and result["min_expected"] < 5
    assert result["p"] == pytest.approx(sp.fisher_exact(table).pvalue, abs=0.01)
    assert stats.chi2_test(table * 10)["method"] == "chi-square"


def test_a_rally_is_a_point_in_tennis_and_in_a_vocabulary_that_extends_it():
    from dataclasses import replace

    from strategist.scout.text import rally_words
    from strategist.sports import get_sport

    tennis, badminton = get_sport("tennis"), get_sport("badminton")
    assert rally_words("tennis") == rally_words(tennis) == ("point", "points")
    assert rally_words("badminton") == rally_words(badminton) == ("rally", "rallies")
    club = replace(tennis, name="club tennis", extends="tennis")          # a user's own labels on tennis rules
    assert rally_words(club) == ("point", "points")
    assert rally_words(replace(badminton, name="club", extends="badminton")) == ("rally", "rallies")


def test_counts_and_year_spans_read_as_written():
    from strategist.scout.text import counted, year_span

    assert [counted(n, "match", "matches") for n in (0, 1, 2, 1204)] == ["0 matches", "1 match", "2 matches",
                                                                         "1,204 matches"]
    assert counted(3, "point") == "3 points"
    assert [year_span(y) for y in ([], None, [2011], [2011, 2011], [2018, 2019])] == ["", "", "2011", "2011",
                                                                                      "2018–2019"]
