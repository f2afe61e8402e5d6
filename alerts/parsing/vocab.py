"""Shared vocabulary: severity and status words, script check kinds and categories,
normalisation of host/check strings."""
from __future__ import annotations

import re
from collections.abc import Mapping

from .state import map_priority

__all__ = [
    "KIND_CATEGORY",
    "OBJECTLESS_KINDS",
    "category_for_kind",
    "guess_category",
    "guess_kind",
    "make_dedup_key",
    "label_identity",
    "map_severity",
    "norm",
    "one_line",
    "status_from_word",
    "split_camel",
    "HOST_TOKEN_RE",
    "is_host_like",
]

_WS = re.compile(r"\s+")


def norm(value: str | None) -> str:
    """Contract normalisation of host and check: trim, collapse whitespace, lower-case."""
    return _WS.sub(" ", (value or "").strip()).lower()


def one_line(value: str | None, limit: int = 500) -> str:
    text = _WS.sub(" ", re.sub(r"[\x00-\x1f\x7f\u2028\u2029\x85]", " ", value or "")).strip()
    return text[:limit]


def make_dedup_key(source: str, host: str, check: str, identity: str = "") -> str:
    """``source|host|check``, plus ``|identity`` when the tool names its alerts more finely
    (identity is kept verbatim: label values are case-sensitive)."""
    key = f"{source}|{norm(host)}|{norm(check)}"
    return f"{key}|{one_line(identity, 2000)}" if identity else key


def label_identity(labels: dict[str, str]) -> str:
    """Canonical form of a label set (sorted ``name=value`` joined by commas, values quoted as
    Alertmanager prints them), the same for a webhook's JSON and a mail's rendered labels."""
    return ",".join(f'{k}="{one_line(str(v), 500)}"' for k, v in sorted(labels.items()) if k)


# --------------------------------------------------------------------------------------------
# Severity
# --------------------------------------------------------------------------------------------

_SEVERITY_WORDS: dict[str, tuple[str, ...]] = {
    "critical": ("critical", "crit", "fatal", "emergency", "emerg", "disaster", "down", "致命", "灾难",
                 "紧急", "特别严重", "危急"),
    "major": ("major", "high", "error", "err", "serious", "severe", "unreachable", "严重", "重要",
              "高"),
    "minor": ("minor", "average", "unknown", "一般", "一般严重", "次要", "中", "中等"),
    "warning": ("warning", "warn", "警告", "预警", "低", "注意"),
    "info": ("info", "information", "informational", "notice", "not classified", "ok", "up",
             "信息", "提示", "通知", "未分类", "正常"),
}
_SEVERITY_EXACT = {w: sev for sev, words in _SEVERITY_WORDS.items() for w in words}
# Longest first so 一般严重 wins over 严重, 特别严重 over 严重.
_SEVERITY_SCAN = sorted(((w, s) for w, s in _SEVERITY_EXACT.items() if len(w) > 1),
                        key=lambda ws: -len(ws[0]))


def map_severity(word: str | None, overrides: Mapping[str, str] | None = None) -> str | None:
    """Severity for a level word: a source's own table (``overrides``), then a priority code of
    ``PRIORITY_TABLE`` (P1, S2, 紧急 ...), then a level word (exact, then contained word); None
    when it names none."""
    if not word:
        return None
    w = norm(word).strip("[]【】()（）<>《》:：-_ ")
    if not w:
        return None
    coded = map_priority(w, overrides)
    if coded:
        return coded
    if w in _SEVERITY_EXACT:
        return _SEVERITY_EXACT[w]
    for term, sev in _SEVERITY_SCAN:
        if term.isascii():
            if re.search(rf"(?<![a-z]){re.escape(term)}(?![a-z])", w):
                return sev
        elif term in w:
            return sev
    return None


# --------------------------------------------------------------------------------------------
# Status words (scripts and customised templates)
# --------------------------------------------------------------------------------------------

_RECOVERY_RE = re.compile(
    r"(?<!未)(?<!尚未)(?<!没有)(?:已?恢复(?:正常)?|告警解除|已解除|(?<![不非异])正常)"
    r"|(?<![A-Za-z])(?:OK|RESOLVED|RECOVERY|RECOVERED|CLEARED|Resolved|Recovered|Cleared|back to normal)(?![A-Za-z])")
_ACK_RE = re.compile(r"已确认|(?<![A-Za-z])(?:ACKNOWLEDGED|ACKNOWLEDGEMENT|Acknowledged)(?![A-Za-z])")


