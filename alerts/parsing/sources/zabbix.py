"""Zabbix notification mail (media type "Email" / "Email (HTML)" and action messages).

Templates followed (fixtures rendered from them: ``tests/fixtures/alert-mail/zabbix/gen.py``):

* Zabbix 6.x/7.x default media type messages, zabbix/zabbix ``create/src/data.tmpl`` table
  ``media_type_message`` (commit 001c85d3cf8a2f190f2eb3708dce9565f58f4b85): "Email" rows 1-5
  (``Problem: {EVENT.NAME}`` / ``Resolved in {EVENT.DURATION}: {EVENT.NAME}`` /
  ``Updated problem in {EVENT.AGE}: {EVENT.NAME}`` / ``Discovery: ...`` / ``Autoregistration: ...``)
  and "Email (HTML)" rows 11-15 (the same text in ``<b>``/``<br>`` markup). Body lines
  ``Problem started at`` / ``Problem has been resolved at``, ``Problem name:``, ``Host:``,
  ``Severity:``, ``Operational data:``, ``Original problem ID: {EVENT.ID}``; update mails
  ``{USER.FULLNAME} {EVENT.UPDATE.ACTION} problem at ...`` and ``Current problem status is ...``.
* Zabbix 3.4/4.0 default action messages, zabbix/zabbix ``frontends/php/include/defines.inc.php``
  (commit 65099e4d547c9b031a93071abed176855b65c7cc, 4.0.0alpha6): ``Problem: {TRIGGER.NAME}``,
  ``Resolved: {TRIGGER.NAME}``, ``Acknowledged: {TRIGGER.NAME}`` (3.4 acknowledgement:
  ``... acknowledged problem at {ACK.DATE} {ACK.TIME} with the following message:``).
* Zabbix 2.2-3.2 default action message, same file (2.2/3.x branches):
  ``{TRIGGER.STATUS}: {TRIGGER.NAME}`` with ``Trigger:``, ``Trigger status:``, ``Trigger severity:``,
  ``1. {ITEM.NAME1} ({HOST.NAME1}:{ITEM.KEY1}): {ITEM.VALUE1}`` and ``Original event ID: {EVENT.ID}``.
* Media type test, zabbix/zabbix ``ui/app/controllers/CControllerPopupMediatypeTestEdit.php``:
  ``Test subject`` / ``This is the test message from Zabbix`` -> not an alert ("test notification").
* The Chinese action template widely shared by Chinese ops teams (Kingserch/Job-accumulation
  ``zabbix/zabbix定义报警媒介.md``, commit ead825e8fcd8f51cdd7efa2670998d5020dbe350):
  ``故障{TRIGGER.STATUS},服务器:{HOSTNAME1}发生: {TRIGGER.NAME}故障!`` /
  ``恢复{TRIGGER.STATUS}, 服务器:{HOSTNAME1}: {TRIGGER.NAME}已恢复!`` with ``告警主机`` / ``告警时间`` /
  ``告警等级`` / ``告警信息`` / ``告警项目`` / ``问题详情`` / ``当前状态:{TRIGGER.STATUS}:...`` / ``事件ID``.

Readings:

* ``identity`` is the problem's event ID (``Original problem ID`` / ``Original event ID`` /
  ``事件ID``; update mails, which print none, take it from Zabbix's threading header
  ``In-Reply-To: <eventid.md5.mediatypeid.instance@zabbix.com>``), so two problems of one trigger
  stay apart and a recovery or update closes only its own problem. No ID in the mail: empty.
* Update mails: ``closed`` -> recovery; ``acknowledged`` -> ack; commented, unacknowledged,
  severity changed, (un)suppressed, rank changed -> ``none`` (a notice). Update mails carry no
  ``Host:`` line: the host is taken from the event name only when the name starts with it, names it
  after ``on`` (stock template style), or names a catalogue host; else the mail is quarantined.
* Discovery and autoregistration mails report inventory events, not monitored state: not alerts.
* Severity: Disaster/灾难/5 -> critical, High/严重/4 -> major, Average/一般严重/3 -> minor,
  Warning/警告/2 -> warning, Information/信息/1 and Not classified/未分类/0 -> info.
"""
from __future__ import annotations

