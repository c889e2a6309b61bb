"""Models fitted once per data set and kept on disk: one entry per (kind, strokes, default settings), the
shipped models found for the shipped data, damaged entries refitted."""

from __future__ import annotations

import pytest

import strategist.opponent as opponent
from strategist.data.demo import demo_path
from strategist.data.load import load_rallies
from strategist.opponent.cache import cached_model, fingerprint, settings_digest


@pytest.fixture(scope="module")
def demo_table():
    return load_rallies(demo_path()).table


@pytest.fixture()
def small(demo_table):
    return demo_table[demo_table["match_id"].isin(sorted(demo_table["match_id"].unique())[:4])]


@pytest.fixture()
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("STRATEGIST_MODEL_CACHE", str(tmp_path))
    return tmp_path


def test_a_model_is_fitted_once_and_loaded_after(small, cache):
    first, note = cached_model("markov", small)
    assert "fitted on these data now" in note and "kept for next time" in note
    folder = cache / f"markov-{fingerprint(small)}-{settings_digest('markov')}"
    assert (folder / "model.json").is_file()
    second, note = cached_model("markov", small)
    assert "fitted earlier" in note and str(folder) in note
    history, context = small.iloc[:2], {"player": str(small["hitter"].iloc[2])}
    assert second.predict_proba(history, context).to_numpy() == pytest.approx(
        first.predict_proba(history, context).to_numpy())


def test_other_strokes_or_other_default_settings_get_their_own_model(small, demo_table, cache, monkeypatch):
    cached_model("markov", small)
    other = demo_table[demo_table["match_id"].isin(sorted(demo_table["match_id"].unique())[4:8])]
    assert "now" in cached_model("markov", other)[1]
    assert settings_digest("markov2") != settings_digest("markov3")

    class Sharper(opponent.MarkovModel):
        def __init__(self, sport=None, beta: float = 1.0, **kwargs):
            super().__init__(sport, beta=beta, **kwargs)

    before = settings_digest("markov")
    monkeypatch.setitem(opponent.KINDS, "markov", Sharper)
    assert settings_digest("markov") != before
    refitted, note = cached_model("markov", small)                 # not the entry fitted with beta 4
    assert "now" in note and isinstance(refitted, Sharper)
    assert len(list(cache.iterdir())) == 3


def test_a_damaged_entry_is_fitted_again_and_replaced(small, cache):
    cached_model("markov", small)
    folder = cache / f"markov-{fingerprint(small)}-{settings_digest('markov')}"
    (folder / "model.json").write_text("{not json")
    _, note = cached_model("markov", small)
    assert "now" in note
    assert "fitted earlier" in cached_model("markov", small)[1]


@pytest.mark.parametrize("which", ["demo", "shuttleset"])
def test_the_shipped_data_find_their_shipped_default_model(which, demo_table, shuttleset_strokes, cache):
    """The package ships the default model of its two data sets under the current default settings: a change of
    the defaults without refitting them would make a fresh installation train before its first advice."""
    table = demo_table if which == "demo" else load_rallies(shuttleset_strokes).table
    model, note = cached_model(opponent.DEFAULT_MODEL, table)
    assert note.endswith("shipped for these data")
    assert model.kind == opponent.DEFAULT_MODEL and not list(cache.iterdir())
