"""API tokens (django-rest-knox): POST username/password → {"token", "expiry"}; logout revokes.

Only a digest of each token is stored and every token expires (OPSDESK_API_TOKEN_TTL_HOURS). The
password check runs through django-axes like the login page, on the underlying Django request, so
failures count against the same account and address and a locked one gets the 429 lockout answer.
"""

from __future__ import annotations

from django.contrib.auth import authenticate, user_logged_in
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, inline_serializer
from knox.models import AuthToken
from knox.views import LogoutAllView, LogoutView
from rest_framework import permissions, serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from opsdesk.api.errors import service_errors
from opsdesk.org.authentication import TokenAuthentication
from opsdesk.org.two_factor import needs_verification, verify_second_factor

__all__ = ["TokenObtainView", "TokenLogoutView", "TokenLogoutAllView"]


class CredentialsSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})
    # The second factor (opsdesk/org/two_factor.py): a TOTP code or a recovery code, for people who use one.
    otp = serializers.CharField(max_length=32, required=False, allow_blank=True)


class TokenObtainView(APIView):
    authentication_classes = ()
    permission_classes = (permissions.AllowAny,)

    @extend_schema(request=CredentialsSerializer, responses=inline_serializer(
        "IssuedToken", {"token": serializers.CharField(), "expiry": serializers.DateTimeField()}))
    def post(self, request):
        credentials = CredentialsSerializer(data=request.data)
        credentials.is_valid(raise_exception=True)
        # The Django request, not DRF's wrapper: axes marks a lockout on it for its middleware.
        code = credentials.validated_data.pop("otp", "")
        # A directory that cannot be reached (opsdesk/org/ldap.py DirectoryRefused) answers 400.
        with service_errors():
            user = authenticate(request._request, **credentials.validated_data)
        if user is None:
            raise serializers.ValidationError(
                {"non_field_errors": [_("Unable to log in with provided credentials.")]})
        if needs_verification(user) and not verify_second_factor(user, code):
            raise serializers.ValidationError(
                {"otp": [_("Enter the 6-digit code of your authenticator app, or a recovery code.")]})
        instance, token = AuthToken.objects.create(user=user)
        user_logged_in.send(sender=type(user), request=request._request, user=user)
        return Response({"token": token, "expiry": instance.expiry})


class TokenLogoutView(LogoutView):
    """Revokes the token that makes this call (204)."""

    authentication_classes = (TokenAuthentication,)  # the desk's token check, as on every other call

    @extend_schema(request=None, responses={204: None})
    def post(self, request, format=None):
        return super().post(request, format)


class TokenLogoutAllView(LogoutAllView):
    """Revokes every token of the caller (204)."""

    authentication_classes = (TokenAuthentication,)

    @extend_schema(request=None, responses={204: None})
    def post(self, request, format=None):
        return super().post(request, format)
