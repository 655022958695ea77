"""Building blocks shared by the service views of every app."""

from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers



class ErrorSerializer(serializers.Serializer):
    error = serializers.CharField()
    field = serializers.CharField(required=False)


ERRORS = {
    401: OpenApiResponse(ErrorSerializer, description="Not authenticated"),
    403: OpenApiResponse(ErrorSerializer, description="Not allowed"),
    404: OpenApiResponse(ErrorSerializer, description="Not found"),
}
