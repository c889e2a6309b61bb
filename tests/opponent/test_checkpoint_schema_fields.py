"""The checkpoint schema field by field: every bound of a saved model's or training state's JSON accepted at its
edge and refused just beyond it, every required field missing refused, and each refusal one CheckpointError
naming the file, the field and what was expected."""

from __future__ import annotations

import copy
import math

import pytest
import torch

import strategist.opponent.checkpoint_schema as schema
from strategist.errors import CheckpointError
from strategist.opponent.base import Vocabulary
from strategist.opponent.checkpoint_schema import (Bool, Float, Hex, Int, Json, List, Obj, Opt, Str,
                                                   backoff_state_spec, check, check_backoff_state, check_finite,
                                                   check_neural_state, check_tensors, model_meta_spec,
                                                   neural_config_spec, train_meta_spec)
from strategist.opponent.neural import NeuralConfig, parameter_count

WHERE = "club/model.json"
VOCAB = Vocabulary.of("badminton")
K = len(VOCAB.shots)
UP, DOWN = math.inf, -math.inf


def refused(spec, doc, field, *expected, at=""):
    """``doc`` (at the path ``at``) refused by ``spec`` with one CheckpointError naming WHERE, ``field`` and each
    of ``expected``."""
    with pytest.raises(CheckpointError) as caught:
        check(spec, doc, WHERE, at)
    message = str(caught.value)
    assert message.startswith(f"{WHERE}: field {field!r}"), message
    for text in expected:
        assert text in message, message
    return message


def edited(doc, path, value):
    out = copy.deepcopy(doc)
    node = out
    for key in path[:-1]:
        node = node[key]
    if value is KeyError:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


def dotted(path):
    return ".".join(str(p) for p in path)


# -- the documents: small, valid, written out by hand -----------------------------------------------------------
def backoff_doc(kind="markov"):
    config = {"beta": 1.0, "beta_player": 2.0, "mix": 0.5, "adapt_weight": 1.0, "tune": False, "by_player": True}
    if kind == "markov":
        config["order"] = 2
    return {"config": config, "fitted": {"beta": 1.0, "beta_player": 2.0, "mix": 0.5},
            "pop_keys": [[0, []]], "player_keys": [], "players": []}


def train_doc():
    return {"format": "train-format", "vocabulary": VOCAB.to_json(), "config": NeuralConfig().to_json(),
            "data": "d" * 64, "optimizer": {}, "players": ["Ann"],
            "norm": {"mean": [0.0] * 4, "std": [1.0] * 4}, "sha256": "0" * 64,
            "state": {"step": 0, "best": 1.0, "best_step": 0, "since_best": 0, "train_seconds": 0.0,
                      "curve": [{"step": 0, "valid_loss": 1.0}]}}


def model_doc():
    return {"format": "model-format", "version": 2, "kind": "markov", "vocabulary": VOCAB.to_json(),
            "state": {}, "sha256": "a" * 64}


def neural_state():
    return {"config": NeuralConfig().to_json(), "players": ["Ann", "Bea"],
            "norm": {"mean": [0.0] * 4, "std": [1.0] * 4}, "temperature": 1.0}


def test_the_hand_written_documents_are_valid():
    """Each base document of these tests passes its schema unchanged (so each refusal below is the edit's)."""
    for kind in ("markov", "frequency"):
        assert check(backoff_state_spec(kind), backoff_doc(kind), WHERE) == backoff_doc(kind)
    assert check(train_meta_spec("train-format"), train_doc(), WHERE)["data"] == "d" * 64
    assert check(model_meta_spec(("markov", "neural"), "model-format", 2), model_doc(), WHERE)["kind"] == "markov"
    assert check_neural_state(neural_state(), VOCAB, WHERE)["temperature"] == 1.0


# -- bounds: the edge accepted, one step beyond refused ------------------------------------------------------------
def _int_cases(path, lo, hi):
    return [(path, lo, True), (path, hi, True), (path, lo - 1, False), (path, hi + 1, False)]


def _float_cases(path, lo, hi, open_lo=False):
    cases = [(path, hi, True), (path, math.nextafter(hi, UP), False), (path, math.nextafter(lo, DOWN), False)]
    cases += [(path, lo, False), (path, math.nextafter(lo, UP), True)] if open_lo else [(path, lo, True)]
    return cases


