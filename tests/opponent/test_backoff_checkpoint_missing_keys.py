"""A saved count model whose file lists no counts for a context: the context reads as one with zero counts, the
unigram's (level 0) included, in the one-history path as in the table path."""

from __future__ import annotations

import numpy as np
import torch

from strategist.opponent import MarkovModel
from strategist.opponent.base import History
from strategist.opponent.checkpoint import load_model, read_tensors, write_tensors

from .test_backoff_mixing_and_updates import make_table

#: (match, rally number, first hitter, second hitter, shots): hitters alternate from the first.
RALLIES = [
    ("m1", 1, "A", "B", ["short service", "lob", "smash", "drive"]),
    ("m1", 2, "B", "A", ["long service", "clear", "smash"]),
    ("m2", 1, "A", "C", ["short service", "net shot", "lob", "clear"]),
]


def _rewritten(directory, edit) -> None:
    """The checkpoint in ``directory`` written again (with a fresh hash) after ``edit(tensors, state)``."""
    tensors, meta = read_tensors(directory, "model")
    tensors = {key: value.clone() for key, value in tensors.items()}
    edit(tensors, meta["state"])
    meta = {key: value for key, value in meta.items() if key not in ("sha256", "tensor_file")}
    write_tensors(directory, "model", tensors, meta)


def _root_row(state) -> int:
    return state["pop_keys"].index([0, []])


def test_a_checkpoint_without_the_unigram_counts_predicts_as_with_zero_counts(tmp_path):
    model = MarkovModel(order=1, beta=2.0, beta_player=4.0, mix=0.5, tune=False).fit(make_table(RALLIES))
    without, zeroed = tmp_path / "without", tmp_path / "zeroed"
    model.save(without)
    model.save(zeroed)

    def drop_root(tensors, state):
        i = _root_row(state)
        del state["pop_keys"][i]
        tensors["pop_counts"] = torch.cat([tensors["pop_counts"][:i], tensors["pop_counts"][i + 1:]])

    def zero_root(tensors, state):
        tensors["pop_counts"][_root_row(state)] = 0.0

    _rewritten(without, drop_root)
    _rewritten(zeroed, zero_root)
    missing, zero = load_model(without), load_model(zeroed)
    k = len(model.vocabulary.shots)

    # A stranger's first shot: level 0 without counts is uniform, the start context's counts pull it to the
    # two serves seen (2 short, 1 long; β = 2): (n + 2/K) / (3 + 2).
    first = missing.predict(History((), ()), {"player": "Zed"})
    want = np.full(k, 2.0 / k)
    labels = list(model.vocabulary.shots)
    want[labels.index("short service")] += 2.0
    want[labels.index("long service")] += 1.0
    np.testing.assert_allclose(first.probabilities, want / 5.0, rtol=1e-12, atol=0)
    assert first.source == "population"

    # every stroke of every rally, for known players and a stranger: as the zeroed file, and as the table path
    strangers = [(m, r, "Zed", "Yan", shots) for m, r, _, _, shots in RALLIES]
    for rallies in (RALLIES, strangers):
        table = make_table(rallies)
        by_table = missing.predict_table(table)
        np.testing.assert_array_equal(by_table, zero.predict_table(table))
        for row, (_, stroke) in enumerate(table.iterrows()):
            rally = table[(table["rally_id"] == stroke["rally_id"]) & (table["stroke"] < stroke["stroke"])]
            history = History([labels.index(s) for s in rally["shot"]], tuple(rally["hitter"]))
            context = {"player": stroke["hitter"]}
            got = missing.predict(history, context).probabilities
            np.testing.assert_array_equal(got, zero.predict(history, context).probabilities)
            np.testing.assert_allclose(got, by_table[row], rtol=1e-12, atol=0)


def test_a_checkpoint_without_player_counts_loads_saves_and_loads_again(tmp_path):
    """A file listing no player's counts (every player then reads as the population) is written back with an
    empty (0, K) table and no player keys, and predicts the same after the round trip."""
    model = MarkovModel(order=1, beta=2.0, beta_player=4.0, mix=0.5, tune=False).fit(make_table(RALLIES))
    first, again = tmp_path / "first", tmp_path / "again"
    model.save(first)
    k = len(model.vocabulary.shots)

    def drop_players(tensors, state):
        state["player_keys"] = []
        tensors["player_counts"] = torch.zeros((0, k), dtype=tensors["player_counts"].dtype)

    _rewritten(first, drop_players)
    loaded = load_model(first)
    loaded.save(again)
    tensors, meta = read_tensors(again, "model")
    assert tuple(tensors["player_counts"].shape) == (0, k) and meta["state"]["player_keys"] == []
    table = make_table(RALLIES)
    np.testing.assert_array_equal(load_model(again).predict_table(table), loaded.predict_table(table))
