"""The model cache's folder and the order it looks in: the shipped model, then the cache entry, then a fit that is
kept; each load and fit told the sport asked for; a model that cannot be kept still returned, the note saying why."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

import strategist.opponent as opponent
from strategist.errors import OpponentModelError
from strategist.opponent import cache
from strategist.opponent.cache import cache_dir, cached_model, fingerprint, settings_digest


def test_the_cache_folder_is_the_environment_variable_else_under_the_home_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("STRATEGIST_MODEL_CACHE", str(tmp_path / "mine"))
    assert cache_dir() == tmp_path / "mine"
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("STRATEGIST_MODEL_CACHE", "")
    assert cache_dir() == tmp_path / "home" / ".cache" / "strategist" / "models"
    monkeypatch.delenv("STRATEGIST_MODEL_CACHE")
    assert cache_dir() == tmp_path / "home" / ".cache" / "strategist" / "models"


TABLE = pd.DataFrame({"match_id": ["m1", "m1"], "rally_id": ["r1", "r1"], "stroke": [1, 2], "hitter": ["A", "B"],
                      "opponent": ["B", "A"], "shot": ["serve", "lob"]})


@pytest.fixture
def calls(tmp_path, monkeypatch):
    """load_model, fit_model and save_model replaced by recorders; no shipped model unless a test says so."""
    log = {"load": [], "fit": [], "save": [], "broken": set(), "save_error": None}

    def load_model(folder, sport=None):
        log["load"].append((Path(folder), sport))
        if Path(folder) in log["broken"]:
            raise OpponentModelError("damaged")
        return ("loaded", Path(folder))

    def fit_model(kind, table, sport=None):
        log["fit"].append((kind, len(table), sport))
        return ("fitted", kind)

    def save_model(model, folder):
        log["save"].append((model, Path(folder)))
        if log["save_error"] is not None:
            raise log["save_error"]
        (Path(folder)).mkdir(parents=True)
        (Path(folder) / "model.json").write_text("{}")

    monkeypatch.setattr(opponent, "load_model", load_model)
    monkeypatch.setattr(opponent, "fit_model", fit_model)
    monkeypatch.setattr(opponent, "save_model", save_model)
    monkeypatch.setattr(cache, "_shipped", lambda name: None)
    monkeypatch.setenv("STRATEGIST_MODEL_CACHE", str(tmp_path / "cache"))
    return log


def _entry(tmp_path, kind="markov2") -> Path:
    return tmp_path / "cache" / f"{kind}-{fingerprint(TABLE)}-{settings_digest(kind)}"


def test_fitted_with_the_sport_asked_for_kept_then_loaded_with_it(calls, tmp_path):
    model, note = cached_model("markov2", TABLE, sport="tennis")
    folder = _entry(tmp_path)
    assert model == ("fitted", "markov2") and calls["fit"] == [("markov2", 2, "tennis")]
    assert calls["save"] == [(model, folder)]
    assert note == f"opponent model: markov2, fitted on these data now and kept for next time ({folder})"
    again, note = cached_model("markov2", TABLE, sport="tennis")
    assert again == ("loaded", folder) and calls["load"] == [(folder, "tennis")] and len(calls["fit"]) == 1
    assert note == f"opponent model: markov2, fitted earlier on these data ({folder})"


def test_a_shipped_model_comes_first_and_is_loaded_with_the_sport_asked_for(calls, tmp_path, monkeypatch):
    shipped = tmp_path / "shipped"
    names = []
    monkeypatch.setattr(cache, "_shipped", lambda name: names.append(name) or shipped)
    model, note = cached_model("frequency", TABLE, sport="badminton")
    assert names == [f"frequency-{fingerprint(TABLE)}-{settings_digest('frequency')}"]
    assert model == ("loaded", shipped) and calls["load"] == [(shipped, "badminton")]
    assert note == "opponent model: frequency, shipped for these data" and calls["fit"] == []
    # a shipped model that does not load is passed over: fitted and kept
    calls["broken"].add(shipped)
    model, note = cached_model("frequency", TABLE, sport="badminton")
    assert model == ("fitted", "frequency") and calls["fit"] == [("frequency", 2, "badminton")]


def test_a_damaged_entry_is_fitted_again_with_the_sport_asked_for(calls, tmp_path):
    folder = _entry(tmp_path)
    folder.mkdir(parents=True)
    (folder / "model.json").write_text("damaged")
    calls["broken"].add(folder)
    model, note = cached_model("markov2", TABLE, sport="tennis")
    assert calls["load"] == [(folder, "tennis")] and calls["fit"] == [("markov2", 2, "tennis")]
    assert model == ("fitted", "markov2")


@pytest.mark.parametrize("error", [OSError("disk full"), OpponentModelError("not savable")])
def test_a_model_that_cannot_be_kept_is_still_returned_and_the_note_says_why(calls, error):
    calls["save_error"] = error
    model, note = cached_model("markov2", TABLE)
    assert model == ("fitted", "markov2") and calls["fit"] == [("markov2", 2, None)]
    assert note == f"opponent model: markov2, fitted on these data now (could not be kept: {error})"


def test_other_errors_of_saving_are_not_hidden(calls):
    calls["save_error"] = ValueError("a bug")
    with pytest.raises(ValueError, match="a bug"):
        cached_model("markov2", TABLE)
