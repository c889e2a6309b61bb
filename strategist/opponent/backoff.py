"""Counting models with interpolated smoothing: from coarse to fine contexts, and from population to player.

A model defines, for each stroke, a list of context keys from coarse to fine (level 0 is always ``()``,
the unigram). With counts ``n`` of the next shot at each level (population ``pop``, one player ``pl``):

    pop_0 = (n_pop[()] + 1/2) / (N + K/2)
    pop_l = (n_pop[key_l] + β · pop_(l-1)) / (N_pop[key_l] + β)
    pl_0  = (n_pl[()] + β_p · pop_0) / (N_pl[()] + β_p)
    pl_l  = (n_pl[key_l] + β_p · (m · pop_l + (1 - m) · pl_(l-1))) / (N_pl[key_l] + β_p)

The prediction for a player the model has counts of is ``pl_L``; for any other player ``pop_L`` (the
population, flagged ``source="population"``). ``β``, ``β_p`` and ``m`` are the constructor's, or chosen on
validation matches by :meth:`BackoffModel.fit` with ``tune=True`` (the values used are ``beta_``,
``beta_player_`` and ``mix_``; the constructor's are left as given). In-match adaptation adds the completed
rallies' counts to the player's, weighted by ``adapt_weight`` (:meth:`BackoffModel.update`; :meth:`reset`
forgets them). A prediction's ``n`` is the count of strokes behind its finest level: the player's (with the
match's, weighted) in that context, or the population's for a player the model does not know.

Predictions go through plain dicts and small numpy vectors (no pandas), cached per (player, context).
"""

from __future__ import annotations

import itertools
from abc import abstractmethod

import numpy as np
import pandas as pd

from strategist.opponent.base import Context, History, OpponentModel, PredictionCache, positions_in_rally
from strategist.opponent.split import held_out_matches, rank_matches

#: Grid searched by ``fit(tune=True)``.
TUNE_GRID = {"beta": (1.0, 4.0, 16.0), "beta_player": (4.0, 16.0, 64.0, 256.0), "mix": (0.5, 0.8, 1.0)}


