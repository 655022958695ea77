"""`manage.py runworker_client`: the worker client (not Channels' `runworker`).

It touches no database: the same code runs as `python -m workers.client` where Django's
settings are not available.
"""

import sys

from django.core.management.base import BaseCommand

from workers.client import __main__ as client


class Command(BaseCommand):
    help = "Connect to a master as a worker and execute the runs it hands out."
    # The worker has nothing of the master's to check (no database, no admin, no URLs).
    requires_system_checks = []

    def add_arguments(self, parser):
        client.add_arguments(parser)

    def handle(self, *args, master_urls, token, identifier, properties, executors, data_dir, fork_server,
               **options):
        status = client.run(master_urls, token, identifier, properties, executors, data_dir, fork_server)
        if status:
            sys.exit(status)
