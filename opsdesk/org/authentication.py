"""Signing in to the bank's standard: the lockout answer (django-axes), logout that also revokes the
person's API tokens, the change-own-password pages and an admin that never shows a token.

The lockout itself is configured in settings ("Sessions and lockout"); the security administrator
unlocks an account or address by deleting its access attempt in the admin (the axes app is the
security duty's, opsdesk/org/duties.py), or with `manage.py axes_reset_username <name>` / `axes_reset_ip <address>`.
"""

from __future__ import annotations

import binascii
from hmac import compare_digest

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import views as auth_views
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken
from knox.settings import CONSTANTS, knox_settings
from knox.signals import token_expired
from rest_framework import exceptions

__all__ = ["lockout_message", "lockout_response", "LockoutHandler", "LogoutView", "PasswordChangeView",
           "PasswordChangeDoneView", "TokenAdmin", "install_token_admin", "revoke_tokens", "TokenAuthentication",
           "expired_tokens_purge"]


def lockout_message() -> str:
    minutes = settings.OPSDESK_LOGIN_LOCKOUT_MINUTES
    if minutes:
        return _("Too many failed logins: the account is locked for %(minutes)d minutes. Try again later, or ask "
                 "the security administrator to unlock it.") % {"minutes": minutes}
    return _("Too many failed logins: the account is locked until the security administrator unlocks it.")


def lockout_response(request, original_response=None, credentials=None):
    """AXES_LOCKOUT_CALLABLE: JSON on the API, the site's page elsewhere; 429 with Retry-After."""
    message = lockout_message()
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": message}, status=429)
    else:
        response = render(request, "registration/locked.html", {"message": message}, status=429)
    if settings.OPSDESK_LOGIN_LOCKOUT_MINUTES:
        response["Retry-After"] = str(settings.OPSDESK_LOGIN_LOCKOUT_MINUTES * 60)
    return response


class LockoutHandler(AxesDatabaseHandler):
    """AXES_HANDLER. A right password clears that person's own failures from this address only. axes
    would clear every failure of the address too (AXES_LOCKOUT_PARAMETERS is "account or address"), so
    an attacker with one valid account could log into it between guesses at other people's passwords
    and never be counted."""

    def reset_user_attempts(self, request, credentials=None) -> int:
        username = get_client_username(request, credentials)
        if not username:
            return 0
        return AccessAttempt.objects.filter(username=username, ip_address=request.axes_ip_address).delete()[0]


def revoke_tokens(user) -> int:
    return AuthToken.objects.filter(user=user).delete()[0]


class TokenAuthentication(KnoxTokenAuthentication):
    """knox's token check without its sweep of the person's other tokens on every API call (one more
    query per request, the desk's busiest path): an expired token is still refused and deleted here,
    and the others are deleted once a day with expired sessions (`expired_tokens_purge`)."""

    def authenticate_credentials(self, token):
        """knox's lookup, with the person's unit fetched in the same query: scoping reads it on almost
        every API call."""
        msg = _("Invalid token.")
        token = token.decode("utf-8")
        candidates = AuthToken.objects.filter(token_key=token[:CONSTANTS.TOKEN_KEY_LENGTH]).select_related("user__unit")
        for auth_token in candidates:
            if self._cleanup_token(auth_token):
                continue
            try:
                digest = hash_token(token)
            except (TypeError, binascii.Error):
                raise exceptions.AuthenticationFailed(msg) from None
            if compare_digest(digest, auth_token.digest):
                if knox_settings.AUTO_REFRESH and auth_token.expiry:
                    self.renew_token(auth_token)
                return self.validate_user(auth_token)
        raise exceptions.AuthenticationFailed(msg)

    def _cleanup_token(self, auth_token) -> bool:
        if auth_token.expiry is not None and auth_token.expiry < timezone.now():
            username = auth_token.user.get_username()
            auth_token.delete()
            token_expired.send(sender=self.__class__, username=username, source="auth_token")
            return True
        return False


class TokenScheme(KnoxTokenScheme):
    """The API description (drf-spectacular) names it as knox's: the same `Authorization: Token …`."""

    target_class = TokenAuthentication


def expired_tokens_purge(*, now=None, dry_run: bool = False) -> int:
    """Delete API tokens past their expiry (they are refused anyway)."""
    expired = AuthToken.objects.filter(expiry__lt=now or timezone.now())
    return expired.count() if dry_run else expired.delete()[0]


class LogoutView(auth_views.LogoutView):
    """Logging out ends the session and every API token of the person: nothing they opened outlives it."""

    def post(self, request, *args, **kwargs):
        user = request.user if request.user.is_authenticated else None
        response = super().post(request, *args, **kwargs)
        if user is not None:
            revoke_tokens(user)
        return response


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's view: checks the old password, runs AUTH_PASSWORD_VALIDATORS, keeps the session
    (update_session_auth_hash); set_password stamps password_changed_at."""

    template_name = "registration/password_change.html"
    success_url = reverse_lazy("password_change_done")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("Your password has been changed."))
        return response


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "registration/password_change_done.html"


class TokenAdmin(admin.ModelAdmin):
    """Tokens are digests: the admin lists who holds one until when and may revoke (delete) it, but can
    neither see a token nor issue one for somebody else (knox's own admin shows a new token's value)."""

    list_display = ("user", "created", "expiry")
    search_fields = ("user__username",)
    fields = ("user", "created", "expiry")
    readonly_fields = fields
    list_select_related = ("user",)

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


def install_token_admin(site: admin.AdminSite) -> None:
    if site.is_registered(AuthToken):
        site.unregister(AuthToken)
    site.register(AuthToken, TokenAdmin)
