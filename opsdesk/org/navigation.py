"""Where each role starts, and the navigation each person sees.

Pages are named by URL name; the apps that own them provide them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from opsdesk.org.choices import INCIDENT_ROLES, Role

__all__ = ["NavItem", "NAVIGATION", "start_page_for", "nav_for"]


@dataclass(frozen=True)
class NavItem:
    url_name: str
    label: str
    roles: frozenset[str]


ALL_SUPPORT = frozenset({Role.COUNTY_SUPPORT, Role.CITY_SUPPORT})
PROVINCE_TICKET_ROLES = frozenset({Role.DISPATCHER})
GROUP_ROLES = frozenset({Role.GROUP_MEMBER, Role.GROUP_LEAD})

# In the order they appear in the navigation bar; the first that fits is the start page.
NAVIGATION: tuple[NavItem, ...] = (
    NavItem("tickets:mine", _("My requests"), frozenset({Role.TELLER})),
    NavItem("tickets:new", _("New request"), frozenset({Role.TELLER})),
    NavItem("tickets:queue", _("Queue"), ALL_SUPPORT),
    NavItem("tickets:triage", _("Triage board"), PROVINCE_TICKET_ROLES),
    NavItem("tickets:overview", _("Out with the groups"), PROVINCE_TICKET_ROLES),
    NavItem("tickets:group_board", _("Group board"), GROUP_ROLES),
    NavItem("alerts:board", _("Alert board"), INCIDENT_ROLES),
    # Past incidents, searchable (alerts.views.incidents_resolved).
    NavItem("alerts:incidents_resolved", _("Resolved incidents"), INCIDENT_ROLES),
    NavItem("reports:index", _("Statistics"), frozenset({Role.MANAGER, Role.DISPATCHER})),
    # After each role's own start page: finding any request the person may see.
    NavItem("tickets:search", _("Find requests"), frozenset({Role.TELLER, Role.MANAGER}) | ALL_SUPPORT
            | PROVINCE_TICKET_ROLES | GROUP_ROLES),
    NavItem("admin:index", _("Administration"),
            frozenset({Role.ADMINISTRATOR, Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN})),
    # The audit administrator's one page (opsdesk/audit/).
    NavItem("audit:index", _("Security audit"), frozenset({Role.AUDIT_ADMIN})),
    # After Administration: an administrator starts in the admin, operators on their board.
    NavItem("alerts:silences", _("Maintenance windows"), INCIDENT_ROLES | {Role.ADMINISTRATOR, Role.SYSTEM_ADMIN}),
    NavItem("notifications:log", _("Delivery log"), frozenset({Role.ADMINISTRATOR, Role.SYSTEM_ADMIN})),
    # How a pasted alert mail reads, built-in parsers beside the rules (alerts/teaching.py).
    NavItem("alerts:rule_test", _("Rule tester"), frozenset({Role.ADMINISTRATOR, Role.SYSTEM_ADMIN})),
    NavItem("notifications:rosters", _("On-duty rosters"), frozenset({Role.ADMINISTRATOR, Role.SYSTEM_ADMIN, Role.OPERATOR,
                                                                       Role.GROUP_LEAD})),
    NavItem("notifications:mine", _("My notifications"), frozenset(Role.values)),
)


def nav_for(user) -> list[NavItem]:
    if not (user and user.is_authenticated):
        return []
    roles = set(user.roles)
    if user.is_superuser:
        roles.update({Role.ADMINISTRATOR, Role.AUDIT_ADMIN})  # break-glass: every page
    return [item for item in NAVIGATION if item.roles & roles]


def start_page_for(user) -> str | None:
    items = nav_for(user)
    return items[0].url_name if items else None
