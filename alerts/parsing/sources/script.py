"""In-house monitoring scripts and programs (AIX/HP-UX/Linux shell, Perl, Java).

Mostly the data centre's key/value format (``告警级别：严重`` / ``主机名称：SZHXDB01`` /
``监控项目：文件系统使用率`` / ``监控对象：/oraarch``), with full-width or ASCII colons, plus ad-hoc
English one-liners. The check is ``kind`` or ``kind:object`` from the README vocabulary; a mail
reporting several objects (two tablespaces, three file systems) yields several alerts, each with its
own state when the mail gives one per object (a status line per block, a state column per row).

State and priority follow the general rules of ``alerts/parsing/state.py``: in a transition
(``OK -> CRIT``, ``从 正常 变为 异常``) the new state counts; a recovery needs a recovery word or state,
and a text naming both a problem and a recovery without a transition is not one; with no evidence at all
the alert is a problem flagged ``needs_review`` (``state.UNSURE_STATE``). Priority codes (P1, S2, 紧急,
numeric levels) map through ``vocab.map_severity``; a priority code or a bracketed tag is never the host.
The conventions (``告警级别：``/``主机名称：`` key/value lines, ``[级别][系统][主机]`` subjects) are those
of the in-house scripts described in ``tests/fixtures/alert-corpus/README.md``.
"""
from __future__ import annotations

import re

from ..fields import Field, all_values, first_value, parse_fields
from ..mime import MessageView
from ..results import Alert
from ..state import UNSURE_STATE, map_priority, new_state, read_state
from ..vocab import (
    HOST_TOKEN_RE,
    OBJECTLESS_KINDS,
    category_for_kind,
    guess_category,
    guess_kind,
    map_severity,
    status_from_word,
)
from .base import NoHostError, dedupe, make_alert

__all__ = ["NAME", "detect", "parse", "find_host", "subject_tags"]

NAME = "script"

HOST_KEYS = ("主机名称", "主机名", "主机", "告警主机", "服务器名称", "服务器名", "设备名称", "机器名",
             "hostname", "host name", "host", "system", "node name", "nodename")
IP_KEYS = ("主机地址", "主机ip", "服务器ip", "服务器地址", "ip地址", "ip", "ip address", "host ip", "address")
LEVEL_KEYS = ("告警级别", "告警等级", "级别", "等级", "严重级别", "严重程度", "事件级别", "level",
              "severity", "alert level", "priority", "优先级")
STATUS_KEYS = ("告警状态", "当前状态", "事件状态", "状态", "status")
ITEM_KEYS = ("监控项目", "监控项", "检查项", "检查项目", "告警项目", "告警类型", "监控指标", "监控类型",
             "item", "check", "metric", "monitor item", "check item", "事件类型")
OBJECT_KEYS = ("监控对象", "告警对象", "对象", "object", "resource", "资源名称", "资源")
DESC_KEYS = ("告警描述", "告警内容", "描述", "告警信息", "详情", "description", "message", "detail",
             "summary")

