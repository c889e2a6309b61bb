"""Where a command's rally data come from: ``--data PATH``, else the shipped demo; loaded once (and kept on disk
for the next command on the same files: :mod:`strategist.data.cache`). The data may be tagged with the user's
own shot vocabulary: ``--sport-file FILE`` (:func:`add_sport_file_option`)."""

from __future__ import annotations

import os
import re
import textwrap
from pathlib import Path

#: Widest line of the commands' text output.
WIDTH = 100
#: The space between a number and its unit ("26 %", "+5.2 pp"), which a wrapped line never breaks at.
_UNIT_SPACE = re.compile(r"(?<=\d) (?=%|pp\b)")


def wrap_lines(text: str, width: int = WIDTH, indent: str = "  ", first: str = "") -> list[str]:
    """``text`` wrapped to ``width`` columns, the first line indented by ``first``, the others by ``indent``;
    never between a number and its unit nor at a hyphen."""
    held = _UNIT_SPACE.sub("\u00a0", text)         # textwrap does not break at a no-break space
    return [line.replace("\u00a0", " ") for line in
            textwrap.wrap(held, width, initial_indent=first, subsequent_indent=indent,
                          break_on_hyphens=False)] or [""]


def add_data_options(parser, default: str = "the shipped demo", sport: bool = True) -> None:
    """Add the options every command that reads rally data shares: ``--data PATH`` (``default`` when absent),
    ``--sport`` (with ``sport``) and ``--sport-file`` (read by :func:`data_sport` and :func:`load_data`)."""
    parser.add_argument("--data", metavar="PATH", help=f"rally data file or folder (default: {default})")
    if sport:
        parser.add_argument("--sport", help="sport of the data when it cannot be detected")
    add_sport_file_option(parser)


def add_sport_file_option(parser) -> None:
    """Add ``--sport-file FILE`` to a command's parser (read by :func:`sport_from_args` and :func:`load_table`)."""
    parser.add_argument("--sport-file", metavar="FILE",
                        help="your own shot vocabulary: a .toml or .json file (labels, groups, serves, areas) "
                             "extending a built-in sport, for data tagged with it")


def sport_from_args(args):
    """The :class:`~strategist.sports.Sport` of ``--sport-file`` (read and registered under its name), or None."""
    from strategist.sports import get_sport

    path = getattr(args, "sport_file", None)
    return get_sport(Path(path)) if path else None


def data_sport(args):
    """The sport to load the data as: that of ``--sport-file`` when given, else ``--sport`` (None: detected)."""
    return sport_from_args(args) or getattr(args, "sport", None)


def data_path(args) -> tuple[str, bool]:
    """``(path, is_demo)``: ``args.data`` when given, else the shipped demo's strokes file."""
    if getattr(args, "data", None):
        return args.data, False
    from strategist.data.demo import demo_path

    return str(demo_path()), True


def load_table(args):
    """``(canonical table, path, is_demo)`` of the command's data (the sport of ``--sport-file``, else
    ``args.sport``, when given)."""
    loaded, path, is_demo = load_data(args)
    return loaded.table, path, is_demo


def load_data(args):
    """``(LoadResult, path, is_demo)``: :func:`load_table` with what the load kept on disk."""
    from strategist.data.cache import cached_load

    path, is_demo = data_path(args)
    return cached_load(path, sport=data_sport(args)), path, is_demo


def game_strokes(loaded, **settings):
    """The usable strokes of a loaded table for a rally game with ``settings`` (those of
    :class:`~strategist.rally.model.RallySettings` that shape them), from disk when made before."""
    from strategist.rally.model import RallySettings
    from strategist.rally.stored import stored_strokes

    return stored_strokes(loaded.table, loaded.cache_key, RallySettings(**settings), sport=loaded.sport)


def data_line(path, is_demo: bool, width: int = WIDTH) -> str:
    """``Data: PATH`` as the commands print it: a path under the working folder relative to it, the demo named
    as such, wrapped at ``width`` (a long path breaks across lines rather than past the edge)."""
    shown = str(path)
    try:
        relative = os.path.relpath(path)
        if not relative.startswith(".."):
            shown = relative
    except ValueError:                       # another drive (Windows): keep the path as given
        pass
    text = f"Data: {shown}" + (" (simulated demo)" if is_demo else "")
    return "\n".join(wrap_lines(text, width))
