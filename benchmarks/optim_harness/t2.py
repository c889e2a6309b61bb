"""T2 as a harness problem: next-shot prediction on rallies from a mixture of Markov chains, evaluated as
the excess cross-entropy over the Bayes-optimal predictor (see benchmarks/optim_t2.py)."""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from optim_harness._scripts import script
from optim_harness.problems import Problem


def t2_problem(model: str = "gru", batch: int = 64, target_excess: float = 0.15, eval_every: int = 10,
               n_eval: int = 600) -> Problem:
    t2 = script("optim_t2")
    source = t2.MarkovMixtureSource.random()
    eval_set, bayes, _ = t2.make_eval_set(source, n_eval, 999, "cpu")

    def batches(seed: int, steps: int):
        targets = torch.as_tensor(source.sample(steps * batch, np.random.default_rng(10_000 + seed)))
        out = []
        for i in range(steps):
            y = targets[i * batch:(i + 1) * batch]
            y = y[:, : int((y != t2.IGNORE).sum(1).max())]
            out.append((t2.inputs_from_targets(y, source.bos), y))
        return out

    def make_model(seed: int):
        torch.manual_seed(seed)
        return t2.build_model(model, source)

    return Problem(
        name=f"T2 {model}",
        make_model=make_model,
        batches=batches,
        loss=t2.next_shot_loss,
        evaluate=lambda m, seed: t2.evaluate(m, eval_set) - bayes,
        target=target_excess,
        loss_type="cross_entropy",
        examples=lambda out, y: out[y != t2.IGNORE],
        eval_every=eval_every,
    )


def sequence_classifier(vocab: int = 20, embed: int = 32, hidden: int = 128, steps_len: int = 32,
                        batch: int = 256, width: int | None = None) -> Problem:
    """The opponent model's shape, for timing: embedding (vocab 20, dim 32) -> GRU(128) -> 20 classes over
    sequences of 32 strokes, batch 256; with ``width``, a 2-layer MLP of that width on 128 features instead."""
    from torch import nn

    class ShotGRU(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(vocab, embed)
            self.gru = nn.GRU(embed, hidden, batch_first=True)
            self.head = nn.Linear(hidden, vocab)

        def forward(self, x):
            return self.head(self.gru(self.embed(x))[0])

    def make_model(seed: int):
        torch.manual_seed(seed)
        if width is None:
            return ShotGRU()
        return nn.Sequential(nn.Linear(128, width), nn.GELU(), nn.Linear(width, width), nn.GELU(),
                             nn.Linear(width, vocab))

    def batches(seed: int, steps: int):
        gen = torch.Generator().manual_seed(seed)
        if width is None:
            xs = [torch.randint(0, vocab, (batch, steps_len), generator=gen) for _ in range(steps)]
            return [(x, x.roll(-1, 1)) for x in xs]
        return [(torch.randn(batch, 128, generator=gen), torch.randint(0, vocab, (batch,), generator=gen))
                for _ in range(steps)]

    def loss(out, y):
        return F.cross_entropy(out.reshape(-1, vocab), y.reshape(-1))

    name = f"GRU({hidden}) T={steps_len} batch {batch}" if width is None else f"MLP width {width} batch {batch}"
    return Problem(name=name, make_model=make_model, batches=batches, loss=loss,
                   evaluate=lambda m, seed: float("nan"), target=0.0, loss_type="cross_entropy")
