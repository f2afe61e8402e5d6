"""Prometheus Alertmanager mails.

Templates read (prometheus/alertmanager v0.25.0, commit 258fab7cdd551f2cf251ed0348f0ad7289aee789, the
version Debian's ``prometheus-alertmanager`` 0.25 ships):

* ``template/email.tmpl`` (generated from ``template/email.html``): ``email.default.subject`` (the
  ``__subject`` of ``template/default.tmpl``: ``[FIRING:n] <group values> (<common labels>)`` or
  ``[RESOLVED] ...``) and ``email.default.html``: ``[n] Firing`` / ``[n] Resolved`` sections, one
  ``Labels`` / ``Annotations`` block of ``name = value`` lines per alert, each alert in the section of
  its own state (a grouped mail mixes firing and resolved alerts).
* ``template/default.tmpl``: ``__text_alert_list`` (``Labels:`` / `` - name = value``) as used by a
  configured ``text:`` such as ``sns.default.message`` (``Alerts Firing:`` / ``Alerts Resolved:``).
* ``notify/email/email.go``: multipart/alternative, text part first, quoted-printable.

Identity is the whole label set (``vocab.label_identity``), as the webhook reader computes it, so a
webhook and a mail of one alert share a de-duplication key; ``host_from_labels`` is shared too.

Chinese templates that banks copy into ``alertmanager.yml`` (they replace ``email.default.html``;
the subject usually stays ``email.default.subject``) are read field by field:

* jacknotes/opsmonitor ``alertmanager/email.tmpl`` (commit 26c71aebb4d29bbd8f749c1f9f819979997eba5d):
  per alert ``状态：firing|resolved``, ``Job``, ``实例``, ``信息``, ``详情``, ``开始时间``, ``恢复时间``; subject
  ``[FIRING:n] <alertname> <severity>``.
* currycan/docker-swarm-prometheus ``alertmanager/template/email.tmpl`` (commit
  51a90a755ee34f694fe67ec95b6464df955b56b0): a table 告警程序/告警级别/告警类型/故障主机/告警主题/告警详情/
  触发时间 with no state column: the state comes from the subject, and when the subject's firing count
  does not match the rows the rows are problems flagged for review.
* qimulin/monitoring ``alertmanager/templates/email.tmpl`` (commit
  25079a8a20a543fcf70334a15bb3130a49927895): ``[告警] 故障触发`` / ``[恢复] 故障已恢复``, per alert
  级别/实例/Job/描述/详情/开始时间 and 恢复时间 only for resolved alerts.
* The widely pasted variants (告警程序/告警级别/告警类型/告警主机 or 故障主机/告警主题/告警详情/触发时间,
  ``告警状态``, ``主机标签`` listing every label, ``恢复时间``) use the same field names.

These templates show only some labels, so their identity is the labels they show (alertname, the
host field, job, severity) or, when a ``主机标签`` list is rendered, the full label set.
"""
from __future__ import annotations

import re

from ..mime import MAX_TEXT_CHARS, MessageView
from ..results import Alert
from ..state import UNSURE_STATE, read_state
from ..vocab import guess_category, label_identity, map_severity
from .base import NoHostError, dedupe, make_alert

__all__ = ["NAME", "detect", "parse", "host_from_instance", "host_from_labels"]

NAME = "alertmanager"

_SUBJECT = re.compile(r"^\[(?P<status>FIRING|RESOLVED)(?::(?P<n>\d+))?\]", re.I)
_LABEL_LINE = re.compile(r"^[ \t]*(?:[-*•][ \t]*)?(?P<k>[A-Za-z_][A-Za-z0-9_]{0,100})[ \t]*=[ \t]*(?P<v>.*?)[ \t]*$")
_HOST_LABELS = ("instance", "host", "hostname", "nodename", "node", "server", "target", "exported_instance")