class BackoffModel(OpponentModel):
    """Counts at levels of context from coarse to fine, population and per player (see module docstring)."""

    levels = 1

    def __init__(self, sport="badminton", *, beta: float = 4.0, beta_player: float = 8.0, mix: float = 0.5,
                 adapt_weight: float = 1.0, tune: bool = True, by_player: bool = True):
        super().__init__(sport)
        self.by_player = bool(by_player)
        self.beta, self.beta_player, self.mix = float(beta), float(beta_player), float(mix)
        self.adapt_weight = float(adapt_weight)
        self.tune = bool(tune)
        self.beta_, self.beta_player_, self.mix_ = self.beta, self.beta_player, self.mix
        self._pop: dict = {}
        self._pl: dict = {}
        self._live: dict = {}
        self._live_match: str | None = None
        self._cache = PredictionCache()
        self._zero = np.zeros(len(self.vocabulary.shots))

    # -- contexts ------------------------------------------------------------------------------------------
    @abstractmethod
    def _table_keys(self, frame: pd.DataFrame, shots: np.ndarray, pos: np.ndarray) -> list[list]:
        """For every stroke of a rally frame: its context key at each level 1..L (a list of hashables per
        level, or an (n, width) integer array whose rows are the keys as tuples of ints)."""

    @abstractmethod
    def _history_keys(self, history: History, context: Context) -> tuple:
        """The context keys (levels 1..L) of the next stroke."""

    def config(self) -> dict:
        """The constructor's parameters."""
        return {"beta": self.beta, "beta_player": self.beta_player, "mix": self.mix,
                "adapt_weight": self.adapt_weight, "tune": self.tune,
                "by_player": self.by_player}

    def fitted_params(self) -> dict:
        """The smoothing the predictions use (tuned by :meth:`fit`, or the constructor's)."""
        return {"beta": self.beta_, "beta_player": self.beta_player_, "mix": self.mix_}

    # -- fitting -------------------------------------------------------------------------------------------
    def fit(self, table: pd.DataFrame, tune: bool | None = None) -> "BackoffModel":
        frame = self._check_table(table)
        tune = self.tune if tune is None else tune
        self.beta_, self.beta_player_, self.mix_ = self.beta, self.beta_player, self.mix
        self.metrics_ = {}
        if tune and frame["match_id"].nunique() >= 5:
            self._tune(frame)
        self._pop, self._pl = self._count(frame)
        self.players_ = set(frame["hitter"].astype(str).unique())
        self._live, self._live_match = {}, None
        self._cache.clear()
        self.fitted_ = True
        return self

    def _encoded(self, frame: pd.DataFrame):
        shots = self.vocabulary.shot_codes(frame["shot"], where="table")
        pos = positions_in_rally(frame)
        keys = self._table_keys(frame, shots, pos)
        return shots, frame["hitter"].astype(str).to_numpy(dtype=object), keys

    def _count(self, frame: pd.DataFrame) -> tuple[dict, dict]:
        """Counts of the next shot per (level, key) in the population and per (player, level, key)."""
        k = len(self.vocabulary.shots)
        shots, hitters, keys = self._encoded(frame)
        n = len(shots)
        players, player_codes = _codes(hitters)
        pop: dict = {}
        pl: dict = {}
        for level in range(self.levels + 1):
            labels, codes = ([()], np.zeros(n, dtype=np.int64)) if level == 0 else _codes(keys[level - 1])
            u = len(labels)
            counts = np.bincount(codes * k + shots, minlength=u * k).reshape(u, k).astype(float)
            for i, key in enumerate(labels):
                pop[(level, key)] = counts[i]
            pairs, inverse = np.unique(player_codes * u + codes, return_inverse=True)
            counts = np.bincount(inverse * k + shots, minlength=len(pairs) * k).reshape(-1, k).astype(float)
            for i, pair in enumerate(pairs.tolist()):
                pl[(players[pair // u], level, labels[pair % u])] = counts[i]
        return pop, pl

    def _tune(self, frame: pd.DataFrame) -> None:
        """Choose β, β_p and m (``beta_``, ``beta_player_``, ``mix_``) by log-loss on the validation matches of
        ``frame`` (the split rule); every grid point's loss is kept in ``metrics_["tuning_grid"]``."""
        valid = held_out_matches(rank_matches(frame["match_id"].unique()), 0.15)
        inner = frame[~frame["match_id"].isin(valid)].reset_index(drop=True)
        held = frame[frame["match_id"].isin(valid)].reset_index(drop=True)
        pop, pl = self._count(inner)
        known = set(inner["hitter"].astype(str).unique())
        arrays = self._level_arrays(held, pop, pl, {})
        shots = self.vocabulary.shot_codes(held["shot"])
        is_known = np.array([self.by_player and str(h) in known for h in held["hitter"].tolist()])
        pop_a, pl_a = arrays
        pop_totals, pl_totals = _totals(pop_a), _totals(pl_a)
        rows = np.arange(len(shots))
        best = None
        grid = []
        for beta in TUNE_GRID["beta"]:
            pops = _population_chain(pop_a, pop_totals, beta)       # shared by every (β_p, m) below
            for beta_p, mix in itertools.product(TUNE_GRID["beta_player"], TUNE_GRID["mix"]):
                probs = _player_chain(pops, pl_a, pl_totals, beta_p, mix, is_known)
                loss = float(-np.mean(np.log(probs[rows, shots])))
                grid.append({"beta": beta, "beta_player": beta_p, "mix": mix, "valid_log_loss": loss})
                if best is None or loss < best[0]:
                    best = (loss, beta, beta_p, mix)
        _, self.beta_, self.beta_player_, self.mix_ = best
        self.metrics_["tuning_valid_log_loss"] = float(best[0])
        self.metrics_["tuning_valid_matches"] = sorted(valid)
        self.metrics_["tuning_grid"] = grid

    # -- prediction ----------------------------------------------------------------------------------------
    def _level_arrays(self, frame, pop, pl, live):
        """Stacked counts (levels, rows, K) of the population and of each row's hitter (with live counts)."""
        k = len(self.vocabulary.shots)
        shots, hitters, keys = self._encoded(frame)
        n = len(shots)
        zero = np.zeros(k)
        pop_a = np.zeros((self.levels + 1, n, k))
        pl_a = np.zeros((self.levels + 1, n, k))
        if n == 0:
            return pop_a, pl_a
        w = self.adapt_weight
        players, player_codes = _codes(hitters)
        for level in range(self.levels + 1):
            labels, codes = ([()], np.zeros(n, dtype=np.int64)) if level == 0 else _codes(keys[level - 1])
            u = len(labels)
            pop_a[level] = np.stack([pop.get((level, key), zero) for key in labels])[codes]
            pairs, inverse = np.unique(player_codes * u + codes, return_inverse=True)
            rows = []
            for pair in pairs.tolist():
                key = (players[pair // u], level, labels[pair % u])
                rows.append(pl.get(key, zero) + w * live.get(key, zero))
            pl_a[level] = np.stack(rows)[inverse.reshape(-1)]
        return pop_a, pl_a

    def predict_table(self, table: pd.DataFrame) -> np.ndarray:
        self._check_fitted()
        frame = self._check_table(table)
        pop_a, pl_a = self._level_arrays(frame, self._pop, self._pl, self._live)
        known = np.array([self._known(str(h)) for h in frame["hitter"].tolist()])
        return _chain(pop_a, pl_a, self.beta_, self.beta_player_, self.mix_, known)

    def _known(self, player) -> bool:
        return self.by_player and player in self.players_ or (player, 0, ()) in self._live

    def _predict(self, history: History, context: Context):
        keys = self._history_keys(history, context)
        player = context.player
        cache_key = (player, keys)
        hit = self._cache.get(cache_key)
        if hit is not None:
            # what the prediction rests on can depend on more than the cache key (a state's area, the side)
            probs, info = hit
            return probs, {**info, "inputs": self._inputs(history, context, info["known_player"])}
        known = player is not None and self._known(player)
        full = ((),) + keys
        pop_get, zero = self._pop.get, self._zero
        n = pop_get((0, ()), zero)
        pop = (n + 0.5) / (n.sum() + 0.5 * len(n))
        pops = [pop]
        pop_n = 0.0
        beta = self.beta_
        for level in range(1, len(full)):
            n = pop_get((level, full[level]), zero)
            pop_n = n.sum()
            pop = (n + beta * pop) / (pop_n + beta)
            pops.append(pop)
        if known:
            pl_get, live_get, w, bp, mix = self._pl.get, self._live.get, self.adapt_weight, self.beta_player_, self.mix_
            pl = None
            for level, key in enumerate(full):
                n = pl_get((player, level, key), zero)
                extra = live_get((player, level, key))
                if extra is not None:
                    n = n + w * extra
                prior = pops[0] if pl is None else mix * pops[level] + (1.0 - mix) * pl
                pl_n = n.sum()
                pl = (n + bp * prior) / (pl_n + bp)
            probs = pl
        else:
            probs = pop
        pop_n = float(pop_n)
        if known:
            info = {"n": float(pl_n), "source": "player", "population_n": pop_n}
        else:
            info = {"n": pop_n, "source": "population" if pop_n > 0 else "fallback", "population_n": pop_n}
        info["known_player"] = bool(known)
        info["inputs"] = self._inputs(history, context, known)
        self._cache.put(cache_key, (probs, info))
        return probs, info

    def _inputs(self, history: History, context: Context, known: bool) -> tuple[str, ...]:
        """The :data:`~strategist.opponent.base.INPUTS` a prediction of this model rests on."""
        return ("shot", "player") if known else ("shot",)

    # -- in-match adaptation -------------------------------------------------------------------------------
    def update(self, rally_table: pd.DataFrame) -> "BackoffModel":
        """Add the counts of completed rallies of the current match; a rally of another match first resets."""
        self._check_fitted()
        if rally_table is None or len(rally_table) == 0:
            return self
        frame = self._check_table(rally_table)
        match = str(frame["match_id"].iloc[-1])
        if self._live_match is not None and match != self._live_match:
            self._live = {}
        self._live_match = match
        _, live = self._count(frame)
        for key, vec in live.items():
            found = self._live.get(key)
            self._live[key] = vec if found is None else found + vec
        self._cache.clear()
        return self

    def reset(self) -> "BackoffModel":
        self._live, self._live_match = {}, None
        self._cache.clear()
        return self

    # -- checkpoint state ----------------------------------------------------------------------------------
    def _state(self) -> tuple[dict, dict]:
        pop_keys = list(self._pop)
        pl_keys = list(self._pl)
        k = len(self.vocabulary.shots)
        tensors = {
            "pop_counts": np.stack([self._pop[key] for key in pop_keys]) if pop_keys else np.zeros((0, k)),
            "player_counts": np.stack([self._pl[key] for key in pl_keys]) if pl_keys else np.zeros((0, k)),
        }
        meta = {"config": self.config(), "fitted": self.fitted_params(),
                "pop_keys": [[lv, _jsonable(key)] for lv, key in pop_keys],
                "player_keys": [[p, lv, _jsonable(key)] for p, lv, key in pl_keys], "players": sorted(self.players_)}
        return tensors, meta

    def _load_state(self, tensors: dict, meta: dict) -> None:
        cfg, fitted = meta["config"], meta["fitted"]
        self.beta, self.beta_player, self.mix = cfg["beta"], cfg["beta_player"], cfg["mix"]
        self.adapt_weight, self.tune = cfg["adapt_weight"], cfg["tune"]
        self.by_player = cfg.get("by_player", True)
        self.beta_, self.beta_player_, self.mix_ = fitted["beta"], fitted["beta_player"], fitted["mix"]
        pop_c = np.asarray(tensors["pop_counts"], dtype=np.float64)
        pl_c = np.asarray(tensors["player_counts"], dtype=np.float64)
        self._pop = {(lv, _tuple(key)): pop_c[i] for i, (lv, key) in enumerate(meta["pop_keys"])}
        self._pl = {(p, lv, _tuple(key)): pl_c[i] for i, (p, lv, key) in enumerate(meta["player_keys"])}
        self.players_ = set(meta["players"])
        self._live, self._live_match = {}, None
        self._cache.clear()
        self.fitted_ = True


def _codes(values) -> tuple[list, np.ndarray]:
    """(distinct values, each value's index among them). A 2-D integer array is read row by row (its
    distinct rows as tuples of ints, sorted); a 1-D array in order of first appearance (``pd.factorize``);
    any other sequence of hashables likewise, through a dict."""
    if isinstance(values, np.ndarray) and values.ndim == 2:
        n, width = values.shape
        if n == 0:
            return [], np.zeros(0, dtype=np.int64)
        low = int(values.min())
        base = int(values.max()) - low + 1
        if base ** width < 2 ** 62:                # one integer per row: a 1-D unique instead of a row sort
            flat = ((values - low) * base ** np.arange(width - 1, -1, -1)).sum(axis=1)
            uniq, codes = np.unique(flat, return_inverse=True)
            digits = (uniq[:, None] // base ** np.arange(width - 1, -1, -1)) % base + low
            return [tuple(r) for r in digits.tolist()], codes.reshape(-1).astype(np.int64)
        rows, codes = np.unique(values, axis=0, return_inverse=True)
        return [tuple(r) for r in rows.tolist()], codes.reshape(-1).astype(np.int64)
    if isinstance(values, np.ndarray):
        codes, uniques = pd.factorize(values, use_na_sentinel=False)
        return list(uniques), codes.astype(np.int64)
    index: dict = {}
    codes = np.fromiter((index.setdefault(v, len(index)) for v in values), dtype=np.int64, count=len(values))
    return list(index), codes


def _jsonable(key):
    """A context key for JSON: tuples become lists (strings stay strings)."""
    return [_jsonable(k) for k in key] if isinstance(key, tuple) else key


def _tuple(key):
    """Inverse of :func:`_jsonable`."""
    return tuple(_tuple(k) for k in key) if isinstance(key, list) else key


def _chain(pop_a: np.ndarray, pl_a: np.ndarray, beta: float, beta_p: float, mix: float,
           known: np.ndarray) -> np.ndarray:
    """The interpolated estimates of the module docstring for (levels, rows, K) count arrays."""
    pops = _population_chain(pop_a, _totals(pop_a), beta)
    return _player_chain(pops, pl_a, _totals(pl_a), beta_p, mix, known)


def _totals(counts: np.ndarray) -> np.ndarray:
    """Counts summed over the shots: (levels, rows, 1)."""
    return counts.sum(-1, keepdims=True)


def _population_chain(pop_a: np.ndarray, totals: np.ndarray, beta: float) -> list[np.ndarray]:
    """pop_0 .. pop_L of the module docstring, one (rows, K) array per level."""
    k = pop_a.shape[-1]
    pop = (pop_a[0] + 0.5) / (totals[0] + 0.5 * k)
    pops = [pop]
    for level in range(1, pop_a.shape[0]):
        pop = (pop_a[level] + beta * pop) / (totals[level] + beta)
        pops.append(pop)
    return pops


def _player_chain(pops: list[np.ndarray], pl_a: np.ndarray, totals: np.ndarray, beta_p: float, mix: float,
                  known: np.ndarray) -> np.ndarray:
    """pl_L where the row's player is known, else pop_L."""
    pl = (pl_a[0] + beta_p * pops[0]) / (totals[0] + beta_p)
    for level in range(1, pl_a.shape[0]):
        prior = mix * pops[level] + (1.0 - mix) * pl
        pl = (pl_a[level] + beta_p * prior) / (totals[level] + beta_p)
    return np.where(np.asarray(known)[:, None], pl, pops[-1])
