"""Beta-binomial shrinkage of win-rate cells.

Each cell has ``w`` wins in ``n`` trials and a prior ``p ~ Beta(s·c, s·(1 − c))`` with centre ``c`` (the
row, column or population rate, or any given matrix) and strength ``s`` (prior pseudo-trials). The posterior
is ``Beta(w + s·c, n − w + s·(1 − c))``: mean ``(w + s·c) / (n + s)``; an empty cell keeps its prior.

The strength is given, or chosen by empirical Bayes:

* ``"marginal"`` maximises the beta-binomial marginal likelihood
  ``Σ log B(w + s·c, n − w + s·(1 − c)) − log B(s·c, s·(1 − c))`` over ``s``;
* ``"moments"`` matches the excess variance of the raw rates: with ``ρ = 1 / (s + 1)``,
  ``E(w/n − c)² = c(1 − c)/n · (1 + (n − 1)ρ)``, so
  ``ρ̂ = Σ[(w/n − c)² − c(1 − c)/n] / Σ c(1 − c)(n − 1)/n``.

Every function accepts a leading batch axis (``(..., m, n)`` arrays), so bootstrap replicates are
re-estimated all at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import special

from strategist.errors import EstimationError

#: Search range of the empirical-Bayes strength (prior pseudo-trials). At the upper end the cells are
#: pooled completely; at the lower end they keep their raw rates.
STRENGTH_BOUNDS = (1e-2, 1e6)
TARGETS = ("row", "column", "population")
METHODS = ("marginal", "moments")


@dataclass(frozen=True)
class PriorSpec:
    """How the prior of every cell is chosen.

    ``method`` is ``"marginal"`` or ``"moments"`` (empirical Bayes strength) or ``"given"``; ``strength``
    is the given strength; ``mean`` a given prior mean for every cell (overrides the shrinkage target).
    """

    method: str = "marginal"
    strength: float | None = None
    mean: float | None = None

    def describe(self) -> str:
        if self.method == "given":
            text = f"strength {self.strength:g}"
            return text + (f", mean {self.mean:g}" if self.mean is not None else "")
        return f"strength by empirical Bayes ({self.method})"


def parse_prior(prior) -> PriorSpec:
    """Read a prior specification.

    Accepted: ``"marginal"`` or ``"moments"`` (empirical Bayes); a positive number (the strength, in
    pseudo-trials); ``(mean, strength)``; a mapping with ``mean``/``strength`` or ``a``/``b`` (Beta
    parameters); a :class:`PriorSpec`. A mean must be a probability strictly between 0 and 1.
    """
    if prior is None:
        return PriorSpec()
    if isinstance(prior, PriorSpec):
        spec = prior
    elif isinstance(prior, str):
        key = prior.strip().lower()
        if key in METHODS:
            return PriorSpec(method=key)
        try:
            number = float(key)
        except ValueError:
            raise EstimationError(
                f"prior {prior!r} is not understood; expected 'marginal', 'moments', a strength > 0 "
                "or (mean, strength)") from None
        return parse_prior(number)
    elif isinstance(prior, bool):
        raise EstimationError(f"prior {prior!r} is not understood; expected a strength > 0")
    elif isinstance(prior, (int, float, np.integer, np.floating)):
        spec = PriorSpec(method="given", strength=float(prior))
    elif isinstance(prior, dict):
        keys = set(prior)
        if keys <= {"a", "b"} and keys == {"a", "b"}:
            a, b = _finite(prior["a"], "a"), _finite(prior["b"], "b")
            if a <= 0 or b <= 0:
                raise EstimationError(f"Beta prior needs a > 0 and b > 0, got a={a:g}, b={b:g}")
            spec = PriorSpec(method="given", strength=a + b, mean=a / (a + b))
        elif keys <= {"mean", "strength"} and "strength" in keys:
            spec = PriorSpec(method="given", strength=_finite(prior["strength"], "strength"),
                             mean=None if prior.get("mean") is None else _finite(prior["mean"], "mean"))
        else:
            raise EstimationError(f"prior mapping needs keys a, b or mean, strength; got {sorted(keys)}")
    elif isinstance(prior, (tuple, list)) and len(prior) == 2:
        spec = PriorSpec(method="given", mean=_finite(prior[0], "mean"), strength=_finite(prior[1], "strength"))
    else:
        raise EstimationError(f"prior {prior!r} is not understood; expected 'marginal', 'moments', a strength "
                              "> 0 or (mean, strength)")
    if spec.method not in METHODS + ("given",):
        raise EstimationError(f"prior method {spec.method!r} is not one of {METHODS + ('given',)}")
    if spec.method == "given":
        if spec.strength is None or not np.isfinite(spec.strength) or spec.strength <= 0:
            raise EstimationError(f"prior strength must be a finite number > 0, got {spec.strength!r}")
    if spec.mean is not None and not (0.0 < spec.mean < 1.0):
        raise EstimationError(f"prior mean must be a probability strictly between 0 and 1, got {spec.mean:g}")
    return spec


def _finite(value, name: str) -> float:
    try:
        out = float(value)
    except (TypeError, ValueError):
        raise EstimationError(f"prior {name} must be a number, got {value!r}") from None
    if not np.isfinite(out):
        raise EstimationError(f"prior {name} must be finite, got {value!r}")
    return out


def _check_counts(wins, counts):
    wins = np.asarray(wins, dtype=float)
    counts = np.asarray(counts, dtype=float)
    if wins.shape != counts.shape or wins.ndim < 2:
        raise EstimationError(f"wins and counts must be matching (..., m, n) arrays, got {wins.shape} and "
                              f"{counts.shape}")
    if not (np.isfinite(counts).all() and np.isfinite(wins).all()) or (wins < 0).any() or (wins > counts).any():
        raise EstimationError("wins and counts must be finite with 0 <= wins <= counts in every cell")
    return wins, counts


def prior_center(wins, counts, target: str = "row") -> np.ndarray:
    """Prior mean of every cell: the pooled row, column or population rate.

    The population rate is ``(W + ½) / (N + 1)``; a row (column) rate is ``(Wᵢ + p) / (Nᵢ + 1)`` with one
    pseudo-trial at the population rate ``p``, so every centre lies strictly inside (0, 1) and an empty row
    falls back to the population.
    """
    wins, counts = _check_counts(wins, counts)
    total_w = wins.sum(axis=(-2, -1), keepdims=True)
    total_n = counts.sum(axis=(-2, -1), keepdims=True)
    pop = (total_w + 0.5) / (total_n + 1.0)
    if target == "population":
        return np.broadcast_to(pop, wins.shape).copy()
    if target == "row":
        return np.broadcast_to((wins.sum(-1, keepdims=True) + pop) / (counts.sum(-1, keepdims=True) + 1.0),
                               wins.shape).copy()
    if target == "column":
        return np.broadcast_to((wins.sum(-2, keepdims=True) + pop) / (counts.sum(-2, keepdims=True) + 1.0),
                               wins.shape).copy()
    raise EstimationError(f"shrinkage target {target!r} is not one of {TARGETS}")


def _loglik(log_s, wins, counts, center):
    """Beta-binomial log marginal likelihood (up to the binomial coefficients), shape ``log_s.shape``."""
    s = np.exp(log_s)[..., None, None]
    a, b = s * center[..., None, :, :], s * (1.0 - center[..., None, :, :])
    w, n = wins[..., None, :, :], counts[..., None, :, :]
    terms = special.betaln(w + a, n - w + b) - special.betaln(a, b)
    return np.where(n > 0, terms, 0.0).sum(axis=(-2, -1))


def fit_strength(wins, counts, center, method: str = "marginal") -> np.ndarray:
    """Empirical-Bayes prior strength ``s`` for every matrix in the batch (shape ``wins.shape[:-2]``).

    The result is clipped to :data:`STRENGTH_BOUNDS`: the upper bound means the data show no spread
    beyond binomial noise (complete pooling).
    """
    wins, counts = _check_counts(wins, counts)
    center = np.broadcast_to(np.asarray(center, dtype=float), wins.shape)
    lo, hi = np.log(STRENGTH_BOUNDS[0]), np.log(STRENGTH_BOUNDS[1])
    if method == "moments":
        used = counts > 0
        rate = np.divide(wins, counts, out=np.zeros_like(wins), where=used)
        var = center * (1.0 - center)
        num = np.where(used, (rate - center) ** 2 - var / np.where(used, counts, 1.0), 0.0).sum(axis=(-2, -1))
        den = np.where(used, var * (counts - 1.0) / np.where(used, counts, 1.0), 0.0).sum(axis=(-2, -1))
        with np.errstate(divide="ignore", invalid="ignore"):
            rho = np.where(den > 0, num / den, 0.0)
            s = np.where(rho > 0, 1.0 / rho - 1.0, STRENGTH_BOUNDS[1])
        return np.clip(s, *STRENGTH_BOUNDS)
    if method != "marginal":
        raise EstimationError(f"empirical-Bayes method {method!r} is not one of {METHODS}")
    batch = wins.shape[:-2]
    # cells without a trial add nothing to the likelihood: keep only those with one somewhere in the batch
    used = (counts.reshape(-1, counts.shape[-2] * counts.shape[-1]) > 0).any(axis=0)
    if not used.all():
        wins, counts, center = (a.reshape(batch + (1, -1))[..., used] for a in (wins, counts, center))
    grid = np.linspace(lo, hi, 41)  # steps of about 0.4 in log s
    ll = _loglik(np.broadcast_to(grid, batch + grid.shape), wins, counts, center)
    best = refine_grid_maximum(lambda x: _loglik(x[..., None], wins, counts, center)[..., 0], grid, ll, 32)
    return np.clip(np.exp(best), *STRENGTH_BOUNDS)


def two_sided_z(level: float) -> float:
    """z such that a normal variable lies within ±z of its mean with probability ``level`` (1.645 for 0.9)."""
    return float(special.ndtri(0.5 + level / 2.0))


def refine_grid_maximum(f, grid: np.ndarray, values: np.ndarray, iterations: int) -> np.ndarray:
    """The maximiser of ``f`` for every element of a batch: the best point of ``grid`` (``values`` = f on the
    grid, the grid along the last axis), refined by golden-section search inside its two neighbouring cells.
    ``f`` maps an array of points, one per batch element, to their values."""
    best = values.argmax(axis=-1)
    left = grid[np.maximum(best - 1, 0)]
    right = grid[np.minimum(best + 1, grid.size - 1)]
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    x1, x2 = right - ratio * (right - left), left + ratio * (right - left)
    f1, f2 = f(x1), f(x2)
    for _ in range(iterations):
        move_right = f1 < f2
        left = np.where(move_right, x1, left)
        right = np.where(move_right, right, x2)
        x1n = np.where(move_right, x2, right - ratio * (right - left))
        x2n = np.where(move_right, left + ratio * (right - left), x1)
        f_new = f(np.where(move_right, x2n, x1n))
        f1, f2 = np.where(move_right, f2, f_new), np.where(move_right, f_new, f1)
        x1, x2 = x1n, x2n
    return (left + right) / 2.0


@dataclass(frozen=True)
class CellPosterior:
    """Posterior ``Beta(alpha, beta)`` of every cell, with its mean and equal-tailed interval."""

    alpha: np.ndarray
    beta: np.ndarray
    mean: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    level: float


def posterior(wins, counts, center, strength, *, level: float = 0.95, intervals: bool = True) -> CellPosterior:
    """Posterior of every cell under the prior ``Beta(s·c, s·(1 − c))``.

    Mean ``(w + s·c) / (n + s)``; the interval holds the central ``level`` mass (the Beta quantiles, ``special.betaincinv``).
    """
    wins, counts = _check_counts(wins, counts)
    if not 0.0 < level < 1.0:
        raise EstimationError(f"interval level must lie strictly between 0 and 1, got {level!r}")
    center = np.broadcast_to(np.asarray(center, dtype=float), wins.shape)
    if not ((center > 0) & (center < 1)).all():
        raise EstimationError("prior means must lie strictly between 0 and 1")
    s = np.asarray(strength, dtype=float)
    if (s <= 0).any() or not np.isfinite(s).all():
        raise EstimationError("prior strength must be finite and > 0")
    s = s.reshape(s.shape + (1, 1)) if s.ndim == wins.ndim - 2 else s
    alpha = wins + s * center
    beta = counts - wins + s * (1.0 - center)
    mean = alpha / (alpha + beta)
    if intervals:
        tail = (1.0 - level) / 2.0
        lower, upper = special.betaincinv(alpha, beta, tail), special.betaincinv(alpha, beta, 1.0 - tail)
    else:
        lower = upper = np.full_like(mean, np.nan)
    return CellPosterior(alpha=alpha, beta=beta, mean=mean, lower=lower, upper=upper, level=level)


@dataclass(frozen=True)
class Shrinkage:
    """Shrunken estimate of a win-rate matrix: prior centre and strength, and the cell posteriors."""

    center: np.ndarray
    strength: float | np.ndarray
    method: str
    at_bound: bool | np.ndarray
    posterior: CellPosterior

    @property
    def mean(self) -> np.ndarray:
        return self.posterior.mean


def center_trials(counts, target: str) -> np.ndarray:
    """Trials behind each cell's prior centre (+1 for the pseudo-trial of :func:`prior_center`)."""
    counts = np.asarray(counts, dtype=float)
    if target == "row":
        total = counts.sum(-1, keepdims=True)
    elif target == "column":
        total = counts.sum(-2, keepdims=True)
    else:
        total = counts.sum(axis=(-2, -1), keepdims=True)
    return np.broadcast_to(total + 1.0, counts.shape)


