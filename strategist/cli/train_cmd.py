"""``strategist train``: fit an opponent model on rally data and save it (checkpoints resume); ``--model auto``
fits the candidates and keeps the one with the lowest held-out log-loss."""

from __future__ import annotations

import argparse
import json
import os
import sys

from strategist.cli import flags
from strategist.cli.data_source import add_data_options, load_table, sport_from_args


#: What ``--model auto`` fits and the optimizers, as in strategist.opponent.choose / .train (tested equal):
#: written here so that building the command line does not import torch.
CANDIDATES = ("markov1", "markov2", "markov3", "frequency", "neural")
OPTIMIZERS = ("soap", "shampoo", "muon", "kfac", "adamw")
DEFAULT_OPTIMIZER = "adamw"


def register(subparsers) -> None:

    p = subparsers.add_parser(
        "train", help="fit an opponent model (frequency, Markov or neural; or auto) and save it",
        description="Fit an opponent model on the training matches of the data (whole matches held out by the "
                    "SHA-1 rank rule: 20 % for evaluation, 10 % of the rest for early stopping and tuning) and "
                    "save it to --out. A neural run writes checkpoints to --out and resumes from them. --model auto "
                    f"fits {', '.join(CANDIDATES)} on the training matches, keeps the one with the lowest "
                    "log-loss on the validation matches and says why.")
    add_data_options(p)
    p.add_argument("--model", required=True, metavar="KIND",
                   help="frequency, markov (order from --order), markov1 ... markov3, neural, or auto")
    p.add_argument("--out", required=True, metavar="DIR", help="directory of the saved model and checkpoints")
    p.add_argument("--optimizer", default=DEFAULT_OPTIMIZER, choices=OPTIMIZERS,
                   help=f"neural: optimizer (default {DEFAULT_OPTIMIZER}, by the rule of benchmarks/bench_opponent.py)")
    p.add_argument("--lr", type=flags.positive, help="neural: base learning rate (default: the optimizer's tuned one)")
    p.add_argument("--schedule", default="cosine", choices=("cosine", "wsd"), help="neural: lr schedule")
    p.add_argument("--max-steps", type=flags.whole_number(1, 10_000_000),
                   help="neural: step budget, the length of the lr schedule (default 1500)")
    p.add_argument("--batch-size", type=flags.whole_number(1, 100_000), help="neural: rallies per step (default 64)")
    p.add_argument("--seed", type=flags.seed, default=0)
    p.add_argument("--order", type=flags.whole_number(1, 10), default=2, help="markov: order (default 2)")
    p.add_argument("--device", help="neural: torch device (default: cuda when present, else cpu)")
    p.add_argument("--threads", type=flags.whole_number(1, 1024), help="neural: CPU threads of torch")
    p.add_argument("--time-budget", type=flags.positive, help="neural: stop after this many seconds of training")
    p.add_argument("--no-resume", action="store_true", help="neural: start afresh even if --out has a checkpoint")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument("--json", action="store_true", help="print the training metrics as JSON")
    p.set_defaults(handler=run_train)


def _neural_options(args) -> tuple[dict, dict]:
    """(configuration, trainer options) of a neural model from the command line."""
    cfg = {"optimizer": args.optimizer, "seed": args.seed, "schedule": args.schedule}
    for name in ("lr", "max_steps", "batch_size"):
        if getattr(args, name) is not None:
            cfg[name] = getattr(args, name)
    trainer = {"device": args.device, "progress": not args.no_progress, "time_budget": args.time_budget,
               "threads": args.threads}
    return cfg, trainer


def run_train(args: argparse.Namespace) -> int:
    from strategist.errors import OpponentModelError
    from strategist.opponent import KINDS, choose_model, parse_kind
    from strategist.opponent.split import select, split_matches

    table, _, _ = load_table(args)
    sport = sport_from_args(args) or str(table["sport"].iloc[0])
    split = split_matches(table)
    used = list(split.train) + list(split.valid)
    kind, options = parse_kind(args.model)
    if kind not in KINDS and kind != "auto":
        raise OpponentModelError(f"--model {args.model!r}: expected frequency, markov, markov1 ... markov8, neural "
                                 "or auto")
    choice = None
    if kind == "auto":
        cfg, trainer = _neural_options(args)
        choice = choose_model(table, split, sport=sport, neural={**cfg, **trainer, "split": split.to_json()},
                              progress=None if args.json else lambda line: print(line, file=sys.stderr))
        model = choice.model
        if choice.kind == "neural":
            model.split_ = split.to_json()
        else:
            model.split_ = dict(split.to_json(), train=used, valid=[])
        model.save(args.out)
    elif kind == "neural":
        cfg, trainer = _neural_options(args)
        model = KINDS["neural"](sport, **cfg)
        model.fit(select(table, split.train), valid=select(table, split.valid), out=args.out,
                  resume=not args.no_resume, split=split.to_json(), **trainer)
    else:
        if kind == "markov":
            options.setdefault("order", args.order)
        model = KINDS[kind](sport, **options)
        model.fit(select(table, used))
        model.split_ = dict(split.to_json(), train=used, valid=[])
        model.save(args.out)
    if int(os.environ.get("RANK", "0")) != 0:  # under torchrun only the first process reports (and saves)
        return 0
    metrics = {k: v for k, v in model.metrics_.items() if k not in ("curve", "tuning_grid")}
    summary = {"model": model.kind, "out": str(args.out), "sport": model.sport, "train_matches": len(split.train),
               "valid_matches": len(split.valid), "test_matches": len(split.test), **metrics}
    if choice is not None:
        summary["choice"] = choice.to_json()
    if args.json:
        print(json.dumps(summary, indent=1, default=str))
        return 0
    if choice is not None:
        print(f"chose {choice.reason}")
    calibration = metrics.pop("calibration", None)
    print(f"{model.kind} model saved to {args.out}: " + ", ".join(
        f"{k} {v}" for k, v in summary.items() if k not in ("model", "out", "choice", "calibration")))
    if calibration and calibration.get("n"):
        print(f"calibration on the validation matches: temperature {calibration['temperature']:.3f} "
              f"(fitted {calibration.get('fitted_temperature', calibration['temperature']):.3f}; "
              f"{calibration.get('reason', 'applied')}), ECE {calibration['valid_ece_before']:.3f} before, "
              f"{calibration['valid_ece_after']:.3f} after")
    return 0
