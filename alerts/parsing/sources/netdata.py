"""Netdata e-mail health notifications (``alarm-notify.sh``: the default HTML+text mail and the
``EMAIL_PLAINTEXT_ONLY`` mail; ``alarm-notify.sh test`` mails are test notifications).

Follows netdata/netdata ``src/health/notifications/alarm-notify.sh.in`` @
04b1cf54270c4e21c02e322e577e7e96d547c9ee:

- headers ``X-Netdata-Severity`` (critical, warning, clear), ``X-Netdata-Alert-Name``,
  ``X-Netdata-Chart``, ``X-Netdata-Classification``, ``X-Netdata-Host``, ``X-Netdata-Role``;
- subjects ``Critical|Warning, SUMMARY = VALUE, on HOST`` / ``Clear, SUMMARY (raised for ...), on
  HOST`` (default) and ``HOST is critical|needs attention|recovered - NAME - CHART`` (plain text);
- the text part: ``HOST is critical|needs attention|recovered``, ``Chart   : CHART``,
  ``Severity: CRITICAL|WARNING|Escalated to CRITICAL|Demoted to WARNING|Recovered from CRITICAL``,
  ``The host has N WARNING and N CRITICAL alarm(s) raised.`` (the other raised alarms are
  context, not alerts of this mail);
- the test (``alarm-notify.sh test``): alarm ``test_alarm`` on chart ``test.chart``, "this is a test
  alarm to verify notifications work", sent as WARNING, CRITICAL and CLEAR.

State: CLEAR is the recovery (Netdata's own recovery word); WARNING and CRITICAL are problems, the
escalation and the demotion included (the new status counts). Identity: Netdata runs one alarm
per alarm name and chart (``disk_space_usage`` on ``disk_space._oradata`` and on
``disk_space._archlog`` are two alerts), so ``check`` is the alarm name (underscores read as
spaces, as the subjects print it) and ``identity`` is the chart.
"""
from __future__ import annotations

import re

from ..mime import MessageView
from ..results import Alert
from ..state import UNSURE_STATE
from ..vocab import guess_category
from .base import NoHostError, NotAnAlert, make_alert

__all__ = ["NAME", "detect", "parse"]

NAME = "netdata"

_STATUS_MESSAGE = {"is critical": "CRITICAL", "needs attention": "WARNING", "recovered": "CLEAR"}
_HTML_SUBJECT = re.compile(r"^(?P<status>Critical|Warning|Clear), (?P<summary>.+), on (?P<host>\S+)\s*$")
_PLAIN_SUBJECT = re.compile(r"^(?P<host>\S+) (?P<msg>is critical|needs attention|recovered) - (?P<name>.+) - "
                            r"(?P<chart>\S+)\s*$")
_FIRST_LINE = re.compile(r"^(?P<host>\S+) (?P<msg>is critical|needs attention|recovered)\s*$")
_FIELD = re.compile(r"^(?P<k>Chart|Severity|Source|Date|URL)\s*:\s*(?P<v>.*?)\s*$")
_FOOTER = re.compile(r"The host has \d+ WARNING and \d+ CRITICAL alarm\(s\) raised\.")
_SEVERITY = re.compile(r"^(?:(?P<rec>Recovered from) |(?:Escalated|Demoted) to )?(?P<st>CRITICAL|WARNING|CLEAR)\b")
_TEST_INFO = "this is a test alarm to verify notifications work"


def _lines(msg: MessageView) -> list[str]:
    return [line.rstrip("\r") for line in (msg.plain or msg.text)[:50000].split("\n")[:300]]


def _fields(lines: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in lines[:60]:
        m = _FIELD.match(line.strip())
        if m and m.group("k").lower() not in out:
            out[m.group("k").lower()] = m.group("v")[:2000]
    return out


def _header(msg: MessageView, name: str) -> str:
    return re.sub(r"\s+", " ", msg.header(name) or "").strip()[:500]


def detect(msg: MessageView) -> bool:
    if msg.header("x-netdata-severity") is not None or msg.header("x-netdata-alert-name") is not None:
        return True
    head = (msg.plain or msg.text)[:50000]
    if not _FOOTER.search(head):
        return False
    lines = _lines(msg)
    fields = _fields(lines)
    return "chart" in fields and "severity" in fields and bool(re.search(r"(?m)^Notification generated on \S", head))


def parse(msg: MessageView) -> list[Alert]:
    lines = _lines(msg)
    fields = _fields(lines)
    subject = re.sub(r"\s+", " ", msg.subject.strip())[:1000]
    html_subject, plain_subject = _HTML_SUBJECT.match(subject), _PLAIN_SUBJECT.match(subject)
    first = next((_FIRST_LINE.match(line.strip()) for line in lines[:10] if _FIRST_LINE.match(line.strip())), None)

    name = _header(msg, "x-netdata-alert-name") or (plain_subject.group("name") if plain_subject else "")
    chart = _header(msg, "x-netdata-chart") or fields.get("chart", "") or (
        plain_subject.group("chart") if plain_subject else "")
    if name == "test_alarm" and chart == "test.chart" or _TEST_INFO in "\n".join(lines[:20]):
        raise NotAnAlert("test notification")

    host = _header(msg, "x-netdata-host").split(" ")[0] or (first.group("host") if first else "") or (
        plain_subject.group("host") if plain_subject else "") or (html_subject.group("host") if html_subject else "")
    if not host:
        raise NoHostError("netdata notification without a host")

    # Status: the header, then the Severity line, then the text's first line or the subject.
    status_word = _header(msg, "x-netdata-severity").upper()
    severity_line = fields.get("severity", "")
    sm = _SEVERITY.match(severity_line)
    if status_word not in ("CRITICAL", "WARNING", "CLEAR"):
        if sm:
            status_word = "CLEAR" if sm.group("rec") else sm.group("st")
        elif first or plain_subject:
            status_word = _STATUS_MESSAGE[(first or plain_subject).group("msg")]
        elif html_subject:
            status_word = html_subject.group("status").upper()
    review = ""
    if status_word == "CLEAR":
        status, severity = "recovery", None
    elif status_word in ("CRITICAL", "WARNING"):
        status, severity = "problem", status_word.lower()
    else:
        status, severity, review = "problem", None, UNSURE_STATE

    check = (name or "").replace("_", " ").strip()
    if not check:
        summary = html_subject.group("summary") if html_subject else ""
        check = re.split(r" = | \(", summary, maxsplit=1)[0].strip() or chart
    if not check:
        raise NoHostError("netdata notification without an alarm name")
    category = guess_category(check, chart)
    alarm_line = next((line.strip() for line in lines[1:8] if line.strip() and not _FIRST_LINE.match(line.strip())), "")
    message = f"{host} {({'CRITICAL': 'is critical', 'WARNING': 'needs attention', 'CLEAR': 'recovered'}).get(status_word, '')}"
    message = f"{message.strip()}: {alarm_line or subject}"
    details = {"chart": chart, "status": status_word}
    for key in ("severity", "date", "source"):
        if fields.get(key):
            details[key] = fields[key]
    classification = _header(msg, "x-netdata-classification")
    if classification:
        details["classification"] = classification
    return [make_alert(NAME, host, check, severity, status, category, message, details,
                       identity=chart, needs_review=review, severity_word=status_word.lower() or None)]
