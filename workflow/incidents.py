"""The incident state machine: open → acknowledged → resolved, and reopen.

`alerts.models.Incident` inherits `IncidentWorkflow`. People fire transitions through
`workflow.engine.perform(Incident, pk, "acknowledge", actor=person, ...)`; the ingest pipeline
fires the same transition methods on rows it already holds locked (actor None = the monitoring
system itself), so there is one definition of what may happen in which state. Each transition
also declares what it counts as in the statistics (`IncidentEffect`, read by `transition_effects`).
"""

from __future__ import annotations

from functools import cache

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from opsdesk.org.choices import INCIDENT_ROLES
from workflow.effects import counts, declared_effects, names_with

__all__ = ["OPEN", "IncidentState", "IncidentEffect", "IncidentWorkflow", "may_act_on_incidents",
           "transition_effects", "transitions_with"]


# The opening of an incident: not a transition (it is created OPEN) but recorded and published like
# one, with an empty source state.
OPEN = "open"


class IncidentEffect(models.TextChoices):
    """What an incident's step means for the statistics (`reports.services` counts by these)."""

    OPENED = "opened"  # opened, first or again: the times to acknowledge and resolve run from here
    REOPENED = "reopened"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


# The opening is not a transition; it counts like one.
CREATION_EFFECTS = {OPEN: frozenset({IncidentEffect.OPENED})}


class IncidentState(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


def may_act_on_incidents(user) -> bool:
    """Who may acknowledge, resolve, reopen and silence: a person on the board (`INCIDENT_ROLES`) or
    an administrator; None is the monitoring system itself."""
    if user is None:
        return True
    if not (user.is_authenticated and user.is_active):
        return False
    return user.is_administrator or user.has_role(*INCIDENT_ROLES)


def _permission(instance, user) -> bool:
    return may_act_on_incidents(user)


class IncidentWorkflow(FSMModelMixin, models.Model):
    """State, version and the transitions. The model supplies the timestamp fields it sets."""

    state = FSMField(_("state"), default=IncidentState.OPEN, choices=IncidentState.choices, protected=True)
    version = models.PositiveIntegerField(_("version"), default=0)

    class Meta:
        abstract = True

    @transition(field=state, source=IncidentState.OPEN, target=IncidentState.ACKNOWLEDGED,
                permission=_permission, custom=counts(IncidentEffect.ACKNOWLEDGED))
    def acknowledge(self, *, actor=None, comment: str = "", at=None) -> dict:
        self.acknowledged_at = at or timezone.now()
        self.acknowledged_by = actor
        return {"by_monitoring": actor is None}

    @transition(field=state, source=[IncidentState.OPEN, IncidentState.ACKNOWLEDGED],
                target=IncidentState.RESOLVED, permission=_permission, custom=counts(IncidentEffect.RESOLVED))
    def resolve(self, *, actor=None, comment: str = "", at=None) -> dict:
        self.resolved_at = at or timezone.now()
        self.resolved_by = actor
        return {"automatic": actor is None}

    @transition(field=state, source=IncidentState.RESOLVED, target=IncidentState.OPEN, permission=_permission,
                custom=counts(IncidentEffect.OPENED, IncidentEffect.REOPENED))
    def reopen(self, *, actor=None, comment: str = "", at=None) -> dict:
        self.resolved_at = None
        self.resolved_by = None
        self.acknowledged_at = None
        self.acknowledged_by = None
        self.reopen_count += 1
        return {"automatic": actor is None}


@cache
def _effects_by_name() -> dict[str, frozenset]:
    return {**CREATION_EFFECTS, **declared_effects(IncidentWorkflow)}


def transition_effects(name: str) -> frozenset[IncidentEffect]:
    """What audit action `name` (a transition, or the opening `OPEN`) counts as; nothing for an
    action that is neither (a silence)."""
    return _effects_by_name().get(name, frozenset())


def transitions_with(*effects: IncidentEffect) -> tuple[str, ...]:
    """The audit actions that count as any of `effects` (as anything at all, if none are given)."""
    return names_with(_effects_by_name(), effects or IncidentEffect)
