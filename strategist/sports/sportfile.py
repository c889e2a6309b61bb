"""A user's own shot vocabulary: a small TOML or JSON file that extends or replaces a built-in sport's.

The rules of play (court sides, serves per point, endings, scoring) come from the built-in sport the file
``extends``; the vocabulary is the file's. Fields (all but ``extends`` optional)::

    name = "club-badminton"          # how tables name the sport (default: the file's name without suffix)
    extends = "badminton"            # the built-in sport whose rules of play apply
    shots = ["short service", "long service", "net shot", "push/rush", "defensive shot", ...]
                                     # the whole vocabulary (replaces the built-in one) ...
    add_shots = ["tumble"]           # ... or labels added to it
    serves = ["short service", "long service"]   # default: the built-in serves still in the vocabulary
    areas = ["1", "2", "3"]          # or [code, description] pairs, or a table code -> description;
                                     # default: the built-in areas
    [merge]                          # labels that stand for several built-in ones (replacing them)
    "push/rush" = ["push", "rush"]
    [groups.tactic]                  # grouping -> group -> shots; a shot of no group has none
    attack = ["smash", "push/rush"]

A grouping the file gives is taken whole; in the others a shot keeps its built-in group, and a merged
label takes the group its members share (none where they differ). The result is an ordinary :class:`~strategist.sports.Sport`, registered
under its name so that loaders, models and states find it as they find a built-in sport.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

from strategist.errors import ConfigurationError
from strategist.sports.definition import DecisionRule, Sport
from strategist.sports.files import FileRefused, read_regular_file

#: A sport file is small: a vocabulary, its groups and areas.
MAX_FILE_BYTES = 256 * 1024
MAX_SHOTS = 200
MAX_AREAS = 200
MAX_GROUPINGS = 16
MAX_LABEL = 60
SUFFIXES = (".toml", ".json")
FIELDS = ("name", "extends", "shots", "add_shots", "serves", "areas", "merge", "groups")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.+-]{0,39}$")


def is_sport_file(value) -> bool:
    """Whether ``value`` names a sport file (a path, or text ending in .toml / .json) rather than a sport."""
    if isinstance(value, Path):
        return True
    return isinstance(value, str) and value.strip().lower().endswith(SUFFIXES)


def read_sport_file(path) -> Sport:
    """The :class:`Sport` a TOML or JSON file defines (see the module docstring); not yet registered."""
    path = Path(path)
    if path.suffix.lower() not in SUFFIXES:
        raise ConfigurationError(f"{path}: a sport file ends in .toml or .json")
    try:
        blob = read_regular_file(path, MAX_FILE_BYTES)
    except FileRefused as exc:
        raise ConfigurationError(f"{path}: cannot use as a sport file: {exc}") from None
    try:
        text = blob.decode("utf-8-sig")
        data = tomllib.loads(text) if path.suffix.lower() == ".toml" else json.loads(text)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ConfigurationError(f"{path}: not a valid {path.suffix[1:].upper()} sport file ({exc})") from None
    if isinstance(data, dict) and "name" not in data:
        data = {**data, "name": path.stem}
    return sport_from_mapping(data, where=str(path))


def sport_from_mapping(data, where: str = "sport definition") -> Sport:
    """The :class:`Sport` of a parsed sport file (or of :func:`sport_to_mapping`'s output)."""
    from strategist.sports.registry import builtin_sport

    if not isinstance(data, dict):
        raise ConfigurationError(f"{where}: expected a table of fields {list(FIELDS)}")
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise ConfigurationError(f"{where}: unknown fields {unknown}; expected some of {list(FIELDS)}")
    name = _text(data.get("name"), where, "name")
    if not _NAME.match(name):
        raise ConfigurationError(f"{where}: field 'name': {name!r} is not a sport name (letters, digits, space, "
                                 "'_.+-', at most 40 characters)")
    if builtin_sport(name) is not None:
        raise ConfigurationError(f"{where}: field 'name': {name!r} is a built-in sport; give the file's sport "
                                 "another name")
    if "extends" not in data:
        raise ConfigurationError(f"{where}: field 'extends' is missing: name the built-in sport whose rules of "
                                 "play apply (e.g. \"badminton\")")
    base = builtin_sport(_text(data["extends"], where, "extends"))
    if base is None:
        raise ConfigurationError(f"{where}: field 'extends': {data['extends']!r} is not a built-in sport")
    shots, origin = _vocabulary(data, base, where)
    serves = _serves(data, base, shots, where)
    areas = _areas(data, base, where)
    groupings = _groupings(data, base, shots, origin, where)
    labels = {source: {field: _relabel(table, origin, shots) if field == "shot" else dict(table)
                       for field, table in fields.items()} for source, fields in base.labels.items()}
    rule = base.decisions
    rally = rule.rally
    if rally.startswith("group:") and rally.partition(":")[2] not in groupings:
        rally = "shot"
    decisions = DecisionRule(serve=rule.serve, return_of=rule.return_of, rally=rally,
                             zones={a: z for a, z in rule.zones.items() if a in areas},
                             default_payoff=dict(rule.default_payoff))
    try:
        return Sport(name=name, shots=shots, serves=frozenset(serves), groupings=groupings, areas=areas,
                     court_sides=base.court_sides, serves_per_point=base.serves_per_point,
                     endings=dict(base.endings), errors=base.errors, labels=labels,
                     scoring=base.scoring, decisions=decisions, extends=base.name)
    except ConfigurationError as exc:
        raise ConfigurationError(f"{where}: {exc}") from None


def sport_to_mapping(sport: Sport) -> dict:
    """The sport file's fields of a sport it defined (vocabulary, serves, groups, areas and the sport it
    extends): what a saved model records so that it can be loaded where the file is not at hand."""
    if sport.extends is None:
        raise ConfigurationError(f"sport {sport.name!r} is built in; it has no sport file")
    groups = {g: {} for g in sport.groupings}
    for grouping, table in sport.groupings.items():
        for shot in sport.shots:
            if table[shot] is not None:
                groups[grouping].setdefault(table[shot], []).append(shot)
    return {"name": sport.name, "extends": sport.extends, "shots": list(sport.shots), "serves": sorted(sport.serves),
            "areas": [[code, text] for code, text in sport.areas.items()], "groups": groups}


# -- the fields ------------------------------------------------------------------------------------------------
def _text(value, where: str, field: str, limit: int = MAX_LABEL) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"{where}: field {field!r}: expected a non-empty text, got {value!r}"[:300])
    value = value.strip()
    if len(value) > limit or any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise ConfigurationError(f"{where}: field {field!r}: {value[:80]!r} is longer than {limit} characters or "
                                 "holds control characters")
    return value


