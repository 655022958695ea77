"""The service under /api/. Every view declares its authorization (see orchestra/permissions.py)."""

from django.urls import path
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularAPIView
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.settings import api_settings

from orchestra import api as accounts
from orchestra import schema  # noqa: F401  (registers the bearer token scheme)
from orchestra.authorization import AUTHENTICATED
from projects import api as projects
from runs import api as runs
from workers import api as workers


@extend_schema(exclude=True)  # the schema describes the service's resources, not itself
class SchemaView(SpectacularAPIView):
    required_authorization = AUTHENTICATED
    # drf-spectacular serves the schema to anyone by default; ours follows the declaration.
    authentication_classes = api_settings.DEFAULT_AUTHENTICATION_CLASSES
    permission_classes = api_settings.DEFAULT_PERMISSION_CLASSES
    # YAML or JSON as the Accept header or `?format=json` asks, unlike the rest of the service.
    content_negotiation_class = DefaultContentNegotiation

    def handle_exception(self, exc):
        # Errors are JSON like everywhere else in the service, not rendered as an OpenAPI file.
        response = super().handle_exception(exc)
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        return response


JOB = "projects/<slug:project>/jobs/<slug:job>"
SCHEDULE = "projects/<slug:project>/schedules/<slug:schedule>"
RUN = "runs/<str:identifier>"
WORKER = "workers/<str:identifier>"
USER = "users/<str:username>"

urlpatterns = [
    path("schema/", SchemaView.as_view(), name="api-schema"),
    path("projects", projects.ProjectList.as_view(), name="api-projects"),
    path("projects/<slug:project>", projects.ProjectDetail.as_view(), name="api-project"),
    path("projects/<slug:project>/status", projects.ProjectStatus.as_view(), name="api-project-status"),
    path("projects/<slug:project>/jobs", projects.JobList.as_view(), name="api-project-jobs"),
    path(JOB, projects.JobDetail.as_view(), name="api-job"),
    path(f"{JOB}/trigger", projects.TriggerJob.as_view(), name="api-job-trigger"),
    path(f"{JOB}/enable", projects.JobEnabled.as_view(enabled=True), name="api-job-enable"),
    path(f"{JOB}/disable", projects.JobEnabled.as_view(enabled=False), name="api-job-disable"),
    path("projects/<slug:project>/schedules", projects.ScheduleList.as_view(), name="api-project-schedules"),
    path(SCHEDULE, projects.ScheduleDetail.as_view(), name="api-schedule"),
    path(f"{SCHEDULE}/enable", projects.ScheduleEnabled.as_view(enabled=True), name="api-schedule-enable"),
    path(f"{SCHEDULE}/disable", projects.ScheduleEnabled.as_view(enabled=False), name="api-schedule-disable"),
    path("projects/<slug:project>/hooks", projects.HookList.as_view(), name="api-project-hooks"),
    path("hooks/<slug:project>/<slug:hook>", projects.ReceiveHook.as_view(), name="api-hook"),
    path("jobs", projects.JobList.as_view(), name="api-jobs"),
    path("schedules", projects.ScheduleList.as_view(), name="api-schedules"),
    path("runs", runs.RunList.as_view(), name="api-runs"),
    path(RUN, runs.RunDetail.as_view(), name="api-run"),
    path(f"{RUN}/steps/<int:index>/log", runs.RunStepLog.as_view(), name="api-run-step-log"),
    path(f"{RUN}/notifications", runs.RunNotifications.as_view(), name="api-run-notifications"),
    path(f"{RUN}/abort", runs.AbortRun.as_view(), name="api-run-abort"),
    path(f"{RUN}/mark-exception", runs.MarkRunException.as_view(), name="api-run-mark-exception"),
    path(f"{RUN}/archive", runs.RunArchive.as_view(), name="api-run-archive"),
    path("workers", workers.WorkerList.as_view(), name="api-workers"),
    path(WORKER, workers.WorkerDetail.as_view(), name="api-worker"),
    path(f"{WORKER}/enable", workers.WorkerEnabled.as_view(enabled=True), name="api-worker-enable"),
    path(f"{WORKER}/disable", workers.WorkerEnabled.as_view(enabled=False), name="api-worker-disable"),
    path("masters", workers.MasterList.as_view(), name="api-masters"),
    path("me", accounts.Me.as_view(), name="api-me"),
    path("users", accounts.UserList.as_view(), name="api-users"),
    path(USER, accounts.UserDetail.as_view(), name="api-user"),
    path(f"{USER}/roles", accounts.UserRoles.as_view(), name="api-user-roles"),
    path(f"{USER}/enable", accounts.UserEnabled.as_view(enabled=True), name="api-user-enable"),
    path(f"{USER}/disable", accounts.UserEnabled.as_view(enabled=False), name="api-user-disable"),
    path(f"{USER}/tokens", accounts.UserTokens.as_view(), name="api-user-tokens"),
    path(f"{USER}/tokens/<pk:token_id>", accounts.UserTokenDetail.as_view(), name="api-user-token"),
    path("tokens", accounts.TokenList.as_view(), name="api-tokens"),
    path("tokens/<pk:token_id>", accounts.TokenDetail.as_view(), name="api-token"),
    path("audit", accounts.AuditList.as_view(), name="api-audit"),
]
