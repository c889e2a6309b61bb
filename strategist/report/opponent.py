"""Opponent profile: how predictable the opponent was, their most exploitable patterns, and how they changed.

Models (fitted on the population: the data without this match). The opponent model is
``strategist.opponent``'s Markov model (``fit_model("markov")``) when that package is installed, else the
report's own Markov-1 below, and the report says which. **Baseline**: the population's shot
frequencies (every stroke of every player), add-½ smoothed over the sport's vocabulary. **Markov-1**: the
opponent's next shot given the previous shot of the rally (the player's; ``start`` before the serve),
from the opponent's own strokes, backed off to all players' transitions and those to the baseline:
P(b | a) = (n_opp(a, b) + k·P_pop(b | a)) / (n_opp(a) + k), P_pop(b | a) = (n(a, b) + k·P₀(b)) / (n(a) + k),
k = 10 pseudo-strokes. Predictability is the mean log-loss (nats per stroke) of the opponent's shots in
this match under each model; the gain is baseline − Markov, with a 95 % interval from resampling rallies.

Patterns: after the player's shot a, the opponent's reply b in this match: k of n times, against the
population's P_pop(b | a); lift = (k / n) / P_pop(b | a). Listed when n ≥ 5 and k ≥ 3, ranked by the lift
at the lower end of the Jeffreys interval of k / n (so a pattern seen twice does not top the list).

Change: the opponent's shot mix (by the sport's tactic groups) per set — or per half when the match has
one set — tested for homogeneity by Pearson's χ² of the segment × group table, and the log-loss per
segment.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from strategist.report.match import MatchData

K = 10.0
START = "start"
MIN_N, MIN_K = 5, 3
PATTERNS = 8
BOOT = 500
MODEL_LABEL = ("stand-in for strategist.opponent (not installed): the report's own Markov-1 model, the opponent's "
               "next shot given the previous shot, backed off to all players")


def _previous(frame: pd.DataFrame) -> pd.Series:
    """The previous shot of the same rally (``start`` for the first stroke; NA when not recorded)."""
    f = frame.sort_values(["rally_id", "stroke"], kind="stable")
    same = f["rally_id"].shift(1) == f["rally_id"]
    prev = f["shot"].astype("string").shift(1).where(same.fillna(False).astype(bool), START)
    return prev.reindex(frame.index)


class Markov1:
    """The report's own baseline and Markov-1 models of one opponent (see the module docstring)."""

    def __init__(self, population: pd.DataFrame, opponent: str, shots: tuple[str, ...]):
        self.shots = tuple(shots)
        self.index = {s: i for i, s in enumerate(self.shots)}
        self.prev_index = {s: i for i, s in enumerate(self.shots + (START,))}
        pop = population[population["shot"].notna()]
        prev = _previous(pop)
        ok = prev.notna().to_numpy(dtype=bool) & pop["shot"].isin(self.shots).to_numpy(dtype=bool)
        ok &= prev.isin(self.prev_index).to_numpy(dtype=bool)
        a = prev[ok].map(self.prev_index).to_numpy(int)
        b = pop.loc[ok, "shot"].map(self.index).to_numpy(int)
        m, n = len(self.prev_index), len(self.shots)
        base = np.bincount(pop["shot"][pop["shot"].isin(self.shots)].map(self.index).to_numpy(int), minlength=n)
        self.baseline = (base + 0.5) / (base.sum() + 0.5 * n)
        pair = np.bincount(a * n + b, minlength=m * n).reshape(m, n).astype(float)
        self.population = (pair + K * self.baseline) / (pair.sum(1, keepdims=True) + K)
        mine = (pop.loc[ok, "hitter"] == opponent).to_numpy(dtype=bool)
        own = np.bincount(a[mine] * n + b[mine], minlength=m * n).reshape(m, n).astype(float)
        self.opponent_strokes = int(mine.sum())
        self.table = (own + K * self.population) / (own.sum(1, keepdims=True) + K)

    def log_losses(self, prev: pd.Series, shot: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """Per stroke: −log P of the shot under the baseline and under the Markov-1 model."""
        a = prev.map(self.prev_index).to_numpy(int)
        b = shot.map(self.index).to_numpy(int)
        return -np.log(self.baseline[b]), -np.log(self.table[a, b])


PACKAGE_LABEL = ("strategist.opponent Markov model (fit_model('markov')): the opponent's next shot given the "
                 "rally so far, fitted without this match")


def _package_losses(md: MatchData, scorable: np.ndarray):
    """Per scored stroke: (−log P, top-1 hit) under ``strategist.opponent``'s Markov model, or None when the
    package is not installed; (None, note) when it fails on these data."""
    try:
        from strategist.opponent.base import rally_frame
    except ImportError:
        return None, None
    from strategist.errors import StrategistError

    try:
        model = md.opponent_model()
        if model is None:
            return None, None
        frame = rally_frame(md.strokes)
        probs = np.asarray(model.predict_table(frame), float)
    except StrategistError as exc:
        return None, f"the opponent package failed on these data ({exc}); the report's own Markov-1 stands in"
    shots = list(model.vocabulary.shots)
    row = {(str(r), int(k)): i for i, (r, k) in enumerate(zip(frame["rally_id"], frame["stroke"]))}
    s = md.strokes[scorable]
    idx = np.array([row[(str(r), int(k))] for r, k in zip(s["rally_id"], s["stroke"])], int)
    target = np.array([shots.index(str(x)) for x in s["shot"]], int)
    p = np.clip(probs[idx, target], 1e-12, 1.0)
    return (-np.log(p), probs[idx].argmax(1) == target), None


def profile(md: MatchData, *, seed: int = 0) -> dict:
    """The opponent-profile section (numbers only)."""
    model = Markov1(md.population, md.opponent, md.sport.shots)
    s = md.strokes
    prev = _previous(s)
    theirs = (s["hitter"] == md.opponent).to_numpy(dtype=bool)
    scorable = theirs & s["shot"].isin(model.shots).to_numpy(dtype=bool) & prev.isin(model.prev_index).to_numpy(
        dtype=bool) & (s["shot"] != "unknown").fillna(False).to_numpy(dtype=bool)
    notes = []
    if md.in_sample:
        notes.append("the models were fitted on this match itself (no other data): predictability is flattered")
    unscored = int(theirs.sum() - scorable.sum())
    if unscored:
        notes.append(f"{unscored} of {int(theirs.sum())} opponent strokes have no recorded shot (or follow one) "
                     "and are not scored")
    if model.opponent_strokes == 0:
        notes.append(f"{md.opponent} has no strokes outside this match: the Markov model is all players'")
    package, failure = _package_losses(md, scorable) if scorable.any() else (None, None)
    if failure:
        notes.append(failure)
    label, source = (PACKAGE_LABEL, "package") if package is not None else (MODEL_LABEL, "own")
    out = {"status": "not assessed", "notes": notes, "model": label, "model_source": source,
           "opponent": md.opponent,
           "opponent_strokes_in_population": model.opponent_strokes, "strokes_scored": int(scorable.sum())}
    if scorable.sum() == 0:
        notes.append("no opponent stroke with a recorded shot: predictability could not be assessed")
        return {**out, "predictability": None, "patterns": [], "change": _change(md, None, None, scorable, prev)}
    base, markov = model.log_losses(prev[scorable], s.loc[scorable, "shot"])
    targets = s.loc[scorable, "shot"].map(model.index).to_numpy(int)
    if package is not None:
        markov, hits = package
    else:
        hits = model.table[prev[scorable].map(model.prev_index).to_numpy(int)].argmax(1) == targets
    rallies = s.loc[scorable, "rally_id"].to_numpy()
    gain_lo, gain_hi = _boot_gain(base - markov, rallies, seed)
    out["predictability"] = {
        "baseline_log_loss": float(base.mean()), "model_log_loss": float(markov.mean()),
        "gain": float(base.mean() - markov.mean()), "gain_lower": gain_lo, "gain_upper": gain_hi,
        "model_accuracy": float(np.mean(hits)),
        "baseline_accuracy": float(np.mean(model.baseline.argmax() == targets)),
        "uniform_log_loss": float(np.log(len(model.shots))),
    }
    out["patterns"] = _patterns(md, model, prev)
    if not out["patterns"]:
        notes.append(f"no transition seen at least {MIN_N} times with a reply repeated {MIN_K} times: no pattern "
                     "to list")
    out["change"] = _change(md, base, markov, scorable, prev)
    out["status"] = "assessed"
    return out


def _boot_gain(gain: np.ndarray, rallies: np.ndarray, seed: int) -> tuple[float, float]:
    codes, uniq = pd.factorize(rallies)
    if len(uniq) < 2:
        return float("nan"), float("nan")
    sums = np.bincount(codes, weights=gain)
    counts = np.bincount(codes).astype(float)
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(uniq), size=(BOOT, len(uniq)))
    means = sums[pick].sum(1) / counts[pick].sum(1)
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def _patterns(md: MatchData, model: Markov1, prev: pd.Series) -> list[dict]:
    s = md.strokes
    theirs = (s["hitter"] == md.opponent) & s["shot"].isin(model.shots) & prev.isin(model.shots)
    theirs &= (prev != "unknown") & (s["shot"] != "unknown")
    # the previous stroke must be the player's (a reply to the player's shot)
    f = s.sort_values(["rally_id", "stroke"], kind="stable")
    prev_hitter = f["hitter"].shift(1).where(f["rally_id"].shift(1) == f["rally_id"]).reindex(s.index)
    theirs &= (prev_hitter == md.player).fillna(False)
    theirs = theirs.fillna(False).to_numpy(dtype=bool)
    pairs = pd.DataFrame({"a": prev[theirs].astype(str).to_numpy(), "b": s.loc[theirs, "shot"].astype(str).to_numpy()})
    if pairs.empty:
        return []
    n_a = pairs["a"].value_counts()
    k_ab = pairs.value_counts(["a", "b"])
    out = []
    for (a, b), k in k_ab.items():
        n = int(n_a[a])
        if n < MIN_N or k < MIN_K:
            continue
        p0 = float(model.population[model.prev_index[a], model.index[b]])
        lo, hi = stats.beta.ppf([0.025, 0.975], k + 0.5, n - k + 0.5)
        out.append({"after": a, "reply": b, "count": int(k), "of": n, "rate": k / n, "rate_lower": float(lo),
                    "rate_upper": float(hi), "population_rate": p0, "lift": (k / n) / p0,
                    "lift_lower": float(lo) / p0})
    out.sort(key=lambda d: (-d["lift_lower"], -d["count"]))
    return out[:PATTERNS]


