"""The base of every API viewset of the desk: scoping is applied here, once, for all of them.

As NetBox's `BaseViewSet` restricts its queryset for every API view, `ScopedViewSetMixin.get_queryset()`
narrows every viewset's queryset to what the caller may see, so no view filters by who is asking.
Lists leave the rest out and a detail route outside it answers 404; permissions (403) decide only
what a person may *do* with what they see. Every viewset registered on the API router
(`opsdesk.api.urls`) inherits one of the classes below; `tests/project/test_api_scope_sweep.py`
walks every route for every role and checks it.

How a viewset is scoped, its class attribute `scope`:
- `Scope.RULES` (the default): `opsdesk.scoping.restrict(user, queryset)`, with the rule its app
  registered for the queryset's model in its `scoping.py`; no rule means administrators only.
  Reference data every logged-in role needs (request types, production systems) is not a mode of its
  own: its app declares it with `scoping.register_reference()`, the explicit allow-list
  (`scoping.reference_models()`), so that everything else stays default deny.
- `Scope.OWN`: the caller's own rows, the `owner_field` pointing at the caller (my notifications);
  administrators too see only their own there.
- `Scope.SELECTORS`: no queryset of its own; every read goes through selectors that call `restrict()`
  (the statistics).

A viewset that narrows further (query parameters, annotations, prefetching) refines
`super().get_queryset()`; it never builds its queryset from scratch.

Not built on this base, on purpose: the webhook intake (`alerts/api/webhooks.py`), plain views that
authenticate a monitoring source by its token and list no objects; `/api/me/` (the caller themselves);
the token, schema and docs views.
"""

from __future__ import annotations

from enum import StrEnum

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import permissions, viewsets

from opsdesk import scoping
from opsdesk.inputs import ascii_int

__all__ = [
    "Scope",
    "ScopedViewSetMixin",
    "ScopedGenericViewSet",
    "ScopedReadOnlyViewSet",
    "ScopedModelViewSet",
    "ScopedViewSet",
    "IsAdministratorOrReadOnly",
    "MayReadApiDocs",
]


class Scope(StrEnum):
    RULES = "rules"
    OWN = "own"
    SELECTORS = "selectors"


class ScopedViewSetMixin:
    """Restricts the viewset's queryset to what the caller may see (see the module docstring)."""

    scope: Scope = Scope.RULES
    owner_field: str = ""  # Scope.OWN: the field that holds the owner, e.g. "recipient"

    def get_queryset(self) -> QuerySet:
        if self.scope == Scope.SELECTORS:
            raise ImproperlyConfigured(f"{type(self).__name__} reads through selectors; it has no queryset.")
        return self.scope_queryset(super().get_queryset())

    def scope_queryset(self, queryset: QuerySet) -> QuerySet:
        user = self.request.user
        if self.scope == Scope.OWN:
            if not self.owner_field:
                raise ImproperlyConfigured(f"{type(self).__name__}: Scope.OWN needs an owner_field.")
            if not (user and user.is_authenticated and user.is_active):
                return queryset.none()
            return queryset.filter(**{self.owner_field: user})
        return scoping.restrict(user, queryset)

    def url_pk(self) -> int:
        """The route's id as a number, for an action that looks its row up itself (a transition's
        locked read inside the caller's scope); anything but a positive ASCII integer is a 404."""
        pk = ascii_int(self.kwargs.get(self.lookup_url_kwarg or self.lookup_field), minimum=1)
        if pk is None:
            raise Http404
        return pk


class IsAdministratorOrReadOnly(permissions.BasePermission):
    """Any logged-in person may read (what scoping lets them see); only administrators write."""

    message = _("Only administrators may change this.")

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return bool(request.user and request.user.is_authenticated)
        return bool(request.user and request.user.is_authenticated and request.user.is_administrator)


class MayReadApiDocs(permissions.BasePermission):
    """The OpenAPI schema and the API docs: for anyone while DJANGO_DEBUG is on (a developer's
    machine), otherwise for logged-in people only: the schema maps every endpoint and parameter."""

    def has_permission(self, request, view) -> bool:
        return settings.DEBUG or bool(request.user and request.user.is_authenticated)


class ScopedGenericViewSet(ScopedViewSetMixin, viewsets.GenericViewSet):
    """Pick the actions with DRF's mixins."""


class ScopedReadOnlyViewSet(ScopedViewSetMixin, viewsets.ReadOnlyModelViewSet):
    pass


class ScopedModelViewSet(ScopedViewSetMixin, viewsets.ModelViewSet):
    permission_classes = [IsAdministratorOrReadOnly]


class ScopedViewSet(ScopedViewSetMixin, viewsets.ViewSet):
    """A viewset without a queryset: its reads go through selectors that call `restrict()`."""

    scope = Scope.SELECTORS
