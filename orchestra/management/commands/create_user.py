"""Create a user with one or more roles; the password comes from stdin or is generated."""

import secrets
import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from orchestra.actions import do_create_user
from orchestra.audit import SYSTEM
from orchestra.roles import configured_roles


class Command(BaseCommand):
    help = (
        "Create a user with the given roles. The password is read from stdin when stdin is not "
        "a terminal and is not empty; otherwise one is generated and printed."
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
        password = "" if sys.stdin.isatty() else sys.stdin.read().strip()
        generated = not password
        if generated:
            password = secrets.token_urlsafe(18)
        do_create_user(name, password, roles, SYSTEM)
        self.stdout.write(f"Created user {name} with role(s) {', '.join(roles)}")
        if generated:
            self.stdout.write(f"Password: {password}")
