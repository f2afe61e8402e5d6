"""The desk's own middleware.

TrustedProxyMiddleware: forwarded headers (X-Forwarded-Proto and friends) count only from the
proxies in OPSDESK_TRUSTED_PROXIES; from anyone else they are dropped before Django reads them.

PreferredLanguageMiddleware: Chinese first. Django's LocaleMiddleware would follow the browser's
Accept-Language, so a branch PC with an English browser would show an English desk. Here only the
explicit choice (the language cookie set by the selector in the top bar) changes the language.

InputSafetyMiddleware: a NUL byte or a lone surrogate anywhere in the path or the query string
answers 400 before any view passes it to PostgreSQL (which refuses NUL in text: a 500 before).
"""

from __future__ import annotations

import ipaddress
import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import SESSION_KEY, logout
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _

from opsdesk.inputs import unsafe_text
from opsdesk.views import bad_request_response

__all__ = ["PreferredLanguageMiddleware", "TrustedProxyMiddleware", "SessionPolicyMiddleware", "client_address", "InputSafetyMiddleware"]

# What a proxy says about the original request; META names as WSGI servers present them.
FORWARDED_HEADERS = ("HTTP_X_FORWARDED_PROTO", "HTTP_X_FORWARDED_PROTOCOL", "HTTP_X_FORWARDED_SSL",
                     "HTTP_X_FORWARDED_FOR", "HTTP_X_FORWARDED_HOST", "HTTP_X_FORWARDED_PORT",
                     "HTTP_X_REAL_IP", "HTTP_FORWARDED")


class TrustedProxyMiddleware:
    """Before SecurityMiddleware: SECURE_PROXY_SSL_HEADER believes X-Forwarded-Proto from anyone, and
    gunicorn passes it on from anyone (it only ignores it itself). A peer outside
    OPSDESK_TRUSTED_PROXIES therefore loses the header, and a client reaching gunicorn directly
    over plain HTTP is plain HTTP. A Unix-socket peer (no address) is a local proxy, as for gunicorn."""

    def __init__(self, get_response):
        self.get_response = get_response
        proxies = settings.OPSDESK_TRUSTED_PROXIES
        self.trust_all = "*" in proxies
        self.networks = [ipaddress.ip_network(p, strict=False) for p in proxies if p != "*"]

    def trusted(self, peer: str) -> bool:
        if self.trust_all or not peer:
            return True
        try:
            address = ipaddress.ip_address(peer)
        except ValueError:
            return False
        if address.version == 6 and address.ipv4_mapped:
            address = address.ipv4_mapped
        return any(address in network for network in self.networks)

    def __call__(self, request):
        if not self.trusted(request.META.get("REMOTE_ADDR", "")):
            for name in FORWARDED_HEADERS:
                request.META.pop(name, None)
        return self.get_response(request)


class PreferredLanguageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.available = {code for code, _name in settings.LANGUAGES}

    def __call__(self, request):
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        language = chosen if chosen in self.available else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


