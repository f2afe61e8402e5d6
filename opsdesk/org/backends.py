"""Authentication backend: the desk's ModelBackend, loading the person's unit with them, and answering
permissions from the separated administrators' duties (`opsdesk/org/duties.py`)."""

from __future__ import annotations

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from opsdesk.org import duties

__all__ = ["UnitModelBackend"]


class UnitModelBackend(ModelBackend):
    """Every page and API call scopes by `request.user.unit`: fetch it in the same query as the
    user instead of a second one on each request.

    Permissions come from the person's role only (`duties.duty_allows`); groups and per-person
    permissions are not read, so nobody reaches another administrator's duty by a side door."""

    def get_user(self, user_id):
        user = get_user_model()._default_manager.select_related("unit").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None

    def has_perm(self, user_obj, perm, obj=None) -> bool:
        return bool(user_obj.is_active) and duties.duty_allows(user_obj, perm)

    def has_module_perms(self, user_obj, app_label) -> bool:
        if not user_obj.is_active:
            return False
        try:
            models = apps.get_app_config(app_label).get_models()
        except LookupError:
            return False
        return any(duties.duty_allows(user_obj, f"{app_label}.view_{m._meta.model_name}") for m in models)

    def get_all_permissions(self, user_obj, obj=None) -> set[str]:
        # Not read by the desk; Django's own "all permissions" would list group grants we ignore.
        return set()
