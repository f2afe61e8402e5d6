"""Uptime Kuma's SMTP notification mail (default subject and body: no custom template).

Follows louislam/uptime-kuma @ 6398a9581d1c3c427a7536559f47ccf45dac08b4 (2.5.3):

- ``server/model/monitor.js`` ``Monitor.sendNotification``: ``[<monitor name>] [✅ Up|🔴 Down] <heartbeat msg>``;
  ``sendCertNotificationByTargetDays``: ``[<monitor name>][<url>] <certType> certificate <CN> will expire in
  <n> days``.
- ``server/model/domain_expiry.js``: ``Domain name <domain> will expire in <n> days``.
- ``server/server.js``: the Test button sends ``<notification name> Testing`` (not an alert).
- ``server/notification-providers/smtp.js``: without a custom subject/body, the subject is the message and
  the body the message plus ``Time (<tz>): <local time>``.

The mail names no host, only the monitor: the monitor name is the host (it is what Uptime Kuma calls the
thing it watches); the check is ``availability`` (up/down), ``certificate expiry`` or ``domain expiry``.
"""
from __future__ import annotations

import re

from ..mime import MessageView
from ..results import Alert
from ..vocab import guess_category, one_line
from .base import NoHostError, NotAnAlert, make_alert

__all__ = ["NAME", "detect", "parse"]

NAME = "uptimekuma"

_BEAT_RE = re.compile(r"^\[(?P<name>[^\r\n]{1,200}?)\] \[(?P<status>✅ Up|🔴 Down)\] ?(?P<msg>[^\r\n]{0,2000})$")
_CERT_RE = re.compile(r"^\[(?P<name>[^\r\n\]]{0,200})\]\[(?P<url>[^\r\n\]]{0,500})\] (?P<type>[A-Za-z -]{1,30}) "
                      r"certificate (?P<cn>[^\r\n]{0,300}?) will expire in (?P<days>-?\d{1,6}) days$")
_DOMAIN_RE = re.compile(r"^Domain name (?P<domain>[^\s]{1,253}) will expire in (?P<days>-?\d{1,6}) days$")
_TIME_RE = re.compile(r"^Time \([^)\r\n]{0,64}\): [^\r\n]{0,40}$")


def _lines(msg: MessageView) -> tuple[str, list[str]]:
    subject = one_line(msg.subject, 2500)
    body = [line.strip() for line in msg.text[:6000].split("\n")[:20] if line.strip()]
    return subject, body


def _kind(msg: MessageView) -> tuple[str, re.Match[str] | None]:
    subject, body = _lines(msg)
    first = one_line(body[0], 2500) if body else ""
    for text in (subject, first):
        m = _BEAT_RE.match(text)
        if m:
            return "beat", m
    for text in (subject, first):
        m = _CERT_RE.match(text)
        if m:
            return "cert", m
    # The generic texts (domain expiry, test) only count when subject and body are the same message.
    same = bool(body) and len(body) == 1 and first == subject
    if same:
        m = _DOMAIN_RE.match(subject)
        if m:
            return "domain", m
        if subject.endswith(" Testing") and len(subject) <= 200:
            return "test", None
    return "", None


def detect(msg: MessageView) -> bool:
    return bool(_kind(msg)[0])


def parse(msg: MessageView) -> list[Alert]:
    kind, m = _kind(msg)
    if kind == "test":
        raise NotAnAlert("test notification")
    if m is None:
        return []
    if kind == "beat":
        name, word, text = m.group("name").strip(), m.group("status"), m.group("msg").strip()
        if not name:
            raise NoHostError("Uptime Kuma notification without a monitor name")
        up = word.endswith("Up")
        category = guess_category(name)
        if category == "other":
            category = guess_category(text)
        if category == "other":
            category = "web"
        fields = {"monitor": name, "status": word, "message": text}
        return [make_alert(NAME, name, "availability", None if up else "critical",
                           "recovery" if up else "problem", category, f"[{name}] [{word}] {text}", fields,
                           severity_word="Up" if up else "Down")]
    if kind == "cert":
        name = m.group("name").strip() or re.sub(r"^\w+://", "", m.group("url")).split("/")[0]
        if not name:
            raise NoHostError("Uptime Kuma certificate notice without a monitor name or URL")
        fields = {"monitor": name, "url": m.group("url"), "certificate": m.group("cn"),
                  "certificate type": m.group("type"), "days remaining": m.group("days")}
        return [make_alert(NAME, name, "certificate expiry", "warning", "problem", "web", m.group(0), fields,
                           identity=f"{m.group('type').strip()} certificate {m.group('cn').strip()}")]
    domain = m.group("domain")
    fields = {"domain": domain, "days remaining": m.group("days")}
    return [make_alert(NAME, domain, "domain expiry", "warning", "problem", "network", m.group(0), fields)]