#: NeuralConfig's bounds: sizes of at least one, probabilities in [0, 1] (dropout below 1: it would zero every
#: unit), a positive learning rate, the EMA's decay below 1, positive counts of steps.
NEURAL_BOUNDS = [
    *_int_cases(("d_shot",), 1, 512), *_int_cases(("d_area",), 1, 512), *_int_cases(("d_player",), 1, 512),
    *_int_cases(("d_height",), 1, 512), *_int_cases(("hidden",), 1, 2048), *_int_cases(("layers",), 1, 8),
    *_float_cases(("dropout",), 0.0, 0.99), *_float_cases(("player_dropout",), 0.0, 1.0),
    *_float_cases(("lr",), 0.0, 10.0, open_lo=True), *_float_cases(("weight_decay",), 0.0, 10.0),
    *_int_cases(("batch_size",), 1, 1 << 20), *_int_cases(("max_steps",), 1, 10 ** 8),
    *_float_cases(("warmup",), 0.0, 1.0), *_float_cases(("final_lr_ratio",), 0.0, 1.0),
    *_float_cases(("ema",), 0.0, 0.999999), *_float_cases(("clip",), 0.0, 1e6),
    *_int_cases(("eval_every",), 1, 10 ** 8), *_int_cases(("patience",), 0, 10 ** 8),
    *_int_cases(("checkpoint_every",), 1, 10 ** 8), *_int_cases(("seed",), 0, 2 ** 63 - 1),
    *_float_cases(("adapt_l2",), 0.0, 1e6, open_lo=True), *_float_cases(("mask_rallies",), 0.0, 1.0),
    *_float_cases(("mask_strokes",), 0.0, 1.0), *_float_cases(("valid_hidden_weight",), 0.0, 1.0),
]


@pytest.mark.parametrize("path, value, ok", NEURAL_BOUNDS)
def test_every_neural_config_bound_is_inclusive_at_its_edge_and_refuses_beyond(path, value, ok):
    """A neural configuration's number is accepted at the edge of its range and refused one step beyond, with
    the field and the range named."""
    doc = edited(NeuralConfig().to_json(), path, value)
    if ok:
        assert check(neural_config_spec(), doc, WHERE, "config")[path[0]] == value
    else:
        refused(neural_config_spec(), doc, "config." + dotted(path), "expected a", "number in" if
                isinstance(value, float) else "an integer in", at="config")


@pytest.mark.parametrize("field, good, bad", [
    ("optimizer", ["soap", "shampoo", "muon", "kfac", "adamw"], ["sgd", "ADAMW"]),
    ("schedule", ["cosine", "wsd"], ["linear", "COSINE"]),
    ("calibrate", [True, False], [1, "true", None]),
    ("lr", [None, 0.5], ["0.5", True]),
])
def test_neural_config_choices(field, good, bad):
    """The optimizer and schedule are one of the known names, calibrate a JSON boolean, lr a number or null."""
    for value in good:
        assert check(neural_config_spec(), edited(NeuralConfig().to_json(), (field,), value), WHERE)[field] == value
    for value in bad:
        refused(neural_config_spec(), edited(NeuralConfig().to_json(), (field,), value), field)


BACKOFF_BOUNDS = [
    *_float_cases(("config", "beta"), 0.0, 1e9, open_lo=True),
    *_float_cases(("config", "beta_player"), 0.0, 1e9, open_lo=True),
    *_float_cases(("config", "mix"), 0.0, 1.0), *_float_cases(("config", "adapt_weight"), 0.0, 1e9),
    *_int_cases(("config", "order"), 1, 8),
    *_float_cases(("fitted", "beta"), 0.0, 1e9, open_lo=True),
    *_float_cases(("fitted", "beta_player"), 0.0, 1e9, open_lo=True), *_float_cases(("fitted", "mix"), 0.0, 1.0),
]


@pytest.mark.parametrize("path, value, ok", BACKOFF_BOUNDS)
def test_every_count_model_bound_is_inclusive_at_its_edge_and_refuses_beyond(path, value, ok):
    """A count model's smoothing (> 0), mix (a share), adaptation weight (>= 0) and Markov order (1 to 8) are
    accepted at their edges and refused one step beyond."""
    doc = edited(backoff_doc("markov"), path, value)
    if ok:
        out = check(backoff_state_spec("markov"), doc, WHERE, "state")
        assert out[path[0]][path[1]] == value
    else:
        refused(backoff_state_spec("markov"), doc, "state." + dotted(path), at="state")


