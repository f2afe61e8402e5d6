"""The desk's own middleware.

TrustedProxyMiddleware: forwarded headers (X-Forwarded-Proto and friends) count only from the
proxies in OPSDESK_TRUSTED_PROXIES; from anyone else they are dropped before Django reads them.

PreferredLanguageMiddleware: Chinese first. Django's LocaleMiddleware would follow the browser's
Accept-Language, so a branch PC with an English browser would show an English desk. Here only the
explicit choice (the language cookie set by the selector in the top bar) changes the language.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.utils import translation

__all__ = ["PreferredLanguageMiddleware", "TrustedProxyMiddleware"]

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
