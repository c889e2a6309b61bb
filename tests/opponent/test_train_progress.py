"""The one-line progress bar of a training run: what it writes, how often, its speed on a known clock, and that a
run asked for progress writes it to stderr."""

from __future__ import annotations

import io

import torch

import strategist.opponent.train as train_module
from strategist.opponent import NeuralModel
from strategist.opponent.train import Progress

from .conftest import planted_table


class Clock:
    def __init__(self, now):
        self.now = now

    def __call__(self):
        return self.now


def test_the_bar_shows_step_loss_validation_and_speed(monkeypatch):
    clock = Clock(100.0)
    monkeypatch.setattr(train_module.time, "perf_counter", clock)
    out = io.StringIO()
    bar = Progress(10, stream=out)
    clock.now = 102.0
    bar.show(5, 1.234567, None)              # the first step shown is step 5: one step in 2 s
    assert out.getvalue() == "\r[" + "#" * 15 + "." * 15 + "] 5/10 loss 1.2346 0.5 step/s"
    clock.now = 102.4
    bar.show(6, 1.0, 0.5)                    # less than half a second later: not redrawn
    assert out.getvalue().count("\r") == 1
    clock.now = 102.5
    bar.show(7, 1.0, 0.5)                    # half a second: redrawn
    assert out.getvalue().endswith("\r[" + "#" * 21 + "." * 9 + "] 7/10 loss 1.0000 val 0.5000 1.2 step/s")
    clock.now = 102.6
    bar.show(10, 0.25, 0.125, force=True)    # forced: redrawn at once; 6 steps in 2.6 s
    assert out.getvalue().endswith("\r[" + "#" * 30 + "] 10/10 loss 0.2500 val 0.1250 2.3 step/s")
    bar.close()
    assert out.getvalue().endswith("step/s\n") and out.getvalue().count("\r") == 3


def test_a_bar_of_no_steps_and_a_disabled_bar(monkeypatch):
    clock = Clock(50.0)
    monkeypatch.setattr(train_module.time, "perf_counter", clock)
    out = io.StringIO()
    bar = Progress(0, stream=out)
    clock.now = 50.0                          # no time passed: the speed's divisor is kept above zero
    bar.show(1, 2.0, None)
    assert out.getvalue().startswith("\r[" + "#" * 30 + "] 1/0 loss 2.0000 ")
    quiet = io.StringIO()
    off = Progress(10, enabled=False, stream=quiet)
    off.show(3, 1.0, 1.0, force=True)
    off.close()
    assert quiet.getvalue() == ""


def test_the_default_stream_is_stderr(capsys):
    bar = Progress(4)
    bar.show(2, 0.5, None, force=True)
    bar.close()
    err = capsys.readouterr().err
    assert err.startswith("\r[" + "#" * 15 + "." * 15 + "] 2/4 loss 0.5000") and err.endswith("step/s\n")


def test_a_run_with_progress_writes_its_bar_to_stderr(capsys):
    torch.set_num_threads(1)
    table = planted_table(matches=4, rallies=2, seed=3)
    ids = sorted(table["match_id"].unique())
    cfg = dict(d_shot=2, d_area=2, d_player=2, d_height=2, hidden=4, batch_size=8, eval_every=2, calibrate=False)
    NeuralModel(**cfg).fit(table[table["match_id"].isin(ids[:3])], valid=table[table["match_id"] == ids[3]],
                           max_steps=2, progress=True)
    err = capsys.readouterr().err
    assert "] 2/2 loss " in err and " val " in err and err.endswith("\n")
    NeuralModel(**cfg).fit(table[table["match_id"].isin(ids[:3])], valid=table[table["match_id"] == ids[3]],
                           max_steps=2)
    assert capsys.readouterr().err == ""
