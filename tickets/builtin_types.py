"""The five request types the desk ships with (DOMAIN.md). Installed by a data migration and
editable in admin afterwards: administrators may add fields without code.

Labels are English msgids, translated when the form is shown; a label an administrator types in
Chinese is shown as typed.
"""

from django.utils.translation import gettext_noop

__all__ = ["BUILTIN_TYPES"]

SCOPE_CHOICES = [
    ["one_teller", gettext_noop("One teller")],
    ["whole_outlet", gettext_noop("The whole outlet")],
    ["several_outlets", gettext_noop("Several outlets")],
]

BUILTIN_TYPES = [
    {
        "code": "fault_report", "name": gettext_noop("Fault report"), "position": 1,
        "system_required": True, "dual_control": False,
        "fields": [
            {"name": "transaction_code", "label": gettext_noop("Transaction code"), "kind": "text", "required": True,
             "max_length": 20},
            {"name": "error_code", "label": gettext_noop("Error code"), "kind": "text", "required": False, "max_length": 40},
            {"name": "error_message", "label": gettext_noop("Error message"), "kind": "textarea", "required": False,
             "max_length": 2000},
            {"name": "occurred_at", "label": gettext_noop("When it happened"), "kind": "datetime", "required": True},
            {"name": "scope", "label": gettext_noop("Who is affected"), "kind": "choice", "required": True,
             "choices": SCOPE_CHOICES},
            {"name": "description", "label": gettext_noop("Description"), "kind": "textarea", "required": True,
             "max_length": 4000},
        ],
    },
    {
        "code": "data_adjustment", "name": gettext_noop("Production data adjustment"), "position": 2,
        "system_required": True, "dual_control": True,
        "fields": [
            {"name": "change_what", "label": gettext_noop("What to change"), "kind": "textarea", "required": True,
             "max_length": 2000},
            {"name": "before_value", "label": gettext_noop("Value before"), "kind": "textarea", "required": True,
             "max_length": 2000},
            {"name": "after_value", "label": gettext_noop("Value after"), "kind": "textarea", "required": True,
             "max_length": 2000},
            {"name": "justification", "label": gettext_noop("Business justification"), "kind": "textarea", "required": True,
             "max_length": 2000},
        ],
    },
    {
        "code": "business_consultation", "name": gettext_noop("Business consultation"), "position": 3,
        "system_required": False, "dual_control": False,
        "fields": [
            {"name": "question", "label": gettext_noop("Question"), "kind": "textarea", "required": True, "max_length": 4000},
        ],
    },
    {
        "code": "operation_consultation", "name": gettext_noop("Operation consultation"), "position": 4,
        "system_required": False, "dual_control": False,
        "fields": [
            {"name": "question", "label": gettext_noop("Question"), "kind": "textarea", "required": True, "max_length": 4000},
        ],
    },
    {
        "code": "data_extraction", "name": gettext_noop("Data extraction"), "position": 5,
        "system_required": False, "dual_control": False,
        "fields": [
            {"name": "what_data", "label": gettext_noop("What data"), "kind": "textarea", "required": True, "max_length": 2000},
            {"name": "period_from", "label": gettext_noop("Period from"), "kind": "date", "required": True},
            {"name": "period_to", "label": gettext_noop("Period to"), "kind": "date", "required": True},
            {"name": "purpose", "label": gettext_noop("Purpose"), "kind": "textarea", "required": True, "max_length": 2000},
            {"name": "recipient", "label": gettext_noop("Who receives it"), "kind": "text", "required": True,
             "max_length": 100},
        ],
    },
]
