"""Opponent profile: how predictable the opponent was, their most exploitable patterns, and how they changed.

Model: the opponent model of the report's one Advisor (:meth:`strategist.report.match.MatchData.advisor`,
fitted on the data without this match) — the model whose predictions the decision review's advice used.
**Baseline**: the population's shot frequencies (every stroke of every player), add-½ smoothed over the
sport's vocabulary. Predictability is the mean log-loss (nats per stroke) of the opponent's shots in this
match under each; the gain is baseline − model, with a 95 % interval from resampling rallies.

Patterns: after the player's shot a, the opponent's reply b in this match: k of n times, against all players'
rate in the population, P_pop(b | a) = (n(a, b) + k₀·P₀(b)) / (n(a) + k₀) with k₀ = 10 pseudo-strokes at the
baseline; lift = (k / n) / P_pop(b | a). Listed when n ≥ 5 and k ≥ 3, ranked by the lift at the lower end of
the Jeffreys interval of k / n (so a pattern seen twice does not top the list).

Change: the opponent's shot mix (by the sport's tactic groups) per set — or per half when the match has
one set — tested for homogeneity by Pearson's χ² of the segment × group table, and per segment the log-loss
and how often the model's likeliest shot, and the population's commonest, was the one played.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import special

from strategist.report.match import MatchData
from strategist.scout.text import rally_words

K = 10.0
START = "start"
MIN_N, MIN_K = 5, 3
PATTERNS = 8
BOOT = 500


def _previous(frame: pd.DataFrame) -> pd.Series:
    """The previous shot of the same rally (``start`` for the first stroke; NA when not recorded)."""
    f = frame.sort_values(["rally_id", "stroke"], kind="stable")
    same = f["rally_id"].shift(1) == f["rally_id"]
    prev = f["shot"].astype("string").shift(1).where(same.fillna(False).astype(bool), START)
    return prev.reindex(frame.index)


class Reference:
    """The references the opponent is measured against (see the module docstring): the population's shot
    frequencies (``baseline``) and all players' replies after each shot (``population``)."""

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
        self.opponent_strokes = int((pop["hitter"] == opponent).sum())

    def log_loss(self, shot: pd.Series) -> np.ndarray:
        """Per stroke: −log P of the shot under the baseline."""
        return -np.log(self.baseline[shot.map(self.index).to_numpy(int)])


def _model_losses(md: MatchData, scorable: np.ndarray):
    """Per scored stroke: (−log P, top-1 hit) under the Advisor's opponent model and the model's label, or
    (None, None, why) when the Advisor cannot be built or its model fails on these strokes."""
    from strategist.errors import StrategistError
    from strategist.opponent.base import rally_frame

    try:
        advisor = md.advisor()
        model = advisor.model
        frame = rally_frame(md.strokes)
        probs = np.asarray(model.predict_table(frame), float)
    except StrategistError as exc:
        return None, None, (f"the Advisor's opponent model could not score this match ({exc}): predictability "
                            "not assessed")
    shots = list(model.vocabulary.shots)
    row = {(str(r), int(k)): i for i, (r, k) in enumerate(zip(frame["rally_id"], frame["stroke"]))}
    s = md.strokes[scorable]
    idx = np.array([row[(str(r), int(k))] for r, k in zip(s["rally_id"], s["stroke"])], int)
    target = np.array([shots.index(str(x)) for x in s["shot"]], int)
    p = np.clip(probs[idx, target], 1e-12, 1.0)
    label = (f"the Advisor's opponent model ({advisor.model_label}): the opponent's next shot given the "
             f"{rally_words(md.sport)[0]} so far, fitted without this match")
    return (-np.log(p), probs[idx].argmax(1) == target), label, None


