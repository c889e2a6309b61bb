"""Uncertainty of the solution: a cluster bootstrap of a payoff estimate over matches and rallies.

Each replicate resamples the data, re-estimates the matrix exactly as the estimate was made (counts,
empirical-Bayes strength, population matrix for player-specific estimates) and the whole batch of
replicate games is solved at once by :func:`strategist.games.solve_zero_sum_batch`. Intervals are
percentile intervals of the replicate values and of each component of the equilibrium mixes.

Resampling schemes (``cluster``):

* ``"match"`` (default): draw matches with replacement and keep every rally of a drawn match. Rallies of
  one match share the players, the conditions and the day's form, so they are not independent; resampling
  whole matches keeps that dependence (the one-stage cluster bootstrap, Davison & Hinkley 1997, §3.8).
* ``"match+rally"``: draw matches, then draw rallies with replacement inside each drawn match (two-stage);
  it adds the within-match variation a second time and gives wider intervals, useful when there are few
  matches.
* ``"rally"``: draw rallies with replacement, ignoring matches (right only if rallies were independent).

For a player-specific estimate the population matrix (and its prior strength) is re-estimated in every
replicate; the player-level strength, an across-players quantity, is held at its full-data value.
With fewer than two matches, ``"match"`` cannot vary and falls back to ``"rally"`` (stated in ``note``).
Equilibrium mixes need not be unique; each replicate reports the solver's choice among optimal mixes. The
value is a max–min of estimated cells, so it is biased by the noise in them (most where several actions
are nearly tied); the percentile interval reflects that spread as it is, without a bias correction.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from strategist.errors import EstimationError
from strategist.estimation.payoff import PayoffEstimate, estimate_cells

SCHEMES = ("match", "match+rally", "rally")


@dataclass(frozen=True)
class BootstrapResult:
    """Replicate solutions of a payoff estimate and their percentile intervals."""

    replicates: int
    scheme: str
    level: float
    seed: int | None
    clusters: int
    value: np.ndarray                  # (B,)
    row_strategy: np.ndarray           # (B, m)
    column_strategy: np.ndarray        # (B, n)
    value_interval: tuple
    row_interval: np.ndarray           # (m, 2)
    column_interval: np.ndarray        # (n, 2)
    row_labels: tuple
    column_labels: tuple
    note: str | None = None

    def to_dict(self) -> dict:
        return {
            "replicates": self.replicates, "scheme": self.scheme, "level": self.level, "seed": self.seed,
            "clusters": self.clusters, "note": self.note,
            "value": {"lower": self.value_interval[0], "upper": self.value_interval[1]},
            "row_strategy": {lab: {"lower": float(lo), "upper": float(hi)}
                             for lab, (lo, hi) in zip(self.row_labels, self.row_interval)},
            "column_strategy": {lab: {"lower": float(lo), "upper": float(hi)}
                                for lab, (lo, hi) in zip(self.column_labels, self.column_interval)},
        }


def _progress_printer(stream=None):
    stream = stream or sys.stderr
    start = time.monotonic()

    def report(done: int, total: int) -> None:
        elapsed = time.monotonic() - start
        eta = elapsed / done * (total - done) if done else float("nan")
        end = "\n" if done == total else "\r"
        print(f"bootstrap: {done}/{total} replicates, {elapsed:.1f} s elapsed, ~{eta:.1f} s left", end=end,
              file=stream, flush=True)

    return report


def _cell_matrix(units: np.ndarray, cells: np.ndarray, values: np.ndarray, n_units: int, n_cells: int):
    """Sparse (units × cells) sums of ``values``."""
    return sparse.csr_matrix((values, (units, cells)), shape=(n_units, n_cells))


@dataclass(frozen=True)
class _Design:
    """The points of an estimate as sparse (rally × cell) sums, and which rallies make up which match."""

    shape: tuple            # (m, n)
    pop_n: sparse.csr_matrix
    pop_w: sparse.csr_matrix
    sel_n: sparse.csr_matrix
    sel_w: sparse.csr_matrix
    n_rallies: int
    n_matches: int
    match_of_rally: np.ndarray
    rallies_per_match: np.ndarray
    rally_order: np.ndarray  # rallies sorted by match
    match_start: np.ndarray  # where each match's rallies begin in rally_order

    @classmethod
    def of(cls, estimate: PayoffEstimate) -> "_Design":
        points = estimate.points
        m, n = len(estimate.row_labels), len(estimate.column_labels)
        cells = (points["row_index"].to_numpy() * n + points["column_index"].to_numpy()).astype(np.int64)
        won = points["won"].to_numpy().astype(float)
        selected = points["selected"].to_numpy()
        rally_codes, rally_ids = _codes(points["rally_id"].to_numpy())
        match_codes, match_ids = _codes(points["match_id"].to_numpy())
        n_rallies, n_matches = len(rally_ids), len(match_ids)
        match_of_rally = np.empty(n_rallies, dtype=np.int64)
        match_of_rally[rally_codes] = match_codes
        one = np.ones(len(points))
        rallies_per_match = np.bincount(match_of_rally, minlength=n_matches)
        return cls((m, n), _cell_matrix(rally_codes, cells, one, n_rallies, m * n),
                   _cell_matrix(rally_codes, cells, won, n_rallies, m * n),
                   _cell_matrix(rally_codes, cells, one * selected, n_rallies, m * n),
                   _cell_matrix(rally_codes, cells, won * selected, n_rallies, m * n),
                   n_rallies, n_matches, match_of_rally, rallies_per_match,
                   np.argsort(match_of_rally, kind="stable"),
                   np.concatenate([[0], np.cumsum(rallies_per_match)[:-1]]))

    def weights(self, rng: np.random.Generator, b: int, scheme: str) -> np.ndarray:
        return _rally_weights(rng, b, scheme, self.n_rallies, self.n_matches, self.match_of_rally,
                              self.rallies_per_match, self.rally_order, self.match_start)

    def sums(self, matrix: sparse.csr_matrix, weights: np.ndarray) -> np.ndarray:
        """Each replicate's cell sums of ``matrix`` under its rally ``weights`` (b × m × n)."""
        return np.asarray((matrix.T @ weights.T).T).reshape((len(weights), *self.shape))


