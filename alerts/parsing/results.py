"""Result types of the alert e-mail parser (plain, frozen dataclasses; no Django)."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

__all__ = [
    "Alert",
    "Attachment",
    "ParseError",
    "ParseResult",
    "NON_ALERT_SOURCE",
    "SOURCES",
    "SEVERITIES",
    "STATUSES",
    "CATEGORIES",
]

# One name per tool the desk reads (the order is the UI's); "script" is in-house scripts,
# "other" what no tool claims.
SOURCES = ("nagios", "icinga", "centreon", "checkmk", "zabbix", "alertmanager", "prometheusalert",
           "grafana", "nightingale", "openfalcon", "librenms", "monit", "netdata", "uptimekuma", "oem",
           "script", "other")
SEVERITIES = ("critical", "major", "minor", "warning", "info")
STATUSES = ("problem", "recovery", "ack", "none")
CATEGORIES = ("os", "db", "web", "middleware", "mq", "app_process", "transaction", "hardware",
              "network", "other")
NON_ALERT_SOURCE = "other"


@dataclass(frozen=True)
class Attachment:
    """A non-body MIME part. ``data`` is truncated to the parser's attachment limit; ``size`` is
    the full decoded size."""

    filename: str
    content_type: str
    size: int
    data: bytes = field(repr=False)

    @property
    def truncated(self) -> bool:
        return len(self.data) < self.size


@dataclass(frozen=True)
class Alert:
    """One normalised alert.

    ``identity`` is how the tool itself tells its alerts apart beyond host and check (Alertmanager:
    the label set; Zabbix: the problem's event ID); ``dedup_key`` is ``source|host|check``, with
    ``|identity`` appended when there is one, so distinct alerts never fold together.
    ``needs_review`` is empty when the parser is sure, else why an operator should look (the state
    was not stated and the alert was read as a problem, say). ``severity_word`` is the tool's own
    level (``P2``, ``High``, ``严重``) before mapping, for per-source priority tables.
    ``check_label`` is the check as written (``Linux: CPU Load``), shown to people; ``check`` is its
    normalised form (lower-case), which de-duplication and matching use.
    """

    source: str
    host: str
    check: str
    severity: str
    status: str
    category: str
    dedup_key: str
    message: str
    fields: dict[str, str] = field(default_factory=dict, compare=False)
    identity: str = ""
    needs_review: str = ""
    severity_word: str = field(default="", compare=False)
    # The check as the tool wrote it (case kept), for display; `check` is normalised for matching.
    check_label: str = field(default="", compare=False)


@dataclass(frozen=True)
class ParseResult:
    """Everything the parser learnt from one raw message.

    Top-level ``host``/``check``/``severity``/``status``/``category``/``dedup_key`` describe the
    first alert, or carry the fixed non-alert values (``""``, ``info``, ``none``, ``other``).
    """

    is_alert: bool
    source: str
    alerts: list[Alert]
    subject: str
    sender: str
    message_id: str | None
    sent_at: datetime | None
    text: str
    html_present: bool
    attachments: list[Attachment]
    fingerprint: str
    errors: list[str]
    reason: str = ""

    @property
    def first(self) -> Alert | None:
        return self.alerts[0] if self.alerts else None

    @property
    def host(self) -> str:
        return self.alerts[0].host if self.alerts else ""

    @property
    def check(self) -> str:
        return self.alerts[0].check if self.alerts else ""

    @property
    def severity(self) -> str:
        return self.alerts[0].severity if self.alerts else "info"

    @property
    def status(self) -> str:
        return self.alerts[0].status if self.alerts else "none"

    @property
    def category(self) -> str:
        return self.alerts[0].category if self.alerts else "other"

    @property
    def dedup_key(self) -> str:
        return self.alerts[0].dedup_key if self.alerts else ""

    @property
    def sent_at_utc(self) -> str | None:
        """``sent_at`` as ``YYYY-MM-DDTHH:MM:SSZ`` (the manifest's form), or None."""
        if self.sent_at is None:
            return None

        return self.sent_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class ParseError(ValueError):
    """The message looks like an alert but cannot be turned into one (e.g. no host).

    ``result`` carries what was decoded so far (``is_alert`` true, ``alerts`` empty) so the
    pipeline can quarantine the message with its subject, sender and fingerprint.
    """

    def __init__(self, message: str, result: ParseResult | None = None) -> None:
        super().__init__(message)
        self.result = result
