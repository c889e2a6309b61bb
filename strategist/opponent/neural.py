"""Neural opponent model: a GRU over the rally so far, with the players and the moment of the match.

Input at step j of a rally (predicting stroke j + 1): the shot of stroke j (a start mark for j = 0), where
it landed and how high (the shuttle above or below net height there), the hitter's wing, the hitter's and opponent's positions at contact (standardised; a mask
where missing), and whether stroke j's hitter also hits next. The GRU state at step j is joined with the
next hitter's and the other player's embeddings, the next stroke's number, the score before the rally
(next hitter's and other's points) and whether the next hitter served, then a two-layer head gives the
logits of the next shot. Players the model never saw share one "unknown player" embedding, trained by
replacing a random share of players with it (``player_dropout``): the documented fallback for an unknown
player is this population embedding.

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
N_NUM = len(POSITION_COLUMNS) + 2  # positions, their mask, same-hitter flag
N_CTX = 3                           # score (2), server flag


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
    optimizer: str = "shampoo"       # by the benchmark's rule (strategist.opponent.train.DEFAULT_OPTIMIZER)
    lr: float | None = None          # None: the optimizer's default for this model
    weight_decay: float = 0.01
    batch_size: int = 64             # rallies per step (global batch under DDP)
    max_steps: int = 3000
    warmup: float = 0.05             # share of max_steps
    schedule: str = "cosine"         # "cosine" or "wsd" (warm-up, stable, linear decay over the last 20 %)
    final_lr_ratio: float = 0.05
    ema: float = 0.995               # EMA decay of the weights used for evaluation (0: none)
    clip: float = 1.0                # gradient-norm clip (0: none)
    eval_every: int = 100
    patience: int = 6                # evaluations without a better validation loss before stopping
    checkpoint_every: int = 100
    seed: int = 0
    adapt_l2: float = 4.0            # λ of the in-match logit offset

    @classmethod
    def from_json(cls, data: dict) -> "NeuralConfig":
        names = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

    def to_json(self) -> dict:
        return asdict(self)


class RallyNet(nn.Module):
    """Embeddings -> linear -> GRU -> head (see the module docstring)."""

    def __init__(self, n_shots: int, n_areas: int, n_players: int, cfg: NeuralConfig):
        super().__init__()
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
        come from the :class:`History`, the rest from one array read per column of its frame)."""
        n = len(history)
        shot = np.asarray(history.shots, dtype=np.int64) + 2
        area_ix = self.area_ix
        area = np.fromiter((0 if a is None else area_ix.get(a, 0) for a in history.areas), np.int64, n)
        hitters = history.hitters
        return {"shot": shot, "area": area,
                **self._frame_inputs(history.frame, n, hitters, hitters[1:] + (next_player,))}

    def _frame_inputs(self, frame, n: int, hitters, next_hitters) -> dict[str, np.ndarray]:
        """Wing, landing height and the numeric inputs (standardised positions, their mask, same hitter next)."""
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
        missing = ~np.isfinite(pos)
        pos = np.where(missing, 0.0, (pos - self.mean) / self.std).astype(np.float32)
        same = np.fromiter((h == nh for h, nh in zip(hitters, next_hitters)), np.float32, n)
        num = np.concatenate([pos, missing.any(1, keepdims=True).astype(np.float32), same[:, None]], axis=1)
        return {"wing": codes("wing", WINGS), "height": codes("landing_height", HEIGHTS), "num": num}

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
    hs = hs.to_numpy(dtype=np.float32, na_value=0.0) / 21.0
    os_ = os_.to_numpy(dtype=np.float32, na_value=0.0) / 21.0
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
        out["ctx"][k, :n, 2] = [float(h == s) for h, s in zip(hitters[a:b], servers[a:b])]
        out["target"][k, :n] = target[a:b]
        out["rows"][k, :n] = np.arange(a, b)
    out["lengths"] = lengths
    return out


def to_tensors(arrays: dict, device) -> dict[str, torch.Tensor]:
    return {k: torch.as_tensor(v, device=device) for k, v in arrays.items()}


