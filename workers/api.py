"""The service's workers (list, read, enable and disable) and the masters they connect to."""

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import generics
from rest_framework.response import Response
from rest_framework.views import APIView

from orchestra import masters, roles
from orchestra.api_views import ERRORS
from orchestra.audit import Actor
from projects.configuration_in_force import with_configuration_in_force
from workers.actions import set_worker_enabled
from workers.filters import WorkerFilter
from workers.models import Worker
from workers.serializers import MasterSerializer, WorkerSerializer


class WorkerList(generics.ListAPIView):
    required_authorization = roles.VIEW
    queryset = Worker.objects.select_related("owner").order_by("identifier")
    serializer_class = WorkerSerializer
    filterset_class = WorkerFilter


class WorkerDetail(generics.RetrieveAPIView):
    required_authorization = roles.VIEW
    queryset = Worker.objects.select_related("owner")
    serializer_class = WorkerSerializer
    lookup_field = "identifier"


class WorkerEnabled(APIView):
    required_authorization = roles.CHANGE_STATE
    enabled = True

    @extend_schema(request=None, responses={200: WorkerSerializer, **ERRORS})
    def post(self, request, identifier: str):
        worker = get_object_or_404(Worker.objects.select_related("owner"), identifier=identifier)
        set_worker_enabled(worker, self.enabled, Actor.from_request(request))
        return Response(WorkerSerializer(worker).data)


class MasterList(generics.ListAPIView):
    """The master registry: every master process, alive or gone, newest first."""

    required_authorization = roles.VIEW_MASTERS
    serializer_class = MasterSerializer

    def get_queryset(self):
        return with_configuration_in_force(masters.listed())
