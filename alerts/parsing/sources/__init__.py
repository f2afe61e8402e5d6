"""Alert sources, tried in registry order. A source is a module (or object) with ``NAME``,
``detect(msg) -> bool`` and ``parse(msg) -> list[Alert]``; adding one is adding a file here and a
line to ``REGISTRY`` (or calling ``register``)."""
from __future__ import annotations

from . import alertmanager, nagios, script, zabbix
from .base import NoHostError, Source

__all__ = ["REGISTRY", "NoHostError", "Source", "register", "get"]

# Specific notifiers first; the script heuristics are the catch-all and must stay last.
REGISTRY: list[Source] = [nagios, zabbix, alertmanager, script]  # type: ignore[list-item]


def register(source: Source, *, before: str | None = "script") -> None:
    """Add a source, by default just before the script catch-all."""
    names = [s.NAME for s in REGISTRY]
    if source.NAME in names:
        REGISTRY[names.index(source.NAME)] = source
        return
    if before in names:
        REGISTRY.insert(names.index(before), source)
    else:
        REGISTRY.append(source)


def get(name: str) -> Source | None:
    return next((s for s in REGISTRY if s.NAME == name), None)
