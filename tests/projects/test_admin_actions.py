import pytest
from django.conf import settings
from django.contrib.auth.models import Group, User

from orchestra.models import AuditEvent, Token
from orchestra.tokens import create_token
from projects.configuration import load_configuration
from projects.models import Job, Schedule
from workers.models import Worker


@pytest.fixture
def admin_client(client, db):
    load_configuration("examples.configuration")
    user = User.objects.create_user("ada", password="a-long-password")
    user.groups.add(Group.objects.get(name="administrator"))
    _, value = create_token(user, kind=Token.Kind.SESSION)
    client.cookies[settings.SESSION_COOKIE_NAME] = value
    return client


@pytest.mark.parametrize(
    "url, model, identifier, target",
    [
        ("/admin/projects/job/", Job, "hello", "examples/hello"),
        ("/admin/projects/schedule/", Schedule, "hello-hourly", "examples/hello-hourly"),
        ("/admin/workers/worker/", Worker, "w1", "w1"),
        ("/admin/auth/user/", User, "eve", "eve"),
    ],
)
def test_admin_disables_and_enables_with_an_audit_record(admin_client, url, model, identifier, target):
    Worker.objects.create(identifier="w1")
    User.objects.create_user("eve")
    if model is User:
        row, field = User.objects.get(username=identifier), "is_active"
    else:
        row, field = model.objects.get(identifier=identifier), "is_enabled"
    noun = model.__name__.lower()
    for action, enabled in (("disable_selected", False), ("enable_selected", True)):
        response = admin_client.post(url, {"action": action, "_selected_action": [row.pk]})
        assert response.status_code == 302, response.content[:500]
        row.refresh_from_db()
        assert getattr(row, field) is enabled
        verb = "enable" if enabled else "disable"
        assert AuditEvent.objects.filter(action=f"{noun}.{verb}", target=target, actor_name="ada").exists()


@pytest.mark.parametrize(
    "url, model, lookup, fields",
    [
        ("/admin/workers/worker/{pk}/change/", Worker, {"identifier": "w1"},
         {"identifier": "a/b", "properties": '{"pool": "\\ud800"}', "version": "v\x07",
          "executors": "5"}),
        ("/admin/projects/job/{pk}/change/", Job, {"identifier": "hello"},
         {"identifier": "a/b", "display_name": "x", "steps": '[{"name": "s", "command": ["x\\u0000"]}]',
          "parameters": '[{"name": "p", "default": 1e400}]', "properties": '{"a": "\\ud800"}'}),
    ],
)
def test_the_admin_cannot_change_what_the_worker_or_the_configuration_sets(admin_client, url, model, lookup, fields):
    """The admin is no way around the checks of the protocol and the configuration: those
    values are shown, not edited."""
    Worker.objects.create(identifier="w1", properties={"os": "linux"}, version="1.0")
    row = model.objects.get(**lookup)
    before = {name: getattr(row, name) for name in fields}
    admin_client.post(url.format(pk=row.pk), fields)
    row.refresh_from_db()
    assert {name: getattr(row, name) for name in fields} == before
    assert admin_client.get(url.format(pk=row.pk)).status_code == 200
