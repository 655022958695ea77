from django.db.models import Prefetch
from rest_framework import serializers

from orchestra.extensions import run_transformers
from runs.models import Run, RunStep


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
    parent = serializers.SlugRelatedField(slug_field="identifier", read_only=True)

    class Meta:
        model = Run
        fields = [
            "identifier", "project", "job", "parameters", "status", "status_message", "worker",
            "source", "triggered_by", "schedule", "parent", "pipeline_element", "results",
            "created", "started", "completed", "last_update", "abort_requested",
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


class RunDetailSerializer(RunSerializer):
    steps = RunStepSerializer(many=True, read_only=True)
    children = ChildRunSerializer(many=True, read_only=True, help_text="A pipeline's runs")

    class Meta(RunSerializer.Meta):
        fields = RunSerializer.Meta.fields + ["steps", "children"]


RUN_RELATIONS = ["project", "job", "worker", "triggered_by", "schedule", "parent"]


def run_list_queryset():
    """Runs with everything RunSerializer reads, in a fixed number of queries."""
    return Run.objects.select_related(*RUN_RELATIONS)


def run_detail_queryset():
    return run_list_queryset().prefetch_related(
        "steps", Prefetch("children", Run.objects.select_related("job").order_by("id"))
    )