def test_only_a_markov_model_has_an_order():
    """The order is a field of a Markov model's configuration only."""
    refused(backoff_state_spec("frequency"), edited(backoff_doc("frequency"), ("config", "order"), 2), "config.order",
            "no such field")


@pytest.mark.parametrize("kind", ["markov", "frequency"])
def test_every_required_count_model_field_is_required(kind):
    """Dropping any field of a count model's state, its configuration or its fitted values is refused as missing."""
    doc = backoff_doc(kind)
    paths = [(k,) for k in doc] + [("config", k) for k in doc["config"]] + [("fitted", k) for k in doc["fitted"]]
    for path in paths:
        refused(backoff_state_spec(kind), edited(doc, path, KeyError), dotted(path), "the field is missing")


@pytest.mark.parametrize("field, item, width", [("pop_keys", [0, []], 2), ("player_keys", ["Ann", 0, []], 3)])
def test_context_keys_have_their_width_and_depth(field, item, width):
    """A population key is [level, key], a player's key [player, level, key]: other widths are refused, and a key
    nested deeper than three levels is refused before it is read."""
    spec = backoff_state_spec("markov")
    base = edited(backoff_doc(), ("players",), ["Ann"])
    base[field] = [item]
    assert check(spec, base, WHERE)[field] == [item]
    refused(spec, edited(base, (field, 0), item + [1]), f"{field}[0]", f"a list of {width} to {width} items")
    refused(spec, edited(base, (field, 0), item[:-1]), f"{field}[0]", f"a list of {width} to {width} items")
    three = edited(base, (field, 0, width - 1), [[[1]]])           # nested three deep: accepted by the schema
    assert check(spec, three, WHERE)
    refused(spec, edited(base, (field, 0, width - 1), [[[[1]]]]), f"{field}[0][{width - 1}][0][0][0][0]",
            "nested at most 3")


def test_a_count_model_has_a_population_key_and_may_have_no_player_keys():
    """At least one population key (the unigram), any number of players' keys from none."""
    spec = backoff_state_spec("markov")
    refused(spec, edited(backoff_doc(), ("pop_keys",), []), "pop_keys", "a list of 1 to")
    assert check(spec, backoff_doc(), WHERE)["player_keys"] == []


# -- the training state -------------------------------------------------------------------------------------------
TRAIN_BOUNDS = [
    *_int_cases(("state", "step"), 0, 10 ** 9), *_int_cases(("state", "best_step"), 0, 10 ** 9),
    *_int_cases(("state", "since_best"), 0, 10 ** 9), *_float_cases(("state", "train_seconds"), 0.0, 1e12),
    *_float_cases(("state", "train_cpu_seconds"), 0.0, 1e12),
    *_int_cases(("state", "curve", 0, "step"), 0, 10 ** 9),
    *_float_cases(("state", "curve", 0, "seconds"), 0.0, 1e12),
    *_float_cases(("state", "curve", 0, "cpu_seconds"), 0.0, 1e12),
]


def _train_path(path):
    return ".".join(f"[{p}]" if isinstance(p, int) else p for p in path).replace(".[", "[")


@pytest.mark.parametrize("path, value, ok", TRAIN_BOUNDS)
def test_every_training_state_bound_is_inclusive_at_its_edge_and_refuses_beyond(path, value, ok):
    """Steps, counts and seconds of a training state are accepted at the edge of their range and refused beyond."""
    doc = edited(train_doc(), path, value)
    if ok:
        assert check(train_meta_spec("train-format"), doc, WHERE)
    else:
        refused(train_meta_spec("train-format"), doc, _train_path(path))


def test_losses_may_be_infinite_or_nan_as_a_failed_run_leaves_them():
    """The best loss and every loss of the curve may be infinite or NaN (a diverged run), or null where optional."""
    spec = train_meta_spec("train-format")
    for value in (math.inf, math.nan, -math.inf):
        doc = edited(train_doc(), ("state", "best"), value)
        for key in ("valid_loss", "train_loss", "valid_loss_recorded_inputs", "valid_loss_shots_only"):
            doc["state"]["curve"][0][key] = value
        out = check(spec, doc, WHERE)
        assert math.isinf(out["state"]["best"]) or math.isnan(out["state"]["best"])
    refused(spec, edited(train_doc(), ("state", "best"), "inf"), "state.best", "a finite number")
    assert check(spec, edited(train_doc(), ("state", "curve", 0, "valid_loss"), None), WHERE)


