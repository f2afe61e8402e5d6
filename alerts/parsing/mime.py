"""Decoding of raw RFC 5322 / MIME messages into a bounded, text-only view.

Everything here is defensive: monitoring scripts on AIX/HP-UX send raw GBK with no MIME headers,
invalid charset names (``hp15CN``), charsets that lie (GBK labelled UTF-8), truncated or absurdly
nested multiparts. Nothing in this module raises on bad input; problems are appended to
``MessageView.errors``.
"""
from __future__ import annotations

import binascii
import codecs
import re
from contextvars import ContextVar
from dataclasses import dataclass, field
from email.message import Message
from email.parser import BytesParser
from email.policy import compat32
from html.parser import HTMLParser

from .results import Attachment

__all__ = [
    "MAX_PARSE_BYTES",
    "MAX_TEXT_CHARS",
    "MAX_ATTACHMENT_BYTES",
    "MessageView",
    "decode_bytes",
    "decode_header_value",
    "clean_line",
    "html_to_text",
    "parse_bytes",
    "view_from_message",
    "split_header_block",
]

MAX_PARSE_BYTES = 2 * 1024 * 1024      # raw bytes handed to the email parser
MAX_PART_BYTES = 1024 * 1024           # decoded bytes of one text part that we decode
MAX_TEXT_CHARS = 256 * 1024            # decoded text kept for analysis
MAX_ATTACHMENT_BYTES = 256 * 1024      # bytes of each attachment kept
MAX_DEPTH = 32                         # MIME nesting we walk
MAX_PARTS = 500                        # MIME parts we look at
MAX_BOUNDARIES = 64                    # more than this many boundaries: skip the recursive parser
MAX_EMBEDDED = 5                       # message/rfc822 parts kept for forward unwrapping

# Labels that are really GB2312/GBK: decode with the superset so stray GBK/GB18030 chars survive.
_GB_ALIASES = {"gb2312", "gbk", "cp936", "ms936", "x-gbk", "euc-cn", "euccn", "gb_2312-80",
               "csgb2312", "x-euc-cn", "chinese", "gb18030", "gb-18030"}
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u2028\u2029\x85]")
_WS_RE = re.compile(r"\s+")


# ---------------------------------------------------------------------------------------------
# Bytes -> text
# ---------------------------------------------------------------------------------------------

def _lookup(charset: str | None) -> str | None:
    """Python codec name for a MIME charset label, or None when unknown/absent."""
    if not charset:
        return None
    label = charset.strip().strip('"\'').lower()
    label = label.split("*", 1)[0]  # RFC 2231 language suffix
    if not label:
        return None
    if label in _GB_ALIASES:
        return "gb18030"
    try:
        return codecs.lookup(label).name
    except (LookupError, ValueError):
        return None


def _decode_strict(data: bytes, codec: str, final: bool) -> str | None:
    """Strict decode; with ``final=False`` a multibyte char cut by truncation is dropped."""
    try:
        if final:
            return data.decode(codec)
        return codecs.getincrementaldecoder(codec)().decode(data, final=False)
    except (UnicodeDecodeError, LookupError, ValueError):
        return None


def _detect(data: bytes, final: bool) -> str:
    for codec in ("utf-8", "gb18030"):
        text = _decode_strict(data, codec, final)
        if text is not None:
            return text
    return data.decode("utf-8", "replace")


# The charset of undeclared text in the message being parsed (a bound source's setting), or None.
DEFAULT_CHARSET: ContextVar[str | None] = ContextVar("opsdesk_default_charset", default=None)


def decode_bytes(data: bytes, charset: str | None, errors: list[str] | None = None,
                 *, final: bool = True, what: str = "body") -> str:
    """Decode ``data`` declared as ``charset``; fall back to utf-8/gb18030 detection.

    Records "invalid charset X" for unknown labels and "charset mismatch" when the declared
    charset cannot decode the bytes.
    """
    if not data:
        return ""
    codec = _lookup(charset)
    if charset and codec is None and errors is not None:
        _note(errors, f"invalid charset {_safe_label(charset)}")
    if codec is None or codec == "ascii":
        if data.isascii():
            return data.decode("ascii")
        # A source bound to a tool may name the charset its undeclared mail is in (GBK on AIX).
        bound = _lookup(DEFAULT_CHARSET.get())
        if bound:
            text = _decode_strict(data, bound, final)
            if text is not None:
                return text
        return _detect(data, final)
    text = _decode_strict(data, codec, final)
    if text is not None:
        return text
    if errors is not None:
        _note(errors, "charset mismatch: {} {} is not {}".format(what, "bytes", _safe_label(charset)))
    for fallback in ("utf-8", "gb18030"):
        if fallback != codec:
            text = _decode_strict(data, fallback, final)
            if text is not None:
                return text
    return data.decode(codec, "replace")