def batch_of(data: dict[str, torch.Tensor], idx: torch.Tensor) -> dict[str, torch.Tensor]:
    """Rallies ``idx`` of the padded data, trimmed to the longest of them."""
    t = int(data["lengths"][idx].max())
    return {k: (v[idx, :t] if v.dim() > 1 else v[idx]) for k, v in data.items()}


# -- the model ---------------------------------------------------------------------------------------------
class NeuralModel(OpponentModel):
    """The GRU model behind the common interface; ``fit`` trains it (:func:`strategist.opponent.train.train`)."""

    kind = "neural"

    def __init__(self, sport="badminton", config: NeuralConfig | None = None, **kwargs):
        super().__init__(sport)
        self.config = config or NeuralConfig(**kwargs)
        if config is not None and kwargs:
            self.config = NeuralConfig(**{**config.to_json(), **kwargs})
        self.players: list[str] = []
        self.norm: dict = {"mean": [0.0] * 4, "std": [1.0] * 4}
        self.net: RallyNet | None = None
        self.device = torch.device("cpu")
        self._encoder: Encoder | None = None
        self._live_logits: dict[str, list] = {}
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
        return self.net

    def fit(self, table: pd.DataFrame, **kwargs) -> "NeuralModel":
        from strategist.opponent.train import train

        return train(self, table, **kwargs)

    def encode(self, table: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
        frame = self._check_table(table)
        return frame, encode_table(self._encoder, frame)

    # -- prediction ----------------------------------------------------------------------------------------
    @torch.inference_mode()
    def logits_table(self, table: pd.DataFrame, batch: int = 256) -> tuple[pd.DataFrame, np.ndarray]:
        """Raw logits of every stroke of ``rally_frame(table)`` (rows in that order)."""
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
        return frame, out

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
        score = context.score or (0, 0)
        ctx = np.array([score[0] / 21.0, score[1] / 21.0,
                        float(context.player is not None and context.player == context.server)], np.float32)
        stroke = min(max(int(context.stroke or t), 1), MAX_STROKE)
        if self.device.type == "cpu":        # the folded NumPy forward pass: same logits, no torch overhead
            folded = self._folded
            if folded is None or not folded.fresh(self.net):
                folded = self._folded = FoldedRallyNet(self.net)
            logits = folded.logits(shot, area, wing, height, num, player, opponent, stroke, ctx).astype(np.float64)
        else:
            logits = self._torch_logits(shot, area, wing, height, num, player, opponent, stroke, ctx)
        bias = self._bias.get(context.player) if context.player is not None else None
        if bias is not None:
            logits = logits + bias
        info = {"n": float(len(self._live_logits.get(context.player, ()))),
                "source": "player" if known else "population", "known_player": bool(known),
                "adapted": bias is not None}
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
        for player, rows in frame.groupby(frame["hitter"].astype(str), sort=False).indices.items():
            self._live_logits.setdefault(player, []).extend(zip(logits[rows], targets[rows]))
            z = np.stack([r[0] for r in self._live_logits[player]])
            y = np.array([r[1] for r in self._live_logits[player]])
            self._bias[player] = fit_logit_offset(z, y, self.config.adapt_l2, self._bias.get(player))
        return self

    def reset(self) -> "NeuralModel":
        self._live_logits, self._bias, self._live_match = {}, {}, None
        return self

    # -- checkpoint state ----------------------------------------------------------------------------------
    def _state(self) -> tuple[dict, dict]:
        tensors = {k: v.detach() for k, v in self.net.state_dict().items()}
        meta = {"config": self.config.to_json(), "players": self.players, "norm": self.norm}
        return tensors, meta

    def _load_state(self, tensors: dict, meta: dict) -> None:
        self.config = NeuralConfig.from_json(meta["config"])
        self.build(meta["players"], meta["norm"])
        try:
            self.net.load_state_dict({k: torch.as_tensor(v) for k, v in tensors.items()})
        except RuntimeError as exc:
            from strategist.errors import CheckpointError

            raise CheckpointError(f"the weights do not fit the recorded architecture: {exc}") from None
        self.net.eval()
        self.fitted_ = True

    def to(self, device) -> "NeuralModel":
        self.device = torch.device(device)
        if self.net is not None:
            self.net.to(self.device)
        return self


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
