"""Building blocks shared by the service views of every app."""

from bson import ObjectId
from drf_spectacular.utils import OpenApiResponse
from rest_framework import parsers, renderers, serializers
from rest_framework.exceptions import ParseError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.utils import encoders


class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField()
    field = serializers.CharField(required=False, help_text="The first parameter or field at fault")
    details = serializers.DictField(
        required=False, help_text="Every parameter or field at fault, with its messages"
    )


ERRORS = {
    401: OpenApiResponse(ErrorSerializer, description="Not authenticated"),
    403: OpenApiResponse(ErrorSerializer, description="Not allowed"),
    404: OpenApiResponse(ErrorSerializer, description="Not found"),
}


class TextField(serializers.CharField):
    """DRF's CharField, but text as sent: DRF turned the number `12` into "12" where the
    schema says text, and trimmed whitespace before checking the length the schema states."""

    def __init__(self, **kwargs):
        super().__init__(trim_whitespace=False, **kwargs)

    def to_internal_value(self, data) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, but a body nested too deeply for Python's parser is a 400 like any
    other body that cannot be parsed, where DRF let the RecursionError through as a 500."""

    def parse(self, stream, media_type=None, parser_context=None) -> object:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply") from None


class KeyEncoder(encoders.JSONEncoder):
    """Writes an ObjectId (a key on MongoDB) as its hexadecimal string, as URLs spell it."""

    def default(self, value):
        return str(value) if isinstance(value, ObjectId) else super().default(value)


class JSONRenderer(renderers.JSONRenderer):
    encoder_class = KeyEncoder


class JSONOnly(DefaultContentNegotiation):
    """The service answers JSON (a log in text, an archive as a zip) whatever the Accept header
    says: DRF would answer 406 to a client asking a log for text/plain."""

    def select_renderer(self, request, renderers, format_suffix=None) -> tuple:
        renderer = renderers[0]
        return renderer, renderer.media_type
