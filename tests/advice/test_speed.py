"""One advise() call stays well under 10 ms of CPU at p99 (thread time: what the call itself costs, whatever
else the machine runs); and a repeated moment asks the opponent model once."""

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from strategist.advice.advisor import Advisor

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from bench_advisor import O, P, histories  # noqa: E402


def test_p99_cpu_time_of_advise_is_under_10_ms():
    adv = Advisor(player=P, opponent=O)
    cpu = []
    for k, (h, server) in enumerate(histories(adv, 400, seed=3)):
        start = time.thread_time()
        adv.advise(h, {"server": server}, margin=0.02 * (k % 6))
        cpu.append(time.thread_time() - start)
    assert np.percentile(np.array(cpu) * 1e3, 99) < 10.0


class _Counting:
    kind = "counting"

    def __init__(self, shots):
        self.shots, self.calls = list(shots), 0

    def predict_proba(self, history=None, context=None):
        self.calls += 1
        s = pd.Series(np.full(len(self.shots), 1.0 / len(self.shots)), index=self.shots)
        s.attrs.update(n=5, source="player")
        return s


def test_a_repeated_moment_asks_the_model_once():
    base = Advisor(player=P, opponent=O)
    model = _Counting(base.sport.shots)
    adv = Advisor(base.table, player=P, opponent=O, model=model)
    h = [("short service", P), ("net shot", O)]
    adv.advise(h, margin=0.0)
    first = model.calls
    assert 1 <= first <= 3
    adv.advise(h, margin=0.1)
    assert model.calls == first
    uncached = Advisor(base.table, player=P, opponent=O, model=model, cache_size=0)
    model.calls = 0
    uncached.advise(h)
    uncached.advise(h)
    assert model.calls == 2 * first


def test_reply_predictions_bounds_the_model_calls():
    base = Advisor(player=P, opponent=O)
    model = _Counting(base.sport.shots)
    adv = Advisor(base.table, player=P, opponent=O, model=model, cache_size=0, reply_predictions=1)
    adv.advise([("short service", P), ("net shot", O)])
    assert model.calls == 1
