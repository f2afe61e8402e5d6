"""Message texts: administrators edit them (NotificationTemplate); these are the shipped defaults."""

from __future__ import annotations

from django.template import Context, Template, TemplateSyntaxError

from notifications.models import NotificationTemplate

__all__ = ["DEFAULT_TEMPLATES", "render_text"]

# code: (name, body, variables). Seeded by migration 0004; edited in the admin afterwards.
DEFAULT_TEMPLATES: dict[str, tuple[str, str, str]] = {
    "request.handoff": (
        "服务请求流转提醒",
        "【运维服务台】服务请求{{ number }}“{{ title }}”已{{ action }}至{{ unit }}，请及时处理。",
        "number, title, action, unit",
    ),
    "request.answered": (
        "服务请求答复提醒",
        "【运维服务台】您的服务请求{{ number }}“{{ title }}”已有答复，请登录查看。",
        "number, title",
    ),
    "incident.opened": (
        "事件告警",
        "【运维服务台】{{ severity }}事件：{{ title }}（{{ system }}），请立即确认。",
        "severity, title, system",
    ),
    "incident.escalation": (
        "事件升级通知",
        "【运维服务台】{{ severity }}事件“{{ title }}”已{{ minutes }}分钟未确认，已升级通知您，请立即处理。",
        "severity, title, minutes",
    ),
    "sla.near_breach": (
        "SLA 即将超时",
        "【运维服务台】服务请求{{ number }}“{{ title }}”的{{ target }}时限将于{{ due }}到期，请尽快处理。",
        "number, title, target, due",
    ),
    "sla.breach": (
        "SLA 已超时",
        "【运维服务台】服务请求{{ number }}“{{ title }}”的{{ target }}已超时（时限{{ due }}）。",
        "number, title, target, due",
    ),
    "digest": (
        "合并提醒",
        "【运维服务台】{{ count }}条提醒已合并，最新一条：{{ latest }}",
        "count, latest",
    ),
}


def render_text(code: str, context: dict, fallback: str = "") -> str:
    """The text of template `code` filled with `context`; the edited version if there is one,
    else the shipped default, else `fallback`. A broken edited template falls back too: a
    message must still go out."""
    bodies = []
    edited = NotificationTemplate.objects.filter(code=code).values_list("body", flat=True).first()
    if edited:
        bodies.append(edited)
    if code in DEFAULT_TEMPLATES:
        bodies.append(DEFAULT_TEMPLATES[code][1])
    for body in bodies:
        try:
            text = Template(body).render(Context(context, autoescape=False)).strip()
        except (TemplateSyntaxError, Exception):  # noqa: BLE001 - any rendering error falls back
            continue
        if text:
            return text
    return fallback
