"""Why a received mail is not an alert, or could not be read, in the UI's words.

The parser records reasons as short English codes ("auto-reply", "test notification") and errors as
technical text: they are stable for tests and logs. People read them through these labels (the
admin's message lists, the rule tester): a known reason in words, an error with a plain lead
sentence and the technical detail after it."""

from __future__ import annotations

import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

__all__ = ["reason_label", "error_label"]

NOT_ALERT_REASONS = {
    "auto-reply": gettext_lazy("Automatic reply (out of office)"),
    "delivery status notification": gettext_lazy("Delivery status notification (bounce)"),
    "delivery status notification (empty Return-Path)": gettext_lazy(
        "Delivery status notification (bounce, empty Return-Path)"),
    "read receipt": gettext_lazy("Read receipt"),
    "reply": gettext_lazy("A person's reply"),
    "calendar": gettext_lazy("Calendar invitation"),
    "spam": gettext_lazy("Spam"),
    "report": gettext_lazy("Report mail (daily, weekly or inspection report)"),
    "test mail": gettext_lazy("Test mail"),
    "test notification": gettext_lazy("Test notification of the monitoring tool"),
    "zabbix network discovery event (not monitored state)": gettext_lazy(
        "Zabbix network discovery event (no monitored state)"),
    "zabbix agent autoregistration event (not monitored state)": gettext_lazy(
        "Zabbix agent auto-registration event (no monitored state)"),
    "no monitored state": gettext_lazy("Reports no monitored state"),
}

# Leads of the parser's errors (quarantine), most specific first.
_ERROR_LEADS = (
    (re.compile(r"no host|without a host|without host|names no host|no instance/host|monitor name", re.I),
     gettext_lazy("No host name found in the mail")),
    (re.compile(r"is bound to", re.I), gettext_lazy("The mailbox or sender is bound to a tool whose format this is not")),
    (re.compile(r"too deeply nested", re.I), gettext_lazy("The mail is nested too deeply")),
    (re.compile(r"internal parser error", re.I), gettext_lazy("Internal error of the parser")),
    (re.compile(r"^alert \d+:", re.I), gettext_lazy("Alerts of the webhook payload could not be read")),
)


def reason_label(reason: str) -> str:
    """The reason a mail is not an alert, in words (a reason already in words is shown as it is)."""
    reason = (reason or "").strip()
    return str(NOT_ALERT_REASONS[reason]) if reason in NOT_ALERT_REASONS else reason


def error_label(error: str) -> str:
    """Why a mail could not be read: a plain lead, then the parser's own detail in brackets."""
    error = (error or "").strip()
    if not error:
        return ""
    lead = next((str(text) for pattern, text in _ERROR_LEADS if pattern.search(error)),
                _("The mail could not be read"))
    return f"{lead}（{error}）"
