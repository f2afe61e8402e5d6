"""python manage.py import_people FILE [--dry-run] [--strict] [--deactivate-missing]"""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from opsdesk.org.importing import HEADERS, ImportFileError, apply_import, plan_import, read_rows


class Command(BaseCommand):
    help = ("Import units and people from the teller-management export (.xlsx, or .csv in UTF-8 or GBK). "
            "Columns: " + "; ".join(f"{key}: {' / '.join(names[:2])}" for key, names in HEADERS.items()))

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="print what would change, change nothing")
        parser.add_argument("--strict", action="store_true", help="change nothing if any row has an error")
        parser.add_argument("--deactivate-missing", action="store_true",
                            help="mark inactive the people of the file's units whom the file no longer lists")

    def handle(self, *args, file: Path, dry_run: bool, strict: bool, deactivate_missing: bool, **options) -> None:
        if not file.is_file():
            raise CommandError(f"{file}: no such file")
        try:
            plan = plan_import(read_rows(file), deactivate_missing=deactivate_missing)
        except ImportFileError as exc:
            raise CommandError(str(exc)) from None
        for line in plan.lines():
            self.stdout.write(line)
        if dry_run:
            self.stdout.write("dry run: nothing changed")
            return
        bad_rows = len({row for row, _message in plan.errors})
        if strict and bad_rows:
            raise CommandError(f"--strict: {bad_rows} row(s) with errors, nothing changed")
        apply_import(plan)
        self.stdout.write(f"done: {plan.changes} change(s)")
        if bad_rows:
            raise CommandError(f"{bad_rows} row(s) skipped with errors (the others were imported)")
