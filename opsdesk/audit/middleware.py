"""Per request: who and from where, for the security audit and for the configuration history; and the
break-glass rule: every request a superuser makes is audited ("superuser used").

After AuthenticationMiddleware. API callers (tokens) are authenticated later, inside the view: the
request's class is swapped for one that passes the person on as soon as the API sets `request.user`,
and the superuser check runs after the response.
"""

from __future__ import annotations

import logging

from django.core.handlers.wsgi import WSGIRequest
from django.db import DatabaseError, connection

from opsdesk.audit.history import history_context
from opsdesk.audit.models import SecurityEventKind
from opsdesk.audit.services import current_origin, origin_of, reset_origin, security_event_record, use_origin

__all__ = ["AuditMiddleware"]

logger = logging.getLogger(__name__)


class _AuditedRequest(WSGIRequest):
    """Notes that the person was authenticated during the request (login, or the API's token check)."""

    def __setattr__(self, name, value):
        super().__setattr__(name, value)
        if name == "user":
            origin = current_origin()
            if origin is not None and origin.request is self:
                origin.late = True


class AuditMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        origin = origin_of(request)
        token = use_origin(origin)
        if type(request) is WSGIRequest:
            request.__class__ = _AuditedRequest
        try:
            # The configuration history is written by PostgreSQL triggers; none on SQLite.
            if connection.vendor == "postgresql":
                def metadata() -> dict:
                    user = origin.user
                    return {"user": user.pk if user is not None else None, "ip": origin.ip_address,
                            "url": origin.path}

                with history_context(metadata):
                    response = self.get_response(request)
            else:
                response = self.get_response(request)
            self._audit_superuser(request, response)
            return response
        finally:
            reset_origin(token)

    @staticmethod
    def _audit_superuser(request, response) -> None:
        try:
            user = getattr(request, "user", None)
            if user is None or not (getattr(user, "is_superuser", False) and user.is_active):
                return
            security_event_record(kind=SecurityEventKind.SUPERUSER_USED, request=request, actor=user,
                                  target=f"{request.method} {request.get_full_path()[:290]}",
                                  success=response.status_code < 400, details={"status": response.status_code})
        except DatabaseError:
            # The database is away (the response is already the 503): nothing can be written anywhere.
            logger.exception("could not record a superuser request in the security audit")
