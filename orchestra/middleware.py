"""Every request is authenticated by a token: the session cookie or an Authorization header."""

from functools import partial

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.http import Http404, HttpResponse, JsonResponse
from django.utils.functional import SimpleLazyObject

from orchestra.applications import SERVICE_PREFIX
from orchestra.models import Token
from orchestra.tokens import authenticate_token, record_api_use, refresh_session


def bearer_value(request) -> str:
    header = request.META.get("HTTP_AUTHORIZATION", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return value.strip()
    return ""


def token_for_request(request) -> Token | None:
    """An API token from the Authorization header, else a session token from the cookie."""
    value = bearer_value(request)
    if value:
        token = authenticate_token(value, kind=Token.Kind.API)
        if token is not None:
            record_api_use(token)
        return token
    cookie = request.COOKIES.get(settings.SESSION_COOKIE_NAME, "")
    if cookie:
        token = authenticate_token(cookie, kind=Token.Kind.SESSION)
        if token is not None and refresh_session(token):
            request._orchestra_session_refreshed = cookie
        return token
    return None


def _resolve(request):
    if not hasattr(request, "_orchestra_token"):
        request._orchestra_token = token_for_request(request)
    token = request._orchestra_token
    return token.user if token is not None else AnonymousUser()


async def _aresolve(request):
    """`await request.auser()` in async views: the same token, looked up once per request."""
    return await sync_to_async(_resolve)(request)


def set_session_cookie(response, request, value: str) -> None:
    """The session token's cookie: out of scripts' reach, same-site, HTTPS-only under HTTPS.

    It lives as long as the token's expiry; a daily refresh of the token renews it too.
    """
    response.set_cookie(
        settings.SESSION_COOKIE_NAME,
        value,
        max_age=settings.SESSION_TOKEN_DAYS * 24 * 3600,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )


class TokenAuthenticationMiddleware(AuthenticationMiddleware):
    """Replaces Django's session-based authentication with Orchestra's hashed tokens.

    It subclasses AuthenticationMiddleware so the admin's system checks recognise it.
    """

    def process_request(self, request) -> None:
        request.user = SimpleLazyObject(lambda: _resolve(request))
        request.auser = partial(_aresolve, request)
        if bearer_value(request):
            # Requests authenticated by a header are not exposed to CSRF: browsers never add it.
            request._dont_enforce_csrf_checks = True

    def process_response(self, request, response):
        refreshed = getattr(request, "_orchestra_session_refreshed", None)
        if refreshed and settings.SESSION_COOKIE_NAME not in response.cookies:
            set_session_cookie(response, request, refreshed)
        return response


class ServiceErrorsMiddleware:
    """Every error the service answers is JSON, whoever answered it.

    The service's views answer JSON themselves (orchestra/api_errors.py); this catches the rest:
    Django's error pages (a URL no route matches, a disallowed host, an uncaught exception),
    the CSRF failure view and whatever another middleware answers.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request) -> HttpResponse:
        response = self.get_response(request)
        if (
            not request.path.startswith(SERVICE_PREFIX)
            or response.status_code < 400
            or response.get("Content-Type", "").startswith("application/json")
        ):
            return response
        if response.status_code == 404:
            message = f"no such service route: {request.path}"
        else:
            message = response.reason_phrase
        answer = JsonResponse({"error": message}, status=response.status_code)
        for name, value in response.items():
            if name.lower() not in ("content-type", "content-length"):
                answer[name] = value
        return answer


class NulPathMiddleware:
    """A path holding a NUL character names nothing: no identifier, user name or key holds one
    (they are checked where they enter), and PostgreSQL refuses to be asked about one, which
    made every route reading a path parameter a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request) -> HttpResponse:
        if "\x00" in request.path:
            raise Http404("no path holds a NUL character")
        return self.get_response(request)


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
