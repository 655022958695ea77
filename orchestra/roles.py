"""Roles are Django groups; each grants a set of Orchestra authorizations.

The role table is an extension point (ORCHESTRA_ROLES names a dict like DEFAULT_ROLES); it is
written to the database after every migration, so groups always match the code.
"""

from django.conf import settings
from django.utils.module_loading import import_string

VIEW = "orchestra.view_orchestra"
TRIGGER = "orchestra.trigger_run"
ABORT = "orchestra.abort_run"
DOWNLOAD = "orchestra.download_archive"
CHANGE_STATE = "orchestra.change_state"
VIEW_USERS = "orchestra.view_users"
MANAGE_USERS = "orchestra.manage_users"
VIEW_AUDIT = "orchestra.view_audit"
CONNECT_WORKER = "orchestra.connect_worker"
VIEW_METRICS = "orchestra.view_metrics"
VIEW_MASTERS = "orchestra.view_masters"

DEFAULT_ROLES: dict[str, list[str]] = {
    "viewer": [VIEW],
    "operator": [VIEW, TRIGGER, ABORT, DOWNLOAD],
    "auditor": [VIEW, DOWNLOAD, VIEW_USERS, VIEW_AUDIT],
    "administrator": [
        VIEW, TRIGGER, ABORT, DOWNLOAD, CHANGE_STATE, VIEW_USERS, MANAGE_USERS, VIEW_AUDIT,
        VIEW_METRICS, VIEW_MASTERS,
    ],
    "worker": [CONNECT_WORKER],
    # For Prometheus' token: the metrics, and nothing else.
    "monitor": [VIEW_METRICS],
}


def configured_roles() -> dict[str, list[str]]:
    return import_string(settings.AUTHORIZATION_ROLES)


def synchronise_roles(**kwargs) -> None:
    from django.contrib.auth.models import Group, Permission

    for role, authorizations in configured_roles().items():
        group, _ = Group.objects.get_or_create(name=role)
        codenames = [authorization.split(".", 1)[1] for authorization in authorizations]
        permissions = Permission.objects.filter(
            content_type__app_label="orchestra", codename__in=codenames
        )
        group.permissions.set(permissions)


def is_administrator(user) -> bool:
    return bool(user and user.is_active and user.groups.filter(name="administrator").exists())
