"""FilterSets of the projects, jobs and schedules lists (website and service)."""

import django_filters

from projects.models import Job, Project, Schedule


class ProjectFilter(django_filters.FilterSet):
    ordering = django_filters.OrderingFilter(
        fields=(("identifier", "identifier"), ("display_name", "name"))
    )

    class Meta:
        model = Project
        fields = ["is_configured"]


class JobFilter(django_filters.FilterSet):
    project = django_filters.CharFilter(field_name="project__identifier")
    enabled = django_filters.BooleanFilter(field_name="is_enabled")
    pipeline = django_filters.BooleanFilter(
        field_name="pipeline", lookup_expr="isnull", exclude=True, label="Pipeline"
    )
    ordering = django_filters.OrderingFilter(
        fields=(
            ("project__identifier", "project"),
            ("identifier", "identifier"),
            ("display_name", "name"),
            ("is_enabled", "enabled"),
        )
    )

    class Meta:
        model = Job
        fields = ["project", "enabled", "pipeline"]


class ScheduleFilter(django_filters.FilterSet):
    project = django_filters.CharFilter(field_name="project__identifier")
    job = django_filters.CharFilter(field_name="job__identifier")
    enabled = django_filters.BooleanFilter(field_name="is_enabled")
    ordering = django_filters.OrderingFilter(
        fields=(
            ("project__identifier", "project"),
            ("identifier", "identifier"),
            ("job__identifier", "job"),
            ("expression", "expression"),
            ("is_enabled", "enabled"),
            ("last_tick", "last_tick"),
        )
    )

    class Meta:
        model = Schedule
        fields = ["project", "job", "enabled"]
