"""Transition events: how the effects of a state change reach the apps that care, in one direction.

The engine (`workflow.engine`) fires a transition, writes its audit entry through the recorder the
owning app registered, and then publishes a `Transitioned` event. Apps above the workflow subscribe
in their `handlers.py` (imported by their `AppConfig.ready()`): the owning app sends its hand-off SMS,
the statistics app counts. The workflow never imports them, so dependencies run one way.

Rules for subscribers:
- they run inside the transition's transaction, so what they write commits or rolls back with it;
- each writes only its own app's rows;
- anything that leaves the process (SMS, tasks) goes through `transaction.on_commit`
  (`notifications.services.notify` / `notify_later` already do).

A batch (the alert ingest folds hundreds of incidents in one statement) publishes its events
together with `publish()` of a list, so a subscriber can count them set-wise. Creation counts as an
event too (a request's "submit", an incident's "open"), with an empty source state.

No Django signals: subscriptions are explicit, grep-able and ordered by app loading.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import models

__all__ = ["Transitioned", "Handler", "subscribe", "publish", "subscribers", "label_of"]


@dataclass(frozen=True)
class Transitioned:
    """One state change (or creation) of a workflow object, after its audit entry is written."""

    obj: models.Model  # the object, as saved by the transition
    name: str  # the transition ("escalate", "resolve", …) or the creation ("submit", "open")
    source: str  # state before ("" for a creation)
    target: str  # state after
    actor: Any  # the person, or None for the desk or the monitoring system itself
    at: datetime
    comment: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    record: models.Model | None = None  # the audit row the recorder wrote
    # Values before the transition of the fields the model names in `transition_snapshot`
    # (a request's holder unit: where it came from).
    before: dict[str, Any] = field(default_factory=dict)

    @property
    def model(self) -> str:
        return label_of(type(self.obj))


Handler = Callable[[Sequence[Transitioned]], None]

_subscribers: dict[str, list[Handler]] = defaultdict(list)


def label_of(model: type[models.Model]) -> str:
    return model._meta.label_lower


def subscribe(model_label: str) -> Callable[[Handler], Handler]:
    """Declare `handler(events)` for transitions of `model_label` ("app_label.modelname").

    Subscribing the same function twice (a module imported again) registers it once."""

    def decorator(handler: Handler) -> Handler:
        handlers = _subscribers[model_label.lower()]
        if handler not in handlers:
            handlers.append(handler)
        return handler

    return decorator


def subscribers(model_label: str) -> list[Handler]:
    return list(_subscribers.get(model_label.lower(), ()))


def publish(events: Sequence[Transitioned]) -> None:
    """Hand `events` (all of one model) to its subscribers, in subscription order."""
    if not events:
        return
    labels = {e.model for e in events}
    if len(labels) != 1:
        raise ValueError(f"publish() takes events of one model, got {sorted(labels)}")
    for handler in subscribers(labels.pop()):
        handler(events)
