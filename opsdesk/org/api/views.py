"""Organisation API: units, people, production systems, hosts and the caller's own profile.

Every viewset is scoped by the API base (`opsdesk.api.base`) with the rules in `opsdesk/org/scoping.py`:
units by where a person works, people for administrators only, production systems for everyone
(reference data), hosts for the centre's people who work with them (operators, dispatchers, groups). Writes follow the separated administrators'
duties (`opsdesk/org/api/permissions.py`): people the security administrator's, the rest the system
administrator's.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, permissions

from opsdesk.api.base import ScopedModelViewSet
from opsdesk.org.api.permissions import SecurityDutyOrReadOnly, SystemDutyOrReadOnly
from opsdesk.org.api.serializers import (
    HostSerializer,
    MeSerializer,
    PersonSerializer,
    ProductionSystemSerializer,
    UnitSerializer,
)
from opsdesk.org.models import Host, ProductionSystem, Unit, User

__all__ = ["UnitViewSet", "PersonViewSet", "ProductionSystemViewSet", "HostViewSet", "MeView"]


class UnitViewSet(ScopedModelViewSet):
    queryset = Unit.objects.select_related("parent")
    permission_classes = [SystemDutyOrReadOnly]
    serializer_class = UnitSerializer
    filterset_fields = ["kind", "parent__code", "is_active"]
    search_fields = ["code", "name"]


class PersonViewSet(ScopedModelViewSet):
    """People: the security administrator manages them; everyone else sees nobody here (see /api/me/)."""

    queryset = User.objects.select_related("unit").order_by("username")
    permission_classes = [SecurityDutyOrReadOnly]
    serializer_class = PersonSerializer
    filterset_fields = ["unit__code", "is_active"]


class ProductionSystemViewSet(ScopedModelViewSet):
    queryset = ProductionSystem.objects.select_related("owner_group")
    permission_classes = [SystemDutyOrReadOnly]
    serializer_class = ProductionSystemSerializer
    filterset_fields = ["owner_group__code", "is_active"]


class HostViewSet(ScopedModelViewSet):
    """The data centre's hosts: the centre's operators, dispatchers and support groups only."""

    queryset = Host.objects.select_related("system")
    permission_classes = [SystemDutyOrReadOnly]
    serializer_class = HostSerializer
    filterset_fields = ["system__code", "is_active"]


@extend_schema(tags=["me"])
class MeView(generics.RetrieveUpdateAPIView):
    """The caller's own profile; a person may change their own mobile number."""

    serializer_class = MeSerializer
    permission_classes = [permissions.IsAuthenticated]
    http_method_names = ["get", "patch", "head", "options"]

    def get_object(self):
        return self.request.user
