"""One mapping from the services' Django exceptions to the API's answers.

Services raise Django's `ValidationError` (keyed by the input field it concerns, or a bare message)
and `PermissionDenied`; every API view turns them into DRF's 400 and 403 the same way:

    with service_errors():
        services.request_comment_add(...)

- a field's errors stay under the field; a form-wide one (`__all__`) goes under DRF's
  `non_field_errors`; a message that names no field goes under `detail`, or under the field the
  view names (`service_errors(field="mobile")`);
- a refusal keeps the service's (translated) message; without one, DRF's own translated default.

The messages are the services' own, already through gettext: nothing here is worded.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.settings import api_settings

__all__ = ["validation_error", "permission_denied", "service_errors"]


def validation_error(exc: DjangoValidationError, *, field: str | None = None) -> ValidationError:
    """A service's ValidationError as the API's 400 body (see the module docstring)."""
    if hasattr(exc, "error_dict"):
        non_field = api_settings.NON_FIELD_ERRORS_KEY
        return ValidationError({(non_field if key == NON_FIELD_ERRORS else key): messages
                                for key, messages in exc.message_dict.items()})
    return ValidationError({field or "detail": exc.messages})


def permission_denied(exc: DjangoPermissionDenied) -> PermissionDenied:
    return PermissionDenied(str(exc) or None)


@contextmanager
def service_errors(*, field: str | None = None) -> Iterator[None]:
    """Inside: Django's ValidationError answers 400, its PermissionDenied 403."""
    try:
        yield
    except DjangoPermissionDenied as exc:
        raise permission_denied(exc) from None
    except DjangoValidationError as exc:
        raise validation_error(exc, field=field) from None
