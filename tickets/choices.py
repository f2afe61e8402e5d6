"""Choices of the service-request app. The request states belong to the state machine."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from workflow.requests import OPEN_STATES, Rating, RequestState

__all__ = ["RequestState", "OPEN_STATES", "FieldKind", "BuiltinType", "Rating"]


class FieldKind(models.TextChoices):
    """Kinds of field an administrator can put on a request type's form."""

    TEXT = "text", _("Short text")
    TEXTAREA = "textarea", _("Long text")
    INTEGER = "integer", _("Whole number")
    DATE = "date", _("Date")
    DATETIME = "datetime", _("Date and time")
    CHOICE = "choice", _("One of a list")


class BuiltinType(models.TextChoices):
    FAULT_REPORT = "fault_report", _("Fault report")
    DATA_ADJUSTMENT = "data_adjustment", _("Production data adjustment")
    BUSINESS_CONSULTATION = "business_consultation", _("Business consultation")
    OPERATION_CONSULTATION = "operation_consultation", _("Operation consultation")
    DATA_EXTRACTION = "data_extraction", _("Data extraction")
