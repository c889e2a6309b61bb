"""The rally as a sequence of decisions: situations, feasible shots, outcomes and their estimated laws.

**States.** A game state is who is to hit (``player`` or ``opponent``) and the **situation** the hitter
faces (:func:`strategist.data.states.annotate_states` with ``situation=True``): the phase, the incoming shot
itself, how high it was taken and in which zone, e.g. ``"player: rally after net shot (low, front)"``.
Every situation of the data is a state for both sides, so a rally can always be followed.

**Actions.** The hitter's action is the shot (``actions="shot"``; a tennis server's is the serve's
direction) or its group; the receiver's is the zone they stand in when the shot is struck (``columns=
"zone"``), their court area (``"position"``) or nothing recorded (``"none"``). A shot is a **candidate** in
a situation only if all players together play it there at a meaningful rate (:func:`feasibility`: share at
least ``min_share`` and ``min_count`` times); it may be recommended to a hitter only if that hitter also
played it there ``min_action_count`` times (``GameStructure.trusted``). Other shots the hitter played stay in
the game so that observed play is evaluated as played.

**Outcomes.** After (a, b) the stroke ends the rally (the hitter wins it: a winner; or loses it: an error)
or the rally goes on in the situation the shot creates (the other side to hit, facing shot a, taken at some
height and zone). Strokes that end the rally count like any other. Strokes whose action, receiver's
position or outcome is unknown are left out and counted.

**Estimation** (Dirichlet–multinomial shrinkage up two hierarchies, :func:`estimate`). All players' law of a
cell (situation, a, b) shrinks toward the same shot's law in the situation, which shrinks toward the same
shot after the same incoming shot (any height or zone), after the same incoming group, and in the same phase:

    m_L = (N_L + t_L·m_{L−1}) / (N_L + t_L)          L = phase → group → incoming shot → situation → cell

Then the hitter's own law (against anyone) shrinks toward all players' and the pairing's toward the
hitter's, each in three parts (win now; lose now given no winner; where the rally goes given it goes on),
with the hitter's overall edge in winners and errors as a logit shift of the centre. Every strength is
chosen by empirical Bayes and capped cell by cell at the trials behind its centre (+1). The weight each
level's own data gets is kept: the **evidence** of a cell is the share of its estimate that rests on the
pairing, the hitter and all players.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd
from scipy import sparse, special

from strategist.data.states import annotate_states, situation_rule, state_label
from strategist.errors import ConfigurationError, EstimationError
from strategist.estimation.shrinkage import STRENGTH_BOUNDS, fit_strength, parse_prior, refine_grid_maximum
from strategist.sports import get_sport

WHO = ("player", "opponent")
ACTION_KINDS = ("shot", "group")
COLUMN_KINDS = ("auto", "zone", "position", "none")
#: The single receiver's column when positions are not used.
ANY_POSITION = "any position"
#: Outcome codes of a stroke, relative to its hitter.
WIN, LOSE = 0, 1
#: All players' levels, coarsest first: what a cell's law borrows strength from.
LEVELS = ("phase", "incoming group", "incoming shot", "situation", "cell")
#: Default candidate rule: all players play the shot there at least this share of the time, this often.
MIN_SHARE, MIN_COUNT = 0.02, 10
#: In the intervals, the prior of a player's (or a pairing's) cell counts as at most this many own strokes.
PEOPLE_PRIOR_CAP = 30.0


@dataclass(frozen=True)
class RallySettings:
    """Everything that turns strokes into a rally game (kept so a bootstrap can redo it).

    ``states``: the rally rule of the states (None: the sport's situation; ``"group:tactic"`` with
    ``zones=False, heights=False`` is the coarse model of earlier versions); ``zones``/``heights``: None
    follows the situation rule (on where the data record them)."""

    player: str | None = None
    opponent: str | None = None
    actions: str = "shot"
    columns: str = "auto"
    states: str | None = None
    zones: bool | None = None
    heights: bool | None = None
    min_action_count: int = 5
    min_share: float = MIN_SHARE
    min_count: int = MIN_COUNT
    prior: str = "marginal"
    level: float = 0.9


def state_name(who: int, label: str) -> str:
    return f"{WHO[who]}: {label}"


# ----------------------------------------------------------------------------------------------- strokes
@dataclass(frozen=True)
class Strokes:
    """One row per usable stroke, integer-coded (see ``names``): match, rally, hitter, receiver, the
    situation ``label`` and its coarser levels ``l2`` (incoming shot), ``l1`` (incoming group), ``l0``
    (phase), ``action``, receiver's ``column``, ``outcome`` (WIN, LOSE or -1: goes on), ``next_label`` and
    ``next_same`` (the same player hits next: a second serve)."""

    frame: pd.DataFrame
    dropped: dict
    sport: object
    rally_rule: str
    zones: bool
    heights: bool
    columns: str = "zone"
    names: dict = field(default_factory=dict)
    cache: dict = field(default_factory=dict, compare=False, repr=False)   # what is computed once per table


def _sport_of(table, sport):
    try:
        if sport is not None:
            return get_sport(sport)
        sports = table["sport"].dropna().unique() if "sport" in table else []
        if len(sports) != 1:
            raise EstimationError(f"cannot tell the sport of the table (sports {sorted(map(str, sports))}); "
                                  "pass sport=")
        return get_sport(str(sports[0]))
    except ConfigurationError as exc:
        raise EstimationError(str(exc)) from None


def check_settings(settings: RallySettings, sport) -> tuple[str, str]:
    """(action kind, grouping) of ``settings`` on ``sport``; raises :class:`EstimationError` naming what is
    wrong (the actions, the receiver's columns)."""
    kind, _, grouping = settings.actions.partition(":")
    if kind not in ACTION_KINDS:
        raise EstimationError(f"actions {settings.actions!r}: expected 'shot' or 'group' (or 'group:<grouping>')")
    grouping = grouping or "tactic"
    if kind == "group" and grouping not in sport.groupings:
        raise EstimationError(f"actions {settings.actions!r}: {sport.name} has groupings {sorted(sport.groupings)}")
    if settings.columns not in COLUMN_KINDS:
        raise EstimationError(f"columns {settings.columns!r}: expected one of {list(COLUMN_KINDS)}")
    if not 0.0 <= float(settings.min_share) < 1.0 or int(settings.min_count) < 0:
        raise EstimationError(f"min_share must lie in [0, 1) and min_count be >= 0; got {settings.min_share!r}, "
                              f"{settings.min_count!r}")
    if int(settings.min_action_count) < 1:
        raise EstimationError(f"min_action_count must be at least 1, got {settings.min_action_count}")
    return kind, grouping


def _rule(table, sport, settings: RallySettings) -> tuple[str, bool, bool]:
    rally, zones, heights = situation_rule(table, sport)
    if settings.states is not None:
        rally, zones, heights = settings.states, False, False
    zones = zones if settings.zones is None else bool(settings.zones)
    heights = heights if settings.heights is None else bool(settings.heights)
    return rally, zones, heights


def situation_annotation(table: pd.DataFrame, settings: RallySettings | None = None, sport=None) -> pd.DataFrame:
    """``table`` sorted by rally and stroke with the situation of every stroke (:func:`annotate_states` with
    the settings' rule: by default the situation the data record, :func:`situation_rule`)."""
    sport = _sport_of(table, sport)
    rule, zones, heights = _rule(table, sport, settings or RallySettings())
    return annotate_states(table, sport, rally=rule, zones=zones, heights=heights)


def strokes(table: pd.DataFrame, settings: RallySettings, sport=None, annotated: pd.DataFrame | None = None
            ) -> Strokes:
    """Usable strokes of ``table`` with their situations; what was left out is counted by reason.
    ``annotated``: :func:`situation_annotation` of ``table`` with the same settings, made once to share."""
    needed = ["match_id", "rally_id", "stroke", "hitter", "opponent", "shot", "opponent_area", "hitter_won"]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise EstimationError(f"the rally table lacks columns {missing}; expected a canonical table")
    if len(table) == 0:
        raise EstimationError("the rally table has no strokes")
    sport = _sport_of(table, sport)
    kind, grouping = check_settings(settings, sport)
    rule, zones, heights = _rule(table, sport, settings)
    ann = annotate_states(table, sport, rally=rule, zones=zones, heights=heights) if annotated is None else annotated
    if len(ann) != len(table) or "state" not in ann:
        raise EstimationError(f"the annotated table has {len(ann)} rows and columns {list(ann.columns)[:5]}...; "
                              f"expected situation_annotation() of the table's {len(table)} strokes")

    rally = ann["rally_id"].astype("string")
    nxt = (rally.shift(-1) == rally).fillna(False).to_numpy(bool)
    label_code, label_names = pd.factorize(ann["state"])
    hitter = ann["hitter"].astype("string")
    next_label = np.where(nxt, np.roll(label_code, -1), -1)
    next_same = nxt & (hitter.shift(-1) == hitter).fillna(False).to_numpy(bool)
    action = _actions(ann, sport, kind, grouping)
    column, columns = _columns(ann, sport, settings.columns)
    won = ann["hitter_won"].astype("boolean")
    outcome = np.where(nxt, -1, np.where(won.fillna(False).to_numpy(bool), WIN, LOSE))

    reasons = [
        (f"hitter's {kind} unknown", action.isna().to_numpy()),
        ("receiver's position unknown", column.isna().to_numpy()),
        ("last stroke of a rally whose winner is unknown", ~nxt & won.isna().to_numpy()),
        ("hitter or receiver unknown", (hitter.isna() | ann["opponent"].isna()).to_numpy()),
    ]
    bad = np.zeros(len(ann), dtype=bool)
    dropped = {}
    for reason, mask in reasons:
        mask = np.asarray(mask, dtype=bool) & ~bad
        if mask.any():
            dropped[reason] = int(mask.sum())
        bad |= mask
    good = ~bad
    people_code, people = pd.factorize(pd.concat([hitter, ann["opponent"].astype("string")], ignore_index=True))
    names = {"label": np.asarray(label_names, dtype=object), "person": np.asarray(people, dtype=object)}
    codes = {}
    for key, series in (("match", ann["match_id"]), ("rally", rally), ("action", action), ("column", column)):
        c, u = pd.factorize(series)
        codes[key] = c
        names[key] = np.asarray(u, dtype=object)
    levels = _label_levels(ann, label_code, len(label_names))
    for key, (per_label, level_names) in levels.items():
        names[key] = level_names
        codes[key] = per_label[label_code]
    first = pd.Series(np.arange(len(ann))).groupby(label_code).first().to_numpy()
    names["phase"] = ann["phase"].astype("string").to_numpy(dtype=object)[first]
    frame = pd.DataFrame({
        "match": codes["match"][good], "rally": codes["rally"][good],
        "hitter": people_code[:len(ann)][good], "receiver": people_code[len(ann):][good],
        "label": label_code[good], "l2": codes["l2"][good], "l1": codes["l1"][good], "l0": codes["l0"][good],
        "action": codes["action"][good], "column": codes["column"][good],
        "outcome": outcome[good], "next_label": next_label[good], "next_same": next_same[good],
    })
    return Strokes(frame, dropped, sport, rule, zones, heights, columns, names)


def _actions(ann: pd.DataFrame, sport, kind: str, grouping: str) -> pd.Series:
    """The hitter's action of every stroke: its shot (or group); a tennis server's, the serve's direction."""
    shot = ann["shot"].astype("string")
    shot = shot.where((shot != "unknown").fillna(False).astype(bool))
    action = shot if kind == "shot" else sport.group(shot, grouping)
    if sport.decisions.serve_action == "area":
        serve = (ann["phase"] == "serve").to_numpy(dtype=bool)
        area = ann["landing_area"].astype("string")
        action = action.astype("string").where(~serve, area.map(lambda a: f"{a} serve", na_action="ignore"))
    return action.astype("string")


def _columns(ann: pd.DataFrame, sport, columns: str) -> tuple[pd.Series, str]:
    area = ann["opponent_area"].astype("string")
    zones = dict(sport.decisions.zones)
    if columns == "auto":
        # the receiver's zone where most strokes record it, else no receiver's choice
        columns = "zone" if zones and area.map(zones).notna().mean() >= 0.5 else "none"
    if columns == "zone":
        return area.map(zones).astype("string"), columns
    if columns == "position":
        return area, columns
    return pd.Series(ANY_POSITION, index=ann.index, dtype="string"), columns


def _label_levels(ann: pd.DataFrame, label_code: np.ndarray, n_labels: int) -> dict:
    """For every situation: its coarser levels' codes and names — ``l2`` the phase and incoming shot (serve
    keys for serves), ``l1`` the phase and incoming group, ``l0`` the phase."""
    first = pd.Series(np.arange(len(ann))).groupby(label_code).first().reindex(range(n_labels)).to_numpy()
    phase = ann["phase"].astype(str).to_numpy(dtype=object)[first]
    incoming = ann["incoming"].astype(str).to_numpy(dtype=object)[first]
    shot = ann["incoming_shot"].astype("string").fillna("unknown").astype(str).to_numpy(dtype=object)[first]
    group = ann["incoming_group"].astype("string").fillna("unknown").astype(str).to_numpy(dtype=object)[first]
    l2 = [state_label(p, inc if p == "serve" else (s if p == "rally" else inc)) for p, inc, s in
          zip(phase, incoming, shot)]
    l1 = [state_label(p, "" if p != "rally" else g) for p, g in zip(phase, group)]
    out = {}
    for key, values in (("l2", l2), ("l1", l1), ("l0", list(phase))):
        code, uniq = pd.factorize(pd.Series(values, dtype=object))
        out[key] = (code, np.asarray(uniq, dtype=object))
    return out


# ----------------------------------------------------------------------------------------- candidates
@dataclass(frozen=True)
class Feasibility:
    """Which actions are candidates in every situation: all players' counts, hierarchical shares, and the
    verdict (share >= ``min_share`` and count >= ``min_count``)."""

    frame: pd.DataFrame        # label, action, count, share, level_count, feasible
    min_share: float
    min_count: int
    strength: float            # Dirichlet strength of the share shrinkage (pseudo-strokes)

    def candidates(self, label: int) -> np.ndarray:
        f = self.frame
        return f.loc[(f["label"] == label) & f["feasible"], "action"].to_numpy(np.int64)


def feasibility(st: Strokes, min_share: float = MIN_SHARE, min_count: int = MIN_COUNT) -> Feasibility:
    """All players' share of every action in every situation, shrunk toward the same action's share after
    the same incoming shot, the same group and in the same phase (Dirichlet–multinomial, strength by
    empirical Bayes): ``share = (N(s, a) + κ·share(parent, a)) / (N(s) + κ)``. An action is a candidate where
    its share is at least ``min_share`` and it was played ``min_count`` times at the finest level whose
    strokes are enough to show that share that often (``min_count / min_share`` strokes; the situation
    itself when it has them)."""
    f = st.frame
    n_actions = len(st.names["action"])
    need = min_count / min_share if min_share > 0 else 0.0
    counts = {}
    for level in ("l0", "l1", "l2", "label"):
        key = f[level].to_numpy(np.int64)
        n_keys = int(key.max()) + 1 if len(key) else 0
        counts[level] = np.bincount(key * n_actions + f["action"].to_numpy(np.int64),
                                    minlength=n_keys * n_actions).reshape(n_keys, n_actions).astype(float)
    per_label = f.groupby("label")[["l2", "l1", "l0"]].first()
    labels = per_label.index.to_numpy(np.int64)
    chain = {"label": labels, "l2": per_label["l2"].to_numpy(np.int64), "l1": per_label["l1"].to_numpy(np.int64),
             "l0": per_label["l0"].to_numpy(np.int64)}
    # shares down the hierarchy, on each level's own keys (nested: a key has one parent)
    share = (counts["l0"] + 1.0 / n_actions) / (counts["l0"].sum(1, keepdims=True) + 1.0)
    parent_level, strength = "l0", np.nan
    for level in ("l1", "l2", "label"):
        keys, first = np.unique(chain[level], return_index=True)
        parents = chain[parent_level][first]
        n = counts[level][keys]
        centre = share[parents]
        kappa = float(fit_dirichlet_strength(n.ravel(), centre.ravel(), np.repeat(np.arange(len(n)), n_actions),
                                             len(n))[0])
        strength = kappa
        full = np.zeros((counts[level].shape[0], n_actions))
        full[keys] = (n + kappa * centre) / (n.sum(1, keepdims=True) + kappa)
        share, parent_level = full, level
    share = share[chain["label"]]
    # the count that decides: at the finest level with enough strokes to show min_share min_count times
    decide = counts["l0"][chain["l0"]].copy()
    for level in ("l1", "l2", "label"):
        n = counts[level][chain[level]]
        enough = n.sum(1, keepdims=True) >= need
        decide = np.where(enough, n, decide)
    own = counts["label"][labels]
    rows = pd.DataFrame({"label": np.repeat(labels, n_actions), "action": np.tile(np.arange(n_actions), len(labels)),
                         "count": own.ravel().astype(np.int64), "share": share.ravel(),
                         "level_count": decide.ravel().astype(np.int64)})
    rows["feasible"] = (rows["share"] >= min_share) & (rows["level_count"] >= min_count)
    seen = rows.groupby("label")["feasible"].transform("any")
    # a situation where nothing passes (a rare one): its commonest action is the one candidate
    top = rows.loc[rows.groupby("label")["share"].idxmax()].index
    rows.loc[top, "feasible"] |= ~seen.loc[top]
    rows = rows[(rows["count"] > 0) | rows["feasible"]].reset_index(drop=True)
    return Feasibility(rows, float(min_share), int(min_count), strength)


# ----------------------------------------------------------------------------------------- the structure
@dataclass(frozen=True)
class LevelCounts:
    """All players' counts at one level of the situation hierarchy: one entry per (key, action, outcome)."""

    name: str
    counts: sparse.csr_matrix       # (units × level entries)
    cell: np.ndarray                # per level entry: its (key, action) cell
    parent: np.ndarray              # per level entry: the parent level's entry (-1 at the root)
    kinds: np.ndarray               # per level entry: outcomes in its cell's support
    outcome: np.ndarray             # per level entry: WIN, LOSE or >= 2 (the rally goes on)


@dataclass(frozen=True)
class GameStructure:
    """States, actions and the support of every cell's outcome law, with per-unit counts for resampling.

    Cells are in the hitter's orientation (a = hitter's action, b = receiver's). ``entries``: one row per
    (cell, outcome) of the support; outcome ``0`` = the hitter wins, ``1`` = the hitter loses, ``2 + g`` = the
    rally goes on in game state ``g``. ``levels``: all players' counts, coarsest first, the last being the
    cell level, which ``entry_level`` maps every game entry to. ``n_hitter`` counts the state's hitter against
    anyone, ``n`` the game's own strokes (the pairing; all players in the population game).
    """

    settings: RallySettings
    sport: object
    states: pd.DataFrame            # state, who, decision_state, phase, visits, label
    rows: tuple                     # hitter's actions per state
    columns: tuple                  # receiver's actions per state
    cell_state: np.ndarray
    cell_a: np.ndarray
    cell_b: np.ndarray
    entry_cell: np.ndarray
    entry_outcome: np.ndarray
    entry_kinds: np.ndarray
    entry_level: np.ndarray         # game entry -> cell-level entry of all players
    levels: tuple                   # LevelCounts, coarsest first
    matches: tuple
    pair_matches: np.ndarray
    n: sparse.csr_matrix            # (units × entries) the game's counts
    n_hitter: sparse.csr_matrix | None  # (units × entries) the state's hitter against anyone
    n_receiver: sparse.csr_matrix | None  # (units × entries) the state's receiver against anyone
    row_counts: dict                # "game" / "hitter" / "all": (units × Σ rows) action counts per state
    column_counts: dict             # the same for the receiver's positions
    row_offsets: np.ndarray
    column_offsets: np.ndarray
    population: bool
    feasibility: Feasibility
    action_names: tuple = ()        # action code -> name (the codes of ``feasibility``)
    candidate: tuple = ()           # per state: the population's candidates among its rows (bool array)
    trusted: tuple = ()             # per state: the hitter's actions that may be recommended (bool array)
    dropped: dict = field(default_factory=dict)     # strokes left out, by reason (the game's JSON reports them)
    flagged: tuple = ()             # (state, action, count, reason) rows that may not be recommended
    strokes_used: int = 0
    rallies: int = 0
    cluster: str = "match"
    game_matches: int = 0
    match_sd: float = 0.0           # match-to-match sd of a player's rally win rate beyond binomial noise
    record_win: float | None = None  # P(player wins a rally against opponent) from the players' rally records

    @property
    def size(self) -> int:
        return len(self.states)

    @cached_property
    def labels(self) -> tuple:
        return tuple(self.states["state"])


def _people(st: Strokes, settings: RallySettings):
    """The strokes' people, checking the settings' names: the player must hit in the data; an opponent who
    does not (a new opponent) is played as all players play, unless the name is close to one that does
    (then it is a typo)."""
    player, opponent = settings.player, settings.opponent
    if player is None and opponent is not None:
        raise EstimationError("an opponent needs a player: pass player= as well (or neither for the population game)")
    if player is not None and opponent is not None and player == opponent:
        raise EstimationError(f"player and opponent are both {player!r}; expected two different players")
    people = list(st.names["person"])
    for who, name in (("player", player), ("opponent", opponent)):
        if name is None or name in people:
            continue
        close = difflib.get_close_matches(name, sorted(map(str, people)), n=3)
        if who == "player" or close:
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise EstimationError(f"{who} {name!r} hits no usable stroke in the data{hint}")
    return people


def _game_strokes(st: Strokes, settings: RallySettings, people):
    """(mine, who, persons): the game's strokes (possibly none: a pair that never met), which side hits each,
    and the person code of each side (-1: an opponent the data do not know, or any opponent)."""
    f = st.frame
    if settings.player is None:
        return np.ones(len(f), dtype=bool), np.zeros(len(f), dtype=np.int64), (-1, -1)
    h, r = f["hitter"].to_numpy(), f["receiver"].to_numpy()
    pc = people.index(settings.player)
    oc = people.index(settings.opponent) if settings.opponent in people else -1
    if settings.opponent is None:
        mine = (h == pc) | (r == pc)
    else:
        mine = ((h == pc) & (r == oc)) | ((h == oc) & (r == pc))
    return mine, (h != pc).astype(np.int64), (pc, oc)


def _order_states(st: Strokes, labels: np.ndarray, visits: np.ndarray) -> pd.DataFrame:
    states = pd.DataFrame({"who": np.repeat([0, 1], len(labels)), "label": np.tile(labels, 2),
                           "visits": visits.ravel()})
    phase_rank = {"serve": 0, "return": 1, "rally": 2}
    states["phase"] = st.names["phase"][states["label"].to_numpy()]
    states["_p"] = states["phase"].map(phase_rank).fillna(3)
    states["_n"] = np.tile(np.bincount(st.frame["label"], minlength=len(st.names["label"]))[labels], 2)
    states = states.sort_values(["_p", "who", "_n"], ascending=[True, True, False]).drop(columns=["_p", "_n"])
    states = states.reset_index(drop=True)
    states["state"] = [state_name(w, st.names["label"][l]) for w, l in zip(states["who"], states["label"])]
    states["decision_state"] = [st.names["label"][l] for l in states["label"]]
    return states


def build_structure(st: Strokes, settings: RallySettings) -> GameStructure:
    """The game of ``settings.player`` against ``settings.opponent`` (or one player against everyone, or the
    population game) on the strokes ``st``: states, rows, columns, cells, outcome supports and counts."""
    from dataclasses import replace

    settings = replace(settings, columns=st.columns, zones=st.zones, heights=st.heights)
    f = st.frame
    people = _people(st, settings)
    population = settings.player is None
    mine, who, persons = _game_strokes(st, settings, people)
    feas = feasibility(st, settings.min_share, settings.min_count)
    lab, act, col = (f[k].to_numpy(np.int64) for k in ("label", "action", "column"))
    n_lab, n_act, n_col = len(st.names["label"]), len(st.names["action"]), len(st.names["column"])
    labels = np.unique(lab)
    # the hitter of each side's strokes against anyone (the population game: every stroke, both sides)
    hitter_rows = [np.ones(len(f), bool)] * 2 if population else \
        [f["hitter"].to_numpy() == persons[k] for k in (0, 1)]
    if not population and persons[1] < 0:
        # the player against everyone: the opponents as they were; a new opponent: everyone but the player
        hitter_rows[1] = (mine & (who == 1)) if settings.opponent is None else (f["hitter"].to_numpy() != persons[0])
    visits = np.stack([np.bincount(lab[mine & (who == w)], minlength=n_lab)[labels] for w in (0, 1)]) \
        if not population else np.stack([np.bincount(lab, minlength=n_lab)[labels]] * 2)
    states = _order_states(st, labels, visits)
    g_index = np.full((2, n_lab + 1), -1, dtype=np.int64)
    g_index[states["who"].to_numpy(), states["label"].to_numpy()] = np.arange(len(states))

    # rows: the population's candidates and whatever the side's hitter played there; columns likewise
    played = [np.bincount(lab[m] * n_act + act[m], minlength=n_lab * n_act).reshape(n_lab, n_act)
              for m in hitter_rows]
    feasible = np.zeros((n_lab, n_act), dtype=bool)
    fr = feas.frame
    feasible[fr.loc[fr["feasible"], "label"], fr.loc[fr["feasible"], "action"]] = True
    col_all = np.bincount(lab * n_col + col, minlength=n_lab * n_col).reshape(n_lab, n_col)
    col_share = col_all / np.maximum(col_all.sum(1, keepdims=True), 1)
    col_ok = (col_share >= settings.min_share) & (col_all >= settings.min_count)
    col_game = np.bincount(lab[mine] * n_col + col[mine], minlength=n_lab * n_col).reshape(n_lab, n_col)
    order = _action_order(st, settings)
    rows, columns, candidate, trusted, flagged = [], [], [], [], []
    min_count = int(settings.min_action_count)
    for w, l in zip(states["who"].to_numpy(), states["label"].to_numpy()):
        acts = np.flatnonzero(feasible[l] | (played[w][l] > 0))
        acts = sorted(acts, key=order)
        rows.append(tuple(acts))
        candidate.append(feasible[l, acts])
        ok = feasible[l, acts] & (played[w][l, acts] >= min_count)
        trusted.append(ok)
        name = state_name(int(w), st.names["label"][l])
        for a, c, t in zip(acts, candidate[-1], ok):
            if not t and played[w][l, a] > 0:
                why = ("rarely or never played there by any player" if not c else
                       f"played fewer than {min_count} times there by this hitter")
                flagged.append((name, st.names["action"][a], int(played[w][l, a]), why))
        cs = np.flatnonzero(col_ok[l] | (col_game[l] > 0))
        if not len(cs):
            cs = np.flatnonzero(col_all[l] > 0)
        columns.append(tuple(sorted(cs, key=lambda c: _natural(st.names["column"][c]))))

    structure = _cells_and_counts(st, states, rows, columns, g_index, mine, who, hitter_rows, population, persons)
    return GameStructure(
        settings=settings, sport=st.sport,
        states=states[["state", "who", "decision_state", "phase", "visits", "label"]].assign(
            who=lambda d: d["who"].map(dict(enumerate(WHO)))),
        rows=tuple(tuple(st.names["action"][a] for a in ra) for ra in rows),
        columns=tuple(tuple(st.names["column"][c] for c in cb) for cb in columns),
        population=population, feasibility=feas, action_names=tuple(st.names["action"]),
        candidate=tuple(candidate), trusted=tuple(trusted),
        flagged=tuple(flagged), strokes_used=int(mine.sum()), match_sd=match_spread(st),
        record_win=None if population else _record_win(st, persons),
        rallies=len(np.unique(f["rally"].to_numpy()[mine])), game_matches=len(np.unique(f["match"].to_numpy()[mine])),
        **structure)


def _record_win(st: Strokes, persons) -> float:
    return ratings(st).win_probability(persons[0], persons[1])


def match_spread(st: Strokes) -> float:
    """The sd of a player's rally win rate in a match around what the ratings predicted for it, beyond binomial
    noise — form and match-ups, which no estimate from other matches can know. The predictions are made
    without the match (the ratings of :func:`ratings` refitted on the other folds of matches); method of
    moments over every (player, match): τ² = Σ [n (y − p)² − p(1 − p)] / Σ n, clipped at 0."""
    if "match_sd" not in st.cache:
        from strategist.rally.strength import FOLDS, fit_ratings

        winners, losers, matches = rally_record(st)
        people = len(st.names["person"])
        precision = ratings(st).precision
        ids = np.unique(matches)
        fold = np.searchsorted(ids, matches) % FOLDS
        predicted = np.zeros(len(winners))
        for k in range(FOLDS):
            test = fold == k
            if test.any():
                predicted[test] = fit_ratings(winners[~test], losers[~test], people, precision).win_probability_of(
                    winners[test], losers[test])
        frame = pd.DataFrame({"person": np.r_[winners, losers], "match": np.r_[matches, matches],
                              "won": np.r_[np.ones(len(winners)), np.zeros(len(losers))],
                              "p": np.r_[predicted, 1 - predicted]})
        per = frame.groupby(["person", "match"]).agg(n=("won", "size"), y=("won", "mean"), p=("p", "mean"))
        n, y, p = (per[c].to_numpy(float) for c in ("n", "y", "p"))
        tau2 = float((n * (y - p) ** 2 - p * (1 - p)).sum() / n.sum()) if len(per) else 0.0
        st.cache["match_sd"] = float(np.sqrt(max(tau2, 0.0)))
    return st.cache["match_sd"]


def _action_order(st: Strokes, settings: RallySettings):
    kind, _, grouping = settings.actions.partition(":")
    names = st.sport.groups(grouping or "tactic") if kind == "group" else st.sport.shots
    rank = {s: k for k, s in enumerate(names)}
    return lambda a: (rank.get(st.names["action"][a], 99), str(st.names["action"][a]))


def _natural(x):
    zone_order = {"front": 0, "middle": 1, "back": 2}
    return (0, int(x), "") if str(x).isdigit() else (1, zone_order.get(x, 9), str(x))


def _cells_and_counts(st, states, rows, columns, g_index, mine, who, hitter_rows, population, persons) -> dict:
    """Cells, their outcome supports and every count matrix of the structure."""
    f = st.frame
    lab, act, col = (f[k].to_numpy(np.int64) for k in ("label", "action", "column"))
    outcome, nlab = f["outcome"].to_numpy(np.int64), f["next_label"].to_numpy(np.int64)
    same = f["next_same"].to_numpy(bool)
    rel = np.where(outcome >= 0, outcome, 2 + 2 * nlab + same.astype(np.int64))
    n_act = len(st.names["action"])

    cells = _cells(states, rows, columns)
    sup = _outcome_support(cells, act, rel, n_act, g_index)
    cell_state, cell_a, cell_b = (cells[k].to_numpy() for k in ("g", "a", "b"))
    entry_cell = sup["cell"].to_numpy(np.int64)
    entry_out = sup["out"].to_numpy(np.int64)
    kinds = sup.groupby("cell")["out"].transform("size").to_numpy()

    # resampling units: matches, or rallies when the game's strokes come from one match
    match, match_names, cluster = f["match"].to_numpy(np.int64), st.names["match"], "match"
    if not population and len(np.unique(match[mine])) == 1:
        match, match_names, cluster = f["rally"].to_numpy(np.int64), st.names["rally"], "rally"
    units = len(match_names)
    E = len(sup)

    def matrix(stroke_idx, entry_idx, width):
        return sparse.csr_matrix((np.ones(len(stroke_idx)), (match[stroke_idx], entry_idx)), shape=(units, width))

    # the game's own strokes and each side's hitter against anyone, keyed by (state, a, b, relative outcome)
    ent = pd.DataFrame({"e": np.arange(E), "g": sup["g"], "a": sup["a"], "b": sup["b"], "rel": sup["rel"]})

    def side_counts(selected, side):
        idx = np.flatnonzero(selected)
        g = g_index[side[idx], lab[idx]]
        sk = pd.DataFrame({"s": idx, "g": g, "a": act[idx], "b": col[idx], "rel": rel[idx]}).merge(
            ent, on=["g", "a", "b", "rel"], how="inner")
        return matrix(sk["s"].to_numpy(), sk["e"].to_numpy(), E)

    if population:
        game_n = hitter_n = receiver_n = None
    else:
        game_n = side_counts(mine, who)
        hitter_n = _side_matrix(side_counts, hitter_rows, len(f))
        # the receiver of each side's strokes against anyone: the other side's person
        receiver = f["receiver"].to_numpy()
        receiver_rows = [receiver == persons[1] if persons[1] >= 0 else np.zeros(len(f), bool),
                         receiver == persons[0]]
        receiver_n = _side_matrix(side_counts, receiver_rows, len(f))

    levels, entry_level = _population_levels(st, sup, match, units, rel)
    if population:
        game_n = _to_game(levels[-1].counts, entry_level)
    row_offsets = np.r_[0, np.cumsum([len(x) for x in rows])]
    col_offsets = np.r_[0, np.cumsum([len(x) for x in columns])]
    row_counts, column_counts = _choice_counts(st, states, rows, columns, g_index, match, units, mine, who,
                                               hitter_rows, population, row_offsets, col_offsets)
    pair_matches = np.zeros(units, dtype=bool)
    pair_matches[np.unique(match[mine])] = True
    return dict(cell_state=cell_state, cell_a=np.array([rows[g].index(a) for g, a in zip(cell_state, cell_a)],
                                                       dtype=np.int64),
                cell_b=np.array([columns[g].index(b) for g, b in zip(cell_state, cell_b)], dtype=np.int64),
                entry_cell=entry_cell, entry_outcome=entry_out, entry_kinds=kinds, entry_level=entry_level,
                levels=levels, matches=tuple(match_names), pair_matches=pair_matches, n=game_n, n_hitter=hitter_n,
                n_receiver=receiver_n,
                row_counts=row_counts, column_counts=column_counts, row_offsets=row_offsets,
                column_offsets=col_offsets, dropped=dict(st.dropped), cluster=cluster)


def _cells(states: pd.DataFrame, rows: list, columns: list) -> pd.DataFrame:
    """One row per cell (state g, hitter's action a, receiver's column b), states in order, a row-major."""
    cell_state = np.concatenate([np.full(len(ra) * len(cb), g) for g, (ra, cb) in enumerate(zip(rows, columns))])
    cell_a = np.concatenate([np.repeat(ra, len(cb)) for ra, cb in zip(rows, columns)]).astype(np.int64)
    cell_b = np.concatenate([np.tile(cb, len(ra)) for ra, cb in zip(rows, columns)]).astype(np.int64)
    sw, sl = states["who"].to_numpy(), states["label"].to_numpy()
    return pd.DataFrame({"cell": np.arange(len(cell_state)), "g": cell_state, "a": cell_a, "b": cell_b,
                         "who": sw[cell_state], "label": sl[cell_state]})


def _outcome_support(cells: pd.DataFrame, act, rel, n_act: int, g_index) -> pd.DataFrame:
    """The outcomes a cell can have: the relative outcomes seen after its action anywhere, plus winning and
    losing at once; ``out`` is the outcome (0 win, 1 lose, 2 + the next state), in cell order."""
    seen = pd.DataFrame({"a": act, "rel": rel}).drop_duplicates()
    ends = pd.DataFrame({"a": np.arange(n_act)})
    support = pd.concat([seen, ends.assign(rel=WIN), ends.assign(rel=LOSE)]).drop_duplicates()
    sup = cells.merge(support, on="a", how="inner")
    r = sup["rel"].to_numpy()
    nl = np.where(r >= 2, (r - 2) // 2, -1)
    sm = np.where(r >= 2, (r - 2) % 2, 0)
    nwho = np.where(sm == 1, sup["who"].to_numpy(), 1 - sup["who"].to_numpy())
    target = g_index[nwho, nl]
    ok = (r < 2) | (target >= 0)
    return sup.assign(out=np.where(r < 2, r, 2 + target))[ok].sort_values(["cell", "out"]).reset_index(drop=True)


def _side_matrix(side_counts, rows: list, n: int):
    """Counts keyed by each side's state of the strokes selected for that side (``rows[w]``), both sides in
    one matrix (a stroke selected for both counts for side 0 and side 1 separately)."""
    total = None
    for w in (0, 1):
        m = side_counts(rows[w], np.full(n, w, dtype=np.int64))
        total = m if total is None else total + m
    return total


def _to_game(level_counts, entry_level):
    return level_counts[:, entry_level]


def _population_levels(st, sup, match, units, rel) -> tuple[tuple, np.ndarray]:
    """All players' counts at every level of the situation hierarchy, on the unique (key, a, [b,] outcome)
    entries the game's cells need, each entry linked to its parent level's."""
    f = st.frame
    label_of = f.groupby("label")[["l2", "l1", "l0"]].first()
    lk = {"situation": sup["label"].to_numpy()}
    for key, name in (("l2", "incoming shot"), ("l1", "incoming group"), ("l0", "phase")):
        lk[name] = label_of[key].reindex(sup["label"]).to_numpy(np.int64)
    stroke_keys = {"phase": f["l0"].to_numpy(), "incoming group": f["l1"].to_numpy(),
                   "incoming shot": f["l2"].to_numpy(), "situation": f["label"].to_numpy()}
    act, col = f["action"].to_numpy(np.int64), f["column"].to_numpy(np.int64)
    sa, sb, srel = sup["a"].to_numpy(np.int64), sup["b"].to_numpy(np.int64), sup["rel"].to_numpy(np.int64)
    levels, parent_of_entry = [], None
    for name in LEVELS:
        if name == "cell":
            keys = np.stack([lk["situation"], sb, sa, srel], 1)
            stroke = np.stack([stroke_keys["situation"], col, act, rel], 1)
            cell_cols = 3
        else:
            keys = np.stack([lk[name], sa, srel], 1)
            stroke = np.stack([stroke_keys[name], act, rel], 1)
            cell_cols = 2
        uniq, inverse, pos = _unique_rows(keys, stroke)
        ok = pos >= 0
        counts = sparse.csr_matrix((np.ones(ok.sum()), (match[ok], pos[ok])), shape=(units, len(uniq)))
        _, cell = np.unique(_pack(uniq[:, :cell_cols]), return_inverse=True)
        cell = cell.ravel()
        kinds = np.bincount(cell)[cell]
        if parent_of_entry is None:
            parent = np.full(len(uniq), -1, dtype=np.int64)
        else:
            first = np.zeros(len(uniq), dtype=np.int64)
            first[inverse] = np.arange(len(inverse))
            parent = parent_of_entry[first]
        levels.append(LevelCounts(name, counts, cell.astype(np.int64), parent, kinds, uniq[:, -1].astype(np.int64)))
        parent_of_entry = inverse
    return tuple(levels), parent_of_entry


def _pack(rows: np.ndarray, base: np.ndarray | None = None) -> np.ndarray:
    """Rows of small non-negative integers (-1 allowed) as one int64 key each (mixed radix)."""
    rows = np.asarray(rows, dtype=np.int64)
    if base is None:
        base = rows.max(axis=0) + 2 if len(rows) else np.ones(rows.shape[1], dtype=np.int64)
    key = np.zeros(len(rows), dtype=np.int64)
    for k in range(rows.shape[1]):
        key = key * int(base[k]) + (rows[:, k] + 1)
    return key


def _unique_rows(keys: np.ndarray, strokes: np.ndarray):
    """(unique rows of ``keys``, index of every key row among them, index of every stroke row among them or
    -1), through packed integer keys; both tables non-empty, of the same width."""
    base = np.maximum(keys.max(axis=0), strokes.max(axis=0)) + 2
    packed, stroke_packed = _pack(keys, base), _pack(strokes, base)
    uniq_keys, first, inverse = np.unique(packed, return_index=True, return_inverse=True)
    pos = np.searchsorted(uniq_keys, stroke_packed)
    pos = np.clip(pos, 0, len(uniq_keys) - 1)
    pos = np.where(uniq_keys[pos] == stroke_packed, pos, -1)
    return keys[first], inverse.ravel(), pos


def _choice_counts(st, states, rows, columns, g_index, match, units, mine, who, hitter_rows, population,
                   row_offsets, col_offsets) -> tuple[dict, dict]:
    """Per-unit counts of each side's actions and of the receiver's positions per state, for the game's
    strokes (``game``), the side's hitter against anyone (``hitter``) and all players (``all``)."""
    f = st.frame
    lab, act, col = (f[k].to_numpy(np.int64) for k in ("label", "action", "column"))
    n_act, n_col = len(st.names["action"]), len(st.names["column"])
    rpos = np.full((len(states) + 1, n_act), -1, dtype=np.int64)
    cpos = np.full((len(states) + 1, n_col), -1, dtype=np.int64)
    for g, (ra, cb) in enumerate(zip(rows, columns)):
        rpos[g, list(ra)] = row_offsets[g] + np.arange(len(ra))
        cpos[g, list(cb)] = col_offsets[g] + np.arange(len(cb))

    def counts(selected, side):
        idx = np.flatnonzero(selected)
        g = g_index[side[idx], lab[idx]]
        ri, ci = rpos[g, act[idx]], cpos[g, col[idx]]
        okr, okc = ri >= 0, ci >= 0
        return (sparse.csr_matrix((np.ones(okr.sum()), (match[idx][okr], ri[okr])), shape=(units, row_offsets[-1])),
                sparse.csr_matrix((np.ones(okc.sum()), (match[idx][okc], ci[okc])), shape=(units, col_offsets[-1])))

    rows_out, cols_out = {}, {}
    everyone = np.ones(len(f), dtype=bool)
    zero = np.zeros(len(f), dtype=np.int64)
    r0, c0 = counts(everyone, zero)
    r1, c1 = counts(everyone, np.ones(len(f), dtype=np.int64))
    rows_out["all"], cols_out["all"] = r0 + r1, c0 + c1
    if population:
        rows_out["game"], cols_out["game"] = rows_out["all"], cols_out["all"]
        rows_out["hitter"], cols_out["hitter"] = rows_out["all"], cols_out["all"]
    else:
        rows_out["game"], cols_out["game"] = counts(mine, who)
        hr, hc = counts(hitter_rows[0], zero)
        hr1, hc1 = counts(hitter_rows[1], np.ones(len(f), dtype=np.int64))
        rows_out["hitter"], cols_out["hitter"] = hr + hr1, hc + hc1
    return rows_out, cols_out


# ---------------------------------------------------------------------------------- Dirichlet shrinkage
def _dm_loglik(log_s, counts, center, cell_total):
    """Dirichlet–multinomial log marginal likelihood (constants dropped) at strengths ``exp(log_s)``, (B, K):
    Σ_entries [lnΓ(n + s·c) − lnΓ(s·c)] + Σ_cells [lnΓ(s) − lnΓ(N + s)].

    ``counts``, ``center``: (B, E); ``cell_total``: (B, C), the cells' totals N."""
    s = np.exp(log_s)[..., None]
    a = s * center[:, None, :]
    n = counts[:, None, :]
    per_entry = np.where(n > 0, special.gammaln(n + a) - special.gammaln(a), 0.0).sum(axis=-1)
    tot = cell_total[:, None, :]
    per_cell = np.where(tot > 0, special.gammaln(s) - special.gammaln(tot + s), 0.0).sum(axis=-1)
    return per_entry + per_cell


def fit_dirichlet_strength(counts, center, cell, n_cells) -> np.ndarray:
    """Empirical-Bayes strength ``s`` (prior pseudo-trials) of a Dirichlet prior ``Dir(s·c)`` on every
    cell's outcome law, maximising the Dirichlet–multinomial marginal likelihood (grid, then golden
    section, as :func:`strategist.estimation.shrinkage.fit_strength`). ``counts``/``center``: (B, E) or (E,)."""
    counts = np.atleast_2d(np.asarray(counts, dtype=float))
    center = np.clip(np.broadcast_to(np.asarray(center, dtype=float), counts.shape), 1e-12, None)
    cell = np.asarray(cell, dtype=np.int64)
    live = counts.any(axis=0)
    if not live.any():
        return np.full(len(counts), STRENGTH_BOUNDS[1])
    cell_total = np.stack([np.bincount(cell, weights=c, minlength=n_cells) for c in counts])
    # entries without a count and cells without a total add nothing: keep the others only
    counts, center = counts[:, live], center[:, live]
    cell_total = cell_total[:, cell_total.any(axis=0)]
    lo, hi = np.log(STRENGTH_BOUNDS[0]), np.log(STRENGTH_BOUNDS[1])
    grid = np.linspace(lo, hi, 41)
    # the grid in blocks of points, each block one array of at most ~2 million entries
    step = max(1, 2_000_000 // max(1, counts.size))
    ll = np.concatenate([_dm_loglik(np.broadcast_to(grid[k:k + step], (len(counts), len(grid[k:k + step]))),
                                    counts, center, cell_total) for k in range(0, len(grid), step)], axis=1)
    best = refine_grid_maximum(lambda x: _dm_loglik(x[:, None], counts, center, cell_total)[:, 0], grid, ll, 24)
    return np.clip(np.exp(best), *STRENGTH_BOUNDS)


def logit_offset(hits, trials, center, side, sides: int = 2, iterations: int = 25, bound: float = 4.0):
    """Maximum-likelihood shift δ of the centres' logits, one per side: Σ hits = Σ trials·σ(logit c + δ)
    over the cells of each side (Newton's method, all replicates at once; δ kept within ±``bound``)."""
    hits, trials, center = (np.atleast_2d(np.asarray(x, dtype=float)) for x in (hits, trials, center))
    base = special.logit(np.clip(center, 1e-12, 1 - 1e-12))
    delta = np.zeros((len(hits), sides))
    for _ in range(iterations):
        p = special.expit(base + delta[:, side])
        grad = np.stack([np.where(side == k, hits - trials * p, 0.0).sum(1) for k in range(sides)], 1)
        curv = np.stack([np.where(side == k, trials * p * (1 - p), 0.0).sum(1) for k in range(sides)], 1)
        delta = np.clip(delta + np.where(curv > 0, grad / np.maximum(curv, 1e-12), 0.0), -bound, bound)
    return delta


@dataclass(frozen=True)
class LawLevel:
    """One level's laws on the game's entries with what the posterior variance needs, per game cell and part
    (W: win now; L: lose now given no winner; C: where the rally goes given it goes on): the part's
    concentration (own trials + prior strength) and the weight of the parent level in it."""

    name: str
    law: np.ndarray                  # (B, E)
    concentration: np.ndarray        # (B, cells, 3)
    parent_weight: np.ndarray        # (B, cells, 3)


@dataclass(frozen=True)
class Estimate:
    """Posterior-mean outcome laws of every cell (B replicates, or B = 1), with the strengths used."""

    probability: np.ndarray          # (B, E)
    strengths: dict                  # "level part" -> (B,) strength
    win_offset: np.ndarray           # (B, 2) the hitters' logit shifts in winners (hitter level), per side
    lose_offset: np.ndarray          # (B, 2) ... in errors
    counts: np.ndarray               # (B, E) the game's counts
    evidence: np.ndarray             # (B, cells, 3): share of each cell's estimate resting on pairing, hitter, all
    chain: tuple = ()                # LawLevel, coarsest first (B = 1 only): for the intervals
    receiver_win_offset: np.ndarray | None = None   # (B, 2) each side's receiver's logit shift of winners
    receiver_lose_offset: np.ndarray | None = None  # ... and of errors
    level_shift: float = 0.0         # Δ of the pair's level set to the rally records (strategist.rally.strength)

    @property
    def population_strength(self) -> np.ndarray:
        return self.strengths["situation W"]

    @property
    def pair_strength(self) -> np.ndarray:
        return self.strengths.get("pairing W", np.full(len(self.probability), np.nan))


def _totals(x, cell, n_cells):
    return np.stack([np.bincount(cell, weights=row, minlength=n_cells) for row in x])


@dataclass(frozen=True)
class _Parts:
    """Where the parts of every cell's law sit among a level's entries."""

    cell: np.ndarray
    n_cells: int
    win: np.ndarray                  # per cell: its WIN entry
    lose: np.ndarray                 # per cell: its LOSE entry
    moves: np.ndarray                # bool per entry: the rally goes on
    ends: np.ndarray                 # bool per cell: no entry goes on (without a winner, an error is certain)


def _parts(cell: np.ndarray, outcome: np.ndarray) -> _Parts:
    n_cells = int(cell.max()) + 1 if len(cell) else 0
    win = np.full(n_cells, -1)
    lose = np.full(n_cells, -1)
    win[cell[outcome == WIN]] = np.flatnonzero(outcome == WIN)
    lose[cell[outcome == LOSE]] = np.flatnonzero(outcome == LOSE)
    ends = np.bincount(cell[outcome >= 2], minlength=n_cells) == 0
    return _Parts(cell, n_cells, win, lose, outcome >= 2, ends)


def _beta_part(hits, trials, center, spec, cap, side=None):
    """One two-outcome part: Beta shrinkage toward ``center`` (shifted on the logit scale by each side's
    maximum-likelihood offset when ``side`` is given), strength by empirical Bayes, capped cell by cell at
    ``cap``. Returns (mean, strength, offset, cell strength)."""
    B = len(hits)
    center = np.clip(center, 1e-9, 1 - 1e-9)
    delta = np.zeros((B, 2))
    if side is not None:
        delta = logit_offset(hits, trials, center, side)
        center = np.clip(special.expit(special.logit(center) + delta[:, side]), 1e-9, 1 - 1e-9)
    used = (trials > 0).any(axis=0)
    if spec.method == "given":
        s = np.full(B, spec.strength)
    elif not used.any():
        s = np.full(B, STRENGTH_BOUNDS[1])
    else:
        s = np.atleast_1d(fit_strength(hits[:, None, used], trials[:, None, used], center[:, None, used],
                                       spec.method)).astype(float)
    cell_s = np.minimum(s[:, None], cap)
    mean = (hits + cell_s * center) / (trials + cell_s)
    return mean, s, delta, cell_s


def _shrink(n, centre, parts: _Parts, spec, cap, side=None):
    """A level's laws from its counts ``n`` (B, E), shrunk part by part toward ``centre`` (the parent's law on
    the same entries): W = P(win now), L = P(lose now | no winner), C = P(where it goes | it goes on).
    Returns (law, strengths by part, (δ_W, δ_L), concentration (B, cells, 3), parent weight (B, cells, 3))."""
    cell, n_cells = parts.cell, parts.n_cells
    total = _totals(n, cell, n_cells)
    wins, losses = n[:, parts.win], n[:, parts.lose]
    c_win, c_lose = centre[:, parts.win], centre[:, parts.lose]
    w_hat, s_w, d_w, cs_w = _beta_part(wins, total, c_win, spec, cap, side)
    l_hat, s_l, d_l, cs_l = _beta_part(losses, total - wins, c_lose / np.maximum(1.0 - c_win, 1e-12), spec, cap,
                                       side)
    l_hat = np.where(parts.ends, 1.0, l_hat)      # a cell where the rally cannot go on keeps all its mass
    moves = parts.moves
    move_cell = cell[moves]
    c_move = centre[:, moves] / np.maximum(1.0 - c_win - c_lose, 1e-12)[:, move_cell]
    n_move = n[:, moves]
    if spec.method == "given":
        s_c = np.full(len(n), spec.strength)
    else:
        live = (total > 0).any(axis=0)[move_cell]
        s_c = fit_dirichlet_strength(n_move[:, live], c_move[:, live], move_cell[live], n_cells)
    move_tot = total - wins - losses
    cs_c = np.minimum(s_c[:, None], cap)
    c_hat = (n_move + cs_c[:, move_cell] * c_move) / np.maximum(move_tot[:, move_cell] + cs_c[:, move_cell], 1e-12)
    law = np.empty_like(centre)
    law[:, parts.win] = w_hat
    law[:, parts.lose] = (1.0 - w_hat) * l_hat
    law[:, moves] = ((1.0 - w_hat) * (1.0 - l_hat))[:, move_cell] * c_hat
    own = np.stack([total, total - wins, move_tot], axis=-1)
    strength = np.stack([cs_w, cs_l, cs_c], axis=-1)
    return (law, {"W": s_w, "L": s_l, "C": s_c}, (d_w, d_l), own + strength,
            strength / np.maximum(own + strength, 1e-12))


def _people_variance(concentration, parent_weight):
    """A people level's concentration and parent weight for the posterior variance, with the prior's share
    capped at :data:`PEOPLE_PRIOR_CAP` pseudo-strokes: what all players show about how *this* player plays a
    shot in a situation is worth at most that many of the player's own strokes there, however completely the
    empirical Bayes fit pools the means (it sees no spread beyond the player's overall edge). A shot the player
    has rarely played there keeps a wide interval, so that the lower bound does not recommend it on the
    population's record alone."""
    own = concentration * (1.0 - parent_weight)
    prior = np.minimum(concentration * parent_weight, PEOPLE_PRIOR_CAP)
    return own + prior, prior / np.maximum(own + prior, 1e-12)


def _receiver_shift(receiver, centre, parts: _Parts, side):
    """All players' laws with each side's receiver's effect: the maximum-likelihood logit shift of the winners
    and of the errors of every hitter against this receiver (``receiver``: the counts of strokes the side's
    receiver faced), applied to the centre's W and L parts (a receiver who defends well concedes fewer
    winners). Returns (shifted laws, δ_W per side, δ_L per side)."""
    cell, n_cells = parts.cell, parts.n_cells
    total = _totals(receiver, cell, n_cells)
    wins, losses = receiver[:, parts.win], receiver[:, parts.lose]
    c_win, c_lose = centre[:, parts.win], centre[:, parts.lose]
    c_lr = c_lose / np.maximum(1.0 - c_win, 1e-12)
    d_w = logit_offset(wins, total, c_win, side)
    d_l = logit_offset(losses, total - wins, c_lr, side)
    return _logit_shifted(centre, parts, d_w[:, side], d_l[:, side]), d_w, d_l


def _logit_shifted(law, parts: _Parts, d_win, d_error):
    """``law`` with every cell's winner probability W and error rate without a winner E = L / (1 − W) moved on
    the logit scale, logit W' = logit W + d_win and logit E' = logit E + d_error (E stays 1 where the rally
    cannot go on), and the moves scaled by (1 − W')(1 − E') / (1 − W − L): where the rally goes is kept."""
    w, lose = law[:, parts.win], law[:, parts.lose]
    lr = lose / np.maximum(1.0 - w, 1e-12)
    w2 = special.expit(special.logit(np.clip(w, 1e-9, 1 - 1e-9)) + d_win)
    lr2 = special.expit(special.logit(np.clip(lr, 1e-9, 1 - 1e-9)) + d_error)
    lr2 = np.where(parts.ends, 1.0, lr2)
    go_old = np.maximum(1.0 - w - lose, 1e-12)
    go_new = (1.0 - w2) * (1.0 - lr2)
    out = law.copy()
    out[:, parts.win] = w2
    out[:, parts.lose] = (1.0 - w2) * lr2
    out[:, parts.moves] = law[:, parts.moves] * (go_new / go_old)[:, parts.cell[parts.moves]]
    return out


def _population_chain(structure: GameStructure, counts: list, spec):
    """All players' laws down the situation hierarchy (unique entries of each level): a list of (level, law,
    concentration, parent weight) and the strengths by level and part."""
    strengths, chain, law, parent_tot = {}, [], None, None
    for level, n in zip(structure.levels, counts):
        parts = _parts(level.cell, level.outcome)
        tot = _totals(n, level.cell, parts.n_cells)
        if law is None:
            m = (n + 1.0 / level.kinds) / (tot[:, level.cell] + 1.0)
            conc = np.repeat((tot + 1.0)[:, :, None], 3, axis=2)
            pw = np.zeros_like(conc)
        else:
            first = np.zeros(parts.n_cells, dtype=np.int64)
            first[level.cell] = np.arange(len(level.cell))
            cap = parent_tot[:, level.parent[first]] + 1.0
            m, st, _, conc, pw = _shrink(n, law[:, level.parent], parts, spec, cap)
            strengths.update({f"{level.name} {k}": v for k, v in st.items()})
        chain.append((level, m, conc, pw))
        law, parent_tot = m, tot[:, level.cell]
    return chain, strengths


def estimate(structure: GameStructure, counts: dict, *, prior=None, keep_chain: bool = False) -> Estimate:
    """Outcome laws of every cell from ``counts`` (:func:`structure_counts`; each (B, ·) or (·,)).

    All players' laws come down the situation hierarchy (module docstring); the hitter's own laws shrink
    toward them, with the hitter's edge as a logit shift, and the pairing's toward the hitter's. Every level
    shrinks in three parts (win now; lose now given no winner; where it goes given it goes on), each with its
    own strength. ``keep_chain``: keep every level's laws for the intervals (one replicate)."""
    spec = parse_prior(structure.settings.prior if prior is None else prior)

    def as2d(v):
        return None if v is None else np.atleast_2d(np.asarray(v, dtype=float))

    counts = {"game": as2d(counts["game"]), "hitter": as2d(counts.get("hitter")),
              "receiver": as2d(counts.get("receiver")), "levels": [as2d(v) for v in counts["levels"]]}
    B = len(counts["game"])
    chain, strengths = _population_chain(structure, counts["levels"], spec)
    cell = structure.entry_cell
    n_cells = len(structure.cell_state)
    first = np.zeros(n_cells, dtype=np.int64)
    first[cell] = np.arange(len(cell))
    laws = []
    for level, m, conc, pw in chain:
        idx = _level_index(structure, level.name)
        if keep_chain:
            level_cell = level.cell[idx][first]
            laws.append(LawLevel(level.name, m[:, idx], conc[:, level_cell], pw[:, level_cell]))
    c = chain[-1][1][:, structure.entry_level]
    evidence = np.zeros((B, n_cells, 3))
    evidence[:, :, 2] = 1.0
    zeros = np.zeros((B, 2))
    if structure.population:
        return Estimate(c, strengths, zeros, zeros, counts["game"], evidence, tuple(laws))
    parts = _parts(cell, structure.entry_outcome)
    side = (structure.states["who"] == "opponent").to_numpy().astype(np.int64)[structure.cell_state]
    pop_tot = _totals(counts["levels"][-1][:, structure.entry_level], cell, n_cells)
    hitter = counts["hitter"] if counts.get("hitter") is not None else counts["game"]
    receiver = counts["receiver"] if counts.get("receiver") is not None else np.zeros_like(hitter)
    c, r_w, r_l = _receiver_shift(receiver, c, parts, side)
    p1, s1, (d_w, d_l), conc1, pw1 = _shrink(hitter, c, parts, spec, pop_tot + 1.0, side)
    hit_tot = _totals(hitter, cell, n_cells)
    p2, s2, _, conc2, pw2 = _shrink(counts["game"], p1, parts, spec, hit_tot + 1.0, side)
    strengths.update({f"hitter {k}": v for k, v in s1.items()})
    strengths.update({f"pairing {k}": v for k, v in s2.items()})
    if keep_chain:
        laws += [LawLevel("hitter", p1, *_people_variance(conc1, pw1)),
                 LawLevel("pairing", p2, *_people_variance(conc2, pw2))]
    own2, own1 = 1.0 - pw2[:, :, 0], 1.0 - pw1[:, :, 0]          # the winners' part: the shares of own data
    evidence[:, :, 0] = own2
    evidence[:, :, 1] = (1.0 - own2) * own1
    evidence[:, :, 2] = (1.0 - own2) * (1.0 - own1)
    return Estimate(p2, strengths, d_w, d_l, counts["game"], evidence, tuple(laws), r_w, r_l)


def shift_laws(structure: GameStructure, probability: np.ndarray, delta: float) -> np.ndarray:
    """The laws with the player's winners shifted by +Δ and errors by −Δ on the logit scale, the opponent's the
    other way (:func:`strategist.rally.strength.level_shift`); where the rally goes is kept."""
    parts = _parts(structure.entry_cell, structure.entry_outcome)
    sign = np.where((structure.states["who"] == "player").to_numpy(), 1.0, -1.0)[structure.cell_state]
    out = _logit_shifted(np.atleast_2d(probability), parts, sign * delta, -sign * delta)
    return out.reshape(np.shape(probability))


def rally_record(st: Strokes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(winner, loser, match) codes of every rally whose last stroke's outcome is known."""
    last = st.frame[st.frame["outcome"] >= 0]
    won = last["outcome"].to_numpy() == WIN
    h, r = last["hitter"].to_numpy(), last["receiver"].to_numpy()
    return np.where(won, h, r), np.where(won, r, h), last["match"].to_numpy()


def ratings(st: Strokes):
    """The players' Bradley–Terry ratings from the strokes' rally record (:mod:`strategist.rally.strength`),
    the prior chosen by held-out matches; computed once per :class:`Strokes`."""
    if "ratings" not in st.cache:
        from strategist.rally.strength import choose_precision, fit_ratings

        winners, losers, matches = rally_record(st)
        people = len(st.names["person"])
        precision = choose_precision(winners, losers, matches, people)
        st.cache["ratings"] = fit_ratings(winners, losers, people, precision)
    return st.cache["ratings"]


def _level_index(structure: GameStructure, name: str) -> np.ndarray:
    """Game entry -> entry of all players' level ``name`` (following the parents up from the cell level)."""
    idx = structure.entry_level
    for level in reversed(structure.levels):
        if level.name == name:
            return idx
        idx = level.parent[idx]
    raise EstimationError(f"no level {name!r}")


def structure_counts(structure: GameStructure, weights: np.ndarray | None = None) -> dict:
    """The count arrays :func:`estimate` takes: totals over the units, or (B, ·) for B rows of unit
    ``weights`` (a bootstrap)."""

    def total(m):
        if m is None:
            return None
        if weights is None:
            return np.asarray(m.sum(axis=0)).ravel()
        return np.asarray((m.T @ weights.T).T)

    return {"game": total(structure.n), "hitter": total(structure.n_hitter), "receiver": total(structure.n_receiver),
            "levels": [total(level.counts) for level in structure.levels]}
