"""Payoff matrices estimated from rally data, with uncertainty for every cell and for the solution."""

from strategist.estimation.bootstrap import BootstrapResult, bootstrap_payoff
from strategist.estimation.counts import Context, DecisionPoints, decision_points, parse_context
from strategist.estimation.payoff import EstimateReport, EstimateSettings, PayoffEstimate, estimate_payoff
from strategist.estimation.serve import WalkerWooders, serve_points, serve_table, walker_wooders
from strategist.estimation.shrinkage import (CellPosterior, PriorSpec, Shrinkage, fit_strength, parse_prior,
                                             posterior, prior_center, shrink)

__all__ = [
    "BootstrapResult", "CellPosterior", "Context", "DecisionPoints", "EstimateReport", "EstimateSettings",
    "PayoffEstimate", "PriorSpec", "Shrinkage", "WalkerWooders", "bootstrap_payoff", "decision_points",
    "estimate_payoff", "fit_strength", "parse_context", "parse_prior", "posterior", "prior_center", "serve_points",
    "serve_table", "shrink", "walker_wooders",
]
