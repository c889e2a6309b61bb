"""The match a report is about: which match, whose decisions, and the population it is measured against.

The population is every stroke of the data *outside* the match (or a table given for it, with the match
removed), so that the payoff matrices, the opponent model and the win probabilities are never fitted to
the rallies they judge. A table that holds only the match leaves no population: the report then falls
back to the match itself and says so (``in_sample``).
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

import pandas as pd

from strategist.data.states import annotate_states, situation_rule
from strategist.errors import ReportError
from strategist.sports import Sport, get_sport

NEEDED = ("sport", "match_id", "set", "rally", "rally_id", "stroke", "hitter", "opponent", "shot", "winner")
#: The opponent model of reports: the Markov model of order 2 (fast to fit; see benchmarks/results/opponent.md).
REPORT_MODEL = "markov2"


def _fit_model(md):
    from strategist.opponent import fit_model

    return fit_model(REPORT_MODEL, md.population, sport=md.sport.name)


@dataclass(frozen=True)
class MatchData:
    """One match of a canonical table, annotated with decision states, and its population."""

    sport: Sport
    match_id: str
    player: str
    opponent: str
    strokes: pd.DataFrame            # the match's strokes, sorted, with decision states
    population: pd.DataFrame         # canonical strokes the estimates are fitted on
    in_sample: bool                  # the population is the match itself (nothing else was given)
    player_note: str = ""
    notes: tuple = field(default_factory=tuple)
    _shared: dict = field(default_factory=dict, compare=False, repr=False)

    def opponent_model(self):
        """The opponent model (:data:`REPORT_MODEL`) fitted on the population, once, shared by the sections
        (the Advisor's predictions, the opponent profile's predictability). A failure to fit is raised again
        on every call."""
        return self._once("opponent_model", lambda: _fit_model(self))

    def annotated_population(self) -> pd.DataFrame:
        """The population with the situation of every stroke (:func:`strategist.rally.model.situation_annotation`),
        made once for the Advisor's game and the sections that count situations."""
        from strategist.rally.model import situation_annotation

        return self._once("annotated_population", lambda: situation_annotation(self.population, sport=self.sport))

    def advisor(self):
        """The Advisor of the player against the opponent fitted on the population (never on this match):
        the one rally game every section reads. Built once; a failure is raised again on every call."""
        def build():
            from strategist.advice.advisor import Advisor, prepare
            from strategist.errors import EstimationError

            if not (self.population["hitter"] == self.player).any():
                raise EstimationError(f"{self.player} plays no other match in the data, so nothing of their play "
                                      "is known without this one")
            strokes = prepare(self.population, annotated=self.annotated_population())
            return Advisor(self.population, self.player, self.opponent, model=self.opponent_model(), strokes=strokes)

        return self._once("advisor", build)

    def _once(self, key: str, make):
        from strategist.errors import StrategistError

        if key not in self._shared:
            try:
                self._shared[key] = make()
            except StrategistError as exc:
                self._shared[key] = exc
        value = self._shared[key]
        if isinstance(value, Exception):
            raise value
        return value

    @property
    def rallies(self) -> pd.DataFrame:
        """One row per rally (its last stroke), in the order played."""
        last = self.strokes.groupby("rally_id", sort=False).tail(1)
        return last.reset_index(drop=True)


def _check_table(table) -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame):
        raise ReportError(f"expected a canonical rally table (a pandas DataFrame from load_rallies), got "
                          f"{type(table).__name__}")
    missing = [c for c in NEEDED if c not in table.columns]
    if missing:
        raise ReportError(f"the table lacks columns {missing}; expected a canonical rally table "
                          "(strategist.data.schema)")
    if table.empty:
        raise ReportError("the table has no strokes")
    return table


def match_order(table: pd.DataFrame) -> list[str]:
    """Match ids in the order they first appear in the table."""
    return [str(m) for m in pd.unique(table["match_id"].dropna().astype(str))]


def _unknown(what: str, name: str, candidates: list[str]) -> ReportError:
    close = difflib.get_close_matches(name, candidates, n=3, cutoff=0.5)
    shown = ", ".join(candidates[:10]) + (f" ... ({len(candidates)} in all)" if len(candidates) > 10 else "")
    hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
    return ReportError(f"unknown {what} {name!r}{hint} (candidates: {shown})")


def resolve_match(table: pd.DataFrame, match_id: str | None) -> str:
    """The match called ``match_id`` (exact, else case-insensitive), or the first match."""
    ids = match_order(table)
    if match_id is None:
        return ids[0]
    if match_id in ids:
        return match_id
    folded = [m for m in ids if m.casefold() == str(match_id).strip().casefold()]
    if len(folded) == 1:
        return folded[0]
    raise _unknown("match", str(match_id), ids)


