"""Neural opponent model: a GRU over the rally so far, with the players and the moment of the match.

Input at step j of a rally (predicting stroke j + 1): the shot of stroke j (a start mark for j = 0), where
it landed and how high (the shuttle above or below net height there), the hitter's wing, the hitter's and
opponent's positions at contact (standardised; one "missing" indicator per player), and whether stroke j's
hitter also hits next. The GRU state at step j is joined with the next hitter's and the other player's
embeddings, the next stroke's number, the score before the rally (next hitter's and other's points, and a
"missing" indicator) and whether the next hitter served, then a two-layer head gives the logits of the next
shot. Players the model never saw share one "unknown player" embedding, trained by replacing a random share
of players with it (``player_dropout``): the documented fallback for an unknown player is this population
embedding.

Missing inputs: every field but the shot may be absent at prediction time (a live match log records the
shot, the hitters and where it landed, nothing else). Area, wing and height have a learned "missing"
embedding (index 0), positions and score an indicator. Training hides fields at random
(:func:`mask_inputs`: in ``mask_rallies`` of the rallies some fields are hidden from a random stroke on, all
of them together or each on its own, and any field of any stroke with probability ``mask_strokes``), so the
network has learnt every pattern of absence it may meet. A prediction reports the inputs it used.

Calibration: the logits are divided by a temperature ``T`` fitted on the validation matches after training
(:func:`fit_temperature`, the log-loss minimised over T), when the validation matches agree on it: the 90 %
interval of a bootstrap over those matches (:func:`temperature_interval`) excludes 1; else ``T = 1`` (a
temperature from a handful of matches that disagree would move the held-out matches' calibration either
way). ``metrics_["calibration"]`` gives the fitted T, its interval, whether it was applied, and the ECE before
and after.

Evidence (``Prediction.n``): the training strokes of the player to hit (for a player the network does not
know: of everyone) that followed the same shot as the rally's last one (or that were serves, for an empty
rally), plus the player's strokes in that context learnt in the match (:meth:`NeuralModel.update`).

In-match adaptation (:meth:`NeuralModel.update`): the network is frozen; for every player of the match a
logit offset ``b`` is fitted to the completed rallies by a few Newton steps on
``Σ CE(z_i + b, y_i) + λ/2 ‖b‖²`` (``z_i`` the frozen logits): a per-match opponent bias, cheap (a
K × K solve per update) and convex.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import numpy as np
import pandas as pd
import torch
from torch import nn

from strategist.errors import OpponentModelError
from strategist.opponent.base import (Context, History, OpponentModel, column_floats, column_list,
                                      positions_in_rally)
from strategist.opponent.inference import FoldedRallyNet

PAD, START = 0, 1          # shot input ids; vocabulary shots start at 2
MAX_STROKE = 40
POSITION_COLUMNS = ("hitter_x", "hitter_y", "opponent_x", "opponent_y")
WINGS = {"forehand": 1, "backhand": 2}
HEIGHTS = {"high": 1, "low": 2}
N_NUM = len(POSITION_COLUMNS) + 3  # positions, hitter's and opponent's "missing", same-hitter flag
N_CTX = 4                           # score (2), score "missing", server flag
#: Inputs training hides at random (:func:`mask_inputs`); the shot and the hitters are always known.
MASKABLE = ("landing_area", "wing", "landing_height", "hitter_position", "opponent_position", "score")


@dataclass
class NeuralConfig:
    """Architecture and training recipe of :class:`NeuralModel` (see :mod:`strategist.opponent.train`)."""

    d_shot: int = 32
    d_area: int = 16
    d_player: int = 16
    d_height: int = 4
    hidden: int = 128
    layers: int = 1
    dropout: float = 0.3
    player_dropout: float = 0.1
    optimizer: str = "adamw"         # by the benchmark's rule (strategist.opponent.train.DEFAULT_OPTIMIZER)
    lr: float | None = None          # None: the optimizer's default for this model
    weight_decay: float = 0.01
    batch_size: int = 64             # rallies per step (global batch under DDP)
    max_steps: int = 1500            # the cosine's length: long enough that early stopping ends the runs
    warmup: float = 0.05             # share of max_steps
    schedule: str = "cosine"         # "cosine" or "wsd" (warm-up, stable, linear decay over the last 20 %)
    final_lr_ratio: float = 0.05
    ema: float = 0.995               # EMA decay of the weights used for evaluation (0: none)
    clip: float = 1.0                # gradient-norm clip (0: none)
    eval_every: int = 50
    patience: int = 6                # evaluations without a better validation loss before stopping
    checkpoint_every: int = 100
    seed: int = 0
    adapt_l2: float = 4.0            # λ of the in-match logit offset
    mask_rallies: float = 0.5        # share of training rallies with inputs hidden from a random stroke on
    mask_strokes: float = 0.05       # probability that one input of one stroke is hidden
    valid_hidden_weight: float = 0.5  # weight of the validation loss with every maskable input hidden in the
    #                                   loss early stopping watches (the rest: with the inputs as recorded)
    calibrate: bool = True           # fit a temperature on the validation matches after training

    @classmethod
    def from_json(cls, data: dict) -> "NeuralConfig":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def to_json(self) -> dict:
        return asdict(self)


class RallyNet(nn.Module):
    """Embeddings -> linear -> GRU -> head (see the module docstring).

    ``version`` counts changes of the weights: :meth:`weights_changed` bumps it, and so does every
    ``load_state_dict``; the training loop calls it after each optimizer step. Code that edits the weights in
    place by other means calls it too, so that the folded copy used for single predictions is rebuilt."""

    def __init__(self, n_shots: int, n_areas: int, n_players: int, cfg: NeuralConfig):
        super().__init__()
        self.version = 0
        self.register_load_state_dict_post_hook(lambda module, incompatible: module.weights_changed())
        self.shot = nn.Embedding(n_shots + 2, cfg.d_shot, padding_idx=PAD)
        self.area = nn.Embedding(n_areas + 1, cfg.d_area)
        self.wing = nn.Embedding(3, 4)
        self.height = nn.Embedding(len(HEIGHTS) + 1, cfg.d_height)
        self.player = nn.Embedding(n_players + 1, cfg.d_player)
        self.stroke = nn.Embedding(MAX_STROKE + 1, 8)
        self.inp = nn.Linear(cfg.d_shot + cfg.d_area + 4 + cfg.d_height + N_NUM, cfg.hidden)
        self.gru = nn.GRU(cfg.hidden, cfg.hidden, num_layers=cfg.layers, batch_first=True)
        self.drop = nn.Dropout(cfg.dropout)
        self.mid = nn.Linear(cfg.hidden + 2 * cfg.d_player + 8 + N_CTX, cfg.hidden)
        self.out = nn.Linear(cfg.hidden, n_shots)   # registered last: the head (Muon routing)

    def weights_changed(self) -> None:
        """Record that the weights changed (see the class docstring)."""
        self.version += 1

    def forward(self, b: dict) -> torch.Tensor:
        h, _ = self.gru(torch.relu(self.inp(self.inputs(b))))
        return self.head(h, b)

    def inputs(self, b: dict) -> torch.Tensor:
        """The per-step input vector: shot, area, wing and height embeddings with the numeric features."""
        return torch.cat([self.shot(b["shot"]), self.area(b["area"]), self.wing(b["wing"]),
                          self.height(b["height"]), b["num"]], dim=-1)

    def head(self, h: torch.Tensor, b: dict) -> torch.Tensor:
        """Logits from the GRU states ``h`` (…, hidden) and the context of the same positions in ``b``."""
        ctx = torch.cat([self.drop(h), self.player(b["player"]), self.player(b["opponent"]),
                         self.stroke(b["stroke"]), b["ctx"]], dim=-1)
        return self.out(self.drop(torch.relu(self.mid(ctx))))

    def last(self, b: dict) -> torch.Tensor:
        """Logits of the last position only (one rally so far: the next stroke's prediction); ``b``'s context
        entries hold that position alone, shape (1,) and (1, N_CTX)."""
        _, h = self.gru(torch.relu(self.inp(self.inputs(b))))
        return self.head(h[-1], b)


def parameter_count(n_shots: int, n_areas: int, n_players: int, cfg: NeuralConfig) -> int:
    """The number of weights of ``RallyNet(n_shots, n_areas, n_players, cfg)``, computed without building it."""
    h = cfg.hidden
    embeddings = ((n_shots + 2) * cfg.d_shot + (n_areas + 1) * cfg.d_area + 3 * 4
                  + (len(HEIGHTS) + 1) * cfg.d_height + (n_players + 1) * cfg.d_player + (MAX_STROKE + 1) * 8)
    inp = (cfg.d_shot + cfg.d_area + 4 + cfg.d_height + N_NUM + 1) * h
    gru = 3 * h * (h + h + 2) + (cfg.layers - 1) * 3 * h * (h + h + 2)
    mid = (h + 2 * cfg.d_player + 8 + N_CTX + 1) * h
    return embeddings + inp + gru + mid + (h + 1) * n_shots


# -- encoding ------------------------------------------------------------------------------------------------
def _col(frame: pd.DataFrame, name: str, n: int) -> list:
    return frame[name].tolist() if name in frame.columns else [None] * n


def _na(v) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and v != v)


class Encoder:
    """Turns canonical strokes into the network's input arrays (vocabulary maps cached)."""

    def __init__(self, shots, areas, players, norm: dict):
        self.shot_ix = {s: i + 2 for i, s in enumerate(shots)}
        self.area_ix = {a: i + 1 for i, a in enumerate(areas)}
        self.player_ix = {p: i + 1 for i, p in enumerate(players)}
        self.mean = np.asarray(norm["mean"], dtype=np.float32)
        self.std = np.asarray(norm["std"], dtype=np.float32)

    @staticmethod
    def position_norm(frame: pd.DataFrame) -> dict:
        mean, std = [], []
        for c in POSITION_COLUMNS:
            v = pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype=float, na_value=np.nan) \
                if c in frame else np.array([np.nan])
            v = v[np.isfinite(v)]
            mean.append(float(v.mean()) if len(v) else 0.0)
            std.append(float(v.std()) if len(v) > 1 and v.std() > 0 else 1.0)
        return {"mean": mean, "std": std}

    def strokes(self, frame: pd.DataFrame, next_hitters: list) -> dict[str, np.ndarray]:
        """Per-stroke inputs of ``frame``'s strokes (``next_hitters[i]``: who hits after stroke i)."""
        n = len(frame)
        shot = np.array([self.shot_ix[s] for s in frame["shot"].tolist()], dtype=np.int64)
        area = np.array([0 if _na(a) else self.area_ix.get(str(a), 0) for a in _col(frame, "landing_area", n)],
                        dtype=np.int64)
        return {"shot": shot, "area": area, **self._frame_inputs(frame, n, frame["hitter"].tolist(), next_hitters)}

    def history(self, history: History, next_player) -> dict[str, np.ndarray]:
        """The per-stroke inputs of one rally so far (:meth:`strokes` for one history: shots, hitters and areas
        and how high each was taken come from the :class:`History`, the rest from one array read per column of its
        frame)."""
        n = len(history)
        shot = np.asarray(history.shots, dtype=np.int64) + 2
        area_ix = self.area_ix
        area = np.fromiter((0 if a is None else area_ix.get(a, 0) for a in history.areas), np.int64, n)
        hitters = history.hitters
        inputs = self._frame_inputs(history.frame, n, hitters, hitters[1:] + (next_player,), heights=history.heights)
        return {"shot": shot, "area": area, **inputs}

    def _frame_inputs(self, frame, n: int, hitters, next_hitters, heights=None) -> dict[str, np.ndarray]:
        """Wing, landing height and the numeric inputs (standardised positions, their mask, same hitter next);
        ``heights``: the landing heights as given (else read from the frame)."""
        columns = frame.columns if frame is not None else ()

        def codes(name, table):
            if name not in columns:
                return np.zeros(n, np.int64)
            return np.fromiter((0 if _na(v) else table.get(v, 0) for v in column_list(frame, name)),
                               np.int64, n)

        pos = np.full((n, len(POSITION_COLUMNS)), np.nan, dtype=np.float32)
        for j, c in enumerate(POSITION_COLUMNS):
            if c in columns:
                pos[:, j] = column_floats(frame, c)
        finite = np.isfinite(pos)
        missing = np.stack([~finite[:, :2].all(1), ~finite[:, 2:].all(1)], axis=1)     # hitter's, opponent's
        pos = np.where(np.repeat(missing, 2, axis=1), 0.0, (pos - self.mean) / self.std).astype(np.float32)
        same = np.fromiter((h == nh for h, nh in zip(hitters, next_hitters)), np.float32, n)
        num = np.concatenate([pos, missing.astype(np.float32), same[:, None]], axis=1)
        height = (codes("landing_height", HEIGHTS) if heights is None
                  else np.fromiter((HEIGHTS.get(h, 0) for h in heights), np.int64, n))
        return {"wing": codes("wing", WINGS), "height": height, "num": num}

    def player(self, name) -> int:
        return 0 if name is None else self.player_ix.get(str(name), 0)


