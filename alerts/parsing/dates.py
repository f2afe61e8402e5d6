"""``Date`` header -> aware UTC datetime, following the corpus contract.

CST and a missing zone mean China Standard Time (+08:00); two-digit years are 20xx; ctime and
``YYYY-MM-DD HH:MM:SS`` / ``YYYY/MM/DD HH:MM:SS`` are accepted; anything else gives None.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_tz

__all__ = ["CHINA_TZ", "parse_date", "format_utc"]

CHINA_TZ = timezone(timedelta(hours=8))
_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}
# Zone names we trust; in a Chinese data centre CST is China Standard Time, not US Central.
_ZONES = {"CST": 8 * 60, "UTC": 0, "UT": 0, "GMT": 0, "Z": 0, "BJT": 8 * 60, "HKT": 8 * 60}
_ZONE = r"(?P<zone>Z|[A-Za-z]{1,5}|[+-]\d{2}:?\d{2})"

_ISO_RE = re.compile(
    r"^(?P<y>\d{4})[-/.](?P<mo>\d{1,2})[-/.](?P<d>\d{1,2})[ T]+(?P<h>\d{1,2}):(?P<mi>\d{2})"
    r"(?::(?P<s>\d{2}))?(?:\.\d+)?\s*" + _ZONE + r"?$")
_CTIME_RE = re.compile(
    r"^(?:[A-Za-z]{3},?\s+)?(?P<mon>[A-Za-z]{3})\s+(?P<d>\d{1,2})\s+(?P<h>\d{1,2}):(?P<mi>\d{2})"
    r"(?::(?P<s>\d{2}))?\s+(?:" + _ZONE + r"\s+)?(?P<y>\d{4})$")
_TWO_DIGIT_YEAR_RE = re.compile(
    r"(\b\d{1,2}\s+(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)[a-z]*\.?\s+)(\d{2})(\s)", re.I)


def _offset(zone: str | None) -> int | None:
    """Minutes east of UTC; None for an unknown zone name."""
    if not zone:
        return 8 * 60
    z = zone.upper()
    if z in _ZONES:
        return _ZONES[z]
    m = re.fullmatch(r"([+-])(\d{2}):?(\d{2})", z)
    if m:
        minutes = int(m.group(2)) * 60 + int(m.group(3))
        return -minutes if m.group(1) == "-" else minutes
    return None


def _build(y: int, mo: int, d: int, h: int, mi: int, s: int, offset: int | None) -> datetime | None:
    if offset is None or not 1970 <= y <= 2200 or abs(offset) > 14 * 60:
        return None
    try:
        local = datetime(y, mo, d, h, mi, s, tzinfo=timezone(timedelta(minutes=offset)))
    except (ValueError, OverflowError):
        return None
    return local.astimezone(UTC)


def parse_date(value: str | None) -> datetime | None:
    """Parse a Date header value; returns an aware UTC datetime or None."""
    if not value:
        return None
    v = re.sub(r"\s+", " ", str(value)).strip()
    v = re.sub(r"\s*\([^()]*\)\s*$", "", v).strip()  # trailing comment such as "(CST)"
    if not v or len(v) > 100:
        return None
    m = _ISO_RE.match(v)
    if m:
        return _build(int(m["y"]), int(m["mo"]), int(m["d"]), int(m["h"]), int(m["mi"]),
                      int(m["s"] or 0), _offset(m["zone"]))
    m = _CTIME_RE.match(v)
    if m and m["mon"].lower() in _MONTHS:
        return _build(int(m["y"]), _MONTHS[m["mon"].lower()], int(m["d"]), int(m["h"]),
                      int(m["mi"]), int(m["s"] or 0), _offset(m["zone"]))
    v = _TWO_DIGIT_YEAR_RE.sub(lambda m: m.group(1) + "20" + m.group(2) + m.group(3), v + " ").strip()
    zone = re.search(r"\s([A-Za-z]{1,5})$", v)
    offset: int | None
    if zone and zone.group(1).upper() in _ZONES:
        offset = _ZONES[zone.group(1).upper()]
        v = v[:zone.start()]
        explicit = True
    else:
        offset, explicit = None, False
    try:
        parts = parsedate_tz(v)
    except Exception:
        return None
    if not parts:
        return None
    y, mo, d, h, mi, s = parts[:6]
    if not explicit:
        # parsedate_tz reports a missing zone as 0: look for one ourselves (none means +08:00).
        if re.search(r"(?:[+-]\d{4}|[A-Za-z]{1,5})$", v):
            offset = (parts[9] or 0) // 60
        else:
            offset = 8 * 60
    if y < 100:
        y += 2000
    return _build(y, mo, d, h, mi, s, offset)


def format_utc(value: datetime | None) -> str | None:
    """``YYYY-MM-DDTHH:MM:SSZ`` or None."""
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
