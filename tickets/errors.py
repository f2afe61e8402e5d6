"""What a person is told when a transition does not happen: the same words on the page and in the API."""

from __future__ import annotations

from django.utils.translation import gettext as _

from workflow.engine import TransitionConflict, TransitionError, TransitionForbidden
from workflow.requests import TRANSITION_LABELS

__all__ = ["describe_transition_error", "action_label"]


def action_label(name: str) -> str:
    return str(TRANSITION_LABELS.get(name, name))


def describe_transition_error(exc: TransitionError) -> str:
    if isinstance(exc, TransitionConflict):
        text = _("Someone else changed this request first; it now shows its current state. Nothing was saved.")
    elif isinstance(exc, TransitionForbidden):
        text = _("You may not do this with this request.")
    else:
        text = _("This action is not possible in the request's current state.")
    if exc.allowed:
        text += " " + _("You can now: %(actions)s.") % {"actions": "、".join(action_label(a) for a in exc.allowed)}
    return text
