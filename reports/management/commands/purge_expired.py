"""python manage.py purge_expired [--dry-run] [--only KIND ...]"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from reports.retention import KINDS, purge_expired


class Command(BaseCommand):
    help = ("Purge what is past its retention (OPSDESK_RETENTION_*): the raw copy of alert mail, delivered "
            "notifications, expired sessions. Audit trails are never purged. Prints one line per kind.")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="count what would be purged; change nothing")
        parser.add_argument("--only", action="append", choices=KINDS, metavar="KIND",
                            help=f"purge only this kind (repeatable): {', '.join(KINDS)}")

    def handle(self, *args, dry_run: bool, only: list[str] | None, **options):
        for report in purge_expired(kinds=tuple(only or KINDS), dry_run=dry_run):
            self.stdout.write(report.line())