class InputSafetyMiddleware:
    """After authentication (the 400 page shows the site's layout for the person): refuses a request
    whose path or query string holds text no view can store or compare (see opsdesk.inputs)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        candidates = [request.path_info]
        for key, values in request.GET.lists():
            candidates.append(key)
            candidates.extend(values)
        for text in candidates:
            if problem := unsafe_text(text):
                return bad_request_response(request, problem)
        return self.get_response(request)


# --- Sessions (issue 17) -------------------------------------------------------------------------------
# SessionPolicyMiddleware: a session ends after OPSDESK_SESSION_IDLE_MINUTES without a request and
# OPSDESK_SESSION_MAX_HOURS after login; a password older than OPSDESK_PASSWORD_MAX_AGE_DAYS sends its
# owner to the change-password page until it is changed. client_address(): the address a login attempt
# is counted against (django-axes, AXES_CLIENT_IP_CALLABLE).


def _in_proxies(address: str) -> bool:
    proxies = settings.OPSDESK_TRUSTED_PROXIES
    if "*" in proxies:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip in ipaddress.ip_network(p, strict=False) for p in proxies if p != "*")


def client_address(request) -> str:
    """The real client. TrustedProxyMiddleware has already dropped X-Forwarded-For from any peer outside
    OPSDESK_TRUSTED_PROXIES, so a forwarded address here came through our proxy. Read it right to left past
    our own proxies (a client may write anything on the left); without the header, the socket peer."""
    peer = request.META.get("REMOTE_ADDR", "") or ""
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if not forwarded or (peer and not _in_proxies(peer)):
        return peer
    address = peer
    for hop in reversed([hop.strip() for hop in forwarded.split(",")]):
        try:
            address = str(ipaddress.ip_address(hop))
        except ValueError:
            break  # garbage: keep the last address we could trust
        if not _in_proxies(address) or "*" in settings.OPSDESK_TRUSTED_PROXIES:
            return address
    return address


SESSION_LOGIN_AT = "opsdesk_login_at"
SESSION_SEEN_AT = "opsdesk_seen_at"
# Refresh the idle timer (a session write) at most this often, not on every poll of the board.
SEEN_REFRESH_SECONDS = 60


class SessionPolicyMiddleware:
    """After AuthenticationMiddleware and MessageMiddleware. Every request of a logged-in person counts
    as activity, the live board's polling included: operators watch the board through the night and
    its alarm must not die at 3 a.m. because nobody clicked; the absolute limit (a shift) still ends a
    board left open, and the duty room is a controlled space. API calls with a token are not sessions
    (their tokens expire on their own)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            refusal = self.enforce(request, user)
            if refusal is not None:
                return refusal
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # The login itself: its clocks start now, not at the next page. (A session login only: an API call
        # with a token has no session, and must not get one.)
        if session is not None and SESSION_KEY in session and SESSION_LOGIN_AT not in session:
            session[SESSION_LOGIN_AT] = session[SESSION_SEEN_AT] = time.time()
        return response

    def enforce(self, request, user):
        session = request.session
        now = time.time()
        login_at = session.get(SESSION_LOGIN_AT)
        seen_at = session.get(SESSION_SEEN_AT)
        if login_at is None:
            session[SESSION_LOGIN_AT] = login_at = now
        if seen_at is None:
            session[SESSION_SEEN_AT] = seen_at = now
        idle = now - seen_at > settings.OPSDESK_SESSION_IDLE_MINUTES * 60
        too_old = now - login_at > settings.OPSDESK_SESSION_MAX_HOURS * 3600
        if idle or too_old:
            logout(request)
            message = (_("You were away too long: your session has ended. Please log in again.") if idle else
                       _("Your session has reached its time limit. Please log in again."))
            return self.refuse(request, message, status=401)
        if now - seen_at >= SEEN_REFRESH_SECONDS:
            session[SESSION_SEEN_AT] = now  # saves the session: its cookie starts a new idle period
        if user.password_expired(settings.OPSDESK_PASSWORD_MAX_AGE_DAYS) and not self.may_pass(request):
            return self.refuse(request, _("Your password has expired. Choose a new one to go on."), status=403,
                               to=reverse("password_change"))
        return None

    @staticmethod
    def may_pass(request) -> bool:
        allowed = {reverse("password_change"), reverse("password_change_done"), reverse("logout")}
        # The second factor comes before the new password (opsdesk/org/two_factor_middleware.py).
        return request.path in allowed or request.path.startswith(("/i18n/", "/accounts/two-factor/",
                                                                    "/" + settings.STATIC_URL.lstrip("/")))

    @staticmethod
    def refuse(request, message: str, *, status: int, to: str | None = None):
        if request.path.startswith("/api/") or "application/json" in request.headers.get("Accept", ""):
            return JsonResponse({"detail": message}, status=status)
        messages.warning(request, message)
        if to is None:
            to = f"{reverse('login')}?{urlencode({'next': request.get_full_path()})}"
        return redirect(to)
