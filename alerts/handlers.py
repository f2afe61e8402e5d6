"""What an incident's transitions write beyond the state machine: the append-only audit row.

The engine calls the recorder registered here for a person's action (`perform()`); the ingest batch
builds the same rows with `incident_event_row()` and writes them in bulk, then publishes the events
itself (`alerts.services`), so subscribers (the statistics) see both paths alike.
"""

from __future__ import annotations

from alerts.models import Incident, IncidentEvent
from workflow import engine, events

__all__ = ["incident_event_row", "record_incident_event", "register"]


def incident_event_row(event: events.Transitioned) -> IncidentEvent:
    """The audit row of `event`, unsaved (a batch inserts many at once)."""
    return IncidentEvent(incident=event.obj, at=event.at, action=event.name, source_state=event.source,
                         target_state=event.target, actor=event.actor, comment=event.comment,
                         details=event.details or {})


def record_incident_event(event: events.Transitioned) -> IncidentEvent:
    """The engine's recorder for incidents."""
    row = incident_event_row(event)
    row.save()
    return row


def register() -> None:
    engine.register(Incident, recorder=record_incident_event)
