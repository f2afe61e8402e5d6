"""What the security audit listens to: Django's sign-in signals, django-axes' lockout (when installed)
and changes of a person's roles, flags and permissions, however they are made (admin, API, shell,
directory sync). Imported by `AuditConfig.ready()`."""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver

from opsdesk.audit.models import SecurityEventKind
from opsdesk.audit.services import current_origin, security_event_record

__all__: list[str] = []

User = get_user_model()

ROLE_FIELDS = ("roles", "unit_id")
FLAG_FIELDS = ("is_active", "is_staff", "is_superuser")


@receiver(user_logged_in, dispatch_uid="audit-login")
def _logged_in(sender, request, user, **kwargs) -> None:
    security_event_record(kind=SecurityEventKind.LOGIN, request=request, actor=user)


@receiver(user_logged_out, dispatch_uid="audit-logout")
def _logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        security_event_record(kind=SecurityEventKind.LOGOUT, request=request, actor=user)


@receiver(user_login_failed, dispatch_uid="audit-login-failed")
def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    username = str(credentials.get("username") or credentials.get(User.USERNAME_FIELD) or "")[:150]
    known = User._default_manager.filter(username=username).first() if username else None
    security_event_record(kind=SecurityEventKind.LOGIN_FAILED, success=False, request=request, actor=known,
                          username=username)


def _locked_out(sender, request=None, username=None, ip_address=None, **kwargs) -> None:
    username = str(username or "")[:150]
    known = User._default_manager.filter(username=username).first() if username else None
    security_event_record(kind=SecurityEventKind.LOCKOUT, success=False, request=request, actor=known,
                          username=username, details={"ip_address": ip_address} if ip_address else {})


# django-axes is another part's choice; listen to its lockout signal only where it is installed.
if apps.is_installed("axes"):
    from axes.signals import user_locked_out

    user_locked_out.connect(_locked_out, dispatch_uid="audit-lockout")


def _snapshot(person, fields) -> dict:
    return {name: getattr(person, name) for name in fields}


@receiver(pre_save, sender=User, dispatch_uid="audit-person-before")
def _remember_before(sender, instance, raw=False, update_fields=None, **kwargs) -> None:
    watched = {"roles", "unit", "unit_id", *FLAG_FIELDS}
    if raw or instance.pk is None or (update_fields is not None and not watched & set(update_fields)):
        instance._audit_before = None
        return
    before = User._default_manager.filter(pk=instance.pk).first()
    instance._audit_before = _snapshot(before, ROLE_FIELDS + FLAG_FIELDS) if before else None


@receiver(post_save, sender=User, dispatch_uid="audit-person-after")
def _record_change(sender, instance, created, raw=False, **kwargs) -> None:
    if raw:
        return
    before = getattr(instance, "_audit_before", None)
    if created:
        before = {"roles": [], "unit_id": None, "is_active": False, "is_staff": False, "is_superuser": False}
    if before is None:
        return
    after = _snapshot(instance, ROLE_FIELDS + FLAG_FIELDS)
    for kind, fields in ((SecurityEventKind.ROLE_CHANGE, ROLE_FIELDS),
                         (SecurityEventKind.PERMISSION_CHANGE, FLAG_FIELDS)):
        old = {f: before[f] for f in fields}
        new = {f: after[f] for f in fields}
        if old != new:
            security_event_record(kind=kind, target=instance.username,
                                  details={"before": old, "after": new, "created": created})
    instance._audit_before = None


def _permissions_changed(sender, instance, action, pk_set=None, reverse=False, **kwargs) -> None:
    if action not in {"post_add", "post_remove", "post_clear"} or reverse:
        return
    field = "groups" if sender is User.groups.through else "user_permissions"
    security_event_record(kind=SecurityEventKind.PERMISSION_CHANGE, target=instance.username,
                          details={"field": field, "action": action.removeprefix("post_"),
                                   "ids": sorted(pk_set or [])})


m2m_changed.connect(_permissions_changed, sender=User.groups.through, dispatch_uid="audit-groups")
m2m_changed.connect(_permissions_changed, sender=User.user_permissions.through, dispatch_uid="audit-perms")


# An administrator deleting a lockout record (django-axes' unlock) or somebody's second-factor device (the
# reset after a lost phone). Deletions that the desk makes by itself outside a person's request (axes
# clearing the attempts of a successful login, expiry) are not unlocks.
def _by_someone_else(username: str) -> bool:
    origin = current_origin()
    return (origin is not None and origin.signed_in and origin.user is not None
            and origin.user.get_username() != username)


def _unlocked(sender, instance, **kwargs) -> None:
    username = str(getattr(instance, "username", "") or "")
    if _by_someone_else(username):
        security_event_record(kind=SecurityEventKind.UNLOCK, target=username or str(instance.ip_address or ""),
                              details={"username": username, "ip_address": instance.ip_address,
                                       "failures": getattr(instance, "failures_since_start", None)})


def _device_removed(sender, instance, **kwargs) -> None:
    person = User._default_manager.filter(pk=instance.user_id).first()
    username = person.username if person else ""
    if _by_someone_else(username):
        security_event_record(kind=SecurityEventKind.DEVICE_RESET, target=username,
                              details={"device": sender._meta.label, "name": getattr(instance, "name", "")})


if apps.is_installed("axes"):
    post_delete.connect(_unlocked, sender="axes.AccessAttempt", dispatch_uid="audit-unlock")
for _label in ("otp_totp.TOTPDevice", "otp_static.StaticDevice"):
    if apps.is_installed(_label.split(".")[0].replace("otp_", "django_otp.plugins.otp_")):
        post_delete.connect(_device_removed, sender=_label, dispatch_uid=f"audit-device-{_label}")
