"""The command line entry: lazy sub-commands, --version, one-line errors."""

from __future__ import annotations

import subprocess
import sys

import pytest

import strategist
from strategist.cli.main import COMMANDS, main


def _modules_after(*argv: str) -> set[str]:
    """Modules loaded by a fresh interpreter that runs ``strategist ARGV``."""
    code = ("import sys, contextlib, io\nfrom strategist.cli.main import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            "    try:\n        main(sys.argv[1:])\n    except SystemExit:\n        pass\n"
            "print('\\n'.join(sorted(sys.modules)))")
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True).stdout
    return set(out.split())


@pytest.mark.parametrize("argv", [("--help",), ("--version",), ()])
def test_help_and_version_import_no_heavy_module(argv):
    loaded = _modules_after(*argv)
    assert not {"pandas", "scipy", "torch", "numpy", "strategist.games", "strategist.estimation"} & loaded


@pytest.mark.parametrize("argv", [(name, "--help") for name in COMMANDS] + [("data", "summary", "--help")])
def test_every_help_imports_no_heavy_module(argv):
    """A sub-command's --help is read before anything is computed: it loads none of numpy, pandas, scipy,
    torch or the estimation code (which take 0.3-0.6 s to import)."""
    loaded = _modules_after(*argv)
    assert f"strategist.cli.{argv[0]}" in {m.removesuffix("_cmd") for m in loaded}
    assert not {"pandas", "scipy", "torch", "numpy", "strategist.games", "strategist.estimation"} & loaded


def test_the_data_command_lists_the_loaders_layouts():
    from strategist.cli.data_cmd import LAYOUT_NAMES
    from strategist.data.detect import LAYOUTS

    assert sorted(LAYOUT_NAMES) == sorted(LAYOUTS)


def test_a_command_imports_only_its_own_module():
    loaded = _modules_after("data", "--help")
    assert "strategist.cli.data_cmd" in loaded
    assert not {"strategist.cli.solve_cmd", "strategist.cli.payoff_cmd", "torch"} & loaded


def test_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0 and capsys.readouterr().out.strip() == f"strategist {strategist.__version__}"


def test_every_command_is_listed_in_help_and_has_its_own_help(capsys):
    main([])
    top = capsys.readouterr().out
    for name in COMMANDS:
        assert name in top
        with pytest.raises(SystemExit) as info:
            main([name, "--help"])
        out = capsys.readouterr().out
        assert info.value.code == 0 and f"usage: strategist {name}" in out
        assert "%%" not in out, name                    # a description is printed as written, not %-formatted


def test_the_train_commands_lists_match_the_modules():
    """The train command keeps its choices in its own module (so that --help does not import torch); they are
    the opponent package's."""
    from strategist.cli import train_cmd
    from strategist.opponent.choose import CANDIDATES
    from strategist.opponent.train import DEFAULT_OPTIMIZER, OPTIMIZERS

    assert train_cmd.CANDIDATES == CANDIDATES and train_cmd.OPTIMIZERS == OPTIMIZERS
    assert train_cmd.DEFAULT_OPTIMIZER == DEFAULT_OPTIMIZER


def test_the_data_line_stays_within_the_width_and_keeps_the_path(tmp_path, monkeypatch):
    """Every command starts its text with the data it read: a path under the working folder is shown relative
    to it; a long one breaks across lines instead of running past 100 columns (and loses no character)."""
    from strategist.cli.data_source import WIDTH, data_line

    deep = tmp_path.joinpath(*["a-rather-long-folder-name"] * 6) / "strokes.csv.gz"
    line = data_line(deep, False)
    assert max(map(len, line.splitlines())) <= WIDTH
    assert "".join(part.strip() for part in line.removeprefix("Data: ").splitlines()) == str(deep)
    deep.parent.mkdir(parents=True)
    monkeypatch.chdir(deep.parents[1])
    assert data_line(deep, True) == "Data: a-rather-long-folder-name/strokes.csv.gz (simulated demo)"
