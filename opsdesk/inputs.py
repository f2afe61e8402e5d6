"""What the desk accepts from a request before anything reads it: one place for the rules that turn
odd input into a clear 400 instead of a 500 further down.

- `ascii_int()`: a number typed into a query parameter or a search box. `str.isdigit()` is true for
  "²", "①" or "٣", and `int()` then fails on some of them; only ASCII digits count, and the number
  is bounded (a 40-digit id is not an id, and PostgreSQL's bigint would refuse it).
- `BoundedDateField`: a date from a form or a query; 0001-01-01 and 9999-12-31 are valid Python
  dates, and adding a day or a time zone to them overflows. The desk's dates lie between `DATE_MIN`
  and `DATE_MAX`.
- `unsafe_text()`: NUL (PostgreSQL refuses it in text) and lone surrogates (UTF-8 cannot encode
  them) are never part of a real request; the middleware and the JSON parser answer 400 for them.
- `SafeJSONParser`: DRF's parser with a nesting limit checked before `json.loads` recurses (100,000
  "[" overflowed the stack) and a refusal of NUL and lone surrogates in strings.
"""

from __future__ import annotations

import codecs
import json
import re
from datetime import date

from django import forms
from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

__all__ = ["ascii_int", "unsafe_text", "BoundedDateField", "DATE_MIN", "DATE_MAX", "MAX_INT",
           "MAX_JSON_DEPTH", "SafeJSONParser"]

# Room for every real date of the desk (a report since 2000, a plan to 2099), far from the ends where
# date arithmetic overflows.
DATE_MIN = date(2000, 1, 1)
DATE_MAX = date(2099, 12, 31)
# PostgreSQL's bigint; a larger "id" is not one.
MAX_INT = 2**63 - 1
# Real API bodies nest three or four levels; the limit is far above that and far below the stack.
MAX_JSON_DEPTH = 64

_ASCII_DIGITS = re.compile(r"[0-9]{1,19}")
_SURROGATE = re.compile("[\ud800-\udfff]")


def ascii_int(value: str | None, *, minimum: int = 0, maximum: int = MAX_INT) -> int | None:
    """`value` as an int if it is ASCII digits within [minimum, maximum], else None."""
    if value is None:
        return None
    value = value.strip()
    if not _ASCII_DIGITS.fullmatch(value):
        return None
    number = int(value)
    return number if minimum <= number <= maximum else None


def unsafe_text(value: str) -> str | None:
    """Why `value` can never be stored or compared as text (a translated reason), or None."""
    if "\x00" in value:
        return _("The request contains a NUL character (\\0), which the desk does not accept.")
    if _SURROGATE.search(value):
        return _("The request contains an invalid Unicode character (a lone surrogate).")
    return None


class BoundedDateField(forms.DateField):
    """A DateField that accepts only dates between DATE_MIN and DATE_MAX."""

    default_error_messages = {
        "out_of_range": gettext_lazy("Enter a date between %(min)s and %(max)s."),
    }

    def validate(self, value):
        super().validate(value)
        if value and not DATE_MIN <= value <= DATE_MAX:
            raise forms.ValidationError(self.error_messages["out_of_range"], code="out_of_range",
                                        params={"min": DATE_MIN.isoformat(), "max": DATE_MAX.isoformat()})


def _nesting_depth(text: str) -> int:
    """How deep arrays and objects nest in a JSON text, strings left out; stops past the limit."""
    depth = deepest = 0
    for match in re.finditer(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_JSON_DEPTH:
                    return deepest
        elif token in "]}":
            depth -= 1
    return deepest


def _strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


class SafeJSONParser(JSONParser):
    """JSONParser that answers 400 (not a RecursionError or a database error) for too deep nesting,
    NUL and lone surrogates."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
        except UnicodeDecodeError:
            raise ParseError(_("JSON parse error: the body is not valid %(encoding)s.") % {"encoding": encoding}) from None
        if _nesting_depth(text) > MAX_JSON_DEPTH:
            raise ParseError(_("JSON parse error: nested deeper than %(depth)d levels.") % {"depth": MAX_JSON_DEPTH})
        try:
            data = json.loads(text, parse_constant=self._refuse_constant) if self.strict else json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise ParseError(_("JSON parse error: %(error)s") % {"error": exc}) from None
        for string in _strings(data):
            if problem := unsafe_text(string):
                raise ParseError(_("JSON parse error: %(error)s") % {"error": problem})
        return data

    @staticmethod
    def _refuse_constant(name):
        raise ValueError(_("%(name)s is not a number JSON allows") % {"name": name})
