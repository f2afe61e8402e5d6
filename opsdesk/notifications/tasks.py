"""Delivery tasks: take an id, reload, deliver once."""

from __future__ import annotations

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from opsdesk.notifications.models import Notification, NotificationStatus

__all__ = ["deliver_notification"]


@shared_task(acks_late=True)
def deliver_notification(notification_id: int) -> str:
    with transaction.atomic():
        notification = Notification.objects.select_for_update().filter(pk=notification_id).first()
        if notification is None or notification.status == NotificationStatus.SENT:
            return "skipped"
        # The embedded "outbox" backend: the stored row is the message; mark it sent.
        notification.status = NotificationStatus.SENT
        notification.attempts += 1
        notification.sent_at = timezone.now()
        notification.save(update_fields=["status", "attempts", "sent_at"])
    return "sent"
