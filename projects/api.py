"""The service's projects, jobs and schedules: read, trigger, enable and disable; and the
hooks' deliveries."""

import json

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.exceptions import APIException, ParseError, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from orchestra import audit, roles
from orchestra.api_errors import BodyTooLarge, Conflict, Unprocessable
from orchestra.api_views import ERRORS, ErrorSerializer
from orchestra.audit import Actor
from orchestra.authorization import SIGNED
from orchestra.prepared import prepared
from orchestra.values import IDEMPOTENCY_KEY, IDEMPOTENCY_KEY_RULE, InvalidValue, check_idempotency_key
from projects.actions import JobCannotBeEnabled, set_job_enabled, set_schedule_enabled
from projects.deliveries import DeliveryReused, deliver, hook_secret, signature_matches
from projects.filters import JobFilter, ProjectFilter, ScheduleFilter
from projects.hooks import PayloadFieldMissing
from projects.models import Hook, Job, Project, Schedule
from projects.serializers import (
    DeliveryAnswerSerializer,
    HookSerializer,
    JobSerializer,
    ProjectSerializer,
    ProjectStatusSerializer,
    ScheduleSerializer,
    TriggerSerializer,
)
from projects.status import revision_status
from runs.actions import JobDisabled, do_trigger_run
from runs.idempotency import KeyReused, KeyRunDeleted, do_trigger_run_once
from runs.parameters import ParameterError
from runs.serializers import (
    RunDetailSerializer, run_detail_data, run_detail_of_new_run, run_detail_queryset,
)


@prepared
def job_of_project(project: str, job: str) -> QuerySet:
    return (
        Job.objects.select_related("project").filter(project__identifier=project, identifier=job)
        .order_by()[:1]
    )


def get_job(project: str, job: str) -> Job:
    found = job_of_project.first(project, job)
    if found is None:
        raise Http404("No Job matches the given query.")
    return found


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
        run = run_detail_of_new_run(run) if created else run_detail_queryset().get(pk=run.pk)
        return Response(run_detail_data(run), status=201 if created else 200)


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


class HookList(generics.ListAPIView):
    """The hooks the configuration defines for the project."""

    required_authorization = roles.VIEW
    serializer_class = HookSerializer

    def get_queryset(self):
        project = get_object_or_404(Project, identifier=self.kwargs["project"])
        return Hook.objects.filter(project=project, is_configured=True).select_related(
            "project"
        ).order_by("identifier")


class ScheduleEnabled(APIView):
    required_authorization = roles.CHANGE_STATE
    enabled = True

    @extend_schema(request=None, responses={200: ScheduleSerializer, **ERRORS})
    def post(self, request, project: str, schedule: str):
        schedule = set_schedule_enabled(
            get_schedule(project, schedule), self.enabled, Actor.from_request(request)
        )
        return Response(ScheduleSerializer(schedule).data)


# Far above a push's payload (GitHub lists at most 20 commits in it), far below what a master
# should hold in memory for an unauthenticated caller.
MAX_HOOK_BODY_BYTES = 1024 * 1024
SIGNATURE_PATTERN = "^sha256=[0-9a-f]{64}$"


class SignatureRefused(APIException):
    status_code = 401
    default_code = "signature_refused"


class HookSecretUnset(APIException):
    status_code = 503
    default_code = "hook_secret_unset"


