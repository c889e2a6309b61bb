"""Sports as configuration: one module per sport, each defining ``SPORT``; look them up by name."""

from strategist.sports.definition import WINNER_ROLES, Sport
from strategist.sports.registry import available_sports, get_sport

__all__ = ["Sport", "WINNER_ROLES", "available_sports", "get_sport"]
