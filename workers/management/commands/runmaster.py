"""The master: website, service, worker endpoint, dispatch and cron scheduler in one process,
or a part of them (`--serve`, see orchestra/applications.py)."""

import argparse
import asyncio
import logging

from daphne.server import Server
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from orchestra import extensions, masters
from orchestra.applications import ALL, MASTER, SERVICE, describe, parse_served
from orchestra.asgi import application_serving
from projects.deliveries import hooks_without_secret
from workers import background
from workers.protocol import MAX_MESSAGE_BYTES
from workers.startup import StartRefused, start_master

logger = logging.getLogger("orchestra.master")


def served_applications(value: str) -> frozenset[str]:
    try:
        return parse_served(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error))


class Command(BaseCommand):
    help = (
        "Serve the website, the service (/api/) and the worker endpoint (/ws/master/), "
        "and run dispatch and the cron scheduler. Not to be confused with Channels' runworker."
    )

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument(
            "--serve", type=served_applications, default=ALL, metavar="LIST",
            help="comma-separated subset of website,service,master (default: all three); "
                 "a subset needs ORCHESTRA_REDIS_URL",
        )
        parser.add_argument(
            "--take-over-configuration", action="store_true",
            help="put this master's configuration in force even though live masters run "
                 "another one of the same or a higher version (docs/operations.md)",
        )

    def handle(self, *args, host: str, port: int, serve: frozenset[str], take_over_configuration: bool,
               **options):
        if serve != ALL and not settings.REDIS_URL:
            raise CommandError(
                f"--serve {describe(serve)} needs ORCHESTRA_REDIS_URL: a process that does not "
                "serve the master must wake the master's dispatch at once when it creates a "
                "run, and processes reach each other only through the Redis channel layer "
                "(without it, each has a channel layer of its own); set it, or serve all three"
            )
        extensions.validate_all()
        try:
            master = start_master(serve, take_over_configuration)
        except StartRefused as refusal:
            raise CommandError(str(refusal))
        if SERVICE in serve:
            # Not an error: a hook nobody has set up yet must not keep the master from starting.
            for hook in hooks_without_secret():
                self.stdout.write(
                    f"hook {hook} refuses every call: its secret, the environment variable "
                    f"{hook.secret_variable}, is not set", ending="\n",
                )

        def ready() -> None:
            background.start_heartbeat(asyncio.get_event_loop(), master)
            if MASTER in serve:
                background.start(asyncio.get_event_loop())
            self.stdout.write(
                f"Orchestra ({describe(serve)}) listening on http://{host}:{port}/", ending="\n"
            )
            self.stdout.flush()

        try:
            Server(
                application_serving(serve),
                endpoints=[f"tcp:port={port}:interface={host}"],
                ready_callable=ready,
                # Log chunks are bounded by it (BINARY_CHUNK_BYTES and JSON_CHUNK_BYTES in
                # workers/protocol.py and workers/client/requests.py), and neither end sends
                # more: an oversized message is refused.
                websocket_max_message_size=MAX_MESSAGE_BYTES,
            ).run()
        finally:
            # Stopped by SIGTERM or Ctrl-C: gone at once, not when its heartbeat ages.
            masters.record_stop(master)
