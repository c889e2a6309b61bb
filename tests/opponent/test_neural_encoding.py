"""The neural model's encoding and bookkeeping on tiny untrained networks: a table's padded arrays written out by
hand, the position normalisation, the weight count, the configuration, the evidence counts, the saved state,
the device path of one prediction, the batches of the table path and the in-match offsets across matches."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

from strategist.errors import OpponentModelError
from strategist.opponent import NeuralModel, load_model, rally_frame
from strategist.opponent.base import positions_in_rally
from strategist.opponent.neural import (MAX_STROKE, N_CTX, N_NUM, START, Encoder, NeuralConfig, RallyNet, _softmax,
                                        batch_of, encode_table, fit_logit_offset, parameter_count, to_tensors)
from strategist.sports import get_sport

SHOTS = list(get_sport("badminton").shots)
AREAS = list(get_sport("badminton").areas)


def _ix(shot):
    return SHOTS.index(shot) + 2


def _two_rallies() -> pd.DataFrame:
    """Rally 1: A serves, B lobs, A smashes (score 3-4, A's view); rally 2: B serves, A drives (no score)."""
    return pd.DataFrame({
        "sport": "badminton", "match_id": "m1", "set": 1,
        "rally": [1, 1, 1, 2, 2], "rally_id": ["m1|1|1"] * 3 + ["m1|1|2"] * 2, "stroke": [1, 2, 3, 1, 2],
        "hitter": ["A", "B", "A", "B", "A"], "opponent": ["B", "A", "B", "A", "B"],
        "shot": ["short service", "lob", "smash", "long service", "drive"],
        "landing_area": [AREAS[0], None, AREAS[2], AREAS[3], None],
        "server": ["A", "A", "A", "B", "B"],
        "hitter_score": [3.0, 4.0, 3.0, np.nan, np.nan], "opponent_score": [4.0, 3.0, 4.0, np.nan, np.nan]})


@pytest.fixture(scope="module")
def tiny():
    torch.manual_seed(0)
    model = NeuralModel(hidden=6, d_shot=4, d_area=3, d_player=2, d_height=2)
    model.build(["A", "B", "C"], {"mean": [0.0] * 4, "std": [1.0] * 4})
    model.net.eval()
    model.fitted_ = True
    return model


def test_a_table_encodes_to_padded_arrays_by_hand(tiny):
    """Step j of a rally carries stroke j's inputs (START at step 0) and predicts stroke j + 1; the context is
    the predicted stroke's (its hitter, opponent, number, score / 21 and whether its hitter served)."""
    frame = _two_rallies()
    out = encode_table(tiny._encoder, frame)
    assert out["lengths"].tolist() == [3, 2]
    assert out["shot"].tolist() == [[START, _ix("short service"), _ix("lob")], [START, _ix("long service"), 0]]
    assert out["area"].tolist() == [[0, 1, 0], [0, 4, 0]]
    assert out["target"].tolist() == [[_ix("short service") - 2, _ix("lob") - 2, _ix("smash") - 2],
                                      [_ix("long service") - 2, _ix("drive") - 2, -100]]
    assert out["rows"].tolist() == [[0, 1, 2], [3, 4, -1]]
    assert out["player"].tolist() == [[1, 2, 1], [2, 1, 0]] and out["opponent"].tolist() == [[2, 1, 2], [1, 2, 0]]
    assert out["stroke"].tolist() == [[1, 2, 3], [1, 2, 0]]
    np.testing.assert_allclose(out["ctx"][0], [[3 / 21, 4 / 21, 0, 1], [4 / 21, 3 / 21, 0, 0],
                                               [3 / 21, 4 / 21, 0, 1]], rtol=1e-6)
    np.testing.assert_allclose(out["ctx"][1], [[0, 0, 1, 1], [0, 0, 1, 0], [0, 0, 0, 0]])
    # the same-hitter flag of stroke j (whether its hitter also hits next) sits at step j + 1
    assert out["num"].shape == (2, 3, N_NUM) and out["ctx"].shape == (2, 3, N_CTX)
    assert out["num"][0, :, 6].tolist() == [0, 0, 0] and out["num"][1, :, 6].tolist() == [0, 0, 0]
    assert out["num"][0, 1:, 4:6].tolist() == [[1, 1], [1, 1]]           # no positions recorded: both missing
    assert out["num"][0, 0].tolist() == [0.0] * N_NUM                     # the start step has no stroke inputs


def test_the_server_flag_falls_back_to_the_hitter_and_long_rallies_cap_the_stroke_number(tiny):
    """Without a server column every stroke counts as served by its hitter; stroke numbers past MAX_STROKE read
    as MAX_STROKE."""
    n = MAX_STROKE + 3
    frame = pd.DataFrame({"match_id": "m", "rally_id": "r", "stroke": range(1, n + 1),
                          "hitter": ["A", "B"] * (n // 2) + ["A"] * (n % 2),
                          "opponent": ["B", "A"] * (n // 2) + ["B"] * (n % 2),
                          "shot": ["short service"] + ["drive"] * (n - 1)})
    out = encode_table(tiny._encoder, frame)
    assert out["ctx"][0, :, 3].tolist() == [1.0] * n
    assert out["stroke"][0].tolist() == list(range(1, MAX_STROKE + 1)) + [MAX_STROKE] * 3
    same = frame.assign(hitter="A", opponent="B")
    assert encode_table(tiny._encoder, same)["num"][0, 1:, 6].tolist() == [1.0] * (n - 1)


def test_batches_are_trimmed_to_their_longest_rally(tiny):
    out = to_tensors(encode_table(tiny._encoder, _two_rallies()), "cpu")
    b = batch_of(out, torch.tensor([1]))
    assert b["shot"].shape == (1, 2) and b["num"].shape == (1, 2, N_NUM) and b["lengths"].tolist() == [2]
    assert batch_of(out, torch.tensor([1, 0]))["shot"].shape == (2, 3)


def test_the_position_normalisation_by_hand():
    """Mean and (population) standard deviation of each position column's finite values; a column absent, all
    missing, of one value or constant has mean 0 (absent or missing) or its value, and standard deviation 1."""
    frame = pd.DataFrame({"hitter_x": [1.0, 3.0, np.nan, 5.0], "hitter_y": [np.nan] * 4,
                          "opponent_x": [2.0, np.nan, np.nan, np.nan], "opponent_y": ["4", "4", None, "4"]})
    norm = Encoder.position_norm(frame)
    assert norm["mean"] == pytest.approx([3.0, 0.0, 2.0, 4.0])
    assert norm["std"] == pytest.approx([np.sqrt(8 / 3), 1.0, 1.0, 1.0])
    assert Encoder.position_norm(frame[["hitter_x"]]) == {"mean": [3.0, 0.0, 0.0, 0.0],
                                                          "std": [pytest.approx(np.sqrt(8 / 3)), 1.0, 1.0, 1.0]}


@pytest.mark.parametrize("layers", [1, 2])
def test_the_weight_count_is_the_networks(layers):
    cfg = NeuralConfig(hidden=7, d_shot=5, d_area=3, d_player=2, d_height=3, layers=layers)
    net = RallyNet(11, 9, 4, cfg)
    assert parameter_count(11, 9, 4, cfg) == sum(p.numel() for p in net.parameters())


def test_the_configuration_reads_its_own_fields_and_keyword_arguments_win():
    cfg = NeuralConfig.from_json({"hidden": 9, "colour": "red", "lr": 0.5})
    assert cfg.hidden == 9 and cfg.lr == 0.5 and cfg.d_shot == NeuralConfig().d_shot
    assert NeuralConfig.from_json(cfg.to_json()) == cfg
    model = NeuralModel(config=cfg, hidden=5, layers=2)
    assert model.config.hidden == 5 and model.config.layers == 2 and model.config.lr == 0.5
    assert NeuralModel(config=cfg).config == cfg and NeuralModel().config == NeuralConfig()


def test_evidence_counts_each_players_strokes_by_the_shot_before(tiny):
    """Column 0: a rally's first strokes; column 1 + k: strokes after shot k; row 0: everyone, row i: player i."""
    frame = _two_rallies()
    counts = tiny.count_evidence(frame)
    want = np.zeros((4, len(SHOTS) + 1))
    for player, before in (("A", None), ("B", "short service"), ("A", "lob"), ("B", None), ("A", "long service")):
        col = 0 if before is None else SHOTS.index(before) + 1
        want[0, col] += 1
        want[1 + ["A", "B", "C"].index(player), col] += 1
    np.testing.assert_array_equal(counts, want)
    assert tiny._contexts(frame).tolist() == [0, SHOTS.index("short service") + 1, SHOTS.index("lob") + 1, 0,
                                              SHOTS.index("long service") + 1]


def test_the_saved_state_restores_weights_evidence_temperature_and_players(tiny, tmp_path):
    model = NeuralModel(hidden=6, d_shot=4, d_area=3, d_player=2, d_height=2)
    model.build(["A", "B", "C"], {"mean": [1.0, 2.0, 3.0, 4.0], "std": [2.0, 2.0, 2.0, 2.0]})
    model.net.load_state_dict(tiny.net.state_dict())
    model.evidence_ = model.count_evidence(_two_rallies())
    model.temperature_ = 1.7
    model.fitted_ = True
    model.save(tmp_path)
    loaded = load_model(tmp_path)
    assert loaded.players == ["A", "B", "C"] and loaded.norm == model.norm and loaded.temperature_ == 1.7
    np.testing.assert_array_equal(loaded.evidence_, model.evidence_)
    assert not loaded.net.training and loaded.fitted_
    frame = _two_rallies()
    np.testing.assert_allclose(loaded.predict_table(frame), model.predict_table(frame), rtol=1e-6)
    p = loaded.predict(frame.iloc[:2], {"player": "A"})
    assert p.n == model.predict(frame.iloc[:2], {"player": "A"}).n == 1.0


def test_the_torch_path_of_one_prediction_equals_the_folded_path(tiny):
    """Off the CPU one rally's logits come from RallyNet.last through torch (_torch_logits); run here on the CPU
    it gives the folded NumPy pass's logits for the same inputs, and switches dropout off."""
    from strategist.opponent.inference import FoldedRallyNet

    rng = np.random.default_rng(2)
    t = 4
    shot = np.array([START, _ix("short service"), _ix("lob"), _ix("smash")], np.int64)
    area = np.array([0, 1, 0, 5], np.int64)
    wing = np.array([0, 1, 2, 0], np.int64)
    height = np.array([0, 2, 1, 1], np.int64)
    num = rng.normal(size=(t, N_NUM)).astype(np.float32)
    ctx = np.array([3 / 21, 4 / 21, 0.0, 1.0], np.float32)
    folded = FoldedRallyNet(tiny.net).logits(shot, area, wing, height, num, 1, 2, 4, ctx).astype(np.float64)
    tiny.net.train()
    try:
        got = tiny._torch_logits(shot, area, wing, height, num, 1, 2, 4, ctx)
        assert not tiny.net.training
    finally:
        tiny.net.eval()
    np.testing.assert_allclose(got, folded, rtol=1e-5, atol=1e-6)
    # the last position's logits are those of the whole forward pass at that position
    b = {"shot": torch.from_numpy(shot)[None], "area": torch.from_numpy(area)[None],
         "wing": torch.from_numpy(wing)[None], "height": torch.from_numpy(height)[None],
         "num": torch.from_numpy(num)[None], "player": torch.full((1, t), 1), "opponent": torch.full((1, t), 2),
         "stroke": torch.full((1, t), 4), "ctx": torch.from_numpy(ctx)[None, None].expand(1, t, N_CTX)}
    with torch.no_grad():
        whole = tiny.net(b)[0, -1].double().numpy()
    np.testing.assert_allclose(got, whole, rtol=1e-5, atol=1e-6)


def test_an_area_outside_the_vocabulary_in_a_history_reads_as_missing(tiny):
    hist = _two_rallies().iloc[:2].copy()
    ctx = {"player": "A", "opponent": "B"}
    hist["landing_area"] = [AREAS[0], "99"]
    unknown = tiny.predict(hist, ctx).probabilities
    hist["landing_area"] = [AREAS[0], None]
    np.testing.assert_allclose(unknown, tiny.predict(hist, ctx).probabilities, rtol=1e-6)
    hist["landing_area"] = [AREAS[0], AREAS[0]]
    assert not np.allclose(unknown, tiny.predict(hist, ctx).probabilities)


def test_the_table_path_gives_the_same_logits_in_any_batch_size(tiny):
    frame = rally_frame(_two_rallies())
    _, whole = tiny.logits_table(frame)
    _, one_by_one = tiny.logits_table(frame, batch=1)
    np.testing.assert_allclose(one_by_one, whole, rtol=1e-5, atol=1e-7)
    tiny.temperature_ = 2.0
    try:
        np.testing.assert_allclose(tiny.logits_table(frame)[1], whole / 2.0, rtol=1e-12)
    finally:
        tiny.temperature_ = 1.0


def test_the_in_match_offsets_start_over_with_another_match(tiny):
    """Offsets and evidence learnt in one match are dropped when the rallies of another match arrive."""
    frame = _two_rallies()
    tiny.reset()
    try:
        tiny.update(frame)
        assert set(tiny._bias) == {"A", "B"}
        p = tiny.predict(frame.iloc[:1], {"player": "B"})
        assert p.details["adapted"] and p.n == 1.0 and p.source == "player"   # B's return after a serve, live
        other = frame.assign(match_id="m2", hitter=frame["hitter"].replace({"B": "C"}),
                             opponent=frame["opponent"].replace({"B": "C"}))
        tiny.update(other)
        assert set(tiny._bias) == {"A", "C"} and tiny._live_match == "m2"
        _, z = tiny.logits_table(other)
        codes = tiny.vocabulary.shot_codes(other["shot"])
        rows = (other["hitter"] == "A").to_numpy()
        np.testing.assert_allclose(tiny._bias["A"], fit_logit_offset(z[rows], codes[rows], 4.0), rtol=1e-8)
        assert tiny.update(None) is tiny and tiny.update(other.iloc[:0]) is tiny
    finally:
        tiny.reset()
    assert tiny._bias == {} and tiny._live_match is None


def test_the_offsets_of_further_rallies_start_from_the_last_and_fit_them_all(tiny):
    """A second update of the same match fits each offset to every rally so far (not only the new ones)."""
    frame = _two_rallies()
    tiny.reset()
    try:
        tiny.update(frame.iloc[:3])
        tiny.update(frame.iloc[3:])
        _, z = tiny.logits_table(frame)
        codes = tiny.vocabulary.shot_codes(frame["shot"])
        rows = (frame["hitter"] == "A").to_numpy()
        want = fit_logit_offset(z[rows], codes[rows], 4.0, steps=30)
        np.testing.assert_allclose(tiny._bias["A"], want, atol=1e-6)
    finally:
        tiny.reset()


def test_an_offset_needs_a_positive_penalty_and_is_the_penalised_optimum():
    rng = np.random.default_rng(1)
    z = rng.normal(size=(30, 4))
    y = rng.integers(0, 4, 30)
    with pytest.raises(OpponentModelError, match="adapt_l2 must be positive, got 0"):
        fit_logit_offset(z, y, 0.0)
    b = fit_logit_offset(z, y, 0.5, steps=20)
    grad = (_softmax(z + b) - np.eye(4)[y]).sum(0) + 0.5 * b
    assert np.abs(grad).max() < 1e-10
    assert np.allclose(fit_logit_offset(z, y, 0.5, start=b, steps=1), b, atol=1e-12)


def test_softmax_rows_sum_to_one_and_survive_large_logits():
    p = _softmax(np.array([[1000.0, 1000.0 + np.log(3.0)], [0.0, 0.0]]))
    np.testing.assert_allclose(p, [[0.25, 0.75], [0.5, 0.5]])


def test_a_prediction_reads_the_context_as_recorded(tiny):
    """The score enters as points / 21 with its "missing" flag cleared, the served flag when the player to hit
    served, the stroke number capped at MAX_STROKE: each changes the prediction; an absent stroke number is the
    history's length + 1."""
    hist = _two_rallies().iloc[:2]
    base = {"player": "A", "opponent": "B"}
    p = tiny.predict(hist, base).probabilities
    assert np.allclose(tiny.predict(hist, dict(base, stroke=3)).probabilities, p)
    assert not np.allclose(tiny.predict(hist, dict(base, stroke=4)).probabilities, p)
    assert np.allclose(tiny.predict(hist, dict(base, stroke=MAX_STROKE + 5)).probabilities,
                       tiny.predict(hist, dict(base, stroke=MAX_STROKE)).probabilities)
    assert not np.allclose(tiny.predict(hist, dict(base, score=(0, 0))).probabilities, p)
    assert not np.allclose(tiny.predict(hist, dict(base, server="A")).probabilities,
                           tiny.predict(hist, dict(base, server="B")).probabilities)
    # the table path reads the same context: a one-rally table of hist and the next stroke
    frame = _two_rallies().iloc[:3]
    table = tiny.predict_table(frame)
    ctx = {"player": "A", "opponent": "B", "server": "A", "score": (3, 4), "stroke": 3}
    np.testing.assert_allclose(tiny.predict(hist, ctx).probabilities, table[2], rtol=1e-5, atol=1e-7)
    assert positions_in_rally(frame).tolist() == [0, 1, 2]


def test_the_weights_version_counts_each_change_and_renews_the_folded_copy(tiny):
    net = tiny.net
    before = net.version
    net.weights_changed()
    net.weights_changed()
    assert net.version == before + 2
    net.load_state_dict(net.state_dict())
    assert net.version == before + 3
    hist = _two_rallies().iloc[:2]
    p = tiny.predict(hist, {"player": "A"}).probabilities
    saved = net.out.bias.detach().clone()
    try:
        with torch.no_grad():
            net.out.bias.add_(torch.arange(len(SHOTS), dtype=torch.float32))
        net.weights_changed()                          # an edit in place, announced
        q = tiny.predict(hist, {"player": "A"}).probabilities
        assert not np.allclose(p, q)
    finally:
        with torch.no_grad():
            net.out.bias.copy_(saved)
        net.weights_changed()
    np.testing.assert_allclose(tiny.predict(hist, {"player": "A"}).probabilities, p, rtol=1e-6)


def test_a_model_moves_its_network_to_the_device_named():
    model = NeuralModel(hidden=4, d_shot=2, d_area=2, d_player=2, d_height=2)
    assert model.to("cpu") is model and model.device == torch.device("cpu")     # no network yet: nothing to move
    model.build(["A"], {"mean": [0.0] * 4, "std": [1.0] * 4})
    assert model.to("meta") is model and model.device == torch.device("meta")
    assert {p.device.type for p in model.net.parameters()} == {"meta"}


def test_fit_trains_the_model_itself_with_the_arguments_given():
    from .conftest import planted_table

    table = planted_table(matches=4, rallies=2, seed=7)
    ids = sorted(table["match_id"].unique())
    model = NeuralModel(hidden=4, d_shot=2, d_area=2, d_player=2, d_height=2, batch_size=4, calibrate=False)
    out = model.fit(table[table["match_id"].isin(ids[:3])], valid=table[table["match_id"] == ids[3]], max_steps=2)
    assert out is model and model.fitted_ and model.metrics_["steps"] == 2
    assert model.split_["valid"] == [ids[3]] and model.players == sorted({"Ann", "Bea", "Cat", "Dia"} & set(
        table[table["match_id"].isin(ids[:3])]["hitter"]))


def test_the_match_of_an_update_is_that_of_its_last_stroke(tiny):
    """A table whose last stroke belongs to another match than the one adapted to so far starts that match over
    (its earlier strokes of the old match included in the new fit)."""
    frame = _two_rallies()
    tiny.reset()
    try:
        tiny.update(frame)
        moved = pd.concat([frame.iloc[:3], frame.iloc[3:4].assign(match_id="m2", rally_id="m2|1|1")])
        tiny.update(moved)
        assert tiny._live_match == "m2"
        # started over: A's offset fitted to A's strokes of this table alone
        _, z = tiny.logits_table(moved)
        codes = tiny.vocabulary.shot_codes(moved["shot"])
        rows = (moved["hitter"] == "A").to_numpy()
        np.testing.assert_allclose(tiny._bias["A"], fit_logit_offset(z[rows], codes[rows], 4.0), rtol=1e-8)
    finally:
        tiny.reset()


def test_each_update_starts_its_newton_steps_from_the_last_offset():
    """With a weak penalty four Newton steps do not converge from zero, so where they start shows: an update
    continues from the player's offset of the update before."""
    torch.manual_seed(1)
    model = NeuralModel(hidden=6, d_shot=4, d_area=3, d_player=2, d_height=2, adapt_l2=1e-3)
    model.build(["A", "B"], {"mean": [0.0] * 4, "std": [1.0] * 4})
    model.net.eval()
    model.fitted_ = True
    frame = _two_rallies()
    model.update(frame.iloc[:3])
    first = model._bias["A"].copy()
    model.update(frame.iloc[3:])
    _, z = model.logits_table(frame)
    codes = model.vocabulary.shot_codes(frame["shot"])
    rows = (frame["hitter"] == "A").to_numpy()
    warm = fit_logit_offset(z[rows], codes[rows], 1e-3, start=first)
    cold = fit_logit_offset(z[rows], codes[rows], 1e-3)
    assert np.abs(warm - cold).max() > 1e-6
    np.testing.assert_allclose(model._bias["A"], warm, rtol=1e-10, atol=1e-12)


def test_the_position_normalisation_reads_text_counts_two_values_and_small_spreads():
    """Unreadable text counts as missing; two values have a standard deviation; a spread below 1 is used as
    it is (only zero falls back to 1)."""
    frame = pd.DataFrame({"hitter_x": ["1", "n/a", "3", None], "hitter_y": [0.2, 0.4, 0.2, 0.4],
                          "opponent_x": [5.0, 5.0, 5.0, 5.0], "opponent_y": [7.0, np.nan, np.nan, np.nan]})
    norm = Encoder.position_norm(frame)
    assert norm["mean"] == pytest.approx([2.0, 0.3, 5.0, 7.0])
    assert norm["std"] == pytest.approx([1.0, 0.1, 1.0, 1.0])
    two = Encoder.position_norm(pd.DataFrame({"hitter_x": [2.0, 6.0]}))
    assert two["std"][0] == pytest.approx(2.0)
    nullable = Encoder.position_norm(pd.DataFrame({"hitter_x": pd.array([2, None, 6], dtype="Int64")}))
    assert nullable["mean"][0] == 4.0 and nullable["std"][0] == pytest.approx(2.0)


def test_a_built_network_starts_with_no_evidence_of_the_shape_documented():
    model = NeuralModel(hidden=4, d_shot=2, d_area=2, d_player=2, d_height=2)
    model.build(["B", "A"], {"mean": [0.0] * 4, "std": [1.0] * 4})
    assert model.players == ["A", "B"]
    assert model.evidence_.shape == (3, len(SHOTS) + 1) and not model.evidence_.any()


def test_evidence_of_a_frame_with_a_shot_outside_the_vocabulary_is_refused_naming_the_table(tiny):
    frame = _two_rallies()
    frame.loc[2, "shot"] = "hammer throw"
    with pytest.raises(OpponentModelError, match="^table: shot 'hammer throw' is not in the badminton vocabulary"):
        tiny.count_evidence(frame)


def test_positions_are_standardised_in_float32_arithmetic():
    """The standardised positions are (x - mean) / std computed in float32, as the network reads them (the same
    numbers bit for bit, whichever path encodes them)."""
    rng = np.random.default_rng(0)
    n = 200
    frame = pd.DataFrame({"shot": "drive", "hitter": "A", "hitter_x": rng.normal(size=n), "hitter_y": rng.normal(size=n),
                          "opponent_x": rng.normal(size=n), "opponent_y": rng.normal(size=n)})
    mean, std = [0.1, 0.2, 0.3, 0.7], [0.3, 1.7, 2.9, 0.11]
    enc = Encoder(SHOTS, AREAS, ["A"], {"mean": mean, "std": std})
    got = enc.strokes(frame, ["A"] * n)["num"][:, :4]
    for j, c in enumerate(("hitter_x", "hitter_y", "opponent_x", "opponent_y")):
        x = frame[c].to_numpy(np.float32)
        np.testing.assert_array_equal(got[:, j], (x - np.float32(mean[j])) / np.float32(std[j]))


def test_arrays_are_made_on_the_device_asked_whatever_the_default_device(tiny):
    arrays = encode_table(tiny._encoder, _two_rallies())
    with torch.device("meta"):
        data = to_tensors(arrays, "cpu")
    assert {v.device.type for v in data.values()} == {"cpu"}
    assert torch.equal(data["shot"], torch.as_tensor(arrays["shot"]))


def test_an_empty_frame_encodes_to_no_rallies(tiny):
    out = encode_table(tiny._encoder, _two_rallies().iloc[:0])
    assert out["shot"].shape[0] == 0 and len(out["lengths"]) == 0


def test_a_fresh_model_adapts_without_a_reset_first_and_divides_by_one():
    """A model just built has no offsets, no live match and temperature 1: its table logits are the network's."""
    torch.manual_seed(3)
    model = NeuralModel(hidden=4, d_shot=2, d_area=2, d_player=2, d_height=2)
    model.build(["A", "B"], {"mean": [0.0] * 4, "std": [1.0] * 4})
    model.net.eval()
    model.fitted_ = True
    frame = rally_frame(_two_rallies())
    _, z = model.logits_table(frame)
    data = to_tensors(encode_table(model._encoder, frame), "cpu")
    with torch.no_grad():
        raw = model.net(batch_of(data, torch.arange(2)))
    np.testing.assert_allclose(z[:3], raw[0].double().numpy(), rtol=1e-6)
    assert model.update(frame) is model and set(model._bias) == {"A", "B"} and model._live_match == "m1"


def test_a_score_with_either_side_missing_counts_as_no_score(tiny):
    frame = _two_rallies()
    frame["opponent_score"] = [4.0, np.nan, 4.0, np.nan, np.nan]
    frame["hitter_score"] = [3.0, 4.0, np.nan, 5.0, np.nan]
    ctx = encode_table(tiny._encoder, frame)["ctx"]
    np.testing.assert_allclose(ctx[0, :3, :3], [[3 / 21, 4 / 21, 0], [0, 0, 1], [0, 0, 1]], rtol=1e-6)
    np.testing.assert_allclose(ctx[1, :2, :3], [[0, 0, 1], [0, 0, 1]])
    assert np.isfinite(ctx).all()


def test_a_missing_or_unknown_landing_area_is_the_missing_code_whatever_the_areas_are_called():
    """A missing area is code 0 even where an area's code reads like a missing value; an area outside the
    vocabulary is code 0 too."""
    enc = Encoder(SHOTS, ["None", "nan", "<NA>", "7"], ["A"], {"mean": [0.0] * 4, "std": [1.0] * 4})
    frame = pd.DataFrame({"shot": ["drive"] * 6, "hitter": "A",
                          "landing_area": pd.array([None, "nan", "7", "99", pd.NA, "None"], dtype=object)})
    frame.loc[0, "landing_area"] = np.nan
    assert enc.strokes(frame, ["A"] * 6)["area"].tolist() == [0, 2, 4, 0, 0, 1]
    none = pd.DataFrame({"shot": ["drive"] * 2, "hitter": "A", "landing_area": pd.array([None, "None"], dtype=object)})
    assert enc.strokes(none, ["A"] * 2)["area"].tolist() == [0, 1]
    assert enc.strokes(none[["shot", "hitter"]], ["A"] * 2)["area"].tolist() == [0, 0]      # no area column
    # a number read from a file is an area by its text
    numbers = Encoder(SHOTS, ["7.5", "3"], ["A"], {"mean": [0.0] * 4, "std": [1.0] * 4})
    read = pd.DataFrame({"shot": ["drive"] * 3, "hitter": "A", "landing_area": [7.5, np.nan, 2.0]})
    assert numbers.strokes(read, ["A"] * 3)["area"].tolist() == [1, 0, 0]
