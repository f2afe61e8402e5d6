"""The transactional outbox. A row is written in the same transaction as the event that caused it;
Celery delivers it afterwards, so a crash after the commit cannot lose it, and the idempotency key
(also handed to the gateway) means a retry cannot send it twice."""

from __future__ import annotations

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.core.validators import RegexValidator
from django.db import models
from django.template import Template, TemplateSyntaxError
from django.utils.translation import gettext_lazy as _

from opsdesk.audit.history import track_configuration

__all__ = ["Notification", "NotificationStatus", "ReceiptStatus", "Channel", "NotificationTemplate", "PENDING_STATUSES",
           "PendingNotice"]


class Channel(models.TextChoices):
    SMS = "sms", _("SMS")
    EMAIL = "email", _("E-mail")


class NotificationStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed, will retry")
    DEAD = "dead", _("Dead")
    MERGED = "merged", _("Merged into a digest")


class ReceiptStatus(models.TextChoices):
    """What the operator's network reported back (SMPP delivery receipts)."""

    NONE = "", _("No receipt")
    DELIVERED = "delivered", _("Delivered to the phone")
    UNDELIVERED = "undelivered", _("Failed at the phone")


# Rows that still have to reach the recipient.
PENDING_STATUSES = (NotificationStatus.QUEUED, NotificationStatus.SENDING, NotificationStatus.FAILED)


class Notification(models.Model):
    event = models.CharField(_("event"), max_length=60)
    # No index of their own: (recipient, created_at) and (content_type, object_id) below serve them, and
    # every index is paid on each of the many inserts.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("recipient"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="notifications", db_index=False,
    )
    # The recipient's unit when it was written, so the log can be filtered by unit.
    unit = models.ForeignKey(
        "org.Unit", verbose_name=_("unit"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    address = models.CharField(_("address"), max_length=255, blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices, default=Channel.SMS)
    template = models.CharField(_("template"), max_length=60, blank=True)
    text = models.TextField(_("text"))
    urgent = models.BooleanField(_("urgent"), default=False)
    content_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL, db_index=False)
    object_id = models.CharField(max_length=64, blank=True)
    about = GenericForeignKey("content_type", "object_id")
    idempotency_key = models.CharField(_("idempotency key"), max_length=200)  # unique: see Meta
    status = models.CharField(
        _("status"), max_length=10, choices=NotificationStatus.choices, default=NotificationStatus.QUEUED
    )
    # Digests: events of one group for one recipient inside a short window share one message.
    digest_group = models.CharField(_("digest group"), max_length=200, blank=True)
    digest_count = models.PositiveIntegerField(_("events in this message"), default=1)
    merged_into = models.ForeignKey(
        "self", verbose_name=_("merged into"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="merged", db_index=False,  # indexed where set (Meta): most rows are not merged
    )
    # Held back until then (digest window, rate limit, quiet hours).
    not_before = models.DateTimeField(_("held until"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    # While a worker is sending, nobody else may; after this moment the send is presumed lost.
    claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    provider_message_id = models.CharField(_("gateway message id"), max_length=100, blank=True)
    receipt = models.CharField(_("delivery receipt"), max_length=12, choices=ReceiptStatus.choices, blank=True,
                               default=ReceiptStatus.NONE)
    receipt_state = models.CharField(_("network state"), max_length=30, blank=True)
    receipt_at = models.DateTimeField(_("receipt received"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-pk"]
        # A constraint, not unique=True: the same unique index without the LIKE index Django adds
        # beside a unique text column (nothing searches keys by prefix).
        constraints = [models.UniqueConstraint(fields=["idempotency_key"], name="notif_idempotency_key")]
        indexes = [
            models.Index(fields=["status", "created_at"], name="notif_status_created"),
            models.Index(fields=["content_type", "object_id"], name="notif_about"),
            models.Index(fields=["recipient", "created_at"], name="notif_recipient_created"),
            models.Index(fields=["address", "channel", "status"], name="notif_address_status"),
            # Partial where most rows leave the column empty: every index is paid on each insert.
            models.Index(fields=["digest_group", "status"], condition=~models.Q(digest_group=""),
                         name="notif_digest_status"),
            models.Index(fields=["merged_into"], condition=models.Q(merged_into__isnull=False),
                         name="notif_merged_into"),
            # What delivery claims from: the few rows still pending, in id order.
            models.Index(fields=["id"], condition=models.Q(status__in=["queued", "sending", "failed"]),
                         name="notif_pending"),
            # Receipts name a message by the gateway's id (a long one's first part: "12,13,14").
            models.Index(fields=["provider_message_id"], condition=~models.Q(provider_message_id=""),
                         name="notif_provider_id", opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} → {self.address or self.recipient}: {self.text[:40]}"

    @property
    def latency_seconds(self) -> float | None:
        if self.sent_at is None:
            return None
        return round((self.sent_at - self.created_at).total_seconds(), 3)


class PendingNotice(models.Model):
    """A message about an event, not yet fanned out to its recipients.

    Written in the event's own transaction (one row, whoever the recipients turn out to be) and
    turned into Notification rows by a worker right after the commit: looking up the roster, rate
    limits and digests per recipient then costs the worker, not the person who pressed the button.
    The relay hands over any whose task went missing (broker down at commit).
    """

    event = models.CharField(_("event"), max_length=60)
    key = models.CharField(_("idempotency key"), max_length=200)
    # notify()'s keyword arguments, with people, unit and the object they are about by id.
    arguments = models.JSONField(encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("pending notice")
        verbose_name_plural = _("pending notices")

    def __str__(self) -> str:
        return f"{self.event} {self.key}"


def validate_template_body(value: str) -> None:
    try:
        Template(value)
    except TemplateSyntaxError as exc:
        raise ValidationError(_("The template does not parse: %(error)s"), params={"error": exc}) from None


@track_configuration(exclude=["updated_at"])
class NotificationTemplate(models.Model):
    """The text of one kind of message, in Chinese, edited by administrators.

    The body is a Django template; `{{ variable }}` is filled from the context the trigger passes.
    """

    code = models.CharField(
        _("code"), max_length=60, unique=True, help_text=_("e.g. request.handoff"),
        validators=[RegexValidator(r"^[a-z0-9_.-]+$", _("Use lower-case letters, digits, '.', '-' or '_'."))],
    )
    name = models.CharField(_("name"), max_length=100)
    body = models.TextField(_("text"), validators=[validate_template_body])
    variables = models.CharField(_("available variables"), max_length=300, blank=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("message template")
        verbose_name_plural = _("message templates")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"