import re

from ..fields import Field, first_value, parse_fields
from ..mime import MessageView
from ..results import Alert
from ..state import UNSURE_STATE, read_state
from ..vocab import HOST_TOKEN_RE, guess_category, map_severity
from .base import NoHostError, NotAnAlert, make_alert

__all__ = ["NAME", "detect", "parse", "zabbix_severity"]

NAME = "zabbix"

_MAX_TEXT = 30000
_SUBJECT = re.compile(
    r"^(?P<kind>Problem resolved|Problem|Resolved(?:\s+in\s+[^:]{1,40})?|Updated problem(?:\s+in\s+[^:]{1,40})?"
    r"|Acknowledged)\s*:\s*(?P<name>.+)$")
_SUBJECT_3X = re.compile(r"^(?P<status>PROBLEM|OK|RESOLVED|UNKNOWN)\s*:\s*(?P<name>.+)$")
_SUBJECT_ZH = re.compile(
    r"^(?P<kind>故障|恢复)\s*(?P<status>[A-Z]{2,10})?\s*[,，]\s*服务器\s*[:：]\s*(?P<host>[^\s:：,，]{1,255})\s*"
    r"(?:发生)?\s*[:：]\s*(?P<name>.+?)\s*(?:故障|已恢复)\s*[!！]?$")
_BODY_MARKERS = re.compile(
    r"(?m)^(?:Problem started at|Problem has been resolved|Problem name:|Original problem ID:|"
    r"Original event ID:|Trigger status:|Trigger severity:)")
_UPDATE_RE = re.compile(
    r"(?m)^(?P<user>[^\n]{1,120}?)\s+(?P<action>(?:(?:un)?acknowledged|commented|changed severity|closed|"
    r"(?:un)?suppressed|changed rank|ranked)[^\n]{0,200}?)\s+problem\s+at\s+\d")
_CURRENT_STATUS = re.compile(r"Current problem status(?: is|:)\s*(?P<status>[A-Z]{2,12})")
_IN_REPLY_TO = re.compile(r"<(?P<id>\d{1,20})\.[0-9a-f]{32}\.\d{1,20}\.[A-Za-z0-9]{1,64}@zabbix\.com>")
_TEST_BODY = "This is the test message from Zabbix"
_DISCOVERY_SUBJECT = re.compile(r"^Discovery:\s*(?:Up|Down|Discovered|Lost)\b")
_AUTOREG_SUBJECT = re.compile(r"^Auto\s?registration:\s*\S")

_HOST_KEYS = ("host", "告警主机", "主机名称", "主机名", "主机", "hostname", "host name", "故障主机")
_NAME_KEYS = ("problem name", "trigger", "trigger name", "告警信息", "告警名称", "问题名称", "事件名称",
              "触发器名称", "触发器", "故障名称", "event name")
_SEVERITY_KEYS = ("severity", "trigger severity", "告警等级", "告警级别", "严重性", "严重级别",
                  "严重程度", "事件级别", "级别")
_STATUS_KEYS = ("trigger status", "当前状态", "告警状态", "事件状态", "status", "状态")
_EVENT_ID_KEYS = ("original problem id", "original event id", "事件id", "event id", "eventid", "问题id", "告警id")
_TRIGGER_ID_KEYS = ("trigger id", "triggerid", "触发器id")
_CUSTOM_KEYS = ("告警主机", "告警信息", "告警名称", "问题名称", "故障名称", "触发器名称")

# Zabbix's own levels, highest 5 (Disaster) to 0 (Not classified), with the Chinese names banks
# give them (Administration > General > Trigger severity).
_SEVERITY = {
    "disaster": "critical", "灾难": "critical", "5": "critical",
    "high": "major", "严重": "major", "4": "major",
    "average": "minor", "一般严重": "minor", "一般": "minor", "3": "minor",
    "warning": "warning", "警告": "warning", "2": "warning",
    "information": "info", "info": "info", "信息": "info", "1": "info",
    "not classified": "info", "未分类": "info", "0": "info",
}


