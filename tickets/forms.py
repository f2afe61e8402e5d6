"""Forms: the per-type request form built from the type's field list, the action form, comments
and attachments. The API validates type data through the same `form_for_type()`, so a request is
checked the same way whichever door it comes in by."""

from __future__ import annotations

import uuid

from django import forms
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from opsdesk.org.choices import UnitKind
from opsdesk.org.models import ProductionSystem, Unit
from tickets.choices import FieldKind
from tickets.fields import validate_upload
from workflow.requests import TRANSITION_INPUTS, TransitionInput

__all__ = [
    "form_for_type",
    "clean_type_data",
    "ActionForm",
    "CommentForm",
    "AttachmentForm",
]

def _form_field(spec: dict) -> forms.Field:
    kind = spec["kind"]
    common = {"label": gettext(spec["label"]), "required": bool(spec.get("required")),
              "help_text": gettext(spec["help"]) if spec.get("help") else ""}
    max_length = spec.get("max_length")
    if kind == FieldKind.TEXT:
        return forms.CharField(max_length=max_length or 200, **common)
    if kind == FieldKind.TEXTAREA:
        return forms.CharField(max_length=max_length or 4000, widget=forms.Textarea(attrs={"rows": 3}), **common)
    if kind == FieldKind.INTEGER:
        return forms.IntegerField(**common)
    if kind == FieldKind.DATE:
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind == FieldKind.DATETIME:
        return forms.DateTimeField(
            widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
            input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S",
                           "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z"],
            **common,
        )
    if kind == FieldKind.CHOICE:
        choices = [(str(value), gettext(label)) for value, label in spec["choices"]]
        if not common["required"]:
            choices = [("", "---------"), *choices]
        return forms.ChoiceField(choices=choices, **common)
    raise ValidationError(f"unknown field kind {kind!r}")


class RequestFormBase(forms.Form):
    # New for each form shown, and sent back with it: a second click or a resent page files once.
    submission_key = forms.CharField(widget=forms.HiddenInput, required=False, max_length=64,
                                     initial=lambda: uuid.uuid4().hex)
    subject = forms.CharField(label=_("Subject"), max_length=200)
    system = forms.ModelChoiceField(label=_("Production system"), queryset=ProductionSystem.objects.none(),
                                    required=False)

    def __init__(self, *args, request_type, **kwargs):
        super().__init__(*args, **kwargs)
        self.request_type = request_type
        self.fields["system"].queryset = ProductionSystem.objects.filter(is_active=True).order_by("name")
        self.fields["system"].required = request_type.system_required
        for spec in request_type.fields:
            self.fields[f"f_{spec['name']}"] = _form_field(spec)

    def type_data(self) -> dict:
        """The validated type fields as JSON-safe values keyed by field name."""
        data = {}
        for spec in self.request_type.fields:
            value = self.cleaned_data.get(f"f_{spec['name']}")
            if value in (None, ""):
                continue
            data[spec["name"]] = DjangoJSONEncoder().default(value) if hasattr(value, "isoformat") else value
        return data


def form_for_type(request_type, data=None, **kwargs) -> RequestFormBase:
    return RequestFormBase(data, request_type=request_type, **kwargs)


def clean_type_data(request_type, data) -> dict:
    """Validate `data` (a dict keyed by field name) against the type's field list; return JSON-safe
    values or raise ValidationError with one message list per field."""
    if not isinstance(data, dict):
        raise ValidationError({"data": [_("Send the form fields as an object.")]})
    unknown = sorted(set(data) - {spec["name"] for spec in request_type.fields})
    if unknown:
        raise ValidationError({name: [_("This type has no such field.")] for name in unknown})
    form = RequestFormBase({"subject": "-", **{f"f_{k}": v for k, v in data.items()}},
                           request_type=request_type)
    form.fields["system"].required = False
    if not form.is_valid():
        errors = {key[2:] if key.startswith("f_") else key: msgs for key, msgs in form.errors.items()}
        raise ValidationError(errors)
    return form.type_data()


class ActionForm(forms.Form):
    """One transition on the page: the version the person saw and what the transition asks for."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    comment = forms.CharField(label=_("Comment"), required=False, max_length=4000,
                              widget=forms.Textarea(attrs={"rows": 2}))
    group = forms.ModelChoiceField(label=_("Support group"), required=False,
                                   queryset=Unit.objects.filter(kind=UnitKind.SUPPORT_GROUP, is_active=True))
    rating = forms.TypedChoiceField(label=_("Satisfaction"), required=False, coerce=int, empty_value=None,
                                    choices=[("", "---------"), *[(str(n), str(n)) for n in range(5, 0, -1)]])

    def __init__(self, *args, action: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.action = action
        inputs = TRANSITION_INPUTS.get(action, ())
        if TransitionInput.GROUP not in inputs:
            del self.fields["group"]
        if TransitionInput.RATING not in inputs:
            del self.fields["rating"]
        if TransitionInput.COMMENT_REQUIRED not in inputs and TransitionInput.COMMENT_OPTIONAL not in inputs:
            del self.fields["comment"]
        elif TransitionInput.COMMENT_REQUIRED in inputs:
            self.fields["comment"].required = True

    def transition_kwargs(self) -> dict:
        kwargs = {}
        if "group" in self.fields:
            kwargs["group"] = self.cleaned_data.get("group")
        if "rating" in self.fields:
            kwargs["rating"] = self.cleaned_data.get("rating")
        return kwargs


class CommentForm(forms.Form):
    body = forms.CharField(label=_("Comment"), max_length=4000, widget=forms.Textarea(attrs={"rows": 3}))


class AttachmentForm(forms.Form):
    file = forms.FileField(label=_("File"))

    def clean_file(self):
        upload = self.cleaned_data["file"]
        self.content_type = validate_upload(upload)
        return upload
