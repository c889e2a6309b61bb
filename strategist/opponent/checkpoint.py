"""Checkpoints: tensors in safetensors files, everything else in JSON; written atomically, never unpickled.

A model directory holds ``model.safetensors`` (weights or counts) and ``model.json`` (format, kind,
vocabulary, configuration, data split, metrics, and the SHA-256 of the tensor file). A training run also
keeps ``train_state.safetensors`` / ``train_state.json`` (optimizer state, EMA, step) to resume from.
Each file is written to a temporary name, flushed to disk and renamed over the old one; the JSON, which
names the tensor file's hash, is written last, so a crash leaves either the old or the new checkpoint.

Loading checks, in order: the JSON parses and is of this format; the tensor file's hash matches; the
tensor file parses as safetensors; the recorded vocabulary is the sport's current vocabulary (and the
expected sport's, when given). Any failure raises :class:`~strategist.errors.CheckpointError`.
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

FORMAT = "strategist-opponent-model"
VERSION = 1


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
    """The tensors and JSON written by :func:`write_tensors`; :class:`CheckpointError` on any damage."""
    from safetensors import SafetensorError
    from safetensors.torch import load

    directory = Path(directory)
    meta_path = directory / f"{name}.json"
    if not meta_path.is_file():
        raise CheckpointError(f"{meta_path}: no such file; is {directory} a saved opponent model?")
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise CheckpointError(f"{meta_path}: damaged JSON ({exc})") from None
    if not isinstance(meta, dict) or "sha256" not in meta:
        raise CheckpointError(f"{meta_path}: not a checkpoint description (no sha256 of its tensor file)")
    tensor_path = directory / f"{name}.safetensors"
    try:
        blob = tensor_path.read_bytes()
    except OSError as exc:
        raise CheckpointError(f"{tensor_path}: cannot read ({exc.strerror})") from None
    if hashlib.sha256(blob).hexdigest() != meta["sha256"]:
        raise CheckpointError(f"{tensor_path}: damaged file (its SHA-256 differs from the one recorded in "
                              f"{meta_path.name})")
    try:
        tensors = load(blob)
    except (SafetensorError, ValueError, RuntimeError) as exc:
        raise CheckpointError(f"{tensor_path}: not a valid safetensors file ({exc})") from None
    return tensors, meta


# -- models --------------------------------------------------------------------------------------------------
def save_model(model, directory) -> Path:
    """Write a fitted model to ``directory`` (created if needed)."""
    model._check_fitted()
    tensors, state = model._state()
    meta = {"format": FORMAT, "version": VERSION, "kind": model.kind, "vocabulary": model.vocabulary.to_json(),
            "vocabulary_fingerprint": model.vocabulary.fingerprint, "state": state,
            "metrics": model.metrics_, "split": model.split_}
    write_tensors(Path(directory), "model", tensors, meta)
    return Path(directory)


def check_vocabulary(meta: dict, where, sport=None) -> Vocabulary:
    """The recorded vocabulary, refused when it is not the current one of its sport (or not ``sport``'s)."""
    from strategist.sports import get_sport

    try:
        saved = Vocabulary.from_json(meta["vocabulary"])
    except (KeyError, TypeError) as exc:
        raise CheckpointError(f"{where}: no vocabulary recorded ({exc})") from None
    if sport is not None and get_sport(sport).name != saved.sport:
        raise CheckpointError(f"{where}: a {saved.sport} model, not {get_sport(sport).name}")
    try:
        current = Vocabulary.of(saved.sport)
    except ConfigurationError:
        raise CheckpointError(f"{where}: sport {saved.sport!r} of the checkpoint is not known here") from None
    if current != saved:
        diff = sorted(set(saved.shots) ^ set(current.shots)) or "the order of the shots or the areas"
        raise CheckpointError(f"{where}: the checkpoint's vocabulary is not the current {saved.sport} "
                              f"vocabulary (differs in {diff}); retrain the model")
    return saved


def load_model(directory, sport=None):
    """A model saved by :func:`save_model`; ``sport`` (optional) is the sport the caller expects."""
    from strategist.opponent import FrequencyModel, MarkovModel, NeuralModel

    directory = Path(directory)
    tensors, meta = read_tensors(directory, "model")
    if meta.get("format") != FORMAT or meta.get("version") != VERSION:
        raise CheckpointError(f"{directory}: format {meta.get('format')!r} version {meta.get('version')!r}; "
                              f"expected {FORMAT!r} version {VERSION}")
    vocab = check_vocabulary(meta, directory, sport)
    classes = {"frequency": FrequencyModel, "markov": MarkovModel, "neural": NeuralModel}
    kind = meta.get("kind")
    if kind not in classes:
        raise CheckpointError(f"{directory}: unknown model kind {kind!r}; expected one of {sorted(classes)}")
    model = classes[kind](vocab.sport)
    try:
        model._load_state(tensors, meta["state"])
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        if isinstance(exc, CheckpointError):
            raise
        raise CheckpointError(f"{directory}: the recorded state is incomplete or inconsistent ({exc!r})") from None
    model.metrics_ = meta.get("metrics") or {}
    model.split_ = meta.get("split")
    return model


# -- nested state (optimizer state dicts) without pickle -----------------------------------------------------
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


def unflatten_state(skeleton, tensors: dict[str, torch.Tensor]):
    def build(obj):
        if isinstance(obj, list):
            return [build(v) for v in obj]
        if isinstance(obj, dict):
            if "__tensor__" in obj:
                try:
                    return tensors[obj["__tensor__"]]
                except KeyError:
                    raise CheckpointError(f"training state lacks tensor {obj['__tensor__']!r}") from None
            if "__dict__" in obj:
                return {build(k): build(v) for k, v in obj["__dict__"]}
            if "__tuple__" in obj:
                return tuple(build(v) for v in obj["__tuple__"])
            if "__dtype__" in obj:
                return getattr(torch, obj["__dtype__"])
            if "__float__" in obj:
                return float(obj["__float__"])
        return obj

    return build(skeleton)
