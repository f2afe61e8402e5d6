"""The one entry point that fires a state-machine transition.

`perform()` locks the row, checks the caller's expected version (optimistic locking across
requests), checks the state and the permission declared on the transition, runs it, bumps the
version, saves, writes the audit entry through the recorder the owning app registered, and
publishes a `workflow.events.Transitioned` event to the subscribers — all in one transaction, so a
transition is either wholly done or not at all.

`apply()` is the part without lock, save, record and publish, for a caller that already holds the
rows locked and writes them in bulk (the alert ingest batch); it records and publishes itself with
the same recorder and `events.publish()`, so its transitions reach the same subscribers.

A model that uses the engine has an FSMField called `state` (protected), an integer `version`,
optionally `transition_related` (relations to load with the locked row) and `transition_snapshot`
(field names whose values before the transition the event carries in `before`). Its app registers
a recorder with `register(Model, recorder=...)` in `AppConfig.ready()`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.db import models, transaction
from django.utils import timezone
from django_fsm import can_proceed, has_transition_perm

from workflow import events

__all__ = [
    "TransitionError",
    "TransitionConflict",
    "TransitionNotAllowed",
    "TransitionForbidden",
    "TransitionResult",
    "Recorder",
    "register",
    "record",
    "record_creation",
    "apply",
    "perform",
    "available_transitions",
    "transition_names",
]


class TransitionError(Exception):
    """Base class: the transition did not happen. `allowed` lists what the caller may do now."""

    status_code = 409

    def __init__(self, message: str, *, allowed: list[str] | None = None, state: str | None = None):
        super().__init__(message)
        self.message = message
        self.allowed = allowed or []
        self.state = state


class TransitionConflict(TransitionError):
    """Someone else changed the object first (HTTP 409)."""


class TransitionNotAllowed(TransitionError):
    """The transition does not exist from the current state, or its conditions fail (HTTP 409)."""


class TransitionForbidden(TransitionError):
    """The caller's role or unit does not permit it (HTTP 403)."""

    status_code = 403


@dataclass
class TransitionResult:
    obj: models.Model
    name: str
    source: str
    target: str
    details: dict[str, Any] = field(default_factory=dict)
    event: events.Transitioned | None = None


# Writes the audit row of one event and returns it (unsaved rows are fine for a bulk caller).
Recorder = Callable[[events.Transitioned], models.Model]

_recorders: dict[str, Recorder] = {}


def register(model: type[models.Model], *, recorder: Recorder) -> None:
    """The owning app declares how a transition of `model` is written to its audit trail."""
    _recorders[events.label_of(model)] = recorder


def record(event: events.Transitioned) -> events.Transitioned:
    """Write the audit entry of `event` with its model's recorder; returns the event carrying it."""
    label = event.model
    try:
        recorder = _recorders[label]
    except KeyError:
        raise LookupError(f"No audit recorder registered for {label}") from None
    return replace(event, record=recorder(event))


def transition_names(model: type[models.Model]) -> list[str]:
    """Every transition the model declares on its `state` field."""
    state_field = model._meta.get_field("state")
    return sorted({t.name for t in state_field.get_all_transitions(model)})


def available_transitions(obj: models.Model, user) -> list[str]:
    """Transitions `user` may fire on `obj` now (state, conditions and permission all pass)."""
    return sorted({t.name for t in obj.get_available_user_state_transitions(user)})


def record_creation(obj: models.Model, *, name: str, actor, before: dict[str, Any] | None = None,
                    at: datetime | None = None) -> events.Transitioned:
    """A new object entered its machine (a request filed): record and publish it like a transition,
    from the empty state, inside the caller's transaction."""
    event = record(events.Transitioned(obj=obj, name=name, source="", target=obj.state, actor=actor,
                                       at=at or timezone.now(), before=before or {}))
    events.publish([event])
    return event


def apply(obj: models.Model, name: str, *, actor, comment: str = "", at: datetime | None = None,
          **kwargs: Any) -> events.Transitioned:
    """Check and fire transition `name` on `obj`, which the caller holds locked; bump its version.

    Nothing is saved, recorded or published: `perform()` does that, or a bulk caller does it for many
    objects at once. `at` (default now) is when it happened; it is passed to the transition method."""
    if name not in transition_names(type(obj)):
        raise TransitionNotAllowed(f"Unknown action “{name}”.")
    method = getattr(obj, name)
    if not can_proceed(method):
        raise TransitionNotAllowed(
            f"“{name}” is not possible in state “{obj.state}”.", allowed=available_transitions(obj, actor),
            state=obj.state,
        )
    if not has_transition_perm(method, actor):
        raise TransitionForbidden(
            f"You may not “{name}” this.", allowed=available_transitions(obj, actor), state=obj.state
        )
    source = obj.state
    before = {f: getattr(obj, f) for f in getattr(type(obj), "transition_snapshot", ())}
    if at is not None:
        kwargs["at"] = at
    details = method(actor=actor, comment=comment, **kwargs) or {}
    obj.version += 1
    return events.Transitioned(obj=obj, name=name, source=source, target=obj.state, actor=actor,
                               at=at or timezone.now(), comment=comment, details=details, before=before)


def perform(
    model: type[models.Model],
    pk: Any,
    name: str,
    *,
    actor,
    expected_version: int | None = None,
    comment: str = "",
    within: models.QuerySet | None = None,
    **kwargs: Any,
) -> TransitionResult:
    """Lock the row, check the version, fire the transition, record and publish its event.

    `within`: the rows the caller may see (their scope). The row is then looked up inside it by the
    same locked read, so a row outside it is `model.DoesNotExist`, as if it did not exist."""
    if name not in transition_names(model):
        raise TransitionNotAllowed(f"Unknown action “{name}”.")
    with transaction.atomic():
        locked = (within if within is not None else model._default_manager.all()).select_for_update(of=("self",))
        # Relations the transitions read (conditions, routing) arrive with the locked row.
        related = getattr(model, "transition_related", ())
        obj = (locked.select_related(*related) if related else locked).get(pk=pk)
        if expected_version is not None and obj.version != expected_version:
            raise TransitionConflict(
                "Someone else changed this first; reload to see its current state.",
                allowed=available_transitions(obj, actor), state=obj.state,
            )
        event = apply(obj, name, actor=actor, comment=comment, **kwargs)
        obj.save()
        event = record(event)
        events.publish([event])
    return TransitionResult(obj=obj, name=name, source=event.source, target=event.target, details=event.details,
                            event=event)
