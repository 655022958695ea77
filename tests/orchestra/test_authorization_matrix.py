"""Every URL pattern of the project, found through the resolver, against every role.

A route added tomorrow is covered automatically; a route that declares no authorization fails
the first test. A role the route allows must get the route's real answer to an empty request
(below), never an error; a role it does not allow must be refused.

One route takes no token: a hook's deliveries (`SIGNED`) are authenticated by the signature of
their body (docs/security.md). An unsigned request there is refused with 401 whatever token
it carries: no role allows it.
"""

import re

import pytest
from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.test import Client, RequestFactory
from django.urls import URLPattern, URLResolver, get_resolver

from orchestra import audit
from orchestra.audit import Actor
from orchestra.authorization import AUTHENTICATED, PUBLIC, SIGNED, declared_authorization
from orchestra.models import Token
from orchestra.roles import DEFAULT_ROLES
from orchestra.tokens import create_token
from projects.models import Job
from tests.api.conftest import make_run, make_user

ROLES = [None, "viewer", "operator", "auditor", "administrator", "worker", "monitor"]
UNSAFE = ("post", "put", "patch", "delete")
GROUP = re.compile(r"\(\?P<(?P<name>\w+)>(?P<body>[^)]*)\)")
CONVERTER = re.compile(r"<(?:\w+:)?(?P<name>\w+)>")


def url_patterns(patterns=None, prefix: str = ""):
    """(route, callback) for every pattern, resolvers followed recursively."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from url_patterns(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern.callback


def concrete_path(route: str, values: dict) -> str:
    """A path matching `route` (path() or re_path() syntax), with real objects' identifiers."""

    def group(match):
        name, body = match["name"], match["body"]
        if name in values:
            return str(values[name])
        if re.fullmatch(r"[\w|]+", body):
            return body.split("|")[0]
        return "1" if body == r"\d+" else "x"

    path = GROUP.sub(group, route)
    path = CONVERTER.sub(lambda match: str(values.get(match["name"], "x")), path)
    path = path.replace("^", "").replace("$", "").replace(".*", "unknown-route").replace("\\", "")
    return "/" + path


def allowed(role: str | None, authorization: str) -> bool:
    """The roles table's answer, independent of the code under test."""
    if authorization == PUBLIC:
        return True
    if role is None or authorization == SIGNED:
        return False
    return authorization == AUTHENTICATED or authorization in DEFAULT_ROLES[role]


# What an allowed request with an empty body gets. By default: a write to the service 2xx; on
# the website, a route that changes something (POST_ONLY) redirects a POST (not to the login
# page) and answers a GET 405, every other route answers 200 (a page ignores the method; /me/
# creates a token). These routes answer otherwise.
ANSWERS = {
    ("POST", "login/"): 200,  # the form again: the (empty) name or password is wrong
    ("GET", "admin/login/"): 302,  # to the website's login page
    ("GET", "admin/logout/"): 302,  # to the website's logout (non-administrators: to /admin/)
    ("POST", "me/password/"): 400,  # the form again with its errors: every field is required
    ("POST", "users/create/"): 400,  # the same: a user needs a name
    ("POST", "api/users"): 400,  # the same, from the service
    ("PUT", "api/users/<str:username>/roles"): 400,  # "roles" is required
    ("GET", "admin/(?P<url>.*)$"): 404,  # the admin's answer to a path it does not know
    ("GET", "admin/r/<path:content_type_id>/<path:object_id>/"): 302,  # "view on site"
    ("POST", "api/runs/<str:identifier>/mark-exception"): 409,  # the run already ended
    ("POST", "metrics"): 405,  # Prometheus reads them
}
# The service's catch-all: a JSON 404 to every method.
UNKNOWN_SERVICE_ROUTE = "api/^.*$"
# Website routes that change something.
POST_ONLY = {
    "logout/", "me/password/", "me/tokens/<pk:token_id>/revoke/", "users/create/",
    "users/<str:username>/roles/", "users/<str:username>/enable/", "users/<str:username>/disable/",
    "users/<str:username>/delete/", "users/<str:username>/tokens/<pk:token_id>/revoke/",
    "projects/<slug:project>/jobs/<slug:job>/trigger", "projects/<slug:project>/jobs/<slug:job>/enabled",
    "projects/<slug:project>/schedules/<slug:schedule>/enabled", "runs/<str:identifier>/abort",
    "runs/<str:identifier>/mark-exception", "workers/<str:identifier>/enabled",
}


