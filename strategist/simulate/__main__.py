"""``python -m strategist.simulate --seed 0 --matches 20 --out data/demo``: write a simulated dataset."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from strategist.simulate.describe import dataset_readme
from strategist.simulate.layout import write_shuttleset
from strategist.simulate.match import simulate_matches
from strategist.simulate.model import HEIGHT_PARAMETERS, SimulationParameters


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m strategist.simulate",
                                     description="Simulate badminton matches and write them in ShuttleSet's layout.")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--matches", type=int, default=20, help="number of matches (default 20)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--heights", action="store_true",
                        help="the height mode: the shots available and their effect depend on how high the "
                             "shuttle is taken (off by default; the demo is made without it)")
    args = parser.parse_args(argv)
    if args.matches < 1:
        parser.error("--matches must be at least 1")
    params = HEIGHT_PARAMETERS if args.heights else SimulationParameters()
    matches = simulate_matches(params, matches=args.matches, seed=args.seed)
    strokes, meta = write_shuttleset(matches, args.out, seed=args.seed)
    (args.out / "parameters.json").write_text(params.to_json() + "\n", encoding="utf-8")
    command = (f"python -m strategist.simulate{' --heights' if args.heights else ''} --seed {args.seed} "
               f"--matches {args.matches} --out {args.out.as_posix()}")
    (args.out / "README.md").write_text(dataset_readme(params, matches, seed=args.seed, command=command),
                                        encoding="utf-8")
    rallies = sum(len(m.rallies) for m in matches)
    print(f"wrote {strokes} and {meta}: {len(matches)} matches, {rallies} rallies", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
