"""Every bad value a user types is refused in one message that names the flag they typed: at parse time
(argparse, 'argument --rallies: ...') or where the value is used ('--policy: ...'); nothing crashes."""

from __future__ import annotations

import argparse

import pytest

from strategist.cli import flags
from strategist.cli.main import main
from strategist.errors import ConfigurationError, EstimationError, StrategistError

PARSE_TIME = [  # refused while the command line is read: exit 2, the flag named on the last line
    (["simulate", "--rallies", "10000000000"], "--rallies"),        # crashed allocating 74.5 GiB
    (["simulate", "--rallies", "0"], "--rallies"),
    (["simulate", "--level", "2"], "--level"),
    (["payoff", "--level", "1"], "--level"),
    (["payoff", "--min-share", "2"], "--min-share"),               # accepted silently before
    (["payoff", "--min-count", "-1"], "--min-count"),
    (["payoff", "--min-action-count", "-3"], "--min-action-count"),
    (["rally", "--min-action-count", "-1"], "--min-action-count"),
    (["practice", "--decay", "2"], "--decay"),
    (["practice", "--rallies", "0"], "--rallies"),
    (["train", "--out", "OUT", "--model", "neural", "--lr", "-1"], "--lr"),          # a ValueError traceback
    (["train", "--out", "OUT", "--model", "neural", "--lr", "nan"], "--lr"),
    (["train", "--out", "OUT", "--model", "neural", "--batch-size", "0"], "--batch-size"),  # ZeroDivisionError
    (["train", "--out", "OUT", "--model", "neural", "--max-steps", "-1"], "--max-steps"),
    (["train", "--out", "OUT", "--model", "markov", "--order", "0"], "--order"),
    (["train", "--out", "OUT", "--model", "neural", "--threads", "0"], "--threads"),
    (["train", "--out", "OUT", "--model", "neural", "--time-budget", "-1"], "--time-budget"),
    *[([command, "--seed", "-1"], "--seed") for command in ("simulate", "practice", "rally", "report", "scout")],
    (["train", "--out", "OUT", "--model", "frequency", "--seed", "-1"], "--seed"),  # numpy: a ValueError traceback
]

IN_USE = [  # refused where the value is used: exit 2, one line beginning with the flag
    (["simulate", "--policy", "bogus"], "--policy"),
    (["simulate", "--opponent-policy", "safe:x"], "--opponent-policy"),
    (["simulate", "--start", "middle"], "--start"),
    (["practice", "--auto", "bogus"], "--auto"),
    (["practice", "--cover", "bogus"], "--cover"),
    (["practice", "--auto", "equilibrium", "--opponent-policy", "nope"], "--opponent-policy"),
    (["report", "--match", "nope"], "--match"),
    (["report", "--player", "Nobody"], "--player"),
    (["rally", "--actions", "bogus"], "--actions"),
    (["rally", "--states", "bogus"], "--states"),
    (["rally", "--prior", "bogus"], "--prior"),
    (["rally", "--prior", "-3"], "--prior"),
    (["payoff", "--state", "nowhere"], "--state"),
]


@pytest.mark.parametrize("argv, flag", PARSE_TIME, ids=[" ".join(a) for a, _ in PARSE_TIME])
def test_a_bad_value_is_refused_while_the_command_line_is_read(argv, flag, capsys, tmp_path):
    argv = [str(tmp_path / "model") if a == "OUT" else a for a in argv]
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"strategist {argv[0]}: error: argument {flag}: expected "), err[-1]
    assert not (tmp_path / "model").exists()                       # nothing written


@pytest.mark.parametrize("argv, flag", IN_USE, ids=[" ".join(a) for a, _ in IN_USE])
def test_a_bad_value_is_refused_in_one_line_that_names_its_flag(argv, flag, capsys, tmp_path):
    if argv[0] == "report":
        argv = argv + ["--out", str(tmp_path / "r.html")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"strategist: error: {flag}"), err
    assert not (tmp_path / "r.html").exists()


def test_whole_numbers_fractions_positives_and_levels():
    count = flags.whole_number(1, 10)
    assert count("1") == 1 and count("10") == 10
    for bad in ("0", "11", "2.5", "x", ""):
        with pytest.raises(argparse.ArgumentTypeError, match="whole number"):
            count(bad)
    assert flags.fraction("0") == 0.0 and flags.fraction("1") == 1.0
    for bad in ("-0.1", "1.5", "nan", "x"):
        with pytest.raises(argparse.ArgumentTypeError, match="from 0 to 1"):
            flags.fraction(bad)
    assert flags.positive("0.5") == 0.5
    for bad in ("0", "-1", "inf", "nan", "x"):
        with pytest.raises(argparse.ArgumentTypeError, match="above 0"):
            flags.positive(bad)
    assert flags.seed("0") == 0 and flags.seed(str(2**32 - 1)) == 2**32 - 1
    with pytest.raises(argparse.ArgumentTypeError):
        flags.seed(str(2**32))
    assert flags.level("0.9") == 0.9
    for bad in ("0", "1", "nan", "x"):
        with pytest.raises(argparse.ArgumentTypeError, match="strictly between 0 and 1"):
            flags.level(bad)


def test_an_error_said_of_a_flag_keeps_its_class_and_is_named_once():
    with pytest.raises(EstimationError, match=r"^--policy: policy 'x' is bad$"):
        with flags.said_of("--policy"):
            raise EstimationError("policy 'x' is bad")
    with pytest.raises(EstimationError, match=r"^--policy 'x': bad$"):           # already named: left as it is
        with flags.said_of("--policy"):
            raise EstimationError("--policy 'x': bad")

    class NeedsMore(StrategistError):
        def __init__(self, message, where):
            super().__init__(f"{message} at {where}")

    with pytest.raises(ConfigurationError, match=r"^--data: broken at line 3$"):
        with flags.said_of("--data"):
            raise NeedsMore("broken", "line 3")
    with pytest.raises(ValueError, match="not ours"):                     # only the package's errors are said
        with flags.said_of("--data"):
            raise ValueError("not ours")
