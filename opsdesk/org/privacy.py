"""Personal data: who reads a person's mobile number whole, and the masked form (138****0000) everyone
else gets. The one place every page, API serializer and export that shows a number asks.

Whole for:
- the person themself;
- the people of their own unit chain who work with them: their own unit and the centres above it
  (a county support centre reads its tellers' numbers, a city centre its counties'), by a working
  role, not by an administrator's role alone;
- the provincial dispatchers, who hand requests to every unit and call them;
- the holders of the security duty (opsdesk.org.duties: the security administrator, the legacy
  all-in-one administrator, the break-glass superuser): accounts and their data are theirs.
Masked for everybody else, the system and audit administrators included: they run the desk, not its
people.
"""

from __future__ import annotations

from opsdesk import scoping
from opsdesk.org.choices import Role
from opsdesk.org.duties import Duty, has_duty

__all__ = ["mask_mobile", "sees_mobile", "visible_mobile"]


def mask_mobile(mobile: str) -> str:
    """138****0000: the first three and last four digits; shorter values entirely starred."""
    if not mobile:
        return ""
    if len(mobile) < 8:
        return "*" * len(mobile)
    return f"{mobile[:3]}****{mobile[-4:]}"


def sees_mobile(viewer, person) -> bool:
    """May `viewer` read `person`'s mobile number whole?"""
    if viewer is None or not (viewer.is_authenticated and viewer.is_active):
        return False
    if has_duty(viewer, Duty.SECURITY):
        return True
    if person is None:
        return False
    if viewer.pk == person.pk:
        return True
    if not scoping.has_working_role(viewer):
        return False
    if viewer.has_role(Role.DISPATCHER) and scoping.is_province_staff(viewer):
        return True
    return person.unit_id is not None and person.unit.is_inside(viewer.unit)


def visible_mobile(viewer, person, mobile: str | None = None) -> str:
    """`person`'s mobile (or `mobile`, a number sent to them) as `viewer` may read it."""
    number = person.mobile if mobile is None and person is not None else (mobile or "")
    return number if sees_mobile(viewer, person) else mask_mobile(number)
