"""The whole rally as a stochastic game estimated from data, played out, practised against.

Modules: :mod:`~strategist.rally.model` (states, actions, outcome laws and their shrinkage),
:mod:`~strategist.rally.game` (build, solve, evaluate observed play, bootstrap),
:mod:`~strategist.rally.policies` (equilibrium, observed, best response, safe exploitation, fixed mixes),
:mod:`~strategist.rally.model_policy` (an opponent model's predictions as a policy),
:mod:`~strategist.rally.playout` (vectorised rallies under the estimated game),
:mod:`~strategist.rally.practice` (practice mode), :mod:`~strategist.rally.truth` (exact values under the
demo simulator's parameters).
"""
