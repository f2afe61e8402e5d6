"""Forms: the per-type request form built from the type's field list, the action form, comments
and attachments. The API validates type data through the same `form_for_type()`, so a request is
checked the same way whichever door it comes in by."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from opsdesk.org.choices import UnitKind
from opsdesk.org.models import ProductionSystem, Unit
from tickets.choices import FieldKind, Rating
from tickets.fields import FIELD_NAME_RE, RESERVED_NAMES, validate_field_list, validate_upload
from tickets.models import RequestType
from workflow.requests import TRANSITION_INPUTS, TransitionInput

__all__ = [
    "form_for_type",
    "clean_type_data",
    "ActionForm",
    "CommentForm",
    "AttachmentForm",
    "FieldSpecForm",
    "FieldSpecFormSet",
    "RequestTypeAdminForm",
]

# Fields that say when something happened ("发生时间" of a fault report): they start at the current
# minute and refuse a time later than now (a few minutes' grace for a teller PC's clock).
PAST_TIME_FIELDS = frozenset({"occurred_at"})
CLOCK_GRACE = timedelta(minutes=5)


def _now_to_the_minute():
    return timezone.localtime().replace(second=0, microsecond=0)


def _not_in_the_future(value) -> None:
    if value is not None and value > timezone.now() + CLOCK_GRACE:
        raise ValidationError(_("This time is in the future: enter when it actually happened."), code="future")


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
        if spec["name"] in PAST_TIME_FIELDS:
            # When something happened: most often just now, and never later than now.
            common.update(initial=_now_to_the_minute, validators=[_not_in_the_future])
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
                                    choices=[("", "---------"), *[(str(v), label) for v, label in Rating.choices]])

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


# --- The request-type field editor (admin) ---------------------------------------------------------
# An administrator edits a type's field list as rows of a form, not as JSON. The rows read and write
# the same list `RequestType.fields` stores (checked by `tickets.fields.validate_field_list`). The
# shipped labels are English msgids translated when shown: the editor shows them translated, and a
# label saved unchanged keeps its msgid (so the English interface keeps its English labels).

def _shown(msgid: str) -> str:
    return gettext(msgid) if msgid else ""


def _choices_text(choices) -> str:
    return "\n".join(f"{value}|{_shown(label)}" for value, label in choices or ())


class FieldSpecForm(forms.Form):
    """One field of a request type's form."""

    label = forms.CharField(label=_("Label"), max_length=100)
    name = forms.CharField(label=_("Internal name"), max_length=40,
                           help_text=_("Lower-case letters, digits and “_”; fixed once requests use it."))
    kind = forms.ChoiceField(label=_("Kind"), choices=FieldKind.choices)
    required = forms.BooleanField(label=_("Required"), required=False)
    choices = forms.CharField(label=_("Choices"), required=False, widget=forms.Textarea(attrs={"rows": 3, "cols": 30}),
                              help_text=_("For “One of a list”: one choice a line, as value|label (or just the label)."))
    max_length = forms.IntegerField(label=_("Maximum length"), required=False, min_value=1, max_value=4000)
    help = forms.CharField(label=_("Help text"), required=False, max_length=200)
    order = forms.IntegerField(label=_("Order"), required=False, min_value=0, max_value=999)
    # The stored labels before editing: a label saved as shown keeps its msgid.
    label_msgid = forms.CharField(required=False, widget=forms.HiddenInput)
    choice_msgids = forms.CharField(required=False, widget=forms.HiddenInput)

    @classmethod
    def initial_for(cls, spec: dict, order: int) -> dict:
        choices = spec.get("choices") or []
        return {"label": _shown(spec.get("label", "")), "name": spec.get("name", ""), "kind": spec.get("kind", ""),
                "required": bool(spec.get("required")), "choices": _choices_text(choices),
                "max_length": spec.get("max_length"), "help": _shown(spec.get("help", "")), "order": order,
                "label_msgid": spec.get("label", ""),
                "choice_msgids": "\n".join(str(label) for _value, label in choices)}

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if not FIELD_NAME_RE.match(name) or name in RESERVED_NAMES:
            raise ValidationError(_("Lower-case letters, digits and “_”, starting with a letter (not subject, "
                                    "system or type)."))
        return name

    def clean(self):
        data = super().clean()
        if data.get("kind") == FieldKind.CHOICE:
            pairs = self._choice_pairs(data.get("choices", ""))
            if not pairs:
                self.add_error("choices", _("List at least one choice."))
            data["choice_pairs"] = pairs
        return data

    def _choice_pairs(self, text: str) -> list[list[str]]:
        msgids = {_shown(m): m for m in self.cleaned_data.get("choice_msgids", "").splitlines() if m}
        pairs = []
        for line in text.splitlines():
            line = line.strip()
            if not line:
                continue
            value, sep, label = line.partition("|")
            value, label = value.strip(), label.strip()
            if not sep:
                label = value
            pairs.append([value, msgids.get(label, label)])
        return pairs

    def spec(self) -> dict:
        """The field as `RequestType.fields` stores it."""
        data = self.cleaned_data
        label_msgid = data.get("label_msgid", "")
        spec = {"name": data["name"], "label": label_msgid if label_msgid and _shown(label_msgid) == data["label"]
                else data["label"], "kind": data["kind"], "required": bool(data.get("required"))}
        if data.get("max_length") and data["kind"] in (FieldKind.TEXT, FieldKind.TEXTAREA):
            spec["max_length"] = data["max_length"]
        if data["kind"] == FieldKind.CHOICE:
            spec["choices"] = data["choice_pairs"]
        if data.get("help"):
            spec["help"] = data["help"]
        return spec