def test_the_curve_may_be_empty_and_is_at_most_a_million_records():
    """A run stopped before its first evaluation has an empty curve; a curve is at most 10**6 records."""
    spec = train_meta_spec("train-format")
    assert check(spec, edited(train_doc(), ("state", "curve"), []), WHERE)["state"]["curve"] == []
    refused(spec, edited(train_doc(), ("state", "curve"), [{"step": 0, "valid_loss": 1.0}] * (10 ** 6 + 1)),
            "state.curve", "a list of 0 to 1000000 items")


def test_why_a_run_stopped_is_one_of_the_known_reasons():
    """``stopped`` is null or one of the four reasons the training loop writes."""
    spec = train_meta_spec("train-format")
    for reason in ("early stopping", "time budget", "max steps", "non-finite loss", None):
        assert check(spec, edited(train_doc(), ("state", "stopped"), reason), WHERE)["state"]["stopped"] == reason
    for reason in ("EARLY STOPPING", "crashed"):
        refused(spec, edited(train_doc(), ("state", "stopped"), reason), "state.stopped", "one of")
    refused(spec, edited(train_doc(), ("state", "stopped"), "x" * 41), "state.stopped", "at most 40 characters")


def test_every_required_training_field_is_required():
    """Dropping any required field of a training state, its state or a curve record is refused as missing."""
    spec = train_meta_spec("train-format")
    required = [("format",), ("vocabulary",), ("config",), ("data",), ("optimizer",), ("state",), ("players",),
                ("norm",), ("sha256",), ("state", "step"), ("state", "best"), ("state", "best_step"),
                ("state", "since_best"), ("state", "curve"), ("state", "train_seconds"),
                ("state", "curve", 0, "step"), ("state", "curve", 0, "valid_loss")]
    for path in required:
        refused(spec, edited(train_doc(), path, KeyError), _train_path(path), "the field is missing")


def test_training_state_names_its_format_data_and_tensor_file():
    """The format and tensor file are the expected names (at most 60 characters), the data key at most 64
    characters, the sport definition optional and at most four levels deep."""
    spec = train_meta_spec("train-format")
    refused(spec, edited(train_doc(), ("format",), "other-format"), "format", "one of ['train-format']")
    refused(spec, edited(train_doc(), ("format",), "t" * 61), "format", "at most 60 characters")
    ok = edited(train_doc(), ("tensor_file",), "train_state.safetensors")
    assert check(spec, ok, WHERE)["tensor_file"] == "train_state.safetensors"
    refused(spec, edited(train_doc(), ("tensor_file",), "model.safetensors"), "tensor_file", "one of")
    refused(spec, edited(train_doc(), ("tensor_file",), "t" * 61), "tensor_file", "at most 60 characters")
    refused(spec, edited(train_doc(), ("data",), "d" * 65), "data", "at most 64 characters")
    assert check(spec, edited(train_doc(), ("sport_definition",), {"a": {"b": [[1]]}}), WHERE)
    assert check(spec, edited(train_doc(), ("sport_definition",), None), WHERE)["sport_definition"] is None
    refused(spec, edited(train_doc(), ("sport_definition",), {"a": {"b": [[[1]]]}}), "sport_definition.a.b[0][0][0]",
            "nested at most 4 deep")


# -- the neural state and the network's size ----------------------------------------------------------------------
def test_a_neural_state_has_every_field_and_a_temperature_between_a_hundredth_and_a_hundred():
    """A neural state lacking any of its fields is refused as missing; its temperature lies in [0.01, 100]."""
    for key in neural_state():
        with pytest.raises(CheckpointError, match=f"{WHERE}: field 'state.{key}': expected a value \\(the field is"):
            check_neural_state(edited(neural_state(), (key,), KeyError), VOCAB, WHERE)
    for value in (0.01, 100.0):
        assert check_neural_state(edited(neural_state(), ("temperature",), value), VOCAB, WHERE)["temperature"] == value
    for value in (math.nextafter(0.01, DOWN), math.nextafter(100.0, UP), 101.0):
        with pytest.raises(CheckpointError, match="field 'state.temperature': expected a finite number in "
                                                  "\\[0.01, 100.0\\]"):
            check_neural_state(edited(neural_state(), ("temperature",), value), VOCAB, WHERE)