# Field names of the Chinese templates (see the module docstring), to one meaning each.
_CN_FIELDS = {
    "告警类型": "name", "告警名称": "name", "告警规则": "name",
    "告警级别": "severity", "级别": "severity",
    "告警主机": "host", "故障主机": "host", "实例": "host", "主机": "host",
    "告警状态": "status", "状态": "status",
    "当前状态": "group_status",
    "告警主题": "summary", "信息": "summary", "描述": "summary",
    "告警详情": "detail", "详情": "detail",
    "触发时间": "start", "开始时间": "start", "故障时间": "start", "告警时间": "start",
    "恢复时间": "end", "结束时间": "end",
    "job": "job",
    "告警程序": "program",
    "主机标签": "labels",
}
_CN_KEY_RE = re.compile(r"^\s*(?P<k>" + "|".join(sorted(map(re.escape, _CN_FIELDS), key=len, reverse=True))
                        + r")\s*[:：]+\s*(?P<v>.*?)\s*$", re.I)
_TABLE_HEAD = ("告警程序", "告警级别", "告警类型", "故障主机", "告警主题", "告警详情", "触发时间")
_NO_TIME = re.compile(r"^\s*(?:0001-01-01|1970-01-01)")
_LABEL_PAIR = re.compile(r"\[\s*([A-Za-z_][A-Za-z0-9_]{0,100})\s*:\s*(.*?)\s*\]")
_MAX_RECORDS = 200


def _cn_like(msg: MessageView) -> bool:
    text = (msg.text or "")[:50000]
    keys = {m.group("k") for m in (_CN_KEY_RE.match(line) for line in text.split("\n")[:3000]) if m}
    if len({_CN_FIELDS[k if k in _CN_FIELDS else k.lower()] for k in keys} & {"name", "host", "severity", "status", "start", "end", "summary", "detail", "job"}) >= 3:
        return True
    return all(h in text for h in _TABLE_HEAD)


def detect(msg: MessageView) -> bool:
    if _SUBJECT.match(msg.subject.strip()) and _cn_like(msg):
        return True
    if _SUBJECT.match(msg.subject.strip()) and re.search(r"(?m)^\s*(?:[-*]\s*)?alertname\s*=", msg.text + "\n" + msg.html):
        return True
    if "alertmanager" in msg.sender.lower() and re.search(r"(?m)^\s*(?:[-*]\s*)?alertname\s*=", msg.text + "\n" + msg.html):
        return True
    return bool(re.search(r"View in AlertManager|Sent by AlertManager", msg.html[:20000], re.I)) and "alertname" in msg.html


def host_from_instance(value: str) -> str:
    """``host:9100`` -> ``host``; also strips a URL scheme/path and IPv6 brackets."""
    v = value.strip()
    v = re.sub(r"^[a-z][a-z0-9+.-]*://", "", v, flags=re.I)
    v = v.split("/", 1)[0]
    m = re.match(r"^\[([0-9A-Fa-f:.]+)\](?::\d+)?$", v)
    if m:
        return m.group(1)
    if v.count(":") == 1:
        v = re.sub(r":\d*$", "", v)
    return v


def host_from_labels(labels: dict[str, str]) -> str:
    """The host an alert's labels name (``instance`` first, without its port), or ``""``. The
    webhook reader uses it too, so a webhook and a mail of one alert name the same host."""
    for key in _HOST_LABELS:
        if labels.get(key):
            return host_from_instance(str(labels[key]))
    return ""


def _blocks(text: str, default_status: str) -> list[tuple[str, dict[str, str], dict[str, str]]]:
    """(status, labels, annotations) per alert block of a rendered notification."""
    out: list[tuple[str, dict[str, str], dict[str, str]]] = []
    status = default_status
    target: dict[str, str] | None = None
    for line in text.split("\n")[:5000]:
        low = line.strip().lower()
        if re.match(r"^(?:alerts\s+firing|\[\d+\]\s*firing)\b", low):
            status, target = "firing", None
            continue
        if re.match(r"^(?:alerts\s+resolved|\[\d+\]\s*resolved)\b", low):
            status, target = "resolved", None
            continue
        if re.match(r"^labels\s*:?$", low):
            if len(out) >= _MAX_RECORDS:
                break
            # Each block keeps the status of the section it starts in.
            out.append((status, {}, {}))
            target = out[-1][1]
            continue
        if re.match(r"^annotations\s*:?$", low):
            target = out[-1][2] if out else None
            continue
        if re.match(r"^source(?:\s*:|$)", low) and target is not None:
            target = None
            continue
        m = _LABEL_LINE.match(line)
        if m and target is not None and len(target) < 100:
            target.setdefault(m.group("k"), m.group("v")[:1000])
    if len(text) >= MAX_TEXT_CHARS - 1000 and out:
        out.pop()  # the text was cut: its last block may have lost labels
    return [b for b in out if b[1]]