def _safe_label(label: str | None) -> str:
    return clean_line(str(label or ""))[:40]


def _note(errors: list[str], msg: str) -> None:
    if msg not in errors and len(errors) < 50:
        errors.append(msg)


def clean_line(text: str) -> str:
    """One line: every control char (CR, LF, TAB, ...) and run of whitespace becomes one space."""
    return _WS_RE.sub(" ", _CONTROL_RE.sub(" ", text)).strip()


# ---------------------------------------------------------------------------------------------
# RFC 2047 headers
# ---------------------------------------------------------------------------------------------

_EW_RE = re.compile(r"=\?([^?\s]{1,64})\?([BbQq])\?(.*?)\?=", re.S)
_UNFOLD_RE = re.compile(r"\r?\n(?=[ \t])")


def _b64(text: str) -> bytes | None:
    s = re.sub(r"[^A-Za-z0-9+/]", "", text)
    if len(s) % 4 == 1:
        s = s[:-1]
    s += "=" * (-len(s) % 4)
    try:
        return binascii.a2b_base64(s)
    except (binascii.Error, ValueError):
        return None


def _q(text: str) -> bytes:
    raw = text.replace("_", " ").encode("utf-8", "surrogateescape")
    return re.sub(rb"=([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), raw)


def decode_header_value(raw: str | bytes | None, errors: list[str] | None = None) -> str:
    """Decode a raw header value (RFC 2047 words, raw 8-bit bytes) into one clean line.

    Adjacent encoded words in the same charset are joined before decoding (senders split
    multibyte characters across words); whitespace between encoded words is dropped; the
    result never contains CR, LF or other control characters.
    """
    if raw is None:
        return ""
    if isinstance(raw, bytes):
        raw = raw.decode("ascii", "surrogateescape")
    raw = str(raw)
    value = _UNFOLD_RE.sub("", raw)
    out: list[str] = []
    pending: list[bytes] = []
    pending_cs: list[str | None] = [None]

    def flush() -> None:
        if pending:
            out.append(decode_bytes(b"".join(pending), pending_cs[0], errors, what="header"))
            pending.clear()

    pos = 0
    for m in _EW_RE.finditer(value):
        literal = value[pos:m.start()]
        if literal and not (pending and literal.isspace()):
            flush()
            out.append(_decode_literal(literal))
        charset, enc, payload = m.group(1), m.group(2).upper(), m.group(3)
        data = _b64(payload) if enc == "B" else _q(payload)
        if data is None:
            flush()
            if errors is not None:
                _note(errors, "broken encoded-word in header")
            out.append(m.group(0))
        else:
            if pending and (pending_cs[0] or "").lower() != charset.lower():
                flush()
            pending_cs[0] = charset
            pending.append(data)
        pos = m.end()
    flush()
    if pos < len(value):
        out.append(_decode_literal(value[pos:]))
    return clean_line("".join(out))


def _decode_literal(text: str) -> str:
    data = text.encode("utf-8", "surrogateescape") if not text.isascii() else None
    if data is None:
        return text
    return _detect(data, True)


# ---------------------------------------------------------------------------------------------
# HTML -> text
# ---------------------------------------------------------------------------------------------

_SKIP_TAGS = {"script", "style", "head", "title", "noscript", "template", "svg", "math", "iframe",
              "object", "embed", "select", "textarea"}
_BLOCK_TAGS = {"p", "div", "br", "hr", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6",
               "table", "tbody", "thead", "tfoot", "pre", "blockquote", "section", "article",
               "header", "footer", "dl", "dt", "dd", "form", "body", "html", "caption"}
_VOID_TAGS = {"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "embed",
              "param", "source", "track", "wbr"}


class _TextExtractor(HTMLParser):
    """Text content only: attributes (onerror=, href=javascript:) are never looked at; script,
    style and similar elements are dropped with their content. Table rows with two cells become
    ``key: value`` lines so key/value parsers work on HTML mails too."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.rows: list[list[list[str]]] = []  # stack of rows; each row is a list of cells
        self.skip = 0
        self.size = 0

    def _sink(self) -> list[str]:
        if self.rows:
            row = self.rows[-1]
            if not row:
                row.append([])
            return row[-1]
        return self.out

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in _SKIP_TAGS:
            if tag not in _VOID_TAGS:
                self.skip += 1
            return
        if self.skip:
            return
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            if not self.rows:
                self.rows.append([])
            self.rows[-1].append([])
        elif tag in _BLOCK_TAGS:
            self._sink().append("\n")

    def handle_startendtag(self, tag: str, attrs: list) -> None:
        if not self.skip and tag in _BLOCK_TAGS:
            self._sink().append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP_TAGS:
            if self.skip:
                self.skip -= 1
            return
        if self.skip:
            return
        if tag == "tr" and self.rows:
            cells = ["".join(c).strip() for c in self.rows.pop()]
            cells = [c for c in cells if c]
            if len(cells) == 2 and "\n" not in cells[0] and "\n" not in cells[1]:
                line = f"{cells[0]}: {cells[1]}"
            else:
                line = "\n".join(cells)
            self._sink().append("\n" + line + "\n")
        elif tag in _BLOCK_TAGS:
            self._sink().append("\n")

    def handle_data(self, data: str) -> None:
        if self.skip or self.size > MAX_TEXT_CHARS:
            return
        self.size += len(data)
        self._sink().append(data)

    def text(self) -> str:
        while self.rows:
            cells = ["".join(c).strip() for c in self.rows.pop()]
            self._sink().append("\n" + "\n".join(c for c in cells if c) + "\n")
        return "".join(self.out)


def html_to_text(html: str) -> str:
    """Visible text of an HTML document (never any script/style source or attribute)."""
    parser = _TextExtractor()
    try:
        parser.feed(html[:MAX_TEXT_CHARS * 2])
        parser.close()
    except Exception:  # html.parser is lenient, but never let markup break ingest
        pass
    return _tidy(parser.text())


def _tidy(text: str) -> str:
    lines = []
    for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n"):
        line = re.sub(r"[ \t\f\v\xa0]+", " ", _CONTROL_RE.sub(" ", line)).strip()
        if line or (lines and lines[-1]):
            lines.append(line)
    return "\n".join(lines).strip()


# ---------------------------------------------------------------------------------------------
# The view
# ---------------------------------------------------------------------------------------------

@dataclass
class MessageView:
    """What detectors and source parsers look at: decoded headers and bounded body text."""

    headers: list[tuple[str, str]] = field(default_factory=list)
    subject: str = ""
    sender: str = ""
    text: str = ""
    plain: str = ""
    html: str = ""
    html_present: bool = False
    content_type: str = "text/plain"
    part_types: set[str] = field(default_factory=set)
    attachments: list[Attachment] = field(default_factory=list)
    embedded: list[MessageView] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    known_hosts: frozenset[str] = frozenset()  # optional host catalogue (lower-case names)

    def header(self, name: str) -> str | None:
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None

    def header_all(self, name: str) -> list[str]:
        name = name.lower()
        return [v for k, v in self.headers if k.lower() == name]

    @property
    def sender_address(self) -> str:
        m = re.search(r"<([^<>]*)>", self.sender)
        if m:
            return m.group(1).strip().lower()
        m = re.search(r"[^\s<>()\"]+@[^\s<>()\"]+", self.sender)
        return (m.group(0) if m else self.sender).strip().lower()


def split_header_block(raw: bytes) -> tuple[bytes, bytes]:
    """(header section including its terminating blank line, body) of a raw message."""
    m = re.search(rb"\r?\n\r?\n", raw)
    if not m:
        return raw, b""
    return raw[:m.end()], raw[m.end():]


MAX_HEADER_BYTES = 128 * 1024


def _sanitize_headers(raw: bytes, errors: list[str]) -> bytes:
    head, body = split_header_block(raw)
    if len(head) > MAX_HEADER_BYTES:
        # Hundreds of thousands of header lines make the stdlib parser crawl.
        cut = head.rfind(b"\n", 0, MAX_HEADER_BYTES)
        head = head[:cut + 1 if cut > 0 else MAX_HEADER_BYTES] + b"\n"
        errors.append(f"header section truncated to {MAX_HEADER_BYTES} bytes")
    # A bare CR inside a header would make the parser start a new (attacker-chosen) header.
    head = re.sub(rb"\r(?!\n)", b" ", head)
    return head + body


def parse_bytes(raw: bytes) -> MessageView:
    """Parse raw message bytes into a MessageView. Never raises."""
    errors: list[str] = []
    data = _sanitize_headers(raw[:MAX_PARSE_BYTES * 2], errors)
    if len(data) > MAX_PARSE_BYTES:
        errors.append(f"message truncated to {MAX_PARSE_BYTES} bytes for parsing")
        data = data[:MAX_PARSE_BYTES]
    msg = None
    if len(re.findall(rb"(?i)boundary\s*=", data[:MAX_PARSE_BYTES])) > MAX_BOUNDARIES:
        errors.append("multipart nesting too deep: parsed flat")
    else:
        try:
            msg = BytesParser(policy=compat32).parsebytes(data)
        except RecursionError:
            errors.append("multipart nesting too deep: parsed flat")
        except Exception as exc:  # the stdlib parser is lenient; this is belt and braces
            errors.append(f"mime parse error: {clean_line(type(exc).__name__)}")
    if msg is not None:
        try:
            return view_from_message(msg, errors)
        except RecursionError:
            errors.append("multipart nesting too deep: parsed flat")
        except Exception as exc:  # belt and braces: fall back to the flat scan
            errors.append(f"mime walk error: {type(exc).__name__}")
    return _flat_view(data, errors)


_KEY_HEADERS = {"subject", "from", "date", "message-id", "return-path", "auto-submitted", "content-type",
                "x-autoreply", "x-autorespond", "precedence", "x-spam-flag", "x-spam-status", "x-spam",
                "in-reply-to", "references", "x-mailer", "resent-from", "resent-date"}
MAX_HEADERS = 200
MAX_HEADER_CHARS = 8192


def _header_pairs(msg: Message, errors: list[str]) -> list[tuple[str, str]]:
    """Decoded (name, value) pairs: the first MAX_HEADERS, plus the ones the parser relies on
    wherever they are; each value capped at MAX_HEADER_CHARS raw characters."""
    pairs = []
    items = msg.raw_items() if hasattr(msg, "raw_items") else msg.items()
    for n, (name, value) in enumerate(items):
        name = clean_line(str(name))[:100]
        if n >= MAX_HEADERS and name.lower() not in _KEY_HEADERS:
            continue
        value = str(value)
        if len(value) > MAX_HEADER_CHARS:
            _note(errors, f"header {name} truncated to {MAX_HEADER_CHARS} characters")
            value = value[:MAX_HEADER_CHARS]
        pairs.append((name, decode_header_value(value, errors)))
    return pairs


def view_from_message(msg: Message, errors: list[str] | None = None, depth: int = 0) -> MessageView:
    """Build a MessageView from an already parsed ``email.message.Message`` (iterative walk)."""
    errors = errors if errors is not None else []
    view = MessageView(errors=errors)
    view.headers = _header_pairs(msg, errors)
    view.subject = view.header("subject") or ""
    view.sender = view.header("from") or ""
    view.content_type = _ctype(msg)
    plains: list[str] = []
    htmls: list[str] = []
    text_attachments: list[str] = []
    budget = [MAX_TEXT_CHARS]
    stack: list[tuple[Message, int]] = [(msg, 0)]
    seen = 0
    while stack:
        part, level = stack.pop()
        seen += 1
        if seen > MAX_PARTS:
            _note(errors, f"too many MIME parts: stopped after {MAX_PARTS}")
            break
        ctype = _ctype(part)
        view.part_types.add(ctype)
        if level > MAX_DEPTH:
            _note(errors, f"multipart nesting deeper than {MAX_DEPTH}: ignored")
            continue
        try:
            # get_payload() of a leaf may itself choke on a hostile charset parameter.
            payload = part.get_payload() if part.is_multipart() or ctype.startswith("message/") else None
            if ctype == "message/rfc822" or (part.is_multipart() and ctype.startswith("message/")):
                inner = payload[0] if isinstance(payload, list) and payload else None
                if isinstance(inner, Message) and depth < 2 and len(view.embedded) < MAX_EMBEDDED:
                    view.embedded.append(view_from_message(inner, [], depth + 1))
                continue
            if part.is_multipart():
                if isinstance(payload, list):
                    for child in reversed(payload[:MAX_PARTS]):
                        if isinstance(child, Message):
                            stack.append((child, level + 1))
                continue
            filename = _filename(part, errors)
            disposition = str(part.get("Content-Disposition") or "").split(";", 1)[0].strip().lower()
            maintype = ctype.split("/", 1)[0]
            is_body_text = ctype in ("text/plain", "text/html") and disposition != "attachment" and (
                not filename or disposition == "inline")
            try:
                body = part.get_payload(decode=True) or b""
            except Exception:
                _note(errors, "undecodable MIME part")
                body = b""
            if not isinstance(body, bytes):
                body = b""
            if is_body_text:
                complete = len(body) <= MAX_PART_BYTES
                text = decode_bytes(body[:MAX_PART_BYTES], _charset(part), errors,
                                    final=complete)
                if ctype == "text/html":
                    view.html_present = True
                    text = html_to_text(text)
                    htmls.append(text[:budget[0]])
                else:
                    plains.append(text[:budget[0]])
                budget[0] = max(0, budget[0] - len(text))
                continue
            if maintype == "multipart":
                continue
            view.attachments.append(Attachment(
                filename=filename or "", content_type=ctype, size=len(body),
                data=bytes(body[:MAX_ATTACHMENT_BYTES])))
            if maintype == "text" and ctype != "text/calendar" and len(text_attachments) < 5:
                text_attachments.append(decode_bytes(body[:MAX_PART_BYTES], _charset(part),
                                                     None, final=len(body) <= MAX_PART_BYTES))
        except Exception:  # one broken part must not lose the rest of the message
            _note(errors, "undecodable MIME part")
    view.plain = _tidy("\n".join(plains))[:MAX_TEXT_CHARS]
    view.html = _tidy("\n".join(htmls))[:MAX_TEXT_CHARS]
    text = view.plain if view.plain.strip() else view.html
    if not text.strip() and text_attachments:
        # Some senders put the whole alert in a .txt attachment with an empty body.
        text = _tidy("\n".join(text_attachments))
    view.text = text[:MAX_TEXT_CHARS]
    return view


def _charset(part: Message) -> str | None:
    try:
        value = part.get_content_charset(None)
    except Exception:
        return None
    return clean_line(str(value))[:64] if value else None


def _ctype(part: Message) -> str:
    try:
        return clean_line(part.get_content_type()).lower() or "text/plain"
    except Exception:
        return "text/plain"


def _filename(part: Message, errors: list[str]) -> str:
    try:
        name = part.get_filename(None) or part.get_param("name", None)
    except Exception:
        name = None
    if isinstance(name, tuple):  # RFC 2231 (charset, lang, value)
        name = name[2]
    if not name:
        return ""
    return decode_header_value(str(name), errors)[:255]


# ---------------------------------------------------------------------------------------------
# Fallback for messages the stdlib parser cannot handle (2,000-level nesting ...)
# ---------------------------------------------------------------------------------------------

_PART_RE = re.compile(
    rb"(?im)^content-type:[ \t]*(text/(?:plain|html))([^\r\n]*(?:\r?\n[ \t][^\r\n]*)*)\r?\n"
    rb"((?:[^\r\n]+\r?\n)*?)\r?\n")


def _flat_view(data: bytes, errors: list[str]) -> MessageView:
    """Headers via a headers-only parse; body text from the first few text parts found by a
    flat (non-recursive) scan of the raw bytes."""
    try:
        msg = BytesParser(policy=compat32).parsebytes(data, headersonly=True)
        view = MessageView(errors=errors)
        view.headers = _header_pairs(msg, errors)
        view.content_type = _ctype(msg)
    except Exception:
        view = MessageView(errors=errors)
    view.subject = view.header("subject") or ""
    view.sender = view.header("from") or ""
    view.part_types.add(view.content_type)
    _, body = split_header_block(data)
    plains: list[str] = []
    htmls: list[str] = []
    for n, m in enumerate(_PART_RE.finditer(body)):
        if n >= 20:
            break
        ctype = m.group(1).decode("ascii").lower()
        params = m.group(2).decode("ascii", "replace")
        cs = re.search(r'(?i)charset\s*=\s*"?([^";\s]+)', params)
        start = m.end()
        end = body.find(b"\n--", start)
        chunk = body[start:end if end >= 0 else start + MAX_PART_BYTES][:MAX_PART_BYTES]
        cte = re.search(rb"(?i)content-transfer-encoding:\s*([\w-]+)", m.group(3))
        if cte and cte.group(1).lower() == b"base64":
            chunk = _b64(chunk.decode("ascii", "replace")) or b""
        elif cte and cte.group(1).lower() == b"quoted-printable":
            import quopri

            chunk = quopri.decodestring(chunk)
        text = decode_bytes(chunk, cs.group(1) if cs else None, errors)
        if ctype == "text/html":
            view.html_present = True
            htmls.append(html_to_text(text))
        else:
            plains.append(text)
    if not plains and not htmls and not view.content_type.startswith("multipart/"):
        plains.append(decode_bytes(body[:MAX_PART_BYTES], None, errors))
    view.plain = _tidy("\n".join(plains))[:MAX_TEXT_CHARS]
    view.html = _tidy("\n".join(htmls))[:MAX_TEXT_CHARS]
    view.text = view.plain if view.plain.strip() else view.html
    return view