_KIND_KEYS: dict[str, tuple[str, ...]] = {
    "filesystem": ("文件系统", "挂载点", "mount point", "mountpoint", "filesystem", "file system", "fs"),
    "inode": ("文件系统", "挂载点", "mount point", "mountpoint", "filesystem", "file system", "fs"),
    "tablespace": ("表空间", "表空间名", "表空间名称", "tablespace", "tablespace name", "dbspace"),
    "db_instance": ("数据库", "数据库名", "数据库名称", "实例", "实例名", "database", "db", "instance", "sid"),
    "db_lock": ("数据库", "数据库名", "数据库名称", "实例", "实例名", "database", "db", "instance", "sid"),
    "db_sessions": ("数据库", "数据库名", "数据库名称", "实例", "实例名", "database", "db", "instance", "sid"),
    "db_log": ("数据库", "数据库名", "数据库名称", "实例", "实例名", "database", "db", "instance", "sid"),
    "web_server": ("server", "server name", "服务器", "服务名", "应用服务器", "实例", "instance"),
    "jvm_heap": ("server", "server name", "服务器", "服务名", "应用服务器", "jvm", "实例", "instance"),
    "web_threads": ("server", "server name", "服务器", "服务名", "应用服务器", "实例", "instance"),
    "web_url": ("url", "检测地址", "页面", "地址", "uri", "path"),
    "tuxedo_server": ("服务名", "服务", "server", "server name", "进程名", "tuxedo服务"),
    "tuxedo_queue": ("队列", "队列名", "队列名称", "queue", "queue name"),
    "mq_queue_depth": ("队列名称", "队列名", "队列", "queue", "queue name"),
    "mq_channel": ("通道名称", "通道名", "通道", "channel", "channel name"),
    "mq_qmgr": ("队列管理器", "队列管理器名称", "qmgr", "queue manager"),
    "process": ("进程名", "进程名称", "进程", "process", "process name"),
    "txn_success_rate": ("渠道代码", "渠道", "渠道号", "交易码", "交易代码", "交易渠道", "channel", "txn code"),
    "txn_volume": ("渠道代码", "渠道", "渠道号", "交易码", "交易代码", "交易渠道", "channel", "txn code"),
    "txn_response_time": ("渠道代码", "渠道", "渠道号", "交易码", "交易代码", "交易渠道", "channel", "txn code"),
    "hw": ("资源", "资源名称", "设备", "设备名", "resource name", "device", "部件", "硬件路径", "hardware path"),
    "ping": ("目标", "目标地址", "target", "对端", "对端地址"),
    "nic": ("网卡", "网卡名称", "接口", "interface", "网口", "nic"),
}
_TOKEN = r"([A-Za-z0-9_$#][A-Za-z0-9_.$#:/-]*)"
_SUBJECT_OBJECT: dict[str, str] = {
    "process": r"(?:process(?:es)?|进程)\s*[:：]?\s*" + _TOKEN,
    "filesystem": r"(/[A-Za-z0-9_./-]*)",
    "inode": r"(/[A-Za-z0-9_./-]*)",
    "tuxedo_server": r"(?:服务|server)\s*" + _TOKEN,
    "tuxedo_queue": r"(?:队列|queue)\s*" + _TOKEN,
    "mq_queue_depth": r"(?:队列|queue)\s*" + _TOKEN,
    "mq_channel": r"(?:通道|channel)\s*" + _TOKEN,
    "mq_qmgr": r"(?:队列管理器|qmgr|queue manager)\s*" + _TOKEN,
    "tablespace": r"(?:表空间|tablespace)\s*" + _TOKEN,
    "db_instance": r"(?:数据库|实例|database|instance)\s*" + _TOKEN,
    "db_lock": r"(?:数据库|实例|database|instance)\s*" + _TOKEN,
    "db_sessions": r"(?:数据库|实例|database|instance)\s*" + _TOKEN,
    "db_log": r"(?:数据库|实例|database|instance)\s*" + _TOKEN,
    "web_server": r"(?:服务器|server)\s*" + _TOKEN,
    "jvm_heap": r"(?:服务器|server)\s*" + _TOKEN,
    "web_threads": r"(?:服务器|server)\s*" + _TOKEN,
    "web_url": r"(/[A-Za-z0-9_./-]+)",
    "txn_success_rate": r"([A-Za-z0-9]+)\s*渠道|(?:渠道|channel)\s*" + _TOKEN,
    "txn_volume": r"([A-Za-z0-9]+)\s*渠道|(?:渠道|channel)\s*" + _TOKEN,
    "txn_response_time": r"([A-Za-z0-9]+)\s*渠道|(?:渠道|channel)\s*" + _TOKEN,
    "hw": r"((?:hdisk|fan|psu|power|cpu|mem|ent|fcs|scsi)\d+|\d+(?:/\d+){2,}(?:\.[0-9A-Fa-fx]+)*)",
    "ping": r"ping\s+" + _TOKEN,
    "nic": r"((?:ent|eth|en|bond|lan)\d+)",
}
_TABLE_HEADERS: dict[str, tuple[str, ...]] = {
    "tablespace": ("tablespace_name", "tablespace", "tbs_name", "tablespace name", "表空间", "表空间名",
                   "表空间名称", "dbspace", "name"),
    "filesystem": ("filesystem", "文件系统", "mounted", "挂载点", "mount"),
    "inode": ("filesystem", "文件系统", "mounted", "挂载点", "mount"),
    "mq_queue_depth": ("queue", "queue_name", "队列", "队列名", "队列名称"),
    "process": ("process", "进程", "进程名", "process_name"),
}
_ALERT_WORDS = re.compile(r"告警|报警|预警|故障|异常|错误|失败|超过|超出|低于|宕|不可用|不存在|"
                          r"(?<![A-Za-z])(?:alert|alarm|error|fail(?:ed|ure)?|down|critical|warning|"
                          r"not found|not running|exceed(?:ed|s)?|threshold)(?![A-Za-z])", re.I)
