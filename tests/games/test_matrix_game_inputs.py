"""What a payoff matrix may be read from, and the tolerances a solver accepts: each refusal names what it got
and what was expected; the separator of a CSV is the one that splits it evenly."""

from __future__ import annotations

import os
import socket

import numpy as np
import pandas as pd
import pytest

from strategist.errors import DataFormatError, InvalidGameError
from strategist.games.matrix_game import MatrixGame, _delimiter, check_tolerance


@pytest.mark.parametrize("tol, zero, ok", [(0.0, True, True), (0.0, False, False), (1e-12, False, True),
                                           (0.999, False, True), (1.0, True, False), (1.0, False, False),
                                           (-1e-12, True, False), (float("nan"), False, False)])
def test_a_tolerance_lies_in_zero_one_and_zero_only_where_allowed(tol, zero, ok):
    if ok:
        assert check_tolerance(tol, zero=zero) == tol
        return
    interval = r"\[0, 1\)" if zero else r"\(0, 1\)"
    with pytest.raises(InvalidGameError, match=rf"^tol: got {tol!r}; expected a number in {interval}, a fraction"):
        check_tolerance(tol, zero=zero)


def test_a_tolerance_is_a_real_number_and_its_name_is_the_callers():
    with pytest.raises(InvalidGameError, match=r"^margin_tol: got True; expected a number in \(0, 1\)"):
        check_tolerance(True, "margin_tol")
    with pytest.raises(InvalidGameError, match=r"^tol: got '0.1'"):
        check_tolerance("0.1")
    assert check_tolerance(np.float32(0.25)) == 0.25


@pytest.mark.parametrize("text, expected", [("a,b,c\n1,2,3\n", ","), ("a;b;c\n1;2;3\n", ";"), ("a\tb\n1\t2\n", "\t"),
                                            ("x;y;z\n1;2\n", ";"), ("single\n", ","), ("", ","),
                                            ("a;b\n1;2;3\n", ";"), ("p,q\n1,2\n1,2,3\n", ",")])
def test_the_separator_splits_every_line_alike_or_the_first_line_most(text, expected):
    assert _delimiter(text) == expected


def test_the_separator_of_a_mixed_file_is_the_one_of_even_widths():
    # commas split the lines unevenly (3, 2), semicolons evenly (2, 2): semicolons
    assert _delimiter("a,b;c\n1;2\n") == ";"
    # no separator splits evenly; the first line splits most by tab
    assert _delimiter("a\tb\tc\n1\t2\nx\n") == "\t"


def test_what_is_not_a_regular_file_is_refused_by_its_kind(tmp_path):
    with pytest.raises(DataFormatError, match="is a directory; expected a regular CSV file"):
        MatrixGame.from_csv(tmp_path)
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    with pytest.raises(DataFormatError, match=r"is a FIFO \(named pipe\); expected a regular CSV file"):
        MatrixGame.from_csv(fifo)
    with pytest.raises(DataFormatError, match="is a character device; expected"):
        MatrixGame.from_csv("/dev/null")
    sock_path = tmp_path / "s.csv"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        with pytest.raises(DataFormatError, match="is a socket; expected"):
            MatrixGame.from_csv(sock_path)


def test_a_byte_order_mark_is_not_part_of_the_first_label(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeff,L,R\nU,1,0\nD,0,1\n".encode("utf-8"))
    game = MatrixGame.from_csv(path)
    assert game.column_labels == ("L", "R") and game.row_labels == ("U", "D")


def test_a_frame_needs_unique_labels_on_both_axes():
    with pytest.raises(InvalidGameError, match="^row labels: duplicate label 'a'; expected unique action labels"):
        MatrixGame.from_frame(pd.DataFrame([[1.0, 0.0], [0.0, 1.0]], index=["a", "a"], columns=["x", "y"]))
    with pytest.raises(InvalidGameError, match="^column labels: duplicate label 'x'"):
        MatrixGame.from_frame(pd.DataFrame([[1.0, 0.0], [0.0, 1.0]], index=["a", "b"], columns=["x", "x"]))
    game = MatrixGame.from_frame(pd.DataFrame([[1, 0], [0, 1]], index=["a", "b"], columns=["x", "y"]))
    assert game.payoffs.dtype == np.float64 and game.row_labels == ("a", "b") and game.column_labels == ("x", "y")


def test_a_game_prints_its_shape_and_labels():
    game = MatrixGame([[1.0, 0.0, 2.0], [0.0, 1.0, 3.0]], ["u", "d"], ["l", "m", "r"])
    assert repr(game) == "MatrixGame(2x3, rows=['u', 'd'], columns=['l', 'm', 'r'])"
