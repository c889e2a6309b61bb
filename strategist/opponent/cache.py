"""Opponent models fitted once per data set and kept on disk, so that the default model (however slow to fit)
is fitted the first time a data set is used and loaded after that.

The key is the model kind, a fingerprint of the table's strokes (match, rally, stroke, hitter, shot, landing
area and height) and a digest of the kind's default settings: the same data give the same model, changed data
or changed defaults a new one. The folder is
``$STRATEGIST_MODEL_CACHE``, else ``~/.cache/strategist/models``; every entry is a saved model
(:func:`strategist.opponent.save_model`), loaded with the checks of :func:`strategist.opponent.load_model`.
The package ships the default model of its own two data sets (``data/models/``: the demo and ShuttleSet),
looked up first, so that a fresh installation answers at once on them.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pandas as pd

from strategist.errors import StrategistError

#: The columns whose values identify a table's strokes for the cache.
KEY_COLUMNS = ("match_id", "rally_id", "stroke", "hitter", "opponent", "shot", "landing_area", "landing_height")


def cache_dir() -> Path:
    return Path(os.environ.get("STRATEGIST_MODEL_CACHE") or Path.home() / ".cache" / "strategist" / "models")


def fingerprint(table: pd.DataFrame) -> str:
    """A short hash of the table's strokes (:data:`KEY_COLUMNS` present, in order)."""
    columns = [c for c in KEY_COLUMNS if c in table.columns]
    hashed = pd.util.hash_pandas_object(table[columns].astype("string"), index=False)
    return hashlib.sha1(hashed.to_numpy().tobytes() + ",".join(columns).encode()).hexdigest()[:16]


def settings_digest(kind: str) -> str:
    """A short hash of the settings a model of ``kind`` is fitted with by default (its configuration)."""
    from strategist.opponent import KINDS, parse_kind

    name, options = parse_kind(kind)
    config = KINDS[name]("badminton", **options).config
    config = config.to_json() if hasattr(config, "to_json") else config()
    return hashlib.sha1(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:8]


def _shipped(name: str):
    from strategist.resources import shipped_path

    try:
        folder = shipped_path("models", name, "model.json").parent
    except StrategistError:
        return None
    return folder


def cached_model(kind: str, table: pd.DataFrame, sport=None):
    """(model, note): the model of ``kind`` for ``table`` from the cache, or fitted now and stored (the note
    says which, and where)."""
    from strategist.opponent import fit_model, load_model, save_model

    name = f"{kind}-{fingerprint(table)}-{settings_digest(kind)}"
    shipped = _shipped(name)
    if shipped is not None:
        try:
            return load_model(shipped, sport=sport), f"opponent model: {kind}, shipped for these data"
        except StrategistError:
            pass
    folder = cache_dir() / name
    if (folder / "model.json").is_file():
        try:
            return load_model(folder, sport=sport), f"opponent model: {kind}, fitted earlier on these data ({folder})"
        except StrategistError:
            pass                                       # a damaged entry is fitted again and replaced
    model = fit_model(kind, table, sport=sport)
    note = f"opponent model: {kind}, fitted on these data now"
    try:
        save_model(model, folder)
        note += f" and kept for next time ({folder})"
    except (OSError, StrategistError) as exc:
        note += f" (could not be kept: {exc})"
    return model, note