_HOSTISH = r"[A-Za-z0-9][A-Za-z0-9_.-]*[A-Za-z0-9]"
_STRONG_RECOVERY = re.compile(r"(?<!未)(?<!尚未)(?:已恢复|恢复正常|告警解除|已解除)|(?<![A-Za-z])(?:RESOLVED|RECOVERED)(?![A-Za-z])")
_TAG_RE = re.compile(r"[\[【]([^\]】\[【]{1,40})[\]】]")


def subject_tags(subject: str) -> list[str]:
    return [t.strip() for t in _TAG_RE.findall(subject)]


def _valid_host(token: str | None) -> str | None:
    if not token:
        return None
    token = token.strip().rstrip(".")
    if not token or len(token) > 253:
        return None
    if re.fullmatch(r"(?:\d{1,3}\.){3}\d{1,3}", token):
        return token
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", token) and re.search(r"[A-Za-z]", token):
        return token
    return None


def _host_of_value(value: str | None) -> str | None:
    if not value:
        return None
    m = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9_.-]*)", value)
    return _valid_host(m.group(1)) if m else None


def find_host(fields: list[Field], subject: str) -> tuple[str | None, int]:
    """(host, line of the field it came from or -1): host fields, else the subject, else an IP
    field."""
    for key in HOST_KEYS:
        for f in fields:
            if f.key == key:
                host = _host_of_value(f.value)
                if host:
                    return host, f.line
    for tag in subject_tags(subject):
        if HOST_TOKEN_RE.fullmatch(tag) and map_severity(tag) is None:
            return tag, -1
    # "HOST: ..." at the start, then "on HOST" / "主机HOST", then the first host-like token.
    for pattern in (rf"^\s*({_HOSTISH})\s*[:：]", rf"(?:\bon|\bhost|主机|服务器)\s*[:：]?\s*({_HOSTISH})"):
        m = re.search(pattern, subject, re.I)
        if m and HOST_TOKEN_RE.fullmatch(m.group(1)) and map_priority(m.group(1)) is None:
            return m.group(1), -1
    for m in HOST_TOKEN_RE.finditer(_TAG_RE.sub(" ", subject)):
        if map_priority(m.group(1)) is None:
            return m.group(1), -1
    for key in IP_KEYS:
        for f in fields:
            if f.key == key:
                m = re.match(r"\s*((?:\d{1,3}\.){3}\d{1,3})", f.value)
                if m:
                    return m.group(1), f.line
    return None, -1


def detect(msg: MessageView) -> bool:
    fields = parse_fields(msg.text[:20000], max_lines=400)
    host, _ = find_host(fields, msg.subject)
    keys = {f.key for f in fields}
    has_level = bool(keys & set(LEVEL_KEYS)) or any(
        map_severity(t) or status_from_word(t) for t in subject_tags(msg.subject))
    structured = has_level or bool(keys & set(ITEM_KEYS)) or bool(keys & set(OBJECT_KEYS))
    # A host plus a topic is not enough ("SZHXDB01 文件系统扩容申请"): the message must also say
    # something is wrong or has recovered.
    worded = bool(_ALERT_WORDS.search(msg.subject)) or status_from_word(msg.subject) is not None \
        or _subject_severity(msg.subject) is not None
    if host:
        return structured or worded
    # No host: only claim the message (and fail loudly) when it clearly is a script alert.
    return has_level and guess_kind(first_value(fields, *ITEM_KEYS), msg.subject) is not None


