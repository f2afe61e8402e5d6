"""Admin: mail accounts and folders with the poller's status, quarantine with re-processing,
rules (with a link to the rule-test page), silences, webhook sources, incidents (read-only).

History is never deleted here: incidents and their events, the raw alert mail and its attachments.
Maintenance windows are made and ended only through `alerts.silencing`, like on the desk's page.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from alerts import services, silencing, teaching
from alerts.choices import Outcome, Severity
from alerts.models import (
    Alert,
    Incident,
    IncidentEvent,
    IngestedMessage,
    MailAccount,
    MailFolder,
    ParsingRule,
    QuarantinedMessage,
    RuleChange,
    Silence,
    SourceBinding,
    WebhookSource,
)
from alerts.reasons import error_label, reason_label
from notifications.models import EscalationPolicy, EscalationStep

STATUS_FIELDS = ("status", "poller", "heartbeat_at", "last_success_at", "lag_seconds", "last_error", "last_error_at",
                 "error_count", "ingested_count", "uidvalidity", "last_uid")


class MailFolderInline(admin.StackedInline):
    model = MailFolder
    extra = 0
    readonly_fields = STATUS_FIELDS


class MailAccountForm(forms.ModelForm):
    """The password is never sent back to the browser (it was in the page's HTML); left empty on a
    change, the stored one is kept."""

    password = forms.CharField(label=_("password"), required=False, strip=False,
                               widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
                               help_text=_("Leave empty to keep the stored password."))

    class Meta:
        model = MailAccount
        fields = ["name", "host", "port", "security", "verify_certificate", "ca_file", "username", "password",
                  "timeout", "enabled"]

    def clean_password(self) -> str:
        password = self.cleaned_data.get("password", "")
        if password:
            return password
        if self.instance.pk:
            return self.instance.password
        raise forms.ValidationError(_("This field is required."), code="required")


@admin.register(MailAccount)
class MailAccountAdmin(admin.ModelAdmin):
    form = MailAccountForm
    list_display = ("name", "host", "port", "security", "username", "enabled")
    inlines = [MailFolderInline]


@admin.register(MailFolder)
class MailFolderAdmin(admin.ModelAdmin):
    """The poller's status page: one line per watched mailbox."""

    list_display = ("__str__", "enabled", "status", "poller", "last_success_at", "lag_seconds", "error_count",
                    "last_error_at", "short_error", "ingested_count")
    list_filter = ("enabled", "status")
    readonly_fields = STATUS_FIELDS

    @admin.display(description=_("last error"))
    def short_error(self, obj):
        return obj.last_error[:120]


class AttachmentInline(admin.TabularInline):
    from alerts.models import MessageAttachment

    model = MessageAttachment
    extra = 0
    fields = ("filename", "content_type", "size", "truncated")
    readonly_fields = fields
    can_delete = False


class MessageAdminBase(admin.ModelAdmin):
    """The raw alert mail as received: evidence of what the monitoring sent, read-only, never deleted."""

    list_display = ("received_at", "origin", "subject", "sender", "outcome", "alert_count", "reason_words")
    list_filter = ("outcome", "origin")
    search_fields = ("subject", "sender", "message_id")
    readonly_fields = ("origin", "folder", "uidvalidity", "uid", "location", "message_id", "fingerprint",
                       "duplicate_of", "subject", "sender", "sent_at", "received_at", "outcome", "reason_words", "error_words",
                       "alert_count", "raw_size", "raw_truncated", "reprocessed_at", "raw_link")
    exclude = ("raw",)
    inlines = [AttachmentInline]

    @admin.display(description=_("reason"))
    def reason_words(self, obj):
        return reason_label(obj.reason)

    @admin.display(description=_("error"))
    def error_words(self, obj):
        return error_label(obj.error)

    @admin.display(description=_("raw message"))
    def raw_link(self, obj):
        return format_html('<a href="{}">{}</a>', reverse("alerts:message_raw", args=[obj.pk]),
                           gettext("Show as plain text"))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(IngestedMessage)
class IngestedMessageAdmin(MessageAdminBase):
    pass


@admin.register(QuarantinedMessage)
class QuarantinedMessageAdmin(MessageAdminBase):
    list_display = ("received_at", "origin", "subject", "sender", "error_words", "reprocessed_at", "teach_link")
    actions = ["reprocess"]

    @admin.display(description=_("correct"))
    def teach_link(self, obj):
        return format_html('<a href="{}?message={}">{}</a>', reverse("alerts:teach"), obj.pk,
                           gettext("Teach the desk to read it"))

    def get_queryset(self, request):
        return super().get_queryset(request).filter(outcome=Outcome.QUARANTINED)

    @admin.action(description=_("Re-process with the current rules"))
    def reprocess(self, request, queryset):
        results = [services.message_reprocess(message_pk=pk) for pk in queryset.values_list("pk", flat=True)]
        still = sum(1 for r in results if r == Outcome.QUARANTINED)
        self.message_user(request, gettext("Re-processed %(n)d message(s); %(still)d still cannot be read.")
                          % {"n": len(results), "still": still},
                          messages.WARNING if still else messages.SUCCESS)


@admin.register(ParsingRule)
class ParsingRuleAdmin(admin.ModelAdmin):
    list_display = ("name", "mode", "priority", "enabled", "source", "category", "check_kind", "created_by",
                    "test_link")
    list_filter = ("mode", "enabled", "source")
    list_editable = ("priority", "enabled")
    search_fields = ("name",)

    def save_model(self, request, obj, form, change):
        # Every change of a rule is audited, whoever makes it and wherever.
        before = teaching.rule_values(ParsingRule.objects.get(pk=obj.pk)) if change and obj.pk else {}
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)
        teaching.record_rule_change(actor=request.user, rule=obj, action="changed" if change else "created",
                                    before=before)

    def delete_model(self, request, obj):
        teaching.record_rule_change(actor=request.user, rule=obj, action="deleted",
                                    before=teaching.rule_values(obj))
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)

    @admin.display(description=_("test"))
    def test_link(self, obj):
        return format_html('<a href="{}?rule={}">{}</a>', reverse("alerts:rule_test"), obj.pk,
                           gettext("Test against an e-mail"))


