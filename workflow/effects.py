"""What a transition means for the statistics, declared on the transition itself.

Each `@transition` of a state machine carries `custom=counts(...)`: the reporting effects of that
step (`workflow.requests.ReportEffect`, `workflow.incidents.IncidentEffect`), possibly none but
always explicitly. The statistics (`reports.services`) count by these effects, so they hold no copy
of the state machine: a new transition says how it counts where it is written, and
`declared_effects()` refuses a machine with a transition that does not say.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable
from enum import Enum

from django.core.exceptions import ImproperlyConfigured

__all__ = ["EFFECTS", "counts", "declared_effects", "names_with"]

# The key in django-fsm's `Transition.custom` under which the effects are declared.
EFFECTS = "report_effects"


def counts(*effects: Enum) -> dict[str, frozenset]:
    """`custom=` of a `@transition`: what firing it counts as (nothing, if called without effects)."""
    return {EFFECTS: frozenset(effects)}


def declared_effects(workflow: type, *, field: str = "state") -> dict[str, frozenset]:
    """The effects of every transition of `workflow` (a model class, abstract or not) on `field`.

    Read from the `@transition` declarations themselves (django-fsm keeps one `Transition` per
    source state, with its `custom`). Raises `ImproperlyConfigured` if a transition declares no
    effects from some source, or different effects from different sources."""
    found: dict[str, frozenset] = {}
    for name, method in inspect.getmembers(workflow, lambda m: hasattr(m, "_django_fsm")):
        meta = method._django_fsm
        if getattr(meta.field, "name", meta.field) != field:
            continue
        for source, declared in sorted(meta.transitions.items(), key=lambda kv: str(kv[0])):
            if EFFECTS not in declared.custom:
                raise ImproperlyConfigured(
                    f"{workflow.__name__}.{name} (from {source}) does not declare what it counts as: "
                    f"add custom=counts(...) to its @transition, with no effects if it counts as none."
                )
            effects = frozenset(declared.custom[EFFECTS])
            if found.setdefault(name, effects) != effects:
                raise ImproperlyConfigured(
                    f"{workflow.__name__}.{name} declares different report effects from different sources."
                )
    return found


def names_with(declared: dict[str, frozenset], effects: Iterable[Enum]) -> tuple[str, ...]:
    """The names in `declared` carrying any of `effects`, sorted."""
    wanted = set(effects)
    return tuple(sorted(name for name, have in declared.items() if have & wanted))
