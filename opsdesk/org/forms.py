"""Admin forms for people: roles as check boxes, the mobile number normalised."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.utils.translation import gettext_lazy as _

from opsdesk.org.choices import Role
from opsdesk.org.models import User, normalize_mobile

__all__ = ["PersonChangeForm", "PersonCreationForm"]


class RolesFormMixin(forms.ModelForm):
    roles = forms.MultipleChoiceField(
        label=_("roles"), choices=Role.choices, required=False, widget=forms.CheckboxSelectMultiple
    )

    def clean_mobile(self) -> str:
        return normalize_mobile(self.cleaned_data.get("mobile", ""))


class PersonChangeForm(RolesFormMixin, UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = ("username", "password", "display_name", "unit", "mobile", "roles", "email", "is_active",
                  "is_staff", "is_superuser", "groups", "user_permissions", "last_login", "date_joined")


class PersonCreationForm(RolesFormMixin, UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "display_name", "unit", "mobile", "roles")
