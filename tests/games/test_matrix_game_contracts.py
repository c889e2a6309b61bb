"""Contracts of the payoff matrix and its helpers that callers rely on: the rescaling to [0, 1] and back against a
float64 reference (positive, small, constant and huge payoffs, float32 inputs, no overflow warnings), the bounds
of a mixed strategy's tolerance, what a CSV's sniffing reads, and the errors that name what was wrong."""

from __future__ import annotations

import os
import pathlib
import stat
import warnings

import numpy as np
import pandas as pd
import pytest

from strategist.errors import DataFormatError, InvalidGameError, InvalidStrategyError
from strategist.games.matrix_game import CsvNote, MatrixGame, UnitScale, as_game, as_strategy


# ------------------------------------------------------------------ rescaling to [0, 1] and back

def test_positive_payoffs_are_rescaled_by_their_own_range():
    payoffs = np.array([[1.0, 2.0], [3.0, 4.0]])
    scale = MatrixGame(payoffs).unit()
    reference = (payoffs - 1.0) / 3.0                     # (p - min) / (max - min), by hand
    np.testing.assert_allclose(scale.unit, reference, rtol=0, atol=1e-15)
    np.testing.assert_allclose(scale.to_units(scale.unit), payoffs, rtol=1e-15)
    assert scale.to_units(0.0) == pytest.approx(1.0, rel=1e-15)
    assert scale.to_units(1.0) == pytest.approx(4.0, rel=1e-15)
    # a difference on the [0, 1] scale is that fraction of max - min in the payoffs' units
    assert scale.width(1.0) == pytest.approx(3.0, rel=1e-15)
    assert scale.width(0.25) == pytest.approx(0.75, rel=1e-15)
    np.testing.assert_allclose(scale.width([0.5, 2.0]), [1.5, 6.0], rtol=1e-15)


def test_the_size_is_the_largest_absolute_payoff_even_below_one():
    payoffs = np.array([[0.3, 0.7], [0.6, 0.4]])          # win probabilities: every entry below 1
    scale = UnitScale.of(payoffs)
    assert scale.size == 0.7
    assert scale.low == pytest.approx(0.3 / 0.7, rel=1e-15)
    assert scale.span == pytest.approx(0.4 / 0.7, rel=1e-15)
    assert not scale.constant
    np.testing.assert_allclose(scale.unit, (payoffs - 0.3) / 0.4, rtol=0, atol=1e-15)


@pytest.mark.parametrize("value, size", [(0.0, 1.0), (3.0, 3.0), (-0.25, 0.25)])
def test_a_constant_matrix_has_span_one_and_the_zero_matrix_size_one(value, size):
    scale = UnitScale.of(np.full((2, 3), value))
    assert scale.constant
    assert scale.size == size
    assert scale.span == 1.0
    np.testing.assert_array_equal(scale.unit, np.zeros((2, 3)))
    assert scale.to_units(0.0) == value                   # the one value of the matrix
    assert scale.width(0.5) == 0.5 * size


def test_float32_points_are_mapped_back_in_float64():
    scale = MatrixGame([[1.0, 3.0], [2.0, 1.5]]).unit()
    t = np.array([1 / 3, 0.1, 0.7], dtype=np.float32)
    t64 = t.astype(np.float64)
    back = scale.to_units(t)
    assert back.dtype == np.float64
    np.testing.assert_allclose(back, 1.0 + 2.0 * t64, rtol=1e-15)
    width = scale.width(t)
    assert width.dtype == np.float64
    np.testing.assert_allclose(width, 2.0 * t64, rtol=1e-15)


def test_float32_points_of_huge_payoffs_stay_finite():
    scale = MatrixGame([[1e300, 0.0], [0.0, 5e299]]).unit()
    t = np.array([0.5, 0.25], dtype=np.float32)
    np.testing.assert_allclose(scale.to_units(t), [5e299, 2.5e299], rtol=1e-15)
    np.testing.assert_allclose(scale.width(t), [5e299, 2.5e299], rtol=1e-15)


def test_widths_beyond_the_range_of_huge_payoffs_overflow_quietly():
    scale = MatrixGame([[1e308, 0.0], [0.0, 1e308]]).unit()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert scale.width(1.0) == pytest.approx(1e308, rel=1e-15)
        assert scale.width(2.0) == np.inf


