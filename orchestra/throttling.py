"""Login throttling: too many failures for a user name or from an address in a window -> 429.

Failures live in the database so that every master process counts the same ones. A user name
is throttled whether or not such a user exists, so the answer never tells which names exist.

An attempt is recorded as a failure before it is judged, and counted with it: of any number of
attempts arriving together, on any number of masters, the k-th to be recorded counts at least k
rows, so at most the limit of them are judged. Checking first and recording after would let
every attempt that checks before the first one records through.
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


def begin_attempt(username: str, address: str | None) -> bool:
    """Record this attempt as a failure; False (and nothing recorded) when it is throttled.

    A judged attempt that fails leaves its record; one that succeeds is forgotten with
    `forget_failures`. Called outside any transaction (requests are not atomic), so that other
    masters count the record as soon as it is written.
    """
    LoginFailure.objects.filter(created__lte=window_start()).delete()
    attempt = LoginFailure.objects.create(
        created=now(), username=normalise(username), address=address
    )
    if over_limit(username, address):
        attempt.delete()
        return False
    return True


def over_limit(username: str, address: str | None) -> bool:
    """True when, this attempt's record included, the user name or the address has more
    failures in the window than the limit allows."""
    recent = LoginFailure.objects.filter(created__gt=window_start())
    limit = settings.LOGIN_FAILURE_LIMIT
    if recent.filter(username=normalise(username)).count() > limit:
        return True
    return bool(address) and recent.filter(address=address).count() > limit


def forget_failures(username: str) -> None:
    """After a successful login its user name starts afresh; its address does not, or one
    valid account would let an address keep guessing other users' passwords."""
    LoginFailure.objects.filter(username=normalise(username)).delete()
