"""Opponent models: the opponent's next shot from the rally so far and the match so far."""