def _clean_object(value: str, kind: str) -> str | None:
    v = value.strip()
    if kind in ("filesystem", "inode", "web_url"):
        m = re.search(r"(/[^\s,，;；()（）]*)", v)
        return m.group(1) if m else None
    # Drop leading words that name the kind (进程 gmagent, Server XDServer1, 队列 QL.X).
    stripped = re.sub(r"^(?:[^\x00-\x7f]+|process|server|queue|channel|tablespace|database|instance)\s*[:：]?\s*",
                      "", v, flags=re.I)
    m = re.match(_TOKEN, stripped)
    if m:
        return m.group(1).rstrip(".:")
    # An object written in Chinese only (核心库): keep it as written.
    m = re.match(r"[^\s,，;；()（）:：]{1,40}", v)
    return m.group(0) if m and not v.isascii() else None


def _split_objects(value: str, kind: str) -> list[str]:
    pieces = [p for p in re.split(r"[,，、;；]\s*|\s+and\s+|\s*和\s*", value) if p.strip()]
    out = []
    for piece in pieces[:20]:
        obj = _clean_object(piece, kind)
        if obj and obj not in out:
            out.append(obj)
    return out


def _table_objects(text: str, kind: str) -> list[tuple[str, str]]:
    """[(object, its row)] of the first table whose header names the kind's object."""
    headers = _TABLE_HEADERS.get(kind)
    if not headers:
        return []
    lines = text.split("\n")[:3000]
    for i, line in enumerate(lines):
        tokens = line.split()
        if not tokens or tokens[0].lower().rstrip(":：") not in headers or len(tokens) < 2:
            continue
        objects: list[tuple[str, str]] = []
        for row in lines[i + 1:i + 60]:
            if re.fullmatch(r"[\s\-=+|]*", row):
                if objects or not row.strip():
                    if not row.strip():
                        break
                continue
            cells = row.split()
            if kind in ("filesystem", "inode"):
                paths = [c for c in cells if c.startswith("/")]
                obj = paths[-1] if paths else None
            else:
                obj = cells[0] if re.fullmatch(r"[A-Za-z0-9_$#.\-/]+", cells[0]) else None
            if obj and obj not in [o for o, _row in objects]:
                objects.append((obj, row[:500]))
        if objects:
            return objects
    return []


def _listed_paths(text: str, kind: str) -> list[str]:
    """Mount points listed one per line with a percentage (df-like output without a header)."""
    if kind not in ("filesystem", "inode"):
        return []
    out: list[str] = []
    for line in text.split("\n")[:2000]:
        if "%" not in line:
            continue
        cells = line.split()
        paths = [c for c in cells if re.fullmatch(r"/[A-Za-z0-9_./-]*", c)]
        if paths and (cells[0] == paths[0] or cells[-1] == paths[-1]) and paths[-1] not in out:
            out.append(paths[-1] if cells[-1] == paths[-1] else paths[0])
        if len(out) >= 20:
            break
    return out


def _fallback_check(item: str | None, subject: str, host: str) -> str:
    """Check for a message whose kind is not in the vocabulary: the item field, else the subject
    without tags, host and figures (so repeats with new values share a dedup key)."""
    if item:
        return item
    text = _TAG_RE.sub(" ", subject)
    text = re.sub(rf"(?<![A-Za-z0-9_.-]){re.escape(host)}(?![A-Za-z0-9_-])", " ", text, flags=re.I)
    text = re.sub(r"\d+(?:\.\d+)?%?", "", text)
    text = re.sub(r"\s+", " ", text).strip(" ,，:：;；-")
    return text[:100] or "unknown"


def _objects(kind: str, fields: list[Field], text: str, subject: str) -> list[tuple[str, int, str]]:
    """[(object, line, row)] for kinds that take an object (``row``: the table row it came from)."""
    found = all_values(fields, *OBJECT_KEYS)
    out: list[tuple[str, int, str]] = []
    for f in found:
        for obj in _split_objects(f.value, kind):
            out.append((obj, f.line, ""))
    if out:
        return out
    rows = _table_objects(text, kind) or [(p, "") for p in _listed_paths(text, kind)]
    for obj, row in rows:
        out.append((obj, -1, row))
    if out:
        return out
    for key in _KIND_KEYS.get(kind, ()):
        for f in fields:
            if f.key == key and f.value:
                obj = _clean_object(f.value, kind)
                if obj:
                    return [(obj, f.line, "")]
    pattern = _SUBJECT_OBJECT.get(kind)
    if pattern:
        for source_text in (subject, text[:4000]):
            m = re.search(pattern, source_text, re.I)
            if m:
                obj = next((g for g in m.groups() if g), None)
                if obj:
                    return [(obj.rstrip(".:"), -1, "")]
    return []


