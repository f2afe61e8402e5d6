"""Base classes every API viewset uses, so scoping is applied in one place."""

from __future__ import annotations

from rest_framework import permissions, viewsets

from opsdesk import scoping

__all__ = ["ScopedQuerysetMixin", "ScopedReadOnlyViewSet", "ScopedModelViewSet", "IsAdministratorOrReadOnly"]


class ScopedQuerysetMixin:
    """Restricts `queryset` to what the caller may see; objects outside it answer 404."""

    def get_queryset(self):
        return scoping.restrict(self.request.user, super().get_queryset())


class IsAdministratorOrReadOnly(permissions.BasePermission):
    message = "只有管理员可以修改。"

    def has_permission(self, request, view) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return bool(request.user and request.user.is_authenticated)
        return bool(request.user and request.user.is_authenticated and request.user.is_administrator)


class ScopedReadOnlyViewSet(ScopedQuerysetMixin, viewsets.ReadOnlyModelViewSet):
    pass


class ScopedModelViewSet(ScopedQuerysetMixin, viewsets.ModelViewSet):
    permission_classes = [IsAdministratorOrReadOnly]
