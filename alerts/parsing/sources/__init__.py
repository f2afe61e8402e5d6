"""Alert sources, tried in registry order. A source is a module (or object) with ``NAME``,
``detect(msg) -> bool`` and ``parse(msg) -> list[Alert]``; adding one is adding a file here and a
line to ``REGISTRY`` (or calling ``register``)."""
from __future__ import annotations

from . import (
    alertmanager,
    centreon,
    checkmk,
    grafana,
    icinga,
    librenms,
    monit,
    nagios,
    netdata,
    nightingale,
    oem,
    openfalcon,
    prometheusalert,
    script,
    uptimekuma,
    zabbix,
)
from .base import NoHostError, Source

__all__ = ["REGISTRY", "NoHostError", "Source", "register", "get"]

# Specific notifiers first (a tool whose mail resembles another's comes before it: Icinga and
# Centreon before Nagios, PrometheusAlert and Nightingale before Alertmanager); the script
# heuristics are the catch-all and must stay last.
REGISTRY: list[Source] = [  # type: ignore[list-item]
    checkmk, icinga, centreon, nagios, zabbix, prometheusalert, nightingale, grafana, alertmanager,
    openfalcon, librenms, monit, netdata, uptimekuma, oem, script,
]


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
