"""Messages that are never alerts: auto-replies, bounces and receipts, human replies, calendar
invitations, periodic reports, test mails and spam. Runs before every alert source, so an alert
quoted or attached inside such a message is never ingested."""
from __future__ import annotations

import re

from ..mime import MessageView
from ..results import Alert

__all__ = ["NAME", "detect", "parse", "reason", "subject_reason"]

NAME = "other"

_AUTO_REPLY_SUBJECT = re.compile(
    r"^\s*(?:自动答复|自动回复|自动应答|Automatic reply|Auto(?:matic)?[- ]?(?:reply|response)|"
    r"Out of (?:the )?Office|OOO|不在办公室|休假)\s*[:：]?", re.I)
_DSN_SUBJECT = re.compile(
    r"^\s*(?:Undeliverable|Undelivered Mail|Delivery Status Notification|Mail delivery failed|"
    r"Returned mail|Delivery Failure|Delivery has failed|Mail System Error|退信|未送达|无法送达|"
    r"邮件投递失败|系统退信)", re.I)
_RECEIPT_SUBJECT = re.compile(r"^\s*(?:Read|已读|Read Receipt|Return Receipt)\s*[:：]", re.I)
_REPLY_SUBJECT = re.compile(r"^\s*(?:Re|RE|re|rE|Re\[\d+\]|回复|答复|回覆)\s*[:：]")
_CALENDAR_SUBJECT = re.compile(
    r"^\s*(?:Invitation|Updated invitation|Accepted|Declined|Tentative|Canceled|Cancelled|"
    r"邀请|会议邀请|已接受|已拒绝|暂定|已取消)\s*[:：]", re.I)
_REPORT_SUBJECT = re.compile(r"日报|周报|月报|巡检报告|巡检日报|健康检查报告|(?:daily|weekly|monthly|health)"
                             r"[ -]?(?:report|summary)", re.I)
_TEST_SUBJECT = re.compile(r"测试邮件|邮件测试|测试一下|请忽略|(?<![A-Za-z])test[ -]?(?:e-?mail|mail|message)"
                           r"(?![A-Za-z])|^\s*(?:test|测试|testing)\s*[.!。！]?\s*$", re.I)
_SPAM_SUBJECT = re.compile(r"^\s*(?:\[SPAM\]|\*{3}\s*SPAM\s*\*{3}|【垃圾邮件】)|代开.{0,6}发票|发票代开", re.I)


def subject_reason(subject: str) -> str | None:
    """Reason a subject alone marks a non-alert (also applied to forwarded originals)."""
    if _AUTO_REPLY_SUBJECT.match(subject):
        return "auto-reply"
    if _DSN_SUBJECT.match(subject):
        return "delivery status notification"
    if _RECEIPT_SUBJECT.match(subject):
        return "read receipt"
    if _REPLY_SUBJECT.match(subject):
        return "reply"
    if _CALENDAR_SUBJECT.match(subject):
        return "calendar"
    if _SPAM_SUBJECT.search(subject):
        return "spam"
    if _REPORT_SUBJECT.search(subject):
        return "report"
    if _TEST_SUBJECT.search(subject):
        return "test mail"
    return None


def reason(msg: MessageView) -> str | None:
    """Why ``msg`` is not an alert, or None."""
    if msg.content_type == "multipart/report" or msg.part_types & {
            "message/delivery-status", "message/disposition-notification",
            "message/global-delivery-status"}:
        return "delivery status notification"
    local = msg.sender_address.split("@", 1)[0]
    if local in ("mailer-daemon", "postmaster") or "mail delivery" in msg.sender.lower():
        return "delivery status notification"
    return_path = msg.header("return-path")
    if return_path is not None and re.fullmatch(r"\s*<\s*>\s*", return_path):
        return "delivery status notification (empty Return-Path)"
    auto = (msg.header("auto-submitted") or "").strip().lower()
    if auto.startswith("auto-replied"):
        return "auto-reply"
    if msg.header("x-autoreply") is not None or msg.header("x-autorespond") is not None:
        return "auto-reply"
    if (msg.header("precedence") or "").strip().lower() in ("auto_reply", "auto-reply"):
        return "auto-reply"
    if msg.part_types & {"text/calendar", "application/ics"}:
        return "calendar"
    spam_flag = (msg.header("x-spam-flag") or "").strip().lower()
    spam_status = (msg.header("x-spam-status") or msg.header("x-spam") or "").strip().lower()
    if spam_flag.startswith("yes") or spam_status.startswith("yes"):
        return "spam"
    return subject_reason(msg.subject)


def detect(msg: MessageView) -> bool:
    return reason(msg) is not None


def parse(msg: MessageView) -> list[Alert]:
    return []
