"""Create an API token for a user; the value is printed once, alone on the last line."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from orchestra.actions import do_create_token
from orchestra.audit import SYSTEM


class Command(BaseCommand):
    help = "Create an API token for USER and print it alone on the last line of output."

    def add_arguments(self, parser):
        parser.add_argument("name", help="the user's name")
        parser.add_argument("--description", default="created by manage.py create_token")

    def handle(self, *args, name: str, description: str, **options):
        user = get_user_model().objects.filter(username=name).first()
        if user is None:
            raise CommandError(f"no user named {name!r}")
        _, value = do_create_token(user, description, SYSTEM)
        self.stdout.write(f"API token for {name} (shown once, stored only as its SHA-256):")
        self.stdout.write(value)
