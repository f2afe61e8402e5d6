from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from notifications.events import event_choices
from notifications.models import Duty, NotificationStatus
from opsdesk.org.models import User, validate_mobile

__all__ = ["MobileForm", "LogFilterForm", "ShiftForm"]


class MobileForm(forms.Form):
    mobile = forms.CharField(label=_("Mobile number"), max_length=20, validators=[validate_mobile],
                             help_text=_("SMS reminders go to this number."))


class LogFilterForm(forms.Form):
    person = forms.CharField(label=_("Person"), required=False)
    unit = forms.CharField(label=_("Unit code"), required=False)
    about = forms.CharField(label=_("About"), required=False, help_text=_("e.g. tickets.servicerequest:12"))
    status = forms.ChoiceField(label=_("Status"), required=False,
                               choices=[("", _("Any"))] + list(NotificationStatus.choices))
    event = forms.ChoiceField(label=_("Event"), required=False,
                              choices=lambda: [("", _("Any")), *event_choices()])


class ShiftForm(forms.Form):
    person = forms.ModelChoiceField(label=_("Person"), queryset=User.objects.none())
    # Not given (an older client): request handling, the roster every unit keeps.
    duty = forms.ChoiceField(label=_("Duty"), choices=Duty.choices, initial=Duty.REQUESTS, required=False)
    starts_at = forms.DateTimeField(label=_("Starts"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    ends_at = forms.DateTimeField(label=_("Ends"), widget=forms.DateTimeInput(attrs={"type": "datetime-local"}))
    is_substitute = forms.BooleanField(label=_("Substitute"), required=False)
    note = forms.CharField(label=_("Note"), required=False, max_length=200)

    def __init__(self, *args, unit, **kwargs):
        super().__init__(*args, **kwargs)
        # The unit's own people only: the roster texts them the unit's requests (DutyShift.clean).
        self.fields["person"].queryset = User.objects.filter(unit=unit, is_active=True).select_related("unit") \
            .order_by("username")
        self.fields["person"].label_from_instance = lambda p: f"{p} ({p.username}){' · ' + str(p.unit) if p.unit else ''}"
        self.unit = unit

    def clean(self):
        data = super().clean()
        if data.get("starts_at") and data.get("ends_at") and data["ends_at"] <= data["starts_at"]:
            self.add_error("ends_at", _("A shift must end after it starts."))
        return data
