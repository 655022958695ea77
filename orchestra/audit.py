"""The audit log is written by the same functions that make the changes it records."""

from dataclasses import dataclass

from orchestra.models import AuditEvent


@dataclass(frozen=True)
class Actor:
    """Who asks for a change and from where; `user` is None for the system (schedules...).

    A system actor with a `label` (retention) is audited under that name: what it does is
    nobody's request, but people must find it in the audit log.
    """

    user: object | None = None
    address: str | None = None
    label: str = ""

    @classmethod
    def from_request(cls, request) -> "Actor":
        user = getattr(request, "user", None)
        if user is not None and not user.is_authenticated:
            user = None
        return cls(user=user, address=request.META.get("REMOTE_ADDR") or None)

    @property
    def name(self) -> str:
        if self.user is not None:
            return self.user.get_username()
        return self.label or "system"


SYSTEM = Actor()


def record(actor: Actor, action: str, target: str = "", **details) -> AuditEvent | None:
    """Record a change made by a person or a token, or by a labelled part of the system (a
    hook), and refused logins and hook calls; the system's other changes (a scheduled trigger,
    a pipeline's progress) are not audited."""
    if actor.user is None and not actor.label and action not in ("login.failed", "hook.refused"):
        return None
    return AuditEvent.objects.create(
        actor=actor.user,
        actor_name=details.pop("actor_name", actor.name),
        action=action,
        target=target,
        address=actor.address,
        details=details,
    )
