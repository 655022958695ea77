from django.core.management.base import BaseCommand

from orchestra.tokens import delete_dead_tokens


class Command(BaseCommand):
    help = "Delete expired and revoked tokens (the master also does it periodically)."

    def handle(self, *args, **options):
        count = delete_dead_tokens()
        self.stdout.write(f"deleted {count} dead tokens")
