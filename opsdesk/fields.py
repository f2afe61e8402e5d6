"""Secrets kept encrypted at rest: `EncryptedTextField` stores `enc:v1:<Fernet token>` and gives the
plaintext back to the code that reads the model (the IMAP poller logs in with it).

The key: `OPSDESK_FIELD_ENCRYPTION_KEY` (setting or environment), a comma-separated list of Fernet keys
(`Fernet.generate_key()`); the first encrypts, every one decrypts, so a new key goes first and the old
one stays listed until every row has been saved again. Without it the key is derived (HKDF-SHA256) from
`DJANGO_SECRET_KEY`, and from each of `SECRET_KEY_FALLBACKS` for reading, so rotating the secret key
the Django way keeps old rows readable.

A value that no listed key opens reads as an empty secret (and is logged, naming the setting); saving
the row unchanged writes the old ciphertext back, so a missing key never destroys the stored secret.
"""

from __future__ import annotations

import base64
import logging
import os

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

__all__ = ["EncryptedTextField", "PREFIX", "encrypt", "decrypt", "is_encrypted", "is_undecryptable"]

logger = logging.getLogger(__name__)

PREFIX = "enc:v1:"
KEY_SETTING = "OPSDESK_FIELD_ENCRYPTION_KEY"
_HKDF_INFO = b"opsdesk field encryption v1"

_cache: dict[tuple, MultiFernet] = {}


def _derived(secret: str) -> Fernet:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(secret.encode("utf-8"))
    return Fernet(base64.urlsafe_b64encode(key))


def _configured_keys() -> str:
    return (getattr(settings, KEY_SETTING, None) or os.environ.get(KEY_SETTING, "")).strip()


def _fernet() -> MultiFernet:
    listed = _configured_keys()
    fallbacks = tuple(getattr(settings, "SECRET_KEY_FALLBACKS", ()) or ())
    cache_key = (listed, settings.SECRET_KEY, fallbacks)
    if cache_key not in _cache:
        if listed:
            try:
                keys = [Fernet(part.strip()) for part in listed.split(",") if part.strip()]
            except ValueError:
                raise ImproperlyConfigured(
                    f"{KEY_SETTING} must be a comma-separated list of Fernet keys "
                    "(32 url-safe base64-encoded bytes each)") from None
        else:
            keys = [_derived(secret) for secret in (settings.SECRET_KEY, *fallbacks) if secret]
        if not keys:
            raise ImproperlyConfigured(f"{KEY_SETTING} or DJANGO_SECRET_KEY is needed to encrypt stored secrets")
        _cache[cache_key] = MultiFernet(keys)
    return _cache[cache_key]


def is_encrypted(value: str | None) -> bool:
    return bool(value) and value.startswith(PREFIX)


def encrypt(plaintext: str) -> str:
    return PREFIX + _fernet().encrypt(plaintext.encode("utf-8")).decode("ascii")


def decrypt(stored: str) -> str:
    """The plaintext of a stored value; raises `InvalidToken` when no listed key opens it."""
    return _fernet().decrypt(stored[len(PREFIX):].encode("ascii")).decode("utf-8")


class _Undecryptable(str):
    """An empty secret that remembers the ciphertext it could not open, so saving keeps it."""

    ciphertext: str

    def __new__(cls, ciphertext: str):
        value = super().__new__(cls, "")
        value.ciphertext = ciphertext
        return value


def is_undecryptable(value) -> bool:
    """A value read from the database that no listed key opened."""
    return isinstance(value, _Undecryptable)


class EncryptedTextField(models.TextField):
    """Text encrypted with Fernet in the database, plaintext in Python. Not searchable, not orderable."""

    description = "Text encrypted at rest"

    def from_db_value(self, value, expression, connection):
        if not is_encrypted(value):
            return value  # empty, or a row written before the column was encrypted (the migration encrypts it)
        try:
            return decrypt(value)
        except InvalidToken:
            logger.error("%s.%s: a stored secret cannot be decrypted with the keys in %s (or the secret key "
                         "it was derived from)", self.model._meta.label, self.name, KEY_SETTING)
            return _Undecryptable(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if isinstance(value, _Undecryptable):
            return value.ciphertext
        if value is None or value == "" or is_encrypted(value):
            return value
        return encrypt(value)