def _labels(value, where: str, field: str, limit: int = MAX_SHOTS) -> list[str]:
    if not isinstance(value, list):
        raise ConfigurationError(f"{where}: field {field!r}: expected a list of labels, got {type(value).__name__}")
    if len(value) > limit:
        raise ConfigurationError(f"{where}: field {field!r}: {len(value)} labels, more than the limit of {limit}")
    out = [_text(v, where, field) for v in value]
    twice = sorted({v for v in out if out.count(v) > 1})
    if twice:
        raise ConfigurationError(f"{where}: field {field!r}: labels given twice: {twice}")
    return out


def _vocabulary(data: dict, base: Sport, where: str) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """The shots, and for each the built-in shots it stands for (itself, a merge's members, or none)."""
    if "shots" in data and "add_shots" in data:
        raise ConfigurationError(f"{where}: give either 'shots' (the whole vocabulary) or 'add_shots', not both")
    merge = data.get("merge", {})
    if not isinstance(merge, dict):
        raise ConfigurationError(f"{where}: field 'merge': expected a table label -> [built-in labels]")
    members: dict[str, tuple[str, ...]] = {}
    taken: dict[str, str] = {}
    for label, parts in merge.items():
        label = _text(label, where, "merge")
        parts = _labels(parts, where, f"merge.{label}")
        if not parts:
            raise ConfigurationError(f"{where}: field 'merge.{label}': names no built-in label")
        for part in parts:
            if part not in base.shots:
                raise ConfigurationError(f"{where}: field 'merge.{label}': {part!r} is not a {base.name} shot")
            if part in taken:
                raise ConfigurationError(f"{where}: field 'merge': {part!r} is merged into both {taken[part]!r} "
                                         f"and {label!r}")
            taken[part] = label
        members[label] = tuple(parts)
    if "shots" in data:
        shots = _labels(data["shots"], where, "shots")
    else:
        shots = []
        for shot in base.shots:
            label = taken.get(shot, shot)
            if label not in shots:
                shots.append(label)
        for extra in _labels(data.get("add_shots", []), where, "add_shots"):
            if extra in shots:
                raise ConfigurationError(f"{where}: field 'add_shots': {extra!r} is already a shot")
            shots.append(extra)
    if not shots:
        raise ConfigurationError(f"{where}: field 'shots': the vocabulary is empty")
    if len(shots) > MAX_SHOTS:
        raise ConfigurationError(f"{where}: {len(shots)} shots, more than the limit of {MAX_SHOTS}")
    missing = sorted(set(members) - set(shots))
    if missing:
        raise ConfigurationError(f"{where}: field 'merge': {missing} are not in the vocabulary")
    origin = {s: members.get(s, (s,) if s in base.shots and s not in taken else ()) for s in shots}
    return tuple(shots), origin