class _FieldSpecBaseFormSet(forms.BaseFormSet):
    def clean(self):
        if any(self.errors):
            return
        names = [f.cleaned_data["name"] for f in self._kept()]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValidationError(_("Field name “%(name)s” appears twice.") % {"name": twice[0]})

    def _kept(self) -> list[FieldSpecForm]:
        return [f for f in self.forms if f.has_changed() or f.initial
                if not (self.can_delete and self._should_delete_form(f)) and f.cleaned_data.get("name")]

    def field_list(self) -> list[dict]:
        """The kept rows in their order (rows without an order keep their place at the end)."""
        kept = list(enumerate(self._kept()))
        kept.sort(key=lambda item: (item[1].cleaned_data.get("order") is None,
                                    item[1].cleaned_data.get("order") or 0, item[0]))
        return [form.spec() for _i, form in kept]


FieldSpecFormSet = forms.formset_factory(FieldSpecForm, formset=_FieldSpecBaseFormSet, extra=1, can_delete=True)


class RequestTypeAdminForm(forms.ModelForm):
    """The request type with its field list edited as rows (`field_formset`), not as JSON."""

    class Meta:
        model = RequestType
        fields = ["code", "name", "system_required", "dual_control", "position", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        specs = self.instance.fields if self.instance.pk and isinstance(self.instance.fields, list) else []
        self.field_formset = FieldSpecFormSet(
            self.data if self.is_bound else None, prefix="spec",
            initial=[FieldSpecForm.initial_for(spec, (i + 1) * 10) for i, spec in enumerate(specs)])

    def is_valid(self) -> bool:
        valid = super().is_valid()
        return self.field_formset.is_valid() and valid

    def has_changed(self) -> bool:
        return super().has_changed() or self.field_formset.has_changed()

    def _post_clean(self):
        if self.field_formset.is_valid():
            fields = self.field_formset.field_list()
            try:
                validate_field_list(fields)
            except ValidationError as exc:
                self.add_error(None, exc.message_dict.get("fields", exc.messages))
                return
            self.instance.fields = fields
        super()._post_clean()
