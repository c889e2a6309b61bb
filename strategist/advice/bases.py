"""Why a recommended mix is what it is: the ``basis`` every ``Recommendation`` of the Advisor carries.

A light module (no imports) so that the pages can name the bases without loading the Advisor."""

#: A best response that keeps the usual mix: no advised shot's gain against the prediction is supported.
KEPT_HABIT = "habit (no better shot the lower bound supports)"
#: A safe exploitation that keeps the recommendation: no exploitation within the margin is supported.
KEPT_RECOMMENDATION = "recommendation (no exploitation within the margin the lower bound supports)"
#: Every basis the Advisor gives: the situation's game ("pessimistic equilibrium" or "habit"), several
#: situations averaged, and the best response's and safe exploitation's own or kept.
BASES = ("pessimistic equilibrium", "habit", "averaged", "best response", "safe exploitation", KEPT_HABIT,
         KEPT_RECOMMENDATION)
