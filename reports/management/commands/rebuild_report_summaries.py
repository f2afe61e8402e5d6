"""python manage.py rebuild_report_summaries [--check]"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from reports.services import summaries_rebuild


class Command(BaseCommand):
    help = ("Recompute the statistics summaries from the audit trails of requests and incidents "
            "(back-fill). With --check, change nothing and report rows that differ (exit status 1).")

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="compare only; change nothing")

    def handle(self, *args, check: bool, **options):
        started = time.monotonic()
        report = summaries_rebuild(check_only=check)
        rows = ", ".join(f"{name} {n}" for name, n in report["rows"].items())
        self.stdout.write(f"{report['requests']} requests, {report['incident_events']} incident steps → {rows} "
                          f"({time.monotonic() - started:.1f} s)")
        if check:
            differing = {name: n for name, n in report["differences"].items() if n}
            if differing:
                raise CommandError("summaries differ from the audit trails: "
                                   + ", ".join(f"{name} {n} rows" for name, n in differing.items()))
            self.stdout.write("summaries agree with the audit trails")
        else:
            self.stdout.write("summaries rebuilt")