def resolve_match_player(strokes: pd.DataFrame, player: str | None) -> tuple[str, str, str]:
    """(player, opponent, how the player was chosen) of a match's strokes."""
    order = pd.unique(pd.concat([strokes["server"] if "server" in strokes else strokes["hitter"],
                                 strokes["hitter"], strokes["opponent"]]).dropna().astype(str))
    players = [str(p) for p in order]
    if len(players) != 2:
        raise ReportError(f"match {strokes['match_id'].iloc[0]!r} has {len(players)} players ({players}); a "
                          "report needs a singles match of two")
    if player is None:
        return players[0], players[1], "the first server of the match (choose another with player=)"
    wanted = str(player).strip().casefold()
    found = [p for p in players if p == player or p.casefold() == wanted]
    if not found:
        raise ReportError(f"unknown player {player!r} in match {strokes['match_id'].iloc[0]!r} (candidates: "
                          f"{', '.join(players)})")
    chosen = found[0]
    return chosen, next(p for p in players if p != chosen), "as asked"


def select_match(table, match_id: str | None = None, player: str | None = None, *,
                 population: pd.DataFrame | None = None, annotated: pd.DataFrame | None = None) -> MatchData:
    """The match ``match_id`` of ``table`` (default: the first), seen from ``player`` (default: its first
    server), with the population: ``population`` (default ``table``) without this match. ``annotated``: the
    table's :func:`strategist.rally.model.situation_annotation`, made once per data set; a stroke's situation
    depends on its rally alone, so the population's is its rows outside the match (used where the population is
    the table's other matches and reads situations by the same rule)."""
    table = _check_table(table)
    sports = table["sport"].dropna().astype(str).unique()
    if len(sports) != 1:
        raise ReportError(f"the table mixes sports {sorted(sports)}; report on one sport at a time")
    sport = get_sport(str(sports[0]))
    match_id = resolve_match(table, match_id)
    strokes = table[(table["match_id"] == match_id).to_numpy(dtype=bool, na_value=False)]
    player, opponent, how = resolve_match_player(strokes, player)
    source = table if population is None else _check_table(population)
    if population is not None and set(source["sport"].dropna().astype(str)) != {sport.name}:
        raise ReportError(f"the population is not {sport.name} data only")
    others = source[(source["match_id"] != match_id).to_numpy(dtype=bool, na_value=True)]
    # the situations of the games the report reads (fitted on the other matches): a match that records
    # heights less often than they do still gets their labels, its unrecorded heights said so
    rally, zones, heights = situation_rule(others if len(others) else strokes, sport)
    situations = annotate_states(strokes, sport, rally=rally, zones=zones, heights=heights)
    situations = situations.sort_values(["set", "rally", "stroke"], kind="stable").reset_index(drop=True)
    notes = []
    in_sample = others.empty or others["winner"].notna().sum() == 0
    if in_sample:
        others = table[(table["match_id"] == match_id).to_numpy(dtype=bool, na_value=False)]
        notes.append("no other match with known outcomes was given: payoffs, the opponent model and win "
                     "probabilities are estimated from this match itself (in-sample; they flatter the fit)")
    population = others.reset_index(drop=True)
    shared = {}
    if annotated is not None:
        _check_annotation(annotated, table)
        if source is table and not in_sample and situation_rule(table, sport) == (rally, zones, heights):
            keep = (annotated["match_id"] != match_id).to_numpy(dtype=bool, na_value=True)
            shared["annotated_population"] = annotated[keep].reset_index(drop=True)
    return MatchData(sport=sport, match_id=match_id, player=player, opponent=opponent, strokes=situations,
                     population=population, in_sample=bool(in_sample), player_note=how,
                     notes=tuple(notes), _shared=shared)


def _check_annotation(annotated, table: pd.DataFrame) -> None:
    """Refuse an annotation that is not :func:`~strategist.rally.model.situation_annotation` of ``table``'s
    strokes (another table, a part of it, not a table)."""
    if isinstance(annotated, pd.DataFrame) and len(annotated) == len(table) \
            and {"state", "match_id"} <= set(annotated.columns):
        return
    got = (f"{len(annotated)} rows with columns {list(annotated.columns)[:5]}" if isinstance(annotated, pd.DataFrame)
           else type(annotated).__name__)
    raise ReportError(f"annotated: expected situation_annotation() of the table's {len(table)} strokes, got {got}")
