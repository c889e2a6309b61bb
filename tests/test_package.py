"""The package surface: top-level names, the exception hierarchy, and the optimizers' import isolation."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import pytest

import strategist
import strategist.errors

TOP_LEVEL = ["MatrixGame", "solve_zero_sum", "equilibria", "best_response", "exploitability", "safe_exploit",
             "solve_zero_sum_batch"]


@pytest.mark.parametrize("name", TOP_LEVEL)
def test_top_level_names_exist(name):
    obj = getattr(strategist, name)
    assert callable(obj)
    assert name in dir(strategist)
    assert name in strategist.__all__


def test_top_level_names_are_the_games_functions():
    import strategist.games as games

    for name in TOP_LEVEL:
        assert getattr(strategist, name) is getattr(games, name)


def test_unknown_top_level_name_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'solve_everything'"):
        strategist.solve_everything  # noqa: B018


def test_top_level_api_reads_naturally():
    game = strategist.MatrixGame([[50, 80], [90, 20]])
    assert strategist.solve_zero_sum(game).value == pytest.approx(62.0, abs=1e-9 * 70)
    assert strategist.exploitability(game, [1, 0]) == pytest.approx(12.0, abs=1e-9 * 70)
    assert strategist.best_response(game, [1, 0]).actions == ("r2",)
    assert strategist.safe_exploit(game, [1, 0], 42.0).expected_payoff == pytest.approx(90.0, abs=1e-9 * 70)
    assert strategist.solve_zero_sum_batch([[[50, 80], [90, 20]]]).value[0] == pytest.approx(62.0, abs=1e-9 * 70)
    assert len(strategist.equilibria([[50, 80], [90, 20]])) == 1


def exception_classes():
    return [obj for _, obj in inspect.getmembers(strategist.errors, inspect.isclass)
            if issubclass(obj, BaseException) and obj.__module__ == "strategist.errors"]


def test_errors_module_defines_exceptions():
    names = {cls.__name__ for cls in exception_classes()}
    assert {"StrategistError", "InvalidGameError", "InvalidStrategyError", "SolverError",
            "ComputationLimitError", "DataFormatError"} <= names


@pytest.mark.parametrize("cls", exception_classes(), ids=lambda cls: cls.__name__)
def test_every_error_derives_from_strategist_error(cls):
    assert issubclass(cls, strategist.errors.StrategistError)
    assert issubclass(cls, Exception)


def test_strategist_error_is_exported():
    assert strategist.StrategistError is strategist.errors.StrategistError


ISOLATION = """
import json, sys
import strategist.optim
heavy = ["strategist.games", "strategist.data", "strategist.estimation", "scipy", "pandas", "nashpy"]
print(json.dumps({name: name in sys.modules or any(m.startswith(name + ".") for m in sys.modules)
                  for name in heavy}))
"""


def test_optim_imports_without_the_rest_of_strategist():
    done = subprocess.run([sys.executable, "-c", ISOLATION], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert not any(loaded.values()), {name for name, present in loaded.items() if present}


def test_importing_strategist_alone_is_light():
    code = ("import sys, strategist; "
            "print(sorted(m for m in ('strategist.games', 'scipy', 'pandas', 'nashpy', 'torch') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
