"""Reads: the delivery log (scoped: administrators see it all, nobody else anything) and a
person's own notifications."""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, QuerySet

from notifications.models import Notification
from opsdesk import scoping
from opsdesk.inputs import ascii_int
from opsdesk.org.models import Unit

__all__ = ["notification_log", "notification_log_filter", "notifications_of", "parse_about", "LOG_RELATED"]

LOG_RELATED = ("recipient", "unit", "content_type")


def parse_about(value: str) -> tuple[ContentType, str] | None:
    """"tickets.servicerequest:12" → (content type, "12"); None when it names nothing."""
    label, _, object_id = (value or "").partition(":")
    app_label, _, model = label.strip().lower().partition(".")
    if not (app_label and model and object_id.strip()):
        return None
    content_type = ContentType.objects.filter(app_label=app_label, model=model).first()
    return (content_type, object_id.strip()) if content_type else None


def notification_log(*, user, person: str = "", unit: str = "", about: str = "", status: str = "",
                     event: str = "") -> QuerySet[Notification]:
    """Every notification `user` may see, newest first, filtered. Unknown filter values match
    nothing rather than everything."""
    return notification_log_filter(scoping.restrict(user, Notification.objects.all()), person=person,
                                   unit=unit, about=about, status=status, event=event)


def notification_log_filter(queryset: QuerySet[Notification], *, person: str = "", unit: str = "",
                            about: str = "", status: str = "", event: str = "") -> QuerySet[Notification]:
    """The log's filters on an already scoped `queryset` (the API base scopes its own), newest first."""
    qs = queryset.select_related(*LOG_RELATED)
    if person:
        person = person.strip()
        q = Q(recipient__username=person) | Q(recipient__display_name__icontains=person) | Q(address=person)
        if (person_id := ascii_int(person, minimum=1)) is not None:
            q |= Q(recipient_id=person_id)
        qs = qs.filter(q)
    if unit:
        root = Unit.objects.filter(code=unit.strip()).first()
        qs = qs.filter(unit__path__startswith=root.path) if root else qs.none()
    if about:
        parsed = parse_about(about)
        qs = qs.filter(content_type=parsed[0], object_id=parsed[1]) if parsed else qs.none()
    if status:
        qs = qs.filter(status=status)
    if event:
        qs = qs.filter(event=event)
    return qs.order_by("-created_at", "-pk")


def notifications_of(*, person) -> QuerySet[Notification]:
    """A person's own notifications, newest first."""
    return Notification.objects.filter(recipient=person).select_related("content_type").order_by("-created_at", "-pk")
