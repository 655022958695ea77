"""Create a user with one or more roles; the password comes from stdin or is generated."""

import secrets
import sys

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from orchestra.actions import do_create_user
from orchestra.audit import SYSTEM
from orchestra.roles import configured_roles


def typed_password(typed: str) -> str:
    """The password from the text given on stdin: on its first line, confirmed on the second,
    and long enough for the website's rule (AUTH_PASSWORD_VALIDATORS); raises CommandError."""
    lines = [line.removesuffix("\r") for line in typed.split("\n")]
    if lines[-1] == "":
        lines.pop()
    if len(lines) < 2:
        raise CommandError(
            "give the password twice, on two lines (the second confirms the first)"
        )
    password, confirmation = lines[:2]
    if password != confirmation:
        raise CommandError("the two passwords differ: nobody was created")
    try:
        validate_password(password)
    except ValidationError as error:
        raise CommandError(" ".join(error.messages))
    return password


class Command(BaseCommand):
    help = (
        "Create a user with the given roles. When stdin is not a terminal and holds text, its "
        "first line is the password and its second line repeats it; otherwise a password is "
        "generated and printed."
    )

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument(
            "--role", action="append", required=True, dest="roles",
            help="a role (repeat for several): " + ", ".join(configured_roles()),
        )

    def handle(self, *args, name: str, roles: list[str], **options):
        unknown = [role for role in roles if role not in configured_roles()]
        if unknown:
            raise CommandError(f"unknown role(s): {', '.join(unknown)}")
        if get_user_model().objects.filter(username=name).exists():
            raise CommandError(f"user {name!r} already exists")
        typed = "" if sys.stdin.isatty() else sys.stdin.read()
        generated = not typed.strip()
        password = secrets.token_urlsafe(18) if generated else typed_password(typed)
        do_create_user(name, password, roles, SYSTEM)
        self.stdout.write(f"Created user {name} with role(s) {', '.join(roles)}")
        if generated:
            self.stdout.write(f"Password: {password}")