def _segments(md: MatchData) -> tuple[pd.Series, str]:
    s = md.strokes
    sets = s["set"].astype(int)
    if sets.nunique() > 1:
        return sets.map(lambda k: f"set {k}"), "set"
    order = pd.factorize(s["rally_id"])[0]
    half = order >= (order.max() + 1) / 2
    return pd.Series(np.where(half, "second half", "first half"), index=s.index), "half"


def _change(md: MatchData, base, markov, scorable, prev) -> dict:
    s = md.strokes
    seg, kind = _segments(md)
    grouping = "tactic" if "tactic" in md.sport.groupings else None
    theirs = (s["hitter"] == md.opponent).to_numpy(dtype=bool)
    shots = s["shot"].astype("string")
    groups = md.sport.group(shots, grouping) if grouping else shots
    ok = theirs & groups.notna().to_numpy(dtype=bool)
    tab = pd.crosstab(seg[ok], groups[ok].astype(str)) if ok.any() else pd.DataFrame()
    segments = []
    loss = pd.DataFrame({"seg": seg[scorable], "base": base, "markov": markov}) if base is not None else None
    for name in pd.unique(seg):
        row = {"segment": str(name), "strokes": int((theirs & (seg == name).to_numpy()).sum())}
        if name in tab.index:
            total = tab.loc[name].sum()
            row["mix"] = {str(g): float(tab.loc[name, g] / total) for g in tab.columns}
            row["counts"] = {str(g): int(tab.loc[name, g]) for g in tab.columns}
        if loss is not None and (loss["seg"] == name).any():
            part = loss[loss["seg"] == name]
            row["baseline_log_loss"] = float(part["base"].mean())
            row["model_log_loss"] = float(part["markov"].mean())
        segments.append(row)
    test = None
    notes = []
    if tab.shape[0] >= 2 and tab.shape[1] >= 2:
        chi2, p, df, _ = stats.chi2_contingency(tab.to_numpy(), correction=False)
        test = {"chi2": float(chi2), "df": int(df), "p_value": float(p)}
    else:
        notes.append("the opponent's shot mix could not be compared across segments (one segment or one group)")
    return {"by": kind, "grouping": grouping or "shot", "segments": segments, "test": test, "notes": notes}