def zabbix_severity(word: str | None) -> str | None:
    """The desk's severity for a Zabbix level word or number (5 is the highest)."""
    if not word:
        return None
    w = re.sub(r"\s+", " ", word.strip().strip("[]【】()（）:：")).lower()
    return _SEVERITY.get(w) or map_severity(w)


def _zabbix_evidence(msg: MessageView) -> bool:
    headers = " ".join([msg.sender] + msg.header_all("in-reply-to") + msg.header_all("references")
                       + msg.header_all("x-mailer") + msg.header_all("message-id"))[:4000]
    return "zabbix" in headers.lower() or bool(
        re.search(r"(?i)\bzabbix\b|事件ID|Original (?:problem|event) ID", msg.text[:8000]))


def _is_test(msg: MessageView) -> bool:
    return msg.subject.strip() == "Test subject" and msg.text.strip()[:200] == _TEST_BODY


def _is_discovery(msg: MessageView, head: str) -> bool:
    return bool(_DISCOVERY_SUBJECT.match(msg.subject.strip())
                and re.search(r"(?m)^Discovery rule:", head) and re.search(r"(?m)^Device IP:", head))


def _is_autoreg(msg: MessageView, head: str) -> bool:
    return bool(_AUTOREG_SUBJECT.match(msg.subject.strip())
                and re.search(r"(?m)^Host name:", head) and re.search(r"(?m)^Agent port:", head))


def detect(msg: MessageView) -> bool:
    subject = msg.subject.strip()[:1000]
    head = msg.text[:8000]
    if _is_test(msg) or _is_discovery(msg, head) or _is_autoreg(msg, head):
        return True
    if _BODY_MARKERS.search(head):
        return True
    sm = _SUBJECT.match(subject)
    if sm and (_zabbix_evidence(msg) or _UPDATE_RE.search(head[:3000])):
        return True
    if _SUBJECT_3X.match(subject) and re.search(r"(?m)^Trigger\s*:", head):
        return True
    if _zabbix_evidence(msg) or _SUBJECT_ZH.match(subject):
        keys = {f.key for f in parse_fields(head, max_lines=200)}
        return any(k in keys for k in _CUSTOM_KEYS)
    return False


def _strip_ip_suffix(value: str) -> str:
    return re.sub(r"\s*[(（]\s*(?:\d{1,3}\.){3}\d{1,3}\s*[)）]\s*$", "", value).strip()


def _host_from_items(text: str) -> str | None:
    """``1. {ITEM.NAME1} ({HOST.NAME1}:{ITEM.KEY1}): {ITEM.VALUE1}`` (2.2-3.x default)."""
    m = re.search(r"(?m)^\s*1\.\s+(.{1,1000})$", text)
    if not m:
        return None
    hosts = [h for h in re.findall(r"\(([^\s():]{1,255}):", m.group(1)) if "UNKNOWN" not in h.upper()]
    return hosts[-1] if hosts else None


def _host_from_name(name: str, known_hosts: frozenset[str]) -> str | None:
    """The host an event name names: a catalogue host; else a host-like token the name starts
    with (``szgmapp01: ...``, ``gdrc-core-app04 批量...``) or names after ``on`` (``... on
    {HOST.NAME}``, the stock templates' style). Anything else is not trusted as a host."""
    lowered = name.lower()
    for host in sorted(known_hosts, key=len, reverse=True)[:5000]:
        if host and re.search(rf"(?<![a-z0-9_.-]){re.escape(host.lower())}(?![a-z0-9_-])", lowered):
            return host
    m = HOST_TOKEN_RE.match(name.strip())
    if m:
        return m.group(1)
    m = re.search(r"\bon\s+(\S{1,255})", name)
    if m:
        token = m.group(1).rstrip(".,:;")
        if HOST_TOKEN_RE.fullmatch(token):
            return token
    return None


def _event_id(fields: list[Field], msg: MessageView) -> str:
    value = first_value(fields, *_EVENT_ID_KEYS) or ""
    m = re.match(r"\s*(\d{1,20})\b", value)
    if m:
        return m.group(1)
    for header in (msg.header_all("in-reply-to") + msg.header_all("references"))[:10]:
        hm = _IN_REPLY_TO.search(header[:2000])
        if hm:
            return hm.group("id")
    return ""


