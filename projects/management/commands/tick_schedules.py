from datetime import datetime

from django.core.management.base import BaseCommand, CommandError

from projects.scheduler import tick


class Command(BaseCommand):
    help = (
        "Run one scheduler pass now (runmaster does this periodically). --now pretends it is "
        "another time, which lets tests and operators replay a tick."
    )

    def add_arguments(self, parser):
        parser.add_argument("--now", help="ISO 8601 time with a timezone, e.g. 2026-01-01T10:00:00+00:00")

    def handle(self, *args, now=None, **options):
        moment = None
        if now:
            try:
                moment = datetime.fromisoformat(now)
            except ValueError as error:
                raise CommandError(f"--now: {error}")
            if moment.tzinfo is None:
                raise CommandError("--now: give a timezone, e.g. +00:00")
        self.stdout.write(f"triggered {tick(moment)}")
