"""Open-Falcon alarm mail.

Follows open-falcon/falcon-plus @ 93491806585fbb51096468fcd286581f4b7e2e44:

- ``modules/alarm/cron/builder.go``: subject ``BuildCommonSMSContent``
  ``[P<prio>][PROBLEM|OK][<endpoint>][][<note> <func> <metric> <tags> <left><op><right>][O<step> <time>]``;
  body ``BuildCommonMailContent``: ``PROBLEM|OK`` / ``P<prio>`` / ``Endpoint:`` / ``Metric:`` / ``Tags:`` /
  ``<func>: <left><op><right>`` / ``Note:`` / ``Max:<n>, Current:<n>`` / ``Timestamp:`` / link
  (``/portal/template/view/<id>`` or ``/portal/expression/view/<id>``).
- ``modules/alarm/cron/combiner.go`` ``combineMail``: several low-priority events of one priority, status
  and metric in one mail, subject ``[P<prio>][<status>] <count> <metric>``, bodies joined.
- sent through open-falcon/mail-provider (toolkits/smtp ``SendMail``: text/plain, base64).

Host is the endpoint, check the metric; the identity is what else tells Open-Falcon's events apart:
the sorted tags, the strategy's condition (``all(#3)>=90``: two strategies on one counter are two events)
and the template/expression id of the link. Priority P0..P5 maps through ``state.PRIORITY_TABLE``.
"""
from __future__ import annotations

import re

from ..mime import MessageView
from ..results import Alert
from ..state import UNSURE_STATE, map_priority, read_state, state_of_word
from ..vocab import guess_category, one_line
from .base import NoHostError, dedupe, make_alert

__all__ = ["NAME", "detect", "parse"]

NAME = "openfalcon"

_SUBJECT_RE = re.compile(r"^\[P(?P<prio>\d)\]\[(?P<status>[A-Z]{1,20})\](?:\[(?P<endpoint>[^\]\r\n]{0,253})\]\[\]"
                         r"\[(?P<content>[^\r\n]{0,2000})\]\[O(?P<step>\d{1,6}) [^\]\r\n]{0,40}\]"
                         r"| (?P<count>\d{1,6}) (?P<metric>\S{1,300}))$")
_EXPR_RE = re.compile(r"^(?P<func>[a-z]{1,12}\([^)\r\n]{0,40}\)): (?P<left>-?[\d.]{1,40})"
                      r"(?P<op>==|!=|<=|>=|<|>|=)(?P<right>-?[\d.]{1,40})$")
_LINK_RE = re.compile(r"/portal/(template|expression)/view/(\d{1,12})\s*$")
_MAX_EVENTS = 200

# Open-Falcon's metric names (agent built-ins and common plugins) to the desk's categories.
_METRIC_CATEGORY = (
    ("agent.alive", "network"), ("net.port.listen", "network"), ("net.if.", "network"), ("ping", "network"),
    ("df.", "os"), ("disk.", "os"), ("cpu.", "os"), ("mem.", "os"), ("load.", "os"), ("kernel.", "os"),
    ("ss.", "network"), ("snmp.", "network"), ("proc.", "app_process"), ("du.bs", "os"),
    ("mysql", "db"), ("oracle", "db"), ("redis", "db"), ("url.check", "web"), ("http.", "web"),
)


def _category(metric: str, note: str) -> str:
    m = metric.lower()
    for prefix, category in _METRIC_CATEGORY:
        if m.startswith(prefix):
            return category
    return guess_category(metric, note)


def _subject(msg: MessageView) -> re.Match[str] | None:
    return _SUBJECT_RE.match(one_line(msg.subject, 2500))


def _blocks(text: str) -> list[dict[str, str]]:
    lines = [line.strip() for line in text[:400000].split("\n")[:20000]]
    blocks: list[dict[str, str]] = []
    cur: dict[str, str] | None = None
    for i, line in enumerate(lines):
        if re.fullmatch(r"[A-Z]{2,20}", line) and i + 1 < len(lines) and re.fullmatch(r"P\d", lines[i + 1]):
            if len(blocks) >= _MAX_EVENTS:
                break
            cur = {"status": line, "priority": lines[i + 1]}
            blocks.append(cur)
            continue
        if cur is None:
            continue
        m = _EXPR_RE.match(line)
        if m and "expr" not in cur:
            cur.update(m.groupdict())
            cur["expr"] = line
            continue
        m = _LINK_RE.search(line)
        if m and "link" not in cur:
            cur["link"] = f"{m.group(1)}/{m.group(2)}"
            continue
        m = re.match(r"^(Endpoint|Metric|Tags|Note|Timestamp|Max):(.*)$", line)
        if m and m.group(1).lower() not in cur:
            cur[m.group(1).lower()] = m.group(2).strip()[:1000]
    return [b for b in blocks if "endpoint" in b or "metric" in b]


def detect(msg: MessageView) -> bool:
    if _subject(msg) is None:
        return False
    return bool(re.search(r"(?m)^\s*Endpoint:", msg.text[:20000])) or bool(_subject(msg).group("endpoint"))


def _from_subject(m: re.Match[str]) -> dict[str, str]:
    """The event as far as the one-line (SMS) subject tells it, when the body is missing."""
    block = {"status": m.group("status"), "priority": f"P{m.group('prio')}", "endpoint": m.group("endpoint") or ""}
    tokens = (m.group("content") or "").split(" ")
    for i, token in enumerate(tokens):
        if re.fullmatch(r"[a-z]{1,12}\([^)]{0,40}\)", token) and i + 1 < len(tokens):
            block["func"], block["metric"] = token, tokens[i + 1]
            block["note"] = " ".join(tokens[:i])
            rest = [t for t in tokens[i + 2:] if t]
            cond = re.match(r"^(-?[\d.]+)(==|!=|<=|>=|<|>|=)(-?[\d.]+)$", rest[-1]) if rest else None
            if cond:
                block.update(left=cond.group(1), op=cond.group(2), right=cond.group(3))
                rest = rest[:-1]
            block["tags"] = rest[0] if rest else ""
            break
    return block


def parse(msg: MessageView) -> list[Alert]:
    sm = _subject(msg)
    blocks = _blocks(msg.text)
    if not blocks and sm is not None and sm.group("endpoint") is not None:
        blocks = [_from_subject(sm)]
    alerts = []
    for b in blocks:
        host = b.get("endpoint", "").strip()
        metric = b.get("metric", "").strip()
        if not host:
            raise NoHostError("Open-Falcon alarm without an Endpoint")
        reading = read_state(b.get("status"))
        status = state_of_word(b.get("status")) or reading.status
        sure = state_of_word(b.get("status")) in ("problem", "recovery")
        if status not in ("problem", "recovery"):
            status, sure = "problem", False
        word = b.get("priority", "")
        cond = f"{b.get('func', '')}{b.get('op', '')}{b.get('right', '')}"
        identity = "|".join((b.get("tags", ""), cond, b.get("link", "")))
        note = b.get("note", "")
        message = f"[{word}][{b.get('status', '')}][{host}] {note} {b.get('func', '')} {metric} {b.get('tags', '')} " \
                  f"{b.get('left', '')}{b.get('op', '')}{b.get('right', '')}"
        fields = {k: v for k, v in b.items() if k in ("endpoint", "metric", "tags", "note", "timestamp", "max", "expr",
                                                      "link", "priority", "status")}
        alerts.append(make_alert(NAME, host, metric or "unknown", map_priority(word), status,
                                 _category(metric, note), message, fields, identity=identity,
                                 needs_review="" if sure else UNSURE_STATE, severity_word=word))
    return dedupe(alerts)
