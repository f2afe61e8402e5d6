"""Notification models: the delivery outbox and its templates, the on-duty roster, SLA policies
and clocks, and incident escalation chains."""

from notifications.models.delivery import (
    PENDING_STATUSES,
    Channel,
    Notification,
    NotificationStatus,
    NotificationTemplate,
    PendingNotice,
    ReceiptStatus,
)
from notifications.models.escalation import EscalationPolicy, EscalationRun, EscalationStep
from notifications.models.roster import Duty, DutyShift
from notifications.models.sla import SlaClock, SlaPolicy

__all__ = [
    "PENDING_STATUSES",
    "Channel",
    "Notification",
    "NotificationStatus",
    "NotificationTemplate",
    "PendingNotice",
    "ReceiptStatus",
    "Duty",
    "DutyShift",
    "EscalationPolicy",
    "EscalationStep",
    "EscalationRun",
    "SlaPolicy",
    "SlaClock",
]
