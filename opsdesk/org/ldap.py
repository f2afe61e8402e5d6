"""Directory login: LDAP / Active Directory accounts, their roles from groups and their unit from the tree.

The settings come from the environment (opsdesk/settings.py, "Directory login"). At every login the
person's roles are set from their directory groups (OPSDESK_LDAP_ROLE_GROUPS) and their unit from an
attribute (OPSDESK_LDAP_UNIT_ATTRIBUTE, e.g. `department` holding the unit code) or from the nearest
OU of their DN that is a unit code (OPSDESK_LDAP_UNIT_FROM_OU). A directory account without a mapped
group or a known unit is refused with a message saying so, never let in without roles.

Local accounts that have a password of their own (the break-glass administrators) are never taken
over by the directory, even if the directory holds the same name: the ModelBackend after this one
checks them. When the directory cannot be reached those accounts still sign in, and directory users
are told the directory is down instead of "wrong password".
"""

from __future__ import annotations

import contextvars
import logging

import ldap
import ldap.dn
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.core.exceptions import ValidationError
from django.db.models.functions import Upper
from django.dispatch import receiver
from django.utils.translation import gettext_lazy as _
from django_auth_ldap.backend import LDAPBackend, ldap_error, populate_user

from opsdesk.org.choices import ROLE_UNIT_KINDS
from opsdesk.org.models import Unit, User, normalize_mobile, validate_mobile

__all__ = ["DirectoryBackend", "directory_roles", "directory_unit_codes"]

logger = logging.getLogger(__name__)

UNREACHABLE = (ldap.SERVER_DOWN, ldap.TIMEOUT, ldap.CONNECT_ERROR)

# The LDAP errors django-auth-ldap swallowed during the current authenticate() call (it logs them and
# reports "no such user"); a context variable keeps concurrent logins apart.
_errors: contextvars.ContextVar[list | None] = contextvars.ContextVar("opsdesk_ldap_errors", default=None)


@receiver(ldap_error)
def _remember_ldap_error(sender, context, exception, **kwargs) -> None:
    errors = _errors.get()
    if errors is not None:
        errors.append(exception)


def _normal_dn(dn: str) -> str:
    try:
        return ldap.dn.dn2str(ldap.dn.str2dn(dn)).lower()
    except ldap.DECODING_ERROR:
        return dn.strip().lower()


def directory_roles(group_dns: set[str], group_names: set[str]) -> list[str]:
    """Roles whose mapped groups (a DN, or a bare group name = its CN) the person is a member of."""
    dns = {_normal_dn(dn) for dn in group_dns}
    names = {name.lower() for name in group_names}
    roles = []
    for role, groups in settings.OPSDESK_LDAP_ROLE_GROUPS.items():
        if any((_normal_dn(g) in dns) if "=" in g else (g.lower() in names) for g in groups):
            roles.append(role)
    return roles


def directory_unit_codes(dn: str, attrs: dict) -> list[str]:
    """Candidate unit codes, best first: the unit attribute, then the OUs of the DN, nearest first."""
    codes = []
    if attribute := settings.OPSDESK_LDAP_UNIT_ATTRIBUTE:
        codes += [v.strip() for v in attrs.get(attribute, []) if v.strip()]
    if settings.OPSDESK_LDAP_UNIT_FROM_OU:
        try:
            rdns = ldap.dn.str2dn(dn)
        except ldap.DECODING_ERROR:
            rdns = []
        codes += [value for rdn in rdns for (name, value, _flags) in rdn if name.lower() == "ou"]
    return codes


class DirectoryRefused(ValidationError):
    """Raised out of authenticate(): the login form shows it as the reason, the token API answers 400."""


