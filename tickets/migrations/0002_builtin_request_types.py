"""The five built-in request types (a frozen copy of tickets/builtin_types.py at this release)."""

import json

from django.db import migrations

BUILTIN_TYPES = json.loads(r"""[
 {
  "code": "fault_report",
  "name": "Fault report",
  "position": 1,
  "system_required": true,
  "dual_control": false,
  "fields": [
   {
    "name": "transaction_code",
    "label": "Transaction code",
    "kind": "text",
    "required": true,
    "max_length": 20
   },
   {
    "name": "error_code",
    "label": "Error code",
    "kind": "text",
    "required": false,
    "max_length": 40
   },
   {
    "name": "error_message",
    "label": "Error message",
    "kind": "textarea",
    "required": false,
    "max_length": 2000
   },
   {
    "name": "occurred_at",
    "label": "When it happened",
    "kind": "datetime",
    "required": true
   },
   {
    "name": "scope",
    "label": "Who is affected",
    "kind": "choice",
    "required": true,
    "choices": [
     [
      "one_teller",
      "One teller"
     ],
     [
      "whole_outlet",
      "The whole outlet"
     ],
     [
      "several_outlets",
      "Several outlets"
     ]
    ]
   },
   {
    "name": "description",
    "label": "Description",
    "kind": "textarea",
    "required": true,
    "max_length": 4000
   }
  ]
 },
 {
  "code": "data_adjustment",
  "name": "Production data adjustment",
  "position": 2,
  "system_required": true,
  "dual_control": true,
  "fields": [
   {
    "name": "change_what",
    "label": "What to change",
    "kind": "textarea",
    "required": true,
    "max_length": 2000
   },
   {
    "name": "before_value",
    "label": "Value before",
    "kind": "textarea",
    "required": true,
    "max_length": 2000
   },
   {
    "name": "after_value",
    "label": "Value after",
    "kind": "textarea",
    "required": true,
    "max_length": 2000
   },
   {
    "name": "justification",
    "label": "Business justification",
    "kind": "textarea",
    "required": true,
    "max_length": 2000
   }
  ]
 },
 {
  "code": "business_consultation",
  "name": "Business consultation",
  "position": 3,
  "system_required": false,
  "dual_control": false,
  "fields": [
   {
    "name": "question",
    "label": "Question",
    "kind": "textarea",
    "required": true,
    "max_length": 4000
   }
  ]
 },
 {
  "code": "operation_consultation",
  "name": "Operation consultation",
  "position": 4,
  "system_required": false,
  "dual_control": false,
  "fields": [
   {
    "name": "question",
    "label": "Question",
    "kind": "textarea",
    "required": true,
    "max_length": 4000
   }
  ]
 },
 {
  "code": "data_extraction",
  "name": "Data extraction",
  "position": 5,
  "system_required": false,
  "dual_control": false,
  "fields": [
   {
    "name": "what_data",
    "label": "What data",
    "kind": "textarea",
    "required": true,
    "max_length": 2000
   },
   {
    "name": "period_from",
    "label": "Period from",
    "kind": "date",
    "required": true
   },
   {
    "name": "period_to",
    "label": "Period to",
    "kind": "date",
    "required": true
   },
   {
    "name": "purpose",
    "label": "Purpose",
    "kind": "textarea",
    "required": true,
    "max_length": 2000
   },
   {
    "name": "recipient",
    "label": "Who receives it",
    "kind": "text",
    "required": true,
    "max_length": 100
   }
  ]
 }
]""")


def install(apps, schema_editor):
    RequestType = apps.get_model("tickets", "RequestType")
    for spec in BUILTIN_TYPES:
        RequestType.objects.get_or_create(code=spec["code"], defaults={k: v for k, v in spec.items() if k != "code"})


def uninstall(apps, schema_editor):
    RequestType = apps.get_model("tickets", "RequestType")
    RequestType.objects.filter(code__in=[t["code"] for t in BUILTIN_TYPES], requests__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]
    operations = [migrations.RunPython(install, uninstall)]
