"""Chinese first: the desk speaks zh-hans unless the person chose another language.

Django's LocaleMiddleware would follow the browser's Accept-Language, so a branch PC with an
English browser would show an English desk. Here only the explicit choice (the language cookie set
by the selector in the top bar) changes the language.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import translation

__all__ = ["PreferredLanguageMiddleware"]


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
