import functools
from datetime import datetime

from django.db.models import Prefetch, QuerySet
from rest_framework import serializers

from orchestra.extensions import run_transformers
from orchestra.prepared import prepared
from runs.models import (
    FINAL_STATUSES, NotificationAttempt, NotificationDelivery, Run, RunStep, Status,
)
from runs.queue import waiting_reason


class RunStepSerializer(serializers.ModelSerializer):
    class Meta:
        model = RunStep
        fields = ["index", "name", "status", "started", "completed", "log_size"]


class RunSerializer(serializers.ModelSerializer):
    """A run as the service returns it, after every configured run transformer."""

    project = serializers.SlugRelatedField(slug_field="identifier", read_only=True)
    job = serializers.SlugRelatedField(slug_field="identifier", read_only=True)
    worker = serializers.SlugRelatedField(slug_field="identifier", read_only=True)
    triggered_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    schedule = serializers.SlugRelatedField(slug_field="identifier", read_only=True)
    hook = serializers.SlugRelatedField(
        slug_field="identifier", read_only=True, help_text="The hook of its project that triggered it"
    )
    parent = serializers.SlugRelatedField(slug_field="identifier", read_only=True)
    retry_of = serializers.SlugRelatedField(
        slug_field="identifier", read_only=True, help_text="The run this one retries"
    )

    class Meta:
        model = Run
        fields = [
            "identifier", "project", "job", "parameters", "status", "status_message", "worker",
            "source", "triggered_by", "schedule", "hook", "parent", "pipeline_element", "results",
            "created", "started", "completed", "last_update", "abort_requested", "priority",
            "attempt", "retry_of", "not_before",
        ]

    def to_representation(self, run: Run) -> dict:
        data = super().to_representation(run)
        for transform in run_transformers():
            data = transform(run, data)
        return data


class ChildRunSerializer(serializers.ModelSerializer):
    job = serializers.SlugRelatedField(slug_field="identifier", read_only=True)

    class Meta:
        model = Run
        fields = ["identifier", "job", "pipeline_element", "status"]


class RetrySerializer(serializers.ModelSerializer):
    class Meta:
        model = Run
        fields = ["identifier", "attempt", "status"]


class RunDetailSerializer(RunSerializer):
    steps = RunStepSerializer(many=True, read_only=True)
    children = ChildRunSerializer(many=True, read_only=True, help_text="A pipeline's runs")
    retries = RetrySerializer(many=True, read_only=True, help_text="Runs retrying this one")
    timeout = serializers.FloatField(
        source="job.timeout", read_only=True, allow_null=True,
        help_text="Seconds the run may last (its job's)",
    )
    silence_timeout = serializers.FloatField(
        source="job.silence_timeout", read_only=True, allow_null=True,
        help_text="Seconds a step may print nothing (its job's, unless the step has its own)",
    )
    waiting_reason = serializers.SerializerMethodField(help_text="Why a pending run waits")

    class Meta(RunSerializer.Meta):
        fields = RunSerializer.Meta.fields + [
            "steps", "children", "retries", "timeout", "silence_timeout", "waiting_reason",
        ]

    def get_waiting_reason(self, run: Run) -> str:
        return waiting_reason(run)


@functools.cache
def _run_detail_serializer() -> RunDetailSerializer:
    return RunDetailSerializer()


def run_detail_data(run: Run) -> dict:
    """`RunDetailSerializer(run).data`, shown by one serializer kept for the process.

    A serializer builds its fields, nested ones included, on first use: for one run shown, that
    cost as much as reading and showing it (bench/README.md). Showing a run only reads the
    serializer's fields, so requests in any thread may share one.
    """
    return _run_detail_serializer().to_representation(run)


RUN_RELATIONS = [
    "project", "job", "worker", "triggered_by", "schedule", "hook", "parent", "retry_of",
]


def run_list_queryset():
    """Runs with everything RunSerializer reads, in a fixed number of queries."""
    return Run.objects.select_related(*RUN_RELATIONS)


def run_detail_queryset():
    return run_list_queryset().prefetch_related(
        "steps", Prefetch("children", Run.objects.select_related("job").order_by("id")),
        Prefetch("retries", Run.objects.order_by("attempt", "id")),
    )


# What may change in a run after it was created; its other relations are fixed at creation.
FIXED_RELATIONS = [relation for relation in RUN_RELATIONS if relation != "worker"]


@prepared
def run_with_worker(key: int) -> QuerySet:
    return Run.objects.select_related("worker").filter(pk=key).order_by()[:1]


def run_detail_of_new_run(run: Run) -> Run:
    """`run`, just created by this process, read again for RunDetailSerializer: what
    RunDetailSerializer would show of `run_detail_queryset().get(pk=run.pk)`, for less.

    Dispatch may have claimed it, its worker started or ended it since: its own row and its
    worker are read again, and its steps once it is no longer pending (before, they are as its
    creation made them). The relations fixed at its creation come from `run`, whose creator held
    them. A pipeline's children are read, and retries once it has ended (only an ended run has
    any). A trigger's answer was the trigger request's largest cost (bench/README.md).
    """
    fresh = run_with_worker.first(run.pk)
    for relation in FIXED_RELATIONS:
        setattr(fresh, relation, getattr(run, relation))
    # Filled in as prefetch_related_objects() would: the serializer reads these relations.
    fresh._prefetched_objects_cache = {
        "steps": (
            RunStep.of_new_run(fresh) if fresh.status == Status.PENDING
            else RunStep.objects.filter(run=fresh).order_by("index")
        ),
        "children": (
            Run.objects.filter(parent=fresh).select_related("job").order_by("id")
            if run.job.is_pipeline else []
        ),
        "retries": (
            Run.objects.filter(retry_of=fresh).order_by("attempt", "id")
            if fresh.status in FINAL_STATUSES else []
        ),
    }
    return fresh


class NotificationAttemptSerializer(serializers.ModelSerializer):
    class Meta:
        model = NotificationAttempt
        fields = ["number", "started", "finished", "master", "succeeded", "status_code", "error"]


class NotificationSerializer(serializers.ModelSerializer):
    to = serializers.CharField(
        source="recipient", read_only=True,
        help_text="The e-mail addresses, or the webhook's origin (its path is not shown)",
    )
    attempts = NotificationAttemptSerializer(
        source="attempt_set", many=True, read_only=True, help_text="Every attempt, first first"
    )
    next_attempt = serializers.SerializerMethodField(help_text="When a pending one is tried next")

    class Meta:
        model = NotificationDelivery
        fields = ["identifier", "kind", "to", "state", "created", "delivered", "next_attempt",
                  "attempts"]

    def get_next_attempt(self, delivery: NotificationDelivery) -> datetime | None:
        return delivery.next_attempt if delivery.state == NotificationDelivery.State.PENDING else None


def notifications_of(run: Run):
    return run.notifications.order_by("id").prefetch_related(
        Prefetch("attempt_set", NotificationAttempt.objects.order_by("number"))
    )