class SilenceCreateForm(forms.ModelForm):
    """A new maintenance window, made by `silencing.silence_create` as the last step of validation:
    the service's checks (at most 30 days, an end still to come, …) show on the form like any field's,
    and a form that validates has made the window, quieted the incidents it matches and written their
    events, in the admin's transaction."""

    actor = None  # the person saving; set per request by SilenceAdmin.get_form

    class Meta:
        model = Silence
        fields = ("host_pattern", "check_pattern", "system", "category", "starts_at", "ends_at", "reason")

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            self.instance = silencing.silence_create(actor=self.actor, **{
                name: cleaned[name] for name in self._meta.fields})
        except ValidationError as error:
            raise ValidationError({field if field in self.fields else NON_FIELD_ERRORS: errors
                                   for field, errors in error.message_dict.items()}) from error
        except PermissionDenied as error:
            raise ValidationError(str(error)) from error
        return cleaned

    def _post_clean(self):
        # The service is the one check of a new window (Silence.clean() is a weaker copy of it), and
        # the window it made is already saved: nothing is left to copy onto the instance or validate.
        pass


@admin.register(Silence)
class SilenceAdmin(admin.ModelAdmin):
    """New windows go through `silencing.silence_create`; a made window is read-only and can only be
    ended early, through `silencing.silence_end` (the "end now" action), which brings the alarm of the
    incidents it quieted back. Nothing here saves or deletes a window by itself."""

    form = SilenceCreateForm
    list_display = ("__str__", "starts_at", "ends_at", "reason", "author")
    list_filter = ("category",)
    actions = ["end_now"]

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)  # a new class per call: the actor stays this request's
        form.actor = request.user
        return form

    def get_readonly_fields(self, request, obj=None):
        return ("author", "created_at") if obj is not None else ()

    def has_add_permission(self, request) -> bool:
        return super().has_add_permission(request) and silencing.may_manage_silences(request.user)

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        # A deleted window would leave its incidents quiet and its alerts without "silenced by": end it.
        return False

    def has_end_permission(self, request) -> bool:
        return super().has_change_permission(request) and silencing.may_manage_silences(request.user)

    def save_model(self, request, obj, form, change):
        """Nothing to save: validating the form made the window through the service."""

    @admin.action(description=_("End the selected windows now"), permissions=["end"])
    def end_now(self, request, queryset):
        pending = list(queryset.filter(ends_at__gt=timezone.now()).values_list("pk", flat=True))
        for pk in pending:
            silencing.silence_end(actor=request.user, pk=pk)
        self.message_user(request, gettext("Ended %(n)d maintenance window(s).") % {"n": len(pending)},
                          messages.SUCCESS)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows the desk writes itself: shown, never added, changed or deleted here (an audit trail
    is append-only; PROTECT keeps it anyway, and the admin does not offer what would fail)."""

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RuleChange)
class RuleChangeAdmin(ReadOnlyAdmin):
    """The rules' audit trail."""

    list_display = ("at", "rule_name", "action", "actor", "message", "incident")
    list_filter = ("action",)
    search_fields = ("rule_name",)


