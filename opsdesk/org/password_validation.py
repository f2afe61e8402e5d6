"""Password rules beyond Django's four (settings.AUTH_PASSWORD_VALIDATORS): character classes.

GB/T 22239-2019 8.1.4.1 a) asks for passwords of some complexity; the bank's standard reads that as
at least three of upper-case letters, lower-case letters, digits and symbols.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

__all__ = ["CharacterClassValidator"]

CLASSES = {
    "upper": str.isupper,
    "lower": str.islower,
    "digit": lambda ch: ch.isascii() and ch.isdigit(),
    # Anything printable that is not a letter or a digit: punctuation, a space, a CJK symbol.
    "symbol": lambda ch: not ch.isalnum(),
}


class CharacterClassValidator:
    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def validate(self, password: str, user=None) -> None:
        present = {name for name, test in CLASSES.items() if any(test(ch) for ch in password)}
        if len(present) < self.min_classes:
            raise ValidationError(self.get_help_text(), code="password_too_simple")

    def get_help_text(self) -> str:
        return _("Your password must contain at least %(count)d of these four: upper-case letters, lower-case "
                 "letters, digits, symbols.") % {"count": self.min_classes}
