"""Kinds of units and roles of people, as the article names them."""

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["UnitKind", "Role", "ROLE_UNIT_KINDS", "INCIDENT_ROLES"]


class UnitKind(models.TextChoices):
    PROVINCE = "province", _("Provincial centre")
    OPERATIONS = "operations", _("Operations department")
    SUPPORT_GROUP = "support_group", _("Support group")
    CITY = "city", _("City support centre")
    COUNTY = "county", _("County support centre")
    OUTLET = "outlet", _("Outlet")


class Role(models.TextChoices):
    TELLER = "teller", _("Teller")
    COUNTY_SUPPORT = "county_support", _("County support")
    CITY_SUPPORT = "city_support", _("City support")
    DISPATCHER = "dispatcher", _("Provincial dispatcher")
    GROUP_MEMBER = "group_member", _("Support group member")
    GROUP_LEAD = "group_lead", _("Support group lead")
    OPERATOR = "operator", _("Data-centre operator")
    MANAGER = "manager", _("Manager")
    # The legacy all-in-one administrator: the system and the security duties together (never the
    # audit). Kept so existing accounts keep working; a bank running separated administrators gives
    # the three roles below instead (see opsdesk/org/duties.py).
    ADMINISTRATOR = "administrator", _("Administrator")
    # Separated administrators (三权分立), each with one duty of opsdesk/org/duties.py.
    SYSTEM_ADMIN = "system_admin", _("System administrator")
    SECURITY_ADMIN = "security_admin", _("Security administrator")
    AUDIT_ADMIN = "audit_admin", _("Audit administrator")


# Which kinds of unit a person holding each role may belong to.
ROLE_UNIT_KINDS: dict[str, set[str]] = {
    Role.TELLER: {UnitKind.OUTLET},
    Role.COUNTY_SUPPORT: {UnitKind.COUNTY},
    Role.CITY_SUPPORT: {UnitKind.CITY},
    Role.DISPATCHER: {UnitKind.OPERATIONS, UnitKind.PROVINCE},
    Role.GROUP_MEMBER: {UnitKind.SUPPORT_GROUP},
    Role.GROUP_LEAD: {UnitKind.SUPPORT_GROUP},
    Role.OPERATOR: {UnitKind.OPERATIONS, UnitKind.PROVINCE},
    Role.MANAGER: {UnitKind.PROVINCE, UnitKind.OPERATIONS, UnitKind.CITY, UnitKind.COUNTY, UnitKind.SUPPORT_GROUP},
    Role.ADMINISTRATOR: {UnitKind.PROVINCE, UnitKind.OPERATIONS},
    Role.SYSTEM_ADMIN: {UnitKind.PROVINCE, UnitKind.OPERATIONS},
    Role.SECURITY_ADMIN: {UnitKind.PROVINCE, UnitKind.OPERATIONS},
    Role.AUDIT_ADMIN: {UnitKind.PROVINCE, UnitKind.OPERATIONS},
}

# The people who watch the alert board: they see incidents and maintenance windows and act on them
# (acknowledge, resolve, reopen, silence). The one definition; scoping adds the provincial managers,
# who read incidents without acting on them.
INCIDENT_ROLES: frozenset[str] = frozenset({Role.OPERATOR, Role.DISPATCHER, Role.GROUP_MEMBER,
                                            Role.GROUP_LEAD})