def profile(md: MatchData, *, seed: int = 0) -> dict:
    """The opponent-profile section (numbers only)."""
    ref = Reference(md.population, md.opponent, md.sport.shots)
    s = md.strokes
    prev = _previous(s)
    theirs = (s["hitter"] == md.opponent).to_numpy(dtype=bool)
    scorable = theirs & s["shot"].isin(ref.shots).to_numpy(dtype=bool) & prev.isin(ref.prev_index).to_numpy(
        dtype=bool) & (s["shot"] != "unknown").fillna(False).to_numpy(dtype=bool)
    notes = []
    if md.in_sample:
        notes.append("the models were fitted on this match itself (no other data): predictability is flattered")
    unscored = int(theirs.sum() - scorable.sum())
    if unscored:
        notes.append(f"{unscored} of {int(theirs.sum())} opponent strokes have no recorded shot (or follow one) "
                     "and are not scored")
    if ref.opponent_strokes == 0:
        notes.append(f"{md.opponent} has no strokes outside this match: the model knows them as all players")
    losses, label, failure = _model_losses(md, scorable) if scorable.any() else (None, None, None)
    if failure:
        notes.append(failure)
    out = {"status": "not assessed", "notes": notes, "model": label or "the Advisor's opponent model",
           "opponent": md.opponent, "opponent_strokes_in_population": ref.opponent_strokes,
           "strokes_scored": int(scorable.sum())}
    out["patterns"] = _patterns(md, ref, prev)
    if scorable.sum() and not out["patterns"]:
        notes.append(f"no transition seen at least {MIN_N} times with a reply repeated {MIN_K} times: no pattern "
                     "to list")
    if losses is None:
        if not scorable.any():
            notes.append("no opponent stroke with a recorded shot: predictability could not be assessed")
        return {**out, "predictability": None, "change": _change(md, None, scorable)}
    base = ref.log_loss(s.loc[scorable, "shot"])
    model_loss, hits = losses
    targets = s.loc[scorable, "shot"].map(ref.index).to_numpy(int)
    rallies = s.loc[scorable, "rally_id"].to_numpy()
    gain_lo, gain_hi = _boot_gain(base - model_loss, rallies, seed)
    out["predictability"] = {
        "baseline_log_loss": float(base.mean()), "model_log_loss": float(model_loss.mean()),
        "gain": float(base.mean() - model_loss.mean()), "gain_lower": gain_lo, "gain_upper": gain_hi,
        "model_accuracy": float(np.mean(hits)),
        "baseline_accuracy": float(np.mean(ref.baseline.argmax() == targets)),
        "uniform_log_loss": float(np.log(len(ref.shots))),
    }
    scores = {"base": base, "markov": model_loss, "hits": np.asarray(hits, dtype=float),
              "base_hits": (ref.baseline.argmax() == targets).astype(float)}
    out["change"] = _change(md, scores, scorable)
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


def _patterns(md: MatchData, model: Reference, prev: pd.Series) -> list[dict]:
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
        lo, hi = special.betaincinv(k + 0.5, n - k + 0.5, [0.025, 0.975])
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


def _change(md: MatchData, scores: dict | None, scorable) -> dict:
    """The opponent's shot mix per segment and its homogeneity test; with ``scores`` (per scored stroke:
    ``base`` and ``markov`` log-losses, ``hits`` and ``base_hits`` whether the model's and the population's
    commonest shot was the one played), the log-losses and how often each guessed right, per segment."""
    s = md.strokes
    seg, kind = _segments(md)
    grouping = "tactic" if "tactic" in md.sport.groupings else None
    theirs = (s["hitter"] == md.opponent).to_numpy(dtype=bool)
    shots = s["shot"].astype("string")
    groups = md.sport.group(shots, grouping) if grouping else shots
    ok = theirs & groups.notna().to_numpy(dtype=bool)
    tab = pd.crosstab(seg[ok], groups[ok].astype(str)) if ok.any() else pd.DataFrame()
    segments = []
    loss = pd.DataFrame({"seg": seg[scorable], **scores}) if scores is not None else None
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
            row["model_accuracy"] = float(part["hits"].mean())
            row["baseline_accuracy"] = float(part["base_hits"].mean())
        segments.append(row)
    test = None
    notes = []
    if tab.shape[0] >= 2 and tab.shape[1] >= 2:
        chi2, df, p = independence_test(tab.to_numpy())
        test = {"chi2": float(chi2), "df": int(df), "p_value": float(p)}
    else:
        notes.append("the opponent's shot mix could not be compared across segments (one segment or one group)")
    return {"by": kind, "grouping": grouping or "shot", "segments": segments, "test": test, "notes": notes}


def independence_test(counts: np.ndarray) -> tuple[float, int, float]:
    """Pearson's χ² test that a contingency table's rows and columns are independent, without continuity
    correction: χ² = Σ (O − E)² / E with E = row total · column total / total, df = (r − 1)(c − 1).
    Returns (χ², df, p). Every row and column total must be positive."""
    counts = np.asarray(counts, dtype=float)
    expected = np.outer(counts.sum(axis=1), counts.sum(axis=0)) / counts.sum()
    chi2 = float(((counts - expected) ** 2 / expected).sum())
    df = (counts.shape[0] - 1) * (counts.shape[1] - 1)
    return chi2, int(df), float(special.chdtrc(df, chi2))