_ARROW_RE = re.compile(r"->|→|=>|⇒|>>|—>|-->|变为|变成|转为|转变为|切换为|(?i:\bto\b)")


def _transition(*texts: str | None) -> tuple[str, str | None] | None:
    """(new state, severity of the new state word) of the first text with a transition."""
    for text in texts:
        if not text:
            continue
        st = new_state(text[:2000])
        if st:
            tail = _ARROW_RE.split(text[:2000])[-1].strip()
            word = re.match(r"[A-Za-z]{1,20}|[\u4e00-\u9fff]{1,6}", tail)
            return st, map_severity(word.group(0)) if word else None
    return None


def _severity_and_status(fields: list[Field], subject: str, desc: str | None = None) -> tuple[str | None, str, bool]:
    """(severity, status, sure) of the whole message."""
    level = first_value(fields, *LEVEL_KEYS)
    state = first_value(fields, *STATUS_KEYS)
    tags = subject_tags(subject)
    subject_wo_tags = _TAG_RE.sub(" ", subject)
    for text in (level, state, subject):
        if text and "已确认" in text:
            return None, "ack", True
    level_sev = map_severity(level) if level and not status_from_word(level) else None
    transition = _transition(state, subject_wo_tags, desc)
    if transition:
        st, word_sev = transition
        return (level_sev or word_sev if st == "problem" else None), st, True
    if level:
        st = status_from_word(level)
        if st:
            return None, st, True
        if level_sev:
            # Some scripts keep the original level on the all-clear mail and say so in the subject.
            if _STRONG_RECOVERY.search(subject_wo_tags):
                return None, "recovery", True
            return level_sev, "problem", True
    if state:
        reading = read_state(state)
        if reading.status in ("recovery", "ack") and reading.sure:
            return None, reading.status, True
        if reading.status == "problem" and reading.evidence:
            return _subject_severity(state) or map_severity(state), "problem", reading.sure
    for tag in tags:
        st = status_from_word(tag)
        if st:
            return None, st, True
    severity = next((s for s in (map_severity(t) for t in tags) if s), None)
    if severity is None:
        m = re.search(r"(?:告警|报警|级别)\s*[(（]([^)）]{1,8})[)）]", subject)
        severity = map_severity(m.group(1)) if m else None
    if severity is None:
        # A bare priority code in the subject ("P1 告警 SZHXDB01 ...").
        m = re.search(r"(?<![A-Za-z0-9_.-])((?:P|S|SEV)\d)(?![A-Za-z0-9_.-])", subject_wo_tags, re.I)
        severity = map_priority(m.group(1)) if m else None
    if severity is None:
        reading = read_state(subject_wo_tags)
        if reading.status in ("recovery", "ack") and reading.sure and status_from_word(subject_wo_tags):
            return None, reading.status, True
        if reading.evidence == "conflicting states":
            # A problem word and a recovery word with no transition: never a recovery.
            return _subject_severity(subject_wo_tags), "problem", False
        severity = _subject_severity(subject_wo_tags)
    if severity is not None:
        return severity, "problem", True
    worded = any(t and (_ALERT_WORDS.search(t) or (read_state(t).sure and read_state(t).status == "problem"))
                 for t in (subject_wo_tags, desc))
    return None, "problem", bool(worded)


