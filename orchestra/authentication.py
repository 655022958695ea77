"""The service's authentication: the same tokens as the website, read by the middleware."""

from rest_framework.authentication import BaseAuthentication

from orchestra.middleware import bearer_value, token_for_request


class BearerTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        django_request = request._request
        if not hasattr(django_request, "_orchestra_token"):
            django_request._orchestra_token = token_for_request(django_request)
        token = django_request._orchestra_token
        if token is None:
            return None
        return (token.user, token)

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 rather than 403 to anonymous requests.
        return 'Bearer realm="orchestra"'


__all__ = ["BearerTokenAuthentication", "bearer_value"]
