"""Forms of the alert pages."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from alerts.models import ParsingRule

__all__ = ["RuleTestForm", "BoardFilterForm"]

MAX_PASTE = 2 * 1024 * 1024


class RuleTestForm(forms.ModelForm):
    email = forms.CharField(label=_("E-mail to test (the whole message, headers included)"),
                            widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false"}),
                            max_length=MAX_PASTE)

    class Meta:
        model = ParsingRule
        fields = ["name", "priority", "match_sender", "match_subject", "match_body", "extract_subject",
                  "extract_body", "source", "category", "check_kind"]
        widgets = {f: forms.Textarea(attrs={"rows": 2}) for f in ("match_body", "extract_subject", "extract_body")}

    def validate_unique(self) -> None:
        """A test does not save: a rule may keep the name of the rule it is a draft of."""


class BoardFilterForm(forms.Form):
    system = forms.CharField(required=False, max_length=32)
    category = forms.CharField(required=False, max_length=20)
    host = forms.CharField(required=False, max_length=255)