def _check_arguments(replicates, cluster: str, level: float) -> None:
    if isinstance(replicates, bool) or not isinstance(replicates, (int, np.integer)) or replicates < 2:
        raise EstimationError(f"replicates must be a whole number >= 2, got {replicates!r}")
    if cluster not in SCHEMES:
        raise EstimationError(f"bootstrap cluster {cluster!r} is not one of {SCHEMES}")
    if not 0.0 < level < 1.0:
        raise EstimationError(f"interval level must lie strictly between 0 and 1, got {level!r}")


def bootstrap_payoff(estimate: PayoffEstimate, replicates: int = 1000, *, seed: int | None = 0,
                     cluster: str = "match", level: float | None = None, progress=None,
                     chunk: int = 250) -> BootstrapResult:
    """Percentile intervals for the value and equilibrium mixes of ``estimate.game``.

    ``progress``: ``True`` prints progress to stderr; a callable receives ``(done, total)``; ``None``
    prints only for runs of 2,000 replicates or more.
    """
    from strategist.games import solve_zero_sum_batch

    level = estimate.level if level is None else level
    _check_arguments(replicates, cluster, level)
    if progress is None:
        progress = replicates >= 2000
    report = _progress_printer() if progress is True else (progress or None)
    settings = estimate.settings
    design = _Design.of(estimate)
    note = None
    scheme = cluster
    if cluster != "rally" and design.n_matches < 2:
        scheme = "rally"
        note = f"only {design.n_matches} match in the data: rallies resampled instead of matches"

    rng = np.random.default_rng(seed)
    values, rows, cols = [], [], []
    done = 0
    while done < replicates:
        b = min(chunk, replicates - done)
        weights = design.weights(rng, b, scheme)
        pw, pn = design.sums(design.pop_w, weights), design.sums(design.pop_n, weights)
        if settings.player_specific:
            sw, sn = design.sums(design.sel_w, weights), design.sums(design.sel_n, weights)
            final, _ = estimate_cells(settings, pw, pn, sw, sn, player_strength=estimate.strength, intervals=False)
        else:
            final, _ = estimate_cells(settings, pw, pn, intervals=False)
        solution = solve_zero_sum_batch(final.mean)
        values.append(solution.value)
        rows.append(solution.row_strategy)
        cols.append(solution.column_strategy)
        done += b
        if report:
            report(done, replicates)
    value, row_strategy, column_strategy = np.concatenate(values), np.concatenate(rows), np.concatenate(cols)
    tails = [(1.0 - level) / 2.0, 1.0 - (1.0 - level) / 2.0]
    v_lo, v_hi = np.quantile(value, tails)
    return BootstrapResult(
        replicates=int(replicates), scheme=scheme, level=level, seed=seed, clusters=int(design.n_matches),
        value=value, row_strategy=row_strategy, column_strategy=column_strategy,
        value_interval=(float(v_lo), float(v_hi)), row_interval=np.quantile(row_strategy, tails, axis=0).T,
        column_interval=np.quantile(column_strategy, tails, axis=0).T, row_labels=estimate.row_labels,
        column_labels=estimate.column_labels, note=note,
    )


def _codes(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    uniques, codes = np.unique(values.astype(str), return_inverse=True)
    return codes.astype(np.int64), uniques


def _rally_weights(rng, b, scheme, n_rallies, n_matches, match_of_rally, rallies_per_match, rally_order,
                   match_start) -> np.ndarray:
    """(b, rallies) multiplicities of every rally in ``b`` bootstrap samples."""
    if scheme == "rally":
        return rng.multinomial(n_rallies, np.full(n_rallies, 1.0 / n_rallies), size=b).astype(float)
    if scheme == "match":
        match_weights = rng.multinomial(n_matches, np.full(n_matches, 1.0 / n_matches), size=b)
        return match_weights[:, match_of_rally].astype(float)
    # two-stage: a match drawn c times contributes c independent resamples of its rallies, i.e. one
    # multinomial draw of c·R rallies over its R rallies. Drawn one replicate after another, so that the
    # replicates of a seed do not depend on how they are split into chunks.
    weights = np.zeros((b, n_rallies))
    for r in range(b):
        match_weights = rng.multinomial(n_matches, np.full(n_matches, 1.0 / n_matches))
        for k in range(n_matches):
            size = rallies_per_match[k]
            members = rally_order[match_start[k]:match_start[k] + size]
            weights[r, members] = rng.multinomial(match_weights[k] * size, np.full(size, 1.0 / size))
    return weights