class ReceiveHook(APIView):
    """A hook's delivery (docs/service.md, "Hooks"): authenticated by its signature alone."""

    required_authorization = SIGNED
    # No token: the caller (GitHub...) has none, and a token sent along proves nothing here.
    authentication_classes = []
    permission_classes = []

    @extend_schema(
        request={"application/json": OpenApiTypes.OBJECT},
        parameters=[
            OpenApiParameter(
                "X-Hub-Signature-256", OpenApiTypes.STR, OpenApiParameter.HEADER,
                pattern=SIGNATURE_PATTERN,
                description="`sha256=` and the hex HMAC-SHA256 of the raw body under the "
                "hook's secret",
            ),
            OpenApiParameter(
                "X-GitHub-Delivery", OpenApiTypes.STR, OpenApiParameter.HEADER,
                pattern=f"^{IDEMPOTENCY_KEY.pattern}$",
                description="The delivery's identifier: sent again within 7 days with the same "
                f"body, answers the runs it triggered (200) instead of triggering others: "
                f"{IDEMPOTENCY_KEY_RULE}",
            ),
        ],
        responses={
            200: OpenApiResponse(
                DeliveryAnswerSerializer,
                description="The runs this delivery triggered before, or none for a ping (the "
                "`X-GitHub-Event: ping` GitHub sends when a webhook is created)",
            ),
            201: OpenApiResponse(DeliveryAnswerSerializer, description="The runs triggered"),
            400: OpenApiResponse(
                ErrorSerializer,
                description="The body is not JSON, a field a parameter comes from is missing, a "
                "job refuses a value, or X-GitHub-Delivery is not an identifier",
            ),
            401: OpenApiResponse(ErrorSerializer, description="The signature is missing or wrong"),
            404: OpenApiResponse(ErrorSerializer, description="No such hook"),
            409: OpenApiResponse(ErrorSerializer, description="A job of the hook is disabled"),
            413: OpenApiResponse(ErrorSerializer, description="Body too large"),
            422: OpenApiResponse(
                ErrorSerializer, description="This X-GitHub-Delivery came with another body",
            ),
            503: OpenApiResponse(
                ErrorSerializer, description="The hook's secret is not set: it refuses every call",
            ),
        },
    )
    def post(self, request, project: str, hook: str):
        hook = get_object_or_404(
            Hook.objects.select_related("project"),
            project__identifier=project, identifier=hook, is_configured=True,
        )
        body = self.read_body(request)
        address = request.META.get("REMOTE_ADDR") or None
        signature = request.headers.get("X-Hub-Signature-256")
        if signature is None:
            self.refuse(hook, address, "the X-Hub-Signature-256 header is missing")
        secret = hook_secret(hook)
        if not secret:
            raise HookSecretUnset(
                f"hook {hook} refuses every call: its secret, the environment variable "
                f"{hook.secret_variable}, is not set on this server"
            )
        if not signature_matches(secret, body, signature):
            self.refuse(hook, address, "the X-Hub-Signature-256 signature is wrong")
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):
            raise ParseError("the body is not JSON")
        if request.headers.get("X-GitHub-Event") == "ping":
            return Response({"hook": str(hook), "delivery": None, "runs": []})
        delivery = request.headers.get("X-GitHub-Delivery")
        try:
            if delivery is not None:
                delivery = check_idempotency_key(delivery, "X-GitHub-Delivery")
            runs, created = deliver(hook, payload, body, delivery, address)
        except (InvalidValue, ParameterError, PayloadFieldMissing) as error:
            raise ValidationError({error.field: [error.message]})
        except JobDisabled as error:
            raise Conflict(str(error))
        except DeliveryReused as error:
            raise Unprocessable(str(error))
        answer = {"hook": str(hook), "delivery": delivery, "runs": runs}
        return Response(answer, status=201 if created else 200)

    @staticmethod
    def read_body(request) -> bytes:
        declared = request.META.get("CONTENT_LENGTH") or "0"
        too_large = BodyTooLarge(
            f"the request body is larger than the {MAX_HOOK_BODY_BYTES} bytes a hook takes"
        )
        if declared.isdigit() and int(declared) > MAX_HOOK_BODY_BYTES:
            raise too_large
        body = request.body
        if len(body) > MAX_HOOK_BODY_BYTES:
            raise too_large
        return body

    @staticmethod
    def refuse(hook: Hook, address: str | None, reason: str) -> None:
        audit.record(Actor(address=address), "hook.refused", str(hook), actor_name="anonymous",
                     reason=reason)
        raise SignatureRefused(reason)
