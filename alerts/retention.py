"""Retention of received alert mail: after OPSDESK_RETENTION_RAW_MAIL_DAYS the raw bytes go.

What is purged is the stored copy of what arrived (`IngestedMessage.raw`, a mail or a webhook
body) and the attachments decoded from it; the row itself stays, for three reasons read from the
models: it is the poller's memory of what it has handled (the folder/UIDVALIDITY/UID constraint
and the Message-ID+content identity that keep a re-scanned mailbox from ingesting old mail
again), it is what alerts and rule changes link to (`Alert.message`, `RuleChange.message`), and
`/metrics` counts mail by origin and outcome from these rows (deleting them would make counters
go down). Without its raw bytes a row is a few hundred bytes: subject, sender, dates, outcome.

A purged row has an empty `raw` and `raw_truncated` set, so the teaching pages and re-processing
say "the stored copy is truncated; it cannot be read again" instead of reading nothing; `raw_size`
keeps the size the message had.

Never purged: quarantined mail (the administrators' work list, re-read once a rule teaches the
desk to read it), mail an unresolved incident was read from (an operator may still correct its
reading), and mail a rule was taught from (the rule change's evidence).

Each batch is one short transaction that locks its rows with SKIP LOCKED, and a purged row no
longer matches, so two purges at once (two beat machines, a manual run) split the work.
"""

from __future__ import annotations

import datetime as dt
import logging

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone

from alerts.choices import Outcome
from alerts.models import Alert, IngestedMessage, MessageAttachment, RuleChange
from opsdesk.batches import in_batches
from workflow.incidents import IncidentState

__all__ = ["raw_mail_expired", "raw_mail_purge"]

log = logging.getLogger("opsdesk.alerts")


def raw_mail_expired(*, now: dt.datetime | None = None, days: int | None = None) -> QuerySet[IngestedMessage]:
    """Messages whose raw bytes are past retention and needed by nobody (empty when days is 0)."""
    days = settings.OPSDESK_RETENTION_RAW_MAIL_DAYS if days is None else days
    if days <= 0:
        return IngestedMessage.objects.none()
    cutoff = (now or timezone.now()) - dt.timedelta(days=days)
    needed_by_incident = Alert.objects.filter(message=OuterRef("pk"), incident__isnull=False).exclude(
        incident__state=IncidentState.RESOLVED)
    taught_from = RuleChange.objects.filter(message=OuterRef("pk"))
    return (IngestedMessage.objects.order_by()
            .filter(received_at__lt=cutoff)
            .exclude(raw=b"")
            .exclude(outcome=Outcome.QUARANTINED)
            .exclude(Exists(needed_by_incident))
            .exclude(Exists(taught_from)))


def raw_mail_purge(*, now: dt.datetime | None = None, days: int | None = None, batch_size: int | None = None,
                   dry_run: bool = False) -> int:
    """Drop the raw bytes and attachments of expired messages, batch by batch; returns how many
    messages were (with dry_run: would be) purged."""
    def drop_raw_copy(pks: list) -> int:
        MessageAttachment.objects.filter(message_id__in=pks).delete()
        return IngestedMessage.objects.filter(pk__in=pks).update(raw=b"", raw_truncated=True)

    purged = in_batches(raw_mail_expired(now=now or timezone.now(), days=days), drop_raw_copy,
                        batch_size=batch_size, dry_run=dry_run)
    if purged and not dry_run:
        log.info("retention: dropped the raw copy of %d alert messages", purged)
    return purged
