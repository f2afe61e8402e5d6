"""Separated administrators (三权分立): which administrator may change what. The one place.

Three duties, each held by one role (the legacy `administrator` holds the system and the security
duties together, never the audit):

- system (系统管理员): the organisation and the configuration: units, production systems, hosts, SLA
  policies, escalation, rosters, message templates, request types, parsing rules, mail accounts,
  webhook sources, silences… every model that is neither a security nor an audit model;
- security (安全管理员): accounts, their roles, flags and permissions, API tokens, lockouts (unlock)
  and second-factor devices (reset);
- audit (审计管理员): reads the security audit and the configuration history, changes nothing.

Django's admin asks `user.has_perm("app.change_model")`; the authentication backend
(`opsdesk.org.backends.UnitModelBackend`) answers from here, so no ModelAdmin grants power of its own,
and groups or per-person permissions are not read at all (no second path to a duty). The admin API's
people endpoint asks `may_change_person()`, the other write endpoints `is_administrator` (the system
duty). Nobody changes their own account there: no one gives themselves a role. The superuser is
break-glass only: it passes every check, and the audit middleware records each of its requests.
"""

from __future__ import annotations

from enum import StrEnum

from django.apps import apps

from opsdesk.org.choices import Role

__all__ = [
    "Duty",
    "DUTY_ROLES",
    "SECURITY_APPS",
    "SECURITY_MODELS",
    "AUDIT_APPS",
    "has_duty",
    "duty_of_model",
    "duty_allows",
    "may_change_person",
]


class Duty(StrEnum):
    SYSTEM = "system"
    SECURITY = "security"
    AUDIT = "audit"


DUTY_ROLES: dict[Duty, frozenset[str]] = {
    Duty.SYSTEM: frozenset({Role.ADMINISTRATOR, Role.SYSTEM_ADMIN}),
    Duty.SECURITY: frozenset({Role.ADMINISTRATOR, Role.SECURITY_ADMIN}),
    Duty.AUDIT: frozenset({Role.AUDIT_ADMIN}),
}

# Accounts and what authenticates them: django-axes (lockouts), django-otp (devices), API tokens.
SECURITY_APPS = frozenset({"auth", "authtoken", "axes", "otp_totp", "otp_static", "otp_email", "otp_hotp",
                           "two_factor", "knox"})
SECURITY_MODELS = frozenset({"org.user"})
# The security audit and the configuration history (pghistory's event tables live in each app; they are
# recognised by their base class below).
AUDIT_APPS = frozenset({"audit", "pghistory"})


def has_duty(user, duty: Duty) -> bool:
    """The person holds `duty` (the break-glass superuser holds every duty)."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    return bool(user.is_superuser or set(user.roles) & DUTY_ROLES[duty])


def _is_history_model(model) -> bool:
    if not apps.is_installed("pghistory"):
        return False
    from pghistory.models import Event  # abstract: not in the app registry

    return issubclass(model, Event)


def duty_of_model(model) -> Duty:
    """Whose duty the rows of `model` are."""
    label = model._meta.label_lower
    if label in SECURITY_MODELS or model._meta.app_label in SECURITY_APPS:
        return Duty.SECURITY
    if model._meta.app_label in AUDIT_APPS or _is_history_model(model):
        return Duty.AUDIT
    return Duty.SYSTEM


def duty_allows(user, perm: str) -> bool:
    """Django permission "app_label.action_model" by duty: the audit is read-only to its duty."""
    app_label, _dot, codename = perm.partition(".")
    action, _sep, model_name = codename.partition("_")
    try:
        model = apps.get_model(app_label, model_name)
    except (LookupError, ValueError):
        return False
    duty = duty_of_model(model)
    if duty == Duty.AUDIT and action != "view":
        return False
    return has_duty(user, duty)


def may_change_person(actor, person=None) -> bool:
    """Only the security duty changes accounts, and never its own (no one gives themselves a role)."""
    if not has_duty(actor, Duty.SECURITY):
        return False
    return person is None or person.pk is None or person.pk != actor.pk
