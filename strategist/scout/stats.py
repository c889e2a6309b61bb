"""Rates with intervals, and the tests of the scouting report.

* A rate k / n carries the Wilson score 95 % interval:
  (k + z²/2 ± z·√(k(n−k)/n + z²/4)) / (n + z²), z = 1.96.
* Two rates (the opponent's and the other players') are compared by Fisher's exact test, two-sided.
* An r x c table (e.g. a shot mix by situation) by Pearson's χ² test of homogeneity (all-zero rows and
  columns dropped); when an expected count is below 5, by a permutation test of the same statistic; when
  units come in clusters (strokes of one match), by a permutation test that shuffles whole clusters between
  the groups.
* Multiple comparisons: Benjamini–Hochberg's step-up adjustment, q_(i) = min_{j>=i} p_(j)·m / j. Scouting
  screens many situations for a few leads, so it controls the expected share of false leads among those
  reported (the false discovery rate) rather than the chance of any false lead at all (Holm's family-wise
  rate), which with a hundred tests would leave almost nothing to report.
"""

from __future__ import annotations

import math

import numpy as np

Z95 = 1.959963984540054
ALPHA = 0.05


def wilson(k, n, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of k / n, vectorised; NaN where n == 0."""
    k, n = np.asarray(k, float), np.asarray(n, float)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = (k + z * z / 2) / (n + z * z)
        half = z * np.sqrt(k * (n - k) / n + z * z / 4) / (n + z * z)
    bad = n <= 0
    return np.where(bad, np.nan, np.clip(centre - half, 0, 1)), np.where(bad, np.nan, np.clip(centre + half, 0, 1))


def rate(k, n) -> dict:
    """``{"k", "n", "rate", "low", "high"}`` of k / n (rate and interval None when n == 0)."""
    k, n = int(k), int(n)
    if n <= 0:
        return {"k": k, "n": n, "rate": None, "low": None, "high": None}
    low, high = wilson(k, n)
    return {"k": k, "n": n, "rate": k / n, "low": float(low), "high": float(high)}


def fisher_p(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided p of Fisher's exact test that k1/n1 and k2/n2 share one rate (1.0 when a group is empty).

    With the margins fixed, X = k1 is hypergeometric; p sums P(X = x) over every x no more likely than the
    observed k1 (relative tolerance 1e-7, as scipy's ``fisher_exact``). The log-probabilities over the
    support come from the ratio P(x + 1) / P(x) = (K - x)(n1 - x) / ((x + 1)(N - K - n1 + x + 1)), so a group
    of 60,000 costs microseconds (scipy's takes milliseconds).
    """
    k1, n1, k2, n2 = int(k1), int(n1), int(k2), int(n2)
    if n1 <= 0 or n2 <= 0:
        return 1.0
    total, hits = n1 + n2, k1 + k2
    low, high = max(0, n1 + hits - total), min(n1, hits)
    x = np.arange(low, high, dtype=float)
    steps = np.log((hits - x) * (n1 - x)) - np.log((x + 1) * (total - hits - n1 + x + 1))
    log_pmf = np.r_[0.0, np.cumsum(steps)] + _log_hypergeom(low, hits, n1, total)
    observed = log_pmf[k1 - low]
    p = np.exp(log_pmf[log_pmf <= observed + np.log1p(1e-7)]).sum()
    return float(min(1.0, p))


def _log_choose(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def _log_hypergeom(x: int, hits: int, n1: int, total: int) -> float:
    return _log_choose(hits, x) + _log_choose(total - hits, n1 - x) - _log_choose(total, n1)


def chi2_sf(statistic: float, df: int) -> float:
    """P(χ²_df >= statistic) for a whole number of degrees of freedom, from the closed forms of the upper
    regularised gamma function (terms summed in log space): even df, e^(-x/2) Σ_{i<df/2} (x/2)^i / i!; odd df,
    erfc(√(x/2)) + e^(-x/2) Σ_{i<(df-1)/2} (x/2)^(i+1/2) / Γ(i + 3/2)."""
    x = float(statistic)
    if x <= 0:
        return 1.0
    half = x / 2
    if df % 2 == 0:
        i = np.arange(df // 2)
        terms = i * math.log(half) - np.array([math.lgamma(j + 1) for j in i]) - half
        return float(min(1.0, np.exp(terms).sum()))
    i = np.arange((df - 1) // 2)
    terms = (i + 0.5) * math.log(half) - np.array([math.lgamma(j + 1.5) for j in i]) - half
    return float(min(1.0, math.erfc(math.sqrt(half)) + np.exp(terms).sum()))


def bh_adjust(p) -> np.ndarray:
    """Benjamini–Hochberg adjusted p-values (q-values) of ``p``; NaN entries stay NaN and are not counted."""
    p = np.asarray(p, float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    m = int(ok.sum())
    if m == 0:
        return out
    values = p[ok]
    order = np.argsort(values)
    scaled = values[order] * m / np.arange(1, m + 1)
    q = np.minimum(np.minimum.accumulate(scaled[::-1])[::-1], 1.0)
    adjusted = np.empty(m)
    adjusted[order] = q
    out[ok] = adjusted
    return out


def _trim(table: np.ndarray) -> np.ndarray:
    table = np.asarray(table, float)
    return table[table.sum(1) > 0][:, table.sum(0) > 0]


def chi2_statistic(table) -> float:
    """Pearson's χ² statistic of an r x c table of counts (all-zero rows and columns dropped)."""
    t = _trim(table)
    if t.shape[0] < 2 or t.shape[1] < 2:
        return 0.0
    expected = t.sum(1, keepdims=True) * t.sum(0, keepdims=True) / t.sum()
    return float(((t - expected) ** 2 / expected).sum())


def chi2_test(table, *, permutations: int = 1000, seed: int = 0) -> dict:
    """Test of homogeneity of an r x c table of counts: ``{"statistic", "df", "p", "min_expected", "method"}``.

    Pearson's χ² with its χ² p; when an expected count is below 5 (the χ² approximation is poor), the p of a
    permutation test of the same statistic instead: the units' column labels shuffled ``permutations`` times
    with the margins kept, p = (1 + #{X² >= observed}) / (1 + B). p is None when the table has fewer than two
    non-empty rows or columns.
    """
    t = _trim(table)
    if t.shape[0] < 2 or t.shape[1] < 2:
        return {"statistic": None, "df": 0, "p": None, "min_expected": None, "method": None}
    expected = t.sum(1, keepdims=True) * t.sum(0, keepdims=True) / t.sum()
    stat = float(((t - expected) ** 2 / expected).sum())
    df = (t.shape[0] - 1) * (t.shape[1] - 1)
    out = {"statistic": stat, "df": df, "p": chi2_sf(stat, df), "min_expected": float(expected.min()),
           "method": "chi-square"}
    if expected.min() < 5 and t.sum() <= MAX_PERMUTED_UNITS:
        out["p"] = _permutation_p(t.astype(int), expected, stat, permutations, seed)
        out["method"] = f"permutation ({permutations})"
    return out


#: Largest table (in units) whose small-expected-count test is a permutation test; beyond, χ² is kept.
MAX_PERMUTED_UNITS = 20_000


def _permutation_p(t: np.ndarray, expected: np.ndarray, observed: float, permutations: int, seed: int) -> float:
    rows, cols = t.shape
    units_row = np.repeat(np.arange(rows), t.sum(1))
    units_col = np.concatenate([np.repeat(np.arange(cols), t[i]) for i in range(rows)])
    rng = np.random.default_rng(seed)
    shuffled = rng.permuted(np.tile(units_col, (permutations, 1)), axis=1)
    flat = shuffled + (units_row * cols)[None, :] + (np.arange(permutations) * rows * cols)[:, None]
    tables = np.bincount(flat.ravel(), minlength=permutations * rows * cols).reshape(permutations, rows, cols)
    null = ((tables - expected) ** 2 / expected).sum((1, 2))
    return float((1 + int((null >= observed - 1e-9 * max(1.0, observed)).sum())) / (1 + permutations))


def cluster_permutation_test(counts, groups, *, permutations: int = 2000, seed: int = 0) -> dict:
    """Permutation test of homogeneity for clustered counts.

    ``counts`` (clusters x categories) holds each cluster's counts (e.g. a match's rallies won and lost);
    ``groups`` each cluster's group (e.g. its year). The statistic is Pearson's χ² of the group x category
    table; the null distribution shuffles the group labels over whole clusters. p = (1 + #{T* >= T}) / (1 + B).
    Returns ``{"statistic", "p", "permutations", "groups", "clusters"}`` (p None with fewer than two groups).
    """
    counts = np.asarray(counts, float)
    codes, names = _codes(groups)
    g = len(names)
    if g < 2 or counts.shape[0] < 3:
        return {"statistic": None, "p": None, "permutations": 0, "groups": g, "clusters": int(counts.shape[0])}
    observed = _chi2_of(counts, codes[None, :], g)[0]
    rng = np.random.default_rng(seed)
    shuffled = rng.permuted(np.tile(codes, (permutations, 1)), axis=1)
    null = _chi2_of(counts, shuffled, g)
    p = (1 + int((null >= observed - 1e-9 * max(1.0, observed)).sum())) / (1 + permutations)
    return {"statistic": float(observed), "p": float(p), "permutations": permutations, "groups": g,
            "clusters": int(counts.shape[0])}


def _codes(groups) -> tuple[np.ndarray, list]:
    names = sorted(set(groups), key=str)
    lookup = {name: i for i, name in enumerate(names)}
    return np.array([lookup[x] for x in groups], dtype=int), names


def _chi2_of(counts: np.ndarray, labels: np.ndarray, g: int) -> np.ndarray:
    """χ² statistics of the group x category tables for each row of ``labels`` (B x clusters)."""
    onehot = np.zeros(labels.shape + (g,))
    np.put_along_axis(onehot, labels[..., None], 1.0, axis=-1)
    tables = np.einsum("bcg,ck->bgk", onehot, counts)
    rows = tables.sum(2, keepdims=True)
    cols = tables.sum(1, keepdims=True)
    expected = rows * cols / counts.sum()
    with np.errstate(invalid="ignore", divide="ignore"):
        terms = np.where(expected > 0, (tables - expected) ** 2 / expected, 0.0)
    return terms.sum((1, 2))
