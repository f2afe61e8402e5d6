"""python manage.py seed_org --scale demo|bank"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from opsdesk.org.seeding import DEMO_PASSWORD, SCALES, seed_org


class Command(BaseCommand):
    help = "Create the demo organisation, or one at the article's scale (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--scale", choices=sorted(SCALES), default="demo")

    def handle(self, *args, scale: str, **options):
        started = time.monotonic()
        report = seed_org(scale)
        elapsed = time.monotonic() - started
        created = ", ".join(f"{k} +{v}" for k, v in report.created.items())
        totals = ", ".join(f"{k} {v}" for k, v in report.totals.items())
        self.stdout.write(f"seed_org --scale {scale}: {created} (now {totals}) in {elapsed:.1f} s")
        if report.logins:
            self.stdout.write(f"\nDemo logins (password for all: {DEMO_PASSWORD}):")
            for username, role, unit in report.logins:
                self.stdout.write(f"  {username:<22} {role:<12} {unit}")
