"""Payoff matrices estimated from rally data, with uncertainty for every cell and for the solution."""

from strategist.estimation.counts import Context, DecisionPoints, decision_points, parse_context
from strategist.estimation.payoff import EstimateReport, PayoffEstimate, estimate_payoff
from strategist.estimation.shrinkage import (CellPosterior, PriorSpec, Shrinkage, fit_strength,
                                             parse_prior, posterior, prior_center, shrink)

__all__ = [
    "CellPosterior", "Context", "DecisionPoints", "EstimateReport", "PayoffEstimate", "PriorSpec",
    "Shrinkage", "decision_points", "estimate_payoff", "fit_strength", "parse_context", "parse_prior",
    "posterior", "prior_center", "shrink",
]
