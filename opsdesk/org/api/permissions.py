"""Who may write through the organisation API, by the separated administrators' duties
(`opsdesk/org/duties.py`): accounts are the security administrator's, never one's own; units,
production systems and hosts the system administrator's. Reading stays with scoping."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import permissions

from opsdesk.org.duties import Duty, has_duty, may_change_person

__all__ = ["SecurityDutyOrReadOnly", "SystemDutyOrReadOnly"]


class SystemDutyOrReadOnly(permissions.BasePermission):
    message = _("Only the system administrator may change this.")

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in permissions.SAFE_METHODS or has_duty(request.user, Duty.SYSTEM)


class SecurityDutyOrReadOnly(permissions.BasePermission):
    message = _("Only the security administrator may change accounts, and nobody their own.")

    def has_permission(self, request, view) -> bool:
        if not (request.user and request.user.is_authenticated):
            return False
        return request.method in permissions.SAFE_METHODS or may_change_person(request.user)

    def has_object_permission(self, request, view, obj) -> bool:
        return request.method in permissions.SAFE_METHODS or may_change_person(request.user, obj)
