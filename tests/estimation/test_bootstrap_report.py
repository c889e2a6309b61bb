"""What a bootstrap reports: its JSON (the intervals as the replicates' quantiles, by label), its progress line
on the terminal, the printer used when asked or for long runs, and the level, scheme and arguments it says."""

from __future__ import annotations

import io

import numpy as np
import pytest

from strategist.errors import EstimationError
from strategist.estimation import estimate_payoff
from strategist.estimation import bootstrap as boot_module
from strategist.estimation.bootstrap import _progress_printer, bootstrap_payoff

from .conftest import game_table

GAME = np.array([[0.7, 0.4], [0.2, 0.55]])


@pytest.fixture(scope="module")
def estimate():
    return estimate_payoff(game_table(GAME, [0.5, 0.5], [0.5, 0.5], 600, seed=2, matches=5), target="population")


def test_the_json_gives_every_interval_as_the_replicates_quantiles(estimate):
    result = bootstrap_payoff(estimate, 60, seed=1, level=0.8, cluster="match+rally")
    data = result.to_dict()
    assert set(data) == {"replicates", "scheme", "level", "seed", "clusters", "note", "value", "row_strategy",
                         "column_strategy"}
    assert (data["replicates"], data["scheme"], data["level"], data["seed"], data["clusters"], data["note"]) == \
        (60, "match+rally", 0.8, 1, 5, None)
    lo, hi = np.quantile(result.value, [0.1, 0.9])
    assert data["value"] == {"lower": pytest.approx(lo), "upper": pytest.approx(hi)}
    for labels, mixes, key in ((estimate.row_labels, result.row_strategy, "row_strategy"),
                               (estimate.column_labels, result.column_strategy, "column_strategy")):
        assert list(data[key]) == list(labels)
        for k, label in enumerate(labels):
            q_lo, q_hi = np.quantile(mixes[:, k], [0.1, 0.9])
            assert data[key][label] == {"lower": pytest.approx(q_lo), "upper": pytest.approx(q_hi)}
            assert isinstance(data[key][label]["lower"], float)


def test_the_progress_line_counts_replicates_and_time_left():
    stream = io.StringIO()
    report = _progress_printer(stream)
    report(0, 4)
    report(2, 4)
    report(4, 4)
    text = stream.getvalue()
    first, second, last = text.split("\r")[0], text.split("\r")[1], text.split("\r")[2]
    assert first.startswith("bootstrap: 0/4 replicates, ") and first.endswith("s elapsed, ~nan s left")
    assert second.startswith("bootstrap: 2/4 replicates, ") and " s left" in second
    assert last.startswith("bootstrap: 4/4 replicates, ") and last.endswith("~0.0 s left\n")     # the last ends the line


def test_long_runs_print_their_progress_and_short_ones_do_not(estimate, monkeypatch):
    made = []
    monkeypatch.setattr(boot_module, "_progress_printer",
                        lambda stream=None: made.append(True) or (lambda done, total: None))
    bootstrap_payoff(estimate, 20, seed=0)                             # short: silent
    assert made == []
    bootstrap_payoff(estimate, 20, seed=0, progress=True)              # asked
    assert made == [True]
    bootstrap_payoff(estimate, 2000, seed=0, chunk=1000)               # long: prints by default
    assert made == [True, True]


@pytest.mark.parametrize("kwargs, said", [
    ({"replicates": 1}, "replicates must be a whole number >= 2, got 1"),
    ({"replicates": True}, "replicates must be a whole number >= 2, got True"),
    ({"cluster": "set"}, "bootstrap cluster 'set' is not one of ('match', 'match+rally', 'rally')"),
    ({"level": 1.0}, "interval level must lie strictly between 0 and 1, got 1.0"),
])
def test_bad_requests_are_named(estimate, kwargs, said):
    with pytest.raises(EstimationError) as info:
        bootstrap_payoff(estimate, **{"replicates": 10, **kwargs})
    assert str(info.value) == said


def test_the_level_defaults_to_the_estimates():
    estimate = estimate_payoff(game_table(GAME, [0.5, 0.5], [0.5, 0.5], 300, seed=2, matches=3), target="population",
                               level=0.8)
    result = bootstrap_payoff(estimate, 40, seed=0)
    assert result.level == 0.8
    np.testing.assert_allclose(result.value_interval, np.quantile(result.value, [0.1, 0.9]))
