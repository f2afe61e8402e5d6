"""``manage.py parse_alert_email FILE... [--json]``: show how the parser reads .eml files.

Stores nothing. Uses the enabled admin parsing rules when the ``ParsingRule`` model and its table
exist, else the built-in parsers only.
"""
from __future__ import annotations

import json
import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import DatabaseError

from alerts.models import ParsingRule
from alerts.parsing import ParseError, ParseResult, Rule, format_utc, parse_message

__all__ = ["Command", "load_rules", "result_as_dict"]


def load_rules() -> list[Rule]:
    """Enabled admin rules, or none while the table does not exist yet (before `migrate`)."""
    try:
        return [r.to_rule() for r in ParsingRule.objects.filter(enabled=True).order_by("priority", "pk")]
    except DatabaseError:
        return []


def result_as_dict(name: str, result: ParseResult) -> dict[str, Any]:
    return {
        "file": name,
        "is_alert": result.is_alert,
        "source": result.source,
        "host": result.host,
        "check": result.check,
        "severity": result.severity,
        "status": result.status,
        "category": result.category,
        "dedup_key": result.dedup_key,
        "sent_at": format_utc(result.sent_at),
        "alerts": [
            {"host": a.host, "check": a.check, "severity": a.severity, "status": a.status,
             "category": a.category, "dedup_key": a.dedup_key, "identity": a.identity,
             "needs_review": a.needs_review, "message": a.message}
            for a in result.alerts
        ],
        "subject": result.subject,
        "sender": result.sender,
        "message_id": result.message_id,
        "fingerprint": result.fingerprint,
        "reason": result.reason,
        "errors": list(result.errors),
    }


class Command(BaseCommand):
    help = "Parse alert e-mails (.eml) and print what the desk would ingest; stores nothing."
    # A read-only diagnostic: it must work even while unrelated apps fail their system checks.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE", help=".eml files to parse")
        parser.add_argument("--json", action="store_true", help="one JSON object per line")

    def handle(self, *args: Any, **options: Any) -> None:
        rules = load_rules()
        as_json = options["json"]
        failed = 0
        rows: list[dict[str, Any]] = []
        for path in options["files"]:
            name = os.path.basename(path)
            try:
                with open(path, "rb") as fh:
                    raw = fh.read()
            except OSError as exc:
                failed += 1
                row = {"file": name, "error": "cannot read: %s" % (exc.strerror or exc)}
            else:
                try:
                    row = result_as_dict(name, parse_message(raw, rules=rules))
                except ParseError as exc:
                    failed += 1
                    row = {"file": name, "error": str(exc), "is_alert": True, "alerts": [],
                           "errors": list(exc.result.errors) if exc.result else [str(exc)]}
            if as_json:
                self.stdout.write(json.dumps(row, ensure_ascii=False))
            else:
                rows.append(row)
        if not as_json:
            self._table(rows)
        if failed:
            raise CommandError(f"{failed} file(s) could not be parsed", returncode=1)

    def _table(self, rows: list[dict[str, Any]]) -> None:
        header = ("file", "alert", "source", "host", "check", "severity", "status", "category",
                  "sent_at")
        lines = [header]
        for row in rows:
            if "error" in row:
                lines.append((row["file"], "ERROR", row["error"], "", "", "", "", "", ""))
                continue
            alerts = row["alerts"] or [{"host": "", "check": "", "severity": row["severity"],
                                        "status": row["status"], "category": row["category"]}]
            for i, a in enumerate(alerts):
                lines.append((row["file"] if i == 0 else "", "yes" if row["is_alert"] else "no",
                              row["source"], a["host"], a["check"][:50], a["severity"], a["status"],
                              a["category"], row["sent_at"] or "-"))
            if not row["is_alert"] and row["reason"]:
                lines[-1] = lines[-1][:4] + ("({})".format(row["reason"]),) + lines[-1][5:]
        widths = [max(len(str(line[i])) for line in lines) for i in range(len(header))]
        for line in lines:
            self.stdout.write("  ".join(str(v).ljust(w) for v, w in zip(line, widths, strict=False)).rstrip())