def right_answer(route: str, method: str, path: str, response) -> bool:
    """Whether an allowed request got the answer its route gives an empty request."""
    status = response.status_code
    if (method.upper(), route) in ANSWERS:
        return status == ANSWERS[method.upper(), route]
    if route == UNKNOWN_SERVICE_ROUTE:
        return status == 404 and "error" in response.json()
    if method == "get" and route.startswith("admin/") and route.endswith("/<path:object_id>/"):
        # The admin's old object address sends on to the object's change page.
        return status == 302 and response["Location"] == f"{path}change/"
    if route.startswith("api/") and method != "get":
        return 200 <= status < 300
    if route in POST_ONLY:
        return status == 405 if method == "get" else status == 302 and not refused(response)
    return status == 200


def checks(route: str, callback) -> list[tuple[str, str]]:
    """(method, authorization) pairs to try on a route."""
    declared = declared_authorization(callback)
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view_class is not None and hasattr(view_class, "required_authorization"):
        write = getattr(view_class, "write_authorization", None) or declared
        methods = [m for m in ("get",) + UNSAFE if hasattr(view_class, m)]
        return [(m, declared if m == "get" else write) for m in methods]
    if route.startswith("admin/"):
        return [("get", declared)]
    return [("get", declared), ("post", declared)]


def refused(response) -> bool:
    if response.status_code in (401, 403):
        return True
    location = response.get("Location", "")
    return response.status_code == 302 and location.startswith(("/login/?", "/admin/login/?"))


def refused_by_design(route: str, callback, users) -> bool:
    """Admin pages closed to everyone: adding tokens (values are shown once, on the profile),
    adding audit records, and deleting runs (an audited admin action deletes them with their
    logs)."""
    model_admin = getattr(callback, "model_admin", None)
    if model_admin is None or not route.endswith(("add/", "delete/")):
        return False
    request = RequestFactory().get("/")
    request.user = users["administrator"][0]
    if route.endswith("delete/"):
        return not model_admin.has_delete_permission(request)
    return not model_admin.has_add_permission(request)


@pytest.fixture
def values(users, catalogue) -> dict:
    """Identifiers of real objects for the routes' parameters, so that allowed requests succeed."""
    run = make_run(catalogue["hello"], worker=catalogue["worker"], results={"answer": 42})
    target = User.objects.create_user("target-user")
    token, _ = create_token(target, description="target's")
    audit.record(Actor(user=users["administrator"][0]), "user.create", target.username)
    return {
        "project": "examples", "job": "hello", "schedule": "hello-hourly", "hook": "echo",
        "run": run.identifier,
        "worker": catalogue["worker"].identifier, "index": 0, "username": target.username,
        "token_id": token.pk, "id": target.pk,
        # "View on site" of the job.
        "content_type_id": ContentType.objects.get_for_model(Job).pk, "object_id": catalogue["hello"].pk,
    }


def route_values(route: str, callback, role: str | None, values: dict, users) -> dict:
    """The values for one route as one role: its own tokens, the admin's own model's objects."""
    kind = "run" if "runs/" in route else "worker"
    result = {**values, "identifier": values[kind]}
    model_admin = getattr(callback, "model_admin", None)
    if model_admin is not None:
        result["object_id"] = model_admin.model.objects.order_by("pk").first().pk
    if role is not None and route.startswith(("api/tokens/", "me/tokens/")):
        result["token_id"] = Token.objects.get(user=users[role][0]).pk
    return result


