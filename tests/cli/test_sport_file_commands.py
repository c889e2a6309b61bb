"""A user's own shot vocabulary (``--sport-file``) works through every command that reads rally data: each
takes the same ``--data`` / ``--sport`` / ``--sport-file`` options, and the rally game, the payoff view, the
scouting and the report run on a table tagged with a 10-class vocabulary and speak its labels."""

from __future__ import annotations

import json

import pytest

import track2
from track2 import TEN

from strategist.cli.main import COMMANDS, build_parser, main
from strategist.data.court import COURTS, court_model
from strategist.errors import DataFormatError

#: Commands that read rally data (``solve`` reads a matrix; ``data summary`` takes a positional PATH).
DATA_COMMANDS = ("payoff", "rally", "simulate", "practice", "train", "evaluate", "report", "scout")


@pytest.fixture(scope="module")
def ten_class(tmp_path_factory, shuttleset_strokes):
    """(sport file, CSV): four ShuttleSet matches relabelled to the 10 classes of CoachAI's Track 2."""
    return track2.write(tmp_path_factory.mktemp("club"), shuttleset_strokes, 4, "club-ten")


def test_the_data_commands_are_all_listed():
    assert set(DATA_COMMANDS) <= set(COMMANDS)


@pytest.mark.parametrize("command", DATA_COMMANDS)
def test_every_data_command_takes_data_sport_and_sport_file(command):
    extra = {"train": ["--model", "markov", "--out", "x"], "evaluate": ["--model", "x"],
             "report": ["--out", "x.html"], "scout": ["--player", "X", "--opponent", "Y"]}.get(command, [])
    args = build_parser(command).parse_args([command, "--data", "d.csv", "--sport", "badminton",
                                             "--sport-file", "s.toml", *extra])
    assert (args.data, args.sport, args.sport_file) == ("d.csv", "badminton", "s.toml")


def test_a_sport_of_a_users_file_has_the_court_of_the_sport_it_extends(ten_class):
    from strategist.sports import get_sport

    sport = get_sport(ten_class[0])
    assert sport.name not in COURTS
    assert court_model(sport) is COURTS["badminton"]
    assert court_model(sport.name) is COURTS["badminton"]       # registered under its name once read
    with pytest.raises(DataFormatError, match="no court model for sport 'curling'"):
        court_model("curling")


def test_rally_and_payoff_speak_the_users_labels(ten_class, capsys):
    sport_file, csv = ten_class
    assert main(["rally", "--data", str(csv), "--sport-file", str(sport_file), "--player", "An Se Young",
                 "--json"]) == 0
    game = json.loads(capsys.readouterr().out)
    recommended = {shot for state in game["states"] if state["who"] == "player"
                   for shot, share in state["equilibrium"]["player"].items() if share > 0}
    assert {"push/rush", "defensive shot"} & recommended
    assert recommended <= set(TEN)                   # only the file's labels, none of ShuttleSet's 18
    assert main(["payoff", "--data", str(csv), "--sport-file", str(sport_file), "--player", "An Se Young"]) == 0
    out = capsys.readouterr().out
    assert "Recommended" in out and "push/rush" in out


def test_scout_and_report_run_on_the_users_vocabulary(ten_class, tmp_path, capsys):
    sport_file, csv = ten_class
    assert main(["scout", "--data", str(csv), "--sport-file", str(sport_file), "--player", "An Se Young",
                 "--opponent", "Akane YAMAGUCHI", "--json"]) == 0
    scouting = json.loads(capsys.readouterr().out)
    assert "no court model" not in json.dumps(scouting)
    out = tmp_path / "r.html"
    assert main(["report", "--data", str(csv), "--sport-file", str(sport_file), "--out", str(out)]) == 0
    report = json.loads(out.with_suffix(".json").read_text())
    assert "no court model" not in json.dumps(report)
