"""State changes of users made by people; each writes its audit record in the same
transaction, so a change is never made without its record."""

from django.contrib.auth.models import Group, User
from django.utils import timezone

from orchestra import audit
from orchestra.audit import Actor
from orchestra.database import atomic, json_key
from orchestra.models import Token
from orchestra.tokens import create_token, revoke_token


class ChangeRefused(Exception):
    """A change that cannot be made as asked; the message says why, and nothing changed."""


class SelfLockout(ChangeRefused):
    """The change would lock its actor out of their own account; the message says why."""


def self_lockout(user: User, actor: Actor, roles: list[str] | None = None) -> str:
    """Why disabling, deleting or re-roling `user` would lock the actor out, or "".

    The actions below refuse these changes to one's own account, whoever calls them (the
    website, the service, the admin); another administrator can still make them. Forms ask it
    first to show the reason next to the field.
    """
    if actor.user is None or actor.user.pk != user.pk:
        return ""
    if roles is None:
        return "You cannot disable or delete your own account."
    if "administrator" not in roles and user.groups.filter(name="administrator").exists():
        return "You cannot take the administrator role from yourself."
    return ""


def refuse_self_lockout(user: User, actor: Actor, roles: list[str] | None = None) -> None:
    reason = self_lockout(user, actor, roles)
    if reason:
        raise SelfLockout(reason)


def set_user_enabled(user: User, enabled: bool, actor: Actor) -> User:
    """A disabled user's tokens are refused at once (sessions, API and worker connections).

    Raises SelfLockout when the actor disables themself.
    """
    if not enabled:
        refuse_self_lockout(user, actor)
    with atomic():
        changed = User.objects.filter(pk=user.pk, is_active=not enabled).update(is_active=enabled)
        if changed:
            audit.record(actor, "user.enable" if enabled else "user.disable", user.get_username())
    user.is_active = enabled
    return user


def do_create_user(username: str, password: str | None, roles: list[str], actor: Actor) -> User:
    with atomic():
        user = User.objects.create_user(username=username, password=password)
        if password is None:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        user.groups.set(Group.objects.filter(name__in=roles))
        audit.record(actor, "user.create", username, roles=sorted(roles))
    return user


def do_set_user_roles(user: User, roles: list[str], actor: Actor) -> User:
    """Raises SelfLockout when the actor takes the administrator role from themself."""
    refuse_self_lockout(user, actor, roles)
    with atomic():
        before = sorted(user.groups.values_list("name", flat=True))
        user.groups.set(Group.objects.filter(name__in=roles))
        after = sorted(user.groups.values_list("name", flat=True))
        if before != after:
            audit.record(actor, "user.roles", user.get_username(), before=before, after=after)
    return user


def do_delete_user(user: User, actor: Actor) -> None:
    """Raises SelfLockout when the actor deletes themself."""
    refuse_self_lockout(user, actor)
    username = user.get_username()
    with atomic():
        user.delete()
        audit.record(actor, "user.delete", username)


def do_create_token(user: User, description: str, actor: Actor) -> tuple[Token, str]:
    """A new API token of `user`; the value returned is shown once and stored nowhere."""
    with atomic():
        token, value = create_token(user, kind=Token.Kind.API, description=description)
        audit.record(
            actor, "token.create", user.get_username(), token=json_key(token.pk),
            description=description,
        )
    return token, value


def do_revoke_token(token: Token, actor: Actor) -> None:
    with atomic():
        if token.revoked is None:
            revoke_token(token)
            audit.record(
                actor, "token.revoke", token.user.get_username(), token=json_key(token.pk),
                description=token.description,
            )


def do_change_password(user: User, password: str, actor: Actor, keep: Token | None = None) -> None:
    """Set a new password and end every other session of the user (a stolen one included)."""
    with atomic():
        user.set_password(password)
        user.save(update_fields=["password"])
        sessions = Token.objects.filter(user=user, kind=Token.Kind.SESSION, revoked=None)
        if keep is not None:
            sessions = sessions.exclude(pk=keep.pk)
        sessions.update(revoked=timezone.now())
        audit.record(actor, "user.password", user.get_username())