def test_every_route_declares_its_authorization():
    undeclared = [route for route, callback in url_patterns() if not declared_authorization(callback)]
    assert undeclared == []


def test_the_hooks_deliveries_are_the_one_route_authenticated_by_a_signature_not_a_token():
    signed = [route for route, callback in url_patterns() if declared_authorization(callback) == SIGNED]
    assert signed == ["api/hooks/<slug:project>/<slug:hook>"]


def test_the_matrix_covers_the_service_the_website_and_the_admin():
    routes = [route for route, _ in url_patterns()]
    assert any(route.startswith("api/runs") for route in routes)
    assert any(route.startswith("admin/") for route in routes)
    assert "login/" in routes and "users/" in routes and "audit/" in routes


@pytest.fixture
def every_role(users) -> dict:
    """A user of each role: the service's tests' and `monitor` (Prometheus' token)."""
    return {**users, "monitor": make_user("monitor-user", "monitor")}


def test_every_route_against_every_role(every_role, values):
    clients = {None: Client(raise_request_exception=False)}
    for role in ROLES[1:]:
        clients[role] = Client(
            raise_request_exception=False, headers={"Authorization": f"Bearer {every_role[role][1]}"}
        )
    mistakes = []
    for route, callback in url_patterns():
        for method, authorization in checks(route, callback):
            for role in ROLES:
                path = concrete_path(route, route_values(route, callback, role, values, every_role))
                if route == "admin/autocomplete/":
                    path += "?app_label=auth&model_name=user&field_name=groups"
                client = clients[role]
                # Each request sees the same objects: what one changes or deletes is rolled back.
                with transaction.atomic():
                    if method == "get":
                        response = client.get(path)
                    else:
                        response = getattr(client, method)(path, {}, content_type="application/json")
                    transaction.set_rollback(True)
                expected = allowed(role, authorization) and not refused_by_design(route, callback, every_role)
                if expected:
                    wrong = not right_answer(route, method, path, response)
                else:
                    wrong = not refused(response)
                if not expected and not wrong and route.startswith("api/"):
                    # The service refuses in JSON: 401 to anonymous requests, 403 to others; 401
                    # to every unsigned request where a signature, not a token, is needed.
                    wanted = 401 if role is None or authorization == SIGNED else 403
                    wrong = response.status_code != wanted or "error" not in response.json()
                elif not expected and not wrong and role is not None and not route.startswith("admin/"):
                    wrong = response.status_code != 403
                if wrong:
                    mistakes.append(
                        f"{method.upper()} {path} as {role or 'anonymous'}: {response.status_code}"
                        f" (declared {authorization}, expected {'its answer' if expected else 'refused'})"
                    )
    assert not mistakes, "\n".join(mistakes)


def test_anonymous_service_requests_get_401_json_and_website_requests_the_login_page(db):
    response = Client().get("/api/runs")
    assert response.status_code == 401 and response.json()["error"]
    response = Client().get("/runs/")
    assert response.status_code == 302 and response["Location"].startswith("/login/?next=")


def test_the_admin_is_for_administrators_only(users):
    def admin_page(role, path="/admin/auth/user/"):
        return Client(headers={"Authorization": f"Bearer {users[role][1]}"}).get(path)

    assert admin_page("administrator").status_code == 200
    assert admin_page("administrator", "/admin/").status_code == 200
    for role in ("viewer", "operator", "auditor", "worker"):
        response = admin_page(role)
        assert response.status_code == 302 and "login" in response["Location"], role
    assert Client().get("/admin/").status_code == 302


def test_an_undeclared_view_is_noticed():
    from django.urls import path

    def naked_view(request):
        raise AssertionError("never called")

    routes = list(url_patterns([path("naked/", naked_view)]))
    assert routes == [("naked/", naked_view)]
    assert declared_authorization(naked_view) is None
