"""Where alert mail comes from (accounts and folders, with the poller's status) and what arrived."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from alerts.choices import Origin, Outcome, Security
from opsdesk.audit.history import track_configuration
from opsdesk.fields import EncryptedTextField

__all__ = ["MailAccount", "MailFolder", "IngestedMessage", "MessageAttachment", "QuarantinedMessage"]


@track_configuration(exclude=["password"])  # never a secret in the history
class MailAccount(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    host = models.CharField(_("server"), max_length=255)
    port = models.PositiveIntegerField(_("port"), default=993)
    security = models.CharField(_("security"), max_length=10, choices=Security.choices, default=Security.IMAPS)
    verify_certificate = models.BooleanField(_("verify the server certificate"), default=True)
    ca_file = models.CharField(_("CA file"), max_length=255, blank=True,
                               help_text=_("PEM file of the certificate authority (for an in-house CA)."))
    username = models.CharField(_("user name"), max_length=255)
    # Encrypted at rest (opsdesk.fields); the poller reads the plaintext through the field.
    password = EncryptedTextField(_("password"))
    timeout = models.PositiveIntegerField(_("timeout (seconds)"), default=30)
    enabled = models.BooleanField(_("enabled"), default=True)

    class Meta:
        verbose_name = _("mail account")
        verbose_name_plural = _("mail accounts")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


@track_configuration(fields=["account", "name", "processed_folder", "quarantine_folder", "mark_seen",
                              "use_idle", "poll_interval", "rescan_interval", "batch_size", "enabled"])
class MailFolder(models.Model):
    """One mailbox the poller watches; one poller holds it at a time (see alerts.sources.locks)."""

    account = models.ForeignKey(MailAccount, verbose_name=_("account"), on_delete=models.CASCADE,
                                related_name="folders")
    name = models.CharField(_("folder"), max_length=255, default="INBOX")
    processed_folder = models.CharField(_("move processed mail to"), max_length=255, blank=True,
                                        help_text=_("Empty: leave processed mail in place."))
    quarantine_folder = models.CharField(_("move unparseable mail to"), max_length=255, blank=True,
                                         default="Quarantine")
    mark_seen = models.BooleanField(_("mark processed mail as read"), default=True)
    use_idle = models.BooleanField(_("use IDLE (push)"), default=True)
    poll_interval = models.PositiveIntegerField(_("poll interval without IDLE (seconds)"), default=30)
    rescan_interval = models.PositiveIntegerField(_("full re-scan interval (seconds)"), default=600)
    batch_size = models.PositiveIntegerField(_("messages per fetch"), default=200)
    enabled = models.BooleanField(_("enabled"), default=True)
    # Where the poller is: maintained by the poller, shown in the admin.
    uidvalidity = models.BigIntegerField(_("UIDVALIDITY"), null=True, blank=True, editable=False)
    last_uid = models.BigIntegerField(_("last UID handled"), default=0, editable=False)
    status = models.CharField(_("poller status"), max_length=40, blank=True, editable=False)
    poller = models.CharField(_("held by"), max_length=120, blank=True, editable=False)
    heartbeat_at = models.DateTimeField(_("last heartbeat"), null=True, blank=True, editable=False)
    last_success_at = models.DateTimeField(_("last successful poll"), null=True, blank=True, editable=False)
    lag_seconds = models.FloatField(_("lag (seconds)"), null=True, blank=True, editable=False)
    last_error = models.TextField(_("last error"), blank=True, editable=False)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True, editable=False)
    error_count = models.PositiveIntegerField(_("errors since start"), default=0, editable=False)
    ingested_count = models.PositiveBigIntegerField(_("messages ingested"), default=0, editable=False)

    class Meta:
        verbose_name = _("mail folder")
        verbose_name_plural = _("mail folders")
        ordering = ["account__name", "name"]
        constraints = [models.UniqueConstraint(fields=["account", "name"], name="alerts_folder_unique")]

    def __str__(self) -> str:
        return f"{self.account} / {self.name}"


class IngestedMessage(models.Model):
    """One message as it arrived (mail, Maildir file or webhook body), kept whatever became of it."""

    origin = models.CharField(_("origin"), max_length=10, choices=Origin.choices)
    folder = models.ForeignKey(MailFolder, verbose_name=_("mail folder"), null=True, blank=True,
                               on_delete=models.SET_NULL, related_name="messages")
    uidvalidity = models.BigIntegerField(_("UIDVALIDITY"), null=True, blank=True)
    uid = models.BigIntegerField(_("UID"), null=True, blank=True)
    location = models.CharField(_("location"), max_length=255, blank=True,
                                help_text=_("Maildir file name or webhook source."))
    message_id = models.CharField(_("Message-ID"), max_length=300, blank=True)
    fingerprint = models.CharField(_("content fingerprint"), max_length=64)
    # sha256(Message-ID + fingerprint): one row per distinct message; null for duplicates and webhooks.
    identity = models.CharField(max_length=64, null=True, blank=True, unique=True, editable=False)
    duplicate_of = models.ForeignKey("self", verbose_name=_("duplicate of"), null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="duplicates")
    subject = models.CharField(_("subject"), max_length=500, blank=True)
    sender = models.CharField(_("sender"), max_length=300, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), db_index=True)
    stored_at = models.DateTimeField(_("stored at"), auto_now_add=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, db_index=True)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    error = models.TextField(_("error"), blank=True)
    alert_count = models.PositiveSmallIntegerField(_("alerts"), default=0)
    raw = models.BinaryField(_("raw message"), editable=False)
    raw_size = models.PositiveIntegerField(_("size (bytes)"), default=0)
    raw_truncated = models.BooleanField(_("raw message truncated"), default=False)
    reprocessed_at = models.DateTimeField(_("re-processed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("received message")
        verbose_name_plural = _("received messages")
        ordering = ["-received_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["folder", "uidvalidity", "uid"], condition=Q(folder__isnull=False),
                                    name="alerts_message_uid_unique"),
        ]

    def __str__(self) -> str:
        return self.subject or self.message_id or f"#{self.pk}"


class QuarantinedMessage(IngestedMessage):
    """Messages that looked like alerts but could not be read: the administrators' work list."""

    class Meta:
        proxy = True
        verbose_name = _("quarantined message")
        verbose_name_plural = _("quarantined messages")


class MessageAttachment(models.Model):
    message = models.ForeignKey(IngestedMessage, on_delete=models.CASCADE, related_name="attachments")
    filename = models.CharField(_("file name"), max_length=255, blank=True)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    size = models.PositiveIntegerField(_("size (bytes)"))
    data = models.BinaryField(_("content"))
    truncated = models.BooleanField(_("truncated"), default=False)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.filename or self.content_type
