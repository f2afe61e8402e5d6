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
from rest_framework.exceptions import ValidationError as ApiValidationError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from opsdesk.api.base import Scope, ScopedGenericViewSet, ScopedReadOnlyViewSet
from opsdesk.api.errors import service_errors
from opsdesk.inputs import ascii_int
from tickets import selectors, services
from tickets.api.serializers import (
    AttachmentSerializer,
    AttachmentUploadSerializer,
    AvailableTransitionsSerializer,
    BulkOutcomeSerializer,
    BulkTransitionSerializer,
    CommentSerializer,
    GroupLoadSerializer,
    RequestTypeSerializer,
    SavedViewSerializer,
    ServiceRequestCreateSerializer,
    ServiceRequestDetailSerializer,
    ServiceRequestListSerializer,
    TransitionErrorSerializer,
    TransitionSerializer,
)
from tickets.errors import describe_transition_error
from tickets.models import RequestType, SavedView, ServiceRequest
from tickets.search import COUNT_LIMIT, SEARCH_PARAMETERS, TEXT_COUNT_LIMIT, RequestSearchForm, request_search
from workflow.engine import TransitionError

__all__ = ["RequestTypeViewSet", "ServiceRequestViewSet", "SavedViewViewSet", "RequestPagination"]

logger = logging.getLogger(__name__)


class RequestTypeViewSet(ScopedReadOnlyViewSet):
    """The request types a teller can file, with their form fields."""

    queryset = RequestType.objects.filter(is_active=True)
    serializer_class = RequestTypeSerializer
    pagination_class = None
    lookup_field = "code"


class RequestPagination(LimitOffsetPagination):
    """Limit and offset, or a page number (`page`, 1-based, pages of `limit`): the answer says which
    page it is and how many there are. Counts stop past COUNT_LIMIT, a text search's past
    TEXT_COUNT_LIMIT (`count_capped`; the search says which: `RequestSearch.count_limit`)."""

    default_limit = 50
    max_limit = 200
    count_limit = COUNT_LIMIT

    def paginate_queryset(self, queryset, request, view=None):
        self.count_limit = getattr(queryset, "count_limit", COUNT_LIMIT)
        page = request.query_params.get("page")
        if page is not None:
            number = ascii_int(page, minimum=1, maximum=COUNT_LIMIT)
            if number is None:
                raise ApiValidationError({"page": [gettext("Give a page number from 1 to %(n)s.")
                                                   % {"n": COUNT_LIMIT}]})
            self.page_number = number
        else:
            self.page_number = None
        return super().paginate_queryset(queryset, request, view)

    def get_offset(self, request):
        if self.page_number is not None:
            return (self.page_number - 1) * self.limit
        return super().get_offset(request)

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        page = self.offset // self.limit + 1 if self.limit else 1
        pages = -(-min(self.count, self.count_limit + 1) // self.limit) if self.limit else 1
        response.data.update({"count_capped": self.count > self.count_limit, "page": page, "pages": pages})
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"].update({
            "count_capped": {"type": "boolean", "description": f"More than {COUNT_LIMIT} found (count stops there; "
                                                              f"for text in the subject, more than {TEXT_COUNT_LIMIT})"},
            "page": {"type": "integer"}, "pages": {"type": "integer"}})
        return schema


SEARCH_DESCRIPTION = (
    "Newest first; `ordering=held_since` oldest-held first. Filters: `q` (number or text in the subject), "
    "`outlet` (code or part of the name), `person` (who filed or handled it), `system` (id), `type` (code), "
    "`state` (repeatable), `open`, `level`, `holder` and `unit` (unit ids), `handled` (`unit`: every request "
    "the caller's unit has held; `me`: every one the caller acted on), `mine`, `date_from`/`date_to` (days), "
    "`created_after`/`created_before` (ISO 8601). An invalid parameter answers 400 saying which.")


