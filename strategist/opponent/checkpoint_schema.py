"""What a checkpoint's JSON may hold: every field's type and bounds, checked before anything is allocated.

A saved model or training state is untrusted input (a folder typed on the Model page, a file sent by
someone else). Its JSON is checked field by field against the specs below — types, ranges, lengths, the
network's size (:data:`MAX_PARAMETERS`) — and its tensors against the shapes the JSON implies, finite, and
non-negative where they are counts. Every failure is one :class:`~strategist.errors.CheckpointError` naming
the file and the field (``state.config.hidden``) and what was expected.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from strategist.errors import CheckpointError

MAX_SHOTS = 256
MAX_AREAS = 256
MAX_PLAYERS = 100_000
MAX_KEYS = 5_000_000
MAX_LABEL = 200
MAX_DEPTH = 12
#: The largest network a checkpoint may describe (weights; the default model has about 0.2 million).
MAX_PARAMETERS = 50_000_000


class Invalid(Exception):
    """A value that does not meet its spec: the field's path and what was expected."""

    def __init__(self, path: str, expected: str, value=None):
        self.path, self.expected, self.value = path, expected, value
        shown = repr(value)
        super().__init__(f"field {path!r}: expected {expected}, got {shown[:80]}{'...' if len(shown) > 80 else ''}")


# -- specs -------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Int:
    lo: int
    hi: int

    def check(self, v, path):
        if isinstance(v, bool) or not isinstance(v, int) or not self.lo <= v <= self.hi:
            raise Invalid(path, f"an integer in [{self.lo}, {self.hi}]", v)
        return v


@dataclass(frozen=True)
class Float:
    lo: float = -math.inf
    hi: float = math.inf
    finite: bool = True
    open_lo: bool = False

    def check(self, v, path):
        ok = not isinstance(v, bool) and isinstance(v, (int, float))
        if ok and not self.finite:          # a loss: infinite or NaN as a failed run leaves it
            return float(v)
        ok = ok and math.isfinite(v) and self.lo <= v <= self.hi
        ok = ok and not (self.open_lo and v == self.lo)
        if not ok:
            low = "(" if self.open_lo else "["
            raise Invalid(path, f"a finite number in {low}{self.lo}, {self.hi}]", v)
        return float(v)


@dataclass(frozen=True)
class Bool:
    def check(self, v, path):
        if not isinstance(v, bool):
            raise Invalid(path, "true or false", v)
        return v


@dataclass(frozen=True)
class Str:
    max_len: int = MAX_LABEL
    choices: tuple = ()

    def check(self, v, path):
        if not isinstance(v, str) or len(v) > self.max_len:
            raise Invalid(path, f"a text of at most {self.max_len} characters", v)
        if self.choices and v not in self.choices:
            raise Invalid(path, f"one of {list(self.choices)}", v)
        return v


@dataclass(frozen=True)
class Opt:
    spec: object

    def check(self, v, path):
        return None if v is None else self.spec.check(v, path)


@dataclass(frozen=True)
class List:
    item: object
    min_len: int = 0
    max_len: int = MAX_KEYS
    unique: bool = False

    def check(self, v, path):
        if not isinstance(v, list) or not self.min_len <= len(v) <= self.max_len:
            raise Invalid(path, f"a list of {self.min_len} to {self.max_len} items", f"{type(v).__name__} "
                          f"of {len(v) if isinstance(v, (list, dict, str)) else '-'} items")
        out = [self.item.check(x, f"{path}[{i}]") for i, x in enumerate(v)]
        if self.unique and len(set(out)) != len(out):
            raise Invalid(path, "distinct items", [x for x in out if out.count(x) > 1][:3])
        return out


@dataclass(frozen=True)
class Obj:
    """A JSON object with known keys (all optional unless ``required``; no others unless ``extra``)."""

    spec: dict
    required: tuple = ()
    extra: bool = False

    def check(self, v, path):
        if not isinstance(v, dict):
            raise Invalid(path, "an object", type(v).__name__)
        for key in self.required:
            if key not in v:
                raise Invalid(f"{path}.{key}".lstrip("."), "a value (the field is missing)")
        unknown = sorted(set(v) - set(self.spec))
        if unknown and not self.extra:
            raise Invalid(f"{path}.{unknown[0]}".lstrip("."), f"no such field (fields: {sorted(self.spec)})")
        return {k: self.spec[k].check(x, f"{path}.{k}".lstrip(".")) if k in self.spec else x for k, x in v.items()}


