"""The shots Practice offers the player in a situation of the rally game."""

from __future__ import annotations


def offered(game, label: str, actions: tuple) -> list[int]:
    """Indices of the ``actions`` of state ``label`` offered to the player: the game's candidates there; in a
    serve state only serves when the sport names its serves among them (tennis serves are directions)."""
    g = game.index(label)
    candidate = game.structure.candidate[g]
    keep = [i for i in range(len(actions)) if candidate[i]] or list(range(len(actions)))
    if game.states["phase"].iat[g] == "serve":
        serves = set(game.structure.sport.serves)
        keep = [i for i in keep if actions[i] in serves] or keep
    return keep
