"""The audit as CSV. A cell that a spreadsheet would read as a formula (= + - @, and tab or carriage
return before one) is written with a leading apostrophe: text, never a live formula."""

from __future__ import annotations

import csv
import io
import json

from django.utils import timezone
from django.utils.translation import gettext as _

__all__ = ["safe_cell", "security_events_csv", "configuration_changes_csv"]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _write(header: list[str], rows) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    # A BOM so that Excel opens the Chinese text as UTF-8.
    return "\ufeff" + buffer.getvalue()


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M:%S") if value else ""


def security_events_csv(events) -> str:
    return _write(
        [_("Time"), _("Kind"), _("Person"), _("Concerning"), _("From address"), _("Result"), _("Details")],
        ([_when(e.at), e.get_kind_display(), e.username, e.target, e.ip_address or "",
          _("Succeeded") if e.success else _("Failed"), json.dumps(e.details, ensure_ascii=False, default=str)]
         for e in events))


def configuration_changes_csv(changes) -> str:
    return _write(
        [_("Time"), _("Object"), _("Object id"), _("Change"), _("Person"), _("From address"), _("Before/after")],
        ([_when(c.pgh_created_at), c.pgh_obj_model, c.pgh_obj_id, c.pgh_label, c.username, c.ip_address,
          json.dumps(c.pgh_diff if c.pgh_label == "update" else c.pgh_data, ensure_ascii=False, default=str)]
         for c in changes))