@dataclass(frozen=True)
class Json:
    """Any JSON value nested at most ``depth`` deep (metrics: shown, never computed with)."""

    depth: int = MAX_DEPTH

    def check(self, v, path, level=0):
        if level > self.depth:
            raise Invalid(path, f"a value nested at most {self.depth} deep", "deeper")
        if isinstance(v, dict):
            for k, x in v.items():
                self.check(x, f"{path}.{k}", level + 1)
        elif isinstance(v, list):
            for i, x in enumerate(v):
                self.check(x, f"{path}[{i}]", level + 1)
        return v


@dataclass(frozen=True)
class Hex:
    length: int

    def check(self, v, path):
        if not isinstance(v, str) or len(v) != self.length or any(c not in "0123456789abcdef" for c in v):
            raise Invalid(path, f"{self.length} lower-case hex digits", v)
        return v


LABEL = Str(MAX_LABEL)
VOCABULARY = Obj({"sport": Str(60), "shots": List(LABEL, 1, MAX_SHOTS, unique=True),
                  "areas": List(LABEL, 0, MAX_AREAS, unique=True)}, required=("sport", "shots", "areas"))
PLAYERS = List(Str(MAX_LABEL), 0, MAX_PLAYERS, unique=True)
MATCHES = List(Str(1000), 0, MAX_PLAYERS)
SPLIT = Opt(Obj({"rule": Str(100), "train": MATCHES, "valid": MATCHES, "test": MATCHES}))
SPORT_DEFINITION = Opt(Json(4))
NORM = Obj({"mean": List(Float(-1e12, 1e12), 4, 4), "std": List(Float(0.0, 1e12, open_lo=True), 4, 4)},
           required=("mean", "std"))


def neural_config_spec():
    """The bounds of every :class:`~strategist.opponent.neural.NeuralConfig` field."""
    from strategist.opponent.train import OPTIMIZERS

    return Obj({
        "d_shot": Int(1, 512), "d_area": Int(1, 512), "d_player": Int(1, 512), "d_height": Int(1, 512),
        "hidden": Int(1, 2048), "layers": Int(1, 8), "dropout": Float(0.0, 0.99), "player_dropout": Float(0.0, 1.0),
        "optimizer": Str(20, OPTIMIZERS), "lr": Opt(Float(0.0, 10.0, open_lo=True)),
        "weight_decay": Float(0.0, 10.0), "batch_size": Int(1, 1 << 20), "max_steps": Int(1, 10 ** 8),
        "warmup": Float(0.0, 1.0), "schedule": Str(20, ("cosine", "wsd")), "final_lr_ratio": Float(0.0, 1.0),
        "ema": Float(0.0, 0.999999), "clip": Float(0.0, 1e6), "eval_every": Int(1, 10 ** 8),
        "patience": Int(0, 10 ** 8), "checkpoint_every": Int(1, 10 ** 8), "seed": Int(0, 2 ** 63 - 1),
        "adapt_l2": Float(0.0, 1e6, open_lo=True), "mask_rallies": Float(0.0, 1.0), "mask_strokes": Float(0.0, 1.0),
        "valid_hidden_weight": Float(0.0, 1.0),
        "calibrate": Bool()})


def backoff_state_spec(kind: str):
    number = Float(0.0, 1e9, open_lo=True)
    config = {"beta": number, "beta_player": number, "mix": Float(0.0, 1.0), "adapt_weight": Float(0.0, 1e9),
              "tune": Bool(), "by_player": Bool()}
    if kind == "markov":
        config["order"] = Int(1, 8)
    fitted = Obj({"beta": number, "beta_player": number, "mix": Float(0.0, 1.0)},
                 required=("beta", "beta_player", "mix"))
    return Obj({"config": Obj(config, required=tuple(config)), "fitted": fitted,
                "pop_keys": List(List(Json(3), 2, 2), 1, MAX_KEYS),
                "player_keys": List(List(Json(3), 3, 3), 0, MAX_KEYS), "players": PLAYERS},
               required=("config", "fitted", "pop_keys", "player_keys", "players"))


