"""Service-request API: parse, call a service or selector, serialize. Scoped by the API base
(`opsdesk.api.base`) with the rules in `tickets/scoping.py`; request types are reference data."""

from __future__ import annotations

import logging

from django.http import FileResponse, Http404, HttpResponse
from django.utils.translation import gettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from opsdesk.api.base import ScopedGenericViewSet, ScopedReadOnlyViewSet
from opsdesk.api.errors import service_errors
from tickets import selectors, services
from tickets.api.filters import ServiceRequestFilter
from tickets.api.serializers import (
    AttachmentSerializer,
    AttachmentUploadSerializer,
    AvailableTransitionsSerializer,
    CommentSerializer,
    RequestTypeSerializer,
    ServiceRequestCreateSerializer,
    ServiceRequestDetailSerializer,
    ServiceRequestListSerializer,
    TransitionErrorSerializer,
    TransitionSerializer,
)
from tickets.errors import describe_transition_error
from tickets.models import RequestType, ServiceRequest
from workflow.engine import TransitionError

__all__ = ["RequestTypeViewSet", "ServiceRequestViewSet"]

logger = logging.getLogger(__name__)


class RequestTypeViewSet(ScopedReadOnlyViewSet):
    """The request types a teller can file, with their form fields."""

    queryset = RequestType.objects.filter(is_active=True)
    serializer_class = RequestTypeSerializer
    pagination_class = None
    lookup_field = "code"