def status_from_word(text: str | None) -> str | None:
    """``recovery``/``ack`` when ``text`` says so, else None (callers default to problem)."""
    if not text:
        return None
    if _ACK_RE.search(text):
        return "ack"
    if _RECOVERY_RE.search(text):
        return "recovery"
    return None


# --------------------------------------------------------------------------------------------
# Script check kinds (README vocabulary) and categories
# --------------------------------------------------------------------------------------------

KIND_CATEGORY: dict[str, str] = {
    "cpu": "os", "memory": "os", "paging_space": "os", "load": "os", "filesystem": "os",
    "inode": "os", "ntp": "os", "hw": "hardware", "ping": "network", "nic": "network",
    "tablespace": "db", "db_instance": "db", "db_lock": "db", "db_sessions": "db", "db_log": "db",
    "web_server": "web", "jvm_heap": "web", "web_threads": "web", "web_url": "web",
    "tuxedo_server": "middleware", "tuxedo_queue": "middleware", "mq_qmgr": "mq",
    "mq_queue_depth": "mq", "mq_channel": "mq", "process": "app_process",
    "txn_success_rate": "transaction", "txn_volume": "transaction", "txn_response_time": "transaction",
}
OBJECTLESS_KINDS = frozenset({"cpu", "memory", "paging_space", "load", "ntp"})


def _w(*words: str) -> str:
    """English words with ASCII boundaries (Python's \\b treats CJK as word chars)."""
    return "(?<![a-z0-9])(?:{})(?![a-z])".format("|".join(words))


# Order matters: the first kind whose pattern matches wins (tuxedo before process, jvm before
# web server, lock before instance ...).
_KIND_PATTERNS: list[tuple[str, re.Pattern[str]]] = [(k, re.compile(p, re.I)) for k, p in [
    ("txn_success_rate", r"成功率|失败率|" + _w("success ?rate", "succ ?rate", "failure ?rate", "success_rate")),
    ("txn_response_time", r"响应时间|交易耗时|处理时长|" + _w("response ?time", "resp ?time", "latency", "rt")),
    ("txn_volume", r"交易量|交易笔数|交易数量|业务量|" + _w("txn ?volume", "transaction ?volume", "tps", "volume")),
    ("tuxedo_queue", r"tuxedo.{0,20}(?:队列|queue)|" + _w("tuxedo queue")),
    ("tuxedo_server", r"tuxedo|" + _w("bbl")),
    ("mq_channel", r"通道|" + _w("channel", "chl")),
    ("mq_queue_depth", r"队列深度|深度|" + _w("queue ?depth", "curdepth", "depth")),
    ("mq_qmgr", r"队列管理器|" + _w("qmgr", "queue ?manager", "qmgr_status")),
    ("jvm_heap", r"堆|" + _w("jvm", "heap", "full ?gc", "gc")),
    ("web_threads", r"线程|" + _w("threads?", "thread ?pool", "stuck", "hogging")),
    ("web_url", r"页面|网址|拨测|" + _w("url", "http", "https", "web ?probe")),
    ("web_server", r"weblogic|websphere|tomcat|中间件服务|应用服务器|" + _w("was", "wls", "jboss", "nginx", "apache")),
    ("tablespace", r"表空间|" + _w("tablespace", "tbs", "dbspace")),
    ("db_lock", r"锁|" + _w("lock", "locks", "deadlock", "lock ?wait", "enqueue")),
    ("db_sessions", r"会话|连接数|" + _w("sessions?", "connections?")),
    ("db_log", r"归档|逻辑日志|事务日志|日志空间|" + _w("archive ?log", "logical ?log", "transaction ?log", "archivelog", "redo")),
    ("db_instance", r"实例|监听|数据库状态|数据库宕|数据库不可用|" + _w("listener", "db ?instance", "database down", "instance")),
    ("hw", r"errpt|硬件|风扇|电源|磁盘故障|" + _w("hardware", "hdisk\\d*", "fan\\d*", "power ?supply", "psu", "ems", "disk error", "hw")),
    ("inode", r"inode|i节点"),
    ("filesystem", r"文件系统|磁盘空间|磁盘使用|挂载点|(?:^|\s)/[A-Za-z0-9_./-]*\s*(?:使用率|usage|used|is)?\s*"
                   r"\d{1,3}(?:\.\d+)?%|" + _w("file ?system", "filesystem", "fs", "disk ?space", "disk usage", "mount")),
    ("paging_space", r"交换区|交换空间|页面空间|" + _w("paging", "paging ?space", "swap", "pgsp")),
    ("memory", r"内存|" + _w("memory", "mem", "ram")),
    ("cpu", r"处理器|" + _w("cpu", "processor")),
    ("load", r"负载|运行队列|" + _w("load", "load ?average", "run ?queue", "loadavg")),
    ("ntp", r"时钟|时间同步|时间偏差|" + _w("ntp", "clock", "time ?sync", "time ?offset", "chrony")),
    ("ping", r"连通|不可达|网络不通|" + _w("ping", "unreachable", "reachability", "icmp", "packet ?loss")),
    ("nic", r"网卡|网口|链路|" + _w("nic", "interface", "link", "eth\\d+", "ent\\d+", "en\\d+", "bond\\d*")),
    ("process", r"进程|批量|作业|" + _w("process", "processes", "proc", "daemon", "pid", "batch", "job")),
]]


