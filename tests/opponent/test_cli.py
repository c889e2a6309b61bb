"""``strategist train`` and ``strategist evaluate`` on the shipped demo."""

from __future__ import annotations

import json

import pytest

from strategist.cli.main import main


@pytest.fixture(scope="module")
def markov_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("markov")
    assert main(["train", "--model", "markov", "--out", str(out), "--order", "1"]) == 0
    return out


def test_train_and_evaluate_markov_on_the_demo(markov_dir, capsys):
    capsys.readouterr()
    assert main(["evaluate", "--model", str(markov_dir), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    for key in ("log_loss", "top1", "top3", "ece", "n"):
        assert key in result
    assert result["n"] > 100 and 0 < result["top1"] <= result["top3"] <= 1
    assert result["seen"]["n"] + result["unseen"]["n"] == result["n"]
    assert result["matches"] == 4  # the 20 % of the demo's 20 matches held out by the rank rule
    assert (markov_dir / "reliability.png").stat().st_size > 1000
    assert main(["evaluate", "--model", str(markov_dir), "--adapt", "--no-plot"]) == 0
    assert "held-out matches (with in-match updates)" in capsys.readouterr().out


def test_train_neural_briefly_with_a_chosen_optimizer(tmp_path, capsys):
    out = tmp_path / "neural"
    assert main(["train", "--model", "neural", "--optimizer", "soap", "--max-steps", "6", "--batch-size", "16",
                 "--out", str(out), "--device", "cpu", "--no-progress", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["steps"] == 6 and summary["device"] == "cpu"
    meta = json.loads((out / "model.json").read_text())
    assert meta["state"]["config"]["optimizer"] == "soap"
    assert len(meta["split"]["test"]) == 4 and meta["vocabulary"]["sport"] == "badminton"
    assert main(["evaluate", "--model", str(out), "--json", "--no-plot"]) == 0
    assert json.loads(capsys.readouterr().out)["n"] > 100


def test_a_damaged_model_is_a_one_line_error(markov_dir, tmp_path, capsys):
    import shutil

    bad = tmp_path / "bad"
    shutil.copytree(markov_dir, bad)
    (bad / "model.safetensors").write_bytes(b"garbage")
    assert main(["evaluate", "--model", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("strategist: error:") and "damaged file" in err
