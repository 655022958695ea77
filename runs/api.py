"""The service's runs: list, read, log by offset, notifications, abort, mark exception and
archive."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from orchestra import roles
from orchestra.api_errors import Conflict
from orchestra.api_views import ERRORS, ErrorSerializer
from orchestra.audit import Actor
from runs.actions import do_abort_run, do_mark_run_exception
from runs.archive import archive_response
from runs.filters import RunFilter
from runs.logs import LogRangeError, log_range, step_log_response
from runs.models import Run
from runs.serializers import (
    NotificationSerializer,
    RunDetailSerializer,
    RunSerializer,
    notifications_of,
    run_detail_data,
    run_detail_queryset,
    run_list_queryset,
)

NON_NEGATIVE = {"type": "integer", "minimum": 0}


def get_run(identifier: str) -> Run:
    return get_object_or_404(run_detail_queryset(), identifier=identifier)


@extend_schema(
    parameters=[
        OpenApiParameter(
            "results__KEY",
            str,
            description="Runs whose result KEY equals the value (any number of such parameters; "
            "`results__a__b` looks inside objects).",
        )
    ]
)
class RunList(generics.ListAPIView):
    required_authorization = roles.VIEW
    serializer_class = RunSerializer
    filterset_class = RunFilter

    def get_queryset(self):
        return run_list_queryset().order_by("-created", "-id")


class RunDetail(APIView):
    required_authorization = roles.VIEW

    @extend_schema(responses={200: RunDetailSerializer, **ERRORS})
    def get(self, request, identifier: str):
        return Response(run_detail_data(get_run(identifier)))


class RunNotifications(APIView):
    """The notifications of the run's end (docs/configuration.md, "Notifications"), each with
    every attempt at sending it and its outcome."""

    required_authorization = roles.VIEW

    @extend_schema(responses={200: NotificationSerializer(many=True), **ERRORS})
    def get(self, request, identifier: str):
        run = get_object_or_404(Run, identifier=identifier)
        return Response(NotificationSerializer(notifications_of(run), many=True).data)


class RunStepLog(APIView):
    """A step's log as bytes; read incrementally with `offset` and `limit`.

    `X-Log-Size` is the log's size now, so a reader asks next from `offset + bytes read` and
    stops once `X-Run-Status` is final and it has read up to the size.
    """

    required_authorization = roles.VIEW

    @extend_schema(
        parameters=[
            OpenApiParameter("offset", NON_NEGATIVE, description="First byte to return (default 0)"),
            OpenApiParameter("limit", NON_NEGATIVE, description="Most bytes to return (default: the rest)"),
        ],
        responses={
            (200, "text/plain"): OpenApiResponse(OpenApiTypes.STR, description="Log bytes"),
            400: OpenApiResponse(ErrorSerializer),
            **ERRORS,
        },
    )
    def get(self, request, identifier: str, index: int):
        try:
            offset, limit = log_range(request.query_params)
        except LogRangeError as error:
            raise ValidationError({error.field: [error.message]}) from None
        return step_log_response(identifier, index, offset, limit)


class AbortRun(APIView):
    required_authorization = roles.ABORT

    @extend_schema(request=None, responses={200: RunDetailSerializer, **ERRORS})
    def post(self, request, identifier: str):
        do_abort_run(get_run(identifier), Actor.from_request(request))
        return Response(run_detail_data(get_run(identifier)))


class MarkRunException(APIView):
    """Give up on an active run whose worker is lost: it ends `exception` (and is retried if
    its job says so); its worker, if it returns, is told to drop it."""

    required_authorization = roles.ABORT

    @extend_schema(
        request=None,
        responses={
            200: RunDetailSerializer,
            409: OpenApiResponse(ErrorSerializer, description="The run already ended"),
            **ERRORS,
        },
    )
    def post(self, request, identifier: str):
        run = get_run(identifier)
        if not do_mark_run_exception(run, Actor.from_request(request)):
            raise Conflict(f"run {identifier} already ended {run.status}")
        return Response(run_detail_data(get_run(identifier)))


class RunArchive(APIView):
    required_authorization = roles.DOWNLOAD

    @extend_schema(
        responses={
            (200, "application/zip"): OpenApiResponse(OpenApiTypes.BINARY, description="Zip"),
            **ERRORS,
        }
    )
    def get(self, request, identifier: str):
        return archive_response(get_run(identifier))