def model_meta_spec(kinds, format_name: str, version: int):
    return Obj({"format": Str(60, (format_name,)), "version": Int(version, version), "kind": Str(20, tuple(kinds)),
                "vocabulary": VOCABULARY, "vocabulary_fingerprint": Str(64), "sport_definition": SPORT_DEFINITION,
                "state": Obj({}, extra=True), "metrics": Opt(Json()), "split": SPLIT, "sha256": Hex(64),
                "tensor_file": Str(60, ("model.safetensors",))},
               required=("format", "version", "kind", "vocabulary", "state", "sha256"))


def train_meta_spec(format_name: str):
    loss = Opt(Float(finite=False))
    record = Obj({"step": Int(0, 10 ** 9), "seconds": Float(0.0, 1e12), "cpu_seconds": Float(0.0, 1e12),
                  "train_loss": loss, "valid_loss": loss,
                  "valid_loss_recorded_inputs": loss, "valid_loss_shots_only": loss}, required=("step", "valid_loss"))
    state = Obj({"step": Int(0, 10 ** 9), "best": Float(finite=False), "best_step": Int(0, 10 ** 9),
                 "since_best": Int(0, 10 ** 9), "curve": List(record, 0, 10 ** 6), "train_seconds": Float(0.0, 1e12),
                 "train_cpu_seconds": Float(0.0, 1e12), "stopped": Opt(Str(40, ("early stopping", "time budget", "max steps", "non-finite loss")))},
                required=("step", "best", "best_step", "since_best", "curve", "train_seconds"))
    return Obj({"format": Str(60, (format_name,)), "vocabulary": VOCABULARY, "sport_definition": SPORT_DEFINITION,
                "config": neural_config_spec(), "data": Str(64), "optimizer": Json(MAX_DEPTH), "state": state,
                "players": PLAYERS, "norm": NORM, "sha256": Hex(64), "tensor_file": Str(60, ("train_state.safetensors",))},
               required=("format", "vocabulary", "config", "data", "optimizer", "state", "players", "norm", "sha256"))


def check(spec, value, where, path: str = ""):
    """``value`` checked against ``spec``; :class:`CheckpointError` naming ``where`` and the field."""
    try:
        return spec.check(value, path)
    except Invalid as exc:
        raise CheckpointError(f"{where}: {exc}") from None
    except RecursionError:
        raise CheckpointError(f"{where}: field {path or 'top'!r}: nested too deep") from None


# -- the states of each model kind --------------------------------------------------------------------------------
def check_neural_state(state: dict, vocabulary, where) -> dict:
    """The state of a saved neural model: its configuration, players, normalisation, temperature, and a
    network no larger than :data:`MAX_PARAMETERS`."""
    from strategist.opponent.neural import NeuralConfig

    spec = Obj({"config": neural_config_spec(), "players": PLAYERS, "norm": NORM,
                "temperature": Float(0.01, 100.0)}, required=("config", "players", "norm", "temperature"))
    state = check(spec, state, where, "state")
    config = NeuralConfig.from_json(state["config"])
    check_network_size(config, vocabulary, len(state["players"]), where, "state.config")
    return state


def check_network_size(config, vocabulary, n_players: int, where, path: str) -> int:
    from strategist.opponent.neural import parameter_count

    size = parameter_count(len(vocabulary.shots), len(vocabulary.areas), n_players, config)
    if size > MAX_PARAMETERS:
        raise CheckpointError(f"{where}: field {path!r}: describes a network of {size:,} weights, more than the "
                              f"limit of {MAX_PARAMETERS:,}")
    return size