def _serves(data: dict, base: Sport, shots: tuple[str, ...], where: str) -> list[str]:
    if "serves" in data:
        serves = _labels(data["serves"], where, "serves")
        outside = sorted(set(serves) - set(shots))
        if outside:
            raise ConfigurationError(f"{where}: field 'serves': {outside} are not shots of the vocabulary")
    else:
        serves = [s for s in shots if s in base.serves]
    if not serves:
        raise ConfigurationError(f"{where}: field 'serves': no shot of the vocabulary starts a rally; list the "
                                 "serves")
    return serves


def _areas(data: dict, base: Sport, where: str) -> dict[str, str]:
    value = data.get("areas")
    if value is None:
        return dict(base.areas)
    if isinstance(value, list) and all(isinstance(a, list) and len(a) == 2 for a in value):
        if len(value) > MAX_AREAS:
            raise ConfigurationError(f"{where}: field 'areas': more than {MAX_AREAS} areas")
        codes = _labels([a[0] for a in value], where, "areas", MAX_AREAS)
        value = dict(zip(codes, (a[1] for a in value)))
    elif isinstance(value, list):
        value = {a: a for a in _labels(value, where, "areas", MAX_AREAS)}
    if not isinstance(value, dict) or len(value) > MAX_AREAS:
        raise ConfigurationError(f"{where}: field 'areas': expected a list of area codes or a table code -> "
                                 f"description, at most {MAX_AREAS}")
    return {_text(code, where, "areas"): _text(text, where, f"areas.{code}", 200) for code, text in value.items()}


def _groupings(data: dict, base: Sport, shots, origin, where: str) -> dict[str, dict[str, str | None]]:
    given = data.get("groups", {})
    if not isinstance(given, dict) or len(given) > MAX_GROUPINGS:
        raise ConfigurationError(f"{where}: field 'groups': expected a table grouping -> group -> [shots], at most "
                                 f"{MAX_GROUPINGS} groupings")
    out = {}
    for grouping, table in base.groupings.items():       # built-in groups where the members agree
        out[grouping] = {}
        for shot in shots:
            groups = {table[m] for m in origin[shot]}
            out[grouping][shot] = groups.pop() if len(groups) == 1 else None
    for grouping, groups in given.items():
        grouping = _text(grouping, where, "groups")
        if not isinstance(groups, dict):
            raise ConfigurationError(f"{where}: field 'groups.{grouping}': expected a table group -> [shots]")
        table = out[grouping] = dict.fromkeys(shots)
        for group, members in groups.items():
            group = _text(group, where, f"groups.{grouping}")
            for shot in _labels(members, where, f"groups.{grouping}.{group}"):
                if shot not in table:
                    raise ConfigurationError(f"{where}: field 'groups.{grouping}.{group}': {shot!r} is not a shot "
                                             "of the vocabulary")
                if table[shot] is not None:
                    raise ConfigurationError(f"{where}: field 'groups.{grouping}': {shot!r} is in both "
                                             f"{table[shot]!r} and {group!r}")
                table[shot] = group
    return out


def _relabel(table, origin: dict[str, tuple[str, ...]], shots) -> dict[str, str]:
    """A source's label map of the built-in sport carried over to the new vocabulary (merged labels
    followed; labels of shots that are no longer in the vocabulary left out)."""
    now = {member: shot for shot, members in origin.items() for member in members}
    return {source: now[english] for source, english in table.items() if english in now}
