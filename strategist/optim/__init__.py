"""Layer-wise preconditioned optimizers: Shampoo, SOAP, Muon and K-FAC.

Standalone: depends on torch only (and :mod:`strategist.errors`), not on the rest of strategist.

    from strategist.optim import Shampoo, SOAP, Muon, KFAC, build_muon_optimizer
"""

from strategist.optim.kfac import KFAC
from strategist.optim.layerwise import layerwise_kfac_step
from strategist.optim.muon import Muon, MuonWithAdamW, zeropower_via_newtonschulz5
from strategist.optim.routing import build_muon_optimizer, muon_param_groups, route_parameters
from strategist.optim.shampoo import Shampoo
from strategist.optim.soap import SOAP

__all__ = ["KFAC", "SOAP", "Muon", "MuonWithAdamW", "Shampoo", "build_muon_optimizer", "layerwise_kfac_step",
           "muon_param_groups", "route_parameters", "zeropower_via_newtonschulz5"]