def test_a_network_over_the_weight_limit_is_refused_naming_the_file_and_the_configuration(monkeypatch):
    """The network a neural state describes may have exactly MAX_PARAMETERS weights, not one more; the refusal
    names the file, ``state.config``, the size and the limit."""
    state = neural_state()
    size = parameter_count(K, len(VOCAB.areas), 2, NeuralConfig.from_json(state["config"]))
    monkeypatch.setattr(schema, "MAX_PARAMETERS", size)
    assert check_neural_state(state, VOCAB, WHERE) == state
    monkeypatch.setattr(schema, "MAX_PARAMETERS", size - 1)
    with pytest.raises(CheckpointError) as caught:
        check_neural_state(state, VOCAB, WHERE)
    assert str(caught.value) == (f"{WHERE}: field 'state.config': describes a network of {size:,} weights, more "
                                 f"than the limit of {size - 1:,}")


# -- a count model's keys -----------------------------------------------------------------------------------------
def _keys_refused(kind, doc, field, expected):
    with pytest.raises(CheckpointError) as caught:
        check_backoff_state(kind, doc, VOCAB, WHERE)
    message = str(caught.value)
    assert message.startswith(f"{WHERE}: field {field!r}: expected {expected}"), message
    return message


def test_a_markov_key_is_the_last_level_shots_as_indices_from_minus_one_to_k_minus_one():
    """A Markov key of level L is L shot indices in [-1, K - 1] (-1: before the rally); the unigram's key is []."""
    doc = backoff_doc("markov")
    doc["pop_keys"] = [[0, []], [1, [-1]], [2, [K - 1, 0]]]
    assert check_backoff_state("markov", doc, VOCAB, WHERE)["pop_keys"][2] == [2, [K - 1, 0]]
    for key in ([-2], [K], [True], [0, 1]):
        _keys_refused("markov", edited(doc, ("pop_keys", 1), [1, key]), "state.pop_keys[1][key]",
                      f"the last 1 shots as 1 shot indices in [-1, {K - 1}]")
    _keys_refused("markov", edited(doc, ("pop_keys", 0), [0, [0]]), "state.pop_keys[0][key]",
                  "[] (the unigram's key)")


def test_a_key_level_is_a_whole_number_up_to_the_order():
    """A key's level is an integer from 0 to the Markov order (2 for a frequency model); true is not a level."""
    doc = backoff_doc("markov")
    doc["config"]["order"] = 3
    doc["pop_keys"] = [[0, []], [3, [0, 1, 2]]]
    assert check_backoff_state("markov", doc, VOCAB, WHERE)["pop_keys"][1][0] == 3
    doc["config"]["order"] = 2
    _keys_refused("markov", doc, "state.pop_keys[1][level]", "a level in [0, 2]")
    _keys_refused("markov", edited(backoff_doc(), ("pop_keys", 0), [True, [0]]), "state.pop_keys[0][level]",
                  "a level in [0, 2]")
    freq = backoff_doc("frequency")
    freq["pop_keys"] = [[0, []], [2, "serve"]]
    assert check_backoff_state("frequency", freq, VOCAB, WHERE)["pop_keys"][1] == [2, "serve"]
    _keys_refused("frequency", edited(freq, ("pop_keys", 1), [3, "serve"]), "state.pop_keys[1][level]",
                  "a level in [0, 2]")


def test_a_frequency_key_is_a_label_of_at_most_200_characters():
    """A frequency model's key is a decision state's label, at most MAX_LABEL (200) characters."""
    doc = backoff_doc("frequency")
    doc["pop_keys"] = [[0, []], [1, "x" * 200]]
    assert check_backoff_state("frequency", doc, VOCAB, WHERE)["pop_keys"][1][1] == "x" * 200
    for key in ("x" * 201, ["rally"]):
        _keys_refused("frequency", edited(doc, ("pop_keys", 1), [1, key]), "state.pop_keys[1][key]",
                      "a decision state's label")