def shrink(wins, counts, *, target="row", prior="marginal", level: float = 0.95,
           intervals: bool = True, cap=None) -> Shrinkage:
    """Shrink every cell toward ``target`` (``"row"``, ``"column"``, ``"population"`` or a matrix of prior
    means) with the strength chosen by ``prior`` (see :func:`parse_prior`).

    An empirical-Bayes strength is capped cell by cell at the trials behind the cell's centre (``cap``;
    for a row, column or population target, that target's trials): a prior holds no more information than
    the data its centre came from, so a cell without data keeps the centre's own uncertainty instead of
    a zero-width interval when the fit pools completely. A ``cap`` passed in applies to any strength.
    """
    wins, counts = _check_counts(wins, counts)
    spec = parse_prior(prior)
    if spec.mean is not None:
        center = np.full(wins.shape, spec.mean)
    elif isinstance(target, str):
        center = prior_center(wins, counts, target)
    else:
        center = np.broadcast_to(np.asarray(target, dtype=float), wins.shape).copy()
        if not ((center > 0) & (center < 1)).all():
            raise EstimationError("prior means must lie strictly between 0 and 1")
    if spec.method == "given":
        strength = np.full(wins.shape[:-2], spec.strength)
        at_bound = np.zeros(wins.shape[:-2], dtype=bool)
    else:
        strength = fit_strength(wins, counts, center, spec.method)
        at_bound = (strength <= STRENGTH_BOUNDS[0] * 1.5) | (strength >= STRENGTH_BOUNDS[1] / 1.5)
        if cap is None and isinstance(target, str):
            cap = center_trials(counts, target)
    cell_strength = strength
    if cap is not None:                  # passed in, or the centre's trials under a fitted strength
        cell_strength = np.minimum(np.asarray(strength, dtype=float)[..., None, None], np.asarray(cap, dtype=float))
    post = posterior(wins, counts, center, cell_strength, level=level, intervals=intervals)
    if strength.ndim == 0:
        strength, at_bound = float(strength), bool(at_bound)
    return Shrinkage(center=center, strength=strength, method=spec.method, at_bound=at_bound, posterior=post)