def _own_state(row: str, block: list[Field]) -> tuple[str | None, str, bool] | None:
    """State of one object when the mail gives one per object: the object's table row, or the status /
    level lines of its block. None when it gives none (the message's state applies)."""
    texts = [row] if row else [f.value for f in block if f.key in STATUS_KEYS or f.key in LEVEL_KEYS]
    for text in texts:
        transition = _transition(text)
        if transition:
            st, word_sev = transition
            return (word_sev if st == "problem" else None), st, True
        reading = read_state(text)
        if not reading.evidence:
            continue
        if reading.status != "problem":
            return None, reading.status, reading.sure
        cells = [c for c in re.split(r"[\s|,，]+", text) if c and not re.fullmatch(r"[\d.%/:-]+", c)]
        severity = next((s for s in (map_severity(c) for c in cells) if s), None)
        return severity, "problem", reading.sure
    return None


def _level_word(fields: list[Field], subject: str) -> str:
    """The script's own level word as written (a 级别 line, a subject tag, a bare P-code), for a
    source's own priority table."""
    level = first_value(fields, *LEVEL_KEYS)
    if level and map_severity(level):
        return level
    for tag in subject_tags(subject):
        if map_severity(tag):
            return tag
    m = re.search(r"(?<![A-Za-z0-9_.-])((?:P|S|SEV)\d)(?![A-Za-z0-9_.-])", _TAG_RE.sub(" ", subject), re.I)
    return m.group(1) if m else ""


def _subject_severity(text: str) -> str | None:
    m = re.search(r"(?<![A-Za-z])(CRITICAL|FATAL|EMERGENCY|MAJOR|SERIOUS|MINOR|WARNING|WARN|"
                  r"一般严重|特别严重|致命|灾难|紧急|严重|重要|次要|警告|预警)(?![A-Za-z])", text)
    return map_severity(m.group(1)) if m else None


def parse(msg: MessageView) -> list[Alert]:
    text = msg.text[:60000]
    subject = msg.subject
    fields = parse_fields(text, max_lines=2000)
    host, _ = find_host(fields, subject)
    item = first_value(fields, *ITEM_KEYS)
    obj_field = first_value(fields, *OBJECT_KEYS)
    desc = first_value(fields, *DESC_KEYS)
    kind = guess_kind(item, subject, obj_field, desc, text[:3000])
    if not host:
        raise NoHostError("script alert without a host field or a host in the subject")
    severity, status, sure = _severity_and_status(fields, subject, desc)
    review = "" if sure or status != "problem" else UNSURE_STATE
    word = _level_word(fields, subject) if status == "problem" and severity else ""
    summary = desc or subject or item or ""
    details = {}
    for f in fields[:40]:
        details.setdefault(f.raw_key, f.value)

    host_fields = [f for f in fields if f.key in HOST_KEYS and _host_of_value(f.value)]

    def host_for(line: int) -> str:
        # With repeated blocks, an object belongs to the nearest host field above it.
        best = host
        for f in host_fields:
            if f.line <= line:
                best = _host_of_value(f.value) or best
        return best

    if kind is None:
        check = _fallback_check(item, subject, host)
        category = guess_category(check)
        return [make_alert(NAME, host, check, severity, status, category, summary, details, needs_review=review,
                           severity_word=word)]
    category = category_for_kind(kind)
    if kind in OBJECTLESS_KINDS:
        return [make_alert(NAME, host, kind, severity, status, category, summary, details, needs_review=review,
                           severity_word=word)]
    objects = _objects(kind, fields, text, subject)
    if not objects:
        return [make_alert(NAME, host, kind, severity, status, category, summary, details, needs_review=review,
                           severity_word=word)]
    lines = sorted({line for _obj, line, _row in objects if line >= 0})
    alerts = []
    for obj, line, row in objects[:50]:
        own = None
        if len(objects) > 1:
            if row:
                own = _own_state(row, [])
            elif line >= 0:
                nxt = next((n for n in lines if n > line), 1 << 30)
                own = _own_state("", [f for f in fields if line < f.line < nxt])
        if own is None:
            sev, st, ok = severity, status, sure
        else:
            sev, st, ok = own
            if st == "problem" and sev is None:
                sev = severity
        alerts.append(make_alert(NAME, host_for(line) if line >= 0 else host, f"{kind}:{obj.lower()}",
                                 sev, st, category, summary, details,
                                 needs_review="" if ok or st != "problem" else UNSURE_STATE,
                                 severity_word=word if sev == severity else ""))
    return dedupe(alerts)