def test_the_scale_of_payoffs_near_the_largest_float_is_capped_without_warnings():
    game = MatrixGame([[1e308, -1e308], [0.0, 5.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        low, span = game.scale()
        small = MatrixGame([[2.0, 5.0]]).scale()
    assert low == -1e308
    assert span == np.finfo(np.float64).max
    assert small == (2.0, 3.0)


# ------------------------------------------------------------------ mixed strategies

@pytest.fixture(scope="module")
def two_by_two():
    return MatrixGame([[0.6, 0.4], [0.3, 0.7]], ["drop", "clear"], ["front", "back"])


def test_a_strategy_error_is_named_strategy_by_default(two_by_two):
    with pytest.raises(InvalidStrategyError, match=r"^strategy: expected 2 probabilities"):
        as_strategy(two_by_two, [1.0], "row")
    with pytest.raises(InvalidStrategyError, match=r"^strategy: probabilities sum to"):
        as_strategy(two_by_two, [0.2, 0.2], "column")


def test_a_negative_probability_within_the_tolerance_is_accepted_and_cleared(two_by_two):
    tol = 2.0 ** -20                                      # a power of two: -tol and 1 + tol are exact
    vec = as_strategy(two_by_two, [-tol, 1.0 + tol], "row", tol=tol)
    assert vec.tolist() == [0.0, 1.0]
    with pytest.raises(InvalidStrategyError, match="negative probability"):
        as_strategy(two_by_two, [-2.0 * tol, 1.0 + 2.0 * tol], "row", tol=tol)


def test_a_sum_off_by_exactly_the_tolerance_is_accepted(two_by_two):
    tol = 2.0 ** -20
    vec = as_strategy(two_by_two, [0.5, 0.5 + tol], "column", tol=tol)
    np.testing.assert_allclose(vec, [0.5 / (1 + tol), (0.5 + tol) / (1 + tol)], rtol=1e-15)
    assert vec.sum() == pytest.approx(1.0, abs=1e-15)
    vec = as_strategy(two_by_two, [0.5, 0.5 - tol], "column", tol=tol)
    assert vec.sum() == pytest.approx(1.0, abs=1e-15)
    with pytest.raises(InvalidStrategyError, match="sum to"):
        as_strategy(two_by_two, [0.5, 0.5 + 2.0 * tol], "column", tol=tol)


def test_rounding_noise_below_zero_becomes_exactly_zero(two_by_two):
    vec = as_strategy(two_by_two, {"front": -1e-9, "back": 1.0 + 1e-9}, "column")
    assert vec[0] == 0.0
    assert (vec >= 0).all()
    assert vec.sum() == pytest.approx(1.0, abs=1e-15)


# ------------------------------------------------------------------ what a game is built from

def test_a_boolean_array_is_refused_with_the_conversion_hint():
    with pytest.raises(InvalidGameError, match=r"^payoffs: got an array of booleans; expected numbers \(convert "
                                               r"with \.astype\(float\)"):
        MatrixGame(np.array([[True, False], [False, True]]))


def test_label_errors_name_the_axis():
    with pytest.raises(InvalidGameError, match=r"^row labels: got 3 labels for 2 actions"):
        MatrixGame([[1, 2], [3, 4]], row_labels=["a", "b", "c"])
    with pytest.raises(InvalidGameError, match=r"^column labels: duplicate label 'x'"):
        MatrixGame([[1, 2], [3, 4]], column_labels=["x", "x"])


def test_a_series_is_not_taken_for_a_frame():
    with pytest.raises(InvalidGameError, match=r"^payoffs: expected a 2-D matrix \(rows of numbers\), got Series"):
        as_game(pd.Series([0.5, 0.5]))


def test_duplicate_frame_labels_are_reported_before_bad_cells():
    rows = pd.DataFrame([[0.5, "x"], [0.5, 0.5]], index=["a", "a"], columns=["p", "q"])
    with pytest.raises(InvalidGameError, match=r"^row labels: duplicate label 'a'"):
        MatrixGame.from_frame(rows)
    columns = pd.DataFrame([[0.5, "x"], [0.5, 0.5]], index=["a", "b"], columns=["p", "p"])
    with pytest.raises(InvalidGameError, match=r"^column labels: duplicate label 'p'"):
        MatrixGame.from_frame(columns)


@pytest.mark.parametrize("frame", [pd.DataFrame(), pd.DataFrame(index=["a", "b"]),
                                   pd.DataFrame(columns=["p", "q"])])
def test_an_empty_frame_is_refused_like_an_empty_list(frame):
    with pytest.raises(InvalidGameError) as from_list:
        MatrixGame([])
    with pytest.raises(InvalidGameError) as from_frame:
        as_game(frame)
    assert str(from_frame.value) == str(from_list.value)


# ------------------------------------------------------------------ CSV files

def test_the_separator_is_sniffed_from_the_first_200_lines(tmp_path):
    # semicolons split the first 200 lines evenly (commas do not); line 201 is ragged, and is named as such
    lines = ["a,b,c;d"] + [f"r{k};{k / 1000}" for k in range(2, 201)] + ["r201;0.5;0.5"]
    path = tmp_path / "long.csv"
    path.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFormatError, match=r"row 201: row 'r201' has 2 payoffs but the header has 1 column") \
            as err:
        MatrixGame.from_csv(path)
    assert err.value.row == 201
    path.write_text("\n".join(lines[:200]) + "\n")
    game = MatrixGame.from_csv(path)
    assert game.shape == (199, 1)
    assert game.column_labels == ("d",)
    assert game.row_labels[0] == "r2" and game.payoffs[-1, 0] == 0.2


def test_a_byte_order_mark_does_not_hide_an_unlabelled_matrix(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeff0.25,0.75\n0.5,0.5\n".encode("utf-8"))
    with pytest.warns(CsvNote, match="unlabelled 2x2 matrix"):
        game = MatrixGame.from_csv(path)
    np.testing.assert_array_equal(game.payoffs, [[0.25, 0.75], [0.5, 0.5]])
    assert game.row_labels == ("r1", "r2")


def test_a_bad_cell_in_an_unlabelled_csv_names_the_file(tmp_path):
    path = tmp_path / "numbers.csv"
    path.write_text("0.5,0.5\n0.5,high\n")
    with pytest.raises(DataFormatError, match=r"row 2: column 2 holds 'high'; expected a finite number$") as err:
        MatrixGame.from_csv(path)
    assert err.value.path == path
    assert str(err.value).startswith(str(path))


def test_only_a_decimal_comma_gets_the_decimal_comma_hint(tmp_path):
    path = tmp_path / "comma.csv"
    path.write_text("hit;front;back\ndrop;0,5;0.5\n")
    with pytest.raises(DataFormatError, match=r"holds '0,5'; expected a finite number \(decimal commas are not "
                                              r"read: write 0\.5, not 0,5\)$"):
        MatrixGame.from_csv(path)
    path.write_text("hit;front;back\ndrop;half;0.5\n")
    with pytest.raises(DataFormatError, match=r"column 'front' holds 'half'; expected a finite number$"):
        MatrixGame.from_csv(path)


@pytest.mark.parametrize("mode, kind", [(stat.S_IFBLK | 0o600, "a block device"),
                                        (0o170000 | 0o600, "not a regular file")])
def test_other_file_kinds_are_refused_by_kind_without_being_opened(tmp_path, monkeypatch, mode, kind):
    target = tmp_path / "device.csv"
    target.write_text("a,b\nr,1\n")
    real_stat = pathlib.Path.stat

    def fake_stat(self, *args, **kwargs):
        if self == target:
            return os.stat_result((mode, 0, 0, 1, 0, 0, 0, 0, 0, 0))
        return real_stat(self, *args, **kwargs)

    def no_read(self, *args, **kwargs):
        raise AssertionError(f"{self} was opened")

    monkeypatch.setattr(pathlib.Path, "stat", fake_stat)
    monkeypatch.setattr(pathlib.Path, "read_text", no_read)
    with pytest.raises(DataFormatError, match=rf"is {kind}; expected a regular CSV file"):
        MatrixGame.from_csv(target)
