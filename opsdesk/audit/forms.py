from __future__ import annotations

import datetime as dt

from django import forms
from django.utils.translation import gettext_lazy as _

from opsdesk.audit.models import SecurityEventKind

__all__ = ["AuditFilterForm"]

# Bounded dates: the year 1 or 9999 would overflow the day arithmetic of the filters.
EARLIEST = dt.date(2000, 1, 1)
LATEST = dt.date(2100, 12, 31)


class AuditFilterForm(forms.Form):
    start = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    person = forms.CharField(label=_("Person"), required=False, max_length=150)
    kind = forms.ChoiceField(label=_("Kind"), required=False,
                             choices=[("", _("All kinds"))] + list(SecurityEventKind.choices))
    success = forms.ChoiceField(label=_("Result"), required=False,
                                choices=[("", _("All results")), ("yes", _("Succeeded")), ("no", _("Failed"))])

    def _bounded(self, name: str) -> dt.date | None:
        value = self.cleaned_data.get(name)
        if value and not EARLIEST <= value <= LATEST:
            raise forms.ValidationError(_("Enter a date between %(low)s and %(high)s.")
                                        % {"low": EARLIEST.isoformat(), "high": LATEST.isoformat()})
        return value

    def clean_start(self):
        return self._bounded("start")

    def clean_end(self):
        return self._bounded("end")

    def filters(self) -> dict:
        data = self.cleaned_data
        success = {"yes": True, "no": False}.get(data.get("success") or "")
        return {"start": data.get("start"), "end": data.get("end"), "person": (data.get("person") or "").strip(),
                "kind": data.get("kind") or "", "success": success}
