"""The service's OpenAPI description: the bearer token scheme, and what every operation can
answer beside its own results, decided here once rather than by each view's declarations."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers

from orchestra.api_views import ErrorSerializer
from orchestra.authorization import AUTHENTICATED, PUBLIC, SIGNED
from orchestra.permissions import SAFE_METHODS, declared_authorization

# Statuses whose cause is the request, not the operation: the rules below decide them.
GENERIC_ERRORS = {
    400: "Invalid request: a query parameter, or the body (`field` names it)",
    401: "Not authenticated",
    403: "Not allowed: the user's roles, or a missing CSRF token with the session cookie",
    404: "Not found",
    413: "Body too large",
    415: "Body not JSON",
}
# Blank query parameters are refused (orchestra.filters.QueryForm).
NOT_BLANK = r"\S"


class BearerTokenScheme(OpenApiAuthenticationExtension):
    target_class = "orchestra.authentication.BearerTokenAuthentication"
    name = "bearerToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "An API token from the profile page or `manage.py create_token`.",
        }


class ServiceSchema(AutoSchema):
    """Each operation's generic errors follow from what it is: 401 for every one (no route is
    public); 403 where a role is needed, or for an unsafe method (the CSRF check of the session
    cookie); 404 where the path names something; 400 where there are query parameters or a
    body may come (a session cookie's CSRF check reads a form body); 413 where a body may come;
    415 where a body is read; a route authenticated by a signed body (a hook's deliveries) 401,
    400, 404 and 413 alone. A declared description of one of them is kept; one that cannot
    happen is dropped. Text query parameters declare that they cannot be blank, lists of values
    that they cannot be empty, and a related object a model may lack is declared nullable."""

    def get_operation(self, path, path_regex, path_prefix, method, registry) -> dict | None:
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        error = self.resolve_serializer(ErrorSerializer, "response").ref
        responses = operation["responses"]
        answers = self.generic_errors(operation)
        for status, description in GENERIC_ERRORS.items():
            if status not in answers:
                responses.pop(str(status), None)
                continue
            declared = responses.get(str(status), {}).get("description")
            responses[str(status)] = {
                "description": declared or description,
                "content": {"application/json": {"schema": error}},
            }
        operation["responses"] = dict(sorted(responses.items()))
        for parameter in operation.get("parameters", []):
            schema = parameter["schema"]
            if parameter["in"] != "query":
                continue
            if schema.get("type") == "string" and not {"enum", "format", "pattern"} & set(schema):
                schema["pattern"] = NOT_BLANK
            elif schema.get("type") == "array":
                schema["minItems"] = 1
        return operation

    def generic_errors(self, operation: dict) -> set[int]:
        locations = {parameter["in"] for parameter in operation.get("parameters", [])}
        unsafe = self.method not in SAFE_METHODS
        answers = {401}
        if declared_authorization(self.view, self.method) == SIGNED:
            # A signed body, read as it came: no token or cookie (no role, no CSRF check), no
            # parser to refuse its media type.
            return answers | {400, 404, 413}
        if unsafe or declared_authorization(self.view, self.method) not in (AUTHENTICATED, PUBLIC):
            answers.add(403)
        if "path" in locations:
            answers.add(404)
        if "query" in locations or unsafe:
            answers.add(400)
        if unsafe:
            answers.add(413)
        if "requestBody" in operation:
            answers.add(415)
        return answers

    def _get_serializer_field_meta(self, field, direction) -> dict:
        meta = super()._get_serializer_field_meta(field, direction)
        if isinstance(field, serializers.RelatedField) and self.nullable_relation(field):
            meta["nullable"] = True
        return meta

    @staticmethod
    def nullable_relation(field: serializers.RelatedField) -> bool:
        """Whether the model field behind a serializer's related field may be null: DRF leaves
        `allow_null` off on a read-only field it was not told about, and answers null anyway."""
        model = getattr(getattr(field.parent, "Meta", None), "model", None)
        if model is None or "." in field.source:
            return False
        return model._meta.get_field(field.source).null
