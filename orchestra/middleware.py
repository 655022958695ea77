"""Every request is authenticated by a token: the session cookie or an Authorization header."""

from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.utils.functional import SimpleLazyObject

from orchestra.models import Token
from orchestra.tokens import authenticate_token, record_api_use, refresh_session


def bearer_value(request) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    return ""


def token_for_request(request) -> Token | None:
    value = bearer_value(request)
    if value:
        token = authenticate_token(value)
        if token is not None:
            record_api_use(token)
        return token
    cookie = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")
    if cookie:
        token = authenticate_token(cookie, kind=Token.Kind.SESSION)
        if token is not None:
            refresh_session(token)
        return token
    return None


def _resolve(request):
    if not hasattr(request, "_orchestra_token"):
        request._orchestra_token = token_for_request(request)
    token = request._orchestra_token
    return token.user if token is not None else AnonymousUser()


class TokenAuthenticationMiddleware(AuthenticationMiddleware):
    """Replaces Django's session-based authentication with Orchestra's hashed tokens.

    It subclasses AuthenticationMiddleware so the admin's system checks recognise it.
    """

    def process_request(self, request) -> None:
        request.user = SimpleLazyObject(lambda: _resolve(request))
        request.auser = None
        if bearer_value(request):
            # Requests authenticated by a header are not exposed to CSRF: browsers never add it.
            request._dont_enforce_csrf_checks = True


class SecurityHeadersMiddleware:
    """A Content-Security-Policy allowing only the project's own scripts and styles."""

    policy = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
    )

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        return response