def encode_table(encoder: Encoder, frame: pd.DataFrame) -> dict:
    """Padded (rallies, T) arrays of a :func:`rally_frame`: inputs at step j predict the rally's stroke j+1.

    Also ``rows`` (rallies, T): the frame row each position predicts (-1 on padding) and ``target``.
    """
    pos = positions_in_rally(frame)
    starts = np.flatnonzero(pos == 0)
    ends = np.r_[starts[1:], len(frame)]
    lengths = ends - starts
    r, t = len(starts), int(lengths.max()) if len(starts) else 1
    hitters = frame["hitter"].astype(str).tolist()
    opponents = frame["opponent"].astype(str).tolist()
    strokes = encoder.strokes(frame, [hitters[i + 1] if i + 1 < len(frame) else None for i in range(len(frame))])
    out = {"shot": np.zeros((r, t), np.int64), "area": np.zeros((r, t), np.int64),
           "wing": np.zeros((r, t), np.int64), "height": np.zeros((r, t), np.int64),
           "num": np.zeros((r, t, N_NUM), np.float32),
           "player": np.zeros((r, t), np.int64), "opponent": np.zeros((r, t), np.int64),
           "stroke": np.zeros((r, t), np.int64), "ctx": np.zeros((r, t, N_CTX), np.float32),
           "target": np.full((r, t), -100, np.int64), "rows": np.full((r, t), -1, np.int64)}
    target = np.array([encoder.shot_ix[s] - 2 for s in frame["shot"].tolist()], dtype=np.int64)
    player = np.array([encoder.player(h) for h in hitters], dtype=np.int64)
    opponent = np.array([encoder.player(o) for o in opponents], dtype=np.int64)
    servers = frame["server"].astype(str).tolist() if "server" in frame else hitters
    hs = pd.to_numeric(frame.get("hitter_score", pd.Series(np.nan, index=frame.index)), errors="coerce")
    os_ = pd.to_numeric(frame.get("opponent_score", pd.Series(np.nan, index=frame.index)), errors="coerce")
    hs = hs.to_numpy(dtype=np.float32, na_value=np.nan)
    os_ = os_.to_numpy(dtype=np.float32, na_value=np.nan)
    no_score = ~(np.isfinite(hs) & np.isfinite(os_))
    hs = np.where(no_score, 0.0, hs / 21.0).astype(np.float32)
    os_ = np.where(no_score, 0.0, os_ / 21.0).astype(np.float32)
    for k, (a, b) in enumerate(zip(starts, ends)):
        n = b - a
        out["shot"][k, 0] = START
        out["shot"][k, 1:n] = strokes["shot"][a:b - 1]
        out["area"][k, 1:n] = strokes["area"][a:b - 1]
        out["wing"][k, 1:n] = strokes["wing"][a:b - 1]
        out["height"][k, 1:n] = strokes["height"][a:b - 1]
        out["num"][k, 1:n] = strokes["num"][a:b - 1]
        out["player"][k, :n] = player[a:b]
        out["opponent"][k, :n] = opponent[a:b]
        out["stroke"][k, :n] = np.minimum(np.arange(1, n + 1), MAX_STROKE)
        out["ctx"][k, :n, 0] = hs[a:b]
        out["ctx"][k, :n, 1] = os_[a:b]
        out["ctx"][k, :n, 2] = no_score[a:b]
        out["ctx"][k, :n, 3] = [float(h == s) for h, s in zip(hitters[a:b], servers[a:b])]
        out["target"][k, :n] = target[a:b]
        out["rows"][k, :n] = np.arange(a, b)
    out["lengths"] = lengths
    return out


