"""What the decision review compares each of the player's shots with: the Advisor's advice before the stroke,
built on the data without this match (:meth:`strategist.report.match.MatchData.advisor`) — the same rally
game and the same recommendation the live page gives."""

from __future__ import annotations

ADVISOR_SOURCE = ("the Advisor (strategist.advice), built on the data without this match: the rally game of the "
                  "pairing (situations: the incoming shot, how high and where it was taken) and the opponent "
                  "model; its recommendation is the equilibrium at the lower bounds, or the player's habit where "
                  "the data do not support a change")
ADVISOR_DEFINITION = ("given up = Σ xᵢ·wᵢ − w(played): x the recommended mix, w each candidate shot's win "
                      "probability against the opponent as predicted, both then playing as they do (point "
                      "estimates); in points of {one} win probability")