class DirectoryBackend(LDAPBackend):
    def authenticate_ldap_user(self, ldap_user, password):
        token = _errors.set([])
        try:
            user = ldap_user.authenticate(password)
            errors = _errors.get()
        finally:
            _errors.reset(token)
        if user is None and any(isinstance(e, UNREACHABLE) for e in errors):
            username = ldap_user._username
            local = User.objects.filter(username__iexact=username).first()
            if local is not None and local.has_usable_password():
                return None  # a local account: the ModelBackend decides
            logger.warning("directory unreachable (%s) while %s signed in", settings.AUTH_LDAP_SERVER_URI, username)
            raise DirectoryRefused(
                _("The directory server (LDAP/AD) cannot be reached, so directory accounts cannot sign in "
                  "right now. Please try again in a few minutes."), code="directory_refused")
        return user

    def get_or_build_user(self, username, ldap_user):
        user, built = super().get_or_build_user(username, ldap_user)
        if not built and user.has_usable_password():
            # A local account (break-glass): the directory never takes it over.
            raise ldap_user.AuthenticationFailed("a local account with its own password")
        return user, built

    def get_user(self, user_id):
        # Like UnitModelBackend: every page scopes by request.user.unit, load it with the user.
        return User.objects.select_related("unit").filter(pk=user_id, is_active=True).first()

    # Permissions come from the person's roles (UnitModelBackend and opsdesk/org/duties.py), never from
    # directory groups directly: this backend grants nothing and asks the directory nothing per request.
    def has_perm(self, user, perm, obj=None) -> bool:
        return False

    def has_module_perms(self, user, app_label) -> bool:
        return False

    def get_all_permissions(self, user, obj=None) -> set[str]:
        return set()

    def get_group_permissions(self, user, obj=None) -> set[str]:
        return set()


def _refuse(user: User, request, message) -> None:
    if user.pk:
        # The directory took the groups away: the stored roles go too, for any session still open.
        User.objects.filter(pk=user.pk).update(roles=[])
    user_login_failed.send(sender=__name__, credentials={"username": user.username}, request=request)
    raise DirectoryRefused(message, code="directory_refused")


@receiver(populate_user, sender=DirectoryBackend)
def populate_roles_and_unit(sender, user: User, ldap_user, **kwargs) -> None:
    """Every directory login: roles from groups, unit from the attribute or OU; refuse what does not fit."""
    request = getattr(ldap_user, "_request", None)
    roles = directory_roles(ldap_user.group_dns, ldap_user.group_names)
    if not roles:
        logger.warning("directory login refused: %s is in no mapped group", user.username)
        _refuse(user, request, _("Your directory account is in none of the OpsDesk groups, so it cannot sign in. "
                                 "Ask the security administrator to add you to the group of your role."))
    codes = directory_unit_codes(ldap_user.dn, ldap_user.attrs or {})
    # Directories do not keep the case of a DN; unit codes are matched without it.
    units = {u.code.upper(): u for u in Unit.objects.annotate(upper_code=Upper("code"))
             .filter(upper_code__in=[c.upper() for c in codes], is_active=True)}
    unit = next((units[c.upper()] for c in codes if c.upper() in units), None)
    if unit is None:
        logger.warning("directory login refused: %s names no known unit (%s)", user.username, codes)
        _refuse(user, request, _("Your directory account names no unit known to OpsDesk (%(codes)s), so it cannot "
                                 "sign in. Ask the security administrator to correct it.")
                % {"codes": ", ".join(codes) or "-"})
    fitting = [r for r in roles if unit.kind in ROLE_UNIT_KINDS[r]]
    if not fitting:
        logger.warning("directory login refused: %s roles %s do not fit unit %s", user.username, roles, unit.code)
        _refuse(user, request, _("Your directory groups do not fit your unit %(unit)s, so the account cannot sign in. "
                                 "Ask the security administrator to correct it.") % {"unit": unit.name})
    user.roles, user.unit = fitting, unit
    user.display_name = (user.display_name or "")[:60]
    mobile = normalize_mobile(user.mobile or "")
    try:
        validate_mobile(mobile)
    except ValidationError:
        mobile = ""  # a mistyped directory number must not stop the login; SMS just skip the person
    user.mobile = mobile