def mask_inputs(b: dict[str, torch.Tensor], mask_rallies: float, mask_strokes: float,
                generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
    """A copy of batch ``b`` with inputs hidden as they may be missing at prediction time (module docstring).

    Each rally is masked with probability ``mask_rallies``: either every field of :data:`MASKABLE` (half of
    these rallies: a match log that records only shots), from the rally's start (half of those) or from a
    stroke drawn uniformly in the rally on, or each field on its own with probability ½ from its own uniformly
    drawn stroke on. On top, every
    field of every stroke is hidden with probability ``mask_strokes``. Hidden area, wing and height take the
    "missing" index 0; hidden positions and score are zeroed with their indicator set."""
    if mask_rallies <= 0 and mask_strokes <= 0:
        return b
    target = b["target"]
    r, t = target.shape
    dev = target.device

    def rand(*shape):
        return torch.rand(*shape, generator=generator, device=dev)

    lengths = (target >= 0).sum(1).clamp(min=1)
    masked = rand(r) < mask_rallies
    together = rand(r) < 0.5
    shared_start = torch.where(rand(r) < 0.5, 0, (rand(r) * lengths).floor().long())
    steps = torch.arange(t, device=dev)[None, :]
    hidden = {}
    for name in MASKABLE:
        start = torch.where(together, shared_start, (rand(r) * lengths).floor().long())
        chosen = masked & (together | (rand(r) < 0.5))
        hide = (chosen[:, None] & (steps >= start[:, None])) | (rand(r, t) < mask_strokes)
        # step 0 (the rally's start) has no stroke inputs to hide; the score belongs to every step
        hidden[name] = hide if name == "score" else hide & (steps >= 1)
    return _hide(b, hidden)


def hide_all(b: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``b`` with every field of :data:`MASKABLE` hidden at every step: only shots and hitters known."""
    steps = torch.arange(b["target"].shape[1], device=b["target"].device)[None, :].expand_as(b["target"])
    return _hide(b, {name: (steps >= 0) if name == "score" else (steps >= 1) for name in MASKABLE})


def _hide(b: dict[str, torch.Tensor], hidden: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """``b`` with the (rallies, T) masks of :data:`MASKABLE` applied (see :func:`mask_inputs`)."""
    out = dict(b)
    out["area"] = b["area"].masked_fill(hidden["landing_area"], 0)
    out["wing"] = b["wing"].masked_fill(hidden["wing"], 0)
    out["height"] = b["height"].masked_fill(hidden["landing_height"], 0)
    num = b["num"].clone()
    for k, name in enumerate(("hitter_position", "opponent_position")):
        h = hidden[name]
        num[..., 2 * k:2 * k + 2] = num[..., 2 * k:2 * k + 2].masked_fill(h[..., None], 0.0)
        num[..., 4 + k] = num[..., 4 + k].masked_fill(h, 1.0)
    ctx = b["ctx"].clone()
    ctx[..., 0:2] = ctx[..., 0:2].masked_fill(hidden["score"][..., None], 0.0)
    ctx[..., 2] = ctx[..., 2].masked_fill(hidden["score"], 1.0)
    out["num"], out["ctx"] = num, ctx
    return out


def to_tensors(arrays: dict, device) -> dict[str, torch.Tensor]:
    return {k: torch.as_tensor(v, device=device) for k, v in arrays.items()}


def batch_of(data: dict[str, torch.Tensor], idx: torch.Tensor) -> dict[str, torch.Tensor]:
    """Rallies ``idx`` of the padded data, trimmed to the longest of them."""
    t = int(data["lengths"][idx].max())
    return {k: (v[idx, :t] if v.dim() > 1 else v[idx]) for k, v in data.items()}


# -- the model ---------------------------------------------------------------------------------------------
class NeuralModel(OpponentModel):
    """The GRU model behind the common interface; ``fit`` trains it (:func:`strategist.opponent.train.train`).

    Fitted attributes: ``temperature_`` (the logits' divisor, 1 when not calibrated), ``evidence_``
    ((players + 1, shots + 1) training strokes per player to hit, row 0 everyone's, and per context: column 0
    a rally's first stroke, column 1 + k the strokes after shot k)."""

    kind = "neural"

    def __init__(self, sport="badminton", config: NeuralConfig | None = None, **kwargs):
        super().__init__(sport)
        base = config.to_json() if config is not None else {}
        self.config = NeuralConfig(**{**base, **kwargs})
        self.players: list[str] = []
        self.norm: dict = {"mean": [0.0] * 4, "std": [1.0] * 4}
        self.net: RallyNet | None = None
        self.device = torch.device("cpu")
        self.temperature_ = 1.0
        self.evidence_ = np.zeros((1, len(self.vocabulary.shots) + 1))
        self._encoder: Encoder | None = None
        self._live_logits: dict[str, list] = {}
        self._live_evidence: dict[str, np.ndarray] = {}
        self._bias: dict[str, np.ndarray] = {}
        self._live_match: str | None = None
        self._folded: FoldedRallyNet | None = None

    # -- construction --------------------------------------------------------------------------------------
    def build(self, players, norm: dict) -> RallyNet:
        self.players = sorted(str(p) for p in players)
        self.players_ = set(self.players)
        self.norm = norm
        self._encoder = Encoder(self.vocabulary.shots, self.vocabulary.areas, self.players, norm)
        self.net = RallyNet(len(self.vocabulary.shots), len(self.vocabulary.areas), len(self.players), self.config)
        self.evidence_ = np.zeros((len(self.players) + 1, len(self.vocabulary.shots) + 1))
        self._folded = None
        return self.net

    def fit(self, table: pd.DataFrame, **kwargs) -> "NeuralModel":
        from strategist.opponent.train import train

        return train(self, table, **kwargs)

    def encode(self, table: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
        frame = self._check_table(table)
        return frame, encode_table(self._encoder, frame)

    def count_evidence(self, frame: pd.DataFrame) -> np.ndarray:
        """``evidence_`` of a :func:`rally_frame` (see the class docstring)."""
        players = np.array([self._encoder.player(h) for h in frame["hitter"].astype(str).tolist()], np.int64)
        return _context_counts(players, self._contexts(frame), len(self.players) + 1,
                               len(self.vocabulary.shots) + 1)

    def _contexts(self, frame: pd.DataFrame) -> np.ndarray:
        """Each stroke's evidence context: 0 for a rally's first stroke, 1 + the previous stroke's shot."""
        shots = self.vocabulary.shot_codes(frame["shot"], where="table")
        pos = positions_in_rally(frame)
        prev = np.zeros(len(shots), np.int64)
        prev[1:] = shots[:-1] + 1
        prev[pos == 0] = 0
        return prev

    # -- prediction ----------------------------------------------------------------------------------------
    @torch.inference_mode()
    def logits_table(self, table: pd.DataFrame, batch: int = 256) -> tuple[pd.DataFrame, np.ndarray]:
        """Logits of every stroke of ``rally_frame(table)`` (rows in that order), divided by the temperature."""
        self._check_fitted()
        frame, arrays = self.encode(table)
        data = to_tensors(arrays, self.device)
        self.net.eval()
        out = np.zeros((len(frame), len(self.vocabulary.shots)), dtype=np.float64)
        for s in range(0, len(arrays["lengths"]), batch):
            idx = torch.arange(s, min(s + batch, len(arrays["lengths"])), device=self.device)
            b = batch_of(data, idx)
            logits = self.net(b)
            rows = b["rows"]
            mask = rows >= 0
            out[rows[mask].cpu().numpy()] = logits[mask].double().cpu().numpy()
        return frame, out / self.temperature_

    def predict_table(self, table: pd.DataFrame) -> np.ndarray:
        frame, logits = self.logits_table(table)
        if self._bias:
            hitters = frame["hitter"].astype(str).tolist()
            for i, h in enumerate(hitters):
                b = self._bias.get(h)
                if b is not None:
                    logits[i] += b
        return _softmax(logits)

    def _predict(self, history: History, context: Context):
        enc = self._encoder
        n = len(history)
        t = n + 1
        shot = np.zeros(t, np.int64)
        shot[0] = START
        area = np.zeros(t, np.int64)
        wing = np.zeros(t, np.int64)
        height = np.zeros(t, np.int64)
        num = np.zeros((t, N_NUM), np.float32)
        if n:
            s = enc.history(history, context.player)
            shot[1:] = s["shot"]
            area[1:] = s["area"]
            wing[1:] = s["wing"]
            height[1:] = s["height"]
            num[1:] = s["num"]
        # the head reads the next stroke's context (player, opponent, stroke number, score, server flag) at
        # the last step only: the GRU is causal, so the earlier steps need no context
        player = enc.player(context.player)
        known = player != 0
        opponent = enc.player(context.opponent)
        score = context.score
        ctx = np.array([0.0, 0.0, 1.0, float(context.player is not None and context.player == context.server)],
                       np.float32)
        if score is not None:
            ctx[:3] = (score[0] / 21.0, score[1] / 21.0, 0.0)
        stroke = min(max(int(context.stroke or t), 1), MAX_STROKE)
        if self.device.type == "cpu":        # the folded NumPy forward pass: same logits, no torch overhead
            folded = self._folded
            if folded is None or not folded.fresh(self.net):
                folded = self._folded = FoldedRallyNet(self.net)
            logits = folded.logits(shot, area, wing, height, num, player, opponent, stroke, ctx).astype(np.float64)
        else:
            logits = self._torch_logits(shot, area, wing, height, num, player, opponent, stroke, ctx)
        logits = logits / self.temperature_
        bias = self._bias.get(context.player) if context.player is not None else None
        if bias is not None:
            logits = logits + bias
        live = self._live_evidence.get(context.player) if context.player is not None else None
        column = 0 if n == 0 else history.shots[-1] + 1
        evidence = float(self.evidence_[player, column]) + (float(live[column]) if live is not None else 0.0)
        info = {"n": evidence, "source": "player" if known or live is not None else "population",
                "known_player": bool(known), "adapted": bias is not None,
                "inputs": _inputs_used(n, area, wing, height, num, context, known, opponent != 0)}
        return _softmax(logits[None])[0], info

    @torch.inference_mode()
    def _torch_logits(self, shot, area, wing, height, num, player, opponent, stroke, ctx) -> np.ndarray:
        """``RallyNet.last`` on one rally's inputs (as for :class:`FoldedRallyNet`), on the model's device."""
        dev = self.device

        def one(a):
            return torch.from_numpy(np.ascontiguousarray(a)[None]).to(dev)

        b = {"shot": one(shot), "area": one(area), "wing": one(wing), "height": one(height), "num": one(num),
             "player": torch.tensor([player], device=dev), "opponent": torch.tensor([opponent], device=dev),
             "stroke": torch.tensor([stroke], device=dev), "ctx": one(ctx)}
        if self.net.training:
            self.net.eval()
        return self.net.last(b)[0].double().cpu().numpy()

    # -- in-match adaptation -------------------------------------------------------------------------------
    def update(self, rally_table: pd.DataFrame) -> "NeuralModel":
        """Fit each player's logit offset to the completed rallies of this match (see module docstring)."""
        self._check_fitted()
        if rally_table is None or len(rally_table) == 0:
            return self
        frame, logits = self.logits_table(rally_table)
        match = str(frame["match_id"].iloc[-1])
        if self._live_match is not None and match != self._live_match:
            self.reset()
        self._live_match = match
        targets = np.asarray(self.vocabulary.shot_ids(frame["shot"].tolist()))
        contexts = self._contexts(frame)
        for player, rows in frame.groupby(frame["hitter"].astype(str), sort=False).indices.items():
            self._live_logits.setdefault(player, []).extend(zip(logits[rows], targets[rows]))
            seen = self._live_evidence.setdefault(player, np.zeros(self.evidence_.shape[1]))
            np.add.at(seen, contexts[rows], 1.0)
            z = np.stack([r[0] for r in self._live_logits[player]])
            y = np.array([r[1] for r in self._live_logits[player]])
            self._bias[player] = fit_logit_offset(z, y, self.config.adapt_l2, self._bias.get(player))
        return self

    def reset(self) -> "NeuralModel":
        self._live_logits, self._live_evidence, self._bias, self._live_match = {}, {}, {}, None
        return self

    # -- checkpoint state ----------------------------------------------------------------------------------
    def _state(self) -> tuple[dict, dict]:
        tensors = {k: v.detach() for k, v in self.net.state_dict().items()}
        tensors[EVIDENCE] = torch.as_tensor(self.evidence_, dtype=torch.float64)
        meta = {"config": self.config.to_json(), "players": self.players, "norm": self.norm,
                "temperature": float(self.temperature_)}
        return tensors, meta

    def _load_state(self, tensors: dict, meta: dict) -> None:
        self.config = NeuralConfig.from_json(meta["config"])
        self.build(meta["players"], meta["norm"])
        self.temperature_ = float(meta["temperature"])
        self.evidence_ = np.asarray(tensors[EVIDENCE], dtype=np.float64)
        weights = {k: torch.as_tensor(v) for k, v in tensors.items() if k != EVIDENCE}
        try:
            self.net.load_state_dict(weights)
        except RuntimeError as exc:
            from strategist.errors import CheckpointError

            raise CheckpointError(f"the weights do not fit the recorded architecture: {exc}") from None
        self.net.eval()
        self.fitted_ = True

    def forget_rallies(self) -> "NeuralModel":
        """Drop the hidden states kept of the rallies asked about (the next prediction of each runs it whole)."""
        if self._folded is not None:
            self._folded.forget()
        return self

    def to(self, device) -> "NeuralModel":
        self.device = torch.device(device)
        if self.net is not None:
            self.net.to(self.device)
        return self


#: The tensor of a saved neural model that holds ``evidence_`` (beside the network's weights).
EVIDENCE = "evidence_counts"


def _context_counts(players: np.ndarray, contexts: np.ndarray, n_players: int, n_contexts: int) -> np.ndarray:
    """(n_players, n_contexts) strokes per (player, context), row 0 every stroke's."""
    out = np.zeros((n_players, n_contexts))
    np.add.at(out, (players, contexts), 1.0)
    out[0] = np.bincount(contexts, minlength=n_contexts)
    return out


def _inputs_used(n: int, area, wing, height, num, context: Context, known: bool, opponent_known: bool) -> tuple:
    """The inputs (of :data:`~strategist.opponent.base.INPUTS`) that reached the network for one history."""
    used = ["shot"]
    if n:
        used.append("hitter")
        for name, codes in (("landing_area", area), ("wing", wing), ("landing_height", height)):
            if codes[1:].any():
                used.append(name)
        if (num[1:, 4:6] == 0).any():
            used.append("positions")
    if context.score is not None:
        used.append("score")
    if context.server is not None:
        used.append("server")
    if known:
        used.append("player")
    if opponent_known:
        used.append("opponent")
    return tuple(used)


def fit_temperature(logits: np.ndarray, targets: np.ndarray, bounds=(0.05, 20.0)) -> float:
    """argmin_T of the mean log-loss of softmax(logits / T) against ``targets`` (one scalar, bounded)."""
    from scipy.optimize import minimize_scalar

    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(targets)
    rows = np.arange(len(y))

    def loss(log_t):
        scaled = z / np.exp(log_t)
        scaled = scaled - scaled.max(1, keepdims=True)
        return float(np.mean(np.log(np.exp(scaled).sum(1)) - scaled[rows, y]))

    found = minimize_scalar(loss, bounds=(np.log(bounds[0]), np.log(bounds[1])), method="bounded",
                            options={"xatol": 1e-4})
    return float(np.exp(found.x))


def temperature_interval(logits: np.ndarray, targets: np.ndarray, clusters: np.ndarray, level: float = 0.9,
                         replicates: int = 200, seed: int = 0, grid: int = 241,
                         fitted: float | None = None) -> tuple[float, float]:
    """Percentile interval (``level``) of the fitted temperature over a bootstrap of the ``clusters`` (matches):
    replicate r minimises Σ_m w_rm L_m(T), L_m the summed log-loss of cluster m, w_r multinomial counts.

    The L_m are tabulated once on ``grid`` log-spaced temperatures (a factor 3 either side of the full fit) and
    each replicate's minimum is refined by a parabola through its three nearest grid points. ``fitted``: the
    full fit when already known (:func:`fit_temperature` of the same data)."""
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(targets)
    ids, cluster = np.unique(np.asarray(clusters), return_inverse=True)
    centre = np.log(fit_temperature(z, y) if fitted is None else fitted)
    log_t = np.linspace(centre - np.log(3.0), centre + np.log(3.0), grid)
    rows = np.arange(len(y))
    table = np.empty((len(ids), grid))
    for j, lt in enumerate(log_t):
        scaled = z / np.exp(lt)
        scaled = scaled - scaled.max(1, keepdims=True)
        table[:, j] = np.bincount(cluster, np.log(np.exp(scaled).sum(1)) - scaled[rows, y], minlength=len(ids))
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(len(ids), np.full(len(ids), 1.0 / len(ids)), size=replicates)
    curves = weights @ table
    k = np.clip(curves.argmin(1), 1, grid - 2)
    left, mid, right = (curves[np.arange(replicates), k + d] for d in (-1, 0, 1))
    bend = left - 2 * mid + right
    shift = np.where(bend > 0, 0.5 * (left - right) / np.where(bend > 0, bend, 1.0), 0.0)
    fitted = np.exp(log_t[k] + np.clip(shift, -1, 1) * (log_t[1] - log_t[0]))
    tail = 50 * (1 - level)
    return float(np.percentile(fitted, tail)), float(np.percentile(fitted, 100 - tail))


def choose_temperature(logits: np.ndarray, targets: np.ndarray, matches: np.ndarray, level: float = 0.9,
                       min_matches: int = 3, seed: int = 0) -> dict:
    """The temperature to apply: the fitted one when the ``level`` interval of its bootstrap over the ``matches``
    (:func:`temperature_interval`) excludes 1 and there are at least ``min_matches`` matches, else 1; with the
    fitted value, the interval, whether it was applied and why."""
    fitted = fit_temperature(logits, targets)
    n_matches = len(np.unique(np.asarray(matches)))
    if n_matches < min_matches:
        return {"temperature": 1.0, "fitted_temperature": fitted, "interval": [None, None], "applied": False,
                "matches": n_matches,
                "reason": f"{n_matches} validation match(es): too few to tell a temperature from chance"}
    low, high = temperature_interval(logits, targets, matches, level=level, seed=seed, fitted=fitted)
    applied = not low <= 1.0 <= high
    span = f"{level * 100:.0f} % interval [{low:.3f}, {high:.3f}]"
    return {"temperature": fitted if applied else 1.0, "fitted_temperature": fitted, "interval": [low, high],
            "applied": applied, "matches": n_matches,
            "reason": (f"the validation matches agree: {span} excludes 1" if applied else
                       f"the validation matches disagree: {span} holds 1")}


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(-1, keepdims=True)


def fit_logit_offset(z: np.ndarray, y: np.ndarray, l2: float, start=None, steps: int = 4) -> np.ndarray:
    """argmin_b Σ CE(z_i + b, y_i) + l2/2 ‖b‖² by Newton steps (the problem is strictly convex)."""
    if l2 <= 0:
        raise OpponentModelError(f"adapt_l2 must be positive, got {l2}")
    k = z.shape[1]
    b = np.zeros(k) if start is None else np.array(start, dtype=float)
    onehot = np.zeros_like(z)
    onehot[np.arange(len(y)), y] = 1.0
    for _ in range(steps):
        p = _softmax(z + b)
        grad = (p - onehot).sum(0) + l2 * b
        hess = np.diag(p.sum(0)) - p.T @ p + l2 * np.eye(k)
        b = b - np.linalg.solve(hess, grad)
    return b
