"""Entry point of the ``strategist`` command.

Each sub-command lives in its own module with ``register(subparsers)``; the registered handler receives
the parsed arguments and returns an exit code. Any :class:`StrategistError` becomes a one-line message on
stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from strategist.errors import StrategistError

#: Modules that define sub-commands, in the order they appear in ``--help``.
COMMAND_MODULES = [
    "strategist.cli.solve",
    "strategist.cli.data_cmd",
    "strategist.cli.payoff_cmd",
    "strategist.cli.train_cmd",
    "strategist.cli.evaluate_cmd",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="strategist", description="What to play in a racket-sport rally.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        module.register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "handler", None):
        parser.print_help()
        return 0
    try:
        return int(args.handler(args) or 0)
    except StrategistError as exc:
        print(f"strategist: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # pragma: no cover - e.g. `strategist ... | head`
        return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