def test_a_key_given_twice_is_refused_and_distinct_keys_are_not():
    """The same (level, key) twice among the population keys, or (player, level, key) twice among the players',
    is refused; keys that differ in level, key or player are kept."""
    doc = backoff_doc("frequency")
    doc["players"] = ["Ann", "Bea"]
    doc["pop_keys"] = [[0, []], [1, "ab"], [2, "ab"], [1, "ba"]]
    doc["player_keys"] = [["Ann", 1, "ab"], ["Bea", 1, "ab"], ["Ann", 2, "ab"]]
    assert len(check_backoff_state("frequency", doc, VOCAB, WHERE)["player_keys"]) == 3
    with pytest.raises(CheckpointError, match="field 'state.pop_keys\\[4\\]': the key is given twice"):
        check_backoff_state("frequency", edited(doc, ("pop_keys",), doc["pop_keys"] + [[1, "ab"]]), VOCAB, WHERE)
    with pytest.raises(CheckpointError, match="field 'state.player_keys\\[3\\]': the key is given twice"):
        check_backoff_state("frequency", edited(doc, ("player_keys",), doc["player_keys"] + [["Bea", 1, "ab"]]),
                            VOCAB, WHERE)


@pytest.mark.parametrize("field", ["optimizer", "schedule"])
def test_a_name_longer_than_twenty_characters_is_refused_for_its_length(field):
    """The optimizer's and the schedule's names are checked for length (at most 20) before the list of names."""
    refused(neural_config_spec(), edited(NeuralConfig().to_json(), (field,), "a" * 21), field,
            "a text of at most 20 characters")
    refused(neural_config_spec(), edited(NeuralConfig().to_json(), (field,), "a" * 20), field, "one of")


# -- the refusal's text and the building blocks ---------------------------------------------------------------------
def test_a_refused_value_is_shown_up_to_eighty_characters():
    """The message shows the value's repr whole up to 80 characters, else its first 80 and '...'."""
    assert str(schema.Invalid("a.b", "x", "v" * 78)) == "field 'a.b': expected x, got '" + "v" * 78 + "'"
    assert str(schema.Invalid("a.b", "x", "v" * 79)) == "field 'a.b': expected x, got '" + "v" * 79 + "..."
    assert str(schema.Invalid("a", "x", "v" * 200)).endswith("got '" + "v" * 79 + "...")
    assert str(schema.Invalid("a", "x")) == "field 'a': expected x, got None"
    assert str(schema.Invalid("a", "x", 12)) == "field 'a': expected x, got 12"


def test_a_saved_models_description_has_its_required_fields_and_format():
    """format, version, kind, vocabulary, state and sha256 are required; the format is the given name (at most 60
    characters), the version exactly the given one, the kind one of those given."""
    spec = model_meta_spec(("markov", "neural"), "model-format", 2)
    for key in ("format", "version", "kind", "vocabulary", "state", "sha256"):
        refused(spec, edited(model_doc(), (key,), KeyError), key, "the field is missing")
    refused(spec, edited(model_doc(), ("format",), "another"), "format", "one of ['model-format']")
    refused(spec, edited(model_doc(), ("format",), "m" * 61), "format", "at most 60 characters")
    refused(spec, edited(model_doc(), ("version",), 1), "version", "an integer in [2, 2]")
    refused(spec, edited(model_doc(), ("kind",), "frequency"), "kind", "one of ['markov', 'neural']")
    assert check(spec, edited(model_doc(), ("state",), {"anything": [1]}), WHERE)["state"] == {"anything": [1]}


