"""Two factors (TOTP with django-otp): who must use them, and every write to a person's devices.

The one rule of who must use a second factor is `requires_two_factor()`; the pages
(opsdesk/org/views_two_factor.py), the enforcement middleware (opsdesk/org/two_factor_middleware.py)
and the API token endpoint (`verify_second_factor()`) all ask it.

Devices: one TOTP device (an authenticator app) and one static device holding ten single-use recovery
codes. django-otp stores static tokens in clear text; we store a keyed hash (HMAC with SECRET_KEY)
of each code instead, so a copy of the database does not give anyone a way in. Wrong codes are
throttled by django-otp (each failure doubles the wait, OTP_TOTP_THROTTLE_FACTOR) and a TOTP code is
never accepted twice (the device's `last_t`).
"""

from __future__ import annotations

import re
import secrets
from base64 import b32encode

from django.conf import settings
from django.db import transaction
from django.utils.crypto import salted_hmac
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from opsdesk.org.choices import Role, UnitKind

__all__ = [
    "RECOVERY_CODE_COUNT",
    "requires_two_factor",
    "needs_verification",
    "has_confirmed_device",
    "verify_second_factor",
    "match_second_factor",
    "is_throttled",
    "enrolment_device",
    "enrolment_secret",
    "confirm_enrolment",
    "reset_two_factor",
]

RECOVERY_CODE_COUNT = 10
# Provincial roles: they act on every unit of the province.
PROVINCIAL_ROLES = frozenset({Role.DISPATCHER, Role.OPERATOR})
PROVINCIAL_UNIT_KINDS = frozenset({UnitKind.PROVINCE, UnitKind.OPERATIONS})
_HASH_SALT = "opsdesk.org.two_factor.recovery-code"
_TOTP_RE = re.compile(r"^\d{6}$")


def _is_admin_role(role: str) -> bool:
    # Any administrator, present or future (administrator, system_admin, security_admin, audit_admin…).
    return role.endswith("admin") or role.endswith("administrator")


def requires_two_factor(user) -> bool:
    """The person must pass a second factor before anything else (the one place that decides).

    Administrators (any role named …admin/…administrator, staff, superusers) and the provincial roles
    (dispatcher, operator, managers of the provincial centre or the operations department) must;
    OPSDESK_2FA_REQUIRED_ROLES adds roles, OPSDESK_2FA_FOR_ALL makes everyone. OPSDESK_2FA_REQUIRED=false
    (test suites, trials) requires nobody; people who enrolled anyway are still asked for their code.
    """
    if user is None or not user.is_authenticated:
        return False
    if settings.OPSDESK_2FA_FOR_ALL:
        return True
    if not settings.OPSDESK_2FA_REQUIRED:
        return False
    roles = set(user.roles or ())
    if user.is_superuser or user.is_staff or any(_is_admin_role(role) for role in roles):
        return True
    if roles & PROVINCIAL_ROLES or roles & set(settings.OPSDESK_2FA_REQUIRED_ROLES):
        return True
    unit = user.unit if user.unit_id else None
    return Role.MANAGER in roles and unit is not None and unit.kind in PROVINCIAL_UNIT_KINDS


def has_confirmed_device(user) -> bool:
    return TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def needs_verification(user) -> bool:
    """A logged-in person whose session must pass the second factor: required, or enrolled by choice."""
    if user is None or not user.is_authenticated:
        return False
    return requires_two_factor(user) or has_confirmed_device(user)


def _normalise(code: str) -> str:
    return re.sub(r"[\s-]", "", code or "").lower()


def _hash_recovery_code(code: str) -> str:
    # StaticToken.token holds 16 characters: 64 bits of the HMAC, keyed by SECRET_KEY.
    return salted_hmac(_HASH_SALT, _normalise(code), algorithm="sha256").hexdigest()[:16]


def _devices_for(user, code: str):
    # A six-digit code is for the authenticator, anything else is a recovery code.
    if _TOTP_RE.match(code):
        return TOTPDevice.objects.filter(user=user), code
    return StaticDevice.objects.filter(user=user, confirmed=True), _hash_recovery_code(code)


def is_throttled(user, code: str) -> bool:
    """A recent wrong code makes the devices that `code` is for wait (django-otp's throttle)."""
    devices, _ = _devices_for(user, _normalise(code))
    return any(not device.verify_is_allowed()[0] for device in devices)


def match_second_factor(user, code: str) -> Device | None:
    """The device that accepts `code` for `user` (a TOTP code or an unused recovery code), or None.

    A six-digit code is tried on the authenticator only, anything else on the recovery codes only,
    so a mistyped code counts against one throttle, not two. A throttled device refuses every code."""
    code = _normalise(code)
    if not code or user is None or not user.is_authenticated:
        return None
    devices, token = _devices_for(user, code)
    for device_id in devices.filter(confirmed=True).values_list("pk", flat=True):
        # Locked, so two requests with the same code cannot both pass (throttle and last_t stay exact).
        with transaction.atomic():
            device = devices.model.objects.select_for_update().get(pk=device_id)
            if device.verify_token(token):
                return device
    return None


def verify_second_factor(user, code: str) -> bool:
    """True when `code` is a valid TOTP code or recovery code of `user` (each accepted once).

    For the API token endpoint: a person who `requires_two_factor()` sends an `otp` field with the
    user name and password; the token is issued only when this returns True."""
    return match_second_factor(user, code) is not None


def enrolment_device(user) -> TOTPDevice:
    """The person's authenticator waiting for confirmation (created on first visit, kept until confirmed)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="authenticator", confirmed=False)
    return device


def enrolment_secret(device: TOTPDevice) -> str:
    """The key in base32, as authenticator apps take it when typed by hand (groups of four)."""
    secret = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))


def _new_recovery_code() -> str:
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
    raw = "".join(secrets.choice(alphabet) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


@transaction.atomic
def confirm_enrolment(user, device: TOTPDevice, code: str) -> list[str] | None:
    """Confirm the authenticator with its first code: returns the new recovery codes (shown once), or
    None when the code is wrong. Replaces any earlier devices of the person."""
    device = TOTPDevice.objects.select_for_update().get(pk=device.pk, user=user, confirmed=False)
    if not device.verify_token(_normalise(code)):
        return None
    TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    StaticDevice.objects.filter(user=user).delete()
    static = StaticDevice.objects.create(user=user, name="recovery codes", confirmed=True)
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create(StaticToken(device=static, token=_hash_recovery_code(c)) for c in codes)
    return codes


@transaction.atomic
def reset_two_factor(*, person) -> int:
    """Remove every second-factor device of `person` (lost phone): at the next login they enrol again
    if they must. Returns how many devices went."""
    removed = TOTPDevice.objects.filter(user=person).delete()[1].get("otp_totp.TOTPDevice", 0)
    removed += StaticDevice.objects.filter(user=person).delete()[1].get("otp_static.StaticDevice", 0)
    return removed
