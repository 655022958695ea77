"""The filters and sort orders of the user and audit lists (website and service)."""

import django_filters
from django.contrib.auth.models import User

from orchestra.models import AuditEvent


class UserFilter(django_filters.FilterSet):
    username = django_filters.CharFilter(lookup_expr="icontains")
    role = django_filters.CharFilter(field_name="groups__name")
    is_active = django_filters.BooleanFilter()
    ordering = django_filters.OrderingFilter(
        fields=[
            ("username", "username"),
            ("first_name", "first_name"),
            ("last_name", "last_name"),
            ("email", "email"),
            ("is_active", "is_active"),
            ("date_joined", "date_joined"),
            ("last_login", "last_login"),
        ]
    )

    class Meta:
        model = User
        fields = ["username", "role", "is_active"]


class AuditEventFilter(django_filters.FilterSet):
    actor = django_filters.CharFilter(field_name="actor_name")
    action = django_filters.CharFilter(lookup_expr="startswith")
    target = django_filters.CharFilter(lookup_expr="icontains")
    address = django_filters.CharFilter()
    created_after = django_filters.DateTimeFilter(field_name="created", lookup_expr="gte")
    created_before = django_filters.DateTimeFilter(field_name="created", lookup_expr="lt")
    ordering = django_filters.OrderingFilter(
        fields=[
            ("created", "created"),
            ("actor_name", "actor"),
            ("action", "action"),
            ("target", "target"),
            ("address", "address"),
        ]
    )

    class Meta:
        model = AuditEvent
        fields = ["actor", "action", "target", "address"]