@extend_schema_view(
    list=extend_schema(summary="Requests the caller may see", description="Oldest first with ordering=held_since."),
    retrieve=extend_schema(summary="One request with its timeline and the caller's transitions"),
)
class ServiceRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """Service requests the caller may see (others answer 404). Transitions need the `version` the
    caller saw: a stale one answers 409, a wrong state 409, a wrong role or unit 403 — each with the
    transitions the caller may fire now in `allowed`."""

    queryset = ServiceRequest.objects.select_related(*selectors.LIST_RELATED)
    serializer_class = ServiceRequestListSerializer
    filterset_class = ServiceRequestFilter
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def get_serializer_class(self):
        if self.action == "retrieve":
            return ServiceRequestDetailSerializer
        return super().get_serializer_class()

    def filter_queryset(self, queryset):
        # The list's filters narrow the list; on one request's own routes they would only cost time.
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "retrieve":
            queryset = queryset.select_related(*selectors.DETAIL_RELATED)
        return queryset

    @extend_schema(request=ServiceRequestCreateSerializer,
                   responses={201: ServiceRequestDetailSerializer,
                              200: OpenApiResponse(ServiceRequestDetailSerializer,
                                                   description="Filed before with this Idempotency-Key")},
                   parameters=[OpenApiParameter(
                       "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
                       description="Up to 64 characters, new for each request you file. Sending the same key "
                                   "again (a retry after a timeout) answers 200 with the request filed the "
                                   "first time, and files nothing new; the same key with a different body "
                                   "answers 422.")],
                   summary="File a request (tellers)")
    def create(self, request, *args, **kwargs):
        serializer = ServiceRequestCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        with service_errors():
            try:
                created = services.request_create(requester=request.user, request_type=values["type"],
                                                  subject=values["subject"], system=values.get("system"),
                                                  data=values.get("data") or {},
                                                  submission_key=request.headers.get("Idempotency-Key", ""))
            except services.SubmissionKeyReused as exc:
                # The same key with another body: not a retry (RFC draft on Idempotency-Key: 422).
                return Response({"Idempotency-Key": exc.messages}, status=status.HTTP_422_UNPROCESSABLE_ENTITY)
        replayed = created.replayed
        created = self.get_queryset().select_related(*selectors.DETAIL_RELATED).get(pk=created.pk)
        self.action = "retrieve"
        return Response(ServiceRequestDetailSerializer(created, context=self.get_serializer_context()).data,
                        status=status.HTTP_200_OK if replayed else status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses=AvailableTransitionsSerializer,
                   summary="Transitions the caller may fire now")
    @extend_schema(methods=["POST"], request=TransitionSerializer,
                   responses={200: ServiceRequestDetailSerializer, 400: OpenApiResponse(description="Bad input"),
                              403: TransitionErrorSerializer, 404: OpenApiResponse(description="Not yours to see"),
                              409: TransitionErrorSerializer},
                   summary="Fire a transition (send the version you saw)")
    @action(detail=True, methods=["get", "post"], url_path="transitions")
    def transitions(self, request, pk=None):
        obj = self.get_object()  # 404 outside the caller's scope
        if request.method == "GET":
            return Response({"state": obj.state, "version": obj.version,
                             "allowed": selectors.request_actions(request=obj, user=request.user)})
        serializer = TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        try:
            with service_errors():
                done = services.request_transition(
                    request_id=obj.pk, name=values.pop("action"), actor=request.user,
                    version=values.pop("version"), comment=values.pop("comment", ""),
                    **{k: v for k, v in values.items() if v is not None})
        except TransitionError as exc:
            return Response({"detail": describe_transition_error(exc), "state": exc.state, "allowed": exc.allowed},
                            status=exc.status_code)
        # The row as the transition left it. The caller may still see it: get_object() above was
        # scoped, and every unit that has held a request keeps seeing it (its access row).
        return Response(ServiceRequestDetailSerializer(done, context=self.get_serializer_context()).data)

    @extend_schema(methods=["GET"], responses=CommentSerializer(many=True), summary="Comments")
    @extend_schema(methods=["POST"], request=CommentSerializer, responses={201: CommentSerializer},
                   summary="Add a comment")
    @action(detail=True, methods=["get", "post"], url_path="comments", pagination_class=None, filterset_class=None)
    def comments(self, request, pk=None):
        obj = self.get_object()
        if request.method == "GET":
            return Response(CommentSerializer(selectors.comment_list(user=request.user, request=obj), many=True).data)
        serializer = CommentSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            comment = services.request_comment_add(request=obj, author=request.user,
                                                   body=serializer.validated_data["body"])
        return Response(CommentSerializer(comment).data, status=status.HTTP_201_CREATED)

    @extend_schema(methods=["GET"], responses=AttachmentSerializer(many=True), summary="Attachments")
    @extend_schema(methods=["POST"], request={"multipart/form-data": AttachmentUploadSerializer},
                   responses={201: AttachmentSerializer}, summary="Upload an attachment")
    @action(detail=True, methods=["get", "post"], url_path="attachments", pagination_class=None,
            filterset_class=None)
    def attachments(self, request, pk=None):
        obj = self.get_object()
        if request.method == "GET":
            return Response(AttachmentSerializer(selectors.attachment_list(user=request.user, request=obj),
                                                 many=True).data)
        serializer = AttachmentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            attachment = services.request_attachment_add(request=obj, uploader=request.user,
                                                         upload=serializer.validated_data["file"])
        return Response(AttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)

    @extend_schema(responses={(200, "application/octet-stream"): bytes}, summary="Download an attachment")
    @action(detail=True, methods=["get"], url_path=r"attachments/(?P<attachment_pk>[0-9]+)",
            url_name="attachment-download", filterset_class=None)
    def attachment_download(self, request, pk=None, attachment_pk=None):
        obj = self.get_object()
        attachment = selectors.attachment_list(user=request.user, request=obj).filter(pk=attachment_pk).first()
        if attachment is None:
            raise Http404
        return attachment_response(attachment)


def attachment_response(attachment) -> HttpResponse:
    """Stream a stored attachment as a download (never rendered inline by the browser), through the
    storage API (a shared volume or an S3-compatible store alike; never a filesystem path). An object
    store that cannot be reached answers 503 with Retry-After, not a 500."""
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    except Exception as exc:  # the storage backend's own errors (botocore's, for S3)
        error = getattr(exc, "response", None) or {}
        if str(error.get("Error", {}).get("Code")) in {"404", "NoSuchKey"}:
            raise Http404 from None
        logger.warning("attachment %s: file storage unavailable: %s", attachment.pk, exc)
        response = HttpResponse(gettext("The file store could not be reached just now. Try again in a few "
                                        "seconds."), status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = "5"
        return response
    response = FileResponse(handle, as_attachment=True, filename=attachment.original_name,
                            content_type=attachment.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