@extend_schema_view(
    list=extend_schema(summary="Find requests the caller may see", description=SEARCH_DESCRIPTION,
                       parameters=[*[OpenApiParameter(name, OpenApiTypes.STR, OpenApiParameter.QUERY)
                                     for name in SEARCH_PARAMETERS],
                                   OpenApiParameter("page", OpenApiTypes.INT, OpenApiParameter.QUERY)]),
    retrieve=extend_schema(summary="One request with its timeline and the caller's transitions"),
)
class ServiceRequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedGenericViewSet):
    """Service requests the caller may see (others answer 404). Transitions need the `version` the
    caller saw: a stale one answers 409, a wrong state 409, a wrong role or unit 403 — each with the
    transitions the caller may fire now in `allowed`."""

    queryset = ServiceRequest.objects.all()
    serializer_class = ServiceRequestListSerializer
    pagination_class = RequestPagination
    filterset_class = None  # the list's filters are the search's (tickets.search), read in list()
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def get_serializer_class(self):
        if self.action == "retrieve":
            return ServiceRequestDetailSerializer
        return super().get_serializer_class()

    def list(self, request, *args, **kwargs):
        # The search reads what the caller may see through tickets.scoping (as get_queryset does),
        # part by part, so that a list at a million requests reads indexes only (tickets.search).
        form = RequestSearchForm(request.query_params, given_only=True)
        if not form.is_valid():
            return Response(form.errors, status=status.HTTP_400_BAD_REQUEST)
        found = request_search(user=request.user, filters=form.filters(), values=selectors.LIST_VALUES)
        page = self.paginate_queryset(found)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(responses=GroupLoadSerializer(many=True), summary="Out with the support groups (dispatchers)",
                   description="Every request the support groups hold now, by group, the longest waiting first.")
    @action(detail=False, methods=["get"], url_path="overview", pagination_class=None)
    def overview(self, request):
        return Response(GroupLoadSerializer(selectors.requests_with_groups(user=request.user), many=True,
                                            context=self.get_serializer_context()).data)

    @extend_schema(request=BulkTransitionSerializer, responses=BulkOutcomeSerializer(many=True),
                   summary="Claim or dispatch several requests",
                   description="Each request goes through the state machine on its own (one transaction each); "
                               "the answer has one outcome per request, in the order sent.")
    @action(detail=False, methods=["post"], url_path="bulk")
    def bulk(self, request):
        serializer = BulkTransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        with service_errors():
            outcomes = services.requests_bulk_transition(
                actor=request.user, request_ids=values["ids"], name=values["action"],
                comment=values.get("comment", ""), group=values.get("group"))
        return Response(BulkOutcomeSerializer(outcomes, many=True).data)

    def get_queryset(self):
        queryset = super().get_queryset()
        # The list reads through the search (list()); elsewhere the request is read for its state,
        # version and scope, with only what the answer shows or the transitions' conditions read.
        if self.action == "retrieve":
            queryset = queryset.select_related(*selectors.DETAIL_RELATED)
        elif self.action == "transitions":
            queryset = queryset.select_related("request_type")
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
        if request.method == "GET":
            obj = self.get_object()  # 404 outside the caller's scope
            return Response({"state": obj.state, "version": obj.version,
                             "allowed": selectors.request_actions(request=obj, user=request.user)})
        request_id = self.url_pk()
        serializer = TransitionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        try:
            with service_errors():
                # Looked up inside the caller's scope by the transition's own locked read (one
                # query, not a scoped read and then a lock): outside it, 404.
                done = services.request_transition(
                    request_id=request_id, name=values.pop("action"), actor=request.user,
                    version=values.pop("version"), comment=values.pop("comment", ""),
                    within=self.scope_queryset(ServiceRequest.objects.all()),
                    **{k: v for k, v in values.items() if v is not None})
        except ServiceRequest.DoesNotExist:
            raise Http404 from None
        except TransitionError as exc:
            return Response({"detail": describe_transition_error(exc), "state": exc.state, "allowed": exc.allowed},
                            status=exc.status_code)
        # The row as the transition left it. The caller may still see it: the lock read it inside
        # their scope, and every unit that has held a request keeps seeing it (its access row).
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


class SavedViewViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                       mixins.DestroyModelMixin, ScopedGenericViewSet):
    """The caller's saved searches: a name and the query string of the request search's filters.
    Saving a name again replaces its filters."""

    scope = Scope.OWN
    owner_field = "owner"
    queryset = SavedView.objects.all()
    serializer_class = SavedViewSerializer
    pagination_class = None

    def create(self, request, *args, **kwargs):
        serializer = SavedViewSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        with service_errors():
            view = services.saved_view_save(owner=request.user, name=serializer.validated_data["name"],
                                            query=serializer.validated_data.get("query", ""))
        return Response(SavedViewSerializer(view).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance):
        services.saved_view_delete(owner=self.request.user, pk=instance.pk)


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
