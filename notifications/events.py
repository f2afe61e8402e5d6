"""What a notification is about, in the desk's words: the Chinese name of its event code
(`request.dispatch` → 服务请求：分发给支持小组) and the page of the request or incident it concerns,
for the people who may open that page. The delivery log, "my notifications" and the admin show these
instead of raw codes.

Notifications sit below tickets and alerts, so the pages are named by URL name and the objects found
through their content type, never by importing those apps.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.contenttypes.models import ContentType
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from opsdesk import scoping
from workflow.requests import SUBMIT, TRANSITION_LABELS

__all__ = ["event_label", "event_choices", "AboutLink", "about_links"]

# Events that are not a request's transition (those are "request.<transition name>").
EVENT_LABELS = {
    "request.handoff": _("Service request passed on"),
    "request.answered": _("Service request answered"),
    f"request.{SUBMIT}": _("Service request filed"),
    "incident.opened": _("Incident opened"),
    "incident.escalation": _("Incident escalated"),
    "sla.near_breach": _("SLA target nearly reached"),
    "sla.breach": _("SLA target missed"),
    "digest": _("Several reminders in one"),
}

# The page of each kind of object a notification can be about (app_label.model → URL name taking its pk).
ABOUT_PAGES = {
    "tickets.servicerequest": "tickets:detail",
    "alerts.incident": "alerts:incident",
}


def event_label(code: str) -> str:
    """The Chinese (active language) name of an event code; an unknown code is shown as it is."""
    if code in EVENT_LABELS:
        return str(EVENT_LABELS[code])
    kind, _sep, name = code.partition(".")
    if kind == "request" and name in TRANSITION_LABELS:
        return gettext("Service request: %(step)s") % {"step": TRANSITION_LABELS[name]}
    return code


def event_choices(codes: Iterable[str] | None = None) -> list[tuple[str, str]]:
    """(code, name) pairs for a filter's picker: the known events, or the given codes."""
    if codes is None:
        codes = [*EVENT_LABELS, *(f"request.{name}" for name in TRANSITION_LABELS)]
    return sorted(((code, event_label(code)) for code in dict.fromkeys(codes)), key=lambda pair: pair[1])


@dataclass(frozen=True)
class AboutLink:
    label: str
    url: str | None  # None: the viewer may not open it (or it has no page)


def about_links(user, notifications: Iterable) -> dict[int, AboutLink]:
    """notification pk → what it is about, with a link when `user` may see that object. One query
    per kind of object on the page (scoped by `opsdesk.scoping`, default deny)."""
    rows = [n for n in notifications if n.content_type_id and n.object_id]
    wanted: dict[int, set[str]] = defaultdict(set)
    for n in rows:
        wanted[n.content_type_id].add(n.object_id)
    visible: dict[int, dict[str, object]] = {}
    for ct_id, ids in wanted.items():
        content_type = ContentType.objects.get_for_id(ct_id)
        model = content_type.model_class()
        if model is None or f"{content_type.app_label}.{content_type.model}" not in ABOUT_PAGES:
            visible[ct_id] = {}
            continue
        pks = [int(i) for i in ids if i.isascii() and i.isdigit() and len(i) < 19]
        seen = scoping.restrict(user, model._default_manager.filter(pk__in=pks))
        visible[ct_id] = {str(pk): obj for pk, obj in seen.in_bulk().items()}
    out = {}
    for n in rows:
        content_type = ContentType.objects.get_for_id(n.content_type_id)
        obj = visible.get(n.content_type_id, {}).get(n.object_id)
        if obj is None:  # not for this viewer: its kind and id only, nothing of its content
            out[n.pk] = AboutLink(f"{content_type.name} #{n.object_id}", None)
            continue
        try:
            url = reverse(ABOUT_PAGES[f"{content_type.app_label}.{content_type.model}"], args=[obj.pk])
        except NoReverseMatch:
            url = None
        out[n.pk] = AboutLink(f"{content_type.name} {obj}", url)
    return out
