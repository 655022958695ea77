from datetime import datetime

from django.core.management.base import BaseCommand, CommandError

from projects.scheduler import tick


def aware_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise CommandError(f"--now: {error}")
    if moment.tzinfo is None:
        raise CommandError(f"--now: {text!r} has no timezone (add e.g. +00:00)")
    return moment


class Command(BaseCommand):
    help = (
        "Run one scheduler pass now, as runmaster does periodically, and print how many runs it "
        "triggered. --now pretends it is another time (repeat it for one pass per time, in "
        "order), which lets tests and operators replay ticks."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--now", action="append", default=[],
            help="ISO 8601 time with a timezone, e.g. 2026-01-01T10:00:00+00:00",
        )

    def handle(self, *args, now: list[str], **options):
        moments = [aware_time(text) for text in now] or [None]
        for moment in moments:
            self.stdout.write(f"triggered {tick(moment)}")
