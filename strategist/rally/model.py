"""The rally as a sequence of decisions: states, actions, outcomes, and their estimated probabilities.

**States.** A game state is who is to hit (``player`` or ``opponent``) and the stroke's decision state
(:func:`strategist.data.states.annotate_states`: phase, what the stroke faces, where it landed), e.g.
``"player: serve"`` or ``"opponent: rally after attack to back"``.

**Actions.** The hitter's action is the shot (``actions="shot"``) or its group (``"group"``,
``"group:<grouping>"``); the receiver's is where they stand when the shot is struck: the zone of
``opponent_area`` (``columns="zone"``: front, middle, back), the area itself (``"position"``) or nothing
recorded (``"none"``: one column). Only actions seen at least ``min_action_count`` times in the state
(the hitter's own strokes; all players' in the population game) may be recommended; the rarer ones stay
in the game, so that observed play is evaluated as it was played, but the equilibrium, the best response and
the safe exploitation never choose them.

**Outcomes.** After (a, b) the stroke ends the rally (the hitter wins it: a winner; or loses it: an
error) or the rally goes on to the next stroke's game state. Every stroke of the data is one sample of
that law; strokes whose action, receiver's position or outcome is unknown are left out and counted.

**Estimation** (Dirichlet–multinomial shrinkage, the multi-outcome form of
:mod:`strategist.estimation.shrinkage`). For a cell (state, a, b) with outcome counts ``n_k``:

1. all players' strokes in the same decision state with the same action give the action's outcome
   distribution ``m_k = (N_k(label, a) + 1/K) / (N(label, a) + 1)`` over the K outcomes seen there and the
   two endings (winning and losing the rally are always possible, seen or not);
2. all players' cell: ``c_k = (N_k(label, a, b) + t·m_k) / (N(label, a, b) + t)``;
3. the pair's cell: ``p_k = (n_k + s·c_k) / (n + s)``.

``t`` and ``s`` are chosen by empirical Bayes (maximum Dirichlet–multinomial marginal likelihood, as
``fit_strength`` does for two outcomes) and, like :func:`~strategist.estimation.shrinkage.shrink`, capped
cell by cell at the trials behind the cell's centre (+1), so an empty cell keeps its centre's uncertainty.
Outcomes are written relative to the hitter in the population (win, lose, next state hit by the same or the
other player) and mapped to the game's states for the pair; a next state outside the game (no usable
stroke of its hitter there) is left out of the support and its strokes counted in ``dropped``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse, special

from strategist.data.states import annotate_states
from strategist.errors import ConfigurationError, EstimationError
from strategist.estimation.shrinkage import STRENGTH_BOUNDS, fit_strength, parse_prior, posterior
from strategist.sports import get_sport

WHO = ("player", "opponent")
ACTION_KINDS = ("shot", "group")
COLUMN_KINDS = ("auto", "zone", "position", "none")
#: The single receiver's column when positions are not used.
ANY_POSITION = "any position"
#: Outcome codes of a stroke, relative to its hitter.
WIN, LOSE = 0, 1


@dataclass(frozen=True)
class RallySettings:
    """Everything that turns strokes into a rally game (kept so a bootstrap can redo it)."""

    player: str | None = None
    opponent: str | None = None
    actions: str = "shot"
    columns: str = "auto"
    states: str | None = None          # annotate_states' rally rule (None: the sport's)
    zones: bool = True
    min_action_count: int = 5
    prior: str = "marginal"
    level: float = 0.9


def state_name(who: int, label: str) -> str:
    return f"{WHO[who]}: {label}"


# ----------------------------------------------------------------------------------------------- strokes
@dataclass(frozen=True)
class Strokes:
    """One row per usable stroke: match, decision-state label, actions, outcome (relative to the hitter)."""

    frame: pd.DataFrame          # integer codes (see ``names``): match, rally, hitter, receiver, label, action,
    #                              column; outcome (WIN, LOSE or -1: goes on), next_label (-1: none), next_same
    dropped: dict
    sport: object
    rally_rule: str
    columns: str = "zone"          # the receiver's choice used ("auto" resolved)
    names: dict = field(default_factory=dict)   # code -> label of every coded column (label, action, ...)


def strokes(table: pd.DataFrame, settings: RallySettings, sport=None) -> Strokes:
    """Usable strokes of ``table`` with their decision states; what was left out is counted by reason."""
    needed = ["match_id", "rally_id", "stroke", "hitter", "opponent", "shot", "opponent_area", "hitter_won"]
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise EstimationError(f"the rally table lacks columns {missing}; expected a canonical table")
    if len(table) == 0:
        raise EstimationError("the rally table has no strokes")
    try:
        sport = get_sport(sport) if sport is not None else None
        if sport is None:
            sports = table["sport"].dropna().unique() if "sport" in table else []
            if len(sports) != 1:
                raise EstimationError(f"cannot tell the sport of the table (sports {sorted(map(str, sports))}); "
                                      "pass sport=")
            sport = get_sport(str(sports[0]))
    except ConfigurationError as exc:
        raise EstimationError(str(exc)) from None
    kind, _, grouping = settings.actions.partition(":")
    if kind not in ACTION_KINDS:
        raise EstimationError(f"actions {settings.actions!r}: expected 'shot' or 'group' (or 'group:<grouping>')")
    grouping = grouping or "tactic"
    if kind == "group" and grouping not in sport.groupings:
        raise EstimationError(f"actions {settings.actions!r}: {sport.name} has groupings {sorted(sport.groupings)}")
    if settings.columns not in COLUMN_KINDS:
        raise EstimationError(f"columns {settings.columns!r}: expected one of {list(COLUMN_KINDS)}")
    rule = settings.states or sport.decisions.rally
    ann = annotate_states(table, sport, rally=rule, zones=settings.zones)

    rally = ann["rally_id"].astype("string")
    nxt = (rally.shift(-1) == rally).fillna(False).to_numpy(bool)
    label_code, label_names = pd.factorize(ann["state"])
    hitter = ann["hitter"].astype("string")
    next_label = np.where(nxt, np.roll(label_code, -1), -1)
    next_same = nxt & (hitter.shift(-1) == hitter).fillna(False).to_numpy(bool)
    shot = ann["shot"].astype("string")
    shot = shot.where((shot != "unknown").fillna(False).astype(bool))
    action = shot if kind == "shot" else sport.group(shot, grouping)
    area = ann["opponent_area"].astype("string")
    columns = settings.columns
    if columns == "auto":
        # the receiver's zone where most strokes record it, else no receiver's choice
        zoned = area.map(dict(sport.decisions.zones)).notna().mean() if sport.decisions.zones else 0.0
        columns = "zone" if zoned >= 0.5 else "none"
    if columns == "zone":
        column = area.map(dict(sport.decisions.zones)).astype("string")
    elif columns == "position":
        column = area
    else:
        column = pd.Series(ANY_POSITION, index=ann.index, dtype="string")
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
    codes = {}
    names = {"label": np.asarray(label_names, dtype=object), "person": np.asarray(people, dtype=object)}
    for key, series in (("match", ann["match_id"]), ("rally", rally), ("action", action), ("column", column)):
        c, u = pd.factorize(series)
        codes[key] = c
        names[key] = np.asarray(u, dtype=object)
    first = pd.Series(np.arange(len(ann))).groupby(label_code).first().to_numpy()
    phase_names = ann["phase"].astype("string").to_numpy(dtype=object)[first]
    frame = pd.DataFrame({
        "match": codes["match"][good], "rally": codes["rally"][good],
        "hitter": people_code[:len(ann)][good], "receiver": people_code[len(ann):][good],
        "label": label_code[good], "action": codes["action"][good], "column": codes["column"][good],
        "outcome": outcome[good], "next_label": next_label[good], "next_same": next_same[good],
    })
    names["phase"] = np.asarray(phase_names, dtype=object)
    return Strokes(frame, dropped, sport, rule, columns, names)


# ----------------------------------------------------------------------------------------- the structure
@dataclass(frozen=True)
class GameStructure:
    """States, actions and the support of every cell's outcome law, with per-match counts for resampling.

    Cells are stored in the hitter's orientation (a = hitter's action, b = receiver's). ``entries`` has one
    row per (cell, outcome) of the support; outcome ``0`` = the hitter wins, ``1`` = the hitter loses,
    ``2 + g`` = the rally goes on in game state ``g``.
    """

    settings: RallySettings
    sport: object
    states: pd.DataFrame            # state, who, label, phase, visits
    rows: tuple                     # hitter's actions per state
    columns: tuple                  # receiver's actions per state
    cell_state: np.ndarray          # per cell: state, a, b
    cell_a: np.ndarray
    cell_b: np.ndarray
    entry_cell: np.ndarray          # per support entry: its cell and outcome
    entry_outcome: np.ndarray
    entry_kinds: np.ndarray         # number of outcomes in the support of the entry's (label, a)
    matches: tuple                  # resampling units: match ids, or rally ids (see ``cluster``)
    pair_matches: np.ndarray        # bool per unit: holds the game's strokes
    n: sparse.coo_matrix            # (units × entries) the game's counts
    n_ab: sparse.coo_matrix         # (units × entries) all players' (label, a, b) counts
    n_a: sparse.coo_matrix          # (units × entries) all players' (label, a) counts
    row_counts: sparse.coo_matrix   # (units × Σ rows) hitter's action counts per state
    column_counts: sparse.coo_matrix  # (units × Σ columns) receiver's position counts per state
    row_offsets: np.ndarray
    column_offsets: np.ndarray
    population: bool
    dropped: dict = field(default_factory=dict)
    flagged: tuple = ()             # (state, action, count) chosen too rarely by the hitter to be recommended
    trusted: tuple = ()             # per state: the hitter's actions the equilibrium may choose (bool array)
    strokes_used: int = 0
    rallies: int = 0
    cluster: str = "match"
    game_matches: int = 0

    @property
    def size(self) -> int:
        return len(self.states)

    @property
    def labels(self) -> tuple:
        return tuple(self.states["state"])


def build_structure(st: Strokes, settings: RallySettings) -> GameStructure:
    from dataclasses import replace

    settings = replace(settings, columns=st.columns)
    f = st.frame
    player, opponent = settings.player, settings.opponent
    population = player is None
    if population and opponent is not None:
        raise EstimationError("an opponent needs a player: pass player= as well (or neither for the population game)")
    if player is not None and opponent is not None and player == opponent:
        raise EstimationError(f"player and opponent are both {player!r}; expected two different players")
    people = list(st.names["person"])
    for who, name in (("player", player), ("opponent", opponent)):
        if name is not None and name not in people:
            import difflib
            close = difflib.get_close_matches(name, sorted(map(str, people)), n=3)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise EstimationError(f"{who} {name!r} hits no usable stroke in the data{hint}")

    label_names = st.names["label"]
    lab = f["label"].to_numpy(np.int64)
    nlab = f["next_label"].to_numpy(np.int64)
    act, act_names = f["action"].to_numpy(np.int64), st.names["action"]
    col, col_names = f["column"].to_numpy(np.int64), st.names["column"]
    match, match_names = f["match"].to_numpy(np.int64), st.names["match"]
    outcome = f["outcome"].to_numpy(np.int64)
    same = f["next_same"].to_numpy(bool)
    # relative outcome: 0 win, 1 lose, 2 + 2·label' + same
    rel = np.where(outcome >= 0, outcome, 2 + 2 * nlab + same.astype(np.int64))

    # which strokes are the game's, and whose
    if population:
        mine = np.ones(len(f), dtype=bool)
        who = np.zeros(len(f), dtype=np.int64)
    else:
        h, r = f["hitter"].to_numpy(), f["receiver"].to_numpy()
        pc = people.index(player)
        if opponent is None:
            mine = (h == pc) | (r == pc)
        else:
            oc = people.index(opponent)
            mine = ((h == pc) & (r == oc)) | ((h == oc) & (r == pc))
        if not mine.any():
            raise EstimationError(f"no usable stroke between {player!r} and "
                                  f"{opponent if opponent else 'any opponent'!r}")
        who = (h != pc).astype(np.int64)

    # game states: (who, label) with strokes of the game (the population game: both sides, same strokes)
    sides = (0, 1)
    frames = []
    for w in sides:
        sel = mine & ((who == w) if not population else True)
        frames.append(pd.DataFrame({"who": w, "label": lab[sel], "action": act[sel], "column": col[sel],
                                    "stroke": np.flatnonzero(sel)}))
    gs = pd.concat(frames, ignore_index=True)
    min_count = int(settings.min_action_count)
    if min_count < 1:
        raise EstimationError(f"min_action_count must be at least 1, got {min_count}")
    acount = gs.groupby(["who", "label", "action"]).size().rename("n").reset_index()
    # every action stays in the game (observed play is evaluated as it was played); those chosen fewer than
    # min_count times are never recommended (see ``trusted``)
    flagged = acount[acount["n"] < min_count]
    keep_actions = acount
    if keep_actions.empty:
        raise EstimationError("no usable stroke in the game")
    states = (keep_actions.groupby(["who", "label"])["n"].sum().rename("visits").reset_index()
              .sort_values(["who", "label"]).reset_index(drop=True))
    # order: serve, return, rally; within phase most visited first
    phase_rank = {"serve": 0, "return": 1, "rally": 2}
    states["phase"] = st.names["phase"][states["label"].to_numpy()]
    states["_p"] = states["phase"].map(phase_rank).fillna(3)
    states = states.sort_values(["_p", "who", "visits"], ascending=[True, True, False]).drop(columns="_p")
    states = states.reset_index(drop=True)
    states["state"] = [state_name(w, label_names[l]) for w, l in zip(states["who"], states["label"])]
    states["decision_state"] = [label_names[l] for l in states["label"]]
    g_index = np.full((2, len(label_names) + 1), -1, dtype=np.int64)   # [who, label] -> state; label -1 -> -1
    g_index[states["who"].to_numpy(), states["label"].to_numpy()] = np.arange(len(states))

    # actions per state, in the sport's order
    sport = st.sport
    shot_order = {s: k for k, s in enumerate(sport.shots)}
    kind, _, grouping = settings.actions.partition(":")
    if kind == "group":
        shot_order = {g: k for k, g in enumerate(sport.groups(grouping or "tactic"))}
    zone_order = {"front": 0, "middle": 1, "back": 2}

    def natural(x):
        return (0, int(x), "") if str(x).isdigit() else (1, zone_order.get(x, 9), str(x))

    rows, columns = [], []
    keep_set = set(zip(keep_actions["who"], keep_actions["label"], keep_actions["action"]))
    for w, l in zip(states["who"], states["label"]):
        acts = [a for a in range(len(act_names)) if (w, l, a) in keep_set]
        acts.sort(key=lambda a: (shot_order.get(act_names[a], 99), act_names[a]))
        rows.append(tuple(acts))
    ccount = gs.groupby(["who", "label", "column"]).size().rename("n").reset_index()
    col_set = {}
    for w, l, c in zip(ccount["who"], ccount["label"], ccount["column"]):
        col_set.setdefault((w, l), []).append(c)
    for w, l in zip(states["who"], states["label"]):
        cs = sorted(col_set[(w, l)], key=lambda c: natural(col_names[c]))
        columns.append(tuple(cs))

    # cells
    cs_, ca_, cb_ = [], [], []
    for g, (ra, cb) in enumerate(zip(rows, columns)):
        for a in ra:
            for b in cb:
                cs_.append(g)
                ca_.append(a)
                cb_.append(b)
    cell_state, cell_a, cell_b = (np.array(x, dtype=np.int64) for x in (cs_, ca_, cb_))
    cells = pd.DataFrame({"cell": np.arange(len(cell_state)), "g": cell_state, "a": cell_a, "b": cell_b,
                          "who": states["who"].to_numpy()[cell_state], "label": states["label"].to_numpy()[cell_state]})

    # support: relative outcomes of all players' strokes at (label, a), mapped to the game's outcomes
    pop_a = pd.DataFrame({"label": lab, "a": act, "rel": rel}).groupby(["label", "a", "rel"]).size()
    pop_a = pop_a.rename("N").reset_index()
    # a stroke can always end the rally either way, observed or not: win and lose are in every support
    ends = pop_a[["label", "a"]].drop_duplicates()
    pop_a = pd.concat([pop_a[["label", "a", "rel"]], ends.assign(rel=WIN), ends.assign(rel=LOSE)])
    pop_a = pop_a.drop_duplicates().reset_index(drop=True)
    sup = cells.merge(pop_a[["label", "a", "rel"]], on=["label", "a"], how="inner")
    r = sup["rel"].to_numpy()
    nl = np.where(r >= 2, (r - 2) // 2, -1)
    sm = np.where(r >= 2, (r - 2) % 2, 0)
    # the next hitter is the other side unless the same player hits again (a second serve)
    nwho = np.where(sm == 1, sup["who"].to_numpy(), 1 - sup["who"].to_numpy())
    target = g_index[nwho, nl]
    absolute = np.where(r < 2, r, 2 + target)
    ok = (r < 2) | (target >= 0)
    sup = sup.assign(out=absolute)[ok].reset_index(drop=True)
    sup = sup.sort_values(["cell", "out"]).reset_index(drop=True)
    kinds = sup.groupby(["cell"])["out"].transform("size").to_numpy()
    entry_cell = sup["cell"].to_numpy(np.int64)
    entry_out = sup["out"].to_numpy(np.int64)

    # per-stroke keys -> entries (sparse per-unit counts; units are matches, or rallies when the game's
    # strokes come from fewer than two matches: a one-match bootstrap cannot vary)
    cluster = "match"
    if len(np.unique(match[mine])) < 2:
        cluster = "rally"
        match, match_names = f["rally"].to_numpy(np.int64), st.names["rally"]
    n_matches = len(match_names)
    E = len(sup)

    def to_matrix(stroke_idx, entry_idx):
        data = np.ones(len(stroke_idx))
        return sparse.coo_matrix((data, (match[stroke_idx], entry_idx)), shape=(n_matches, E))

    # pair counts: stroke (g, a, b, out)
    if population:
        pair_n = None
    else:
        g_stroke = g_index[who, lab]
        st_target = g_index[np.where(same, who, 1 - who), nlab]
        st_out = np.where(outcome >= 0, outcome, 2 + st_target)
        valid = mine & (g_stroke >= 0) & ((outcome >= 0) | (st_target >= 0))
        key_cells = pd.DataFrame({"cell": cells["cell"], "g": cells["g"], "a": cells["a"], "b": cells["b"]})
        sk = pd.DataFrame({"s": np.arange(len(f))[valid], "g": g_stroke[valid], "a": act[valid], "b": col[valid],
                           "out": st_out[valid]})
        sk = sk.merge(key_cells, on=["g", "a", "b"], how="inner")
        ek = pd.DataFrame({"e": np.arange(E), "cell": entry_cell, "out": entry_out})
        sk = sk.merge(ek, on=["cell", "out"], how="inner")
        pair_n = to_matrix(sk["s"].to_numpy(), sk["e"].to_numpy())
    # all players' (label, a, b, rel) and (label, a, rel)
    ent = pd.DataFrame({"e": np.arange(E), "label": sup["label"], "a": sup["a"], "b": sup["b"], "rel": sup["rel"]})
    pk = pd.DataFrame({"s": np.arange(len(f)), "label": lab, "a": act, "b": col, "rel": rel})
    m_ab = pk.merge(ent, on=["label", "a", "b", "rel"], how="inner")
    n_ab = to_matrix(m_ab["s"].to_numpy(), m_ab["e"].to_numpy())
    m_a = pk.merge(ent.drop(columns="b"), on=["label", "a", "rel"], how="inner")
    n_a = to_matrix(m_a["s"].to_numpy(), m_a["e"].to_numpy())
    if population:
        pair_n = n_ab

    # observed frequencies: hitter's actions and receiver's positions per state
    row_offsets = np.r_[0, np.cumsum([len(x) for x in rows])]
    col_offsets = np.r_[0, np.cumsum([len(x) for x in columns])]
    rpos = np.full((len(states) + 1, len(act_names)), -1, dtype=np.int64)
    cpos = np.full((len(states) + 1, len(col_names)), -1, dtype=np.int64)
    for g, (ra, cb) in enumerate(zip(rows, columns)):
        rpos[g, list(ra)] = row_offsets[g] + np.arange(len(ra))
        cpos[g, list(cb)] = col_offsets[g] + np.arange(len(cb))
    gsg = g_index[gs["who"].to_numpy(), gs["label"].to_numpy()]
    ri, ci = rpos[gsg, gs["action"].to_numpy()], cpos[gsg, gs["column"].to_numpy()]
    gm = match[gs["stroke"].to_numpy()]
    okr, okc = ri >= 0, ci >= 0
    row_counts = sparse.coo_matrix((np.ones(okr.sum()), (gm[okr], ri[okr])), shape=(n_matches, row_offsets[-1]))
    column_counts = sparse.coo_matrix((np.ones(okc.sum()), (gm[okc], ci[okc])), shape=(n_matches, col_offsets[-1]))

    pair_matches = np.zeros(n_matches, dtype=bool)
    pair_matches[np.unique(match[mine])] = True
    dropped = dict(st.dropped)
    if not population:
        lost = int((mine & (outcome < 0) & (st_target < 0)).sum())
        if lost:
            dropped["the next stroke's state is not in the game (its hitter has no usable stroke there)"] = lost
    visits_used = int(gs.shape[0] / (2 if population else 1))
    flagged_out = tuple((state_name(int(w), label_names[l]), act_names[a], int(n))
                        for w, l, a, n in zip(flagged["who"], flagged["label"], flagged["action"], flagged["n"]))
    counts = {(int(w), int(l), int(a)): int(n) for w, l, a, n in
              zip(acount["who"], acount["label"], acount["action"], acount["n"])}
    trusted = tuple(np.array([counts.get((int(w), int(l), a), 0) >= min_count for a in ra], dtype=bool)
                    for w, l, ra in zip(states["who"], states["label"], rows))
    return GameStructure(
        settings=settings, sport=sport,
        states=states[["state", "who", "decision_state", "phase", "visits"]].assign(
            who=lambda d: d["who"].map(dict(enumerate(WHO)))),
        rows=tuple(tuple(act_names[a] for a in ra) for ra in rows),
        columns=tuple(tuple(col_names[c] for c in cb) for cb in columns),
        cell_state=cell_state, cell_a=np.array([rows[g].index(a) for g, a in zip(cell_state, cell_a)], dtype=np.int64),
        cell_b=np.array([columns[g].index(b) for g, b in zip(cell_state, cell_b)], dtype=np.int64),
        entry_cell=entry_cell, entry_outcome=entry_out, entry_kinds=kinds,
        matches=tuple(match_names), pair_matches=pair_matches, n=pair_n, n_ab=n_ab, n_a=n_a, row_counts=row_counts, column_counts=column_counts, row_offsets=row_offsets,
        column_offsets=col_offsets, population=population, dropped=dropped, flagged=flagged_out, trusted=trusted,
        strokes_used=visits_used, rallies=len(np.unique(f["rally"].to_numpy()[mine])),
        cluster=cluster, game_matches=len(np.unique(f["match"].to_numpy()[mine])))


# ---------------------------------------------------------------------------------- Dirichlet shrinkage
def _dm_loglik(log_s, counts, center, cell, n_cells, cell_total):
    """Dirichlet–multinomial log marginal likelihood per replicate (constants dropped).

    ``counts``, ``center``: (B, E); ``log_s``: (B,); ``cell``: (E,) cell of every entry."""
    s = np.exp(log_s)[:, None]
    a = s * center
    per_entry = np.where(counts > 0, special.gammaln(counts + a) - special.gammaln(a), 0.0).sum(axis=1)
    per_cell = np.where(cell_total > 0, special.gammaln(s) - special.gammaln(cell_total + s), 0.0).sum(axis=1)
    return per_entry + per_cell


def fit_dirichlet_strength(counts, center, cell, n_cells) -> np.ndarray:
    """Empirical-Bayes strength ``s`` (prior pseudo-trials) of a Dirichlet prior ``Dir(s·c)`` on every
    cell's outcome law, maximising the Dirichlet–multinomial marginal likelihood (grid, then golden
    section, as :func:`strategist.estimation.shrinkage.fit_strength`). ``counts``/``center``: (B, E) or (E,)."""
    counts = np.atleast_2d(np.asarray(counts, dtype=float))
    center = np.broadcast_to(np.asarray(center, dtype=float), counts.shape)
    cell = np.asarray(cell, dtype=np.int64)
    cell_total = np.stack([np.bincount(cell, weights=c, minlength=n_cells) for c in counts])
    lo, hi = np.log(STRENGTH_BOUNDS[0]), np.log(STRENGTH_BOUNDS[1])
    grid = np.linspace(lo, hi, 41)
    ll = np.stack([_dm_loglik(np.full(len(counts), x), counts, center, cell, n_cells, cell_total) for x in grid], 1)
    best = ll.argmax(axis=1)
    left, right = grid[np.maximum(best - 1, 0)], grid[np.minimum(best + 1, grid.size - 1)]
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    x1, x2 = right - ratio * (right - left), left + ratio * (right - left)
    f1 = _dm_loglik(x1, counts, center, cell, n_cells, cell_total)
    f2 = _dm_loglik(x2, counts, center, cell, n_cells, cell_total)
    for _ in range(24):
        move = f1 < f2
        left = np.where(move, x1, left)
        right = np.where(move, right, x2)
        x1n = np.where(move, x2, right - ratio * (right - left))
        x2n = np.where(move, left + ratio * (right - left), x1)
        fn = _dm_loglik(np.where(move, x2n, x1n), counts, center, cell, n_cells, cell_total)
        f1, f2 = np.where(move, f2, fn), np.where(move, fn, f1)
        x1, x2 = x1n, x2n
    return np.clip(np.exp((left + right) / 2.0), *STRENGTH_BOUNDS)


@dataclass(frozen=True)
class Estimate:
    """Posterior-mean outcome laws of every cell (B replicates, or B = 1), with the strengths used."""

    probability: np.ndarray          # (B, E)
    population_strength: np.ndarray  # (B,)  t
    win_strength: np.ndarray         # (B,)  s_W (NaN for the population game)
    lose_strength: np.ndarray        # (B,)  s_L
    move_strength: np.ndarray        # (B,)  s_C
    win_offset: np.ndarray           # (B, 2) δ_W per side (player hits, opponent hits)
    lose_offset: np.ndarray          # (B, 2) δ_L
    counts: np.ndarray               # (B, E) pair counts

    @property
    def pair_strength(self) -> np.ndarray:
        return self.win_strength


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


def estimate(structure: GameStructure, n, n_ab, n_a, *, prior=None) -> Estimate:
    """Outcome laws from the three count arrays (each (B, E) or (E,)).

    All players' laws ``c`` (levels 1–2 of the module docstring) come first. The pair's law of a cell is
    then estimated in three conditional parts, each shrunk toward the same part of ``c``:

    * W = P(the hitter wins at this stroke): Beta–binomial (:mod:`strategist.estimation.shrinkage`:
      ``fit_strength`` and ``posterior``)
      toward ``c_win`` shifted on the logit scale by δ_W — the hitter side's overall edge over all players
      in winners, fitted by maximum likelihood from all the side's cells (one number per side);
    * L = P(the hitter loses | not a winner): likewise, toward ``c_lose / (1 − c_win)`` shifted by δ_L;
    * C = P(next state | the rally goes on): Dirichlet–multinomial toward ``c``'s continuation law.

    Without the shifts a player's edge, spread thin over hundreds of cells, would be pooled away cell by
    cell (every cell shrinks toward all players' rate); with them the cells shrink toward the population's
    pattern at the player's own level. Each part's strength is fitted by empirical Bayes and capped cell by
    cell at the trials behind the centre (+1).
    """
    spec = parse_prior(structure.settings.prior if prior is None else prior)
    cell = structure.entry_cell
    n_cells = len(structure.cell_state)
    K = structure.entry_kinds

    def totals(x):
        return np.stack([np.bincount(cell, weights=row, minlength=n_cells) for row in x])

    n, n_ab, n_a = (np.atleast_2d(np.asarray(x, dtype=float)) for x in (n, n_ab, n_a))
    B = len(n)
    na_tot = totals(n_a)
    m = (n_a + 1.0 / K) / (na_tot[:, cell] + 1.0)
    if spec.method == "given":
        t = np.full(B, spec.strength)
    else:
        t = fit_dirichlet_strength(n_ab, m, cell, n_cells)
    tc = np.minimum(t[:, None], na_tot[:, cell] + 1.0)
    nab_tot = totals(n_ab)
    c = (n_ab + tc * m) / (nab_tot[:, cell] + tc)
    nan = np.full(B, np.nan)
    if structure.population:
        return Estimate(c, t, nan, nan, nan, np.zeros((B, 2)), np.zeros((B, 2)), n)

    out = structure.entry_outcome
    win_e = np.full(n_cells, -1)
    lose_e = np.full(n_cells, -1)
    win_e[cell[out == WIN]] = np.flatnonzero(out == WIN)
    lose_e[cell[out == LOSE]] = np.flatnonzero(out == LOSE)
    side = (structure.states["who"] == "opponent").to_numpy().astype(np.int64)[structure.cell_state]
    cap = (nab_tot + 1.0)[:, None, :]
    total = totals(n)
    wins, losses = n[:, win_e], n[:, lose_e]

    def part(hits, trials, center):
        delta = logit_offset(hits, trials, center, side)
        target = special.expit(special.logit(np.clip(center, 1e-9, 1 - 1e-9)) + delta[:, side])
        target = np.clip(target, 1e-9, 1 - 1e-9)
        used = (trials > 0).any(axis=0)        # cells without data add nothing to the likelihood
        if spec.method == "given":
            s = np.full(B, spec.strength)
        elif not used.any():
            s = np.full(B, STRENGTH_BOUNDS[1])
        else:
            s = np.atleast_1d(fit_strength(hits[:, None, used], trials[:, None, used], target[:, None, used],
                                           spec.method)).astype(float)
        cell_s = np.minimum(s[:, None], cap[:, 0, :])
        post = posterior(hits[:, None, :], trials[:, None, :], target[:, None, :], cell_s[:, None, :],
                         intervals=False)
        return post.mean[:, 0, :], s, delta

    c_win, c_lose = c[:, win_e], c[:, lose_e]
    w_hat, s_w, d_w = part(wins, total, c_win)
    l_hat, s_l, d_l = part(losses, total - wins, c_lose / (1.0 - c_win))
    moves = out >= 2
    c_move = c[:, moves] / (1.0 - c_win - c_lose)[:, cell[moves]]
    n_move = n[:, moves]
    move_cell = cell[moves]
    if spec.method == "given":
        s_c = np.full(B, spec.strength)
    else:
        live = (total > 0).any(axis=0)[move_cell]
        s_c = fit_dirichlet_strength(n_move[:, live], c_move[:, live], move_cell[live], n_cells)
    move_tot = total - wins - losses
    sc = np.minimum(s_c[:, None], (nab_tot + 1.0)[:, move_cell])
    c_hat = (n_move + sc * c_move) / (move_tot[:, move_cell] + sc)
    p = np.empty_like(c)
    p[:, win_e] = w_hat
    p[:, lose_e] = (1.0 - w_hat) * l_hat
    p[:, moves] = ((1.0 - w_hat) * (1.0 - l_hat))[:, move_cell] * c_hat
    return Estimate(p, t, s_w, s_l, s_c, d_w, d_l, n)
