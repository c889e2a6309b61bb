"""``strategist train``: fit an opponent model on rally data and save it (checkpoints resume)."""

from __future__ import annotations

import argparse
import json
import os

from strategist.errors import DataFormatError


def register(subparsers) -> None:
    from strategist.opponent.train import DEFAULT_OPTIMIZER, OPTIMIZERS

    p = subparsers.add_parser(
        "train", help="fit an opponent model (frequency, Markov or neural) and save it",
        description="Fit an opponent model on the training matches of the data (whole matches held out by the "
                    "SHA-1 rank rule: 20 %% for evaluation, 10 %% of the rest for early stopping and tuning) and "
                    "save it to --out. A neural run writes checkpoints to --out and resumes from them.")
    p.add_argument("--data", metavar="PATH", help="rally data file or folder (default: the shipped demo)")
    p.add_argument("--model", required=True, choices=("frequency", "markov", "neural"))
    p.add_argument("--out", required=True, metavar="DIR", help="directory of the saved model and checkpoints")
    p.add_argument("--optimizer", default=DEFAULT_OPTIMIZER, choices=OPTIMIZERS,
                   help=f"neural: optimizer (default {DEFAULT_OPTIMIZER}, by the rule of benchmarks/bench_opponent.py)")
    p.add_argument("--lr", type=float, help="neural: base learning rate (default: the optimizer's tuned one)")
    p.add_argument("--schedule", default="cosine", choices=("cosine", "wsd"), help="neural: lr schedule")
    p.add_argument("--max-steps", type=int, default=None, help="neural: step budget (default 3000)")
    p.add_argument("--batch-size", type=int, default=None, help="neural: rallies per step (default 64)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--order", type=int, default=2, help="markov: order (default 2)")
    p.add_argument("--device", help="neural: torch device (default: cuda when present, else cpu)")
    p.add_argument("--threads", type=int, help="neural: CPU threads of torch")
    p.add_argument("--time-budget", type=float, help="neural: stop after this many seconds of training")
    p.add_argument("--no-resume", action="store_true", help="neural: start afresh even if --out has a checkpoint")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print the training metrics as JSON")
    p.set_defaults(handler=run_train)


def load_data(path):
    from strategist.data.load import load_rallies

    if path is None:
        try:
            from strategist.data.demo import demo_path
        except ImportError:
            raise DataFormatError("no --data given and no shipped demo dataset") from None
        path = demo_path()
    return load_rallies(path).table


def run_train(args: argparse.Namespace) -> int:
    from strategist.opponent import FrequencyModel, MarkovModel, NeuralModel
    from strategist.opponent.split import select, split_matches

    table = load_data(args.data)
    sport = str(table["sport"].iloc[0])
    split = split_matches(table)
    used = list(split.train) + list(split.valid)
    if args.model == "neural":
        cfg = {"optimizer": args.optimizer, "seed": args.seed, "schedule": args.schedule}
        for name in ("lr", "max_steps", "batch_size"):
            if getattr(args, name) is not None:
                cfg[name] = getattr(args, name)
        model = NeuralModel(sport, **cfg)
        model.fit(select(table, split.train), valid=select(table, split.valid), out=args.out, device=args.device,
                  progress=not args.no_progress,
                  resume=not args.no_resume, time_budget=args.time_budget, threads=args.threads,
                  split=split.to_json())
    else:
        model = (MarkovModel(sport, order=args.order) if args.model == "markov" else FrequencyModel(sport))
        model.fit(select(table, used))
        model.split_ = dict(split.to_json(), train=used, valid=[])
        model.save(args.out)
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun only the first process reports (and saves)
        return 0
    metrics = {k: v for k, v in model.metrics_.items() if k != "curve"}
    summary = {"model": args.model, "out": str(args.out), "train_matches": len(split.train),
               "valid_matches": len(split.valid), "test_matches": len(split.test), **metrics}
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        print(f"{args.model} model saved to {args.out}: " + ", ".join(f"{k} {v}" for k, v in summary.items()
                                                                      if k not in ("model", "out")))
    return 0
