"""The FilterSet of the workers list (website and service)."""

import django_filters

from workers.models import Worker


class WorkerFilter(django_filters.FilterSet):
    connected = django_filters.BooleanFilter(field_name="is_connected")
    enabled = django_filters.BooleanFilter(field_name="is_enabled")
    ordering = django_filters.OrderingFilter(
        fields=(
            ("identifier", "identifier"),
            ("version", "version"),
            ("executors", "executors"),
            ("is_connected", "connected"),
            ("is_enabled", "enabled"),
            ("last_seen", "last_seen"),
        )
    )

    class Meta:
        model = Worker
        fields = ["connected", "enabled"]
