"""Find sport definitions: every module of :mod:`strategist.sports` that defines ``SPORT`` is one sport;
a user's own vocabulary file (:mod:`strategist.sports.sportfile`) adds one under the file's name.

Adding a sport is adding a module ``strategist/sports/<name>.py`` with ``SPORT = Sport(name="<name>", ...)``.
"""

from __future__ import annotations

import importlib
import os
import pkgutil
import threading
from functools import lru_cache

from strategist.errors import ConfigurationError
from strategist.sports.definition import Sport

_NOT_SPORTS = {"definition", "registry", "files", "sportfile"}
#: Sports defined by files or passed in as :class:`Sport` objects, by name (the last definition wins).
_USER: dict[str, Sport] = {}
_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _registry() -> dict[str, Sport]:
    import strategist.sports as package

    found: dict[str, Sport] = {}
    for module in pkgutil.iter_modules(package.__path__):
        if module.name.startswith("_") or module.name in _NOT_SPORTS:
            continue
        sport = getattr(importlib.import_module(f"{package.__name__}.{module.name}"), "SPORT", None)
        if isinstance(sport, Sport):
            if sport.name in found:
                raise ConfigurationError(f"two definitions of sport {sport.name!r}")
            found[sport.name] = sport
    return found


def available_sports() -> tuple[str, ...]:
    """Names of the defined sports (built-in and registered), sorted."""
    return tuple(sorted(set(_registry()) | set(_USER)))


def builtin_sport(name: str) -> Sport | None:
    """The built-in sport called ``name`` (case-insensitive), or None."""
    return _registry().get(str(name).strip().lower())


def register_sport(sport: Sport) -> Sport:
    """Make ``sport`` findable by its name (a built-in name is refused unless it is that very sport)."""
    if not isinstance(sport, Sport):
        raise ConfigurationError(f"expected a Sport, got {type(sport).__name__}")
    builtin = builtin_sport(sport.name)
    if builtin is not None:
        if builtin != sport:
            raise ConfigurationError(f"sport {sport.name!r} is built in; a sport of your own needs another name")
        return builtin
    with _LOCK:
        _USER[sport.name] = sport
    return sport


def get_sport(name) -> Sport:
    """The sport called ``name``; a :class:`Sport` passes through (registered when it is not built in); a path
    to a ``.toml`` / ``.json`` sport file is read (:func:`strategist.sports.sportfile.read_sport_file`) and
    registered under the name it gives."""
    from strategist.sports.sportfile import is_sport_file, read_sport_file

    if isinstance(name, Sport):
        return register_sport(name)
    if isinstance(name, os.PathLike) or is_sport_file(name):
        return register_sport(read_sport_file(os.fspath(name)))
    builtin = builtin_sport(name)
    if builtin is not None:
        return builtin
    found = _USER.get(str(name).strip())
    if found is None:
        raise ConfigurationError(f"unknown sport {name!r}; expected one of {sorted(available_sports())} or a "
                                 ".toml / .json sport file")
    return found
