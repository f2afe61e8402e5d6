"""Authentication backend: the desk's ModelBackend, loading the person's unit with them."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

__all__ = ["UnitModelBackend"]


class UnitModelBackend(ModelBackend):
    """Every page and API call scopes by `request.user.unit`: fetch it in the same query as the
    user instead of a second one on each request."""

    def get_user(self, user_id):
        user = get_user_model()._default_manager.select_related("unit").filter(pk=user_id).first()
        return user if user is not None and self.user_can_authenticate(user) else None
