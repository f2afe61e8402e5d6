"""The statistics listen to the workflow: every transition of a service request or an incident is
counted into the summary tables in the transition's own transaction, so the figures are current
when it commits and roll back with it. Subscribed here, imported by `ReportsConfig.ready()`; the
apps that fire the transitions do not know the statistics exist."""

from __future__ import annotations

from collections.abc import Sequence

from reports.services import record_incident_events, record_request_event
from workflow import events

__all__ = ["count_request_events", "count_incident_events"]


@events.subscribe("tickets.servicerequest")
def count_request_events(batch: Sequence[events.Transitioned]) -> None:
    for event in batch:
        record_request_event(event=event.record, request=event.obj)


@events.subscribe("alerts.incident")
def count_incident_events(batch: Sequence[events.Transitioned]) -> None:
    # One call for the whole batch: the ingest folds hundreds of alerts at a time.
    record_incident_events(events=[event.record for event in batch if event.record is not None])
