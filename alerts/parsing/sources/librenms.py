"""LibreNMS alert mails (the "Default Alert Template" through the mail transport).

Follows librenms/librenms:

- ``database/seeders/DefaultAlertTemplateSeeder.php`` @ f31ea70b1ab18d2c5ac3fa3d5ae16a458d058515:
  the default body -- title, ``Severity:``, `` Time elapsed:`` (recoveries), ``Timestamp:``,
  ``Unique-ID:``, ``Rule:``, `` Faults:`` with ``  #N: k = v; ...`` lines, ``Alert sent to:``.
  Blade drops the newline after its ``@if``/``@endif`` tags, so the mail really reads
  ``Rule:  NAME  Faults:`` and `` Time elapsed: 12m 3s Timestamp: ...``.
- ``LibreNMS/Alert/Template.php`` (``bladeTitle``) and ``LibreNMS/Alert/RunAlerts.php`` @
  98c3efebd12c66521a7a7964c13306341b3be888 (``describeAlert``): titles ``Alert for device DEVICE -
  RULE`` (active; suffixed ``Has been acknowledged``/``got acknowledged``, ``Has worsened``/``got
  worse``, ``Has improved``/``got better``, ``changed``) and ``Device DEVICE recovered from RULE``.
- ``LibreNMS/Alert/Transport/Mail.php`` @ 20b4215204d2494430195e5bac306fc3b2d1fc47: the title is
  the mail subject, plain text, ``X-Mailer: LibreNMS``.

``Severity:`` is the rule's level and stays on a recovery (a recovery of a critical rule still
says ``Severity: critical``): the state comes from the title. Worse/better are still problems.

Identity: LibreNMS keeps one alert per rule and device, so ``check`` is the rule name and no
identity is added. ``Unique-ID`` is the alert_log row of this one notification (a recovery or an
acknowledgement gets a new one), so it is kept as a field, not as the identity.
"""
from __future__ import annotations

import re

from ..mime import MessageView
from ..results import Alert
from ..state import UNSURE_STATE
from ..vocab import guess_category, map_severity
from .base import NoHostError, make_alert

__all__ = ["NAME", "detect", "parse"]

NAME = "librenms"

_SUFFIX = (r"Has been acknowledged|got acknowledged|Has worsened|got worse|Has improved|got better|"
           r"changed")
_ALERT_TITLE = re.compile(rf"^Alert for device (?P<device>\S+) - (?P<rule>.*?)(?:\s+(?P<suffix>{_SUFFIX}))?\s*$")
_RECOVERY_TITLE = re.compile(r"^Device (?P<device>\S+) recovered from (?P<rule>.*?)\s*$")
_FIELD = re.compile(r"^\s*(?P<k>Severity|Timestamp|Unique-ID|Rule|Time elapsed):[ \t]*(?P<v>.*?)[ \t]*$")
_NETWORK = re.compile(r"交换机|路由器|防火墙|端口|链路|专线|(?<![A-Za-z])(?:ports?|interfaces?|bgp|ospf|links?|"
                      r"switch(?:es)?|routers?|firewalls?)(?![A-Za-z])", re.I)
_FAULT = re.compile(r"^\s*#(?P<n>\d{1,4}):\s*(?P<v>.*)$")


def _lines(msg: MessageView) -> list[str]:
    return [line.rstrip("\r") for line in (msg.plain or msg.text)[:50000].split("\n")[:400]]


def _title(msg: MessageView, lines: list[str]) -> tuple[re.Match[str] | None, str]:
    first = next((line.strip() for line in lines[:5] if line.strip()), "")
    for text in (first, re.sub(r"\s+", " ", msg.subject.strip())):
        m = _ALERT_TITLE.match(text) or _RECOVERY_TITLE.match(text)
        if m:
            return m, text
    return None, first


def _fields(lines: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in lines[:60]:
        # `` Time elapsed: 12m 3s Timestamp: ...`` share one line on a recovery.
        for part in re.split(r"\s+(?=Timestamp:)", line.strip()):
            m = _FIELD.match(part)
            if m and m.group("k").lower() not in out:
                out[m.group("k").lower()] = m.group("v")[:1000]
    return out


def detect(msg: MessageView) -> bool:
    lines = _lines(msg)
    fields = _fields(lines)
    has_body = "severity" in fields and "unique-id" in fields and "rule" in fields
    title, _ = _title(msg, lines)
    if has_body and title is not None:
        return True
    mailer = (msg.header("x-mailer") or "").strip().lower().startswith("librenms")
    return mailer and (has_body or title is not None)


def parse(msg: MessageView) -> list[Alert]:
    lines = _lines(msg)
    fields = _fields(lines)
    title, title_text = _title(msg, lines)
    rule = re.sub(r"\s+Faults:\s*$", "", fields.get("rule", "")).strip()
    faults = [m.group("v").strip() for m in (_FAULT.match(line) for line in lines[:400]) if m][:50]
    review = ""
    if title is not None and title.re is _RECOVERY_TITLE:
        status = "recovery"
    elif title is not None:
        suffix = (title.group("suffix") or "").lower()
        status = "ack" if "acknowledged" in suffix else "problem"
    else:
        # A customised title: the body still says which rule fired, but not whether it cleared.
        status, review = "problem", UNSURE_STATE
    device = title.group("device") if title is not None else ""
    if not device:
        raise NoHostError("librenms alert without a device in its title")
    check = rule or (title.group("rule").strip() if title is not None else "")
    if not check:
        raise NoHostError("librenms alert without a rule")
    word = fields.get("severity", "")
    severity = map_severity(word) if word.lower() != "ok" else "info"
    # Network gear first: the shared vocabulary reads 交换 (switch) as swap space.
    category = "network" if _NETWORK.search(check) else guess_category(check)
    if category == "other":
        category = "network"  # LibreNMS watches network devices: their reachability, ports, links
    details = {"title": title_text}
    for key in ("severity", "timestamp", "unique-id", "time elapsed"):
        if fields.get(key):
            details[key] = fields[key]
    for i, fault in enumerate(faults[:20], 1):
        details[f"fault.{i}"] = fault
    message = title_text + (f" ({faults[0]})" if faults else "")
    return [make_alert(NAME, device, check, severity, status, category, message, details,
                       needs_review=review, severity_word=word or None)]