def guess_kind(*texts: str | None) -> str | None:
    """First vocabulary kind named by the first text that names any."""
    for text in texts:
        if not text:
            continue
        for kind, pattern in _KIND_PATTERNS:
            if pattern.search(text):
                return kind
    return None


def category_for_kind(kind: str | None) -> str:
    return KIND_CATEGORY.get(kind or "", "other")


def split_camel(text: str) -> str:
    """``MQQueueDepthHigh`` -> ``MQ Queue Depth High`` (for keyword matching)."""
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1 \2", text)
    text = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1 \2", text)
    return text.replace("_", " ")


# Category keywords for free-form check names (Nagios services, Zabbix triggers, Alertmanager
# alertnames). Checked in order; the first match wins.
_CATEGORY_PATTERNS: list[tuple[str, re.Pattern[str]]] = [(c, re.compile(p, re.I)) for c, p in [
    ("transaction", r"交易|成功率|" + _w("txn", "transaction", "transactions", "trans", "success ?rate", "tps")),
    ("middleware", r"tuxedo|中间件|" + _w("bbl", "cics", "tongweb")),
    ("mq", r"消息队列|队列|" + _w("mq", "ibm ?mq", "mqseries", "qmgr", "qm_\\w+", "queue", "channel", "rabbitmq", "kafka")),
    ("web", r"weblogic|websphere|tomcat|" + _w("jvm", "heap", "http", "https", "url", "web", "nginx", "apache", "jboss", "was", "wls", "thread ?pool", "servlet")),
    ("db", r"数据库|表空间|监听|oracle|" + _w("db2", "informix", "database", "db", "tablespace", "listener", "sql", "mysql", "postgres", "postgresql", "ora", "dbspace", "deadlock", "archive ?log", "hxdb", "sessions")),
    ("hardware", r"errpt|硬件|风扇|电源|" + _w("hardware", "hdisk\\d*", "fan\\d*", "power ?supply", "psu", "raid", "temperature", "ipmi", "ems")),
    ("app_process", r"进程|批量|" + _w("process", "processes", "proc", "batch", "job", "daemon", "service down")),
    ("network", r"网络|网卡|链路|连通|" + _w("interface", "link", "ping", "icmp", "network", "packet ?loss", "unreachable", "snmp", "eth\\d+", "switch", "router", "bgp", "port")),
    ("os", r"文件系统|磁盘|内存|交换|负载|时钟|操作系统|" + _w("cpu", "load", "memory", "mem", "swap", "paging", "filesystem", "file ?system", "disk", "inode", "ntp", "clock", "uptime", "linux", "aix", "hp-ux", "os", "operating system", "reboot", "node", "zombie")),
]]


def guess_category(*texts: str | None) -> str:
    """Category of a free-form check name; the first text that matches decides."""
    for text in texts:
        if not text:
            continue
        spaced = split_camel(text)
        for category, pattern in _CATEGORY_PATTERNS:
            if pattern.search(spaced):
                return category
    return "other"


# --------------------------------------------------------------------------------------------
# Host tokens
# --------------------------------------------------------------------------------------------

_IP = r"(?:\d{1,3}\.){3}\d{1,3}"
_NAME = r"[A-Za-z][A-Za-z0-9_-]*\d[A-Za-z0-9_-]*(?:\.[A-Za-z0-9-]+)*|[A-Za-z][A-Za-z0-9_]*-[A-Za-z0-9_-]+(?:\.[A-Za-z0-9-]+)*"
HOST_TOKEN_RE = re.compile(rf"(?<![A-Za-z0-9_.:/-])({_IP}|{_NAME})(?![A-Za-z0-9_-]|\.[A-Za-z0-9])")


def is_host_like(token: str) -> bool:
    return bool(HOST_TOKEN_RE.fullmatch(token.strip()))
