"""Encrypt every stored secret again with the current key (opsdesk.fields), after a key rotation:

    manage.py reencrypt_secrets

Run it with the new key first and the old one still listed (OPSDESK_FIELD_ENCRYPTION_KEY="new,old",
or the old DJANGO_SECRET_KEY in DJANGO_SECRET_KEY_FALLBACKS); afterwards the old key can go.
"""

from __future__ import annotations

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from opsdesk.fields import EncryptedTextField, is_undecryptable


class Command(BaseCommand):
    help = "Encrypt every stored secret again with the first (current) field-encryption key."

    def handle(self, *args, **options):
        unreadable = 0
        for model in apps.get_models():
            fields = [f.name for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
            if not fields:
                continue
            with transaction.atomic():
                for row in model._default_manager.select_for_update().only("pk", *fields):
                    values = {name: getattr(row, name) for name in fields}
                    unreadable += sum(1 for v in values.values() if is_undecryptable(v))
                    # Reading decrypted with any listed key; writing encrypts with the first.
                    model._default_manager.filter(pk=row.pk).update(**values)
            self.stdout.write(f"{model._meta.label}: {', '.join(fields)} encrypted again")
        if unreadable:
            raise CommandError(f"{unreadable} secret(s) could not be decrypted with the listed keys and were left "
                               "as they were: list the key they were written with in OPSDESK_FIELD_ENCRYPTION_KEY")