@admin.register(SourceBinding)
class SourceBindingAdmin(admin.ModelAdmin):
    list_display = ("name", "tool", "folder", "sender", "charset", "enabled")
    list_filter = ("tool", "enabled")
    search_fields = ("name", "sender")


@admin.register(WebhookSource)
class WebhookSourceAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "kind", "enabled", "last_received_at", "received_count")
    readonly_fields = ("last_received_at", "received_count")
    actions = ["new_token"]

    def save_model(self, request, obj, form, change):
        if not obj.token_hash:
            token = obj.set_token()
            self.message_user(request, gettext("Token for %(name)s (shown only now): %(token)s")
                              % {"name": obj.name, "token": token}, messages.WARNING)
        super().save_model(request, obj, form, change)

    @admin.action(description=_("Issue a new token"))
    def new_token(self, request, queryset):
        for source in queryset:
            token = source.set_token()
            source.save(update_fields=["token_hash"])
            self.message_user(request, gettext("Token for %(name)s (shown only now): %(token)s")
                              % {"name": source.name, "token": token}, messages.WARNING)


class AlertInline(admin.TabularInline):
    model = Alert
    extra = 0
    fields = ("occurred_at", "status", "severity", "text", "message")
    readonly_fields = fields
    can_delete = False


class EventInline(admin.TabularInline):
    """The incident's audit trail (append-only, see `workflow.audit`): shown, never edited."""

    model = IncidentEvent
    extra = 0
    fields = ("at", "action", "source_state", "target_state", "actor", "comment")
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Incident)
class IncidentAdmin(ReadOnlyAdmin):
    """Read-only here: incidents change through the state machine (board and API)."""

    list_display = ("number", "state", "severity", "host", "check_name", "system", "occurrences", "flapping",
                    "first_seen", "last_seen")
    list_filter = ("state", "severity", "category", "flapping", "system")
    search_fields = ("host", "check_name", "dedup_key")
    inlines = [AlertInline, EventInline]

    # The de-duplication bookkeeping (the key's hash, the moments that measure flapping) is not for reading.
    INTERNAL = ("key_hash", "recent_changes")

    def get_readonly_fields(self, request, obj=None):
        return [f for f in super().get_readonly_fields(request, obj) if f not in self.INTERNAL]

    def get_fields(self, request, obj=None):
        return [f for f in super().get_fields(request, obj) if f not in self.INTERNAL]

    @admin.display(description=_("number"), ordering="pk")
    def number(self, obj):
        return obj.pk


# Escalation chains are kept by notifications (with their runs), but they are about incident
# severities: edited here, the severities ticked instead of typed, written as the same
# comma-separated codes `EscalationPolicy.severities` stores.
class EscalationPolicyForm(forms.ModelForm):
    severities = forms.MultipleChoiceField(label=_("severities"), choices=Severity.choices,
                                           widget=forms.CheckboxSelectMultiple,
                                           help_text=_("Incidents of these severities start this chain."))

    class Meta:
        model = EscalationPolicy
        fields = ["name", "severities", "is_active"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["severities"] = [s.strip() for s in self.instance.severities.split(",") if s.strip()]

    def clean_severities(self) -> str:
        chosen = set(self.cleaned_data["severities"])
        return ",".join(s for s in Severity.values if s in chosen)  # always in rank order


class EscalationStepInline(admin.TabularInline):
    model = EscalationStep
    extra = 1
    autocomplete_fields = ["unit"]


@admin.register(EscalationPolicy)
class EscalationPolicyAdmin(admin.ModelAdmin):
    form = EscalationPolicyForm
    list_display = ["name", "severity_names", "is_active"]
    inlines = [EscalationStepInline]

    @admin.display(description=_("severities"))
    def severity_names(self, obj):
        labels = dict(Severity.choices)
        return "、".join(str(labels.get(s.strip(), s.strip())) for s in obj.severities.split(",") if s.strip())
