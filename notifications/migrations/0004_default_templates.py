from django.db import migrations

# A frozen copy of the shipped texts (message_templates.DEFAULT_TEMPLATES may change later).
TEMPLATES = {
    "request.handoff": ("服务请求流转提醒",
                        "【运维服务台】服务请求{{ number }}“{{ title }}”已{{ action }}至{{ unit }}，请及时处理。",
                        "number, title, action, unit"),
    "request.answered": ("服务请求答复提醒", "【运维服务台】您的服务请求{{ number }}“{{ title }}”已有答复，请登录查看。",
                         "number, title"),
    "incident.opened": ("事件告警", "【运维服务台】{{ severity }}事件：{{ title }}（{{ system }}），请立即确认。",
                        "severity, title, system"),
    "incident.escalation": ("事件升级通知",
                            "【运维服务台】{{ severity }}事件“{{ title }}”已{{ minutes }}分钟未确认，已升级通知您，请立即处理。",
                            "severity, title, minutes"),
    "sla.near_breach": ("SLA 即将超时",
                        "【运维服务台】服务请求{{ number }}“{{ title }}”的{{ target }}时限将于{{ due }}到期，请尽快处理。",
                        "number, title, target, due"),
    "sla.breach": ("SLA 已超时", "【运维服务台】服务请求{{ number }}“{{ title }}”的{{ target }}已超时（时限{{ due }}）。",
                   "number, title, target, due"),
    "digest": ("合并提醒", "【运维服务台】{{ count }}条提醒已合并，最新一条：{{ latest }}", "count, latest"),
}


def seed(apps, schema_editor):
    NotificationTemplate = apps.get_model("notifications", "NotificationTemplate")
    for code, (name, body, variables) in TEMPLATES.items():
        NotificationTemplate.objects.get_or_create(code=code, defaults={"name": name, "body": body,
                                                                        "variables": variables})


class Migration(migrations.Migration):
    dependencies = [("notifications", "0003_pipeline_roster_sla_escalation")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
