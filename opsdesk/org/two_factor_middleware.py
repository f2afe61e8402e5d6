"""Until a session has passed the second factor, it reaches only the two-factor pages.

After django_otp.middleware.OTPMiddleware (which tells whether this session's second factor was
verified). Pages redirect to the code step (or to enrolment for a person who has no authenticator
yet); session-authenticated API calls get 403 with a Chinese detail. API calls with a token carry
no session here: the token endpoint itself asks for the code (opsdesk/org/two_factor.py).
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from opsdesk.org.two_factor import has_confirmed_device, needs_verification

__all__ = ["TwoFactorMiddleware", "TWO_FACTOR_PREFIX"]

TWO_FACTOR_PREFIX = "/accounts/two-factor/"
# Probes and scrapes, static files, the language switch and logout never need the second factor.
_OPEN_PATHS = ("/healthz", "/readyz", "/metrics", "/i18n/", TWO_FACTOR_PREFIX)


class TwoFactorMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        refusal = self.refuse_unverified(request)
        return refusal if refusal is not None else self.get_response(request)

    @staticmethod
    def may_pass(request) -> bool:
        path = request.path
        return (path.startswith(_OPEN_PATHS) or path.startswith("/" + settings.STATIC_URL.lstrip("/"))
                or path == reverse("logout"))

    def refuse_unverified(self, request):
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated or self.may_pass(request):
            return None
        if user.is_verified() or not needs_verification(user):
            return None
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": _("Enter your two-factor code on the web page before using the API.")},
                                status=403)
        step = "two_factor_verify" if has_confirmed_device(user) else "two_factor_enrol"
        return redirect(f"{reverse(step)}?{urlencode({'next': request.get_full_path()})}")
