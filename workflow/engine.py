"""The one entry point that fires a state-machine transition.

`perform()` locks the row, checks the caller's expected version (optimistic locking across
requests), checks the state and the permission declared on the transition, runs it, bumps the
version, and lets the model record its audit entry and schedule side effects — all in one
transaction, so a transition is either wholly done or not at all.

A model that uses the engine has an FSMField called `state` (protected), an integer `version`,
optionally `transition_related` (relations to load with the locked row), and a method
`record_transition(*, name, source, target, actor, comment, details)` that writes its audit entry
and schedules notifications with transaction.on_commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import models, transaction
from django_fsm import can_proceed, has_transition_perm

__all__ = [
    "TransitionError",
    "TransitionConflict",
    "TransitionNotAllowed",
    "TransitionForbidden",
    "TransitionResult",
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


def transition_names(model: type[models.Model]) -> list[str]:
    """Every transition the model declares on its `state` field."""
    state_field = model._meta.get_field("state")
    return sorted({t.name for t in state_field.get_all_transitions(model)})


def available_transitions(obj: models.Model, user) -> list[str]:
    """Transitions `user` may fire on `obj` now (state, conditions and permission all pass)."""
    return sorted({t.name for t in obj.get_available_user_state_transitions(user)})


def perform(
    model: type[models.Model],
    pk: Any,
    name: str,
    *,
    actor,
    expected_version: int | None = None,
    comment: str = "",
    **kwargs: Any,
) -> TransitionResult:
    if name not in transition_names(model):
        raise TransitionNotAllowed(f"Unknown action “{name}”.")
    with transaction.atomic():
        locked = model._default_manager.select_for_update(of=("self",))
        # Relations the transitions read (conditions, routing) arrive with the locked row.
        related = getattr(model, "transition_related", ())
        obj = (locked.select_related(*related) if related else locked).get(pk=pk)
        allowed = available_transitions(obj, actor)
        if expected_version is not None and obj.version != expected_version:
            raise TransitionConflict(
                "Someone else changed this first; reload to see its current state.",
                allowed=allowed, state=obj.state,
            )
        method = getattr(obj, name)
        if not can_proceed(method):
            raise TransitionNotAllowed(
                f"“{name}” is not possible in state “{obj.state}”.", allowed=allowed, state=obj.state
            )
        if not has_transition_perm(method, actor):
            raise TransitionForbidden(
                f"You may not “{name}” this.", allowed=allowed, state=obj.state
            )
        source = obj.state
        details = method(actor=actor, comment=comment, **kwargs) or {}
        obj.version += 1
        obj.save()
        obj.record_transition(
            name=name, source=source, target=obj.state, actor=actor, comment=comment, details=details
        )
    return TransitionResult(obj=obj, name=name, source=source, target=obj.state, details=details)