def parse(msg: MessageView) -> list[Alert]:
    sm = _SUBJECT.match(msg.subject.strip())
    default_status = (sm.group("status").lower() if sm else "firing")
    blocks = _blocks(msg.plain, default_status) if msg.plain else []
    if not any("alertname" in b[1] for b in blocks):
        blocks = _blocks(msg.html or msg.text, default_status)
    alerts = []
    for status_word, labels, notes in blocks:
        name = labels.get("alertname", "")
        if not name:
            continue
        host = host_from_labels(labels)
        if not host:
            raise NoHostError(f"alertmanager alert {name[:100]!r} has no instance/host label")
        status = "recovery" if status_word == "resolved" else "problem"
        severity = map_severity(labels.get("severity") or labels.get("priority"))
        category = guess_category(name, labels.get("job"), labels.get("category"),
                                  notes.get("summary"))
        summary = notes.get("summary") or notes.get("description") or msg.subject
        fields = {f"label.{k}": v for k, v in labels.items()}
        fields.update({f"annotation.{k}": v for k, v in notes.items()})
        alerts.append(make_alert(NAME, host, name, severity, status, category, summary, fields,
                                 identity=label_identity(labels)))
    if not alerts and sm and _cn_like(msg):
        alerts = _parse_cn(msg, sm)
    return dedupe(alerts)


# --------------------------------------------------------------------------------------------
# Chinese templates
# --------------------------------------------------------------------------------------------

