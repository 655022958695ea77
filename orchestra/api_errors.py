"""Every service error is JSON: {"error": message, "field": name (validation only)}."""

from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler


def first_error(detail, prefix: str = "") -> tuple[str, str]:
    """The first (field, message) of a DRF validation error detail."""
    if isinstance(detail, dict):
        for key, value in detail.items():
            field = str(key) if key != "non_field_errors" else ""  # a list's item 0 is a field too
            field = f"{prefix}.{field}" if prefix and field else (field or prefix)
            return first_error(value, field)
    if isinstance(detail, list) and detail:
        return first_error(detail[0], prefix)
    return prefix, str(detail)


class BodyTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "body_too_large"


def json_exception_handler(exc, context):
    """Django's exceptions too, which DRF would leave to Django's HTML error pages."""
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = BodyTooLarge(
            f"the request body is larger than the {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes allowed"
        )
    elif isinstance(exc, (SuspiciousOperation, BadRequest)):
        exc = exceptions.ParseError(str(exc) or None)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        field, message = first_error(exc.detail)
        body = {"error": message, "details": exc.detail}
        if field:
            body["field"] = field
    else:
        detail = getattr(exc, "detail", str(exc))
        body = {"error": str(detail)}
    return Response(body, status=response.status_code, headers=dict(response.items()))


class Conflict(exceptions.APIException):
    status_code = 409
    default_detail = "The request conflicts with the current state."
    default_code = "conflict"


class Unprocessable(exceptions.APIException):
    status_code = 422
    default_detail = "The request cannot be processed as it is."
    default_code = "unprocessable"
