"""Which parameter of a model goes to Muon and which to AdamW.

Muon is for hidden weight matrices. Embeddings (a lookup, not a linear map of its input), the output head
(its rows are per-class scores, not a hidden transform), and biases and gains (1-D) go to AdamW.

Roles:
    ``hidden``        weights with ≥ 2 axes not covered below (Linear, Conv, custom matrices) → Muon
    ``recurrent``     the input and hidden weight stacks of GRU/LSTM/RNN layers and cells → Muon
    ``embedding``     every parameter of nn.Embedding / nn.EmbeddingBag → AdamW
    ``head``          the output head's weight: the last nn.Linear registered in the model, or the
                      modules/parameters named by the caller → AdamW
    ``bias_and_gain`` every other parameter with fewer than 2 axes → AdamW

Stacked weights: a GRU's weight_ih/weight_hh stack the reset, update and new gates as three H-row blocks
(LSTM: four, nn.MultiheadAttention's in_proj_weight: query, key, value). Each block is a separate linear
map, so by default each is orthogonalised on its own (``row_blocks`` = number of stacked maps): every gate
then gets a full-size, well-scaled step, as three separate Linear layers would. Orthogonalising the whole
3H×in stack instead (``split_stacked=False``) makes the three blocks jointly semi-orthogonal and couples
their step sizes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from torch import nn

from strategist.errors import ConfigurationError
from strategist.optim.muon import MuonWithAdamW

HIDDEN, RECURRENT, EMBEDDING, HEAD, BIAS_AND_GAIN = "hidden", "recurrent", "embedding", "head", "bias_and_gain"
MUON_ROLES = (HIDDEN, RECURRENT)

_STACKED_GATES: dict[type, int] = {nn.GRU: 3, nn.GRUCell: 3, nn.LSTM: 4, nn.LSTMCell: 4,
                                   nn.RNN: 1, nn.RNNCell: 1}


@dataclass(frozen=True)
class ParameterRoute:
    """One parameter, its role, and the number of stacked row blocks Muon orthogonalises separately."""

    name: str
    param: nn.Parameter
    role: str
    row_blocks: int = 1

    @property
    def use_muon(self) -> bool:
        return self.role in MUON_ROLES


def _head_params(model: nn.Module, head: str | Iterable[str] | None) -> set[int]:
    """Ids of the output head's parameters: the last nn.Linear's weight by default."""
    if head is None:
        linears = [module for module in model.modules() if isinstance(module, nn.Linear)]
        return {id(linears[-1].weight)} if linears else set()
    named = dict(model.named_parameters(remove_duplicate=False))
    modules = dict(model.named_modules())
    chosen: set[int] = set()
    for name in [head] if isinstance(head, str) else list(head):
        if name in named:
            chosen.add(id(named[name]))
        elif name in modules and name:
            chosen.update(id(p) for p in modules[name].parameters())
        else:
            raise ConfigurationError(f"head {name!r} is neither a module nor a parameter of the model; "
                                     f"modules: {sorted(n for n in modules if n)}")
    return chosen


def route_parameters(model: nn.Module, head: str | Iterable[str] | None = None,
                     split_stacked: bool = True) -> list[ParameterRoute]:
    """Every trainable parameter of ``model`` exactly once (shared parameters under their first name).

    ``head``: None picks the last nn.Linear registered in the model; a name or names of modules or
    parameters pick those; an empty list means no head. ``split_stacked``: orthogonalise stacked gate
    blocks separately (see the module docstring).
    """
    head_params = _head_params(model, head)
    routes: list[ParameterRoute] = []
    seen: set[int] = set()
    for module_name, module in model.named_modules():
        for local_name, param in module.named_parameters(recurse=False):
            if id(param) in seen or not param.requires_grad:
                continue
            seen.add(id(param))
            name = f"{module_name}.{local_name}" if module_name else local_name
            blocks = 1
            if isinstance(module, (nn.Embedding, nn.EmbeddingBag)):
                role = EMBEDDING
            elif param.ndim < 2:
                role = BIAS_AND_GAIN
            elif id(param) in head_params:
                role = HEAD
            elif type(module) in _STACKED_GATES and local_name.startswith("weight_"):
                role = RECURRENT
                stacked = local_name.startswith(("weight_ih", "weight_hh"))  # not an LSTM's weight_hr
                blocks = _STACKED_GATES[type(module)] if split_stacked and stacked else 1
            else:
                role = HIDDEN
                if isinstance(module, nn.MultiheadAttention) and local_name == "in_proj_weight" and split_stacked:
                    blocks = 3
            routes.append(ParameterRoute(name, param, role, blocks))
    return routes


def muon_param_groups(model: nn.Module, *, lr: float = 0.02, momentum: float = 0.95,
                      weight_decay: float = 0.0, ns_steps: int = 5, adamw_lr: float = 3e-4,
                      adamw_betas: tuple[float, float] = (0.9, 0.95), adamw_eps: float = 1e-8,
                      adamw_weight_decay: float = 0.0, head: str | Iterable[str] | None = None,
                      split_stacked: bool = True) -> list[dict]:
    """Parameter groups for :class:`MuonWithAdamW`: one Muon group per ``row_blocks`` value, one AdamW
    group per role (so each can be retuned on its own). Every group records its ``role``; empty groups
    are left out."""
    routes = route_parameters(model, head=head, split_stacked=split_stacked)
    groups: list[dict] = []
    for blocks in sorted({r.row_blocks for r in routes if r.use_muon}):
        params = [r.param for r in routes if r.use_muon and r.row_blocks == blocks]
        roles = sorted({r.role for r in routes if r.use_muon and r.row_blocks == blocks})
        groups.append(dict(params=params, use_muon=True, role="+".join(roles), lr=lr, momentum=momentum,
                           weight_decay=weight_decay, ns_steps=ns_steps, row_blocks=blocks))
    for role in (EMBEDDING, HEAD, BIAS_AND_GAIN):
        params = [r.param for r in routes if r.role == role]
        if params:
            groups.append(dict(params=params, use_muon=False, role=role, lr=adamw_lr, betas=adamw_betas,
                               eps=adamw_eps, weight_decay=adamw_weight_decay))
    if not groups:
        raise ConfigurationError("the model has no trainable parameters")
    return groups


def build_muon_optimizer(model: nn.Module, *, lr: float = 0.02, momentum: float = 0.95,
                         weight_decay: float = 0.0, ns_steps: int = 5, adamw_lr: float = 3e-4,
                         adamw_betas: tuple[float, float] = (0.9, 0.95), adamw_eps: float = 1e-8,
                         adamw_weight_decay: float = 0.0, head: str | Iterable[str] | None = None,
                         split_stacked: bool = True) -> MuonWithAdamW:
    """The whole Muon set-up in one call: hidden and recurrent weights on Muon, the rest on AdamW.

    >>> opt = build_muon_optimizer(model)          # doctest: +SKIP
    >>> loss.backward(); opt.step(); opt.zero_grad()  # doctest: +SKIP
    """
    return MuonWithAdamW(muon_param_groups(
        model, lr=lr, momentum=momentum, weight_decay=weight_decay, ns_steps=ns_steps, adamw_lr=adamw_lr,
        adamw_betas=adamw_betas, adamw_eps=adamw_eps, adamw_weight_decay=adamw_weight_decay, head=head,
        split_stacked=split_stacked))
