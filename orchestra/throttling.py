"""Login throttling: too many failures for a user name or from an address in a window -> 429.

Failures live in the database so that every master process counts the same ones. A user name
is throttled whether or not such a user exists, so the answer never tells which names exist.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from orchestra.models import LoginFailure


def now() -> datetime:
    """The clock of this module (tests replace it)."""
    return timezone.now()


def window_start() -> datetime:
    return now() - timedelta(seconds=settings.LOGIN_FAILURE_WINDOW)


def normalise(username: str) -> str:
    return username.strip().lower()[:150]


def is_throttled(username: str, address: str | None) -> bool:
    """True when this user name or this address failed too often in the window."""
    recent = LoginFailure.objects.filter(created__gt=window_start())
    limit = settings.LOGIN_FAILURE_LIMIT
    if recent.filter(username=normalise(username)).count() >= limit:
        return True
    return bool(address) and recent.filter(address=address).count() >= limit


def record_failure(username: str, address: str | None) -> None:
    LoginFailure.objects.filter(created__lte=window_start()).delete()
    LoginFailure.objects.create(created=now(), username=normalise(username), address=address)


def forget_failures(username: str) -> None:
    """After a successful login its user name starts afresh; its address does not, or one
    valid account would let an address keep guessing other users' passwords."""
    LoginFailure.objects.filter(username=normalise(username)).delete()
