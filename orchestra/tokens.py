"""Creating, checking, refreshing and revoking tokens. Values are never stored, only SHA-256."""

from datetime import timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from orchestra.models import Token, hash_token
from orchestra.prepared import prepared

REFRESH_INTERVAL = timedelta(days=1)


def create_token(user, kind: str = Token.Kind.API, description: str = "") -> tuple[Token, str]:
    """Return the stored token and its value, which exists nowhere else from now on."""
    value = Token.generate_value()
    now = timezone.now()
    expires = now + timedelta(days=settings.SESSION_TOKEN_DAYS) if kind == Token.Kind.SESSION else None
    token = Token.objects.create(
        user=user,
        kind=kind,
        digest=hash_token(value),
        description=description,
        expires=expires,
        last_refresh=now,
    )
    return token, value


@prepared
def live_token(digest: str, kind: str) -> QuerySet:
    return (
        Token.objects.select_related("user").filter(digest=digest, revoked=None, kind=kind)
        .order_by()[:1]
    )


def authenticate_token(value: str, kind: str = Token.Kind.API) -> Token | None:
    """The live token of this kind for this value, its user active, or None.

    A kind is accepted only where it is meant to be: API tokens in headers (service, workers),
    session tokens in the website's cookie. A session token sent as a header would dodge the
    CSRF check that only the cookie needs.
    """
    if not value or len(value) > 128:
        return None
    token = live_token.first(hash_token(value), kind)
    if token is None or not token.user.is_active:
        return None
    now = timezone.now()
    if token.expires is not None and token.expires <= now:
        return None
    return token


def refresh_session(token: Token) -> bool:
    """Push a session's expiry back, at most once a day: one write a day, not one a request."""
    now = timezone.now()
    if token.kind != Token.Kind.SESSION:
        return False
    if token.last_refresh and now - token.last_refresh < REFRESH_INTERVAL:
        return False
    token.last_refresh = now
    token.expires = now + timedelta(days=settings.SESSION_TOKEN_DAYS)
    token.last_used = now
    Token.objects.filter(pk=token.pk).update(
        last_refresh=token.last_refresh, expires=token.expires, last_used=now
    )
    return True


def record_api_use(token: Token) -> None:
    """Remember when an API token was last used, also at most once a day."""
    now = timezone.now()
    if token.last_used and now - token.last_used < REFRESH_INTERVAL:
        return
    token.last_used = now
    Token.objects.filter(pk=token.pk).update(last_used=now)


def revoke_token(token: Token) -> None:
    Token.objects.filter(pk=token.pk, revoked=None).update(revoked=timezone.now())


def delete_dead_tokens() -> int:
    """Remove expired and revoked tokens; returns how many."""
    now = timezone.now()
    expired = Token.objects.filter(expires__lte=now)
    revoked = Token.objects.filter(revoked__isnull=False)
    count = (expired | revoked).delete()[0]
    return count