def _cn_records(text: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    """(mail-level fields, one dict per alert) from ``key: value`` lines; a key seen again in the
    current record starts the next record."""
    common: dict[str, str] = {}
    records: list[dict[str, str]] = []
    current: dict[str, str] = {}
    pending: str | None = None
    for line in text.split("\n")[:5000]:
        m = _CN_KEY_RE.match(line)
        if not m:
            if pending and line.strip():
                current[pending] = line.strip()[:1000]
                pending = None
            continue
        key = m.group("k")
        meaning = _CN_FIELDS.get(key, _CN_FIELDS.get(key.lower(), ""))
        value = m.group("v")[:1000]
        if meaning == "group_status":
            common[meaning] = value
            pending = None
            continue
        if meaning in current and meaning != "labels":
            records.append(current)
            current = {}
            if len(records) >= _MAX_RECORDS:
                break
        if meaning == "labels":
            current["labels"] = (current.get("labels", "") + " " + value)[:5000]
        else:
            current[meaning] = value
        pending = meaning if not value else None
    if current:
        records.append(current)
    if records and "name" in records[0] and not any("name" in r for r in records[1:]):
        # A mail-level alert name (告警名称 above the list) belongs to every alert.
        common["name"] = records[0]["name"]
    if records and records[0].keys() <= {"name"} and len(records) > 1:
        records = records[1:]
    return common, [r for r in records if r.get("host")]


def _cn_table(text: str) -> list[dict[str, str]]:
    """Rows of the 告警程序/告警级别/... table (one cell per line, rows separated by a blank line)."""
    blocks = [b.split("\n") for b in re.split(r"\n\s*\n", text[:200000])]
    meaning = {"告警程序": "program", "告警级别": "severity", "告警类型": "name", "故障主机": "host",
               "告警主题": "summary", "告警详情": "detail", "触发时间": "start", "恢复时间": "end"}
    head: list[str] | None = None
    rows = []
    for block in blocks[:_MAX_RECORDS + 20]:
        cells = [c.strip() for c in block if c.strip()]
        if not cells:
            continue
        if head is None:
            if all(h in cells for h in _TABLE_HEAD):
                head = cells
            continue
        if len(cells) == len(head):
            rows.append({meaning.get(h, h): c[:1000] for h, c in zip(head, cells, strict=True)})
    return rows


def _host_of_field(value: str) -> str:
    """``szhxdb02:192.0.2.22`` (hostname:host_ip) -> ``szhxdb02``; ``10.1.2.3:9100 /dev/sda1`` ->
    ``10.1.2.3``; otherwise like an ``instance`` label."""
    token = (value.strip().split() or [""])[0]
    m = re.match(r"^([A-Za-z][A-Za-z0-9_.-]*):(?:\d{1,3}\.){3}\d{1,3}$", token)
    if m:
        return m.group(1)
    return host_from_instance(token)


def _real_time(value: str | None) -> bool:
    return bool(value and value.strip() and not _NO_TIME.match(value))


def _parse_cn(msg: MessageView, sm: re.Match) -> list[Alert]:
    text = msg.text or ""
    common, records = _cn_records(text)
    if not records:
        records = _cn_table(text)
    if not records:
        return []
    subject_status = sm.group("status").lower()
    firing_count = int(sm.group("n")) if sm.group("n") else None
    subject_words = msg.subject.strip()[sm.end():].split()
    subject_name = (subject_words or [""])[0]
    # ``[FIRING:n] <alertname> <severity>`` (jacknotes/opsmonitor email.subject): the level of an
    # alert whose body shows none.
    subject_level = subject_words[1] if len(subject_words) == 2 and map_severity(subject_words[1]) else ""
    any_end = any(_real_time(r.get("end")) for r in records)
    # The same alert printed once without and once with a recovery time: templates that range
    # over all alerts in both sections do this; the mail then does not say which is which.
    seen: dict[tuple[str, str], set[bool]] = {}
    for r in records:
        seen.setdefault((r.get("name") or common.get("name", ""), r["host"]), set()).add(_real_time(r.get("end")))
    alerts = []
    for r in records:
        name = r.get("name") or common.get("name") or subject_name
        raw_host = r["host"]
        host = _host_of_field(raw_host)
        if not name:
            continue
        if not host:
            raise NoHostError(f"alertmanager alert {name[:100]!r} names no host")
        review = ""
        if r.get("status"):
            reading = read_state(r["status"])
            status, review = reading.status, ("" if reading.sure else UNSURE_STATE)
        elif len(seen[(r.get("name") or common.get("name", ""), raw_host)]) > 1:
            status, review = "problem", UNSURE_STATE
        elif _real_time(r.get("end")):
            status = "recovery"
        elif subject_status == "resolved":
            status = "recovery"
        elif firing_count is None or firing_count == len(records) or any_end:
            status = "problem"
        else:
            status, review = "problem", UNSURE_STATE
        level = re.sub(r"\s*级$", "", (r.get("severity") or "").strip())
        if not level and name == subject_name:
            level = subject_level
        shown = {"alertname": name, "instance" if not re.match(r"^[A-Za-z][A-Za-z0-9_.-]*:(?:\d{1,3}\.){3}\d{1,3}$", raw_host) else "host": raw_host}
        if r.get("job"):
            shown["job"] = r["job"]
        if level:
            shown["severity"] = level
        labels = dict(_LABEL_PAIR.findall(r.get("labels", "")))
        identity = label_identity(labels) if labels.get("alertname") else label_identity(shown)
        summary = r.get("summary") or r.get("detail") or msg.subject
        fields = {f"field.{k}": v for k, v in r.items()}
        alerts.append(make_alert(NAME, host, name, map_severity(level), status,
                                 guess_category(name, r.get("job"), r.get("summary")), summary, fields,
                                 identity=identity, needs_review=review, severity_word=level))
    return alerts
