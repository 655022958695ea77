"""The service's authentication: the same tokens as the website, read by the middleware."""

from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication, CSRFCheck

from orchestra.middleware import bearer_value, token_for_request


class BearerTokenAuthentication(BaseAuthentication):
    def authenticate(self, request):
        django_request = request._request
        if not hasattr(django_request, "_orchestra_token"):
            django_request._orchestra_token = token_for_request(django_request)
        token = django_request._orchestra_token
        if token is None:
            return None
        if not bearer_value(django_request):
            # Authenticated by the session cookie, so by a browser: the service's views are
            # exempt from Django's CSRF middleware, so the check happens here.
            self.enforce_csrf(django_request)
        return (token.user, token)

    def enforce_csrf(self, request) -> None:
        check = CSRFCheck(lambda request: None)
        check.process_request(request)
        reason = check.process_view(request, None, (), {})
        if reason:
            raise exceptions.PermissionDenied(f"CSRF failed: {reason}")

    def authenticate_header(self, request) -> str:
        # Makes DRF answer 401 rather than 403 to anonymous requests.
        return 'Bearer realm="orchestra"'


__all__ = ["BearerTokenAuthentication", "bearer_value"]
