"""Models of the alert app, split by topic."""

from alerts.models.incidents import Alert, Incident, IncidentEvent
from alerts.models.mail import IngestedMessage, MailAccount, MailFolder, MessageAttachment, QuarantinedMessage
from alerts.models.rules import ParsingRule, RuleChange, RuleMode, SourceBinding
from alerts.models.silences import Silence
from alerts.models.webhooks import WebhookSource

__all__ = [
    "Alert",
    "Incident",
    "IncidentEvent",
    "IngestedMessage",
    "MailAccount",
    "MailFolder",
    "MessageAttachment",
    "ParsingRule",
    "QuarantinedMessage",
    "RuleChange",
    "RuleMode",
    "SourceBinding",
    "Silence",
    "WebhookSource",
]
