"""Forms of the alert pages."""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from alerts.choices import AlertStatus, Category, Severity
from alerts.models import ParsingRule
from alerts.silencing import MAX_SILENCE_MINUTES
from opsdesk.org.models import ProductionSystem

__all__ = ["RuleTestForm", "BoardFilterForm", "SilenceForm", "CorrectionForm", "RuleConfirmForm", "IncidentActionForm",
           "IncidentSilenceForm", "IncidentNoteForm", "IncidentSearchForm"]

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

    RULE_FIELDS = ("match_sender", "match_subject", "match_body", "extract_subject", "extract_body")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Without a rule the mail is read by the built-in parsers and the rules in force only.
        self.fields["name"].required = False

    def has_rule(self) -> bool:
        return any(self.cleaned_data.get(f) for f in self.RULE_FIELDS)

    def _post_clean(self):
        if self.has_rule():
            if not self.cleaned_data.get("name"):
                self.cleaned_data["name"] = self.instance.name = "draft"
            super()._post_clean()

    def validate_unique(self) -> None:
        """A test does not save: a rule may keep the name of the rule it is a draft of."""


class BoardFilterForm(forms.Form):
    system = forms.CharField(required=False, max_length=32)
    category = forms.CharField(required=False, max_length=20)
    host = forms.CharField(required=False, max_length=255)


LOCAL_MINUTE = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> sends and shows


def _local_datetime_input() -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_MINUTE)


class SilenceForm(forms.Form):
    """A new maintenance window. The input's shape is checked here; the rules (at least one pattern,
    an end after the start, a reason) by `alerts.silencing.silence_create`, whose errors land on
    the same field names."""

    host_pattern = forms.CharField(label=_("Host pattern"), required=False, max_length=255,
                                   help_text=_("Shell-style, e.g. szhxdb* ; empty matches any host."))
    system = forms.ModelChoiceField(label=_("Production system"), required=False,
                                    queryset=ProductionSystem.objects.filter(is_active=True).order_by("code"),
                                    empty_label=_("Any"))
    check_pattern = forms.CharField(label=_("Check pattern"), required=False, max_length=500,
                                    help_text=_("Shell-style, e.g. filesystem:* ; empty matches any check."))
    category = forms.ChoiceField(label=_("Category"), required=False,
                                 choices=[("", _("Any")), *Category.choices])
    starts_at = forms.DateTimeField(label=_("Starts at"), required=False, widget=_local_datetime_input(),
                                    input_formats=[LOCAL_MINUTE, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"],
                                    help_text=_("Empty: now."))
    ends_at = forms.DateTimeField(label=_("Ends at"), required=False, widget=_local_datetime_input(),
                                  input_formats=[LOCAL_MINUTE, "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"])
    duration_minutes = forms.IntegerField(label=_("or duration (minutes)"), required=False, min_value=1,
                                          max_value=MAX_SILENCE_MINUTES,
                                          widget=forms.NumberInput(attrs={"size": 6}))
    reason = forms.CharField(label=_("Reason"), max_length=300,
                             error_messages={"required": _("Give a reason for the maintenance window.")},
                             widget=forms.TextInput(attrs={"size": 60}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("starts_at", timezone.localtime().replace(second=0, microsecond=0))

    def service_arguments(self) -> dict:
        """The cleaned input as `silence_create` takes it."""
        data = dict(self.cleaned_data)
        minutes = data.pop("duration_minutes")
        data["duration"] = timedelta(minutes=minutes) if minutes else None
        data["category"] = data["category"] or ""
        return data


class CorrectionForm(forms.Form):
    """How the mail should have been read: what the operator changes (empty: as read)."""

    host = forms.CharField(label=_("Host"), required=False, max_length=255)
    check = forms.CharField(label=_("Check"), required=False, max_length=500)
    severity = forms.ChoiceField(label=_("Severity"), required=False, choices=[("", "—"), *Severity.choices])
    status = forms.ChoiceField(label=_("State"), required=False, choices=[("", "—"), *AlertStatus.choices])
    category = forms.ChoiceField(label=_("Category"), required=False, choices=[("", "—"), *Category.choices])
    last = forms.IntegerField(label=_("Try the rule on the last … mails"), min_value=1, max_value=2000,
                              initial=200)


class RuleConfirmForm(forms.ModelForm):
    """The proposed rule, as the operator confirms (and may refine) it."""

    last = forms.IntegerField(min_value=1, max_value=2000, initial=200, widget=forms.HiddenInput)

    class Meta:
        model = ParsingRule
        fields = ["name", "mode", "source", "match_sender", "match_subject", "match_body", "match_check",
                  "extract_subject", "extract_body", "set_host", "set_check", "set_severity", "set_status",
                  "set_category"]
        widgets = {f: forms.TextInput(attrs={"size": 70, "spellcheck": "false"})
                   for f in ("match_sender", "match_subject", "match_body", "match_check", "extract_subject",
                             "extract_body")}


class IncidentActionForm(forms.Form):
    """Acknowledge, resolve or reopen from the incident page: the version the operator saw (a
    change by someone else meanwhile is refused, not overwritten) and an optional comment."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=0)
    comment = forms.CharField(label=_("Comment"), required=False, max_length=4000,
                              widget=forms.Textarea(attrs={"rows": 2}))


class IncidentSilenceForm(forms.Form):
    minutes = forms.IntegerField(label=_("Minutes"), min_value=1, max_value=MAX_SILENCE_MINUTES, initial=60)
    reason = forms.CharField(label=_("Reason"), max_length=300)


class IncidentNoteForm(forms.Form):
    text = forms.CharField(label=_("Note"), max_length=4000, widget=forms.Textarea(attrs={"rows": 2}))


class IncidentSearchForm(forms.Form):
    """The search over past incidents (the resolved list): host, check, system, words of the
    summary or the alerts, and the days the incident was going on."""

    host = forms.CharField(label=_("Host"), required=False, max_length=255)
    check = forms.CharField(label=_("Check"), required=False, max_length=500)
    system = forms.ModelChoiceField(label=_("Production system"), required=False, empty_label=_("Any"),
                                    queryset=ProductionSystem.objects.filter(is_active=True).order_by("code"),
                                    to_field_name="code")
    text = forms.CharField(label=_("Text"), required=False, max_length=200)
    since = forms.DateField(label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def clean(self):
        data = super().clean()
        if data.get("since") and data.get("until") and data["until"] < data["since"]:
            self.add_error("until", _("The end date comes before the start date."))
        return data

    def filters(self) -> dict:
        """The search's arguments for `alerts.selectors.incident_search`."""
        data = self.cleaned_data
        return {"host": data.get("host") or "", "check": data.get("check") or "",
                "system": data["system"].code if data.get("system") else "", "text": data.get("text") or "",
                "since": data.get("since"), "until": data.get("until")}
