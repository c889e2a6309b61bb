"""Checkpoints: tensors in safetensors files, everything else in JSON; written atomically, never unpickled.

A model directory holds ``model.safetensors`` (weights or counts) and ``model.json`` (format, kind,
vocabulary, configuration, data split, metrics, and the SHA-256 of the tensor file). A training run also
keeps ``train_state.safetensors`` / ``train_state.json`` (optimizer state, EMA, step) to resume from.
Each file is written to a temporary name, flushed to disk and renamed over the old one; the JSON, which
names the tensor file's hash, is written last, so a crash leaves either the old or the new checkpoint.

Loading checks, in order: both files are regular files within their size limits (a FIFO, a device or a
huge file is refused before it is read); the JSON parses and is of this format and version; the tensor
file's hash matches; the tensor file parses as safetensors; every JSON field meets its bounds
(:mod:`strategist.opponent.checkpoint_schema`: sizes, types, a network of at most 50 million weights,
before anything is allocated); the recorded vocabulary is the sport's current vocabulary (and the expected
sport's, when given; a sport of a user's file is defined from the checkpoint's record of it when this
process does not know it); the tensors have the names, shapes and dtypes the JSON implies, finite, and
counts non-negative. Any failure raises :class:`~strategist.errors.CheckpointError` naming the file and
the field.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np
import torch

from strategist.errors import CheckpointError, ConfigurationError
from strategist.opponent.base import Vocabulary
from strategist.opponent.checkpoint_schema import (VOCABULARY, backoff_tensor_specs, check, check_backoff_state,
                                                   check_neural_state, check_tensors, model_meta_spec,
                                                   neural_tensor_specs)
from strategist.sports.files import FileRefused, read_regular_file

FORMAT = "strategist-opponent-model"
#: 2: inputs with "missing" indicators, temperature, evidence counts, tuned smoothing apart from the constructor's
VERSION = 2
#: Size limits of a checkpoint's files (the default neural model: 0.6 MB of tensors; a Markov model of
#: order 3 on ShuttleSet: a few MB of JSON).
MAX_JSON_BYTES = 64 * 1024 * 1024
MAX_TENSOR_BYTES = 1024 * 1024 * 1024


# -- atomic files --------------------------------------------------------------------------------------------
def atomic_write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_tensors(directory: Path, name: str, tensors: dict, meta: dict) -> None:
    """``name.safetensors`` from ``tensors`` then ``name.json`` from ``meta`` (plus the tensor file's hash)."""
    from safetensors.torch import save

    directory = Path(directory)
    clean = {}
    for key, value in tensors.items():
        t = torch.as_tensor(value) if not isinstance(value, torch.Tensor) else value
        clean[key] = t.detach().to("cpu").contiguous().clone()
    blob = save(clean)
    atomic_write_bytes(directory / f"{name}.safetensors", blob)
    meta = dict(meta, tensor_file=f"{name}.safetensors", sha256=hashlib.sha256(blob).hexdigest())
    atomic_write_bytes(directory / f"{name}.json", json.dumps(meta, indent=1, sort_keys=True).encode("utf-8"))


def read_tensors(directory: Path, name: str) -> tuple[dict[str, torch.Tensor], dict]:
    """The tensors and JSON written by :func:`write_tensors`; :class:`CheckpointError` on any damage. Both
    files are read only if they are regular files within :data:`MAX_JSON_BYTES` / :data:`MAX_TENSOR_BYTES`."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    directory = Path(directory)
    meta_path = directory / f"{name}.json"
    if not meta_path.exists() and not meta_path.is_symlink():
        raise CheckpointError(f"{meta_path}: no such file; is {directory} a saved opponent model?")
    text = _read(meta_path, MAX_JSON_BYTES)
    try:
        meta = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{meta_path}: damaged JSON ({exc})") from None
    except RecursionError:
        raise CheckpointError(f"{meta_path}: damaged JSON (nested too deep)") from None
    if not isinstance(meta, dict) or not isinstance(meta.get("sha256"), str):
        raise CheckpointError(f"{meta_path}: not a checkpoint description (no sha256 of its tensor file)")
    tensor_path = directory / f"{name}.safetensors"
    blob = _read(tensor_path, MAX_TENSOR_BYTES)
    if hashlib.sha256(blob).hexdigest() != meta["sha256"]:
        raise CheckpointError(f"{tensor_path}: damaged file (its SHA-256 differs from the one recorded in "
                              f"{meta_path.name})")
    try:
        tensors = load(blob)
    except (SafetensorError, ValueError, RuntimeError, OverflowError) as exc:
        raise CheckpointError(f"{tensor_path}: not a valid safetensors file ({exc})") from None
    return tensors, meta


def _read(path: Path, limit: int) -> bytes:
    try:
        return read_regular_file(path, limit)
    except FileRefused as exc:
        raise CheckpointError(f"{path}: cannot read ({exc})") from None


# -- models --------------------------------------------------------------------------------------------------
def save_model(model, directory) -> Path:
    """Write a fitted model to ``directory`` (created if needed)."""
    model._check_fitted()
    tensors, state = model._state()
    meta = {"format": FORMAT, "version": VERSION, "kind": model.kind, "vocabulary": model.vocabulary.to_json(),
            "vocabulary_fingerprint": model.vocabulary.fingerprint, "state": state,
            "metrics": model.metrics_, "split": model.split_}
    definition = sport_definition(model.sport)
    if definition is not None:
        meta["sport_definition"] = definition
    write_tensors(Path(directory), "model", tensors, meta)
    return Path(directory)


def sport_definition(sport) -> dict | None:
    """What a checkpoint records of a sport defined by a user's file (None for a built-in sport)."""
    from strategist.sports import get_sport
    from strategist.sports.sportfile import sport_to_mapping

    sport = get_sport(sport)
    return None if sport.extends is None else sport_to_mapping(sport)


def check_vocabulary(meta: dict, where, sport=None) -> Vocabulary:
    """The recorded vocabulary, refused when it is not the current one of its sport (or not ``sport``'s). A
    sport of a user's file that this process does not know is defined from the checkpoint's record of it."""
    from strategist.sports import get_sport

    saved = Vocabulary.from_json(check(VOCABULARY, meta.get("vocabulary"), where, "vocabulary"))
    if sport is not None and get_sport(sport).name != saved.sport:
        raise CheckpointError(f"{where}: a {saved.sport} model, not {get_sport(sport).name}")
    try:
        current = Vocabulary.of(saved.sport)
    except ConfigurationError:
        current = _define_recorded_sport(meta, saved, where)
    if current != saved:
        diff = sorted(set(saved.shots) ^ set(current.shots)) or "the order of the shots or the areas"
        raise CheckpointError(f"{where}: the checkpoint's vocabulary is not the current {saved.sport} "
                              f"vocabulary (differs in {diff}); retrain the model")
    return saved


def _define_recorded_sport(meta: dict, saved: Vocabulary, where) -> Vocabulary:
    from strategist.sports.registry import register_sport
    from strategist.sports.sportfile import sport_from_mapping

    definition = meta.get("sport_definition")
    if definition is None:
        raise CheckpointError(f"{where}: sport {saved.sport!r} of the checkpoint is not known here (load its sport "
                              "file first)")
    try:
        sport = sport_from_mapping(definition, where=f"{where}: field 'sport_definition'")
    except ConfigurationError as exc:
        raise CheckpointError(str(exc)) from None
    # the vocabulary read off the sport itself: Vocabulary.of would register a sport that is then refused
    if sport.name != saved.sport or Vocabulary(sport.name, tuple(sport.shots), tuple(sport.areas)) != saved:
        raise CheckpointError(f"{where}: field 'sport_definition': does not define the recorded vocabulary")
    register_sport(sport)
    return saved


def load_model(directory, sport=None):
    """A model saved by :func:`save_model`; ``sport`` (optional) is the sport the caller expects. The JSON is
    checked against :mod:`strategist.opponent.checkpoint_schema` and the tensors against it before use."""
    from strategist.opponent import KINDS
    from strategist.opponent.neural import EVIDENCE, NeuralConfig

    directory = Path(directory)
    tensors, meta = read_tensors(directory, "model")
    where = directory / "model.json"
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise CheckpointError(f"{directory}: format {str(meta.get('format'))[:60]!r} version "
                              f"{str(meta.get('version'))[:20]!r}; expected {FORMAT!r} version {VERSION} (a model "
                              "saved by another version of strategist: retrain it)")
    meta = check(model_meta_spec(KINDS, FORMAT, VERSION), meta, where)
    vocab = check_vocabulary(meta, directory, sport)
    kind = meta["kind"]
    model = KINDS[kind](vocab.sport)
    if kind == "neural":
        state = check_neural_state(meta["state"], vocab, where)
        model.config = NeuralConfig.from_json(state["config"])
        model.build(state["players"], state["norm"])
        check_tensors(tensors, neural_tensor_specs(model), directory / "model.safetensors", counts=(EVIDENCE,))
    else:
        state = check_backoff_state(kind, meta["state"], vocab, where)
        check_tensors(tensors, backoff_tensor_specs(state, vocab), directory / "model.safetensors",
                      counts=("pop_counts", "player_counts"))
    try:
        model._load_state(tensors, state)
    except (KeyError, TypeError, ValueError, IndexError, RuntimeError) as exc:
        if isinstance(exc, CheckpointError):
            raise
        raise CheckpointError(f"{directory}: the recorded state is incomplete or inconsistent ({exc!r})") from None
    model.metrics_ = meta.get("metrics") or {}
    model.split_ = meta.get("split")
    return model


# -- nested state (optimizer state dicts) without pickle -----------------------------------------------------
#: The dtypes an optimizer state may name (``__dtype__``); nothing else of torch is looked up.
DTYPES = {name: getattr(torch, name) for name in ("float16", "bfloat16", "float32", "float64", "int8", "int16",
                                                  "int32", "int64", "uint8", "bool", "complex64", "complex128")}
MAX_STATE_DEPTH = 16
MAX_STATE_NODES = 1_000_000
def flatten_state(tree, prefix: str = "s") -> tuple[object, dict[str, torch.Tensor]]:
    """A JSON-able skeleton of ``tree`` (dicts, lists, tuples, numbers, strings, dtypes, tensors) and its
    tensors by name; :func:`unflatten_state` inverts it."""
    tensors: dict[str, torch.Tensor] = {}

    def walk(obj, path):
        if isinstance(obj, torch.Tensor):
            tensors[path] = obj
            return {"__tensor__": path}
        if isinstance(obj, np.ndarray):
            tensors[path] = torch.from_numpy(obj)
            return {"__tensor__": path}
        if isinstance(obj, dict):
            return {"__dict__": [[walk(k, f"{path}.k{i}"), walk(v, f"{path}.{i}")]
                                 for i, (k, v) in enumerate(obj.items())]}
        if isinstance(obj, tuple):
            return {"__tuple__": [walk(v, f"{path}.{i}") for i, v in enumerate(obj)]}
        if isinstance(obj, list):
            return [walk(v, f"{path}.{i}") for i, v in enumerate(obj)]
        if isinstance(obj, torch.dtype):
            return {"__dtype__": str(obj).removeprefix("torch.")}
        if obj is None or isinstance(obj, (bool, int, float, str)):
            if isinstance(obj, float) and not np.isfinite(obj):
                return {"__float__": repr(obj)}
            return obj
        if isinstance(obj, (np.integer, np.floating)):
            return obj.item()
        raise CheckpointError(f"cannot store a {type(obj).__name__} at {path} without pickle")

    return walk(tree, prefix), tensors


def unflatten_state(skeleton, tensors: dict[str, torch.Tensor], where="training state"):
    """Inverse of :func:`flatten_state`; a skeleton deeper than :data:`MAX_STATE_DEPTH`, larger than
    :data:`MAX_STATE_NODES`, naming a dtype outside :data:`DTYPES`, a missing tensor or a malformed node raises
    :class:`CheckpointError` naming ``where`` and the path of the node."""
    nodes = 0

    def fail(path, text):
        raise CheckpointError(f"{where}: field {path!r}: {text}")

    def build(obj, path, depth):
        nonlocal nodes
        nodes += 1
        if nodes > MAX_STATE_NODES:
            fail(path, f"more than {MAX_STATE_NODES:,} entries")
        if depth > MAX_STATE_DEPTH:
            fail(path, f"nested deeper than {MAX_STATE_DEPTH}")
        if isinstance(obj, list):
            return [build(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(obj)]
        if not isinstance(obj, dict):
            if obj is None or isinstance(obj, (bool, int, float, str)):
                return obj
            fail(path, f"unexpected {type(obj).__name__}")
        if len(obj) != 1:
            fail(path, "expected one of __tensor__, __dict__, __tuple__, __dtype__, __float__")
        (tag, value), = obj.items()
        if tag == "__tensor__":
            if not isinstance(value, str) or value not in tensors:
                fail(path, f"names no tensor of the file ({str(value)[:80]!r})")
            return tensors[value]
        if tag == "__dict__":
            if not isinstance(value, list) or not all(isinstance(p, list) and len(p) == 2 for p in value):
                fail(path, "expected a list of [key, value] pairs")
            out = {}
            for i, (k, v) in enumerate(value):
                key = build(k, f"{path}.k{i}", depth + 1)
                if not isinstance(key, (str, int, float, bool, type(None), tuple)):
                    fail(f"{path}.k{i}", "a key must be a number, a text or a tuple")
                try:
                    out[key] = build(v, f"{path}.{i}", depth + 1)
                except TypeError:
                    fail(f"{path}.k{i}", "a key must be a number, a text or a tuple of them")
            return out
        if tag == "__tuple__":
            if not isinstance(value, list):
                fail(path, "expected a list")
            return tuple(build(v, f"{path}[{i}]", depth + 1) for i, v in enumerate(value))
        if tag == "__dtype__":
            if value not in DTYPES:
                fail(path, f"dtype {str(value)[:40]!r} is not one of {sorted(DTYPES)}")
            return DTYPES[value]
        if tag == "__float__":
            if value not in ("nan", "inf", "-inf"):
                fail(path, f"expected 'nan', 'inf' or '-inf', got {str(value)[:40]!r}")
            return float(value)
        fail(path, f"unknown tag {str(tag)[:40]!r}")

    return build(skeleton, "optimizer", 0)
