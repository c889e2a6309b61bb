"""Layer-wise preconditioned optimizers: Shampoo, SOAP, Muon and K-FAC.

Standalone: depends on torch only (and :mod:`strategist.errors`), not on the rest of strategist.
"""
