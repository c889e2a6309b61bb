"""The commands' wrapped text: a number is never cut from its unit at a line end ("26" / "% (played ...)")."""

from __future__ import annotations

import re

import pytest

from strategist.cli.data_source import wrap_lines
from strategist.cli.main import main

CUT = re.compile(r"^\s*(%|pp\b)")


def test_a_number_stays_with_its_unit_wherever_the_width_falls():
    text = "Recommended: lob 57 % (played 179 times), net shot 26 % (played 81 times), given up +5.2 pp [-1.0 pp, 9.9 pp]"
    for width in range(20, len(text) + 1):
        lines = wrap_lines(text, width)
        assert not any(CUT.match(line) for line in lines), (width, lines)
        assert " ".join(line.strip() for line in lines) == text
        assert all(len(line) <= width for line in lines if " " in line.strip()), (width, lines)


def test_continuations_are_indented_and_hyphenated_words_kept_whole():
    lines = wrap_lines("a cross-court net shot " * 8, 30, indent="    ")
    assert all(line.startswith("    ") for line in lines[1:])
    assert all("cross-" not in line or "cross-court" in line for line in lines)


@pytest.mark.parametrize("command", [["payoff", "--player", "Kento MOMOTA", "--opponent", "CHOU Tien Chen",
                                      "--data", "shuttleset"],
                                     ["scout", "--player", "Kento MOMOTA", "--opponent", "CHOU Tien Chen",
                                      "--data", "shuttleset"]])
def test_command_output_never_starts_a_line_with_a_unit(command, capsys, shuttleset_strokes):
    argv = [str(shuttleset_strokes.parent) if a == "shuttleset" else a for a in command]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert not [line for line in out.splitlines() if CUT.match(line)]
    assert max(map(len, out.splitlines())) <= 100
