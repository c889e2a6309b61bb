"""Payoff matrices estimated from rally data, with uncertainty for every cell and for the solution.

Names are loaded lazily, so importing the shrinkage (as the rally game does) does not import the payoff
estimate, the serve tables or the bootstrap.
"""

from __future__ import annotations

from strategist._lazy import lazy_exports

_EXPORTS = {
    "BootstrapResult": "bootstrap", "bootstrap_payoff": "bootstrap",
    "Context": "counts", "DecisionPoints": "counts", "decision_points": "counts", "parse_context": "counts",
    "EstimateReport": "payoff", "EstimateSettings": "payoff", "PayoffEstimate": "payoff", "estimate_payoff": "payoff",
    "WalkerWooders": "serve", "serve_points": "serve", "serve_table": "serve", "walker_wooders": "serve",
    "CellPosterior": "shrinkage", "PriorSpec": "shrinkage", "Shrinkage": "shrinkage", "fit_strength": "shrinkage",
    "parse_prior": "shrinkage", "posterior": "shrinkage", "prior_center": "shrinkage", "shrink": "shrinkage",
}


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS, globals())


__all__ = sorted(_EXPORTS)