@pytest.mark.parametrize("spec, value, expected", [
    (Int(0, 3), True, "an integer in [0, 3]"), (Int(0, 3), 1.0, "an integer in [0, 3]"),
    (Float(0.0, 1.0), True, "a finite number in [0.0, 1.0]"), (Float(0.0, 1.0), math.inf, "a finite number"),
    (Float(0.0, 1.0), "0.5", "a finite number"), (Float(0.0, 1.0, open_lo=True), 0, "a finite number in (0.0, 1.0]"),
    (Float(finite=False), "nan", "a finite number"), (Float(finite=False), False, "a finite number"),
    (Bool(), 0, "true or false"), (Str(3), "abcd", "a text of at most 3 characters"), (Str(3), 5, "a text of"),
    (Str(5, ("ab",)), "abc", "one of ['ab']"), (Opt(Int(0, 1)), 2, "an integer in [0, 1]"),
    (List(Int(0, 9), 1, 2), [], "a list of 1 to 2 items"), (List(Int(0, 9), 1, 2), [1, 2, 3], "a list of 1 to 2"),
    (List(Int(0, 9), 0, 5), (1,), "a list of 0 to 5 items, got 'tuple of - items'"),
    (List(Int(0, 9), 0, 1), {"a": 1, "b": 2}, "got 'dict of 2 items'"),
    (List(Int(0, 9), unique=True), [1, 2, 1, 3, 2], "distinct items, got [1, 2, 1]"),
    (Obj({"a": Int(0, 1)}), [1], "an object, got 'list'"), (Hex(4), "abcg", "4 lower-case hex digits"),
    (Hex(4), "ABCD", "4 lower-case hex digits"), (Hex(4), "abc", "4 lower-case hex digits"), (Hex(4), 1234, "hex"),
])
def test_each_spec_refuses_what_it_does_not_describe(spec, value, expected):
    """Each building block refuses a value of another type or outside its bounds, saying what was expected."""
    refused(spec, value, "x", expected, at="x")
    refused(Json(1), {"k": [1]}, "x.k[0]", "a value nested at most 1 deep, got 'deeper'", at="x")


@pytest.mark.parametrize("spec, value, out", [
    (Int(0, 3), 3, 3), (Float(0.0, 1.0), 1, 1.0), (Float(finite=False), -math.inf, -math.inf), (Bool(), False, False),
    (Str(3), "abc", "abc"), (Str(5, ("ab", "cd")), "cd", "cd"), (Opt(Int(0, 1)), None, None),
    (List(Int(0, 9), 0, 2, unique=True), [1, 2], [1, 2]), (Hex(4), "09af", "09af"), (Json(1), [1, {}], [1, {}]),
    (Obj({"a": Int(0, 1)}, extra=True), {"a": 1, "b": "kept"}, {"a": 1, "b": "kept"}),
])
def test_each_spec_returns_what_it_accepts(spec, value, out):
    """An accepted value comes back as given (a float spec returns a float)."""
    got = check(spec, value, WHERE)
    assert got == out and type(got) is type(out)


def test_an_object_names_the_first_unknown_field_and_the_known_ones():
    """An unknown field is refused by its path with the sorted list of fields; the path has no leading dot."""
    spec = Obj({"b": Int(0, 1), "a": Int(0, 1)}, required=("a",))
    refused(spec, {"a": 0, "z": 1, "y": 1}, "y", "no such field (fields: ['a', 'b'])")
    refused(spec, {"b": 0}, "a", "a value (the field is missing)")
    refused(spec, {"a": 0, "q": 1}, "top.q", at="top")
    refused(Obj({"inner": spec}), {"inner": {"a": 2}}, "inner.a", "an integer in [0, 1]")


def test_a_value_nested_too_deep_for_python_is_one_checkpoint_error():
    """A recursion error while checking is a CheckpointError naming the file and the field (or 'top')."""
    deep = 1
    for _ in range(100_000):
        deep = [deep]
    with pytest.raises(CheckpointError, match=f"^{WHERE}: field 'top': nested too deep$"):
        check(Json(10 ** 6), deep, WHERE)
    with pytest.raises(CheckpointError, match=f"^{WHERE}: field 'metrics': nested too deep$"):
        check(Json(10 ** 6), deep, WHERE, "metrics")


# -- tensors ---------------------------------------------------------------------------------------------------------
def test_tensors_must_match_the_expected_names_shapes_and_dtypes():
    """Missing and unexpected names are listed (five of each at most), then each tensor's shape and dtype."""
    expected = {"a": ((2,), torch.float64), "b": ((1, 2), torch.float32)}
    good = {"a": torch.zeros(2, dtype=torch.float64), "b": torch.zeros(1, 2)}
    check_tensors(good, expected, WHERE)
    many = {f"x{i}": torch.zeros(1) for i in range(7)}
    with pytest.raises(CheckpointError) as caught:
        check_tensors({"a": good["a"], **many}, expected, WHERE)
    assert str(caught.value) == (f"{WHERE}: the tensors do not match the recorded model (missing ['b'], unexpected "
                                 "['x0', 'x1', 'x2', 'x3', 'x4'])")
    with pytest.raises(CheckpointError, match=f"^{WHERE}: tensor 'b': shape \\(2,\\), the JSON implies \\(1, 2\\)$"):
        check_tensors(dict(good, b=torch.zeros(2)), expected, WHERE)
    with pytest.raises(CheckpointError, match=f"^{WHERE}: tensor 'a': dtype torch.float32, expected torch.float64$"):
        check_tensors(dict(good, a=torch.zeros(2)), expected, WHERE)


