"""Choices of the alert app: the parser's vocabularies, as TextChoices with UI labels."""

from django.db import models
from django.utils.translation import gettext_lazy as _

__all__ = ["Severity", "AlertStatus", "Category", "Source", "Outcome", "Origin", "Security", "WebhookKind",
           "SEVERITY_RANK", "ALARM_SEVERITIES"]


class Severity(models.TextChoices):
    CRITICAL = "critical", _("Critical")
    MAJOR = "major", _("Major")
    MINOR = "minor", _("Minor")
    WARNING = "warning", _("Warning")
    INFO = "info", _("Info")


SEVERITY_RANK = {"critical": 0, "major": 1, "minor": 2, "warning": 3, "info": 4}
# Severities that sound the alarm on the board until acknowledged.
ALARM_SEVERITIES = ("critical", "major")


class AlertStatus(models.TextChoices):
    PROBLEM = "problem", _("Problem")
    RECOVERY = "recovery", _("Recovery")
    ACK = "ack", _("Acknowledgement")
    NONE = "none", _("Notice")


class Category(models.TextChoices):
    OS = "os", _("Operating system")
    DB = "db", _("Database")
    WEB = "web", _("Web server")
    MIDDLEWARE = "middleware", _("Middleware")
    MQ = "mq", _("Message queue")
    APP_PROCESS = "app_process", _("Application process")
    TRANSACTION = "transaction", _("Transactions")
    HARDWARE = "hardware", _("Hardware")
    NETWORK = "network", _("Network")
    OTHER = "other", _("Other")


class Source(models.TextChoices):
    # The tools' own names are not translated.
    NAGIOS = "nagios", "Nagios"
    ICINGA = "icinga", "Icinga 2"
    CENTREON = "centreon", "Centreon"
    CHECKMK = "checkmk", "Checkmk"
    ZABBIX = "zabbix", "Zabbix"
    ALERTMANAGER = "alertmanager", "Alertmanager"
    PROMETHEUSALERT = "prometheusalert", "PrometheusAlert"
    GRAFANA = "grafana", "Grafana"
    NIGHTINGALE = "nightingale", "Nightingale (n9e)"
    OPENFALCON = "openfalcon", "Open-Falcon"
    LIBRENMS = "librenms", "LibreNMS"
    MONIT = "monit", "Monit"
    NETDATA = "netdata", "Netdata"
    UPTIMEKUMA = "uptimekuma", "Uptime Kuma"
    OEM = "oem", "Oracle Enterprise Manager"
    SCRIPT = "script", _("In-house script")
    OTHER = "other", _("Other")


class Origin(models.TextChoices):
    IMAP = "imap", _("IMAP mailbox")
    MAILDIR = "maildir", _("Maildir drop folder")
    WEBHOOK = "webhook", _("Webhook")
    UPLOAD = "upload", _("Manual")


class Outcome(models.TextChoices):
    ALERT = "alert", _("Alert")
    NOT_ALERT = "not_alert", _("Not an alert")
    QUARANTINED = "quarantined", _("Quarantined")
    DUPLICATE = "duplicate", _("Duplicate delivery")


class Security(models.TextChoices):
    IMAPS = "imaps", _("IMAPS (implicit TLS)")
    STARTTLS = "starttls", _("STARTTLS")
    PLAIN = "plain", _("Plain (loopback only)")


class WebhookKind(models.TextChoices):
    ALERTMANAGER = "alertmanager", _("Prometheus Alertmanager")
    GENERIC = "generic", _("Generic JSON")
