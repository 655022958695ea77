"""Users changed in the Django admin go through the same actions as on the website and the service:
the same audit records, and no administrator can lock themself out."""

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client

from orchestra.actions import SelfLockout, do_delete_user, do_set_user_roles, set_user_enabled
from orchestra.audit import Actor
from orchestra.models import AuditEvent


@pytest.fixture
def admin(users) -> Client:
    return Client(headers={"Authorization": f"Bearer {users['administrator'][1]}"})


@pytest.fixture
def me(users) -> User:
    return users["administrator"][0]


def change_form(user: User, active: bool = True, roles: list[str] | None = None) -> dict:
    """The admin's change form for `user` as a browser submits it, with these changes."""
    if roles is None:
        roles = list(user.groups.values_list("name", flat=True))
    joined = {"date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
              "date_joined_1": user.date_joined.strftime("%H:%M:%S")}
    data = {
        "username": user.username, "first_name": user.first_name, "last_name": user.last_name,
        "email": user.email, "groups": list(Group.objects.filter(name__in=roles).values_list("pk", flat=True)),
        "user_permissions": [], "last_login_0": "", "last_login_1": "",
        # The admin compares the date with the initial value the page carries, as a browser sends it.
        **joined, **{f"initial-{name}": value for name, value in joined.items()},
    }
    if active:
        data["is_active"] = "on"  # an unticked box is absent from the form
    return data


def state(user: User) -> tuple[bool, list[str]]:
    user = User.objects.get(pk=user.pk)
    return user.is_active, sorted(user.groups.values_list("name", flat=True))


def test_the_actions_refuse_a_self_lockout_and_let_another_administrator_do_it(users, me):
    myself = Actor(user=me)
    with pytest.raises(SelfLockout, match="disable or delete your own account"):
        set_user_enabled(me, False, myself)
    with pytest.raises(SelfLockout, match="administrator role from yourself"):
        do_set_user_roles(me, ["viewer"], myself)
    with pytest.raises(SelfLockout, match="disable or delete your own account"):
        do_delete_user(me, myself)
    assert state(me) == (True, ["administrator"])
    assert AuditEvent.objects.count() == 0
    # Enabling oneself and keeping one's administrator role are no lockout.
    set_user_enabled(me, True, myself)
    do_set_user_roles(me, ["administrator", "auditor"], myself)
    assert state(me) == (True, ["administrator", "auditor"])
    other = Actor(user=users["viewer"][0])
    do_set_user_roles(me, ["viewer"], other)
    set_user_enabled(me, False, other)
    assert state(me) == (False, ["viewer"])


def test_the_admin_change_form_refuses_to_disable_oneself(admin, me):
    response = admin.post(f"/admin/auth/user/{me.pk}/change/", change_form(me, active=False))
    assert response.status_code == 200
    assert "You cannot disable or delete your own account." in response.content.decode()
    assert state(me) == (True, ["administrator"])
    assert AuditEvent.objects.count() == 0


def test_the_admin_change_form_refuses_to_take_the_administrator_role_from_oneself(admin, me):
    response = admin.post(f"/admin/auth/user/{me.pk}/change/", change_form(me, roles=["viewer"]))
    assert response.status_code == 200
    assert "You cannot take the administrator role from yourself." in response.content.decode()
    assert state(me) == (True, ["administrator"])
    assert AuditEvent.objects.count() == 0


def test_the_admin_refuses_to_delete_oneself(admin, me, users):
    assert admin.get(f"/admin/auth/user/{me.pk}/delete/").status_code == 403
    assert admin.post(f"/admin/auth/user/{me.pk}/delete/", {"post": "yes"}).status_code == 403
    viewer = users["viewer"][0]
    selected = {"action": "delete_selected", "_selected_action": [me.pk, viewer.pk]}
    confirmation = admin.post("/admin/auth/user/", selected)
    assert confirmation.status_code == 200 and "Cannot delete users" in confirmation.content.decode()
    assert admin.post("/admin/auth/user/", {**selected, "post": "yes"}).status_code == 403
    assert User.objects.filter(pk__in=[me.pk, viewer.pk]).count() == 2
    assert AuditEvent.objects.count() == 0


def test_the_admin_disable_action_refuses_oneself_and_disables_the_others(admin, me, users):
    viewer = users["viewer"][0]
    selected = {"action": "disable_selected", "_selected_action": [me.pk, viewer.pk]}
    response = admin.post("/admin/auth/user/", selected, follow=True)
    page = response.content.decode()
    assert "You cannot disable or delete your own account." in page
    assert "1 user(s) disabled." in page
    assert state(me) == (True, ["administrator"]) and state(viewer) == (False, ["viewer"])
    assert list(AuditEvent.objects.values_list("action", "target")) == [("user.disable", "viewer-user")]


def test_admin_changes_to_another_user_are_audited_by_the_actions(admin, users):
    viewer = users["viewer"][0]
    data = {**change_form(viewer, active=False, roles=["viewer", "operator"]), "email": "vi@example.org"}
    response = admin.post(f"/admin/auth/user/{viewer.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert state(viewer) == (False, ["operator", "viewer"])
    records = {record.action: record for record in AuditEvent.objects.all()}
    assert sorted(records) == ["user.change", "user.disable", "user.roles"]
    assert records["user.change"].details == {"fields": ["email"]}
    assert records["user.roles"].details == {"before": ["viewer"], "after": ["operator", "viewer"]}
    assert all(record.actor_name == "administrator-user" for record in records.values())


def test_the_admin_deletes_another_user_through_the_action(admin, users):
    viewer = users["viewer"][0]
    response = admin.post(f"/admin/auth/user/{viewer.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert not User.objects.filter(pk=viewer.pk).exists()
    assert list(AuditEvent.objects.values_list("action", "target")) == [("user.delete", "viewer-user")]
