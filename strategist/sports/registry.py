"""Find sport definitions: every module of :mod:`strategist.sports` that defines ``SPORT`` is one sport.

Adding a sport is adding a module ``strategist/sports/<name>.py`` with ``SPORT = Sport(name="<name>", ...)``.
"""

from __future__ import annotations

import importlib
import pkgutil
from functools import lru_cache

from strategist.errors import ConfigurationError
from strategist.sports.definition import Sport

_NOT_SPORTS = {"definition", "registry"}


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
    """Names of the defined sports, sorted."""
    return tuple(sorted(_registry()))


def get_sport(name: str | Sport) -> Sport:
    """The sport called ``name`` (a :class:`Sport` passes through)."""
    if isinstance(name, Sport):
        return name
    sports = _registry()
    key = str(name).strip().lower()
    if key not in sports:
        raise ConfigurationError(f"unknown sport {name!r}; expected one of {sorted(sports)}")
    return sports[key]
