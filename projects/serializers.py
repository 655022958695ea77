from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from projects.deliveries import hook_secret
from projects.models import Hook, Job, Project, Schedule
from projects.validation.jobs import PRIORITY_RANGE
from runs.notifications import ON_CHOICES, declared_notifications


class ProjectSerializer(serializers.ModelSerializer):
    class Meta:
        model = Project
        fields = [
            "identifier", "display_name", "description", "repository", "repository_provider",
            "is_configured",
        ]


class DeclaredNotificationSerializer(serializers.Serializer):
    declared_by = serializers.ChoiceField(["project", "job"], read_only=True)
    kind = serializers.ChoiceField(["webhook", "email"], read_only=True)
    to = serializers.CharField(
        read_only=True, help_text="The e-mail addresses, or the webhook's origin (its path is not shown)"
    )
    on = serializers.ChoiceField(ON_CHOICES, read_only=True)


class JobSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="identifier", read_only=True)
    is_pipeline = serializers.BooleanField(read_only=True)
    notifications = serializers.SerializerMethodField(
        help_text="Who is told when its runs end: its project's notifications, then its own"
    )

    class Meta:
        model = Job
        fields = [
            "project", "identifier", "display_name", "description", "steps", "parameters",
            "properties", "pipeline", "is_pipeline", "is_enabled", "is_configured", "timeout",
            "silence_timeout", "retries", "retry_on", "retry_delay", "max_concurrent_runs",
            "resources", "priority", "keep_runs", "keep_days", "secrets", "disabled_reason",
            "notifications",
        ]

    @extend_schema_field(DeclaredNotificationSerializer(many=True))
    def get_notifications(self, job: Job) -> list[dict]:
        return declared_notifications(job)


class ScheduleSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="identifier", read_only=True)
    job = serializers.SlugRelatedField(slug_field="identifier", read_only=True)
    last_run = serializers.SlugRelatedField(slug_field="identifier", read_only=True)

    class Meta:
        model = Schedule
        fields = [
            "project", "identifier", "job", "expression", "timezone", "parameters",
            "is_enabled", "is_configured", "last_tick", "last_run",
        ]


class HookSerializer(serializers.ModelSerializer):
    project = serializers.SlugRelatedField(slug_field="identifier", read_only=True)
    url = serializers.SerializerMethodField(help_text="Where its deliveries are sent")
    jobs = serializers.DictField(
        child=serializers.DictField(child=serializers.CharField()),
        help_text="{job: {parameter: payload path}}",
    )
    secret_is_set = serializers.SerializerMethodField(
        help_text="Whether the process that answered has its secret; false: it refuses every call"
    )

    class Meta:
        model = Hook
        fields = ["project", "identifier", "url", "jobs", "secret_variable", "secret_is_set"]

    def get_url(self, hook: Hook) -> str:
        return f"/api/hooks/{hook.project.identifier}/{hook.identifier}"

    def get_secret_is_set(self, hook: Hook) -> bool:
        return bool(hook_secret(hook))


class TriggerSerializer(serializers.Serializer):
    parameters = serializers.DictField(required=False, default=dict)
    priority = serializers.IntegerField(
        required=False, min_value=PRIORITY_RANGE[0], max_value=PRIORITY_RANGE[1],
        help_text="Higher runs first; the job's priority when absent",
    )


class StatusRunSerializer(serializers.Serializer):
    identifier = serializers.CharField()
    job = serializers.CharField(source="job.identifier")
    status = serializers.CharField()


class RevisionRunsSerializer(serializers.Serializer):
    identifier = serializers.CharField(source="revision.identifier")
    author = serializers.CharField(source="revision.author")
    date = serializers.CharField(source="revision.date")
    subject = serializers.CharField(source="revision.subject")
    runs = StatusRunSerializer(many=True)


class BranchStatusSerializer(serializers.Serializer):
    name = serializers.CharField()
    revisions = RevisionRunsSerializer(many=True)


class ProjectStatusSerializer(serializers.Serializer):
    """Recent revisions of each branch, with the runs made of each (projects/status.py)."""

    branches = BranchStatusSerializer(many=True)
    error = serializers.CharField()
    read_at = serializers.DateTimeField(
        allow_null=True,
        help_text="When the repository was read (the answer is kept a minute); null without one.",
    )


class DeliveryAnswerSerializer(serializers.Serializer):
    """What a hook's delivery answers (projects.api.ReceiveHook)."""

    hook = serializers.CharField(help_text="<project>/<hook>")
    delivery = serializers.CharField(allow_null=True, help_text="Its X-GitHub-Delivery")
    runs = serializers.ListField(
        child=serializers.CharField(), help_text="Identifiers of the runs it triggered"
    )