def _update_status(action: str) -> str:
    a = action.lower()
    if re.search(r"\bclosed\b", a):
        return "recovery"
    if re.search(r"(?<!un)acknowledged", a):
        return "ack"
    return "none"


def parse(msg: MessageView) -> list[Alert]:
    text = msg.text[:_MAX_TEXT]
    head = text[:8000]
    subject = re.sub(r"\s+", " ", msg.subject.strip())[:1000]
    if _is_test(msg):
        raise NotAnAlert("test notification")
    if _is_discovery(msg, head):
        raise NotAnAlert("zabbix network discovery event (not monitored state)")
    if _is_autoreg(msg, head):
        raise NotAnAlert("zabbix agent autoregistration event (not monitored state)")

    fields = parse_fields(text, max_lines=300)
    sm = _SUBJECT.match(subject)
    sm3 = _SUBJECT_3X.match(subject)
    smz = _SUBJECT_ZH.match(subject)

    name = first_value(fields, *_NAME_KEYS)
    for m in (sm, sm3, smz):
        if not name and m:
            name = m.group("name")
    if not name:
        name = re.sub(r"^[\[【(（]?[^\]】)）:：]{0,12}[\]】)）:：]\s*", "", subject) or subject
    name = name.strip()[:500]

    kind = sm.group("kind").lower() if sm else ""
    um = _UPDATE_RE.search(text[:3000])
    action = um.group("action") if um else ""
    updated = kind.startswith(("updated", "acknowledged")) or bool(um and _CURRENT_STATUS.search(text[:5000]))
    status_value = (first_value(fields, *_STATUS_KEYS) or "").strip()
    status_word = re.split(r"[\s:：,，(（]", status_value, maxsplit=1)[0].upper() if status_value else ""
    needs_review = ""
    if updated:
        status = _update_status(action or ("acknowledged" if kind.startswith("acknowledged") else ""))
    elif kind.startswith(("resolved", "problem resolved")) or re.search(r"(?m)^Problem has been resolved", head):
        status = "recovery"
    elif sm3 and sm3.group("status") in ("OK", "RESOLVED"):
        status = "recovery"
    elif status_word in ("OK", "RESOLVED"):
        status = "recovery"
    elif status_word == "PROBLEM" or kind == "problem" or (sm3 and sm3.group("status") == "PROBLEM") \
            or re.search(r"(?m)^Problem started at", head):
        status = "problem"
    elif smz:
        status = "recovery" if smz.group("kind") == "恢复" and smz.group("status") in (None, "OK") else "problem"
    else:
        reading = read_state(subject, status_value)
        status = reading.status
        if not reading.sure:
            status, needs_review = "problem", UNSURE_STATE

    host = first_value(fields, *_HOST_KEYS)
    host = _strip_ip_suffix(host)[:255] if host else None
    if not host:
        host = _host_from_items(text)
    if not host and smz:
        host = smz.group("host")
    if not host:
        host = _host_from_name(name, msg.known_hosts)
    if not host:
        raise NoHostError("zabbix message without a host (no Host line, item, or host named by the event name)")

    severity_word = first_value(fields, *_SEVERITY_KEYS)
    severity = zabbix_severity(severity_word) if status == "problem" else "info"
    opdata = first_value(fields, "operational data", "问题详情", "告警详情", "当前值", "item values", "告警项目") or ""
    bare_name = re.sub(re.escape(host), " ", name, flags=re.I) if host else name
    category = guess_category(bare_name, opdata)

    identity = _event_id(fields, msg)
    details = {"event_name": name}
    if identity:
        details["event_id"] = identity
    trigger_id = first_value(fields, *_TRIGGER_ID_KEYS)
    if trigger_id:
        details["trigger_id"] = trigger_id[:40]
    for key in ("severity", "trigger severity", "告警等级", "problem duration", "operational data",
                "trigger status", "当前状态", "告警项目"):
        value = first_value(fields, key)
        if value:
            details[key] = value
    if action:
        details["update_action"] = action
    message = subject or name
    return [make_alert(NAME, host, name, severity, status, category, message, details, identity=identity,
                       needs_review=needs_review, severity_word=severity_word)]
