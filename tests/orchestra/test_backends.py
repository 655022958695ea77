"""Who holds which authorization: a user's roles' and their own, read once per request."""

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orchestra.roles import ABORT, CHANGE_STATE, TRIGGER, VIEW, VIEW_USERS

pytestmark = [pytest.mark.database, pytest.mark.django_db]


def permission(authorization: str) -> Permission:
    app_label, codename = authorization.split(".", 1)
    return Permission.objects.get(content_type__app_label=app_label, codename=codename)


def test_a_user_holds_their_roles_authorizations_and_their_own_read_in_one_query():
    user = User.objects.create_user("viewer-who-triggers")
    user.groups.add(Group.objects.get(name="viewer"), Group.objects.get(name="auditor"))
    user.user_permissions.add(permission(TRIGGER))
    user = User.objects.get(pk=user.pk)
    with CaptureQueriesContext(connection) as queries:
        held = [user.has_perm(authorization) for authorization in (VIEW, VIEW_USERS, TRIGGER)]
    assert held == [True, True, True]
    assert len(queries.captured_queries) == 1
    assert not user.has_perm(ABORT) and not user.has_perm(CHANGE_STATE)


def test_a_user_without_roles_holds_nothing_and_an_inactive_one_nothing_at_all():
    nobody = User.objects.create_user("nobody")
    assert nobody.get_all_permissions() == set()
    gone = User.objects.create_user("gone", is_active=False)
    gone.groups.add(Group.objects.get(name="administrator"))
    gone = User.objects.get(pk=gone.pk)
    assert gone.get_all_permissions() == set() and not gone.has_perm(VIEW)


def test_a_superuser_holds_every_permission():
    root = User.objects.create_superuser("root")
    assert {VIEW, TRIGGER, "auth.change_user"} <= root.get_all_permissions()
