"""The one notification service every trigger calls.

`notify()` must be called inside the transaction of the event it reports: it writes outbox rows
and schedules delivery on commit.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction

from opsdesk.notifications.models import Channel, Notification

__all__ = ["notify", "recipients_for_unit"]


def recipients_for_unit(unit) -> list:
    """People who should hear about something handed to `unit`: its active people with a mobile."""
    return list(unit.people.filter(is_active=True).exclude(mobile="").order_by("pk"))


def notify(
    *,
    event: str,
    text: str,
    key: str,
    about: models.Model | None = None,
    people: Iterable | None = None,
    unit=None,
    urgent: bool = False,
) -> list[Notification]:
    """Queue one SMS per recipient. `key` identifies the event; re-running with it adds nothing.

    Recipients: `people` if given, otherwise the on-duty people of `unit`.
    """
    recipients = list(people) if people is not None else recipients_for_unit(unit) if unit else []
    content_type = ContentType.objects.get_for_model(about) if about is not None else None
    created = []
    for person in recipients:
        notification, was_created = Notification.objects.get_or_create(
            idempotency_key=f"{key}:{person.pk}",
            defaults={
                "event": event,
                "recipient": person,
                "address": person.mobile,
                "channel": Channel.SMS,
                "text": text,
                "urgent": urgent,
                "content_type": content_type,
                "object_id": str(about.pk) if about is not None else "",
            },
        )
        if was_created:
            created.append(notification)
    if created:
        from opsdesk.notifications.tasks import deliver_notification

        ids = [n.pk for n in created]
        transaction.on_commit(lambda: [deliver_notification.delay(pk) for pk in ids])
    return created