def test_floating_tensors_are_finite_and_counts_non_negative():
    """NaN or infinity in a floating or complex tensor is refused; a negative value only in a tensor named as
    counts; integer tensors and empty counts pass."""
    expected = {"w": ((2,), torch.float32), "c": ((2,), torch.float64), "z": ((1,), torch.complex64)}
    tensors = {"w": torch.tensor([-1.0, 2.0]), "c": torch.tensor([0.0, 3.0], dtype=torch.float64),
               "z": torch.tensor([1 + 1j], dtype=torch.complex64)}
    check_tensors(tensors, expected, WHERE, counts=("c",))
    with pytest.raises(CheckpointError, match=f"^{WHERE}: tensor 'c' holds negative counts$"):
        check_tensors(dict(tensors, c=torch.tensor([0.0, -1e-300], dtype=torch.float64)), expected, WHERE,
                      counts=("c",))
    with pytest.raises(CheckpointError, match=f"^{WHERE}: tensor 'w' holds negative counts$"):
        check_tensors(tensors, expected, WHERE, counts=("w",))
    with pytest.raises(CheckpointError, match=f"^{WHERE}: tensor 'z' holds NaN or infinite values$"):
        check_tensors(dict(tensors, z=torch.tensor([complex(math.inf, 0)], dtype=torch.complex64)), expected, WHERE)
    with pytest.raises(CheckpointError, match=f"^{WHERE}: tensor 'w' holds NaN or infinite values$"):
        check_finite(torch.tensor([math.nan]), WHERE, "w")
    check_finite(torch.tensor([-3], dtype=torch.int64), WHERE, "i")
    check_finite(torch.zeros(0), WHERE, "e", nonnegative=True)
    with pytest.raises(CheckpointError, match="'i' holds negative counts"):
        check_finite(torch.tensor([-3], dtype=torch.int64), WHERE, "i", nonnegative=True)


def test_a_saved_models_optional_fields():
    """The tensor file is model.safetensors (at most 60 characters), the kind at most 20 characters, the sport
    definition optional."""
    spec = model_meta_spec(("markov", "neural"), "model-format", 2)
    assert check(spec, edited(model_doc(), ("tensor_file",), "model.safetensors"), WHERE)
    refused(spec, edited(model_doc(), ("tensor_file",), "other.safetensors"), "tensor_file", "one of")
    refused(spec, edited(model_doc(), ("tensor_file",), "m" * 61), "tensor_file", "at most 60 characters")
    refused(spec, edited(model_doc(), ("kind",), "k" * 21), "kind", "at most 20 characters")
    assert check(spec, edited(model_doc(), ("sport_definition",), {"name": "x"}), WHERE)["sport_definition"]


def test_the_vocabulary_fingerprint_is_at_most_64_characters():
    """The recorded vocabulary fingerprint is a text of at most 64 characters: 64 accepted, 65 refused."""
    spec = model_meta_spec(("markov", "neural"), "model-format", 2)
    assert check(spec, edited(model_doc(), ("vocabulary_fingerprint",), "f" * 64), WHERE)["vocabulary_fingerprint"] \
        == "f" * 64
    refused(spec, edited(model_doc(), ("vocabulary_fingerprint",), "f" * 65), "vocabulary_fingerprint",
            "a text of at most 64 characters")


def test_hex_digits_and_field_names_are_taken_literally():
    """Only 0-9 and a-f are hex digits (not X); a field whose name starts with X keeps its name in the path."""
    refused(Hex(4), "abXc", "x", "4 lower-case hex digits", at="x")
    refused(Obj({"Xy": Int(0, 1)}), {"Xy": 2}, "Xy", "an integer in [0, 1]")


def test_a_players_key_of_a_bad_level_names_its_place():
    """A player's key with a level beyond the order is refused naming state.player_keys[i][level]."""
    doc = edited(backoff_doc(), ("players",), ["Ann"])
    doc["player_keys"] = [["Ann", 0, []], ["Ann", 5, [0]]]
    _keys_refused("markov", doc, "state.player_keys[1][level]", "a level in [0, 2]")
