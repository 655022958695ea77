"""/api/schema/ says what the service does: which fields may be null, which errors each
operation can answer, and the bounds of its parameters."""

import json
import re

import pytest

GENERIC_ERRORS = {"400", "401", "403", "404", "413", "415"}


@pytest.fixture
def schema(service) -> dict:
    response = service("viewer").get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return json.loads(response.content)


def operations(schema: dict):
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            yield path, method, operation


@pytest.mark.parametrize("component, fields", [
    ("Run", ["worker", "parent", "schedule", "hook", "triggered_by", "started", "completed"]),
    ("RunDetail", ["worker", "parent", "schedule", "triggered_by"]),
    ("Schedule", ["last_run", "last_tick"]),
    ("Worker", ["owner", "last_seen"]),
    ("Token", ["expires", "last_used", "revoked"]),
    ("AuditEvent", ["address"]),
])
def test_fields_that_may_be_null_are_declared_nullable(schema, component, fields):
    properties = schema["components"]["schemas"][component]["properties"]
    assert [name for name in fields if not properties[name].get("nullable")] == []


def test_each_operation_documents_the_errors_it_can_answer_and_no_other(schema):
    """401 everywhere (no route is public); 403 where a role is needed or an unsafe method
    (CSRF with the session cookie); 404 where the path names something; 400 where there are
    query parameters or a body may come; 413 where a body may come; 415 where one is read. A
    hook's deliveries take no token and read the body as it came: neither 403 nor 415."""
    wrong = []
    for path, method, operation in operations(schema):
        parameters = {parameter["in"] for parameter in operation.get("parameters", [])}
        unsafe = method in ("post", "put", "patch", "delete")
        role_free = path in ("/api/me", "/api/tokens", "/api/tokens/{token_id}")
        expected = {"401"}
        expected |= {"403"} if unsafe or not role_free else set()
        expected |= {"404"} if "path" in parameters else set()
        expected |= {"400"} if "query" in parameters or unsafe else set()
        expected |= {"413"} if unsafe else set()
        expected |= {"415"} if "requestBody" in operation else set()
        if path == "/api/hooks/{project}/{hook}":
            expected -= {"403", "415"}
        documented = GENERIC_ERRORS & set(operation["responses"])
        if documented != expected:
            wrong.append(f"{method.upper()} {path}: {sorted(documented)} != {sorted(expected)}")
        for status in documented:
            content = operation["responses"][status]["content"]
            assert list(content) == ["application/json"], (path, method, status)
            assert content["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    assert wrong == []


def test_the_error_body_is_described_whole(schema):
    error = schema["components"]["schemas"]["Error"]
    assert set(error["properties"]) == {"error", "field", "details"} and error["required"] == ["error"]


def parameter(schema: dict, path: str, name: str, method: str = "get") -> dict:
    found = [p for p in schema["paths"][path][method]["parameters"] if p["name"] == name]
    assert len(found) == 1, (path, name)
    return found[0]["schema"]


def test_the_bounds_of_parameters_are_declared(schema):
    log = "/api/runs/{identifier}/steps/{index}/log"
    assert parameter(schema, log, "offset") == {"type": "integer", "minimum": 0}
    assert parameter(schema, log, "limit") == {"type": "integer", "minimum": 0}
    assert parameter(schema, log, "index") == {"type": "integer", "minimum": 0}
    assert parameter(schema, "/api/tokens/{token_id}", "token_id") == {"type": "integer", "minimum": 0}
    for path in ("/api/runs", "/api/jobs", "/api/tokens", "/api/users/{username}/tokens"):
        assert parameter(schema, path, "page") == {"type": "integer", "minimum": 1}
        assert parameter(schema, path, "page_size") == {"type": "integer", "minimum": 1, "maximum": 500}


def test_text_parameters_cannot_be_blank(schema):
    """A blank filter is refused (tests/api/test_list_parameters.py); a path parameter is
    never empty and never holds a slash; a header (the trigger's Idempotency-Key) is never
    empty."""
    for path, method, operation in operations(schema):
        for entry in operation.get("parameters", []):
            kind = entry["schema"]
            if kind.get("type") != "string" or "enum" in kind or "format" in kind:
                continue
            pattern = re.compile(kind.get("pattern", ""))
            assert not pattern.search(""), (path, entry)
            if entry["in"] == "query":
                assert not pattern.search("  ") and pattern.search(" a "), (path, entry)
            elif entry["in"] == "path":
                assert not pattern.search("a/b") and pattern.search("a"), (path, entry)