def check_backoff_state(kind: str, state: dict, vocabulary, where) -> dict:
    """The state of a saved count model: its parameters and its context keys (levels and key shapes of the
    kind, no key twice)."""
    state = check(backoff_state_spec(kind), state, where, "state")
    levels = state["config"]["order"] if kind == "markov" else 2
    k = len(vocabulary.shots)
    seen = set()
    for i, (level, key) in enumerate(state["pop_keys"]):
        _check_key(kind, level, key, levels, k, where, f"state.pop_keys[{i}]")
        seen_key = (level, _hashable(key))
        if seen_key in seen:
            raise CheckpointError(f"{where}: field 'state.pop_keys[{i}]': the key is given twice")
        seen.add(seen_key)
    players, seen = set(state["players"]), set()
    for i, (player, level, key) in enumerate(state["player_keys"]):
        if not isinstance(player, str) or player not in players:
            raise CheckpointError(f"{where}: field 'state.player_keys[{i}][0]': expected one of the recorded "
                                  f"players, got {str(player)[:80]!r}")
        _check_key(kind, level, key, levels, k, where, f"state.player_keys[{i}]")
        seen_key = (player, level, _hashable(key))
        if seen_key in seen:
            raise CheckpointError(f"{where}: field 'state.player_keys[{i}]': the key is given twice")
        seen.add(seen_key)
    return state


def _check_key(kind, level, key, levels: int, k: int, where, path: str) -> None:
    if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= levels:
        raise CheckpointError(f"{where}: field {path + '[level]'!r}: expected a level in [0, {levels}], got "
                              f"{str(level)[:40]!r}")
    if level == 0:
        ok = key == []
        expected = "[] (the unigram's key)"
    elif kind == "markov":
        ok = (isinstance(key, list) and len(key) == level and
              all(isinstance(x, int) and not isinstance(x, bool) and -1 <= x < k for x in key))
        expected = f"the last {level} shots as {level} shot indices in [-1, {k - 1}]"
    else:
        ok = isinstance(key, str) and len(key) <= MAX_LABEL
        expected = "a decision state's label"
    if not ok:
        raise CheckpointError(f"{where}: field {path + '[key]'!r}: expected {expected}, got {str(key)[:80]!r}")


def _hashable(key):
    return tuple(key) if isinstance(key, list) else key


# -- tensors ------------------------------------------------------------------------------------------------------
def check_tensors(tensors: dict, expected: dict, where, *, counts: tuple = ()) -> None:
    """``tensors`` has exactly the names of ``expected`` (name -> (shape, dtype)), each of that shape and dtype,
    finite; those named in ``counts`` also non-negative."""
    missing = sorted(set(expected) - set(tensors))
    extra = sorted(set(tensors) - set(expected))
    if missing or extra:
        raise CheckpointError(f"{where}: the tensors do not match the recorded model (missing {missing[:5]}, "
                              f"unexpected {extra[:5]})")
    for name, (shape, dtype) in expected.items():
        t = tensors[name]
        if tuple(t.shape) != tuple(shape):
            raise CheckpointError(f"{where}: tensor {name!r}: shape {tuple(t.shape)}, the JSON implies {tuple(shape)}")
        if t.dtype != dtype:
            raise CheckpointError(f"{where}: tensor {name!r}: dtype {t.dtype}, expected {dtype}")
        check_finite(t, where, name, nonnegative=name in counts)


def check_finite(t: torch.Tensor, where, name: str, nonnegative: bool = False) -> None:
    if t.dtype.is_floating_point or t.dtype.is_complex:
        if not bool(torch.isfinite(t).all()):
            raise CheckpointError(f"{where}: tensor {name!r} holds NaN or infinite values")
    if nonnegative and t.numel() and bool((t < 0).any()):
        raise CheckpointError(f"{where}: tensor {name!r} holds negative counts")


def neural_tensor_specs(model) -> dict:
    """name -> (shape, dtype) of a built neural model's saved tensors."""
    from strategist.opponent.neural import EVIDENCE

    specs = {k: (tuple(v.shape), v.dtype) for k, v in model.net.state_dict().items()}
    specs[EVIDENCE] = ((len(model.players) + 1, len(model.vocabulary.shots) + 1), torch.float64)
    return specs


def backoff_tensor_specs(state: dict, vocabulary) -> dict:
    k = len(vocabulary.shots)
    return {"pop_counts": ((len(state["pop_keys"]), k), torch.float64),
            "player_counts": ((len(state["player_keys"]), k), torch.float64)}

