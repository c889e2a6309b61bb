"""Entry point of the ``strategist`` command.

Each sub-command lives in its own module with ``register(subparsers)``; the registered handler receives
the parsed arguments and returns an exit code. Only the module of the command being run is imported, so
``strategist --help`` and a light command start fast. numpy's and scipy's BLAS run on one thread
(:mod:`strategist._blas`; ``OPENBLAS_NUM_THREADS`` set by the user is kept). Any :class:`StrategistError`
becomes a one-line message on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from strategist import __version__
from strategist._blas import one_blas_thread_from_start
from strategist.errors import StrategistError

#: Sub-command -> (module, one-line help), in the order they appear in ``--help``.
COMMANDS: dict[str, tuple[str, str]] = {
    "solve": ("strategist.cli.solve_cmd", "solve a zero-sum payoff matrix (CSV: first row and column are labels)"),
    "data": ("strategist.cli.data_cmd", "inspect rally data files"),
    "payoff": ("strategist.cli.payoff_cmd",
               "estimate a rally decision's payoff matrix from data, with intervals, and solve it"),
    "rally": ("strategist.cli.rally_cmd",
              "the whole rally as a stochastic game: win probability from every state, equilibrium vs observed"),
    "simulate": ("strategist.cli.simulate_cmd", "play rallies out under the estimated rally game between two policies"),
    "practice": ("strategist.cli.practice_cmd", "practise rally by rally against a modelled opponent"),
    "train": ("strategist.cli.train_cmd", "fit an opponent model (frequency, Markov or neural) and save it"),
    "evaluate": ("strategist.cli.evaluate_cmd", "score a saved opponent model on held-out matches"),
    "report": ("strategist.cli.report_cmd", "write a post-match analysis report (HTML, PDF, JSON) of one match"),
    "scout": ("strategist.cli.scout_cmd",
              "scout an opponent: weaknesses in plain sentences, court maps, serve and return, pressure, trends"),
}


def _command_of(argv: list[str]) -> str | None:
    """The sub-command named in ``argv`` (its first word that is not an option)."""
    for word in argv:
        if not word.startswith("-"):
            return word
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser, with the full arguments of ``command`` only (the others are named, not imported)."""
    parser = argparse.ArgumentParser(prog="strategist", description="What to play in a racket-sport rally.")
    parser.add_argument("--version", action="version", version=f"strategist {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (module_name, summary) in COMMANDS.items():
        if name == command:
            importlib.import_module(module_name).register(sub)
        else:
            sub.add_parser(name, help=summary, add_help=False)
    return parser


def main(argv: list[str] | None = None) -> int:
    one_blas_thread_from_start()
    argv = list(sys.argv[1:] if argv is None else argv)
    command = _command_of(argv)
    parser = build_parser(command if command in COMMANDS else None)
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
