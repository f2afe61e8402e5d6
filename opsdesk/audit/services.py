"""Every write to the security audit: `security_event_record()`. Other parts of the desk (the unlock
of a locked-out account, the reset of a second factor) call it too.

The request being served (who, from where) is kept in a context variable by
`opsdesk.audit.middleware.AuditMiddleware`, so an account change made in the admin or the API names the
administrator who made it without every caller passing the request along.
"""

from __future__ import annotations

import contextvars
import ipaddress
from dataclasses import dataclass

from opsdesk.audit.models import SecurityEvent, SecurityEventKind

__all__ = ["RequestOrigin", "current_origin", "origin_of", "use_origin", "reset_origin", "security_event_record"]


@dataclass
class RequestOrigin:
    """Who and from where. The person is read from the request only when needed: reading it loads the
    session and the account, which must not happen before the view (a database outage is the view's 503)."""

    request: object | None = None
    ip_address: str | None = None
    user_agent: str = ""
    path: str = ""
    explicit_user: object | None = None
    # Set when the person was authenticated during the request (login, an API token), not before it.
    late: bool = False

    @property
    def user(self):
        if self.explicit_user is not None:
            return self.explicit_user
        user = getattr(self.request, "user", None)
        return user if user is not None and getattr(user, "is_authenticated", False) else None

    @property
    def signed_in(self) -> bool:
        """Signed in when the request arrived (an administrator at work, not somebody logging in)."""
        return not self.late and self.user is not None


def _address(value: str | None) -> str | None:
    """REMOTE_ADDR as TrustedProxyMiddleware left it; anything that is not an address is dropped."""
    try:
        return str(ipaddress.ip_address((value or "").strip()))
    except ValueError:
        return None


def origin_of(request) -> RequestOrigin:
    meta = getattr(request, "META", {})
    return RequestOrigin(
        request=request,
        ip_address=_address(meta.get("REMOTE_ADDR")),
        user_agent=(meta.get("HTTP_USER_AGENT") or "")[:300],
        path=(getattr(request, "path", "") or "")[:300],
    )


_origin: contextvars.ContextVar[RequestOrigin | None] = contextvars.ContextVar("opsdesk_audit_origin", default=None)


def use_origin(origin: RequestOrigin | None) -> contextvars.Token:
    return _origin.set(origin)


def reset_origin(token: contextvars.Token) -> None:
    _origin.reset(token)


def current_origin() -> RequestOrigin | None:
    return _origin.get()


def security_event_record(*, kind: SecurityEventKind | str, success: bool = True, request=None, actor=None,
                          username: str = "", target: str = "", details: dict | None = None) -> SecurityEvent:
    """Append one security event. `request` (or else the request being served) gives who and where."""
    origin = origin_of(request) if request is not None else (current_origin() or RequestOrigin())
    actor = actor if actor is not None else origin.user
    if actor is not None and not getattr(actor, "pk", None):
        actor = None
    return SecurityEvent.objects.create(
        kind=kind, success=success, actor=actor,
        username=(username or getattr(actor, "username", "") or "")[:150],
        target=target[:300], ip_address=origin.ip_address, user_agent=origin.user_agent,
        details=details or {},
    )
