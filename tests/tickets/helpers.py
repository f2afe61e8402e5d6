"""Helpers shared by the request tests: file a request and move it, through the services."""

from __future__ import annotations

from opsdesk.org.models import ProductionSystem
from tickets import services
from tickets.builtin_types import BUILTIN_TYPES
from tickets.models import RequestType, ServiceRequest

__all__ = ["ensure_types", "file_fault_report", "file_request", "act", "fresh", "two_requests", "FAULT_DATA",
           "ADJUSTMENT_DATA", "fill_fault_fields"]

FAULT_DATA = {"transaction_code": "8001", "error_code": "E1021", "error_message": "账户状态异常",
              "occurred_at": "2026-11-20T09:30", "scope": "one_teller", "description": "柜员存款交易报错"}
ADJUSTMENT_DATA = {"change_what": "客户账户状态", "before_value": "冻结", "after_value": "正常",
                   "justification": "司法解冻"}


def ensure_types() -> dict[str, RequestType]:
    """The built-in types (a transactional test's flush removes the data migration's rows)."""
    types = {}
    for spec in BUILTIN_TYPES:
        types[spec["code"]], _ = RequestType.objects.get_or_create(
            code=spec["code"], defaults={k: v for k, v in spec.items() if k != "code"})
    return types


def file_request(teller, code: str, *, subject: str = "交易报错", system: ProductionSystem | None = None,
                 data: dict | None = None) -> ServiceRequest:
    return services.request_create(requester=teller, request_type=ensure_types()[code], subject=subject,
                                   system=system, data=data or {})


def file_fault_report(org, teller=None, **kwargs) -> ServiceRequest:
    return file_request(teller or org.people["teller"], "fault_report", system=org.systems[0],
                        data=dict(FAULT_DATA), **kwargs)


def fresh(request: ServiceRequest) -> ServiceRequest:
    return ServiceRequest.objects.get(pk=request.pk)


def act(request: ServiceRequest, name: str, who, comment: str = "", **kwargs) -> ServiceRequest:
    """Fire `name` as `who`, with the version currently stored."""
    current = fresh(request)
    return services.request_transition(request_id=request.pk, name=name, actor=who, version=current.version,
                                       comment=comment, **kwargs)


def two_requests(org) -> dict[str, ServiceRequest]:
    """The scoping tests' pair, each with an attachment: A, filed at outlet O1 and dispatched to
    group 1 (so every level up to the province has held it); B, filed at O8 and still at its county."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    p = org.people
    a = file_fault_report(org, subject="请求A")
    act(a, "escalate", p["county"], "上送")
    act(a, "escalate", p["city"], "上送")
    a = act(a, "dispatch", p["dispatcher"], group=org.groups[0])
    b = file_fault_report(org, teller=p["teller_other"], subject="请求B")
    for request in (a, b):
        services.request_attachment_add(request=request, uploader=request.requester,
                                        upload=SimpleUploadedFile("log.txt", b"error log"))
    return {"A": a, "B": b}


def fill_fault_fields(page) -> None:
    """In a browser, the fault report's own fields as a teller fills them (发生时间 keeps its default)."""
    page.fill("#id_f_transaction_code", "8001")
    page.fill("#id_f_error_code", "E1021")
    page.select_option("#id_f_scope", "one_teller")
    page.fill("#id_f_description", "柜员办理存款时报错")
