"""Forwarded mail: FW:/Fwd:/转发: with the original inline (Outlook/Exchange, Foxmail, Gmail
style header blocks) or attached as message/rfc822. The original is what gets parsed; Resent-*
redirects already carry the original headers and need no unwrapping."""
from __future__ import annotations

import re

from .mime import MessageView, clean_line

__all__ = ["FORWARD_PREFIX_RE", "is_forward", "unwrap"]

FORWARD_PREFIX_RE = re.compile(r"^\s*(?:FW|Fw|fw|FWD|Fwd|fwd|转发|轉寄|转寄)\s*[:：]\s*")
_MARKER_RE = re.compile(
    r"(?im)^[ \t>]*(?:-{2,}\s*(?:Original Message|Forwarded message|Forwarded Message|原始邮件|"
    r"邮件原件|原邮件|转发邮件信息|转发的邮件)\s*-{2,}|Begin forwarded message:?|_{10,})[ \t]*$")
_HEADER_KEYS = {
    "from": "from", "发件人": "from", "寄件者": "from",
    "sent": "date", "date": "date", "发送时间": "date", "日期": "date", "时间": "date", "寄件日期": "date",
    "to": "to", "收件人": "to", "收件者": "to",
    "cc": "cc", "抄送": "cc", "副本": "cc",
    "subject": "subject", "主题": "subject", "主旨": "subject",
}
_HEADER_LINE_RE = re.compile(r"^[ \t>*]*([A-Za-z]{2,8}|[^\x00-\x7f]{2,5})[ \t*]*[:：][ \t*]*(.*)$")


def is_forward(msg: MessageView) -> bool:
    return bool(FORWARD_PREFIX_RE.match(msg.subject)) or bool(
        _MARKER_RE.search(msg.text[:20000]) and _header_block(msg.text[:20000]) is not None)


def _is_from_line(line: str) -> bool:
    m = _HEADER_LINE_RE.match(line)
    return bool(m and _HEADER_KEYS.get(m.group(1).strip().lower()) == "from")


def _header_block(text: str) -> tuple[dict[str, str], str] | None:
    """Find a forwarded header block; returns ({from,date,to,cc,subject}, original body)."""
    lines = text.split("\n")
    starts = [i + 1 for i, line in enumerate(lines) if _MARKER_RE.match(line)]
    # Outlook's HTML forwards have no marker line: a From:/发件人: line starts the block.
    starts += [i for i, line in enumerate(lines[:400]) if _is_from_line(line)][:3]
    for start in sorted(set(starts or [0]))[:6]:
        i = start
        while i < len(lines) and not lines[i].strip() and i - start < 3:
            i += 1
        headers: dict[str, str] = {}
        last = None
        while i < len(lines):
            m = _HEADER_LINE_RE.match(lines[i])
            key = _HEADER_KEYS.get(m.group(1).strip().lower()) if m else None
            if key:
                headers.setdefault(key, m.group(2).strip())
                last = key
            elif last and lines[i].strip() and lines[i][:1] in " \t":
                headers[last] += " " + lines[i].strip()  # folded header line
            else:
                break
            i += 1
        if "from" in headers and ("subject" in headers or "date" in headers):
            body_lines = lines[i:]
            quoted = [ln for ln in body_lines if ln.strip()]
            if quoted and all(ln.lstrip().startswith(">") for ln in quoted):
                body_lines = [re.sub(r"^\s*>\s?", "", ln) for ln in body_lines]
            return headers, "\n".join(body_lines).strip()
    return None


def _strip_prefixes(subject: str) -> str:
    prev = None
    while prev != subject:
        prev = subject
        subject = FORWARD_PREFIX_RE.sub("", subject, count=1)
    return subject.strip()


def unwrap(msg: MessageView, max_levels: int = 3) -> tuple[MessageView, bool]:
    """(the original message, whether anything was unwrapped)."""
    current, unwrapped = msg, False
    for _ in range(max_levels):
        inner = _unwrap_once(current)
        if inner is None:
            break
        current, unwrapped = inner, True
    return current, unwrapped


def _unwrap_once(msg: MessageView) -> MessageView | None:
    prefixed = bool(FORWARD_PREFIX_RE.match(msg.subject))
    if prefixed and msg.embedded:
        inner = msg.embedded[0]
        inner.known_hosts = msg.known_hosts
        return inner
    block = _header_block(msg.text[:200000])
    if block is not None and (prefixed or _MARKER_RE.search(msg.text[:20000])):
        headers, body = block
        subject = clean_line(headers.get("subject", "")) or _strip_prefixes(msg.subject)
        view = MessageView(
            headers=[("From", clean_line(headers.get("from", ""))), ("Subject", subject),
                     ("Date", clean_line(headers.get("date", "")))],
            subject=subject, sender=clean_line(headers.get("from", "")), text=body, plain=body,
            html="", html_present=msg.html_present, content_type="text/plain",
            errors=msg.errors, known_hosts=msg.known_hosts)
        return view
    if prefixed:
        # Forward without a recognisable header block: same body, original subject.
        view = MessageView(**{**msg.__dict__, "subject": _strip_prefixes(msg.subject),
                              "headers": list(msg.headers), "embedded": []})
        return view
    return None
