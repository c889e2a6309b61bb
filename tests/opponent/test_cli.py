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


def test_auto_keeps_the_candidate_with_the_lowest_validation_log_loss_and_says_why(tmp_path, capsys):
    from strategist.data.demo import demo_path
    from strategist.data.load import load_rallies
    from strategist.opponent import MarkovModel
    from strategist.opponent.choose import validation_scores
    from strategist.opponent.split import select, split_matches

    out = tmp_path / "auto"
    assert main(["train", "--model", "auto", "--out", str(out), "--max-steps", "8", "--batch-size", "16",
                 "--device", "cpu", "--no-progress", "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    choice = summary["choice"]
    scores = choice["candidates"]
    assert set(scores) == {"markov1", "markov2", "markov3", "frequency", "neural"}
    assert choice["chosen"] == min(scores, key=lambda k: scores[k]["log_loss"])
    assert choice["chosen"] in choice["reason"] and "validation matches" in choice["reason"]
    # each count model's figure is that model's own on the validation matches (an independent refit)
    table = load_rallies(demo_path()).table
    split = split_matches(table)
    again = validation_scores(MarkovModel(order=2).fit(select(table, split.train)), select(table, split.valid))
    assert scores["markov2"]["log_loss"] == pytest.approx(again["log_loss"], rel=1e-12)
    assert json.loads((out / "model.json").read_text())["kind"] == summary["model"]


def test_train_and_evaluate_with_a_sport_file(tmp_path, capsys, shuttleset_strokes, monkeypatch):
    from strategist.data.load import load_rallies
    from strategist.sports import get_sport, registry

    table = load_rallies(shuttleset_strokes).table
    table = table[table["match_id"].isin(sorted(table["match_id"].unique())[:10])].copy()
    table = table[~table["rally_id"].isin(table.loc[table["shot"] == "unknown", "rally_id"])]
    table["shot"] = get_sport("badminton").group(table["shot"], "track2")
    table["sport"] = "club-ten"
    data = tmp_path / "club.csv"
    table.to_csv(data, index=False)
    sport_file = tmp_path / "club.toml"
    sport_file.write_text('name = "club-ten"\nextends = "badminton"\nshots = ["short service", "long service", '
                          '"net shot", "clear", "push/rush", "smash", "defensive shot", "drive", "drop", "lob"]\n')
    out = tmp_path / "model"
    assert main(["train", "--data", str(data), "--sport-file", str(sport_file), "--model", "markov2",
                 "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["sport"] == "club-ten" and summary["model"] == "markov"
    assert main(["evaluate", "--data", str(data), "--sport-file", str(sport_file), "--model", str(out), "--json",
                 "--no-plot"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n"] > 100 and result["top1"] > 0.3
    # without the file (another process: the sport never registered) the data are refused in one line
    monkeypatch.delitem(registry._USER, "club-ten")
    assert main(["evaluate", "--data", str(data), "--model", str(out), "--no-plot"]) == 2
    assert "club-ten" in capsys.readouterr().err
    assert main(["train", "--data", str(data), "--sport-file", str(tmp_path / "absent.toml"), "--model", "markov",
                 "--out", str(out)]) == 2
    assert "absent.toml" in capsys.readouterr().err
