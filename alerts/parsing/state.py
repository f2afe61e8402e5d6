"""The general rules for reading an alert's state and priority, for tools nobody listed.

Every source module reads its own tool's fields first; these rules are what they (and the
in-house script reader) fall back on, written down once:

1. **State comes from explicit evidence.** A word that names a state (``PROBLEM``, ``CRITICAL``,
   ``DOWN``, ``FIRING``, ``告警``, ``故障`` / ``OK``, ``UP``, ``RESOLVED``, ``RECOVERY``, ``恢复``,
   ``正常`` / ``ACKNOWLEDGEMENT``, ``已确认`` / ``FLAPPING``, ``DOWNTIME``).
2. **In a transition the new state counts**: ``OK -> CRIT``, ``CRIT → OK``, ``from WARN to OK``,
   ``从 正常 变为 异常``, ``由 告警 转为 恢复``.
3. **A recovery needs a recovery word or a clear OK/UP/恢复 state**, never the absence of a
   problem word. A text that names both a problem state and a recovery state, with no transition
   to say which is new, is not a recovery.
4. **When unsure it is a problem flagged "needs review"** (``Reading.sure`` false), never a
   recovery: an outage reported twice costs a look, an outage closed by mistake costs the bank.

Priorities map through one table (``PRIORITY_TABLE``, documented in the README) that an
administrator overrides per source (``SourceBinding.priorities``).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

__all__ = ["Reading", "read_state", "state_of_word", "new_state", "PRIORITY_TABLE", "map_priority",
           "UNSURE_STATE"]

UNSURE_STATE = "the message does not state whether the alert is a problem or a recovery"

# Single state words, upper-cased ASCII or as written in Chinese. "none" is a notice (flapping,
# downtime): it neither opens nor closes an incident.
_WORDS: dict[str, tuple[str, ...]] = {
    "recovery": ("OK", "UP", "RECOVERY", "RECOVERED", "RESOLVED", "CLEARED", "CLEAR", "NORMAL",
                 "RESTORED", "BACK TO NORMAL", "PROBLEM RESOLVED",
                 "恢复", "已恢复", "恢复正常", "正常", "告警恢复", "故障恢复", "已解决", "解决", "告警解除", "已解除",
                 "解除", "已关闭"),
    "problem": ("PROBLEM", "CRITICAL", "CRIT", "WARNING", "WARN", "DOWN", "UNREACHABLE", "UNKNOWN",
                "UNKN", "FIRING", "ALERT", "ALERTING", "ALARM", "ERROR", "ERR", "FAILED", "FAILURE",
                "FAIL", "FAULT", "DEGRADED", "OFFLINE", "NOT RUNNING", "TIMEOUT", "TRIGGERED",
                "DISASTER",
                "告警", "故障", "异常", "报警", "警告", "严重", "宕机", "失败", "超时", "中断", "不可用", "未恢复",
                "触发"),
    "ack": ("ACKNOWLEDGEMENT", "ACKNOWLEDGED", "ACKNOWLEDGE", "ACK", "已确认", "已认领", "认领"),
    "none": ("FLAPPINGSTART", "FLAPPINGSTOP", "FLAPPINGDISABLED", "FLAPPING", "DOWNTIMESTART",
             "DOWNTIMEEND", "DOWNTIMECANCELLED", "DOWNTIME", "CUSTOM", "维护", "抖动"),
}
_BY_WORD = {w: state for state, words in _WORDS.items() for w in words}
_ASCII = sorted((w for w in _BY_WORD if w.isascii()), key=len, reverse=True)
_CJK = sorted((w for w in _BY_WORD if not w.isascii()), key=len, reverse=True)
_ASCII_RE = re.compile(r"(?<![A-Za-z0-9_])(" + "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in _ASCII)
                       + r")(?![A-Za-z0-9_])", re.I)
# Negated Chinese recoveries (未恢复, 没有恢复, 不正常) are problems, not recoveries.
_CJK_RE = re.compile(r"(未恢复|没有恢复|尚未恢复|不正常|非正常|异常|" + "|".join(map(re.escape, _CJK)) + ")")

_STATE_TOKEN = r"[A-Za-z]{1,20}|[\u4e00-\u9fff]{1,6}"
_TRANSITION_RES = (
    re.compile(rf"(?P<old>{_STATE_TOKEN})\s*(?:->|→|=>|⇒|>>|—>|-->)\s*(?P<new>{_STATE_TOKEN})"),
    re.compile(r"(?i)\bfrom\s+(?P<old>[A-Za-z]{1,20})\s+to\s+(?P<new>[A-Za-z]{1,20})\b"),
    re.compile(rf"(?:从|由)\s*(?P<old>{_STATE_TOKEN})\s*(?:变为|变成|转为|转变为|切换为|到)\s*(?P<new>{_STATE_TOKEN})"),
)


def state_of_word(word: str | None) -> str | None:
    """The state one state word names (``CRIT`` -> problem, ``恢复`` -> recovery), or None."""
    if not word:
        return None
    w = re.sub(r"\s+", " ", word.strip().strip("[]【】()（）:：!！.。 ")).upper()
    if w in _BY_WORD:
        return _BY_WORD[w]
    if w in ("未恢复", "没有恢复", "尚未恢复", "不正常", "非正常", "异常"):
        return "problem"
    return None


def new_state(text: str) -> str | None:
    """The new state of the last transition written in ``text`` whose new state is a state word."""
    found = None
    for pattern in _TRANSITION_RES:
        for m in pattern.finditer(text or ""):
            if state_of_word(m.group("old")) and state_of_word(m.group("new")):
                found = (m.start(), state_of_word(m.group("new")))
    return found[1] if found else None


@dataclass(frozen=True)
class Reading:
    status: str  # problem | recovery | ack | none
    sure: bool
    evidence: str = ""


def _states_in(text: str) -> list[tuple[int, str, str]]:
    """(position, state, word) of every state word in ``text``."""
    out = [(m.start(), _BY_WORD.get(re.sub(r"\s+", " ", m.group(1)).upper(), "problem"), m.group(1))
           for m in _ASCII_RE.finditer(text)]
    out += [(m.start(), state_of_word(m.group(1)) or "problem", m.group(1)) for m in _CJK_RE.finditer(text)]
    return sorted(out)


def read_state(*texts: str | None) -> Reading:
    """Apply the rules to ``texts`` in order of authority (a subject, then a status line, ...):
    the first text with evidence decides. Never returns a recovery without a recovery word."""
    for text in texts:
        if not text:
            continue
        text = re.sub(r"\s+", " ", text)[:2000]
        transition = new_state(text)
        if transition:
            return Reading(transition, True, "transition")
        states = _states_in(text)
        if not states:
            continue
        kinds = {s for _, s, _w in states}
        for kind in ("ack", "none"):
            if kind in kinds:
                return Reading(kind, True, next(w for _, s, w in states if s == kind))
        if kinds == {"recovery"}:
            return Reading("recovery", True, states[0][2])
        if kinds == {"problem"}:
            return Reading("problem", True, states[0][2])
        # Both a problem and a recovery word, and no transition to say which is new.
        return Reading("problem", False, "conflicting states")
    return Reading("problem", False, "")


# --------------------------------------------------------------------------------------------
# Priority codes
# --------------------------------------------------------------------------------------------

# One documented table: codes a tool or a team uses for a level, to the desk's five severities.
# Lower numbers are more urgent (P0/S1/level 1), the way ITIL priorities and most Chinese
# monitoring platforms count; tools that count the other way (Zabbix's 0-5) map their own
# numbers in their module. An administrator overrides any row per source.
PRIORITY_TABLE: dict[str, str] = {
    "p0": "critical", "p1": "critical", "p2": "major", "p3": "minor", "p4": "warning", "p5": "info",
    "s0": "critical", "s1": "critical", "s2": "major", "s3": "minor", "s4": "warning", "s5": "info",
    "sev0": "critical", "sev1": "critical", "sev2": "major", "sev3": "minor", "sev4": "warning", "sev5": "info",
    "0": "critical", "1": "critical", "2": "major", "3": "minor", "4": "warning", "5": "info",
    # 重要 sits with 严重 and 一般 is "moderate" (一般严重 is Zabbix's Chinese for Average), as the
    # scripts of the banks' own corpus use them.
    "紧急": "critical", "严重": "major", "重要": "major", "一般": "minor", "提示": "info",
    "一级": "critical", "二级": "major", "三级": "minor", "四级": "warning", "五级": "info",
}
_CODE_RE = re.compile(r"^(?:(?P<p>p|s|sev|level|lvl|l|级别|等级)\s*[-_]?\s*)?(?P<n>\d)$", re.I)


def map_priority(word: str | None, overrides: Mapping[str, str] | None = None) -> str | None:
    """Severity for a priority code through ``overrides`` (per source) then ``PRIORITY_TABLE``;
    None when ``word`` is no code in either."""
    if not word:
        return None
    w = re.sub(r"\s+", "", word.strip().strip("[]【】()（）:：")).lower()
    if overrides:
        lowered = {str(k).strip().lower(): v for k, v in overrides.items()}
        if w in lowered:
            return lowered[w]
    if w in PRIORITY_TABLE:
        return PRIORITY_TABLE[w]
    m = _CODE_RE.match(w)
    if m:
        prefix = (m.group("p") or "").lower()
        key = f"{prefix if prefix in ('p', 's', 'sev') else ''}{m.group('n')}"
        return PRIORITY_TABLE.get(key)
    return None
