"""Webhook intake: authenticate the source by its token, read the JSON, ingest. Thin on purpose."""

from __future__ import annotations

import json

from django.db.models import F
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from alerts import services
from alerts.models import WebhookSource
from alerts.sources.webhooks import READERS, PayloadError

__all__ = ["receive"]

MAX_BODY = 1024 * 1024


def _token(request: HttpRequest) -> str:
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.headers.get("X-OpsDesk-Token", "").strip()


@csrf_exempt
@require_POST
def receive(request: HttpRequest, slug: str) -> JsonResponse:
    source = WebhookSource.objects.filter(slug=slug, enabled=True).first()
    # Same answer for an unknown source and a wrong token: no probing for source names.
    if source is None or not source.token_matches(_token(request)):
        return JsonResponse({"detail": "invalid webhook token"}, status=401)
    body = request.body
    if len(body) > MAX_BODY:
        return JsonResponse({"detail": "payload too large"}, status=413)
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return JsonResponse({"detail": "the body is not valid JSON"}, status=400)
    try:
        read = READERS[source.kind](payload)
    except PayloadError as exc:
        return JsonResponse({"detail": str(exc)}, status=400)
    # The good alerts are kept even when some are refused; the body is stored either way.
    handled = services.ingest_alerts(alerts=read.alerts, raw=body, location=f"webhook:{source.slug}",
                                     subject=f"{source.name}: {len(read.alerts)}", rejected=read.rejected)
    WebhookSource.objects.filter(pk=source.pk).update(last_received_at=timezone.now(),
                                                      received_count=F("received_count") + 1)
    answer = {"accepted": len(read.alerts), "message": handled.message_pk}
    if read.rejected:
        # 4xx: the sender's fault, not to be retried as is (Alertmanager retries only 5xx).
        answer.update(detail="some alerts were refused", rejected=read.rejected)
        return JsonResponse(answer, status=422)
    return JsonResponse(answer, status=202)
