"""Where a command's rally data come from: ``--data PATH``, else the shipped demo; loaded once."""

from __future__ import annotations


def data_path(args) -> tuple[str, bool]:
    """``(path, is_demo)``: ``args.data`` when given, else the shipped demo's strokes file."""
    if getattr(args, "data", None):
        return args.data, False
    from strategist.data.demo import demo_path

    return str(demo_path()), True


def load_table(args):
    """``(canonical table, path, is_demo)`` of the command's data (``args.sport`` when the layout needs it)."""
    from strategist.data.load import load_rallies

    path, is_demo = data_path(args)
    sport = getattr(args, "sport", None)
    loaded = load_rallies(path, sport=sport) if sport else load_rallies(path)
    return loaded.table, path, is_demo
