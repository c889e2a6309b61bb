"""Advice between points: the rally decision's game, the opponent's predicted reply, and three mixes."""
