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

`exception_handler` (REST_FRAMEWORK's EXCEPTION_HANDLER) adds what DRF leaves as a 500: deleting a
row that others still refer to (PROTECT/RESTRICT) answers 409 with what refers to it, and a unique
or foreign-key clash the serializer could not foresee (two requests at once) answers 409.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

__all__ = ["validation_error", "permission_denied", "service_errors", "exception_handler"]


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


def exception_handler(exc, context):
    """DRF's handler, plus 409 for deletes of referenced rows and for integrity clashes."""
    if isinstance(exc, ProtectedError | RestrictedError):
        objects = exc.protected_objects if isinstance(exc, ProtectedError) else exc.restricted_objects
        counts: dict[str, int] = {}
        for obj in objects:
            label = str(obj._meta.verbose_name)
            counts[label] = counts.get(label, 0) + 1
        referenced_by = [{"model": label, "count": count} for label, count in sorted(counts.items())]
        summary = ", ".join(f"{item['model']} ×{item['count']}" for item in referenced_by)
        return Response({"detail": _("This cannot be deleted: other records still refer to it (%(what)s). "
                                     "Deactivate it instead, or move those records first.") % {"what": summary},
                         "referenced_by": referenced_by}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, IntegrityError):
        return Response({"detail": _("This conflicts with a record that already exists (a name or code must be "
                                     "unique). Reload and check.")}, status=status.HTTP_409_CONFLICT)
    return drf_exception_handler(exc, context)
