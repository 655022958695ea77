"""Every operation of /api/schema/ with a fixed list of hostile input: what schemathesis
(tests/api/test_schemathesis.py) does not generate, because the schema cannot name it.

Schemathesis sends `results__KEY` literally, never another `results__` name, and draws its
values at random; this sends every query parameter the same long, markup, date-like and
number-like values, result parameters with odd key paths, and malformed bodies, on real
objects and on odd paths, every run. No answer may be a server error.
"""

import json

import pytest
from django.contrib.auth.models import User
from django.test import Client

from orchestra.tokens import create_token
from tests.api.conftest import make_run

ODD_VALUES = [
    "", "-1", "0", "99999999999999999999", "1.5", "true", "null", "[]", "2026-13-45",
    "2026-11-29T10:00:00Z", "<script>alert(1)</script>", "é\u2603", "a" * 3000, "a=b=c",
]
ODD_BODIES = [
    None, [], "text", 42, {"parameters": []}, {"parameters": None}, {"parameters": {"a": {"b": 1}}},
    {"parameters": {"text": None}}, {"parameters": {"text": "x" * 100000}}, {"roles": "viewer"},
    {"roles": [1, None]}, {"username": ""}, {"username": "a" * 500}, {"username": None},
    {"description": ["x"]}, {"password": "short"},
]
ODD_RESULT_FILTERS = [
    "results__", "results____x", "results__a__b__c", 'results__a"b', "results__'", "results__$.x",
    "results__answer__gt", "results__contains", "results__" + "k" * 500,
]


@pytest.fixture
def world(users, catalogue):
    run = make_run(catalogue["hello"], results={"answer": 42}, worker=catalogue["worker"])
    target = User.objects.create_user("target-user")
    token, _ = create_token(target)
    return {
        "project": "examples", "job": "hello", "schedule": "hello-hourly", "hook": "echo",
        "identifier": run.identifier, "index": "0", "username": target.username,
        "token_id": str(token.pk),
    }


def schema(client: Client) -> dict:
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return json.loads(response.content)


def example(property_schema: dict):
    kind = property_schema.get("type")
    return {"array": ["viewer"], "object": {}, "boolean": True, "integer": 1}.get(kind, "x1-valid")


def valid_body(operation: dict, components: dict) -> dict:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if not content:
        return {}
    reference = content["schema"].get("$ref", "")
    body_schema = components.get(reference.rsplit("/", 1)[-1], content["schema"])
    return {name: example(spec) for name, spec in body_schema.get("properties", {}).items()}


def test_no_operation_answers_a_server_error(users, world):
    admin = Client(raise_request_exception=False, headers={"Authorization": f"Bearer {users['administrator'][1]}"})
    anonymous = Client(raise_request_exception=False)
    document = schema(admin)
    components = document.get("components", {}).get("schemas", {})
    failures, requests = [], 0

    def send(client, method, path, query=None, body=None, raw=None):
        nonlocal requests
        requests += 1
        if method == "get":
            response = client.get(path, query or {})
        elif raw is not None:
            response = getattr(client, method)(path, raw, content_type="application/json")
        else:
            response = getattr(client, method)(path, json.dumps(body), content_type="application/json")
        if response.status_code >= 500:
            failures.append(f"{method.upper()} {path} {query or ''} {str(body)[:80]}: {response.status_code}")

    for template, operations in document["paths"].items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "path"]
            valid_path = template
            for name in names:
                valid_path = valid_path.replace("{%s}" % name, world[name])
            query_names = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
            body = valid_body(operation, components)
            send(anonymous, method, valid_path, body=body)
            send(admin, method, valid_path, body=body)
            for name in names:
                for value in ("nope", "é", "a" * 300):
                    send(admin, method, template.replace("{%s}" % name, value).format(**world), body=body)
            for name in query_names + (ODD_RESULT_FILTERS if "results__KEY" in query_names else []):
                for value in ODD_VALUES:
                    send(admin, "get", valid_path, query={name: value})
            if method not in ("get", "delete"):
                for odd in ODD_BODIES:
                    send(admin, method, valid_path, body=odd)
                send(admin, method, valid_path, raw="{not json")
    assert requests > 500  # the schema was really walked
    assert not failures, "\n".join(failures)
