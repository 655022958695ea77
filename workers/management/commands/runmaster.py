"""The master: website, service, worker endpoint, dispatch and cron scheduler in one process."""

import asyncio
import logging

from daphne.server import Server
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from orchestra import extensions
from orchestra.asgi import application
from projects.configuration import ConfigurationError, load_configuration
from workers import background
from workers.protocol import MAX_MESSAGE_BYTES

logger = logging.getLogger("orchestra.master")


class Command(BaseCommand):
    help = (
        "Serve the website, the service (/api/) and the worker endpoint (/ws/master/), "
        "and run dispatch and the cron scheduler. Not to be confused with Channels' runworker."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, host: str, port: int, **options):
        extensions.validate_all()
        try:
            load_configuration(settings.CONFIGURATION_MODULE)
        except ConfigurationError as error:
            raise CommandError(f"ORCHESTRA_CONFIGURATION ({settings.CONFIGURATION_MODULE}): {error}")

        def ready() -> None:
            background.start(asyncio.get_event_loop())
            self.stdout.write(f"Orchestra master listening on http://{host}:{port}/", ending="\n")
            self.stdout.flush()

        Server(
            application,
            endpoints=[f"tcp:port={port}:interface={host}"],
            ready_callable=ready,
            # Log chunks are bounded far below this (CHUNK_BYTES in workers/client/connection.py),
            # and neither end sends more: an oversized message is refused.
            websocket_max_message_size=MAX_MESSAGE_BYTES,
        ).run()
