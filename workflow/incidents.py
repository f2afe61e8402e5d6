"""The incident state machine: open → acknowledged → resolved, and reopen.

`alerts.models.Incident` inherits `IncidentWorkflow`. People fire transitions through
`workflow.engine.perform(Incident, pk, "acknowledge", actor=person, ...)`; the ingest pipeline
fires the same transition methods on rows it already holds locked (actor None = the monitoring
system itself), so there is one definition of what may happen in which state.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from opsdesk.org.choices import Role

__all__ = ["IncidentState", "IncidentWorkflow", "INCIDENT_ACTOR_ROLES", "may_act_on_incidents"]


class IncidentState(models.TextChoices):
    OPEN = "open", _("Open")
    ACKNOWLEDGED = "acknowledged", _("Acknowledged")
    RESOLVED = "resolved", _("Resolved")


# Who may acknowledge, resolve, reopen and silence: the people who watch the board.
INCIDENT_ACTOR_ROLES = (Role.OPERATOR, Role.DISPATCHER, Role.GROUP_MEMBER, Role.GROUP_LEAD)


def may_act_on_incidents(user) -> bool:
    """A person on the board (or an administrator); None is the monitoring system itself."""
    if user is None:
        return True
    if not (user.is_authenticated and user.is_active):
        return False
    return user.is_administrator or user.has_role(*INCIDENT_ACTOR_ROLES)


def _permission(instance, user) -> bool:
    return may_act_on_incidents(user)


class IncidentWorkflow(FSMModelMixin, models.Model):
    """State, version and the transitions. The model supplies the timestamp fields it sets."""

    state = FSMField(_("state"), default=IncidentState.OPEN, choices=IncidentState.choices, protected=True)
    version = models.PositiveIntegerField(_("version"), default=0)

    class Meta:
        abstract = True

    @transition(field=state, source=IncidentState.OPEN, target=IncidentState.ACKNOWLEDGED,
                permission=_permission)
    def acknowledge(self, *, actor=None, comment: str = "", at=None) -> dict:
        self.acknowledged_at = at or timezone.now()
        self.acknowledged_by = actor
        return {"by_monitoring": actor is None}

    @transition(field=state, source=[IncidentState.OPEN, IncidentState.ACKNOWLEDGED],
                target=IncidentState.RESOLVED, permission=_permission)
    def resolve(self, *, actor=None, comment: str = "", at=None) -> dict:
        self.resolved_at = at or timezone.now()
        self.resolved_by = actor
        return {"automatic": actor is None}

    @transition(field=state, source=IncidentState.RESOLVED, target=IncidentState.OPEN, permission=_permission)
    def reopen(self, *, actor=None, comment: str = "", at=None) -> dict:
        self.resolved_at = None
        self.resolved_by = None
        self.acknowledged_at = None
        self.acknowledged_by = None
        self.reopen_count += 1
        return {"automatic": actor is None}
