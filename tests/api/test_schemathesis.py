"""Schemathesis against the live schema of the app, in process (WSGI), once per role.

Every operation of /api/schema/ gets generated requests, valid ones and invalid ones, with
random path parameters and with ones that name real objects (so the answers that matter, 200
and 400, are reached, not only 404). Each answer must be no server error and conform to the
schema: a documented status code, the documented content type, a body matching its schema,
and an invalid request must be refused (4xx). The examples are derandomized, so a run is
repeatable, and bounded, so the test takes well under two minutes on two cores.
"""

import time

import pytest
import schemathesis
from django.contrib.auth.models import User
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from orchestra.tokens import create_token
from tests.api.conftest import ROLES, make_run

CHECKS = [
    not_a_server_error, status_code_conformance, content_type_conformance,
    response_headers_conformance, response_schema_conformance, negative_data_rejection,
]
# Examples per operation, generation mode (valid, invalid) and kind of path parameters
# (random, real). Anonymous requests all stop at authentication.
EXAMPLES = {role: 3 for role in ROLES} | {None: 1}
SETTINGS = settings(
    max_examples=1,  # replaced per role below
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.fixture
def real(users, catalogue, monkeypatch) -> dict:
    """Path parameters naming real objects, for each parameter name and kind of route; the
    example hook's secret is set, so that its deliveries reach their signature's check (unset,
    the hook answers every call 503, which the server-error check would count)."""
    monkeypatch.setenv("ORCHESTRA_HOOK_SECRET_ECHO", "schemathesis")
    run = make_run(catalogue["hello"], results={"answer": 42}, worker=catalogue["worker"], steps=2)
    target = User.objects.create_user("target-user")
    target_token, _ = create_token(target)
    return {
        "project": "examples", "job": "hello", "schedule": "hello-hourly", "hook": "echo", "index": 0,
        "run": run.identifier, "worker": catalogue["worker"].identifier,
        "username": target.username, "user_token_id": target_token.pk,
    }


def real_path_parameters(path: str, names: list[str], real: dict, own_token_id: int) -> dict:
    values = {}
    for name in names:
        if name == "identifier":
            values[name] = real["worker"] if path.startswith("/api/workers") else real["run"]
        elif name == "token_id":
            # Its own tokens: one made for this, so revoking it leaves the caller's own.
            values[name] = own_token_id if path.startswith("/api/tokens") else real["user_token_id"]
        else:
            values[name] = real[name]
    return values


@pytest.mark.parametrize("role", [*ROLES, None], ids=[*ROLES, "anonymous"])
def test_schemathesis_finds_no_error_and_no_answer_the_schema_does_not_describe(users, real, role):
    headers = {"Authorization": f"Bearer {users[role][1]}"} if role else {}
    administrator = {"Authorization": f"Bearer {users['administrator'][1]}"}
    own_token_id = create_token(users[role][0], description="to revoke")[0].pk if role else 0
    schema = schemathesis.openapi.from_wsgi(
        "/api/schema/?format=json", get_wsgi_application(), headers=administrator
    )
    started = time.monotonic()
    failures, cases = [], 0
    for result in schema.get_all_operations():
        operation = result.ok()
        names = [parameter.name for parameter in operation.path_parameters]
        strategies = []
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            # The role's own headers, never mutated: a negative case is about the request's data.
            strategies.append(operation.as_strategy(mode, headers=headers))
            if names:
                fixed = real_path_parameters(operation.path, names, real, own_token_id)
                strategies.append(operation.as_strategy(mode, headers=headers, path_parameters=fixed))

        @given(case=st.one_of(strategies))
        @settings(SETTINGS, max_examples=EXAMPLES[role] * len(strategies))
        def call(case):
            nonlocal cases
            cases += 1
            response = case.call()
            case.validate_response(response, checks=CHECKS, headers=headers)

        try:
            call()
        except (Exception, BaseExceptionGroup) as failure:  # each operation's failure is reported
            failures.append(f"{operation.label}: {failure}")
    elapsed = time.monotonic() - started
    print(f"\nschemathesis, {role or 'anonymous'}: {cases} cases in {elapsed:.1f} s")
    assert cases > 100
    assert not failures, "\n\n".join(failures)
