"""The filters every report takes: a date range, the unit drilled into, a time grain and a second
period to compare with. The pages and the API validate with the same form."""

from __future__ import annotations

from datetime import date, timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from opsdesk.inputs import MAX_INT, BoundedDateField

__all__ = ["ReportFilterForm", "ReportFilter", "MAX_RANGE_DAYS"]

MAX_RANGE_DAYS = 3 * 366
GRAINS = (("day", _("Day")), ("week", _("Week")), ("month", _("Month")))


class ReportFilter:
    """Validated filters (plain values)."""

    def __init__(self, *, date_from: date, date_to: date, unit_id: int | None = None, grain: str = "day",
                 compare_from: date | None = None, compare_to: date | None = None):
        self.date_from, self.date_to, self.unit_id, self.grain = date_from, date_to, unit_id, grain
        span = date_to - date_from
        self.compare_to = compare_to or (date_from - timedelta(days=1))
        self.compare_from = compare_from or (self.compare_to - span)

    def as_params(self) -> dict[str, str]:
        params = {"date_from": self.date_from.isoformat(), "date_to": self.date_to.isoformat(), "grain": self.grain,
                  "compare_from": self.compare_from.isoformat(), "compare_to": self.compare_to.isoformat()}
        if self.unit_id:
            params["unit"] = str(self.unit_id)
        return params


class ReportFilterForm(forms.Form):
    date_from = BoundedDateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = BoundedDateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    unit = forms.IntegerField(label=_("Unit"), required=False, min_value=1, max_value=MAX_INT, widget=forms.HiddenInput)
    grain = forms.ChoiceField(label=_("Grain"), choices=GRAINS, required=False)
    compare_from = BoundedDateField(label=_("Compare from"), required=False,
                                   widget=forms.DateInput(attrs={"type": "date"}))
    compare_to = BoundedDateField(label=_("Compare to"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        today = timezone.localdate()
        date_to = data.get("date_to") or today
        date_from = data.get("date_from") or (date_to - timedelta(days=29))
        if date_from > date_to:
            raise forms.ValidationError(_("The start date must not be after the end date."), code="range")
        if (date_to - date_from).days > MAX_RANGE_DAYS:
            raise forms.ValidationError(_("Choose a range of at most three years."), code="range_too_long")
        cf, ct = data.get("compare_from"), data.get("compare_to")
        if bool(cf) != bool(ct):
            raise forms.ValidationError(_("Give both dates of the period to compare with."), code="compare")
        if cf and ct and (cf > ct or (ct - cf).days > MAX_RANGE_DAYS):
            raise forms.ValidationError(_("The period to compare with is not a valid range."), code="compare")
        data["filter"] = ReportFilter(date_from=date_from, date_to=date_to, unit_id=data.get("unit"),
                                      grain=data.get("grain") or "day", compare_from=cf, compare_to=ct)
        return data
