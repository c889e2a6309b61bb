"""ShuttleSet relabelled to a club's own 10-class vocabulary (CoachAI Track 2's classes), with its sport file:
the table the tests of a user's own shot labels load, train and advise on."""

from __future__ import annotations

from pathlib import Path

#: The ten classes, in the sport file's order.
TEN = ("short service", "long service", "net shot", "clear", "push/rush", "smash", "defensive shot", "drive",
       "drop", "lob")


def sport_file_text(name: str) -> str:
    """A sport file extending badminton with :data:`TEN` as its shots, called ``name``."""
    return f'name = "{name}"\nextends = "badminton"\nshots = [' + ", ".join(f'"{s}"' for s in TEN) + "]\n"


def relabelled(strokes: Path, matches: int, name: str):
    """The first ``matches`` matches of ShuttleSet's ``strokes`` in the ten classes, sport ``name`` (rallies
    with a shot outside the classes left out)."""
    from strategist.data.load import load_rallies
    from strategist.sports import get_sport

    table = load_rallies(strokes).table
    table = table[table["match_id"].isin(sorted(table["match_id"].unique())[:matches])]
    badminton = get_sport("badminton")
    classes = badminton.group(table["shot"], "track2")
    table = table[~table["rally_id"].isin(table.loc[classes.isna().to_numpy(), "rally_id"])].copy()
    table["shot"] = badminton.group(table["shot"], "track2")
    table["sport"] = name
    return table


def write(folder: Path, strokes: Path, matches: int, name: str) -> tuple[Path, Path]:
    """(sport file, canonical CSV) of :func:`relabelled` written into ``folder``."""
    sport_file = folder / f"{name}.toml"
    sport_file.write_text(sport_file_text(name))
    csv = folder / f"{name}.csv"
    relabelled(strokes, matches, name).to_csv(csv, index=False)
    return sport_file, csv
