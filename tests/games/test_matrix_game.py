"""MatrixGame construction from arrays, lists, DataFrames and CSV files, and every malformed input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from strategist import MatrixGame, StrategistError
from strategist.errors import DataFormatError, InvalidGameError, InvalidStrategyError
from strategist.games.matrix_game import as_game, as_strategy

from .conftest import EVERT_NAVRATILOVA

EN_CSV = ("Evert \\ Navratilova,cover line,cover cross-court\n"
          "down the line,50,80\n"
          "cross-court,90,20\n")


# ---------------------------------------------------------------------------------------------- construction
@pytest.mark.parametrize("source", [
    EVERT_NAVRATILOVA,
    np.array(EVERT_NAVRATILOVA),
    np.array([[50, 80], [90, 20]], dtype=np.int64),
    np.array(EVERT_NAVRATILOVA, dtype=np.float32),
    [np.array([50.0, 80.0]), np.array([90.0, 20.0])],
    [(50, 80), (90, 20)],
    [[np.int32(50), np.float64(80)], [90, 20.0]],
], ids=["list", "float-array", "int-array", "float32-array", "list-of-arrays", "tuples", "numpy-scalars"])
def test_numeric_sources_give_the_same_float64_matrix(source):
    game = MatrixGame(source)
    assert game.payoffs.dtype == np.float64
    np.testing.assert_array_equal(game.payoffs, [[50, 80], [90, 20]])
    assert game.shape == (2, 2)
    assert game.row_labels == ("r1", "r2")
    assert game.column_labels == ("c1", "c2")


def test_explicit_labels_are_kept_as_strings():
    game = MatrixGame([[1, 2, 3]], row_labels=["smash"], column_labels=[1, 2, "lift"])
    assert game.row_labels == ("smash",)
    assert game.column_labels == ("1", "2", "lift")


def test_payoffs_are_a_read_only_copy():
    source = np.array([[1.0, 2.0], [3.0, 4.0]])
    game = MatrixGame(source)
    source[0, 0] = 99.0
    assert game.payoffs[0, 0] == 1.0
    with pytest.raises(ValueError):
        game.payoffs[0, 0] = 5.0


def test_from_frame_takes_labels_from_index_and_columns():
    frame = pd.DataFrame(EVERT_NAVRATILOVA, index=["down the line", "cross-court"],
                         columns=["cover line", "cover cross-court"])
    game = MatrixGame.from_frame(frame)
    assert game.row_labels == ("down the line", "cross-court")
    assert game.column_labels == ("cover line", "cover cross-court")
    np.testing.assert_array_equal(game.payoffs, EVERT_NAVRATILOVA)
    # round trip through to_frame
    pd.testing.assert_frame_equal(game.to_frame(), frame.astype(float))
    # as_game (used by every solver) dispatches on DataFrames too
    assert as_game(frame).row_labels == game.row_labels


def test_from_frame_mixed_integer_and_float_columns():
    frame = pd.DataFrame({"a": [1, 2], "b": [0.5, 1.5]}, index=["x", "y"])
    np.testing.assert_array_equal(MatrixGame.from_frame(frame).payoffs, [[1, 0.5], [2, 1.5]])


def test_from_csv_reads_labels_from_first_row_and_column(write_csv):
    game = MatrixGame.from_csv(write_csv(EN_CSV))
    assert game.row_labels == ("down the line", "cross-court")
    assert game.column_labels == ("cover line", "cover cross-court")
    np.testing.assert_array_equal(game.payoffs, EVERT_NAVRATILOVA)


def test_from_csv_tolerates_bom_spaces_blank_lines_and_crlf(write_csv):
    text = "\ufefflabel , a , b \r\n\r\n x , 0.25 , 1e-1 \r\n y,1,  -2\r\n\r\n"
    game = MatrixGame.from_csv(write_csv(text))
    assert game.row_labels == ("x", "y")
    assert game.column_labels == ("a", "b")
    np.testing.assert_array_equal(game.payoffs, [[0.25, 0.1], [1.0, -2.0]])


def test_as_game_accepts_paths_and_passes_games_through(write_csv, evert_navratilova):
    path = write_csv(EN_CSV)
    assert as_game(path).row_labels == ("down the line", "cross-court")
    assert as_game(str(path)).column_labels == ("cover line", "cover cross-court")
    assert as_game(evert_navratilova) is evert_navratilova


def test_mix_maps_labels_to_probabilities(evert_navratilova):
    assert evert_navratilova.mix(np.array([0.7, 0.3])) == {"down the line": 0.7, "cross-court": 0.3}
    assert evert_navratilova.mix(np.array([0.6, 0.4]), "column") == {"cover line": 0.6, "cover cross-court": 0.4}


def test_scale_maps_payoffs_to_unit_interval():
    low, width = MatrixGame([[50, 80], [90, 20]]).scale()
    assert (low, width) == (20.0, 70.0)
    assert MatrixGame([[3, 3], [3, 3]]).scale() == (3.0, 1.0)


# ---------------------------------------------------------------------------------------------- bad matrices
@pytest.mark.parametrize("payoffs, fragments", [
    ([[1.0, float("nan")], [0.0, 1.0]], ["cell (0, 1)", "nan", "finite"]),
    (np.array([[1.0, 0.0], [0.0, np.nan]]), ["cell (1, 1)", "nan", "finite"]),
    (np.array([[1.0, 0.0], [-np.inf, 1.0]]), ["cell (1, 0)", "inf", "finite"]),
    ([[1.0, float("inf")]], ["cell (0, 1)", "inf"]),
    ([[1, 2], [3]], ["row 1", "1 entries", "row 0 has 2", "rectangular"]),
    ([[1, 2], [3, 4, 5]], ["row 1", "3 entries", "rectangular"]),
    ([], ["empty"]),
    ([[]], ["empty"]),
    (np.zeros((0, 3)), ["empty", "(0, 3)"]),
    (np.zeros((3, 0)), ["empty", "(3, 0)"]),
    ([1, 2, 3], ["row 0", "2-D"]),
    (np.array([1.0, 2.0]), ["2-D", "1 dimension"]),
    (np.zeros((2, 2, 2)), ["2-D", "3 dimension"]),
    ([[[1, 2], [3, 4]]], ["cell (0, 0)", "[1, 2]"]),
    ([[1, "a"], [2, 3]], ["cell (0, 1)", "'a'", "finite number"]),
    ([[1, 2], ["3", 4]], ["cell (1, 0)", "'3'"]),
    ([[1, None]], ["cell (0, 1)", "None"]),
    ([[True, 0], [0, 1]], ["cell (0, 0)", "True"]),
    (np.array([["1", "2"]]), ["cell (0, 0)", "'1'"]),
    ("1,2;3,4", ["2-D matrix", "str"]),
    (42, ["2-D matrix", "int"]),
], ids=["nan-list", "nan-array", "neg-inf-array", "inf-list", "ragged-short", "ragged-long", "empty-list",
        "empty-row", "zero-rows", "zero-columns", "1d-list", "1d-array", "3d-array", "3d-list", "text-cell",
        "numeric-text", "none-cell", "bool-cell", "string-array", "string", "scalar"])
def test_bad_matrix_raises_a_clear_error(payoffs, fragments):
    with pytest.raises(InvalidGameError) as info:
        MatrixGame(payoffs)
    message = str(info.value)
    assert message.startswith("payoffs")
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_every_game_error_is_a_strategist_error():
    assert issubclass(InvalidGameError, StrategistError)
    with pytest.raises(StrategistError):
        MatrixGame([[1, float("nan")]])


@pytest.mark.parametrize("rows, columns, fragments", [
    (["a", "a"], ["x", "y"], ["row labels", "duplicate", "'a'"]),
    (["a", "b"], ["x", "x"], ["column labels", "duplicate", "'x'"]),
    (["a"], ["x", "y"], ["row labels", "1 labels for 2 actions"]),
    (["a", "b"], ["x", "y", "z"], ["column labels", "3 labels for 2 actions"]),
    ([1, "1"], ["x", "y"], ["row labels", "duplicate", "'1'"]),
])
def test_bad_labels(rows, columns, fragments):
    with pytest.raises(InvalidGameError) as info:
        MatrixGame([[1, 2], [3, 4]], rows, columns)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_from_frame_text_cell_names_row_and_column():
    frame = pd.DataFrame({"lift": [1.0, 2.0], "net": [3.0, "n/a"]}, index=["smash", "drop"])
    with pytest.raises(InvalidGameError) as info:
        MatrixGame.from_frame(frame)
    message = str(info.value)
    assert "'drop'" in message and "'net'" in message and "'n/a'" in message


def test_from_frame_nan_cell_is_rejected():
    frame = pd.DataFrame({"lift": [1.0, np.nan], "net": [3.0, 4.0]}, index=["smash", "drop"])
    with pytest.raises(InvalidGameError, match="nan"):
        MatrixGame.from_frame(frame)


def test_from_frame_empty_frame_is_rejected():
    with pytest.raises(InvalidGameError, match="empty"):
        MatrixGame.from_frame(pd.DataFrame())


def test_from_frame_duplicate_index_labels():
    frame = pd.DataFrame([[1, 2], [3, 4]], index=["a", "a"], columns=["x", "y"])
    with pytest.raises(InvalidGameError, match="duplicate label 'a'"):
        MatrixGame.from_frame(frame)


def test_from_frame_duplicate_column_labels():
    frame = pd.DataFrame([[1, 2], [3, 4]], index=["a", "b"], columns=["x", "x"])
    with pytest.raises(InvalidGameError, match="duplicate label 'x'"):
        MatrixGame.from_frame(frame)


# ---------------------------------------------------------------------------------------------- bad CSV files
@pytest.mark.parametrize("text, line, fragments", [
    ("x,a,b\nr1,1,2\nr2,3,abc\n", 3, ["column 'b'", "'abc'", "finite number"]),
    ("x,a,b\nr1,1,2\nr2,,4\n", 3, ["column 'a'", "''", "finite number"]),
    ("x,a,b\nr1,nan,2\n", 2, ["column 'a'", "'nan'"]),
    ("x,a,b\nr1,1,inf\n", 2, ["column 'b'", "'inf'"]),
    ("x,a,b\nr1,1,-Infinity\n", 2, ["column 'b'", "'-Infinity'"]),
    ("x,a,b\n\n\nr1,1,2\n\nr2,3,4.5.6\n", 6, ["column 'b'", "'4.5.6'"]),
    ("x,a,b\nr1,1,2\nr2,3\n", 3, ["'r2'", "1 payoffs", "2 columns", "rectangular"]),
    ("x,a,b\nr1,1,2,3\n", 2, ["'r1'", "3 payoffs", "2 columns"]),
    ("x,a,a\nr1,1,2\n", 1, ["duplicate column label 'a'"]),
    ("x,a,b\nr1,1,2\nr1,3,4\n", 3, ["duplicate row label 'r1'"]),
    ("x,a,\nr1,1,2\n", 1, ["column 3", "empty label"]),
    ("x,a,b\n,1,2\n", 2, ["empty row label"]),
    ("x\nr1\n", 1, ["no column labels"]),
    ("x,a,b\n", 1, ["no payoff rows"]),
], ids=["text", "blank-cell", "nan", "inf", "neg-infinity", "after-blank-lines", "short-row", "long-row",
        "dup-column", "dup-row", "empty-column-label", "empty-row-label", "no-columns", "header-only"])
def test_bad_csv_names_file_line_and_column(write_csv, text, line, fragments):
    path = write_csv(text)
    with pytest.raises(DataFormatError) as info:
        MatrixGame.from_csv(path)
    message = str(info.value)
    assert str(path) in message
    assert f"row {line}:" in message, message
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert "\n" not in message


@pytest.mark.parametrize("content, fragments", [
    ("", ["file is empty"]),
    ("\n\n  \n", ["file is empty"]),
    (b"\xff\xfe\x00\x01\x89PNG\x00\x00", ["UTF-8"]),
    (b"x,a\nr1,\xe9\n", ["UTF-8"]),
], ids=["empty", "blank-lines", "binary", "latin-1"])
def test_unreadable_or_empty_csv(write_csv, content, fragments):
    path = write_csv(content)
    with pytest.raises(DataFormatError) as info:
        MatrixGame.from_csv(path)
    assert str(path) in str(info.value)
    for fragment in fragments:
        assert fragment in str(info.value)


def test_missing_csv_and_directory(tmp_path):
    missing = tmp_path / "nowhere.csv"
    with pytest.raises(DataFormatError) as info:
        MatrixGame.from_csv(missing)
    assert str(missing) in str(info.value) and "not found" in str(info.value)
    with pytest.raises(DataFormatError) as info:
        MatrixGame.from_csv(tmp_path)
    assert str(tmp_path) in str(info.value)


def test_csv_errors_carry_path_and_row_attributes(write_csv):
    path = write_csv("x,a\nr1,1\nr2,oops\n")
    with pytest.raises(DataFormatError) as info:
        MatrixGame.from_csv(path)
    assert info.value.row == 3
    assert str(info.value.path) == str(path)


# ---------------------------------------------------------------------------------------------- strategies
def test_strategy_from_vector_and_mapping(evert_navratilova):
    np.testing.assert_allclose(as_strategy(evert_navratilova, [0.7, 0.3], "row"), [0.7, 0.3])
    np.testing.assert_allclose(as_strategy(evert_navratilova, {"cross-court": 1.0}, "row"), [0.0, 1.0])
    np.testing.assert_allclose(as_strategy(evert_navratilova, {"cover line": 0.25, "cover cross-court": 0.75},
                                           "column"), [0.25, 0.75])
    # a tiny rounding error in the sum is renormalised away
    vec = as_strategy(evert_navratilova, [0.7 + 1e-9, 0.3], "row")
    assert abs(vec.sum() - 1.0) < 1e-15


@pytest.mark.parametrize("strategy, player, fragments", [
    ([0.5, 0.4], "row", ["sum to 0.9", "expected 1"]),
    ([0.7, 0.7], "row", ["sum to 1.4"]),
    ([1.2, -0.2], "row", ["negative", "-0.2"]),
    ([1.0], "row", ["expected 2 probabilities", "row player", "shape (1,)"]),
    ([0.2, 0.3, 0.5], "column", ["expected 2 probabilities", "column player"]),
    ([[0.5, 0.5]], "row", ["shape (1, 2)"]),
    ([float("nan"), 1.0], "row", ["non-finite"]),
    (["a", "b"], "row", ["not a vector of probabilities"]),
    ({"lob": 1.0}, "row", ["unknown row action", "'lob'", "down the line"]),
    ({"cover line": 0.5, "net rush": 0.5}, "column", ["unknown column action", "'net rush'"]),
    ({"cover line": 0.5}, "column", ["sum to 0.5"]),
])
def test_bad_strategy(evert_navratilova, strategy, player, fragments):
    with pytest.raises(InvalidStrategyError) as info:
        as_strategy(evert_navratilova, strategy, player)
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


def test_bad_strategies_reach_the_public_functions(evert_navratilova):
    import strategist

    with pytest.raises(InvalidStrategyError, match="sum to"):
        strategist.best_response(evert_navratilova, [0.5, 0.4])
    with pytest.raises(InvalidStrategyError, match="unknown column action"):
        strategist.safe_exploit(evert_navratilova, {"smash": 1.0}, 0.0)
    with pytest.raises(InvalidStrategyError, match="negative"):
        strategist.exploitability(evert_navratilova, [1.5, -0.5])
    with pytest.raises(InvalidGameError, match="player must be"):
        as_strategy(evert_navratilova, [1, 0], "umpire")


def test_booleans_are_refused_alike_in_lists_and_numpy_arrays():
    from strategist import solve_zero_sum_batch

    for payoffs in ([[True, False], [False, True]], np.array([[True, False], [False, True]]),
                    [[np.True_, 0.0], [0.0, 1.0]]):
        with pytest.raises(InvalidGameError, match="True|boolean"):
            MatrixGame(payoffs)
    with pytest.raises(InvalidGameError, match="boolean"):
        solve_zero_sum_batch(np.ones((2, 2, 2), dtype=bool))
    # 0/1 numbers are payoffs
    assert MatrixGame(np.array([[True, False]]).astype(float)).shape == (1, 2)


def test_unit_scale_does_not_overflow():
    game = MatrixGame([[1e308, -1e308], [-1.7e308, 1.5e308]])
    low, span = game.scale()
    assert np.isfinite(span) and low == -1.7e308
    unit = game.unit()
    assert unit.unit.min() == 0.0 and unit.unit.max() == 1.0 and np.isfinite(unit.unit).all()
    assert unit.to_units(0.0) == pytest.approx(-1.7e308) and unit.to_units(1.0) == pytest.approx(1.5e308)


@pytest.mark.parametrize("text, expected", [
    ("50,80\n90,20\n", [[50, 80], [90, 20]]),
    ("1,2,3\n4,5,6\n7,8,9\n", [[1, 2, 3], [4, 5, 6], [7, 8, 9]]),
    ("1;2\n3;4\n", [[1, 2], [3, 4]]),
    ("0.5\t1\n2\t3\n", [[0.5, 1], [2, 3]]),
], ids=["2x2", "3x3", "semicolons", "tabs"])
def test_csv_of_numbers_only_is_an_unlabelled_matrix(write_csv, text, expected):
    from strategist.games.matrix_game import CsvNote

    with pytest.warns(CsvNote, match="unlabelled"):
        game = MatrixGame.from_csv(write_csv(text))
    np.testing.assert_array_equal(game.payoffs, expected)
    assert game.row_labels == tuple(f"r{i + 1}" for i in range(len(expected)))
    assert game.column_labels == tuple(f"c{j + 1}" for j in range(len(expected[0])))


def test_semicolon_separated_csv_with_labels(write_csv):
    game = MatrixGame.from_csv(write_csv("x;a;b\nr1;1;2\nr2;3;4.5\n"))
    assert game.column_labels == ("a", "b") and game.row_labels == ("r1", "r2")
    np.testing.assert_array_equal(game.payoffs, [[1, 2], [3, 4.5]])
    with pytest.raises(DataFormatError, match=r"row 3: column 'b' holds '4,5'.*decimal commas"):
        MatrixGame.from_csv(write_csv("x;a;b\nr1;1;2\nr2;3;4,5\n"))


def test_unlabelled_csv_errors_name_the_bad_line_and_column(write_csv):
    with pytest.raises(DataFormatError, match=r"row 3: column 2 holds 'x'"):
        MatrixGame.from_csv(write_csv("1,2\n3,4\n5,x\n"))
    with pytest.raises(DataFormatError, match=r"row 2: row has 1 payoffs but the first row has 2"):
        MatrixGame.from_csv(write_csv("1,2\n3\n"))


def test_only_regular_files_are_read(tmp_path, fifo):
    for path, kind in ((fifo, "FIFO"), (tmp_path, "directory"), ("/dev/null", "character device")):
        with pytest.raises(DataFormatError, match=kind) as info:
            MatrixGame.from_csv(path)  # never opened: a FIFO would block
        assert "\n" not in str(info.value)
