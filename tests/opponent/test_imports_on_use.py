"""The opponent package imports torch only for the neural model and checkpoints: a report or an Advisor on a
Markov model never pays for it (a second of import), nor for scipy.stats (a third of a second)."""

import subprocess
import sys

import strategist.opponent as opponent

MARKOV_ONLY = """
import sys
import strategist
from strategist.advice.advisor import Advisor
from strategist.data.demo import demo_path
from strategist.opponent import KINDS, fit_model
from strategist.report import build_report

table = strategist.load_rallies(demo_path()).table
assert sorted(KINDS) == ["frequency", "markov", "neural"]
model = fit_model("markov2", table)
Advisor(table, "Astrid NORDVIK", "Hiro TAKEDA", model=model).advise([])
build_report(table, table["match_id"].iloc[0])
print("torch" in sys.modules, "scipy.stats" in sys.modules)
"""


def test_a_markov_advisor_and_a_report_leave_torch_and_scipy_stats_unimported():
    done = subprocess.run([sys.executable, "-c", MARKOV_ONLY], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "False False"


def test_the_neural_names_and_kind_resolve_to_the_modules_that_define_them():
    from strategist.opponent import checkpoint, neural

    assert opponent.NeuralModel is neural.NeuralModel and opponent.NeuralConfig is neural.NeuralConfig
    assert opponent.load_model is checkpoint.load_model and opponent.save_model is checkpoint.save_model
    assert opponent.KINDS["neural"] is neural.NeuralModel
    assert dict(opponent.KINDS) == {"frequency": opponent.FrequencyModel, "markov": opponent.MarkovModel,
                                    "neural": neural.NeuralModel}
    assert len(opponent.KINDS) == 3 and "neural" in opponent.KINDS and "elo" not in opponent.KINDS


def test_an_unknown_name_is_an_attribute_error():
    import pytest

    with pytest.raises(AttributeError, match="no attribute 'NeuralNet'"):
        opponent.NeuralNet  # noqa: B018


NEURAL_FIRST = """
import strategist
from strategist.data.demo import demo_path
from strategist.opponent import fit_model

table = strategist.load_rallies(demo_path()).table
few = table[table["match_id"].isin(table["match_id"].unique()[:6])]
print(type(fit_model("neural", few, max_steps=1, progress=False)).__name__)
"""


def test_fitting_the_neural_kind_first_in_a_fresh_process_imports_it():
    """Nothing before the fit has looked up the neural class: the fit itself must bring it in."""
    done = subprocess.run([sys.executable, "-c", NEURAL_FIRST], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "NeuralModel"
