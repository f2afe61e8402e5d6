"""``key: value`` lines as written by notifiers and scripts (ASCII or full-width colons)."""
from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Field", "parse_fields", "first_value", "all_values", "norm_key"]

_LINE_RE = re.compile(r"^[ \t>*\-•·]*([^:：=\n]{1,40}?)[ \t]*[:：][ \t]*(.*?)[ \t]*$")
_MAX_FIELDS = 400


@dataclass(frozen=True)
class Field:
    line: int
    key: str      # normalised: lower-case, inner spaces collapsed (CJK keys without spaces)
    raw_key: str
    value: str


def norm_key(key: str) -> str:
    key = re.sub(r"[*_`【】\[\]]", "", key).strip().lower()
    key = re.sub(r"\s+", " ", key).rstrip(". ")  # HP-UX EMS pads keys: "Severity......:"
    if not key.isascii():
        key = key.replace(" ", "")
    return key


def parse_fields(text: str, max_lines: int = 4000) -> list[Field]:
    """All ``key: value`` lines of ``text`` (first ``max_lines`` lines), in order."""
    out: list[Field] = []
    for i, line in enumerate(text.split("\n")[:max_lines]):
        m = _LINE_RE.match(line)
        if not m:
            continue
        key = norm_key(m.group(1))
        if not key or key.startswith(("http", "https", "ftp", "t3", "mailto")) or key.isdigit():
            continue
        out.append(Field(i, key, m.group(1).strip(), m.group(2).strip()))
        if len(out) >= _MAX_FIELDS:
            break
    return out


def first_value(fields: list[Field], *keys: str, nonempty: bool = True) -> str | None:
    """Value of the first field whose key is one of ``keys`` (``keys`` order is priority)."""
    for key in keys:
        for f in fields:
            if f.key == key and (f.value or not nonempty):
                return f.value
    return None


def all_values(fields: list[Field], *keys: str) -> list[Field]:
    wanted = set(keys)
    return [f for f in fields if f.key in wanted and f.value]
