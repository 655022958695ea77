"""The service's projects, jobs and schedules: read, trigger, enable and disable."""

from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from orchestra import roles
from orchestra.api_errors import Conflict, Unprocessable
from orchestra.api_views import ERRORS, ErrorSerializer
from orchestra.audit import Actor
from orchestra.values import IDEMPOTENCY_KEY, IDEMPOTENCY_KEY_RULE, InvalidValue, check_idempotency_key
from projects.actions import JobCannotBeEnabled, set_job_enabled, set_schedule_enabled
from projects.filters import JobFilter, ProjectFilter, ScheduleFilter
from projects.models import Job, Project, Schedule
from projects.serializers import (
    JobSerializer,
    ProjectSerializer,
    ProjectStatusSerializer,
    ScheduleSerializer,
    TriggerSerializer,
)
from projects.status import revision_status
from runs.actions import JobDisabled, KeyReused, KeyRunDeleted, do_trigger_run, do_trigger_run_once
from runs.parameters import ParameterError
from runs.serializers import RunDetailSerializer, run_detail_queryset


def get_job(project: str, job: str) -> Job:
    return get_object_or_404(
        Job.objects.select_related("project"), project__identifier=project, identifier=job
    )


def get_schedule(project: str, schedule: str) -> Schedule:
    return get_object_or_404(
        Schedule.objects.select_related("project", "job", "last_run"),
        project__identifier=project,
        identifier=schedule,
    )


class ProjectScopedList(generics.ListAPIView):
    """A list served both at the top level and under /projects/<project>/."""

    def scoped_to_project(self, queryset):
        if "project" not in self.kwargs:
            return queryset
        project = get_object_or_404(Project, identifier=self.kwargs["project"])
        return queryset.filter(project=project)


class ProjectList(generics.ListAPIView):
    required_authorization = roles.VIEW
    queryset = Project.objects.order_by("identifier")
    serializer_class = ProjectSerializer
    filterset_class = ProjectFilter


class ProjectDetail(generics.RetrieveAPIView):
    required_authorization = roles.VIEW
    queryset = Project.objects.all()
    serializer_class = ProjectSerializer
    lookup_field = "identifier"
    lookup_url_kwarg = "project"


class ProjectStatus(APIView):
    required_authorization = roles.VIEW

    @extend_schema(responses={200: ProjectStatusSerializer, **ERRORS})
    def get(self, request, project: str):
        project = get_object_or_404(Project, identifier=project)
        return Response(ProjectStatusSerializer(revision_status(project)).data)


class JobList(ProjectScopedList):
    """Jobs of every project, or of the project in the path."""

    required_authorization = roles.VIEW
    serializer_class = JobSerializer
    filterset_class = JobFilter

    def get_queryset(self):
        return self.scoped_to_project(
            Job.objects.select_related("project").order_by("project__identifier", "identifier")
        )


class JobDetail(APIView):
    required_authorization = roles.VIEW

    @extend_schema(responses={200: JobSerializer, **ERRORS})
    def get(self, request, project: str, job: str):
        return Response(JobSerializer(get_job(project, job)).data)


class TriggerJob(APIView):
    required_authorization = roles.TRIGGER

    @extend_schema(
        request=TriggerSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER,
                pattern=f"^{IDEMPOTENCY_KEY.pattern}$",
                description="Sent again within 24 hours by the same user, answers the run the "
                f"first trigger created (200) instead of creating another: {IDEMPOTENCY_KEY_RULE}",
            ),
        ],
        responses={
            200: OpenApiResponse(RunDetailSerializer, description="The run this Idempotency-Key created"),
            201: RunDetailSerializer,
            400: OpenApiResponse(ErrorSerializer, description="Invalid parameters or Idempotency-Key"),
            409: OpenApiResponse(
                ErrorSerializer,
                description="The job is disabled, or the run this Idempotency-Key created was deleted",
            ),
            422: OpenApiResponse(
                ErrorSerializer, description="This Idempotency-Key came with another request",
            ),
            **ERRORS,
        },
    )
    def post(self, request, project: str, job: str):
        job = get_job(project, job)
        body = TriggerSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        parameters, priority = body.validated_data["parameters"], body.validated_data.get("priority")
        actor = Actor.from_request(request)
        key = request.headers.get("Idempotency-Key")
        try:
            if key is None:
                run, created = do_trigger_run(job, parameters, actor, priority=priority), True
            else:
                key = check_idempotency_key(key, "Idempotency-Key")
                run, created = do_trigger_run_once(job, parameters, actor, key, priority=priority)
        except (InvalidValue, ParameterError) as error:
            raise ValidationError({error.field: [error.message]})
        except (JobDisabled, KeyRunDeleted) as error:
            raise Conflict(str(error))
        except KeyReused as error:
            raise Unprocessable(str(error))
        run = run_detail_queryset().get(pk=run.pk)
        return Response(RunDetailSerializer(run).data, status=201 if created else 200)


class JobEnabled(APIView):
    """POST .../enable or .../disable (administrators)."""

    required_authorization = roles.CHANGE_STATE
    enabled = True

    @extend_schema(request=None, responses={200: JobSerializer, **ERRORS})
    def post(self, request, project: str, job: str):
        try:
            job = set_job_enabled(get_job(project, job), self.enabled, Actor.from_request(request))
        except JobCannotBeEnabled as refusal:
            raise Conflict(str(refusal))
        return Response(JobSerializer(job).data)


class ScheduleList(ProjectScopedList):
    required_authorization = roles.VIEW
    serializer_class = ScheduleSerializer
    filterset_class = ScheduleFilter

    def get_queryset(self):
        return self.scoped_to_project(
            Schedule.objects.select_related("project", "job", "last_run").order_by(
                "project__identifier", "identifier"
            )
        )


class ScheduleDetail(APIView):
    required_authorization = roles.VIEW

    @extend_schema(responses={200: ScheduleSerializer, **ERRORS})
    def get(self, request, project: str, schedule: str):
        return Response(ScheduleSerializer(get_schedule(project, schedule)).data)


class ScheduleEnabled(APIView):
    required_authorization = roles.CHANGE_STATE
    enabled = True

    @extend_schema(request=None, responses={200: ScheduleSerializer, **ERRORS})
    def post(self, request, project: str, schedule: str):
        schedule = set_schedule_enabled(
            get_schedule(project, schedule), self.enabled, Actor.from_request(request)
        )
        return Response(ScheduleSerializer(schedule).data)
